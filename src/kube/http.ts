/**
 * JSON requests to the API server with client-node's credentials. The operator works on plain
 * JSON objects throughout (the watch stream delivers JSON too), so that the cache, the engine and
 * the writes all see the same shapes.
 */
import { Agent, request, type AgentOptions } from 'node:https';
import { Agent as PlainAgent, request as plainRequest, type RequestOptions } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';

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

/** Every write names the operator as its field manager, so managedFields say who owns what. */
export const FIELD_MANAGER = 'agentrunbook-operator';

const WRITES = new Set(['POST', 'PUT', 'PATCH']);

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

/** Most connections to the API server at once; further requests queue for a free one. */
const MAX_SOCKETS = 32;

export class KubeHttp {
  /**
   * One keep-alive agent per client: client-node hands every request a new agent, and so a new
   * TCP and TLS handshake, which cost more CPU than the requests themselves. It is made again
   * only when the TLS material changes (a rotated client certificate).
   */
  private agent: { identity: string; agent: Agent } | undefined;
  private readonly plainAgent = new PlainAgent({ keepAlive: true, maxSockets: MAX_SOCKETS });

  constructor(readonly kc: KubeConfig) {}

  private keptAlive(options: RequestOptions & AgentOptions): Agent {
    const tls: AgentOptions = {};
    for (const name of TLS_OPTIONS)
      if (options[name] !== undefined) Object.assign(tls, { [name]: options[name] });
    const identity = JSON.stringify(TLS_OPTIONS.map((name) => options[name] ?? null));
    if (this.agent?.identity !== identity) {
      this.agent?.agent.destroy();
      this.agent = { identity, agent: new Agent({ ...tls, keepAlive: true, maxSockets: MAX_SOCKETS }) };
    }
    return this.agent.agent;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
    this.plainAgent.destroy();
  }

  async request<T = unknown>(req: KubeRequest): Promise<T> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + req.path);
    const query = WRITES.has(req.method) ? { fieldManager: FIELD_MANAGER, ...req.query } : req.query;
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const options: RequestOptions & AgentOptions = {
      method: req.method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined
          ? {}
          : {
              'Content-Type': req.contentType ?? 'application/json',
              'Content-Length': Buffer.byteLength(body),
            }),
      },
      timeout: req.timeoutMs ?? 30_000,
    };
    await this.kc.applyToHTTPSOptions(options);
    const secure = url.protocol === 'https:';
    options.agent = secure ? this.keptAlive(options) : this.plainAgent;
    const send = secure ? request : plainRequest;
    return new Promise<T>((resolve, reject) => {
      const call = send(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: unknown = undefined;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) {
            resolve(parsed as T);
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
      call.on('error', reject);
      call.end(body);
    });
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
