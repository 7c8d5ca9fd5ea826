/**
 * forEach stages. A ready forEach stage resolves its list (fails if it is not one, or too long),
 * then runs each item as a stage of its own, <stage>[<index>], in list order: the scheduler starts
 * item entries as any stage (breaker, cache, parallelism, budget grant), fold.ts folds their Jobs,
 * and retries are theirs. Here, each reconcile, finished items are folded into the forEach stage
 * (counts, index ranges, their outputs gathered into lists, their usage) and leave the status, new
 * items get entries up to maxParallel, and the stage finishes once every item has: a failed item
 * fails it (onItemFailure fail) or is collected as null (collect). The status so holds at most
 * MAX_ITEM_ENTRIES items, however long the list.
 */
import type { StageStatusV2 } from '../../api/v2/runbook.js';
import { DEFAULT_MAX_ITEMS, MAX_ITEM_ENTRIES, RECENT_ITEMS } from '../../api/v2/branching.js';
import { parseMicros } from '../../api/grammar.js';
import { setOwn } from '../../api/json.js';
import { timestamp } from '../model/conditions.js';
import { withIndex } from '../model/index-ranges.js';
import { jobName } from '../model/naming.js';
import {
  isFanOut,
  ITEM_OUTPUT_BYTES,
  itemName,
  listOutputs,
  parseItemName,
  resolveItems,
} from '../spec/for-each.js';
import { encodeOutputs, splitOutputs, storedOutputsName } from '../spec/stored-outputs.js';
import type { RunStage } from '../spec/workflow-stages.js';
import type { Problem } from '../stage/agent-report.js';
import { addResources, addUsage } from './fold.js';
import { planContext } from './plan-context.js';
import { isTerminalStage, type Run } from './run.js';
import { DEFAULT_PARALLELISM, dependenciesMet, type StartLimits } from './schedule.js';

/** The most a forEach stage's gathered outputs may hold while it runs: the status carries them. */
export const GATHERED_OUTPUT_BYTES = 128 * 1024;

const lists = new WeakMap<Run, Map<string, { items: unknown[] } | { problem: Problem }>>();

/** The stage's items, resolved once per reconcile (their source does not change once it started). */
function itemsOf(run: Run, spec: RunStage): { items: unknown[] } | { problem: Problem } {
  let known = lists.get(run);
  if (!known) {
    known = new Map<string, { items: unknown[] } | { problem: Problem }>();
    lists.set(run, known);
  }
  let resolved = known.get(spec.name);
  if (!resolved) {
    const maxItems = run.input.catalog.fanOut?.maxItems ?? DEFAULT_MAX_ITEMS;
    resolved = resolveItems(spec, planContext(run, {}, undefined).scope, maxItems);
    known.set(spec.name, resolved);
  }
  return resolved;
}

/**
 * The stage one item runs: its forEach stage's, for this item alone (it runs once, answers to no
 * other name and notifies no one).
 */
function itemSpec(parent: RunStage, index: number, value: unknown): RunStage {
  const own: RunStage = { ...parent };
  delete own.forEach;
  delete own.when;
  delete own.skippedOutputs;
  delete own.maxParallel;
  delete own.onItemFailure;
  delete own.alias;
  delete own.notify;
  return {
    ...own,
    name: itemName(parent.name, index),
    agent: parent.agent ?? parent.name,
    dependsOn: [],
    sequential: false,
    item: { of: parent.name, index, value },
  };
}

/** Gives the item entries a stored status holds their stages back; an entry whose item is gone fails. */
export function restoreItems(run: Run): void {
  for (const [name, stage] of run.stages) {
    const parsed = parseItemName(name);
    const parent = parsed && run.specStages.get(parsed.stage);
    if (!parsed || !isFanOut(parent) || run.specStages.has(name)) continue;
    const resolved = itemsOf(run, parent);
    if ('items' in resolved && parsed.index < resolved.items.length) {
      run.specStages.set(name, itemSpec(parent, parsed.index, resolved.items[parsed.index]));
    } else if (!isTerminalStage(stage)) {
      run.finishStage(
        stage,
        'Failed',
        'ForEachNotAList',
        `its forEach no longer has an item ${parsed.index}`,
      );
    }
  }
}

