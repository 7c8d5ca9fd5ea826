/**
 * Where the API server is and how to authenticate to it, read from a kubeconfig or the Pod's
 * ServiceAccount. client-node's KubeConfig does this too, but loading it loads every generated
 * API model (about 90 MB of memory, more than the operator's whole cache of thousands of
 * runbooks), so the common cases are read here: the in-cluster account, certificates, tokens and
 * token files. A kubeconfig whose user runs an exec plugin or an auth provider is handed to
 * client-node, loaded only then.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import type { AgentOptions, RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { isAbsolute, join, dirname } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';

export interface ClusterAccess {
  /** The API server's URL, e.g. https://10.0.0.1:443. */
  readonly server: string;
  /** Adds the CA, the client certificate or the bearer token to a request's options. */
  applyTo(options: RequestOptions & AgentOptions): Promise<void>;
  /** The namespace the kubeconfig's context names, as kubectl defaults -n to it. */
  readonly namespace?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** How long a token file is trusted before it is read again (the kubelet rotates projected tokens). */
const TOKEN_FILE_TTL_MS = 60_000;

/** Adapts a client-node KubeConfig (tests and the exec/auth-provider fallback). */
export function accessFromKubeConfig(kc: KubeConfig): ClusterAccess {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  return { server: cluster.server, applyTo: (options) => kc.applyToHTTPSOptions(options) };
}

export function isClusterAccess(value: ClusterAccess | KubeConfig): value is ClusterAccess {
  return typeof (value as Partial<ClusterAccess>).applyTo === 'function';
}

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: { name: string; cluster?: Record<string, unknown> }[];
  users?: { name: string; user?: Record<string, unknown> }[];
  contexts?: { name: string; context?: { cluster?: string; user?: string; namespace?: string } }[];
}

/** A token read from a file, read again after TOKEN_FILE_TTL_MS. */
function tokenFromFile(path: string): () => string {
  let cached: { token: string; at: number } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at > TOKEN_FILE_TTL_MS) {
      cached = { token: readFileSync(path, 'utf8').trim(), at: Date.now() };
    }
    return cached.token;
  };
}

function staticAccess(server: string, tls: AgentOptions, token: (() => string) | undefined): ClusterAccess {
  return {
    server,
    applyTo(options) {
      Object.assign(options, tls);
      if (token) {
        options.headers = { ...(options.headers as OutgoingHttpHeaders), Authorization: `Bearer ${token()}` };
      }
      return Promise.resolve();
    },
  };
}

function inCluster(): ClusterAccess {
  const host = process.env.KUBERNETES_SERVICE_HOST ?? '';
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return staticAccess(
    server,
    { ca: readFileSync(join(SERVICE_ACCOUNT_DIR, 'ca.crt')) },
    tokenFromFile(join(SERVICE_ACCOUNT_DIR, 'token')),
  );
}

/** Reads `field-data` (base64) or `field` (a file, relative to the kubeconfig). */
function material(entry: Record<string, unknown>, field: string, base: string): Buffer | undefined {
  const data = entry[`${field}-data`];
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  const file = entry[field];
  if (typeof file === 'string') return readFileSync(isAbsolute(file) ? file : join(base, file));
  return undefined;
}

async function fromFile(path: string, contextOverride?: string): Promise<ClusterAccess> {
  const config = (parse(readFileSync(path, 'utf8')) ?? {}) as KubeconfigFile;
  const contextName = contextOverride ?? config['current-context'];
  const context = config.contexts?.find((entry) => entry.name === contextName)?.context;
  if (!context) {
    throw new Error(
      contextOverride
        ? `the kubeconfig ${path} has no context ${contextOverride}`
        : `the kubeconfig ${path} has no current context`,
    );
  }
  const access = await accessOf(path, config, context, contextName ?? '');
  return context.namespace
    ? { server: access.server, applyTo: (options) => access.applyTo(options), namespace: context.namespace }
    : access;
}

