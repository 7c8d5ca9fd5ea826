/**
 * The /mutate review of runbook writes: it records in the annotation i2s.studio/author the user
 * whose request last changed the spec (the fields that operate a run, suspend and cancel, do not
 * count), so a gate can forbid that user from approving (four eyes). Nobody else writes it: a
 * request that sets or removes it gets the recorded value back.
 *
 * Gates used to be decided with annotations gates.i2s.studio/<gate>; they are decided with
 * GateDecisions now, and a request that sets such an annotation is refused with the new way.
 */
import { isDeepStrictEqual } from 'node:util';
import { isObject, type Json } from '../api/json.js';
import { ANNOTATION_AUTHOR } from '../api/labels.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import { revisionSpec } from '../engine/versions/revisions.js';
import { deny, respond } from './admission-response.js';
import { requesterOf } from './requester.js';

/** The annotations gates were once decided with. */
const LEGACY_GATE_ANNOTATION_PREFIX = 'gates.i2s.studio/';

type Annotations = Record<string, string>;

const annotationsOf = (object: unknown): Annotations | undefined => {
  const metadata = isObject(object) && isObject(object.metadata) ? object.metadata : undefined;
  if (!metadata || !isObject(metadata.annotations)) return undefined;
  return Object.fromEntries(
    Object.entries(metadata.annotations).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
};

/** JSON Pointer of an annotation ("/" in its key becomes "~1"). */
const annotationPointer = (key: string) =>
  `/metadata/annotations/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;

export function withPatch(uid: string, patch: Json[]): Json {
  if (patch.length === 0) return respond(uid, { allowed: true });
  return respond(uid, {
    allowed: true,
    patchType: 'JSONPatch',
    patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
  });
}

const authoredSpec = (object: Json | undefined) =>
  object && isObject(object.spec) ? revisionSpec(object.spec as SpecV2) : undefined;

export function reviewRunbookWrite(body: unknown): Json {
  const request = isObject(body) && isObject(body.request) ? body.request : {};
  const uid = typeof request.uid === 'string' ? request.uid : '';
  const object = isObject(request.object) ? request.object : {};
  const old = isObject(request.oldObject) ? request.oldObject : undefined;
  const annotations = annotationsOf(object);
  const before = annotationsOf(old) ?? {};
  const legacy = Object.keys(annotations ?? {}).find(
    (key) => key.startsWith(LEGACY_GATE_ANNOTATION_PREFIX) && annotations?.[key] !== before[key],
  );
  if (legacy) {
    const gate = legacy.slice(LEGACY_GATE_ANNOTATION_PREFIX.length);
    return deny(
      uid,
      422,
      `metadata.annotations.${legacy}: gates are decided with a GateDecision now, not an annotation: agentrunbook approve|reject <runbook> ${gate} (or kubectl create a GateDecision with spec.runbook, spec.gate and spec.decision)`,
    );
  }
  const authored = !old || !isDeepStrictEqual(authoredSpec(old), authoredSpec(object));
  const author = authored ? requesterOf(request).user : before[ANNOTATION_AUTHOR];
  const current = annotations?.[ANNOTATION_AUTHOR];
  if (current === author) return withPatch(uid, []);
  const path = annotationPointer(ANNOTATION_AUTHOR);
  if (author === undefined) return withPatch(uid, [{ op: 'remove', path }]);
  return withPatch(
    uid,
    annotations
      ? [{ op: 'add', path, value: author }]
      : [{ op: 'add', path: '/metadata/annotations', value: { [ANNOTATION_AUTHOR]: author } }],
  );
}
