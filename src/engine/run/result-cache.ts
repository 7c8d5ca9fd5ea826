/**
 * Stage result caching within a run. Before a cached stage starts, its key (stage/cache-key.ts)
 * is looked up in its namespace's stored results: a fresh one finishes the stage at once, with
 * the stored outputs, and nothing runs or is spent. A cached stage that ran and succeeded has its
 * result stored under its key, with the image digest its Pod reported.
 */
import { cloneJson } from '../../api/json.js';
import { addMicros, formatMicros, parseMicros } from '../../api/grammar.js';
import type { StageStatusV2 } from '../../api/v2/runbook.js';
import { timestamp } from '../model/conditions.js';
import { cachedResultName, jobName } from '../model/naming.js';
import type { JobObservation, OutputStore, StoredResult } from '../model/types.js';
import { resolveAgent } from '../spec/catalog.js';
import { cacheSettings, type CacheSettings } from '../spec/cache-settings.js';
import { INLINE_TOTAL_BYTES, storedOutputsName, type OutputRef } from '../spec/stored-outputs.js';
import type { RunStage } from '../spec/workflow-stages.js';
import { cacheKey, cacheMaterial, imageIdentity } from '../stage/cache-key.js';
import { planStageJob } from '../stage/job-plan.js';
import { planContext } from './plan-context.js';
import type { Run } from './run.js';

/** The most outputs a stored result may keep outside the status (its schema's bound). */
const MAX_OUTPUT_REFS = 1024;

/** A cached stage's key as it would run now, with its cache settings. */
export interface KeyedStage {
  key: string;
  settings: CacheSettings;
  /** The image the stage runs, as it names it. */
  image: string;
}

/**
 * The stage's cache key, or undefined when it is not cached: caching is off for it, its agent
 * forbids it, or it cannot be planned (starting it says why) or keyed. `reportedDigest` is the
 * digest the Pod that ran it reported; before it runs, the one its image last reported stands in.
 */
export function keyOf(
  run: Run,
  spec: RunStage,
  attempt: number,
  reportedDigest?: string,
): KeyedStage | undefined {
  const { catalog, resultCache } = run.input;
  if (!resultCache) return undefined;
  const entry = resolveAgent(catalog, spec.agent ?? spec.name, spec.version);
  const settings = cacheSettings(run.spec, spec, entry?.cache !== false);
  if (!settings) return undefined;
  const planned = planStageJob(planContext(run, {}, undefined), spec, attempt);
  if ('problem' in planned) return undefined;
  const { plan } = planned;
  const image = imageIdentity(plan.image, reportedDigest ?? resultCache.imageDigest(plan.image));
  const key = cacheKey(cacheMaterial(plan, spec, entry, settings, image));
  return key ? { key, settings, image: plan.image } : undefined;
}

function isFresh(found: StoredResult, settings: CacheSettings, now: number): boolean {
  const stored = Date.parse(found.spec.origin.time);
  return Date.parse(found.spec.expiresAt) > now && now - stored <= settings.maxAgeMs;
}

/**
 * Whether a stored result holds no more than a stage's status may: the operator never stores more,
 * but one written by someone else (whoever RBAC lets create CachedResults) is not taken on trust.
 */
function fitsStatus(found: StoredResult): boolean {
  const refs = Object.keys(found.spec.outputRefs ?? {}).length;
  return (
    refs <= MAX_OUTPUT_REFS &&
    Buffer.byteLength(JSON.stringify(found.spec.outputs ?? {})) <= INLINE_TOTAL_BYTES
  );
}

function savedText(found: StoredResult): string {
  const { tokens = 0, costUSD = '0' } = found.spec.usage;
  return `${tokens} tokens and $${formatMicros(parseMicros(costUSD))}`;
}

/**
 * Finishes a ready stage with a fresh stored result for its key, if there is one: its outputs
 * (the larger ones copied into a ConfigMap of this run, so they outlive the stored result), no
 * usage, and where the result came from. Returns whether it did.
 */
