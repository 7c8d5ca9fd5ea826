/**
 * A real one-node cluster for `make e2e`: the test control plane plus containerd, runc, the CNI
 * bridge plugin, kube-scheduler and a kubelet, all on this machine (root needed). Pods get
 * addresses on a bridge of their own (10.244.0.0/24) and reach kube-apiserver at the bridge's
 * address; kube-apiserver reaches webhooks at their Pods' addresses (aggregator routing), so no
 * kube-proxy is needed. `stop()` removes every container, mount, network namespace and the bridge.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CONTROLLERS, ControlPlane } from './control-plane.js';
import { ManagedProcess } from './managed-process.js';
import { freePort } from './ports.js';
import { repoRoot } from './paths.js';
import { kubectl } from './tools.js';

const BRIDGE = 'arb0';
export const BRIDGE_ADDRESS = '10.244.0.1';
const POD_SUBNET = '10.244.0.0/24';
const PAUSE_IMAGE = 'localhost/agentrunbook-e2e/pause:1';
const NODE_NAME = 'localhost';
const NETNS_DIR = '/var/run/netns';

const run = (command: string, args: string[]) => execFileSync(command, args, { encoding: 'utf8' });
/** Runs a clean-up step whose failure (nothing to clean) is expected and not worth printing. */
const tryRun = (command: string, args: string[]) => {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
};

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function containerdConfig(dir: string): string {
  return `version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
[grpc]
  address = "${dir}/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # Without CAP_SYS_RESOURCE, runc may not lower oom_score_adj below the current value.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "${dir}/runc"
`;
}

function cniConfig(dir: string): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: 'agentrunbook-e2e',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: join(dir, 'cni-ipam'),
          ranges: [[{ subnet: POD_SUBNET, gateway: BRIDGE_ADDRESS }]],
        },
      },
    ],
  });
}

/** What a run that was killed before it could stop left behind: its node's mounts and its bridge. */
function removeLeftovers(): void {
  const stale = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => /^\/tmp\/agentrunbook-envtest-[^/]+\/node\//.test(point));
  for (const point of stale.sort((a, b) => b.length - a.length)) tryRun('umount', ['-l', point]);
  tryRun('ip', ['link', 'del', BRIDGE]);
}

