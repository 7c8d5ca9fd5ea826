/**
 * A real Kubernetes control plane for integration tests, in the manner of controller-runtime's
 * envtest: etcd, kube-apiserver (TLS, RBAC, service-account signing) and kube-controller-manager
 * (Job, garbage-collector, namespace and service-account controllers) on free loopback ports.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { CertificateAuthority, signingKeyPairPem, type KeyPairPem } from '../../src/webhook/pki.js';
import { freePort, isAddressInUse } from './ports.js';
import { ManagedProcess } from './managed-process.js';
import { repoRoot } from './paths.js';

const READY_TIMEOUT_MS = 90_000;
const POLL_INTERVAL_MS = 100;
const START_ATTEMPTS = 3;

export const CONTROLLERS = [
  'job-controller',
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'root-ca-certificate-publisher-controller',
  'ttl-after-finished-controller',
];

/** The user of the control plane's admin kubeconfig (its client certificate's common name). */
export const ADMIN_USER = 'envtest-admin';

export interface ControlPlaneOptions {
  /** Use this port for kube-apiserver instead of a free one. */
  apiServerPort?: number;
  /** Directory with the binaries; by default hack/envtest.sh provides them. */
  binaryDir?: string;
  /** Where the temporary directory goes; the system's temporary directory by default. */
  tmpRoot?: string;
  /** The address kube-apiserver binds and advertises (a real node's Pods must reach it). */
  host?: string;
  /** kube-controller-manager's controllers; CONTROLLERS by default. */
  controllers?: string[];
  /** kube-apiserver's authorizers; RBAC by default (a real node adds Node). */
  authorizationMode?: string;
  /** More kube-controller-manager flags, e.g. its client's --kube-api-qps (the benchmark's beds). */
  controllerManagerArgs?: string[];
  /** More kube-apiserver flags (a later flag wins over an earlier one). */
  apiServerArgs?: string[];
  /** Give kube-apiserver a client certificate for kubelets (logs, exec), for a real node. */
  kubeletClient?: boolean;
}

/** Directory with etcd, kube-apiserver and kube-controller-manager (builds them on first use). */
export function controlPlaneBinaries(): string {
  return execFileSync('bash', [join(repoRoot, 'hack', 'envtest.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

function kubeconfigYaml(
  server: string,
  caPem: string,
  user: string,
  credentials: Record<string, string>,
): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'envtest', cluster: { server, 'certificate-authority-data': b64(caPem) } }],
    users: [{ name: user, user: credentials }],
    contexts: [{ name: 'envtest', context: { cluster: 'envtest', user, namespace: 'default' } }],
    'current-context': 'envtest',
  });
}

type Probe = () => Promise<boolean>;

function certificateCredentials(client: KeyPairPem): Record<string, string> {
  return { 'client-certificate-data': b64(client.certificate), 'client-key-data': b64(client.privateKey) };
}

function httpOk(get: typeof request | typeof httpRequest, url: string, tls: object = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { ...tls, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => {
      resolve(false);
    });
    req.on('timeout', () => {
      req.destroy();
    });
    req.end();
  });
}

async function waitReady(process: ManagedProcess, what: string, probe: Probe): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (process.hasExited) throw process.failure(`exited before ${what}`);
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
  throw process.failure(`did not become ${what} within ${READY_TIMEOUT_MS / 1000}s`);
}

export class ControlPlane {
  private readonly processes: ManagedProcess[] = [];
  private caPem = '';
  /** The cluster CA, for components that need client or serving certificates (a real node). */
  ca!: CertificateAuthority;
  caFile = '';
  /** etcd's client URL, for tests that look at what is stored. */
  etcdUrl = '';
  private apiServerReady: Probe = () => Promise.resolve(false);
  private constructor(
    readonly dir: string,
    readonly server: string,
    readonly adminKubeconfigPath: string,
  ) {}

