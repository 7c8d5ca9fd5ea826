/**
 * The fake node's answer to the API server's pods/log requests, as a kubelet gives it: an HTTPS
 * server at the node's address and kubeletEndpoint port serving
 * /containerLogs/<namespace>/<pod>/<container> (with follow, tailLines and limitBytes). So
 * `kubectl logs`, and the operator reading a report from a log, take the same path as on a cluster.
 */
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CertificateAuthority } from '../../src/webhook/pki.js';

const LOG_PATH = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/;

/** The part of a log that tailLines and limitBytes leave, as the kubelet cuts it. */
function cut(text: string, query: URLSearchParams): string {
  let result = text;
  const tail = query.get('tailLines');
  if (tail !== null) {
    const lines = result.split('\n');
    const trailing = lines.at(-1) === '' ? lines.pop() : undefined;
    result = lines.slice(-Number(tail) || lines.length).join('\n') + (trailing === undefined ? '' : '\n');
  }
  const limit = query.get('limitBytes');
  if (limit !== null) result = Buffer.from(result).subarray(0, Number(limit)).toString('utf8');
  return result;
}

export class PodLogServer {
  private server: Server | undefined;
  /** What each container wrote, by namespace/pod/container. */
  private readonly logs = new Map<string, string>();
  /** Requests that follow a container still running: answered when it ends. */
  private readonly followers = new Map<string, ServerResponse[]>();

  /** Starts serving on 127.0.0.1; resolves with the port. */
  async start(): Promise<number> {
    const ca = await CertificateAuthority.create('fake-kubelet-ca');
    const serving = await ca.issue({
      commonName: 'fake-kubelet',
      ipAddresses: ['127.0.0.1'],
      usage: 'server',
    });
    const server = createServer(
      { cert: serving.certificate, key: serving.privateKey },
      (request, response) => {
        const url = new URL(request.url ?? '/', 'https://kubelet');
        const match = LOG_PATH.exec(url.pathname);
        if (request.method !== 'GET' || !match) {
          response.writeHead(404).end('not found\n');
          return;
        }
        const key = match.slice(1, 4).map(decodeURIComponent).join('/');
        const text = this.logs.get(key);
        const waiting = this.followers.get(key);
        if (text === undefined) {
          response.writeHead(404, { 'Content-Type': 'text/plain' }).end(`no container ${key} has started\n`);
        } else if (waiting && url.searchParams.get('follow') === 'true') {
          response.writeHead(200, { 'Content-Type': 'text/plain' });
          response.write(text);
          waiting.push(response);
        } else {
          response.writeHead(200, { 'Content-Type': 'text/plain' }).end(cut(text, url.searchParams));
        }
      },
    );
    this.server = server;
    await new Promise<void>((resolve) => {
      server.listen(0, '127.0.0.1', resolve);
    });
    return (server.address() as AddressInfo).port;
  }

  /** Requests following a log that has not ended yet. */
  following(): number {
    return [...this.followers.values()].reduce((sum, responses) => sum + responses.length, 0);
  }

  /** A container started: its log is empty, and followers wait for it to end. */
  started(namespace: string, pod: string, container: string): void {
    const key = `${namespace}/${pod}/${container}`;
    this.logs.set(key, '');
    this.followers.set(key, []);
  }

  /** A running container wrote `text`: followers get it as it comes, as from a kubelet. */
  write(namespace: string, pod: string, container: string, text: string): void {
    const key = `${namespace}/${pod}/${container}`;
    const waiting = this.followers.get(key);
    if (!waiting) throw new Error(`container ${key} is not running`);
    this.logs.set(key, (this.logs.get(key) ?? '') + text);
    for (const response of waiting) response.write(text);
  }

  /** A container ended having written `text`: followers get it, and the log stays readable. */
  ended(namespace: string, pod: string, container: string, text: string): void {
    const key = `${namespace}/${pod}/${container}`;
    const written = this.logs.get(key) ?? '';
    this.logs.set(key, written + text);
    for (const response of this.followers.get(key) ?? []) response.end(text);
    this.followers.delete(key);
  }

  /** The Pod is gone: so is its log. */
  forget(namespace: string, pod: string): void {
    for (const key of [...this.logs.keys()])
      if (key.startsWith(`${namespace}/${pod}/`)) this.logs.delete(key);
  }

  async stop(): Promise<void> {
    for (const responses of this.followers.values()) for (const response of responses) response.end();
    this.followers.clear();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }
}
