-- Health of an i2s.studio AgentRunbook for Argo CD, from the status its operator writes.
-- Healthy: Succeeded. Degraded: Failed, TimedOut, BudgetExceeded, Cancelled.
-- Suspended: WaitingForApproval, or spec.suspend on an unfinished run. Progressing: otherwise.
local hs = {}

local function readyMessage(status)
  if status.conditions ~= nil then
    for _, condition in ipairs(status.conditions) do
      if condition.type == "Ready" and condition.message ~= nil and condition.message ~= "" then
        return condition.message
      end
    end
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

local phase = status.phase
if phase == "Succeeded" then
  hs.status = "Healthy"
elseif phase == "Failed" or phase == "TimedOut" or phase == "BudgetExceeded" or phase == "Cancelled" then
  hs.status = "Degraded"
elseif phase == "WaitingForApproval" then
  hs.status = "Suspended"
elseif obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  hs.message = "spec.suspend is true: no new stage starts (" .. phase .. ")"
  return hs
else
  hs.status = "Progressing"
end
hs.message = describe(status, phase)
return hs