export class RealCluster {
  private readonly processes: ManagedProcess[] = [];
  private readonly netnsBefore = new Set(existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR) : []);
  private dir = '';
  private socket = '';

  private constructor(readonly plane: ControlPlane) {}

  /** Starts the control plane and the node, and waits until the node is Ready. */
  static async start(log: (message: string) => void = () => undefined): Promise<RealCluster> {
    removeLeftovers();
    run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${BRIDGE_ADDRESS}/24`, 'dev', BRIDGE]);
    run('ip', ['link', 'set', BRIDGE, 'up']);
    log('control plane (etcd, kube-apiserver, kube-controller-manager) on the bridge address');
    let plane: ControlPlane;
    try {
      plane = await ControlPlane.start({
        host: BRIDGE_ADDRESS,
        kubeletClient: true,
        controllers: [
          ...CONTROLLERS,
          'deployment-controller',
          'replicaset-controller',
          'endpoints-controller',
          'endpointslice-controller',
          'disruption-controller',
          // Takes the not-ready taint off the node once the kubelet reports Ready.
          'node-lifecycle-controller',
          // Binds workspace claims to volumes, and lets a claim go once no Pod uses it.
          'persistentvolume-binder-controller',
          'persistentvolumeclaim-protection-controller',
          'persistentvolume-protection-controller',
        ],
        authorizationMode: 'Node,RBAC',
        apiServerArgs: ['--enable-aggregator-routing=true', '--kubelet-preferred-address-types=Hostname'],
      });
    } catch (error) {
      tryRun('ip', ['link', 'del', BRIDGE]);
      throw error;
    }
    const cluster = new RealCluster(plane);
    try {
      await cluster.startNode(log);
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  private spawn(name: string, binary: string, args: string[], port = 0): ManagedProcess {
    const managed = new ManagedProcess(name, binary, args, port, join(this.dir, `${name}.log`));
    this.processes.push(managed);
    return managed;
  }

  private async startNode(log: (message: string) => void): Promise<void> {
    const kubeBinaries = execFileSync(
      'bash',
      [join(repoRoot, 'hack', 'envtest.sh'), 'kubelet', 'kube-scheduler'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ).trim();
    this.dir = join(this.plane.dir, 'node');
    mkdirSync(join(this.dir, 'cni'), { recursive: true });
    writeFileSync(join(this.dir, 'containerd.toml'), containerdConfig(this.dir));
    writeFileSync(join(this.dir, 'cni', '10-agentrunbook-e2e.conflist'), cniConfig(this.dir));
    this.socket = join(this.dir, 'containerd.sock');

    log('containerd');
    const containerd = this.spawn('containerd', 'containerd', [
      '--config',
      join(this.dir, 'containerd.toml'),
    ]);
    await until('containerd', () => {
      if (containerd.hasExited) throw containerd.failure('exited');
      return tryRun('ctr', ['--address', this.socket, 'version']) !== undefined;
    });
    const pause = execFileSync('bash', [join(repoRoot, 'hack', 'e2e', 'prerequisites.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    this.importImage(pause, PAUSE_IMAGE);

    log('kube-scheduler');
    const schedulerPort = await freePort();
    this.spawn(
      'kube-scheduler',
      join(kubeBinaries, 'kube-scheduler'),
      [
        `--kubeconfig=${await this.plane.kubeconfigForCertificate('scheduler', 'system:kube-scheduler')}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${schedulerPort}`,
        '--v=1',
      ],
      schedulerPort,
    );

    log('kubelet');
    const kubeletPort = await freePort();
    const kubeletConfig = join(this.dir, 'kubelet.yaml');
    writeFileSync(
      kubeletConfig,
      stringify({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        address: '127.0.0.1',
        port: kubeletPort,
        readOnlyPort: 0,
        healthzBindAddress: '127.0.0.1',
        healthzPort: await freePort(),
        authentication: {
          anonymous: { enabled: false },
          webhook: { enabled: true },
          x509: { clientCAFile: this.plane.caFile },
        },
        authorization: { mode: 'Webhook' },
        cgroupDriver: 'cgroupfs',
        // This machine has cgroup v1 (hybrid); kubelet 1.34 refuses it unless told otherwise.
        failCgroupV1: false,
        failSwapOn: false,
        containerRuntimeEndpoint: `unix://${this.socket}`,
        imageServiceEndpoint: `unix://${this.socket}`,
        serializeImagePulls: false,
        evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
      }),
    );
    this.spawn(
      'kubelet',
      join(kubeBinaries, 'kubelet'),
      [
        `--config=${kubeletConfig}`,
        `--kubeconfig=${await this.plane.kubeconfigForCertificate('kubelet', `system:node:${NODE_NAME}`, ['system:nodes'])}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${BRIDGE_ADDRESS}`,
        `--root-dir=${join(this.dir, 'kubelet')}`,
        '--v=1',
      ],
      kubeletPort,
    );
    const admin = this.plane.adminKubeconfigPath;
    await until(
      'the node to register',
      async () => (await kubectl(admin, ['get', 'node', NODE_NAME])).code === 0,
    );
    const ready = await kubectl(admin, [
      'wait',
      '--for=condition=Ready',
      '--timeout=120s',
      `node/${NODE_NAME}`,
    ]);
    if (ready.code !== 0) throw new Error(`the node did not become Ready: ${ready.stderr}`);
  }

  /** Imports an OCI image archive into containerd's Kubernetes namespace under `reference`. */
  importImage(archive: string, reference: string): void {
    const [name = reference] = reference.split(/:(?=[^/:]+$)/);
    run('ctr', [
      '--address',
      this.socket,
      '-n',
      'k8s.io',
      'images',
      'import',
      '--base-name',
      name,
      '--digests',
      archive,
    ]);
    const listed = run('ctr', ['--address', this.socket, '-n', 'k8s.io', 'images', 'ls', '-q']);
    if (!listed.split('\n').includes(reference))
      throw new Error(`importing ${archive} gave ${listed}, not ${reference}`);
  }

  /** Stops everything it started and removes what the node left behind. */
  async stop(): Promise<void> {
    const byName = (name: string) => this.processes.find((managed) => managed.name === name);
    await byName('kubelet')?.stop();
    await byName('kube-scheduler')?.stop();
    // Containers outlive the kubelet and containerd (their shims keep them): remove them first.
    const runcRoot = join(this.dir, 'runc');
    for (const namespace of existsSync(runcRoot) ? readdirSync(runcRoot) : []) {
      const root = join(runcRoot, namespace);
      for (const id of (tryRun('runc', ['--root', root, 'list', '-q']) ?? '').split('\n').filter(Boolean)) {
        tryRun('runc', ['--root', root, 'delete', '--force', id]);
      }
    }
    await byName('containerd')?.stop();
    if (this.socket) tryRun('pkill', ['-KILL', '-f', `containerd-shim-runc-v2 .*-address ${this.socket}`]);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4] ?? '')
      .filter((point) => (this.dir && point.startsWith(this.dir)) || this.isOurNetns(point))
      .sort((a, b) => b.length - a.length);
    for (const point of mounts) tryRun('umount', ['-l', point]);
    for (const name of existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR) : []) {
      if (this.isOurNetns(join(NETNS_DIR, name))) rmSync(join(NETNS_DIR, name), { force: true });
    }
    tryRun('ip', ['link', 'del', BRIDGE]);
    await this.plane.stop();
  }

  /** A network namespace containerd made for this cluster's Pods (/var/run is /run here). */
  private isOurNetns(path: string): boolean {
    const match = /^(?:\/var)?\/run\/netns\/(cni-[^/]+)$/.exec(path);
    return match?.[1] !== undefined && !this.netnsBefore.has(match[1]);
  }
}