export function reuseResult(run: Run, stage: StageStatusV2, keyed: KeyedStage): boolean {
  const found = run.input.resultCache?.lookup(keyed.key);
  if (!found || !isFresh(found, keyed.settings, run.now.getTime()) || !fitsStatus(found)) return false;
  const { spec } = found;
  const { name, uid } = run.input.runbook.metadata;
  const copy = storedOutputsName(jobName(name, stage.name, run.execution, 0, uid));
  const refs = Object.entries(spec.outputRefs ?? {});
  // The informer's object is shared: the status gets its own copy.
  stage.outputs = cloneJson(spec.outputs ?? {});
  if (refs.length) {
    stage.outputRefs = Object.fromEntries(
      refs.map(([output, ref]): [string, OutputRef] => [output, { ...ref, configMap: copy }]),
    );
    const store: OutputStore = {
      name: copy,
      stage: stage.name,
      execution: run.execution,
      data: {},
      copyFrom: found.name,
    };
    run.store.push(store);
  } else delete stage.outputRefs;
  delete stage.usage;
  delete stage.grant;
  delete stage.lastError;
  stage.startTime ??= timestamp(run.now);
  stage.cache = {
    key: keyed.key,
    result: 'Hit',
    entry: found.name,
    origin: { ...spec.origin },
    saved: { ...spec.usage },
  };
  const { origin } = spec;
  const source = `stage ${origin.stage} of runbook ${origin.runbook} (run ${origin.execution}, ${origin.time})`;
  run.finishStage(
    stage,
    'Succeeded',
    'Cached',
    `reused the result of ${source}: nothing ran, saving ${savedText(found)}`,
  );
  run.event(
    'Normal',
    'CacheHit',
    `stage ${stage.name} reused CachedResult ${found.name} from ${source}, saving ${savedText(found)}`,
  );
  return true;
}

/** Records that a cached stage found nothing to reuse and runs. */
export function noteMiss(stage: StageStatusV2, keyed: KeyedStage | undefined): void {
  if (keyed) stage.cache = { key: keyed.key, result: 'Miss' };
  else delete stage.cache;
}

/** Stores the result of a cached stage that ran and has just succeeded. */
export function storeResult(
  run: Run,
  stage: StageStatusV2,
  spec: RunStage,
  job: JobObservation,
  usage: { tokens: number; costMicros: number },
  data: Record<string, string> | undefined,
): void {
  if (stage.cache?.result !== 'Miss') return;
  const keyed = keyOf(run, spec, job.attempt, job.imageDigest);
  if (!keyed) return;
  const refs: [string, Required<OutputRef>][] = [];
  for (const [output, ref] of Object.entries(stage.outputRefs ?? {})) {
    // Outputs stored before they had digests cannot be told apart by content: never reused.
    if (!ref.digest) return;
    refs.push([output, { ...ref, digest: ref.digest }]);
  }
  const inlineBytes = Buffer.byteLength(JSON.stringify(stage.outputs ?? {}));
  // To the millisecond: a namespace's bound removes its oldest results first, and stages finish
  // many to a second.
  const time = run.now.toISOString();
  // An item's result is its forEach stage's: names and labels take no <stage>[<index>].
  const stageName = spec.item?.of ?? stage.name;
  run.cacheStores.push({
    name: cachedResultName(stageName, keyed.key, job.name),
    stage: stageName,
    spec: {
      key: keyed.key,
      agent: spec.agent ?? spec.name,
      image: keyed.image,
      ...(job.imageDigest ? { imageDigest: job.imageDigest } : {}),
      origin: {
        runbook: run.input.runbook.metadata.name,
        execution: run.execution,
        stage: stageName,
        job: job.name,
        time,
      },
      maxAge: keyed.settings.maxAge,
      expiresAt: new Date(run.now.getTime() + keyed.settings.maxAgeMs).toISOString(),
      usage: { tokens: usage.tokens, costUSD: formatMicros(addMicros(0, usage.costMicros)) },
      ...(stage.outputs && Object.keys(stage.outputs).length ? { outputs: stage.outputs } : {}),
      ...(refs.length
        ? {
            outputRefs: Object.fromEntries(
              refs.map(([output, { key, bytes, preview, digest }]) => [
                output,
                { key, bytes, preview, digest },
              ]),
            ),
          }
        : {}),
      ...(data ? { data } : {}),
      bytes: inlineBytes + refs.reduce((sum, [, ref]) => sum + ref.bytes, 0),
    },
  });
  stage.cache = { key: keyed.key, result: 'Miss' };
}
