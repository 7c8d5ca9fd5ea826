/**
 * The reference LLM agent: one call to an OpenAI-compatible chat-completions endpoint per stage,
 * mapped onto the agent contract. The catalog names the endpoint and model (AGENT_LLM, with the
 * model's price) and the API key (secretEnv LLM_API_KEY); the stage's parameters may give a
 * prompt, a systemPrompt, a model, maxTokens and a temperature. It asks for at most what the
 * budget grant leaves after the prompt, gives up just before the stage's deadline, reports the
 * tokens the endpoint counted and their cost at the catalog's price, and maps failures to error
 * classes: 429 to RATE_LIMIT (QUOTA_EXCEEDED when the endpoint says the quota is spent), 5xx and
 * network errors to API_ERROR, the deadline to TIMEOUT.
 */
import { ENV, type LlmSettings } from '../api/agent-contract.js';
import { formatMicros, parseMicros } from '../api/grammar.js';
import { AssignmentError, readAssignment, writeReport, type Assignment } from './sdk.js';

export const API_KEY_ENV = 'LLM_API_KEY';
/** Most of a response body read: far above any answer a stage may report (1 MiB). */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/** Characters per token, to estimate a prompt before the endpoint counts it. */
const CHARS_PER_TOKEN = 4;
const PROMPT_PARAMETERS = ['prompt', 'systemPrompt', 'model', 'maxTokens', 'temperature'];

type FailureClass = 'TIMEOUT' | 'RATE_LIMIT' | 'API_ERROR' | 'QUOTA_EXCEEDED' | 'VALIDATION_ERROR';

class Failure extends Error {
  constructor(
    readonly errorClass: FailureClass,
    message: string,
    readonly usage?: { tokens: number; costUSD: string },
  ) {
    super(message);
  }
}

interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

interface ChatResponse {
  choices?: { message?: { content?: string | null }; finish_reason?: string }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
  error?: { code?: string; type?: string; message?: string };
}

function llmSettings(env: NodeJS.ProcessEnv): LlmSettings {
  const text = env[ENV.llm];
  if (!text) throw new AssignmentError(`${ENV.llm} is not set: give the agent's catalog entry an llm block`);
  try {
    return JSON.parse(text) as LlmSettings;
  } catch (error) {
    throw new AssignmentError(`${ENV.llm} is not JSON: ${(error as Error).message}`);
  }
}

