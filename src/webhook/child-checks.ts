/**
 * What admission reads of the runbooks a runbook runs as stages (spec.agents.pipeline[].runbook):
 * it follows them (named runbooks of the namespace, and templates, whose own stages may run
 * runbooks too) and refuses a cycle back to the runbook being written, or nesting deeper than
 * MAX_RUNBOOK_DEPTH. A named runbook's spec runs on the writer's behalf, so what it decides (image,
 * command, ServiceAccount, ...) is checked against the writer as if they had written it; templates
 * were checked when their own authors wrote them. A runbook or template that cannot be read is left
 * to the run, whose stage then fails with a reason.
 */
import { GROUP, PLURAL, STORAGE_VERSION, TEMPLATE_KINDS } from '../api/group.js';
import { isObject } from '../api/json.js';
import { MAX_RUNBOOK_DEPTH } from '../api/v2/branching.js';
import type { SpecV2 } from '../api/v2/runbook.js';
import type { Read } from './gate-decisions.js';
import { runbookAuthority, type AuthorityField } from './run-authority.js';
import type { FieldProblem } from './validate-runbook.js';

/** The most objects one admission reads following children: each is one request. */
const MAX_READS = 32;

type RunbookRef = NonNullable<NonNullable<SpecV2['agents']['pipeline']>[number]['runbook']>;

const base = `/apis/${GROUP}/${STORAGE_VERSION}`;

/** A child source as one node of the walk, with the path that reads it. */
function nodeOf(ref: RunbookRef, namespace: string): { id: string; paths: string[] } {
  if (ref.name !== undefined) {
    return { id: `runbook ${ref.name}`, paths: [`${base}/namespaces/${namespace}/${PLURAL}/${ref.name}`] };
  }
  const name = ref.template?.name ?? '';
  const kind = ref.template?.kind;
  const namespaced = `${base}/namespaces/${namespace}/${TEMPLATE_KINDS.namespaced.plural}/${name}`;
  const cluster = `${base}/${TEMPLATE_KINDS.cluster.plural}/${name}`;
  const paths =
    kind === TEMPLATE_KINDS.namespaced.kind
      ? [namespaced]
      : kind === TEMPLATE_KINDS.cluster.kind
        ? [cluster]
        : [namespaced, cluster];
  return { id: `template ${name}`, paths };
}

/** The spec a read object runs: a runbook's spec, or the runbook spec a template makes. */
function specOf(object: unknown): SpecV2 | undefined {
  if (!isObject(object) || !isObject(object.spec)) return undefined;
  const spec = object.spec;
  if (isObject(spec.runbook) && isObject(spec.runbook.spec)) return spec.runbook.spec as unknown as SpecV2;
  return isObject(spec.agents) ? (spec as unknown as SpecV2) : undefined;
}

const childRefs = (spec: SpecV2 | undefined) =>
  (spec?.agents.pipeline ?? []).flatMap((stage, index) =>
    stage.runbook ? [{ ref: stage.runbook, index }] : [],
  );

export interface ChildReview {
  problems: FieldProblem[];
  /** What the named runbooks decide, to be checked against the writer. */
  authority: AuthorityField[];
}

export async function childRunbookReview(
  spec: SpecV2,
  name: string,
  namespace: string,
  read: Read,
): Promise<ChildReview> {
  const problems: FieldProblem[] = [];
  const authority: AuthorityField[] = [];
  let reads = 0;
  const readFirst = async (paths: string[]) => {
    for (const path of paths) {
      if (reads >= MAX_READS) return undefined;
      reads += 1;
      const object = await read(path).catch(() => undefined);
      if (object) return object;
    }
    return undefined;
  };
  const walk = async (at: string, ref: RunbookRef, chain: string[]): Promise<void> => {
    const node = nodeOf(ref, namespace);
    const path = [...chain, node.id];
    if (ref.name !== undefined && ref.name === name) {
      problems.push({
        field: at,
        message: `runs runbooks in a cycle: ${[`runbook ${name}`, ...path].join(' -> ')}`,
      });
      return;
    }
    if (chain.includes(node.id)) return; // a cycle that does not pass through this runbook is its own
    if (path.length > MAX_RUNBOOK_DEPTH) {
      problems.push({
        field: at,
        message: `nests runbooks ${path.length} deep (${path.join(' -> ')}), over the limit of ${MAX_RUNBOOK_DEPTH}`,
      });
      return;
    }
    const child = specOf(await readFirst(node.paths));
    if (ref.name !== undefined && child) {
      authority.push(
        ...runbookAuthority(child).map((field) => ({
          ...field,
          field: `${at} (runbook ${ref.name}'s ${field.field})`,
        })),
      );
    }
    for (const next of childRefs(child)) await walk(at, next.ref, path);
  };
  for (const { ref, index } of childRefs(spec)) await walk(`spec.agents.pipeline[${index}].runbook`, ref, []);
  return { problems, authority };
}