function itemEntries(run: Run, parent: string): [string, StageStatusV2, RunStage][] {
  const entries: [string, StageStatusV2, RunStage][] = [];
  for (const [name, stage] of run.stages) {
    const spec = run.specStages.get(name);
    if (spec?.item?.of === parent) entries.push([name, stage, spec]);
  }
  return entries;
}

function itemCount(run: Run): number {
  let count = 0;
  for (const spec of run.specStages.values()) if (spec.item && run.stages.has(spec.name)) count += 1;
  return count;
}

function fail(run: Run, stage: StageStatusV2, reason: Problem['reason'], message: string): void {
  stage.lastError ??= 'VALIDATION_ERROR';
  run.finishStage(stage, 'Failed', reason, message);
  run.event('Warning', 'StageFailed', `stage ${stage.name} failed (${reason}): ${message}`);
}

/** The gathered lists, each padded with null to `length` (where no item gave a value). */
function gatheredOutputs(stage: StageStatusV2, length: number): Record<string, unknown[]> {
  return Object.fromEntries(
    Object.entries(stage.outputs ?? {}).map(([name, values]) => {
      const list = Array.isArray(values) ? [...(values as unknown[])] : [];
      while (list.length < length) list.push(null);
      return [name, list];
    }),
  );
}

/** Bytes of each forEach stage's gathered outputs, measured once per reconcile and then kept up to date. */
const gatheredBytes = new WeakMap<StageStatusV2, number>();

/** Why a succeeded item's outputs cannot join its stage's lists, if they cannot; else their bytes. */
function outputsProblem(parent: StageStatusV2, item: StageStatusV2): { problem: string } | { bytes: number } {
  if (item.outputRefs && Object.keys(item.outputRefs).length) {
    return {
      problem: 'its outputs were kept in a ConfigMap; the outputs of a forEach item must fit the status',
    };
  }
  const bytes = Buffer.byteLength(JSON.stringify(item.outputs ?? {}));
  if (bytes > ITEM_OUTPUT_BYTES) {
    return {
      problem: `its outputs are ${bytes} bytes as JSON, over the ${ITEM_OUTPUT_BYTES} an item may report`,
    };
  }
  const before = gatheredBytes.get(parent) ?? Buffer.byteLength(JSON.stringify(parent.outputs ?? {}));
  gatheredBytes.set(parent, before);
  if (before + bytes > GATHERED_OUTPUT_BYTES) {
    return {
      problem: `the stage's gathered outputs would be ${before + bytes} bytes, over the ${GATHERED_OUTPUT_BYTES} a forEach stage may gather: have items write large results to a workspace and report where`,
    };
  }
  return { bytes };
}

/** Puts an item's outputs at its index of its stage's lists, in place (a list grows with null as needed). */
function gather(parent: StageStatusV2, index: number, outputs: Record<string, unknown>, bytes: number): void {
  const lists = parent.outputs ?? {};
  for (const [output, value] of Object.entries(outputs)) {
    const known = Object.hasOwn(lists, output) ? lists[output] : undefined;
    const list: unknown[] = Array.isArray(known) ? (known as unknown[]) : [];
    while (list.length <= index) list.push(null);
    list.splice(index, 1, value);
    setOwn(lists, output, list);
  }
  parent.outputs = lists;
  gatheredBytes.set(parent, (gatheredBytes.get(parent) ?? 0) + bytes);
}

