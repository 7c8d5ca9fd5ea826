/**
 * Gate decisions at admission (the /mutate review). A user approves or rejects a gate with the
 * annotation gates.i2s.studio/<gate>: approved|rejected. This review lets the decision through
 * only for users RBAC allows the `approve` verb on the runbook (a SubjectAccessReview), and
 * records who decided, for which generation and when in decisions.gates.i2s.studio/<gate>; the
 * engine counts a decision only with that record, and only for that generation. A spec change
 * removes the decisions made for the old spec, so the new one needs its own.
 */
import { isDeepStrictEqual } from 'node:util';
import { isObject, type Json } from '../api/json.js';
import { APPROVE_VERB, APPROVER_ROLE, GROUP, PLURAL } from '../api/group.js';
import { timestamp } from '../engine/model/conditions.js';
import {
  DECISION_ANNOTATION_PREFIX,
  gateVerdict,
  GATE_ANNOTATION_PREFIX,
  type DecisionRecord,
} from '../engine/spec/gates.js';
import { deny, respond } from './admission-response.js';
import { requesterOf, type Authorize } from './requester.js';

type Annotations = Record<string, string>;

const annotationsOf = (object: unknown): Annotations => {
  const metadata = isObject(object) && isObject(object.metadata) ? object.metadata : undefined;
  const annotations = metadata && isObject(metadata.annotations) ? metadata.annotations : {};
  return Object.fromEntries(
    Object.entries(annotations).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
};

/** JSON Pointer escaping of an annotation key ("/" becomes "~1"). */
const pointer = (key: string) => `/metadata/annotations/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

function withPatch(uid: string, patch: Json[]): Json {
  if (patch.length === 0) return respond(uid, { allowed: true });
  return respond(uid, {
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
  });
}

export async function reviewApproval(body: unknown, authorize: Authorize, now: Date): Promise<Json> {
  const request = isObject(body) && isObject(body.request) ? body.request : {};
  const uid = typeof request.uid === 'string' ? request.uid : '';
  const object = isObject(request.object) ? request.object : {};
  const old = isObject(request.oldObject) ? request.oldObject : undefined;
  const annotations = annotationsOf(object);
  const before = annotationsOf(old);
  const keys = Object.keys({ ...annotations, ...before });
  const changed = keys.filter(
    (key) => key.startsWith(GATE_ANNOTATION_PREFIX) && annotations[key] !== before[key],
  );
  const decided = changed.flatMap((key) => {
    const verdict = gateVerdict(annotations[key]);
    return verdict ? [{ key, verdict }] : [];
  });
  const forged = keys.filter(
    (key) =>
      key.startsWith(DECISION_ANNOTATION_PREFIX) &&
      annotations[key] !== before[key] &&
      !changed.includes(`${GATE_ANNOTATION_PREFIX}${key.slice(DECISION_ANNOTATION_PREFIX.length)}`),
  );
  if (forged.length) {
    return deny(
      uid,
      422,
      `metadata.annotations.${forged[0] ?? ''}: written only by the webhook when a gate is decided`,
    );
  }
  const specChanged = old !== undefined && !isDeepStrictEqual(old.spec, object.spec);
  if (specChanged) {
    if (decided.length) {
      return deny(
        uid,
        422,
        `metadata.annotations.${decided[0]?.key ?? ''}: a gate decision is for one generation of the spec; decide in a request of its own, not with a spec change`,
      );
    }
    // The decisions were for the old spec: the new one needs its own.
    const stale = Object.keys(annotations).filter(
      (key) => key.startsWith(GATE_ANNOTATION_PREFIX) || key.startsWith(DECISION_ANNOTATION_PREFIX),
    );
    return withPatch(
      uid,
      stale.map((key) => ({ op: 'remove', path: pointer(key) })),
    );
  }
  if (decided.length === 0) return withPatch(uid, []);

  const metadata = isObject(object.metadata) ? object.metadata : {};
  const requester = requesterOf(request);
  const { user } = requester;
  const namespace = typeof request.namespace === 'string' ? request.namespace : '';
  const name =
    typeof metadata.name === 'string' ? metadata.name : typeof request.name === 'string' ? request.name : '';
  const access = {
    ...requester,
    attributes: { verb: APPROVE_VERB, group: GROUP, resource: PLURAL, namespace, name },
  };
  const verdict = await authorize(access);
  if (!verdict.allowed) {
    return deny(
      uid,
      403,
      `metadata.annotations.${decided[0]?.key ?? ''}: user ${user} may not decide gates of agentrunbook ${namespace}/${name}: that needs the verb ${APPROVE_VERB} on agentrunbooks.i2s.studio (bind the ClusterRole ${APPROVER_ROLE})${verdict.reason ? ` (${verdict.reason})` : ''}`,
    );
  }
  // The generation the user saw: on create the object's first.
  const generation =
    old && isObject(old.metadata) && typeof old.metadata.generation === 'number'
      ? old.metadata.generation
      : 1;
  const time = timestamp(now);
  return withPatch(
    uid,
    decided.map(({ key, verdict }) => {
      const record: DecisionRecord = { decision: verdict, generation, user, time };
      const recordKey = `${DECISION_ANNOTATION_PREFIX}${key.slice(GATE_ANNOTATION_PREFIX.length)}`;
      return { op: 'add', path: pointer(recordKey), value: JSON.stringify(record) };
    }),
  );
}
