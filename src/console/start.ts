/** Starting the console in its two modes: on this machine with a kubeconfig, or in the cluster. */
import { readFileSync } from 'node:fs';
import type { Logger } from 'winston';
import type { ClusterAccess } from '../kube/cluster-access.js';
import { CertificateAuthority } from '../webhook/pki.js';
import { ConsoleServer } from './console-server.js';
import { SessionSealer } from './session.js';
import { defaultAssetsDir, loadStaticFiles } from './static-files.js';
import { clusterViewers, localViewers } from './viewer.js';

export interface StartedConsole {
  server: ConsoleServer;
  url: string;
}

/** On 127.0.0.1 only, with the kubeconfig's identity, as `kubectl proxy` serves. */
export async function startLocalConsole(
  access: ClusterAccess,
  { port, assets, logger }: { port: number; assets?: string; logger?: Logger },
): Promise<StartedConsole> {
  const host = '127.0.0.1';
  // The Host header is checked so a DNS-rebinding page cannot reach the kubeconfig's identity.
  const hosts = new Set<string>();
  const server = new ConsoleServer({
    viewers: localViewers(access),
    files: loadStaticFiles(assets ?? defaultAssetsDir()),
    hosts,
    ...(logger ? { logger } : {}),
  });
  const bound = await server.listen(port, host);
  hosts.add(`127.0.0.1:${bound}`);
  hosts.add(`localhost:${bound}`);
  return { server, url: `http://127.0.0.1:${bound}/` };
}

export interface ClusterConsoleOptions {
  port: number;
  address: string;
  /** The API server's URL and the CA that signed its certificate. */
  apiServer: string;
  apiCa: Buffer | string;
  /** Serving certificate and key files; without them the console makes a self-signed pair. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** 32 bytes that seal sessions; shared by replicas. Random (sessions end with the Pod) without it. */
  sessionKey?: Buffer;
  assets?: string;
  logger?: Logger;
}

async function selfSigned(): Promise<{ cert: string; key: string }> {
  const ca = await CertificateAuthority.create('agentrunbook-console-ca', 365 * 24 * 3600 * 1000);
  const pair = await ca.issue({
    commonName: 'agentrunbook-console',
    dnsNames: ['localhost'],
    usage: 'server',
  });
  return { cert: `${pair.certificate.trim()}\n${ca.certificatePem.trim()}\n`, key: pair.privateKey };
}

/** In the cluster: TLS always, and each viewer's own bearer token (no anonymous access). */
export async function startClusterConsole(options: ClusterConsoleOptions): Promise<StartedConsole> {
  const tls =
    options.tlsCertFile && options.tlsKeyFile
      ? { cert: readFileSync(options.tlsCertFile), key: readFileSync(options.tlsKeyFile) }
      : await selfSigned();
  const sealer = options.sessionKey ? new SessionSealer(options.sessionKey) : SessionSealer.random();
  const server = new ConsoleServer({
    viewers: clusterViewers(options.apiServer, options.apiCa, sealer),
    files: loadStaticFiles(options.assets ?? defaultAssetsDir()),
    tls,
    sealer,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const bound = await server.listen(options.port, options.address);
  return {
    server,
    url: `https://${options.address.includes(':') ? `[${options.address}]` : options.address}:${bound}/`,
  };
}
