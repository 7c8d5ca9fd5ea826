/**
 * JSON requests and watch streams to the API server. The operator works on plain JSON objects
 * throughout, so that the cache, the engine and the writes all see the same shapes.
 */
import { Agent, request, type AgentOptions } from 'node:https';
import type { IncomingMessage, RequestOptions } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';
import { nodeHttp } from './node-http.js';
import { accessFromKubeConfig, isClusterAccess, type ClusterAccess } from './cluster-access.js';

export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export function isStatus(error: unknown, ...codes: number[]): boolean {
  return error instanceof KubeApiError && codes.includes(error.statusCode);
}

/**
 * Creates an object whose name says what it holds (an attempt's outputs, a run's claim): one that
 * exists already was made by an earlier try of the same write, so 409 is success.
 */
export async function createUnlessExists(http: KubeHttp, path: string, body: unknown): Promise<void> {
  try {
    await http.send({ method: 'POST', path, body });
  } catch (error) {
    if (!isStatus(error, 409)) throw error;
  }
}

/** Every write names the operator as its field manager, so managedFields say who owns what. */
export const FIELD_MANAGER = 'agentrunbook-operator';

const WRITES = new Set(['POST', 'PUT', 'PATCH']);

/**
 * What send() accepts: the API server answers a write with the whole object, which send() does
 * not read; asked for its metadata only (`as=PartialObjectMetadata`, as for a list or a watch), it
 * encodes and sends about half the bytes (a status update's answer 3.7 KB against 6.6). A server
 * that cannot transform the answer sends it whole, the second type listed. Errors (a Status) come
 * back as they are.
 */
export const UNREAD_ANSWER_ACCEPT =
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

/** The TLS settings of a request that an agent's connections are made with. */
const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

/**
 * Whether two values of a TLS option are the same material: the same object, or equal bytes.
 * Compared on every request, so without serialising the certificates (which took about a tenth
 * of a request's CPU).
 */
function sameMaterial(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, index) => sameMaterial(item, b[index]));
  // A pfx given as { buf, passphrase } objects: rare, so serialised.
  return typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b);
}

/** Most connections to the API server at once; further requests queue for a free one. */
const MAX_SOCKETS = 32;

/**
 * The lines of a streamed answer (a Pod's log), the last one even without its newline. With
 * `maxChars`, a longer line is skipped as it streams by, so it is never held whole.
 */
export async function* streamLines(stream: IncomingMessage, maxChars = Infinity): AsyncGenerator<string> {
  stream.setEncoding('utf8');
  let pending = '';
  let skipping = false;
  for await (const chunk of stream) {
    let text = String(chunk);
    if (skipping) {
      const end = text.indexOf('\n');
      if (end < 0) continue;
      text = text.slice(end + 1);
      skipping = false;
    }
    const lines = (pending + text).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.length <= maxChars) yield line;
    if (pending.length > maxChars) {
      pending = '';
      skipping = true;
    }
  }
  if (pending) yield pending;
}

