/**
 * The reference agent: a stand-in for a real AI agent that follows the contract exactly. It makes
 * each declared output from its inputs (so the demo shows outputs flowing between stages),
 * reports token usage and a cost derived from its inputs, and can be told to fail.
 *
 * Parameters it understands: fail (an error class to fail with), delayMs (time to "think"),
 * outputBytes (makes each string output exactly that many bytes as JSON, to try large outputs),
 * listLength (makes each array output a list of that many items, for a forEach to fan out over).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { formatMicros } from '../api/grammar.js';
import { AssignmentError, readAssignment, writeReport, type Assignment, type OutputType } from './sdk.js';

/** Dollars per token, in micro-dollars: $10 per million tokens. */
const MICROS_PER_TOKEN = 10;

function summarize(inputs: Record<string, unknown>): string {
  const text = Object.values(inputs)
    .map((value) => (typeof value === 'string' ? value : JSON.stringify(value)))
    .join(' ');
  const words = text.split(/\s+/).filter(Boolean);
  return words.slice(0, 12).join(' ') + (words.length > 12 ? ' ...' : '');
}

function output(type: OutputType, name: string, work: Assignment): unknown {
  const summary = summarize(work.inputs);
  switch (type) {
    case 'object':
      return { summary: `${work.stage}: ${summary}`, basedOn: Object.keys(work.inputs) };
    case 'array': {
      const length = Number(work.parameters.listLength);
      return Number.isInteger(length) && length >= 0
        ? Array.from({ length: Math.min(length, 10_000) }, (_, index) => `${name} ${index + 1}`)
        : Object.keys(work.inputs).map((key) => `${name} from ${key}`);
    }
    case 'string':
      return `${name} by ${work.stage}: ${summary}`;
    case 'number':
      return Math.round((summary.length / 7) * 100) / 100;
    case 'integer':
      return summary.length;
    case 'boolean':
      return summary.length > 0;
  }
}

/** The text, cut or repeated to exactly `bytes` bytes as JSON (its ASCII characters and two quotes). */
function padded(text: string, bytes: number): string {
  const ascii = text.replace(/[^\x20-\x7e]|["\\]/g, '?');
  return ascii.repeat(Math.ceil(bytes / Math.max(1, ascii.length))).slice(0, Math.max(0, bytes - 2));
}

/**
 * `log` gets what the agent does, one line each: its container's log (`kubectl logs`);
 * `reportLine` gets a report too large for the termination message (stdout by default).
 */
export async function runReferenceAgent(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = () => undefined,
  reportLine?: (line: string) => void,
): Promise<number> {
  let work: Assignment;
  try {
    work = readAssignment(env);
  } catch (error) {
    if (!(error instanceof AssignmentError)) throw error;
    writeReport({ error: { class: 'VALIDATION_ERROR', message: error.message } }, env);
    log(error.message);
    return 1;
  }
  const sizes = Object.entries(work.inputs).map(
    ([name, value]) => `${name} (${Buffer.byteLength(JSON.stringify(value))} bytes)`,
  );
  log(`stage ${work.stage}: inputs ${sizes.join(', ') || '(none)'}`);
  const delayMs = Number(work.parameters.delayMs ?? env.REFERENCE_AGENT_DELAY_MS ?? 0);
  if (delayMs > 0) await sleep(delayMs);
  const tokens = 800 + 3 * JSON.stringify(work.inputs).length;
  const usage = { tokens, costUSD: formatMicros(tokens * MICROS_PER_TOKEN) };
  if (typeof work.parameters.fail === 'string') {
    writeReport(
      { usage, error: { class: work.parameters.fail, message: 'failing as the parameters asked' } },
      env,
    );
    log(`stage ${work.stage}: failing with ${work.parameters.fail} as the parameters asked`);
    return 1;
  }
  const size = Number(work.parameters.outputBytes ?? 0);
  const outputs = Object.fromEntries(
    Object.entries(work.outputs).map(([name, type]) => {
      const value = output(type, name, work);
      return [name, typeof value === 'string' && size > 0 ? padded(value, size) : value];
    }),
  );
  writeReport({ outputs, usage }, env, reportLine);
  log(`stage ${work.stage}: outputs ${Object.keys(outputs).join(', ') || '(none)'}; ${tokens} tokens`);
  return 0;
}
