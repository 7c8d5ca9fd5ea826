/**
 * Outputs too large for the runbook's status. The status keeps small outputs inline; a larger one
 * goes to a ConfigMap per stage attempt (the controller writes it before the status that refers to
 * it), and the status keeps its place, size and first characters. A later stage gets it whole as a
 * file: the operator never reads it back, so its size costs the operator nothing after the report.
 */
import { createHash } from 'node:crypto';
import { FILE_REF, FILES } from '../../api/agent-contract.js';
import { setOwn } from '../../api/json.js';
import type { StageStatusV2 } from '../../api/v2/runbook.js';
import type { Problem } from '../stage/agent-report.js';
import { sha256 } from '../model/hash.js';
import { graphemes } from '../../api/text.js';
import type { OutputStore, StoredFile } from '../model/types.js';

/** The largest output the status keeps inline, as JSON. */
export const INLINE_OUTPUT_BYTES = 1024;
/** The most a list that a later stage's forEach reads may hold in the status, as JSON. */
export const FOR_EACH_LIST_BYTES = 64 * 1024;
/** The most all of a stage's inline outputs may hold together: the status is rewritten on every change. */
export const INLINE_TOTAL_BYTES = 8 * 1024;
const PREVIEW_CHARACTERS = 200;
/** Stored outputs that get a preview (the largest last): a thousand small ones must not fill the status. */
const MAX_PREVIEWS = 16;

export type OutputRef = NonNullable<StageStatusV2['outputRefs']>[string];

/** An output in a ConfigMap, as the substitution scope holds it: it can be passed on whole, nothing more. */
export class StoredOutput {
  constructor(
    readonly stage: string,
    readonly output: string,
    readonly ref: OutputRef,
  ) {}

  get file(): StoredFile {
    return {
      configMap: this.ref.configMap,
      key: this.ref.key,
      path: `${FILES.outputs}/${this.stage}/${this.ref.key}`,
      ...(this.ref.digest ? { digest: this.ref.digest } : {}),
    };
  }

  /** Why `${reference}` cannot use it as it asks to. */
  refusal(name: string): string {
    return `${name}.outputs.${this.output} is ${this.ref.bytes} bytes, kept in ConfigMap ${this.ref.configMap} outside the status: only a whole reference (\${${name}.outputs.${this.output}}) passes it on, as a file`;
  }
}

export const fileReference = (file: StoredFile) => ({ [FILE_REF]: file.path });

export const storedOutputsName = (job: string) => `${job}-outputs`;

const CONFIG_MAP_KEY = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,252}$/;

/** The output's key in its ConfigMap (and file name): its name, unless a ConfigMap key cannot be that. */
function storedKey(name: string): string {
  return CONFIG_MAP_KEY.test(name)
    ? name
    : `output-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

/** The outputs' JSON encodings, or why the stage may not keep them. */
export function encodeOutputs(
  outputs: Record<string, unknown>,
  maxBytes: number,
): { encoded: Map<string, string> } | { problem: Problem } {
  const encoded = new Map<string, string>();
  let total = 0;
  for (const [name, value] of Object.entries(outputs)) {
    const json = JSON.stringify(value);
    encoded.set(name, json);
    total += Buffer.byteLength(json);
  }
  if (total > maxBytes) {
    return {
      problem: {
        reason: 'OutputsTooLarge',
        message: `the stage's outputs are ${total} bytes as JSON, over the limit of ${maxBytes} bytes`,
      },
    };
  }
  return { encoded };
}

function preview(value: unknown, json: string): string {
  const text = typeof value === 'string' ? value : json;
  // Only the start is segmented: a megabyte of text costs no more than its first characters.
  return graphemes(text.slice(0, PREVIEW_CHARACTERS * 4))
    .slice(0, PREVIEW_CHARACTERS)
    .join('');
}

/**
 * Splits a stage's outputs into those the status keeps and those a ConfigMap keeps: the small
 * ones stay, smallest first, while they fit INLINE_TOTAL_BYTES together, and so do the `lists` a
 * forEach reads, up to FOR_EACH_LIST_BYTES each.
 */
export function splitOutputs(
  outputs: Record<string, unknown>,
  encoded: ReadonlyMap<string, string>,
  store: Omit<OutputStore, 'data'>,
  lists: ReadonlySet<string> = new Set(),
): { inline: Record<string, unknown>; refs?: Record<string, OutputRef>; store?: OutputStore } {
  const bySize = [...encoded].map(([name, json]) => ({ name, json, bytes: Buffer.byteLength(json) }));
  bySize.sort((a, b) => a.bytes - b.bytes);
  const inline: Record<string, unknown> = {};
  const refs: Record<string, OutputRef> = {};
  const data: Record<string, string> = {};
  let inlineBytes = 0;
  for (const { name, json, bytes } of bySize) {
    const value = outputs[name];
    // A list a later forEach runs over stays in the status, whose items the engine must read.
    if (lists.has(name) && bytes <= FOR_EACH_LIST_BYTES) {
      setOwn(inline, name, value);
      continue;
    }
    if (bytes <= INLINE_OUTPUT_BYTES && inlineBytes + bytes <= INLINE_TOTAL_BYTES) {
      inlineBytes += bytes;
      setOwn(inline, name, value);
      continue;
    }
    const key = storedKey(name);
    const previewed = Object.keys(data).length < MAX_PREVIEWS;
    setOwn(data, key, json);
    setOwn(refs, name, {
      configMap: store.name,
      key,
      bytes,
      preview: previewed ? preview(value, json) : '',
      digest: sha256(json),
    });
  }
  return Object.keys(data).length ? { inline, refs, store: { ...store, data } } : { inline };
}
