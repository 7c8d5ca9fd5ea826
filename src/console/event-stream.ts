/**
 * Server-sent events to one browser tab, and the API collections behind them: each is listed once
 * and then watched from that list's resourceVersion, as `kubectl get -w` does, so an open page
 * costs the API server one list and one long watch per collection, however often things change.
 */
import type { ServerResponse } from 'node:http';
import { isStatus, type KubeHttp, type KubeRequest } from '../kube/http.js';

/** A comment line keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 20_000;
/** How long one watch request lasts before it is made again from the last resourceVersion. */
const WATCH_SECONDS = 300;
const RETRY_MS = [1000, 2000, 5000, 10_000, 30_000];

export class EventStream {
  private readonly heartbeat: NodeJS.Timeout;
  private readonly closers: (() => void)[] = [];
  private ended = false;

  constructor(private readonly response: ServerResponse) {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    });
    response.write(': stream open\n\n');
    this.heartbeat = setInterval(() => response.write(': keep-alive\n\n'), HEARTBEAT_MS);
    // The response closes when the tab goes away (a request's 'close' may come as soon as its body is read).
    response.on('close', () => {
      this.close();
    });
  }

  isClosed(): boolean {
    return this.ended;
  }

  send(event: string, data: unknown): void {
    if (this.ended) return;
    this.response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  onClose(closer: () => void): void {
    if (this.ended) closer();
    else this.closers.push(closer);
  }

  close(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.heartbeat);
    for (const closer of this.closers.splice(0)) closer();
    this.response.end();
  }
}

/** The API server's own words from a failed request, without the request line the client adds. */
export function refusal(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^[A-Z]+ \S+: \d+ /, '');
}

export interface CollectionHandlers<T> {
  /** The whole collection, at the start and again after the watch could not go on (410 Gone). */
  snapshot(items: T[]): void;
  change(type: 'ADDED' | 'MODIFIED' | 'DELETED', item: T): void;
  /** A request failed; the stream retries after a pause. */
  problem(message: string): void;
}

interface ListAnswer<T> {
  metadata?: { resourceVersion?: string };
  items?: T[];
}

/** Lists `path` and watches it until `stream` closes, telling `handlers` of everything. */
export function followCollection<T extends { metadata?: { resourceVersion?: string } }>(
  http: KubeHttp,
  stream: EventStream,
  path: string,
  query: KubeRequest['query'],
  handlers: CollectionHandlers<T>,
): void {
  let abortWatch: (() => void) | undefined;
  let wake: (() => void) | undefined;
  stream.onClose(() => {
    abortWatch?.();
    wake?.();
  });
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const watchFrom = (resourceVersion: string) =>
    new Promise<{ gone: boolean; resourceVersion: string }>((resolve, reject) => {
      let latest = resourceVersion;
      let gone = false;
      http
        .watch(
          path,
          { ...query, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: WATCH_SECONDS },
          (event) => {
            const object = event.object as T & { code?: number };
            if (event.type === 'ERROR') {
              gone = object.code === 410;
              return;
            }
            latest = object.metadata?.resourceVersion ?? latest;
            if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED')
              handlers.change(event.type, object);
          },
          (error) => {
            abortWatch = undefined;
            if (error && !stream.isClosed())
              reject(error instanceof Error ? error : new Error('the watch failed'));
            else resolve({ gone, resourceVersion: latest });
          },
        )
        .then((handle) => {
          // An aborted watch tells no one it ended: settle here, so the loop sees the stream closed.
          abortWatch = () => {
            handle.abort();
            resolve({ gone, resourceVersion: latest });
          };
          if (stream.isClosed()) abortWatch();
        }, reject);
    });

  void (async () => {
    let failures = 0;
    while (!stream.isClosed()) {
      try {
        const list = await http.request<ListAnswer<T>>({ method: 'GET', path, query });
        if (stream.isClosed()) return;
        handlers.snapshot(list.items ?? []);
        let resourceVersion = list.metadata?.resourceVersion ?? '';
        failures = 0;
        for (;;) {
          const ended = await watchFrom(resourceVersion);
          if (stream.isClosed() || ended.gone) break;
          resourceVersion = ended.resourceVersion;
        }
      } catch (error) {
        if (stream.isClosed()) return;
        handlers.problem(refusal(error));
        // A refusal (403, 404) will not change by itself soon: wait longest for those.
        const wait = isStatus(error, 401, 403, 404) ? 30_000 : (RETRY_MS[failures] ?? 30_000);
        failures += 1;
        await pause(wait);
      }
    }
  })();
}
