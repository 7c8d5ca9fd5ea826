/**
 * The /decide review of a GateDecision being made. The decision counts only if the API server let
 * it through here, so this is where its rules are kept:
 * - the runbook exists and the gate waits for a decision in the run of its current generation;
 * - the requester has the approve verb on that runbook (a SubjectAccessReview);
 * - the gate's approver rules hold (four eyes: not the spec's author; approver groups).
 * It then records who decided (user and groups, as the API server authenticated them), the
 * generation decided on, labels to find it by, and the runbook as owner (it goes with the runbook).
 */
import { isObject, type Json } from '../api/json.js';
import { APPROVE_VERB, APPROVER_ROLE, GROUP, KIND, PLURAL, STORAGE_VERSION } from '../api/group.js';
import { ANNOTATION_AUTHOR, LABEL_GATE, LABEL_RUNBOOK } from '../api/labels.js';
import type { StatusV2 } from '../api/v2/runbook.js';
import { eligibility, ineligibility } from '../engine/spec/gates.js';
import { deny } from './admission-response.js';
import { requesterOf, type Authorize } from './requester.js';
import { withPatch } from './runbook-author.js';

/** Reads one object from the API server with the operator's identity; undefined when it does not exist. */
export type Read = (path: string) => Promise<Json | undefined>;

export interface DecisionDeps {
  authorize: Authorize;
  read: Read;
}

type GateRow = NonNullable<StatusV2['gates']>[number];

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** Why the gate's row says it does not wait for a decision, or undefined when it does. */
function notWaiting(row: GateRow): string | undefined {
  switch (row.phase) {
    case 'Pending':
      return row.since ? undefined : 'it has not been reached yet: the stages before it are still running';
    case 'NotApplicable':
      return `it does not apply to this run (${row.message ?? 'its condition is false'})`;
    case 'TimedOut':
      return `it timed out at ${row.deadline ?? row.decidedAt ?? 'its deadline'}`;
    default:
      return `it was already ${row.phase.toLowerCase()} by ${row.decidedBy ?? 'someone'}`;
  }
}

export async function reviewDecision(body: unknown, deps: DecisionDeps): Promise<Json> {
  const request = isObject(body) && isObject(body.request) ? body.request : {};
  const uid = text(request.uid);
  const object = isObject(request.object) ? request.object : {};
  const spec = isObject(object.spec) ? object.spec : {};
  const namespace = text(request.namespace);
  const [runbook, gate] = [text(spec.runbook), text(spec.gate)];
  if (!runbook || !gate) return deny(uid, 400, 'spec.runbook and spec.gate are required');
  const where = `agentrunbook ${namespace}/${runbook}`;
  let target: Json | undefined;
  try {
    target = await deps.read(
      `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}/${encodeURIComponent(runbook)}`,
    );
  } catch (error) {
    return deny(uid, 500, `spec.runbook: ${where} could not be read: ${(error as Error).message}`);
  }
  if (!target) return deny(uid, 404, `spec.runbook: ${where} does not exist`);
  const metadata = isObject(target.metadata) ? target.metadata : {};
  const status = (isObject(target.status) ? target.status : {}) as StatusV2;
  const generation = typeof metadata.generation === 'number' ? metadata.generation : 0;
  if (typeof spec.generation === 'number' && spec.generation !== generation) {
    return deny(
      uid,
      409,
      `spec.generation: ${where} changed since you looked: you decided on generation ${spec.generation}, its spec is now generation ${generation}; look at it again`,
    );
  }
  if (status.observedGeneration !== generation) {
    return deny(
      uid,
      409,
      `spec.gate: the operator has not started the run of generation ${generation} of ${where} yet; try again in a moment`,
    );
  }
  const row = (status.gates ?? []).find((candidate) => candidate.name === gate);
  if (!row) {
    const names = (status.gates ?? []).map((candidate) => candidate.name);
    return deny(
      uid,
      422,
      `spec.gate: ${where} has no gate ${gate}${names.length ? ` (its gates: ${names.join(', ')})` : ' (it has no gates)'}`,
    );
  }
  const why = notWaiting(row);
  if (why) return deny(uid, 409, `spec.gate: gate ${gate} of ${where} waits for no decision: ${why}`);

  const requester = requesterOf(request);
  const verdict = await deps.authorize({
    ...requester,
    attributes: { verb: APPROVE_VERB, group: GROUP, resource: PLURAL, namespace, name: runbook },
  });
  if (!verdict.allowed) {
    return deny(
      uid,
      403,
      `user ${requester.user} may not decide gates of ${where}: that needs the verb ${APPROVE_VERB} on agentrunbooks.${GROUP} (bind the ClusterRole ${APPROVER_ROLE})${verdict.reason ? ` (${verdict.reason})` : ''}`,
    );
  }
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  const author =
    typeof annotations[ANNOTATION_AUTHOR] === 'string' ? annotations[ANNOTATION_AUTHOR] : undefined;
  const refused = ineligibility(eligibility(row.approvals), requester.user, requester.groups, author);
  if (refused) return deny(uid, 403, `gate ${gate} of ${where}: ${refused}`);

  const labels =
    isObject(object.metadata) && isObject(object.metadata.labels) ? object.metadata.labels : undefined;
  const owner = {
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: KIND,
    name: runbook,
    uid: text(metadata.uid),
  };
  return withPatch(uid, [
    { op: 'add', path: '/spec/user', value: requester.user },
    { op: 'add', path: '/spec/groups', value: requester.groups.slice(0, 64) },
    { op: 'add', path: '/spec/generation', value: generation },
    labels
      ? {
          op: 'add',
          path: '/metadata/labels',
          value: { ...labels, [LABEL_RUNBOOK]: runbook, [LABEL_GATE]: gate },
        }
      : { op: 'add', path: '/metadata/labels', value: { [LABEL_RUNBOOK]: runbook, [LABEL_GATE]: gate } },
    { op: 'add', path: '/metadata/ownerReferences', value: [owner] },
  ]);
}