export class KubeHttp {
  /**
   * One keep-alive agent per client: client-node hands every request a new agent, and so a new
   * TCP and TLS handshake, which cost more CPU than the requests themselves. It is made again
   * only when the TLS material changes (a rotated client certificate).
   */
  private agent: { material: unknown[]; agent: Agent } | undefined;
  private readonly plainAgent = new nodeHttp.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });

  private readonly access: ClusterAccess;
  /** Told of every answer (code 0 when none came), for rest_client_requests_total. */
  onResponse: ((method: string, code: number, host: string) => void) | undefined;

  constructor(access: ClusterAccess | KubeConfig) {
    this.access = isClusterAccess(access) ? access : accessFromKubeConfig(access);
  }

  private keptAlive(options: RequestOptions & AgentOptions): Agent {
    const material = TLS_OPTIONS.map((name) => options[name]);
    if (!this.agent || !material.every((value, index) => sameMaterial(value, this.agent?.material[index]))) {
      const tls: AgentOptions = {};
      for (const [index, name] of TLS_OPTIONS.entries())
        if (material[index] !== undefined) Object.assign(tls, { [name]: material[index] });
      this.agent?.agent.destroy();
      this.agent = { material, agent: new Agent({ ...tls, keepAlive: true, maxSockets: MAX_SOCKETS }) };
    }
    return this.agent.agent;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
    this.plainAgent.destroy();
  }

  /** A request whose answer is read as JSON. */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    return (await this.exchange(req, true)) as T;
  }

  /**
   * A request whose answer nobody reads (a status update, a Job or an Event created): the API
   * server is asked for the object's metadata only (UNREAD_ANSWER_ACCEPT), and that is not decoded
   * or parsed either. Fails as request() does.
   */
  async send(req: KubeRequest): Promise<void> {
    await this.exchange(req, false);
  }

  private async exchange(req: KubeRequest, readAnswer: boolean): Promise<unknown> {
    const url = this.url(
      req.path,
      WRITES.has(req.method) ? { fieldManager: FIELD_MANAGER, ...req.query } : req.query,
    );
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const options: RequestOptions & AgentOptions = {
      method: req.method,
      headers: {
        Accept: readAnswer ? 'application/json' : UNREAD_ANSWER_ACCEPT,
        ...(body === undefined
          ? {}
          : {
              'Content-Type': req.contentType ?? 'application/json',
              'Content-Length': Buffer.byteLength(body),
            }),
      },
      timeout: req.timeoutMs ?? 30_000,
    };
    const send = await this.prepare(url, options);
    return new Promise<unknown>((resolve, reject) => {
      const call = send(url, options, (res) => {
        const status = res.statusCode ?? 0;
        const succeeded = status >= 200 && status < 300;
        const chunks: Buffer[] = [];
        if (succeeded && !readAnswer) res.resume();
        else res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          this.onResponse?.(req.method, status, url.host);
          if (succeeded && !readAnswer) {
            resolve(undefined);
            return;
          }
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (succeeded) {
            resolve(parsed);
            return;
          }
          const statusBody = (parsed ?? {}) as { reason?: string; message?: string };
          reject(
            new KubeApiError(
              status,
              statusBody.reason ?? 'Unknown',
              `${req.method} ${req.path}: ${status} ${statusBody.message ?? text.slice(0, 500)}`,
            ),
          );
        });
      });
      call.on('timeout', () => call.destroy(new Error(`${req.method} ${req.path}: timed out`)));
      call.on('error', (error) => {
        this.onResponse?.(req.method, 0, url.host);
        reject(error);
      });
      call.end(body);
    });
  }

  /** The API server's URL for `path`, with the query's defined values. */
  private url(path: string, query: KubeRequest['query']): URL {
    const url = new URL(this.access.server.replace(/\/$/, '') + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  private async prepare(url: URL, options: RequestOptions & AgentOptions) {
    await this.access.applyTo(options);
    const secure = url.protocol === 'https:';
    options.agent = secure ? this.keptAlive(options) : this.plainAgent;
    return secure ? request : nodeHttp.request;
  }

  /**
   * A watch: GET `path` with `watch=1`, calling `onEvent` for each JSON line of the stream and
   * `onDone` once when it ends (with the error if it failed). Resolves once the server answered.
   */
  async watch(
    path: string,
    query: KubeRequest['query'],
    onEvent: (event: { type: string; object: unknown }) => void,
    onDone: (error?: unknown) => void,
  ): Promise<{ abort(): void }> {
    let finished = false;
    const done = (error?: unknown) => {
      if (finished) return;
      finished = true;
      onDone(error);
    };
    let response: IncomingMessage;
    try {
      response = await this.stream(path, { ...query, watch: 1 });
    } catch (error) {
      if (!(error instanceof KubeApiError)) done(error);
      finished = true;
      throw error;
    }
    let pending = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        try {
          onEvent(JSON.parse(line) as { type: string; object: unknown });
        } catch (error) {
          response.destroy();
          done(error);
          return;
        }
      }
    });
    response.on('end', () => {
      done();
    });
    response.on('error', done);
    response.on('close', () => {
      done(response.complete ? undefined : new Error(`watch ${path}: connection closed`));
    });
    return {
      abort: () => {
        finished = true;
        response.destroy();
      },
    };
  }

  /**
   * A GET whose answer is read as it comes (a watch, a log that is followed). Fails with the
   * server's status when it does not answer 2xx. With `deadlineMs`, the whole exchange must end
   * by then: past it the request is destroyed, and the answer, or the read of its body, fails.
   */
  async stream(path: string, query: KubeRequest['query'], deadlineMs?: number): Promise<IncomingMessage> {
    const url = this.url(path, query);
    const options: RequestOptions & AgentOptions = {
      method: 'GET',
      headers: { Accept: 'application/json, */*' },
    };
    const send = await this.prepare(url, options);
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      let answer: IncomingMessage | undefined;
      const call = send(url, options, (started) => {
        answer = started;
        started.on('close', () => {
          clearTimeout(deadline);
        });
        resolve(started);
      });
      const deadline =
        deadlineMs === undefined
          ? undefined
          : setTimeout(() => {
              const late = new Error(`GET ${path}: no whole answer within ${deadlineMs} ms`);
              if (answer) answer.destroy(late);
              else call.destroy(late);
            }, deadlineMs);
      call.on('error', (error) => {
        clearTimeout(deadline);
        reject(error);
      });
      call.end();
    });
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      throw new KubeApiError(status, 'StreamFailed', `GET ${path}: ${status} ${text.slice(0, 500)}`);
    }
    return response;
  }

  /** Server-side apply: the operator owns exactly the fields in `object` (taking them over when `force`). */
  apply<T = unknown>(path: string, object: Record<string, unknown>, force = false): Promise<T> {
    return this.request<T>({
      method: 'PATCH',
      path,
      body: object,
      contentType: 'application/apply-patch+yaml',
      query: force ? { force: true } : {},
    });
  }
}
