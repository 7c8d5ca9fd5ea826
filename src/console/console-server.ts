/**
 * The console's HTTP(S) server: the front end, its session, and the JSON and event-stream API the
 * front end calls. Every Kubernetes call is made as the viewer (viewer.ts); the server itself holds
 * no rights, so RBAC and admission judge each action exactly as they judge kubectl.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Logger } from 'winston';
import { KubeApiError } from '../kube/http.js';
import { closeServer, listenOn } from '../operator/plain-http-server.js';
import { EventStream, refusal } from './event-stream.js';
import { hostProblem, securityHeaders, writeProblem } from './guards.js';
import { followRun, followRunbookList, followStageLog } from './live-views.js';
import {
  act,
  BadRequest,
  generate,
  memberName,
  nameParameter,
  OUTPUT_PART_CHARS,
  revisions,
  storedOutput,
  templates,
} from './requests.js';
import {
  cookie,
  cookies,
  CSRF_COOKIE,
  newCsrfToken,
  SESSION_COOKIE,
  SESSION_SECONDS,
  type SessionSealer,
} from './session.js';
import type { StaticFile } from './static-files.js';
import { isUnauthenticated, whoAmI, type Viewer, type ViewerSource } from './viewer.js';

/** The largest JSON body a write may carry. */
const MAX_BODY_BYTES = 64 * 1024;

export interface ConsoleOptions {
  viewers: ViewerSource;
  files: Map<string, StaticFile>;
  /** Serving certificate and key: HTTPS when given. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Host headers served (host:port, lower case); empty serves any. */
  hosts?: ReadonlySet<string>;
  sealer?: SessionSealer;
  logger?: Logger;
}

type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  viewer: Viewer,
) => Promise<void>;

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BadRequest('the body is not JSON');
  }
}

const query = (url: URL, name: string) => url.searchParams.get(name) ?? '';

/** A label selector as the list filter takes it: bounded, and without characters no selector has. */
function labelSelector(value: string): string {
  if (value.length > 1024 || !/^[A-Za-z0-9_./!=,() -]*$/.test(value))
    throw new BadRequest('the label selector has characters no selector has');
  return value;
}

const reads: Record<string, Handler> = {
  '/api/live/runbooks': (_request, response, url, viewer) => {
    const namespace = query(url, 'namespace');
    const filter = {
      namespace: namespace ? nameParameter(namespace, 'namespace') : '',
      labelSelector: labelSelector(query(url, 'labelSelector')),
    };
    followRunbookList(viewer, new EventStream(response), filter);
    return Promise.resolve();
  },
  '/api/live/run': (_request, response, url, viewer) => {
    const namespace = nameParameter(query(url, 'namespace'), 'namespace');
    const name = nameParameter(query(url, 'name'), 'name');
    followRun(viewer, new EventStream(response), namespace, name);
    return Promise.resolve();
  },
  '/api/live/logs': async (_request, response, url, viewer) => {
    const namespace = nameParameter(query(url, 'namespace'), 'namespace');
    const name = nameParameter(query(url, 'name'), 'name');
    const stage = memberName(query(url, 'stage'), 'stage');
    const stream = new EventStream(response);
    await followStageLog(viewer, stream, namespace, name, stage).catch((error: unknown) => {
      stream.send('problem', { message: refusal(error) });
    });
  },
  '/api/revisions': async (_request, response, url, viewer) => {
    const namespace = nameParameter(query(url, 'namespace'), 'namespace');
    json(response, 200, await revisions(viewer, namespace, nameParameter(query(url, 'name'), 'name')));
  },
  '/api/templates': async (_request, response, url, viewer) => {
    json(response, 200, await templates(viewer, nameParameter(query(url, 'namespace'), 'namespace')));
  },
  '/api/output': async (_request, response, url, viewer) => {
    const name = nameParameter(query(url, 'name'), 'name');
    const configMap = nameParameter(query(url, 'configMap'), 'configMap');
    const key = query(url, 'key');
    if (!/^[-._a-zA-Z0-9]{1,253}$/.test(key)) throw new BadRequest('key must be a ConfigMap key');
    const output = await storedOutput(
      viewer,
      nameParameter(query(url, 'namespace'), 'namespace'),
      name,
      configMap,
      key,
    );
    if (query(url, 'download')) {
      response.writeHead(200, {
        'Content-Type': output.json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
        'Content-Disposition': `attachment; filename="${name}-${key}.${output.json ? 'json' : 'txt'}"`,
        'Cache-Control': 'no-store',
      });
      response.end(output.text);
      return;
    }
    json(response, 200, {
      json: output.json,
      total: output.text.length,
      text: output.text.slice(0, OUTPUT_PART_CHARS),
    });
  },
};

const writes: Record<string, Handler> = {
  '/api/action': async (request, response, _url, viewer) => {
    json(response, 200, { message: await act(viewer, await readJson(request)) });
  },
  '/api/generate': async (request, response, _url, viewer) => {
    json(response, 200, await generate(viewer, await readJson(request)));
  },
};

export class ConsoleServer {
  private server: Server | undefined;

  constructor(private readonly options: ConsoleOptions) {}

  private get secure(): boolean {
    return this.options.tls !== undefined;
  }

  private origin = (host: string) => `${this.secure ? 'https' : 'http'}://${host}`;