/** Folds a finished item into its stage: counts, outputs, usage, the recent list; its entry leaves. */
function absorb(run: Run, parent: StageStatusV2, name: string, item: StageStatusV2, index: number): void {
  const items = parent.items ?? { count: 0, started: 0, succeeded: 0, failed: 0 };
  if (item.usage) addUsage(parent, item.usage.tokens ?? 0, parseMicros(item.usage.costUSD ?? '0'));
  addResources(parent, item.resources);
  items.attempts = (items.attempts ?? 0) + (item.attempt ?? 0);
  const failedAttempts = (item.attempt ?? 0) - (item.phase === 'Succeeded' && item.attempt ? 1 : 0);
  if (failedAttempts > 0) {
    const tally = new Map(Object.entries(items.failedAttempts ?? {}));
    const errorClass = item.lastError ?? 'UNKNOWN';
    tally.set(errorClass, (tally.get(errorClass) ?? 0) + failedAttempts);
    items.failedAttempts = Object.fromEntries(tally);
  }
  let { phase, reason, message } = item;
  const fits = phase === 'Succeeded' ? outputsProblem(parent, item) : undefined;
  if (fits && 'problem' in fits) [phase, reason, message] = ['Failed', 'OutputsTooLarge', fits.problem];
  if (phase === 'Succeeded') {
    gather(parent, index, item.outputs ?? {}, fits && 'bytes' in fits ? fits.bytes : 0);
    items.succeeded += 1;
    items.succeededIndexes = withIndex(items.succeededIndexes, index);
  } else {
    items.failed += 1;
    items.failedIndexes = withIndex(items.failedIndexes, index);
    if (item.lastError) parent.lastError = item.lastError;
  }
  const recent = {
    index,
    phase: phase === 'Succeeded' || phase === 'Skipped' ? phase : ('Failed' as const),
    attempts: item.attempt ?? 0,
    ...(item.job ? { job: item.job } : {}),
    ...(reason ? { reason } : {}),
    ...(message ? { message: message.slice(0, 512) } : {}),
  };
  items.recent = [...(items.recent ?? []), recent].slice(-RECENT_ITEMS);
  parent.items = items;
  run.stages.delete(name);
  run.specStages.delete(name);
}

/** Stops the stage's items still to finish: Jobs deleted, entries gone, what they spent kept. */
function stopItems(run: Run, parent: StageStatusV2): void {
  for (const [name, item] of itemEntries(run, parent.name)) {
    if (item.phase === 'Running' && item.job) run.stopJob(item.job);
    if (item.usage) addUsage(parent, item.usage.tokens ?? 0, parseMicros(item.usage.costUSD ?? '0'));
    run.stages.delete(name);
    run.specStages.delete(name);
  }
}

/** The stage's outputs once every item finished: each list as long as the items, kept as any outputs are. */
function finishOutputs(run: Run, stage: StageStatusV2, count: number): void {
  const lists = gatheredOutputs(stage, count);
  for (const output of Object.keys(run.specStages.get(stage.name)?.config?.outputs ?? {}))
    if (!Object.hasOwn(lists, output)) setOwn(lists, output, Array<unknown>(count).fill(null));
  const encoded = encodeOutputs(lists, Number.MAX_SAFE_INTEGER);
  if ('problem' in encoded) return;
  const { name, uid } = run.input.runbook.metadata;
  const store = {
    name: storedOutputsName(jobName(name, stage.name, run.execution, 0, uid)),
    stage: stage.name,
    execution: run.execution,
  };
  const split = splitOutputs(lists, encoded.encoded, store, listOutputs(run.specStages.values(), stage.name));
  stage.outputs = split.inline;
  if (split.refs) stage.outputRefs = split.refs;
  if (split.store) run.store.push(split.store);
}

function progress(stage: StageStatusV2, running: number): string {
  const items = stage.items;
  if (!items) return '';
  const finished = items.succeeded + items.failed;
  return `${finished} of ${items.count} items finished (${items.succeeded} succeeded, ${items.failed} failed), ${running} running`;
}

