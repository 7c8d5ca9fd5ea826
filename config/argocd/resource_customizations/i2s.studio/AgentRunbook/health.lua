-- Health of an i2s.studio AgentRunbook for Argo CD, from the status its operator writes.
-- Healthy: Succeeded. Degraded: Failed, TimedOut, BudgetExceeded, Cancelled, or a spec.template
-- that cannot be resolved (TemplateResolved False). Suspended: WaitingForApproval (naming the gate
-- and the command that approves it), or spec.suspend on an unfinished run. Progressing: otherwise.
local hs = {}

local function condition(status, type)
  if status.conditions ~= nil then
    for _, candidate in ipairs(status.conditions) do
      if candidate.type == type then
        return candidate
      end
    end
  end
  return nil
end

local function readyMessage(status)
  local ready = condition(status, "Ready")
  if ready ~= nil and ready.message ~= nil and ready.message ~= "" then
    return ready.message
  end
  return nil
end

local function describe(status, phase)
  local message = readyMessage(status)
  if message ~= nil then
    return message
  end
  if status.progress ~= nil and status.progress ~= "" then
    return phase .. ": " .. status.progress .. " stages finished"
  end
  return phase
end

local status = obj.status
if status == nil or status.phase == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to start the run"
  return hs
end

local generation = obj.metadata.generation
if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to see generation " .. generation
  return hs
end

-- The operator keeps such a runbook Pending until its spec or the templates change.
local template = condition(status, "TemplateResolved")
if template ~= nil and template.status == "False" then
  hs.status = "Degraded"
  hs.message = "spec.template cannot be resolved (" .. (template.reason or "") .. "): " .. (template.message or "")
  return hs
end

local phase = status.phase
if phase == "Succeeded" then
  hs.status = "Healthy"
elseif phase == "Failed" or phase == "TimedOut" or phase == "BudgetExceeded" or phase == "Cancelled" then
  hs.status = "Degraded"
elseif phase == "WaitingForApproval" then
  hs.status = "Suspended"
  -- ApprovalPending names each waiting gate with the command that approves it.
  local pending = condition(status, "ApprovalPending")
  if pending ~= nil and pending.message ~= nil and pending.message ~= "" then
    hs.message = describe(status, phase) .. "; " .. pending.message
    return hs
  end
elseif obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: no new stage starts (" .. phase .. ")"
  return hs
else
  hs.status = "Progressing"
end
hs.message = describe(status, phase)
return hs
