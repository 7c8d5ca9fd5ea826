/**
 * A runbook's spec history as ControllerRevisions, decided without I/O: what a revision holds,
 * its name, and what to create, renumber and prune (StatefulSet's history is the model: going
 * back to an earlier spec reuses its revision under the next number).
 */
import type { SpecV2 } from '../../api/v2/runbook.js';
import { DEFAULT_REVISION_HISTORY_LIMIT } from '../../api/v2/spec.js';
import { shortHash } from '../model/hash.js';
import { bumpOf, OPERATIONAL_FIELDS, specChanges, type Bump } from './spec-changes.js';

/** What a revision keeps of a spec: all but the fields that operate the run (suspend, cancel, the limit). */
export function revisionSpec(spec: SpecV2): SpecV2 {
  const kept = { ...spec };
  for (const field of OPERATIONAL_FIELDS) Reflect.deleteProperty(kept, field);
  return kept;
}

/** JSON with object keys sorted, so equal specs hash alike whatever order their keys came in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const revisionHash = (spec: SpecV2): string => shortHash([canonical(revisionSpec(spec))]);

/** The longest object name (a DNS subdomain). */
const MAX_OBJECT_NAME = 253;

export function revisionName(runbook: string, hash: string): string {
  return `${runbook.slice(0, MAX_OBJECT_NAME - hash.length - 1).replace(/[.-]+$/, '')}-${hash}`;
}

/** A stored revision, as the planner needs it. */
export interface StoredRevision {
  name: string;
  number: number;
  hash: string;
  spec: SpecV2;
}

export interface RevisionPlan {
  /** The revision that holds the spec now. */
  current: { name: string; number: number; hash: string };
  /** A new revision to create, or an old one to renumber (and relabel) as the current one. */
  write?: { mode: 'create' | 'renumber'; bump: Bump; changes: string[]; version: string };
  /** Revisions beyond the limit, oldest first. */
  prune: string[];
}

/** Most change messages a revision's annotation keeps. */
const MAX_CHANGES = 20;

export function planRevision(runbook: string, spec: SpecV2, stored: readonly StoredRevision[]): RevisionPlan {
  const hash = revisionHash(spec);
  const sorted = [...stored].sort((a, b) => a.number - b.number);
  const latest = sorted.at(-1);
  const same = sorted.find((revision) => revision.hash === hash);
  let current: RevisionPlan['current'];
  let write: RevisionPlan['write'];
  if (same && same === latest) {
    current = { name: same.name, number: same.number, hash };
  } else {
    const changes = latest ? specChanges(latest.spec, revisionSpec(spec)) : [];
    current = { name: same?.name ?? revisionName(runbook, hash), number: (latest?.number ?? 0) + 1, hash };
    write = {
      mode: same ? 'renumber' : 'create',
      bump: latest ? bumpOf(changes) : 'none',
      changes: changes.slice(0, MAX_CHANGES).map((change) => `${change.class}: ${change.message}`),
      version: spec.version,
    };
  }
  const limit = spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
  const others = sorted.filter((revision) => revision.name !== current.name);
  const prune = others.slice(0, Math.max(0, others.length - (limit - 1))).map((revision) => revision.name);
  return { current, ...(write ? { write } : {}), prune };
}
