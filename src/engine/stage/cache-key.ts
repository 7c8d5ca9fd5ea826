/**
 * A stage's cache key: sha256 over the canonical JSON (RFC 8785: keys sorted, numbers and strings
 * written one way) of everything that determines its result, so the same work has one key
 * whatever order its inputs were written in. docs/caching.md lists the fields.
 */
import canonicalize from 'canonicalize';
import { ENV } from '../../api/agent-contract.js';
import type { StageV2 } from '../../api/v2/runbook.js';
import type { ResolvedEntry } from '../spec/catalog.js';
import type { CacheSettings } from '../spec/cache-settings.js';
import { sha256 } from '../model/hash.js';
import type { JobPlan } from '../model/types.js';

/** Bumped when the material changes shape, so keys of an older operator never match. */
const KEY_FORMAT = 1;
const DIGEST_IN_REFERENCE = /@(sha256:[0-9a-f]{64})$/;
const REPORTED_DIGEST = /(sha256:[0-9a-f]{64})$/;

/** The digest an image reference pins, if it pins one. */
export const pinnedDigest = (image: string) => DIGEST_IN_REFERENCE.exec(image)?.[1];

/** The digest in a Pod's imageID (docker-pullable://repo@sha256:…, repo@sha256:…, sha256:…). */
export const reportedDigest = (imageID: string | undefined) =>
  imageID ? REPORTED_DIGEST.exec(imageID)?.[1] : undefined;

/**
 * What stands for the image in the key: the digest it pins, else the digest a Pod of it last
 * reported in this namespace, else the reference as written.
 */
export function imageIdentity(image: string, known: string | undefined): string {
  return pinnedDigest(image) ?? known ?? image;
}

function llmSettings(plan: JobPlan): unknown {
  const text = plan.env[ENV.llm];
  if (text === undefined) return null;
  // The price is what the result costs, not what it is.
  const { baseURL, model } = JSON.parse(text) as { baseURL?: unknown; model?: unknown };
  return { baseURL, model };
}

/** The key's material: the agent and its version, what runs, its settings, and what it is given. */
export function cacheMaterial(
  plan: JobPlan,
  stage: StageV2,
  entry: ResolvedEntry | undefined,
  settings: CacheSettings,
  image: string,
): unknown {
  return {
    format: KEY_FORMAT,
    agent: plan.agent,
    agentVersions: entry?.versions ?? null,
    version: stage.version ?? null,
    image,
    command: plan.command ?? null,
    args: plan.args ?? null,
    env: entry?.env ?? {},
    llm: llmSettings(plan),
    inputs: JSON.parse(plan.files.inputs) as unknown,
    parameters: JSON.parse(plan.files.parameters) as unknown,
    outputs: stage.config?.outputs ?? {},
    // Upstream outputs passed as files: what they hold, by where the agent reads them.
    files: Object.fromEntries(
      plan.mounts.map((file) => [file.path, file.digest ?? `${file.configMap}/${file.key}`]),
    ),
    key: settings.key ?? null,
    cacheVersion: settings.version ?? null,
  };
}

/** sha256:<hex> of the material's canonical JSON, or undefined when it has none (a lone surrogate). */
export function cacheKey(material: unknown): string | undefined {
  try {
    const text = canonicalize(material);
    return text === undefined ? undefined : sha256(text);
  } catch {
    return undefined;
  }
}