  /** Starts etcd, kube-apiserver and kube-controller-manager, and waits until each is healthy. */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ControlPlane.startOnce(options);
      } catch (error) {
        // Another process can still bind a chosen port before the binary does; a port the
        // caller fixed would only fail again.
        const retry = isAddressInUse(error) && options.apiServerPort === undefined;
        if (!retry || attempt === START_ATTEMPTS) throw error;
      }
    }
  }

  private static async startOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
    const binaries = options.binaryDir ?? controlPlaneBinaries();
    const dir = mkdtempSync(join(options.tmpRoot ?? tmpdir(), 'agentrunbook-envtest-'));
    const apiPort = options.apiServerPort ?? (await freePort());
    const host = options.host ?? '127.0.0.1';
    const server = `https://${host}:${apiPort}`;
    const plane = new ControlPlane(dir, server, join(dir, 'admin.kubeconfig'));
    try {
      await plane.boot(binaries, apiPort, host, options);
      return plane;
    } catch (error) {
      await plane.stop();
      throw error;
    }
  }

  private async boot(
    binaries: string,
    apiPort: number,
    host: string,
    options: ControlPlaneOptions,
  ): Promise<void> {
    const file = (name: string, content: string) => {
      const path = join(this.dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };
    const ca = await CertificateAuthority.create('agentrunbook-envtest-ca');
    this.ca = ca;
    const serving = await ca.issue({
      commonName: 'kube-apiserver',
      usage: 'server',
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      ipAddresses: [...new Set(['127.0.0.1', '10.0.0.1', host])],
    });
    const admin = await ca.issue({
      commonName: ADMIN_USER,
      organizations: ['system:masters'],
      usage: 'client',
    });
    const kcm = await ca.issue({ commonName: 'system:kube-controller-manager', usage: 'client' });
    const caFile = file('ca.crt', ca.certificatePem);
    this.caPem = ca.certificatePem;
    this.caFile = caFile;
    const saKeys = await signingKeyPairPem();
    const saKey = file('service-account.key', saKeys.privateKey);
    const saPub = file('service-account.pub', saKeys.publicKey);
    writeFileSync(
      this.adminKubeconfigPath,
      kubeconfigYaml(this.server, ca.certificatePem, ADMIN_USER, certificateCredentials(admin)),
      {
        mode: 0o600,
      },
    );
    const kcmKubeconfig = file(
      'kcm.kubeconfig',
      kubeconfigYaml(this.server, ca.certificatePem, 'kcm', certificateCredentials(kcm)),
    );

    const kubeletClientArgs: string[] = [];
    if (options.kubeletClient) {
      const client = await ca.issue({
        commonName: 'kube-apiserver-kubelet-client',
        organizations: ['system:masters'],
        usage: 'client',
      });
      kubeletClientArgs.push(
        `--kubelet-client-certificate=${file('kubelet-client.crt', client.certificate)}`,
        `--kubelet-client-key=${file('kubelet-client.key', client.privateKey)}`,
      );
    }

    const etcdPort = await freePort();
    this.etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerPort = await freePort();
    const etcd = this.spawn('etcd', join(binaries, 'etcd'), etcdPort, [
      '--name=envtest',
      `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=envtest=http://127.0.0.1:${peerPort}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    await waitReady(etcd, 'healthy', () => httpOk(httpRequest, `http://127.0.0.1:${etcdPort}/health`));

    const apiserver = this.spawn('kube-apiserver', join(binaries, 'kube-apiserver'), apiPort, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--bind-address=${host}`,
      `--advertise-address=${host}`,
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${file('apiserver.crt', serving.certificate)}`,
      `--tls-private-key-file=${file('apiserver.key', serving.privateKey)}`,
      `--client-ca-file=${caFile}`,
      `--authorization-mode=${options.authorizationMode ?? 'RBAC'}`,
      `--service-account-issuer=${this.server}`,
      `--service-account-key-file=${saPub}`,
      `--service-account-signing-key-file=${saKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      `--cert-dir=${join(this.dir, 'apiserver-certs')}`,
      '--profiling=false',
      '--v=1',
      ...kubeletClientArgs,
      ...(options.apiServerArgs ?? []),
    ]);
    const tls = { ca: ca.certificatePem, cert: admin.certificate, key: admin.privateKey };
    this.apiServerReady = () => httpOk(request, `${this.server}/readyz`, tls);
    await waitReady(apiserver, 'ready', this.apiServerReady);

    const kcmPort = await freePort();
    const controllerManager = this.spawn(
      'kube-controller-manager',
      join(binaries, 'kube-controller-manager'),
      kcmPort,
      [
        `--kubeconfig=${kcmKubeconfig}`,
        `--controllers=${(options.controllers ?? CONTROLLERS).join(',')}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${kcmPort}`,
        `--cert-dir=${join(this.dir, 'kcm-certs')}`,
        `--root-ca-file=${caFile}`,
        `--service-account-private-key-file=${saKey}`,
        '--use-service-account-credentials=true',
        '--v=1',
        ...(options.controllerManagerArgs ?? []),
      ],
    );
    await waitReady(controllerManager, 'healthy', () =>
      httpOk(request, `https://127.0.0.1:${kcmPort}/healthz`, { rejectUnauthorized: false }),
    );
  }

  private spawn(name: string, binary: string, port: number, args: string[]): ManagedProcess {
    const managed = new ManagedProcess(name, binary, args, port, join(this.dir, `${name}.log`));
    this.processes.push(managed);
    return managed;
  }

  /** A client configuration with cluster-admin rights. */
  adminConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromFile(this.adminKubeconfigPath);
    return kc;
  }

  /** Stops kube-apiserver and starts it again on the same port and storage, as an upgrade or a crash would. */
  async restartApiServer(): Promise<void> {
    const index = this.processes.findIndex((managed) => managed.name === 'kube-apiserver');
    const old = this.processes[index];
    if (!old) throw new Error('kube-apiserver is not running');
    await old.stop();
    const restarted = new ManagedProcess(old.name, old.binary, old.args, old.port, old.logPath);
    this.processes[index] = restarted;
    await waitReady(restarted, 'ready again', this.apiServerReady);
  }

  /** The raw value etcd stores under a key (etcd's JSON gateway), or undefined. */
  async etcdValue(key: string): Promise<string | undefined> {
    const response = await fetch(`${this.etcdUrl}/v3/kv/range`, {
      method: 'POST',
      body: JSON.stringify({ key: Buffer.from(key).toString('base64') }),
    });
    const body = (await response.json()) as { kvs?: { value: string }[] };
    const value = body.kvs?.[0]?.value;
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  }

  /** Writes a kubeconfig that authenticates with a bearer token (a ServiceAccount's, say) and returns its path. */
  kubeconfigForToken(name: string, token: string): string {
    const path = join(this.dir, `${name}.kubeconfig`);
    writeFileSync(path, kubeconfigYaml(this.server, this.caPem, name, { token }), { mode: 0o600 });
    return path;
  }

  /** Writes a kubeconfig that authenticates with a client certificate the cluster CA issues. */
  async kubeconfigForCertificate(
    name: string,
    commonName: string,
    organizations: string[] = [],
  ): Promise<string> {
    const client = await this.ca.issue({ commonName, organizations, usage: 'client' });
    const path = join(this.dir, `${name}.kubeconfig`);
    writeFileSync(path, kubeconfigYaml(this.server, this.caPem, name, certificateCredentials(client)), {
      mode: 0o600,
    });
    return path;
  }

  /** The process ID of each of its running processes (etcd, kube-apiserver, ...), by name. */
  get pids(): Map<string, number> {
    const pids = new Map<string, number>();
    for (const managed of this.processes) {
      if (managed.pid !== undefined && !managed.hasExited) pids.set(managed.name, managed.pid);
    }
    return pids;
  }

  /** Whether all of its processes are still running. */
  get running(): boolean {
    return this.processes.length > 0 && this.processes.every((managed) => !managed.hasExited);
  }

  /** Stops every process it started (newest first) and removes its temporary directory. */
  async stop(): Promise<void> {
    for (const managed of [...this.processes].reverse()) await managed.stop();
    this.processes.length = 0;
    if (!process.env.AGENTRUNBOOK_ENVTEST_KEEP) rmSync(this.dir, { recursive: true, force: true });
  }
}