/** The system and user messages: who the agent is and what it must answer, then the task and its inputs. */
export function buildMessages(work: Assignment): ChatMessage[] {
  const declared = Object.entries(work.outputs);
  const identity =
    typeof work.parameters.systemPrompt === 'string'
      ? work.parameters.systemPrompt
      : `You are ${work.agent}, the agent of stage ${work.stage} of the runbook ${work.runbook}.`;
  const format = declared.length
    ? ` Answer with one JSON object and nothing else, with exactly these keys: ${declared.map(([name, type]) => `${name} (${type})`).join(', ')}.`
    : '';
  const task =
    typeof work.parameters.prompt === 'string'
      ? work.parameters.prompt
      : 'Do the work of this stage with the inputs below.';
  const settings = Object.fromEntries(
    Object.entries(work.parameters).filter(([name]) => !PROMPT_PARAMETERS.includes(name)),
  );
  const sections = [
    task,
    `Inputs (JSON):\n${JSON.stringify(work.inputs, null, 2)}`,
    ...(Object.keys(settings).length ? [`Parameters (JSON):\n${JSON.stringify(settings, null, 2)}`] : []),
  ];
  return [
    { role: 'system', content: identity + format },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

const microsPerMillion = (dollars: string) => parseMicros(dollars);

/** Dollars for these tokens at the model's price, rounded up to the micro-dollar. */
export function costOf(price: LlmSettings['price'], prompt: number, completion: number): string {
  const micros =
    (prompt * microsPerMillion(price.inputPerMillionTokens) +
      completion * microsPerMillion(price.outputPerMillionTokens)) /
    1_000_000;
  return formatMicros(Math.ceil(micros));
}

/**
 * The most completion tokens to ask for: what the grant's tokens and dollars leave after the
 * prompt (estimated), and the stage's maxTokens; undefined when nothing bounds it.
 */
export function maxTokensFor(
  work: Assignment,
  price: LlmSettings['price'],
  promptTokens: number,
): number | undefined {
  const bounds: number[] = [];
  if (work.budget.tokens !== undefined) bounds.push(work.budget.tokens - promptTokens);
  if (work.budget.costUSD !== undefined) {
    const left =
      parseMicros(work.budget.costUSD) * 1_000_000 -
      promptTokens * microsPerMillion(price.inputPerMillionTokens);
    const perToken = microsPerMillion(price.outputPerMillionTokens);
    if (perToken > 0) bounds.push(Math.floor(left / perToken));
  }
  if (typeof work.parameters.maxTokens === 'number') bounds.push(work.parameters.maxTokens);
  return bounds.length ? Math.floor(Math.min(...bounds)) : undefined;
}

async function readBounded(response: Response): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  // Leaving the loop early cancels the rest of the body.
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength;
    if (bytes > MAX_RESPONSE_BYTES) {
      throw new Failure('API_ERROR', `the endpoint answered more than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): ChatResponse {
  try {
    return JSON.parse(text) as ChatResponse;
  } catch {
    return {};
  }
}

/** The HTTP failure as the contract's error class. */
function httpFailure(status: number, body: ChatResponse, text: string): Failure {
  const detail = body.error?.message ?? text.slice(0, 300);
  const quota = body.error?.code === 'insufficient_quota' || body.error?.type === 'insufficient_quota';
  if (status === 429 && quota)
    return new Failure('QUOTA_EXCEEDED', `the model's quota is spent (429): ${detail}`);
  if (status === 429) return new Failure('RATE_LIMIT', `the endpoint is rate limiting (429): ${detail}`);
  if (status === 402) return new Failure('QUOTA_EXCEEDED', `the endpoint wants payment (402): ${detail}`);
  if (status >= 500) return new Failure('API_ERROR', `the endpoint failed (${status}): ${detail}`);
  return new Failure('VALIDATION_ERROR', `the endpoint refused the request (${status}): ${detail}`);
}

/** The outputs in the model's answer: a JSON object with the declared keys, or the text itself. */
function outputsOf(work: Assignment, answer: string, cut: boolean): Record<string, unknown> {
  const declared = Object.entries(work.outputs);
  if (declared.length === 0) return { answer };
  const json = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(answer)?.[1] ?? answer;
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    return Object.fromEntries(
      declared
        .filter(([name]) => Object.hasOwn(parsed, name))
        .map(([name]) => [name, (parsed as Record<string, unknown>)[name]]),
    );
  }
  const [only] = declared;
  if (declared.length === 1 && only?.[1] === 'string' && !cut) return { [only[0]]: answer };
  if (cut)
    throw new Failure(
      'QUOTA_EXCEEDED',
      "the answer was cut at the stage's token limit before it was complete",
    );
  throw new Failure(
    'VALIDATION_ERROR',
    `the model did not answer with a JSON object with ${declared.map(([name]) => name).join(', ')}`,
  );
}

/** How long the call may take: the stage's deadline less a margin to write the report in. */
function callTimeoutMs(work: Assignment): number | undefined {
  const seconds = work.budget.deadlineSeconds;
  if (seconds === undefined) return undefined;
  return Math.max(1, seconds * 1000 - Math.min(5000, seconds * 100));
}

async function callModel(
  work: Assignment,
  settings: LlmSettings,
  apiKey: string | undefined,
  log: (line: string) => void,
): Promise<{ outputs: Record<string, unknown>; usage: { tokens: number; costUSD: string } }> {
  const messages = buildMessages(work);
  const promptTokens = Math.ceil(messages.reduce((sum, m) => sum + m.content.length, 0) / CHARS_PER_TOKEN);
  const maxTokens = maxTokensFor(work, settings.price, promptTokens);
  if (maxTokens !== undefined && maxTokens < 1) {
    throw new Failure(
      'QUOTA_EXCEEDED',
      `the prompt alone (about ${promptTokens} tokens) uses up the stage's budget grant`,
    );
  }
  const model = settings.model;
  const url = `${settings.baseURL.replace(/\/+$/, '')}/chat/completions`;
  const timeoutMs = callTimeoutMs(work);
  const abort = new AbortController();
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          abort.abort();
        }, timeoutMs);
  log(`calling ${model} at ${url}${maxTokens === undefined ? '' : ` for at most ${maxTokens} tokens`}`);
  try {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(apiKey ? { Authorization: `Bearer ${apiKey}` } : {}),
        },
        body: JSON.stringify({
          model,
          messages,
          ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
          ...(typeof work.parameters.temperature === 'number'
            ? { temperature: work.parameters.temperature }
            : {}),
        }),
        signal: abort.signal,
      });
    } catch (error) {
      if (abort.signal.aborted)
        throw new Failure(
          'TIMEOUT',
          `${model} did not answer within ${timeoutMs ?? 0} ms, the stage's deadline less a margin`,
        );
      const cause = (error as { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new Failure('API_ERROR', `could not reach ${url}: ${cause}`);
    }
    let text: string;
    try {
      text = await readBounded(response);
    } catch (error) {
      if (abort.signal.aborted)
        throw new Failure('TIMEOUT', `${model} did not finish its answer within ${timeoutMs ?? 0} ms`);
      throw error;
    }
    const body = parseBody(text);
    if (!response.ok) throw httpFailure(response.status, body, text);
    const choice = body.choices?.[0];
    const answer = choice?.message?.content;
    if (typeof answer !== 'string') throw new Failure('API_ERROR', 'the endpoint answered without a message');
    const prompt = body.usage?.prompt_tokens ?? promptTokens;
    const completion = body.usage?.completion_tokens ?? Math.ceil(answer.length / CHARS_PER_TOKEN);
    const usage = {
      tokens: body.usage?.total_tokens ?? prompt + completion,
      costUSD: costOf(settings.price, prompt, completion),
    };
    try {
      return { outputs: outputsOf(work, answer, choice?.finish_reason === 'length'), usage };
    } catch (error) {
      if (error instanceof Failure) throw new Failure(error.errorClass, error.message, usage);
      throw error;
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs one stage; `log` gets what the agent does (its container's log), `reportLine` a report too
 * large for the termination message (stdout by default). Resolves with the exit code.
 */
export async function runLlmAgent(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = () => undefined,
  reportLine?: (line: string) => void,
): Promise<number> {
  let work: Assignment;
  let settings: LlmSettings;
  try {
    work = readAssignment(env);
    settings = llmSettings(env);
  } catch (error) {
    if (!(error instanceof AssignmentError)) throw error;
    writeReport({ error: { class: 'VALIDATION_ERROR', message: error.message } }, env);
    log(error.message);
    return 1;
  }
  try {
    const { outputs, usage } = await callModel(work, settings, env[API_KEY_ENV], log);
    writeReport({ outputs, usage }, env, reportLine);
    log(
      `stage ${work.stage}: outputs ${Object.keys(outputs).join(', ') || '(none)'}; ${usage.tokens} tokens, $${usage.costUSD}`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    writeReport(
      {
        error: { class: error.errorClass, message: error.message },
        ...(error.usage ? { usage: error.usage } : {}),
      },
      env,
    );
    log(`stage ${work.stage}: ${error.errorClass}: ${error.message}`);
    return 1;
  }
}
