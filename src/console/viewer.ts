/**
 * Whose identity a console request is made with. Locally, the kubeconfig's (as kubectl proxy does);
 * in the cluster, the viewer's own bearer token (from the Authorization header an authenticating
 * proxy forwards, or from the sealed session cookie of the login form), never the console's
 * ServiceAccount, which has no rights at all. No identity, no request: there is no anonymous mode.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { ClusterAccess } from '../kube/cluster-access.js';
import { KubeApiError, KubeHttp } from '../kube/http.js';
import { cookies, SESSION_COOKIE, type SessionSealer } from './session.js';

export interface Viewer {
  http: KubeHttp;
  /** Ends the viewer's connections when they are its own. */
  done(): void;
}

export interface ViewerSource {
  readonly mode: 'local' | 'cluster';
  /** The viewer of a request, or undefined when it carries no identity. */
  viewer(request: IncomingMessage): Viewer | undefined;
  /** A client with `token` (cluster mode's login form). */
  withToken(token: string): Viewer;
  close(): void;
}

/** Who the API server says a client is (a SelfSubjectReview: needs no RBAC rule). */
export async function whoAmI(http: KubeHttp): Promise<{ username: string; groups: string[] }> {
  const review = await http.request<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>({
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  const info = review.status?.userInfo ?? {};
  return { username: info.username ?? '', groups: info.groups ?? [] };
}

export function isUnauthenticated(error: unknown): boolean {
  return error instanceof KubeApiError && error.statusCode === 401;
}

/**
 * The kubeconfig's identity for every request. Each request gets connections of its own: a page's
 * watches hold theirs open, and a shared pool would let many open tabs starve every other call.
 */
export function localViewers(access: ClusterAccess): ViewerSource {
  return {
    mode: 'local',
    viewer: () => {
      const http = new KubeHttp(access);
      return {
        http,
        done: () => {
          http.close();
        },
      };
    },
    withToken: () => {
      throw new Error('the local console uses the kubeconfig: there is nothing to sign in to');
    },
    close: () => undefined,
  };
}

/** Tokens longer than this are refused before they reach the API server. */
const MAX_TOKEN_CHARS = 8192;

function bearer(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

export function clusterViewers(server: string, ca: Buffer | string, sealer: SessionSealer): ViewerSource {
  const withToken = (token: string): Viewer => {
    if (token.length > MAX_TOKEN_CHARS || /\s/.test(token)) throw new Error('that is not a bearer token');
    const http = new KubeHttp({
      server,
      applyTo(options) {
        options.ca = ca;
        options.headers = { ...(options.headers as OutgoingHttpHeaders), Authorization: `Bearer ${token}` };
        return Promise.resolve();
      },
    });
    return {
      http,
      done: () => {
        http.close();
      },
    };
  };
  return {
    mode: 'cluster',
    viewer(request) {
      const sealed = cookies(request).get(SESSION_COOKIE);
      const token = bearer(request) ?? (sealed ? sealer.open(sealed) : undefined);
      if (!token) return undefined;
      try {
        return withToken(token);
      } catch {
        return undefined;
      }
    },
    withToken,
    close: () => undefined,
  };
}