/** Resolves a ready forEach stage's list and starts it, or fails or finishes it at once. */
function begin(run: Run, name: string, stage: StageStatusV2, spec: RunStage, limits: StartLimits): boolean {
  if (run.spec.suspend || limits.startBlocked || limits.held.has(name)) return false;
  if (!dependenciesMet(run, name, stage)) return false;
  const resolved = itemsOf(run, spec);
  if ('problem' in resolved) {
    fail(run, stage, resolved.problem.reason, resolved.problem.message);
    return true;
  }
  const count = resolved.items.length;
  stage.startTime ??= timestamp(run.now);
  stage.items = { count, started: 0, succeeded: 0, failed: 0 };
  stage.outputs = {};
  if (count === 0) {
    finishOutputs(run, stage, 0);
    run.finishStage(stage, 'Succeeded', 'Succeeded', 'forEach gave no items');
    return true;
  }
  Object.assign(stage, { phase: 'Running', reason: 'ItemsRunning', message: progress(stage, 0) });
  return true;
}

/** Folds finished items, finishes the stage when it is done, and gives the next items entries. */
function advanceItems(run: Run, stage: StageStatusV2, spec: RunStage): boolean {
  const items = stage.items;
  if (!items) return false;
  let changed = false;
  for (const [name, item, itemSpec] of itemEntries(run, stage.name)) {
    if (!isTerminalStage(item) || itemSpec.item === undefined) continue;
    absorb(run, stage, name, item, itemSpec.item.index);
    changed = true;
  }
  const collect = spec.onItemFailure === 'collect';
  const last = items.recent?.at(-1);
  if (!collect && items.failed > 0) {
    stopItems(run, stage);
    const failed = items.recent?.findLast((recent) => recent.phase !== 'Succeeded');
    fail(
      run,
      stage,
      'ItemFailed',
      `item ${failed?.index ?? '?'} failed (${failed?.reason ?? 'Failed'}): ${failed?.message ?? ''}; its other items were stopped (onItemFailure fail)`,
    );
    return true;
  }
  const active = itemEntries(run, stage.name);
  if (items.started >= items.count && active.length === 0) {
    finishOutputs(run, stage, items.count);
    if (items.succeeded === 0) {
      fail(
        run,
        stage,
        'ItemFailed',
        `all ${items.count} items failed; the last (${last?.index ?? '?'}): ${last?.message ?? ''}`,
      );
      return true;
    }
    delete stage.lastError;
    const message = items.failed
      ? `${items.succeeded} of ${items.count} items succeeded; failed (collected as null): ${items.failedIndexes ?? ''}`
      : `all ${items.count} items succeeded`;
    run.finishStage(stage, 'Succeeded', 'Succeeded', message);
    return true;
  }
  if (!run.spec.suspend) {
    const parallelism = run.spec.execution?.parallelism ?? DEFAULT_PARALLELISM;
    const room = Math.min(
      (spec.maxParallel ?? parallelism) - active.length,
      parallelism - active.length,
      MAX_ITEM_ENTRIES - itemCount(run),
    );
    const resolved = itemsOf(run, spec);
    for (let added = 0; added < room && items.started < items.count && 'items' in resolved; added += 1) {
      const index = items.started;
      const name = itemName(stage.name, index);
      run.specStages.set(name, itemSpec(spec, index, resolved.items[index]));
      run.stages.set(name, { name, workflow: spec.workflow, phase: 'Pending' });
      items.started += 1;
      changed = true;
    }
  }
  const running = itemEntries(run, stage.name).filter(([, item]) => item.phase !== 'Pending').length;
  stage.message = progress(stage, running);
  return changed;
}

/** Moves the forEach stages of the active workflow; returns whether any changed. */
export function fanOut(run: Run, limits: StartLimits): boolean {
  let changed = false;
  for (const [name, stage] of [...run.stages]) {
    const spec = run.specStages.get(name);
    if (!isFanOut(spec) || spec.workflow !== run.activeWorkflow) continue;
    if (stage.phase === 'Pending' && !stage.attempt)
      changed = begin(run, name, stage, spec, limits) || changed;
    if (stage.phase === 'Running') changed = advanceItems(run, stage, spec) || changed;
  }
  return changed;
}