  async listen(port: number, host: string): Promise<number> {
    const handle = (request: IncomingMessage, response: ServerResponse) => {
      this.handle(request, response).catch((error: unknown) => {
        this.options.logger?.error('console request failed', {
          path: request.url?.split('?')[0],
          error: String(error),
        });
        if (!response.headersSent) json(response, 500, { message: 'the console failed to answer' });
        else response.end();
      });
    };
    const server = this.options.tls ? createHttpsServer(this.options.tls, handle) : createHttpServer(handle);
    server.headersTimeout = 10_000;
    this.server = server;
    return listenOn(server, port, host);
  }

  async close(): Promise<void> {
    if (this.server) await closeServer(this.server);
    this.options.viewers.close();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    securityHeaders(response, this.secure);
    const hostRefused = hostProblem(request, this.options.hosts ?? new Set());
    if (hostRefused) {
      json(response, 421, { message: hostRefused });
      return;
    }
    const url = new URL(request.url ?? '/', 'http://console');
    const method = request.method ?? 'GET';
    if (!url.pathname.startsWith('/api/')) {
      this.serveFile(request, response, url.pathname, method);
      return;
    }
    if (method === 'POST') {
      const refused = writeProblem(request, this.origin);
      if (refused) {
        json(response, 403, { message: refused });
        return;
      }
    } else if (method !== 'GET') {
      json(response, 405, { message: `${method} is not served` });
      return;
    }
    if (url.pathname === '/api/session' && method === 'GET') return this.session(request, response);
    if (url.pathname === '/api/login' && method === 'POST') return this.login(request, response);
    if (url.pathname === '/api/logout' && method === 'POST') {
      response.setHeader(
        'Set-Cookie',
        cookie(SESSION_COOKIE, '', { secure: this.secure, httpOnly: true, maxAge: 0 }),
      );
      json(response, 200, { message: 'signed out' });
      return;
    }
    const handler = (method === 'POST' ? writes : reads)[url.pathname];
    if (!handler) {
      json(response, 404, { message: `no ${method} ${url.pathname}` });
      return;
    }
    const viewer = this.options.viewers.viewer(request);
    if (!viewer) {
      json(response, 401, { message: 'sign in first: the console acts only with your own identity' });
      return;
    }
    response.on('close', () => {
      viewer.done();
    });
    try {
      await handler(request, response, url, viewer);
    } catch (error) {
      if (response.headersSent) {
        response.end();
        return;
      }
      if (error instanceof BadRequest) json(response, 400, { message: error.message });
      else if (error instanceof KubeApiError)
        json(response, error.statusCode, { message: refusal(error), reason: error.reason });
      else json(response, 422, { message: refusal(error) });
    }
  }

  private serveFile(request: IncomingMessage, response: ServerResponse, path: string, method: string): void {
    const file = this.options.files.get(path);
    if ((method !== 'GET' && method !== 'HEAD') || !file) {
      response
        .writeHead(file ? 405 : 404, { 'Content-Type': 'text/plain' })
        .end(file ? 'GET only\n' : 'not found\n');
      return;
    }
    if (request.headers['if-none-match'] === file.etag) {
      response.writeHead(304).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': file.type, ETag: file.etag, 'Cache-Control': 'no-cache' });
    response.end(method === 'HEAD' ? undefined : file.body);
  }

  /** Who the viewer is, with a fresh CSRF token for the page's writes. */
  private async session(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const csrf = cookies(request).get(CSRF_COOKIE) ?? newCsrfToken();
    response.setHeader('Set-Cookie', cookie(CSRF_COOKIE, csrf, { secure: this.secure, httpOnly: false }));
    const mode = this.options.viewers.mode;
    const viewer = this.options.viewers.viewer(request);
    if (!viewer) {
      json(response, 200, { mode, signedIn: false, csrf });
      return;
    }
    try {
      const { username, groups } = await whoAmI(viewer.http);
      json(response, 200, { mode, signedIn: true, user: username, groups, csrf });
    } catch (error) {
      json(response, 200, { mode, signedIn: false, csrf, problem: refusal(error) });
    } finally {
      viewer.done();
    }
  }

  /** Cluster mode's login form: the token is checked with the API server, then sealed into a cookie. */
  private async login(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const { sealer } = this.options;
    const body = await readJson(request).catch(() => undefined);
    const token = (body as { token?: unknown } | undefined)?.token;
    if (this.options.viewers.mode !== 'cluster' || !sealer) {
      json(response, 400, {
        message: 'the local console uses your kubeconfig: there is nothing to sign in to',
      });
      return;
    }
    if (typeof token !== 'string' || token === '') {
      json(response, 400, { message: 'give a bearer token' });
      return;
    }
    let viewer: Viewer;
    try {
      viewer = this.options.viewers.withToken(token);
    } catch (error) {
      json(response, 400, { message: (error as Error).message });
      return;
    }
    try {
      const { username } = await whoAmI(viewer.http);
      response.setHeader(
        'Set-Cookie',
        cookie(SESSION_COOKIE, sealer.seal(token), {
          secure: this.secure,
          httpOnly: true,
          maxAge: SESSION_SECONDS,
        }),
      );
      json(response, 200, { user: username });
    } catch (error) {
      json(response, isUnauthenticated(error) ? 401 : 502, {
        message: isUnauthenticated(error) ? 'the API server did not accept that token' : refusal(error),
      });
    } finally {
      viewer.done();
    }
  }
}