async function accessOf(
  path: string,
  config: KubeconfigFile,
  context: { cluster?: string; user?: string },
  contextName: string,
): Promise<ClusterAccess> {
  const cluster = config.clusters?.find((entry) => entry.name === context.cluster)?.cluster;
  const server = cluster?.server;
  if (!cluster || typeof server !== 'string')
    throw new Error(`the kubeconfig ${path} has no current cluster`);
  const user = config.users?.find((entry) => entry.name === context.user)?.user ?? {};
  if (user.exec !== undefined || user['auth-provider'] !== undefined || user.username !== undefined) {
    const { KubeConfig: ClientNodeConfig } = await import('@kubernetes/client-node');
    const kc = new ClientNodeConfig();
    kc.loadFromFile(path);
    kc.setCurrentContext(contextName);
    return accessFromKubeConfig(kc);
  }
  const base = dirname(path);
  const ca = material(cluster, 'certificate-authority', base);
  const cert = material(user, 'client-certificate', base);
  const key = material(user, 'client-key', base);
  const tls: AgentOptions = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(cluster['insecure-skip-tls-verify'] === true ? { rejectUnauthorized: false } : {}),
    ...(typeof cluster['tls-server-name'] === 'string' ? { servername: cluster['tls-server-name'] } : {}),
  };
  const token =
    typeof user.token === 'string'
      ? () => user.token as string
      : typeof user.tokenFile === 'string'
        ? tokenFromFile(user.tokenFile)
        : undefined;
  return staticAccess(server, tls, token);
}

/** The kubeconfig kubectl would read: `path`, else $KUBECONFIG's first file, else ~/.kube/config. */
function kubeconfigPath(path: string | undefined): { chosen: string | undefined; home: string } {
  return {
    chosen: path ?? process.env.KUBECONFIG?.split(':').find(Boolean),
    home: join(homedir(), '.kube', 'config'),
  };
}

/** The context names of the kubeconfig kubectl would read (for completion); none when there is none. */
export function kubeconfigContexts(path: string | undefined): string[] {
  const { chosen, home } = kubeconfigPath(path);
  const file = chosen ?? (existsSync(home) ? home : undefined);
  if (!file) return [];
  const config = (parse(readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
  return (config.contexts ?? []).map((entry) => entry.name);
}

/** Impersonation, as kubectl's --as and --as-group ask the API server for it. */
export interface Impersonation {
  user?: string;
  groups?: readonly string[];
}

/** `access` with the Impersonate-User and Impersonate-Group headers added to every request. */
export function impersonating(access: ClusterAccess, as: Impersonation): ClusterAccess {
  if (!as.user && !as.groups?.length) return access;
  if (!as.user) throw new Error('--as-group needs --as, as kubectl requires');
  const headers: OutgoingHttpHeaders = {
    'Impersonate-User': as.user,
    ...(as.groups?.length ? { 'Impersonate-Group': [...as.groups] } : {}),
  };
  return {
    server: access.server,
    ...(access.namespace ? { namespace: access.namespace } : {}),
    async applyTo(options) {
      await access.applyTo(options);
      options.headers = { ...(options.headers as OutgoingHttpHeaders), ...headers };
    },
  };
}

/**
 * The access `path` gives, or, without a path, as kubectl and client-node look: $KUBECONFIG
 * (its first file), ~/.kube/config, then the Pod's ServiceAccount.
 */
export async function loadClusterAccess(path: string | undefined, context?: string): Promise<ClusterAccess> {
  const { chosen, home } = kubeconfigPath(path);
  try {
    if (chosen) return await fromFile(chosen, context);
    if (existsSync(home)) return await fromFile(home, context);
    if (process.env.KUBERNETES_SERVICE_HOST) return inCluster();
  } catch (error) {
    throw new Error(`could not load the kubeconfig ${chosen ?? home}: ${(error as Error).message}`);
  }
  throw new Error('no kubeconfig: give --kubeconfig, set $KUBECONFIG, or run in a Pod with a ServiceAccount');
}
