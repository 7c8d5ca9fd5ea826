/**
 * `npm run bench`: the operator's speed on the local control plane, next to what the bed itself
 * allows. Not part of `make test`. For each setting of kube-controller-manager (its defaults,
 * then unthrottled) it starts a control plane and a fast fake node, and measures:
 * - the bed's Job-path ceiling: Jobs/s through kube-controller-manager with no operator;
 * - with the operator (built, run as its own process under its ServiceAccount): stage transitions/s,
 *   its reaction (dependency's Pod or Job done -> next Job created) at 1, 10 and 100 concurrent
 *   runbooks (at 100 also on the API server's clock, from its audit log, and in parts: the
 *   operator's, the API server's, the watch's), dependency Pod Succeeded -> next Pod, CPU ms and
 *   API requests per stage (from the API server's audit log), peak RSS; the CPU per stage of each
 *   process of the bed (etcd, the API server, kube-controller-manager, the bench) and how busy its
 *   cores were; then, through another such run, the watch floor (bench/watch-floor.ts), a process
 *   that only keeps the operator's informers: its CPU per stage and RSS after the run;
 * - on the first bed, what a stage whose result comes from the cache costs the operator (CPU, API
 *   requests) against one that runs;
 * - on the first bed, one runbook fanning out over 100 items (forEach): items/s against the bed's
 *   Job-path ceiling, CPU and API requests per item;
 * - on a bed of its own, finished runbooks stored (100, 1,000, 5,000, 10,000): the operator's
 *   start -> all reconciled, its idle RSS (at the last count also with its webhook thread), and a
 *   new runbook's create -> first Job among them; the watch floor's idle RSS beside it;
 * - in process: one reconcile's observe + decide with 25,000 Jobs and Pods cached.
 * Every figure carries the load average when it was taken. The results go to stdout as a
 * Markdown table and as JSON, and to dist/bench/ as JSON. Options: --runbooks N --stages M
 * --stored K,L,... --beds default,unthrottled,stored --quick, --no-metrics, --workers N, --profile
 * (the operator, run from dist/cli rather than the bundle, writes CPU profiles to dist/bench/profiles),
 * --node-options=FLAGS (for the operator's node, e.g. V8 heap settings to compare; default: the
 * chart's nodeOptions, as the operator runs in a cluster). The operator also gets the chart's
 * mallocArenaMax as MALLOC_ARENA_MAX.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { GROUP, PLURAL, STORAGE_VERSION } from '../src/api/group.js';
import { executionId } from '../src/engine/model/naming.js';
import { KubeHttp } from '../src/kube/http.js';
import { ADMIN_USER, ControlPlane } from '../hack/local-cluster/control-plane.js';
import { installOperator } from '../hack/local-cluster/install-operator.js';
import { ManagedProcess } from '../hack/local-cluster/managed-process.js';
import { repoRoot } from '../hack/local-cluster/paths.js';
import { freePort } from '../hack/local-cluster/ports.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from '../src/operator/rbac.js';
import { parse } from 'yaml';
import { build } from 'esbuild';
import { MEMORY_FIRST_V8_FLAGS } from '../src/cli/operator-command.js';
import {
  bedsOf,
  breakdown,
  figure,
  gained,
  histogramQuantile,
  auditedTimes,
  percentile,
  requestsOf,
  samples,
  storedCounts,
  table,
  total,
  type Figure,
  type Answered,
} from './figures.js';
import { FastNode } from './fast-node.js';
import { summarize, type CpuProfile } from './profile-summary.js';
import { reconcileCost } from './reconcile-cost.js';
import { Timeline } from './timeline.js';

/** A reaction on the API server's clock, and its parts, in ms (see Bed.gaps). */
interface ReactionParts {
  onCluster: number[];
  operator: number[];
  apiServer: number[];
  watch: number[];
}

/** What the audit log says of Job creates and Pod ends, by namespace/name. */
interface Audited {
  creates: Map<string, Answered>;
  podsEnded: Map<string, Answered>;
}

const { values: flags } = parseArgs({
  options: {
    runbooks: { type: 'string', default: '100' },
    stages: { type: 'string', default: '5' },
    stored: { type: 'string' },
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'node-options': { type: 'string' },
    beds: { type: 'string', default: 'default,unthrottled,stored' },
    // --no-metrics: the operator serves no metrics (they are on in the chart), to see what they cost.
    metrics: { type: 'boolean', default: true },
    // The operator's --workers (its default unless given).
    workers: { type: 'string' },
  },
  allowNegative: true,
});
/** The beds to measure (--beds default,unthrottled,stored): all of them unless told. */
const BEDS = bedsOf(flags.beds);
/** The V8 settings the chart gives the operator (values.yaml nodeOptions), unless told otherwise. */
const chartValues = parse(
  readFileSync(join(repoRoot, 'helm', 'agentrunbook-operator', 'values.yaml'), 'utf8'),
) as { nodeOptions?: string; mallocArenaMax?: number };
const NODE_OPTIONS = flags['node-options'] ?? chartValues.nodeOptions ?? '';
/** The chart's malloc arenas (values.yaml mallocArenaMax), set as the chart sets them. */
const OPERATOR_ENV: Record<string, string> = chartValues.mallocArenaMax
  ? { MALLOC_ARENA_MAX: String(chartValues.mallocArenaMax) }
  : {};
/** Where --profile's operator processes write their CPU profiles. */
const PROFILES = join(repoRoot, 'dist', 'bench', 'profiles');
const RUNBOOKS = Number(flags.runbooks);
const STAGES = Number(flags.stages);
const STORED = storedCounts(flags.stored ?? (flags.quick ? '100,1000' : '100,1000,5000,10000'));
const CEILING_JOBS = flags.quick ? 100 : 500;
const SEQUENTIAL_RUNS = flags.quick ? 3 : 10;
/** How long the operator sends nothing before a window that counts its requests and CPU ends. */
const QUIET_MS = 1000;
const JOB_CONTROLLER_REFILL_MS = 2000;
const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_NAME}`;
/** The fast node's user (the bed's admin): the audit log records its Pod status patches. */
const FAST_NODE_USER = ADMIN_USER;

const figures: Figure[] = [];

function record(name: string, value: number, unit: string, target?: { text: string; met: boolean }): void {
  const taken = figure(name, value, unit, loadavg(), target);
  figures.push(taken);
  const mark = target ? ` (target ${target.text}: ${target.met ? 'met' : 'NOT met'})` : '';
  console.log(`  ${name}: ${taken.value} ${unit}  [load ${taken.load.join(' ')}]${mark}`);
}

/** CPU time (user + system) of a process, in ms, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100;
}

/** CPU time of each of a process's threads, in ms, summed by thread name (the webhook's, V8's, libuv's). */
function cpuMsByThread(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
      byName.set(name, (byName.get(name) ?? 0) + ms);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byName;
}

/** Per stage, what each thread name spent between two readings, largest first. */
function threadShares(before: Map<string, number>, after: Map<string, number>, stages: number): string {
  return [...after]
    .map(([name, ms]) => [name, (ms - (before.get(name) ?? 0)) / stages] as const)
    .filter(([, ms]) => ms > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, ms]) => `${name} ${ms.toFixed(2)} ms`)
    .join(', ');
}

/** Resident and peak resident memory of a process, in MB, from /proc. */
function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 'NaN');
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Resolves once `text` is in the process's log past offset `from`; fails if it exits or a minute passes. */
async function untilLogged(
  child: ManagedProcess,
  logPath: string,
  from: number,
  text: string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  const logged = () => existsSync(logPath) && readFileSync(logPath, 'utf8').slice(from).includes(text);
  while (!logged()) {
    if (child.hasExited || Date.now() > deadline) throw child.failure('did not start');
    await delay(20);
  }
}

let watchFloorBuilt: Promise<string> | undefined;

/** bench/watch-floor.ts bundled once into dist/bench, so that it runs compiled, as the operator does. */
function watchFloorScript(): Promise<string> {
  const outfile = join(repoRoot, 'dist', 'bench', 'watch-floor.mjs');
  watchFloorBuilt ??= build({
    entryPoints: [join(repoRoot, 'bench', 'watch-floor.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    outfile,
    logLevel: 'warning',
  }).then(() => outfile);
  return watchFloorBuilt;
}

/** The times of the operator's Job creates and the fast node's Pod ends in audit log lines. */
function audited(auditLines: string): Audited {
  return {
    creates: auditedTimes(auditLines, OPERATOR_USER, 'create', 'jobs'),
    podsEnded: auditedTimes(auditLines, FAST_NODE_USER, 'patch', 'pods/status'),
  };
}

/** Requests the operator made, from the audit log after an offset; watches not counted. */
function operatorRequests(auditLog: string, from: number) {
  return requestsOf(readFileSync(auditLog, 'utf8').slice(from), OPERATOR_USER);
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++];
        if (item !== undefined) await work(item);
      }
    }),
  );
}

const stageNames = Array.from({ length: STAGES }, (_, i) => `s${i + 1}`);

/** An AgentRunbook of the bench's, with this execution and these stages. */
function runbookObject(namespace: string, name: string, execution: object, pipeline: object[]) {
  return {
    apiVersion: `${GROUP}/${STORAGE_VERSION}`,
    kind: 'AgentRunbook',
    metadata: { name, namespace },
    spec: { version: '1.0.0', execution, agents: { pipeline } },
  };
}

/** A runbook of STAGES stages in a line; `cached`: each stage's result cached (a parameter tells them apart). */
function runbook(namespace: string, name: string, cached = false) {
  return runbookObject(
    namespace,
    name,
    { mode: 'pipeline', ...(cached ? { cache: { maxAge: '1h' } } : {}) },
    stageNames.map((stage) => ({
      name: stage,
      agent: 'bench',
      ...(cached ? { config: { parameters: { step: stage } } } : {}),
    })),
  );
}

/** How many items the fan-out figure's one forEach stage runs. */
const FAN_OUT_ITEMS = 100;

/** One runbook whose one stage fans out over FAN_OUT_ITEMS items, all allowed to run at once. */
function fanOutRunbook(namespace: string, name: string) {
  return runbookObject(namespace, name, { mode: 'hybrid', parallelism: FAN_OUT_ITEMS }, [
    {
      name: 'each',
      agent: 'bench',
      forEach: Array.from({ length: FAN_OUT_ITEMS }, (_, index) => `item-${index}`),
      maxParallel: FAN_OUT_ITEMS,
      config: { inputs: { item: '${item}' } },
    },
  ]);
}

class Bed {
  private operator: ManagedProcess | undefined;
  private metricsPort: number | undefined;
  /** When each runbook's create was answered, by namespace/name. */
  private readonly createdAt = new Map<string, number>();
  private constructor(
    readonly label: string,
    readonly plane: ControlPlane,
    readonly http: KubeHttp,
    readonly node: FastNode,
    readonly timeline: Timeline,
    readonly operatorKubeconfig: string,
    readonly auditLog: string,
    readonly configPath: string,
  ) {}

  static async start(label: string, controllerManagerArgs: string[]): Promise<Bed> {
    const dir = join(repoRoot, 'dist', 'bench');
    mkdirSync(dir, { recursive: true });
    const policy = join(dir, 'audit-policy.yaml');
    writeFileSync(
      policy,
      [
        'apiVersion: audit.k8s.io/v1',
        'kind: Policy',
        'omitStages: [RequestReceived]',
        'rules:',
        '  - level: Metadata',
        `    users: ["${OPERATOR_USER}"]`,
        // When each Pod ended, on the API server's clock (the reaction's start).
        '  - level: Metadata',
        `    users: ["${FAST_NODE_USER}"]`,
        '    verbs: [patch]',
        '    resources: [{ group: "", resources: [pods/status] }]',
        '  - level: None',
        '',
      ].join('\n'),
    );
    const auditLog = join(dir, `audit-${label}.log`);
    writeFileSync(auditLog, '');
    const plane = await ControlPlane.start({
      controllerManagerArgs,
      apiServerArgs: [
        `--audit-policy-file=${policy}`,
        `--audit-log-path=${auditLog}`,
        '--audit-log-format=json',
      ],
    });
    const http = new KubeHttp(plane.adminConfig());
    const node = new FastNode(http);
    const timeline = new Timeline(http);
    // The timeline watches runbooks: the CRD comes first.
    const operatorKubeconfig = await installOperator(plane);
    await Promise.all([node.start(), timeline.start()]);
    const configPath = join(dir, 'operator-config.yaml');
    writeFileSync(configPath, 'agents:\n  - name: bench\n    image: bench:0\n');
    return new Bed(label, plane, http, node, timeline, operatorKubeconfig, auditLog, configPath);
  }

  async namespace(name: string): Promise<void> {
    await this.http.request({ method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name } } });
    // Pods need the namespace's default ServiceAccount, which a controller creates.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await this.http.request({
          method: 'GET',
          path: `/api/v1/namespaces/${name}/serviceaccounts/default`,
        });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Creates a runbook (an object of runbookObject's) in `namespace`; resolves with what was stored. */
  createRunbook(namespace: string, body: object): Promise<{ metadata: Record<string, unknown> }> {
    return this.http.request({
      method: 'POST',
      path: `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${PLURAL}`,
      body,
    });
  }

  /** Waits until the Job controller has caught up: no Pod still carries its tracking finalizer. */
  settle(): Promise<void> {
    return this.timeline.until(
      'the Job controller to catch up',
      () => this.timeline.podsTracked() === 0,
      600_000,
    );
  }

  /**
   * Resolves once the audit log has grown by nothing for QUIET_MS: it records the operator's
   * requests and, besides, only the fast node's Pod ends, which stop with the runs. So a window
   * does not end while the operator's Event queue still sends what the window's runs recorded,
   * which the next window would count.
   */
  async operatorQuiet(): Promise<void> {
    const deadline = performance.now() + 60_000;
    let size = statSync(this.auditLog).size;
    let since = performance.now();
    while (performance.now() - since < QUIET_MS) {
      if (performance.now() > deadline) throw new Error('the operator did not stop sending requests');
      await delay(50);
      const now = statSync(this.auditLog).size;
      if (now !== size) [size, since] = [now, performance.now()];
    }
  }

  /** Jobs/s through kube-controller-manager alone: N Jobs created at once until all Complete. */
  async jobCeiling(): Promise<number> {
    const namespace = `ceiling-${this.label}`;
    await this.namespace(namespace);
    const names = Array.from({ length: CEILING_JOBS }, (_, i) => `job-${i}`);
    const started = performance.now();
    await inParallel(names, 32, (name) =>
      this.http.request({
        method: 'POST',
        path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
        body: {
          metadata: { name },
          spec: {
            backoffLimit: 0,
            template: { spec: { restartPolicy: 'Never', containers: [{ name: 'agent', image: 'bench:0' }] } },
          },
        },
      }),
    );
    await this.timeline.until(
      'the ceiling Jobs to complete',
      () => names.every((name) => this.timeline.plainJobsDone.has(`${namespace}/${name}`)),
      600_000,
    );
    return CEILING_JOBS / ((performance.now() - started) / 1000);
  }

  get logPath(): string {
    return join(this.plane.dir, 'operator.log');
  }

  /**
   * Starts the operator (with `webhook`, serving its webhooks on loopback as `make demo` does);
   * resolves with when it was started and where its log then ended.
   */
  async startOperator(
    extraArgs: string[] = [],
    { webhook = false } = {},
  ): Promise<{ started: number; from: number }> {
    const port = await freePort();
    const webhookPort = webhook ? await freePort() : undefined;
    this.metricsPort = flags.metrics ? await freePort() : undefined;
    const { logPath } = this;
    const from = existsSync(logPath) ? statSync(logPath).size : 0;
    const started = performance.now();
    this.operator = new ManagedProcess(
      'operator',
      process.execPath,
      [
        ...NODE_OPTIONS.split(' ').filter(Boolean),
        ...(flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`] : []),
        // As the operator image runs it (hack/build-operator.ts); profiled, the compiled modules,
        // so that the profile names src/ files and functions.
        join(repoRoot, 'dist', ...(flags.profile ? ['cli', 'main.js'] : ['bundle', 'main.js'])),
        'operator',
        `--kubeconfig=${this.operatorKubeconfig}`,
        `--config=${this.configPath}`,
        ...(webhookPort
          ? [
              `--webhook-bind-address=127.0.0.1:${webhookPort}`,
              `--webhook-url=https://127.0.0.1:${webhookPort}`,
            ]
          : ['--no-webhook']),
        `--health-probe-bind-address=127.0.0.1:${port}`,
        `--metrics-bind-address=${this.metricsPort ? `127.0.0.1:${this.metricsPort}` : '0'}`,
        ...(flags.workers ? [`--workers=${flags.workers}`] : []),
        ...extraArgs,
      ],
      port,
      logPath,
      OPERATOR_ENV,
    );
    await untilLogged(this.operator, logPath, from, 'operator started');
    return { started, from };
  }

  /**
   * Starts the watch floor (bench/watch-floor.ts) beside the operator, with the operator's
   * kubeconfig, Node.js options, V8 flags and environment; resolves once its caches are filled.
   */
  async startWatchFloor(): Promise<ManagedProcess> {
    const logPath = join(this.plane.dir, 'watch-floor.log');
    const from = existsSync(logPath) ? statSync(logPath).size : 0;
    const floor = new ManagedProcess(
      'watch-floor',
      process.execPath,
      [
        ...NODE_OPTIONS.split(' ').filter(Boolean),
        ...MEMORY_FIRST_V8_FLAGS,
        await watchFloorScript(),
        this.operatorKubeconfig,
      ],
      0,
      logPath,
      OPERATOR_ENV,
    );
    await untilLogged(floor, logPath, from, 'watching');
    return floor;
  }

  /** Runbooks whose key starts with `prefix` the operator has reconciled since log offset `from` (its debug lines). */
  reconciledSince(from: number, prefix: string): number {
    const seen = new Set<string>();
    for (const line of readFileSync(this.logPath, 'utf8').slice(from).split('\n')) {
      if (!line.includes('"message":"reconciled"')) continue;
      const runbook = (JSON.parse(line) as { runbook?: string }).runbook ?? '';
      if (runbook.startsWith(prefix)) seen.add(runbook);
    }
    return seen.size;
  }

  /** The operator's metrics, as Prometheus scrapes them. */
  async scrape(): Promise<Map<string, number>> {
    if (!this.metricsPort) return new Map();
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`);
    return samples(await response.text());
  }

  /**
   * CPU ms so far of each process of the bed but the operator: the control plane's, and this one
   * (the fast fake node and the timeline's watches).
   */
  cpuByProcess(): Map<string, number> {
    const spent = new Map<string, number>();
    for (const [name, pid] of this.plane.pids) spent.set(name, cpuMs(pid));
    spent.set('the bench (fake node, timeline)', cpuMs(process.pid));
    return spent;
  }

  get operatorPid(): number {
    const pid = this.operator?.pid;
    if (pid === undefined) throw new Error('the operator is not running');
    return pid;
  }

  async stopOperator(): Promise<void> {
    await this.operator?.stop();
    this.operator = undefined;
  }

  /**
   * Runs `count` runbooks at once in a fresh namespace (or, with `again`, in one that exists under
   * new names); resolves with their names when all succeeded.
   */
  async run(namespace: string, count: number, { cached = false, again = false } = {}): Promise<string[]> {
    if (!again) await this.namespace(namespace);
    const names = Array.from({ length: count }, (_, i) => `${again ? 'again' : 'rb'}-${i}`);
    await inParallel(names, 32, async (name) => {
      await this.createRunbook(namespace, runbook(namespace, name, cached));
      this.createdAt.set(`${namespace}/${name}`, performance.now());
    });
    await this.timeline.until(
      `${count} runbooks in ${namespace} to succeed`,
      () =>
        names.every(
          (name) => this.timeline.runbooks.get(`${namespace}/${name}`)?.status?.phase === 'Succeeded',
        ),
      900_000,
    );
    return names;
  }

  /** Runs the fan-out runbook in a fresh namespace; resolves with its seconds from create to Succeeded. */
  async runFanOut(namespace: string): Promise<number> {
    await this.namespace(namespace);
    const started = performance.now();
    await this.createRunbook(namespace, fanOutRunbook(namespace, 'fan'));
    await this.timeline.until(
      `the ${FAN_OUT_ITEMS}-item fan-out in ${namespace} to succeed`,
      () => this.timeline.runbooks.get(`${namespace}/fan`)?.status?.phase === 'Succeeded',
      900_000,
    );
    return (performance.now() - started) / 1000;
  }

  /**
   * Reaction (dependency done -> next Job) and Pod-to-Pod gaps of the given runbooks, in ms, as
   * the bench's watches saw them. With the audit log's times of the operator's Job creates and the
   * fast node's Pod ends: the reaction on the API server's clock (the dependency's Pod Succeeded
   * stored -> the next Job created, without the watches' delays), and in three parts: the
   * dependency done as the bench saw it -> the next Job's create received by the API server (the
   * event's way to the operator, its queue and reconcile), the create received -> answered (the
   * API server), answered -> the Job seen by the bench (the watch).
   */
  gaps(
    namespace: string,
    names: string[],
    audit: Audited = { creates: new Map(), podsEnded: new Map() },
  ): { reaction: number[]; podToPod: number[]; slowest: string; parts: ReactionParts } {
    const timed: { ms: number; at: number; stage: number }[] = [];
    const parts: ReactionParts = { onCluster: [], operator: [], apiServer: [], watch: [] };
    // The timeline's clock is performance.now(); the audit log's, the wall clock.
    const wall = (ms: number) => performance.timeOrigin + ms;
    let first = Infinity;
    const podToPod: number[] = [];
    for (const name of names) {
      for (let i = 1; i < stageNames.length; i += 1) {
        const before = this.timeline.stage(namespace, name, stageNames[i - 1] ?? '');
        const after = this.timeline.stage(namespace, name, stageNames[i] ?? '');
        const done = Math.min(before?.podDone ?? Infinity, before?.jobDone ?? Infinity);
        if (i === 1 && before?.jobAdded !== undefined) first = Math.min(first, before.jobAdded);
        const create = audit.creates.get(`${namespace}/${after?.job ?? ''}`);
        const ended = audit.podsEnded.get(`${namespace}/${before?.pod ?? ''}`);
        if (create && ended) parts.onCluster.push(create.answered - ended.answered);
        if (after?.jobAdded !== undefined && Number.isFinite(done)) {
          timed.push({ ms: after.jobAdded - done, at: done, stage: i });
          if (create) {
            parts.operator.push(create.received - wall(done));
            parts.apiServer.push(create.answered - create.received);
            parts.watch.push(wall(after.jobAdded) - create.answered);
          }
        }
        if (after?.podAdded !== undefined && before?.podDone !== undefined)
          podToPod.push(after.podAdded - before.podDone);
      }
    }
    const reaction = timed.map((t) => t.ms);
    const slowest = timed
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 8)
      .map((t) => `${Math.round(t.ms)} ms at ${((t.at - first) / 1000).toFixed(1)} s (stage ${t.stage + 1})`)
      .join(', ');
    return { reaction, podToPod, slowest, parts };
  }

  /** Ms from each runbook's create (answered) to its first Job's appearing, as watched. */
  starts(namespace: string, names: string[]): number[] {
    return names.flatMap((name) => {
      const created = this.createdAt.get(`${namespace}/${name}`);
      const first = this.timeline.stage(namespace, name, stageNames[0] ?? '')?.jobAdded;
      return created === undefined || first === undefined ? [] : [first - created];
    });
  }

  /** A new runbook in a fresh namespace: ms from its create to its first Job's, as watched. */
  async firstJobLatency(namespace: string): Promise<number> {
    await this.namespace(namespace);
    const created = performance.now();
    await this.createRunbook(namespace, runbook(namespace, 'probe'));
    await this.timeline.until(
      `the first Job of ${namespace}/probe`,
      () => this.timeline.stage(namespace, 'probe', stageNames[0] ?? '')?.jobAdded !== undefined,
      60_000,
    );
    return (this.timeline.stage(namespace, 'probe', stageNames[0] ?? '')?.jobAdded ?? Number.NaN) - created;
  }

  /** Stores finished runbooks (status written as a past run left it, without observedGeneration). */
  async storeFinished(namespace: string, count: number): Promise<string[]> {
    await this.namespace(namespace);
    const names = Array.from({ length: count }, (_, i) => `done-${i}`);
    const now = new Date().toISOString();
    await inParallel(names, 32, async (name) => {
      const created = await this.createRunbook(namespace, runbook(namespace, name));
      await this.http.request({
        method: 'PUT',
        path: `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${PLURAL}/${name}/status`,
        body: {
          ...runbook(namespace, name),
          metadata: created.metadata,
          status: {
            phase: 'Succeeded',
            execution: executionId(1, undefined),
            startTime: now,
            completionTime: now,
            stages: stageNames.map((stage) => ({
              name: stage,
              workflow: 'main',
              phase: 'Succeeded',
              attempt: 1,
            })),
            conditions: [],
          },
        },
      });
    });
    return names;
  }

  async stop(): Promise<void> {
    await this.stopOperator();
    this.node.stop();
    this.timeline.stop();
    this.http.close();
    await this.plane.stop();
  }
}

async function measureBed(label: string, controllerManagerArgs: string[], first: boolean): Promise<void> {
  console.log(
    `\n== bed: kube-controller-manager ${label} (${controllerManagerArgs.join(' ') || 'defaults'}) ==`,
  );
  const bed = await Bed.start(label, controllerManagerArgs);
  try {
    await bed.startOperator();
    const pid = bed.operatorPid;

    const sequential: { reaction: number[]; podToPod: number[] } = { reaction: [], podToPod: [] };
    for (let i = 0; i < SEQUENTIAL_RUNS; i += 1) {
      // One runbook alone is the figure of a cluster that is not busy: each run starts with
      // kube-controller-manager's client token bucket full (a run's 5 Jobs spend its burst of 30
      // requests; at 20/s it refills in 1.5 s). Back to back, from the fourth run on, the Job
      // controller's rate limit would be measured instead (about 230 ms per Pod, run after run).
      if (i > 0) await delay(JOB_CONTROLLER_REFILL_MS);
      const namespace = `one-${label}-${i}`;
      const gaps = bed.gaps(namespace, await bed.run(namespace, 1));
      sequential.reaction.push(...gaps.reaction);
      sequential.podToPod.push(...gaps.podToPod);
    }
    reactionFigures(`${label}: 1 runbook`, sequential.reaction);
    const podP50 = percentile(sequential.podToPod, 50);
    record(`${label}: dependency Pod Succeeded -> next Pod, 1 runbook, p50`, podP50, 'ms', {
      text: '<= 150 ms',
      met: podP50 <= 150,
    });

    await bed.settle();
    const ten = `ten-${label}`;
    reactionFigures(`${label}: 10 runbooks`, bed.gaps(ten, await bed.run(ten, 10)).reaction);

    await bed.settle();
    const many = `many-${label}`;
    const bedBefore = bed.cpuByProcess();
    const cpuBefore = cpuMs(pid);
    const threadsBefore = cpuMsByThread(pid);
    const auditFrom = statSync(bed.auditLog).size;
    const metricsBefore = await bed.scrape();
    const started = performance.now();
    const names = await bed.run(many, RUNBOOKS);
    const seconds = (performance.now() - started) / 1000;
    await bed.operatorQuiet();
    const windowSeconds = (performance.now() - started) / 1000;
    const metrics = gained(await bed.scrape(), metricsBefore);
    const stages = RUNBOOKS * STAGES;
    const transitions = stages / seconds;
    const cpu = (cpuMs(pid) - cpuBefore) / stages;
    const bedAfter = bed.cpuByProcess();
    const threadsAfter = cpuMsByThread(pid);
    const auditLines = readFileSync(bed.auditLog, 'utf8').slice(auditFrom);
    const requests = requestsOf(auditLines, OPERATOR_USER);
    const { peak, rss } = memoryMb(pid);
    const manyGaps = bed.gaps(many, names, audited(auditLines));
    reactionFigures(`${label}: ${RUNBOOKS} runbooks`, manyGaps.reaction, true);
    console.log(`    slowest reactions, from the first Job: ${manyGaps.slowest}`);
    const { onCluster, operator, apiServer, watch } = manyGaps.parts;
    reactionFigures(`${label}: ${RUNBOOKS} runbooks, on the API server's clock`, onCluster, true);
    for (const [part, samples] of [
      ['dependency done -> next Job create received by the API server', operator],
      ["the Job create in the API server (received -> answered, its audit log's times)", apiServer],
      ['Job create answered -> seen by a watch', watch],
    ] as const) {
      for (const p of [50, 99]) {
        record(
          `${label}: ${RUNBOOKS} runbooks: reaction's part: ${part}, p${p}`,
          percentile(samples, p),
          'ms',
        );
      }
    }
    // What a burst of new runbooks waits for its start (they are started a few at a time).
    const starts = bed.starts(many, names);
    for (const p of [50, 99]) {
      record(
        `${label}: ${RUNBOOKS} runbooks created at once: create -> first Job, p${p}`,
        percentile(starts, p),
        'ms',
      );
    }
    // kube-controller-manager at its defaults paces the operator's work: its CPU per stage is higher.
    const cpuTarget = first ? 8 : 5;
    record(`${label}: operator CPU per stage`, cpu, 'ms', {
      text: `<= ${cpuTarget} ms`,
      met: cpu <= cpuTarget,
    });
    console.log(`    CPU per stage by thread: ${threadShares(threadsBefore, threadsAfter, stages)}`);
    // What binds first: each process of the bed, per stage, and how busy they kept its cores.
    let busyMs = cpu * stages;
    for (const [name, after] of bedAfter) {
      const spent = after - (bedBefore.get(name) ?? after);
      busyMs += spent;
      record(`${label}: ${name} CPU per stage`, spent / stages, 'ms');
    }
    record(
      `${label}: the bed's cores busy over the run (the operator and the above)`,
      (100 * busyMs) / (windowSeconds * 1000 * availableParallelism()),
      '%',
    );
    record(`${label}: operator API requests per stage (all but watches)`, requests.all / stages, 'requests', {
      text: '<= 3',
      met: requests.all / stages <= 3,
    });
    record(`${label}: operator API writes per stage`, requests.writes / stages, 'requests');
    console.log(`    per stage: ${breakdown(requests.by, stages)}`);
    // Where a reaction's time goes: waiting in the queue, or in the reconcile (its API requests).
    for (const q of [0.5, 0.99]) {
      const p = `p${q * 100}`;
      record(
        `${label}: ${RUNBOOKS} runbooks: a key's wait in the queue, ${p} (bucket bound)`,
        histogramQuantile(metrics, 'workqueue_queue_duration_seconds', q) * 1000,
        'ms',
      );
      record(
        `${label}: ${RUNBOOKS} runbooks: one reconcile, ${p} (bucket bound)`,
        histogramQuantile(metrics, 'controller_runtime_reconcile_time_seconds', q) * 1000,
        'ms',
      );
    }
    record(
      `${label}: ${RUNBOOKS} runbooks: reconciles per stage`,
      total(metrics, 'controller_runtime_reconcile_total') / stages,
      'reconciles',
    );
    record(
      `${label}: ${RUNBOOKS} runbooks: status updates refused as stale (409) per stage`,
      requests.conflicts / stages,
      'requests',
    );
    record(`${label}: operator peak RSS`, peak, 'MB', { text: '<= 110 MB', met: peak <= 110 });
    record(`${label}: operator RSS after the run`, rss, 'MB');
    await measureWatchFloor(bed, label);

    if (first) await measureCache(bed, { cpu, requests: requests.all / stages });
    const fanOut = first ? await measureFanOut(bed) : undefined;

    // The ceiling is measured after the operator's runs, on a bed that has caught up with them.
    await bed.stopOperator();
    if (flags.profile) printProfile(label, pid);
    await bed.settle();
    const ceiling = await bed.jobCeiling();
    record(`${label}: bed Job-path ceiling (${CEILING_JOBS} Jobs, no operator)`, ceiling, 'Jobs/s');
    record(`${label}: stage transitions (${RUNBOOKS} x ${STAGES})`, transitions, 'stages/s', {
      text: `>= 90 % of the ceiling (${Math.round(ceiling * 0.9 * 10) / 10})`,
      met: transitions >= ceiling * 0.9,
    });
    if (fanOut) {
      record(`${label}: a ${FAN_OUT_ITEMS}-item forEach, items to Succeeded`, fanOut, 'stages/s', {
        text: `against the Job-path ceiling (${Math.round(ceiling * 10) / 10} Jobs/s)`,
        met: fanOut >= ceiling * 0.9,
      });
    }
  } finally {
    await bed.stop();
  }
}

/**
 * The watch floor (bench/watch-floor.ts) through another 100 x 5 run, on its own so that its load
 * on the bed does not weigh on the operator's figures above: its CPU per stage and RSS after.
 */
async function measureWatchFloor(bed: Bed, label: string): Promise<void> {
  await bed.settle();
  const floor = await bed.startWatchFloor();
  const pid = floor.pid ?? 0;
  const before = cpuMs(pid);
  await bed.run(`floor-${label}`, RUNBOOKS);
  const perStage = (cpuMs(pid) - before) / (RUNBOOKS * STAGES);
  // Not its peak: started on a bed with the earlier runs' Jobs and Pods, its first list is that.
  const rss = memoryMb(pid).rss;
  await floor.stop();
  record(`${label}: a process that only watches what the operator watches: CPU per stage`, perStage, 'ms');
  record(`${label}: a process that only watches what the operator watches: RSS after the run`, rss, 'MB');
}

/**
 * What a stage costs the operator when its result comes from the cache, against one that runs:
 * the same runbooks, cached, run twice in one namespace (first they run and store, then they all
 * reuse), CPU and API requests per stage of each pass.
 */
async function measureCache(bed: Bed, ran: { cpu: number; requests: number }): Promise<void> {
  const pid = bed.operatorPid;
  const namespace = `cache-${bed.label}`;
  const stages = RUNBOOKS * STAGES;
  const pass = async (again: boolean) => {
    await bed.settle();
    const cpuBefore = cpuMs(pid);
    const auditFrom = statSync(bed.auditLog).size;
    await bed.run(namespace, RUNBOOKS, { cached: true, again });
    await bed.operatorQuiet();
    const requests = operatorRequests(bed.auditLog, auditFrom);
    console.log(`    ${again ? 'reused' : 'run and stored'}, per stage: ${breakdown(requests.by, stages)}`);
    return { cpu: (cpuMs(pid) - cpuBefore) / stages, requests: requests.all / stages };
  };
  const stored = await pass(false);
  const reused = await pass(true);
  const label = `${bed.label}: ${RUNBOOKS} x ${STAGES} cached`;
  record(`${label}, first pass (run and stored): operator CPU per stage`, stored.cpu, 'ms');
  record(`${label}, first pass (run and stored): API requests per stage`, stored.requests, 'requests');
  record(`${label}, second pass (reused): operator CPU per stage`, reused.cpu, 'ms', {
    text: `< a stage that runs (${Math.round(ran.cpu * 100) / 100} ms)`,
    met: reused.cpu < ran.cpu,
  });
  record(`${label}, second pass (reused): API requests per stage`, reused.requests, 'requests', {
    text: `< a stage that runs (${Math.round(ran.requests * 100) / 100})`,
    met: reused.requests < ran.requests,
  });
}

/** One runbook fanning out over FAN_OUT_ITEMS items: its items/s, CPU and API requests per item. */
async function measureFanOut(bed: Bed): Promise<number> {
  await bed.settle();
  const pid = bed.operatorPid;
  const cpuBefore = cpuMs(pid);
  const auditFrom = statSync(bed.auditLog).size;
  const seconds = await bed.runFanOut(`fan-${bed.label}`);
  await bed.operatorQuiet();
  const label = `${bed.label}: a ${FAN_OUT_ITEMS}-item forEach`;
  record(`${label}, create -> Succeeded`, seconds, 's');
  record(`${label}: operator CPU per item`, (cpuMs(pid) - cpuBefore) / FAN_OUT_ITEMS, 'ms');
  record(
    `${label}: API requests per item`,
    operatorRequests(bed.auditLog, auditFrom).all / FAN_OUT_ITEMS,
    'requests',
  );
  return FAN_OUT_ITEMS / seconds;
}

/**
 * How long the operator is left alone before its idle memory is read (V8 shrinks its heap when
 * idle), its CPU counted over that time; and how long it is given first: after a burst, V8's
 * memory reducer collects garbage for some seconds (more so with --optimize-for-size).
 */
const IDLE_MS = 10_000;
const SETTLE_MS = 20_000;

/**
 * Finished runbooks stored, in growing numbers, on a bed of their own: at each count the operator
 * is started twice (the first start records each new runbook's revision and status once; the
 * second finds them current, as a restarted operator does), and measured on the second: start ->
 * all reconciled, idle RSS, and a new runbook's create -> first Job. At the last count the
 * operator is started once more with its webhooks, for the webhook thread's share.
 */
async function measureStored(counts: number[]): Promise<void> {
  console.log(`\n== bed: finished runbooks stored (${counts.join(', ')}) ==`);
  const bed = await Bed.start('stored', []);
  const prefix = 'stored-';
  try {
    const keys: string[] = [];
    let idleWithout = 0;
    for (const count of counts) {
      const namespace = `${prefix}${count}`;
      const names = await bed.storeFinished(namespace, count - keys.length);
      keys.push(...names.map((name) => `${namespace}/${name}`));
      const label = `${count.toLocaleString('en')} stored runbooks`;
      const first = await bed.startOperator();
      // Checked on every event: it stops at the first runbook not reconciled yet.
      await bed.timeline.until(
        `${count} stored runbooks to be reconciled`,
        () => keys.every((key) => bed.timeline.runbooks.get(key)?.status?.observedGeneration === 1),
        900_000,
      );
      record(
        `${label}: first start, each new one written once -> all reconciled`,
        (performance.now() - first.started) / 1000,
        's',
      );
      record(`${label}: operator peak RSS during that`, memoryMb(bed.operatorPid).peak, 'MB');
      await bed.stopOperator();

      const restart = await bed.startOperator(['--log-level=debug']);
      const deadline = Date.now() + 900_000;
      while (bed.reconciledSince(restart.from, prefix) < count) {
        if (Date.now() > deadline)
          throw new Error(`the restarted operator did not reconcile ${count} runbooks`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const startS = (performance.now() - restart.started) / 1000;
      record(
        `${label}: operator start -> all reconciled`,
        startS,
        's',
        count === 5000 ? { text: '<= 5 s', met: startS <= 5 } : undefined,
      );
      // A moment for the start's last writes to settle, then a window with nothing to do. The
      // watch floor starts after the operator has reconciled all, and settles with it.
      const floor = await bed.startWatchFloor();
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const idleFrom = cpuMs(bed.operatorPid);
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      record(`${label}: operator CPU, idle`, (cpuMs(bed.operatorPid) - idleFrom) / (IDLE_MS / 1000), 'ms/s');
      const idle = memoryMb(bed.operatorPid).rss;
      const floorIdle = memoryMb(floor.pid ?? 0).rss;
      await floor.stop();
      idleWithout = idle;
      const idleTarget = count === 100 ? 70 : count === 5000 ? 200 : undefined;
      record(
        `${label}: operator RSS, idle after start`,
        idle,
        'MB',
        idleTarget ? { text: `<= ${idleTarget} MB`, met: idle <= idleTarget } : undefined,
      );
      record(`${label}: a process that only watches what the operator watches: RSS, idle`, floorIdle, 'MB');
      record(
        `${label}: a new runbook, create -> first Job created`,
        await bed.firstJobLatency(`probe-${count}`),
        'ms',
      );
      await bed.stopOperator();
    }
    // Last: the webhooks it registers answer only while it runs, and a runbook's create needs them.
    const label = `${counts.at(-1)?.toLocaleString('en')} stored runbooks`;
    await bed.startOperator([], { webhook: true });
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const withWebhook = memoryMb(bed.operatorPid).rss;
    record(`${label}: operator RSS, idle, with its webhook thread`, withWebhook, 'MB');
    record(`${label}: the webhook thread's share of it`, withWebhook - idleWithout, 'MB');
    await bed.stopOperator();
  } finally {
    await bed.stop();
  }
}

/** Where the operator's CPU went on a bed (its profile, written as it stopped), by place and function. */
function printProfile(label: string, pid: number): void {
  const file = readdirSync(PROFILES).find(
    (name) => name.includes(`.${pid}.`) && name.endsWith('.cpuprofile'),
  );
  if (!file) {
    console.log(`  no CPU profile of process ${pid} in ${PROFILES}`);
    return;
  }
  const summary = summarize(JSON.parse(readFileSync(join(PROFILES, file), 'utf8')) as CpuProfile);
  console.log(`\n  where the operator's CPU went on ${label} (${summary.totalMs} ms busy; ${file}):`);
  for (const share of summary.places) console.log(`    ${share.percent}%  ${share.ms} ms  ${share.name}`);
  console.log('  the functions that took most of it (self time):');
  for (const share of summary.functions) console.log(`    ${share.percent}%  ${share.ms} ms  ${share.name}`);
}

function reactionFigures(label: string, samples: number[], withTarget = false): void {
  for (const p of [50, 90, 99]) {
    const value = percentile(samples, p);
    const target = withTarget && p === 99 ? { text: '<= 100 ms', met: value <= 100 } : undefined;
    record(
      `${label}: reaction, dependency done -> next Job created, p${p} (${samples.length} samples)`,
      value,
      'ms',
      target,
    );
  }
}

async function main(): Promise<void> {
  console.log('building the operator (npm run build)');
  execFileSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: 'inherit' });
  console.log(`\n== in process: one reconcile (observe + decide) ==`);
  const cost = await reconcileCost();
  record('one reconcile, empty cache, p50', cost.emptyMs, 'ms');
  record(`one reconcile with ${cost.cached.toLocaleString('en')} Jobs+Pods cached, p50`, cost.fullMs, 'ms', {
    text: '<= 2 ms',
    met: cost.fullMs <= 2,
  });
  if (BEDS.has('default')) await measureBed('default', [], true);
  if (BEDS.has('unthrottled'))
    await measureBed('unthrottled', ['--kube-api-qps=1000', '--kube-api-burst=2000'], false);
  if (BEDS.has('stored') && STORED.length) await measureStored(STORED);
  const result = {
    date: new Date().toISOString(),
    runbooks: RUNBOOKS,
    stages: STAGES,
    cores: availableParallelism(),
    nodeOptions: NODE_OPTIONS,
    env: OPERATOR_ENV,
    figures,
  };
  const out = join(repoRoot, 'dist', 'bench', `results-${result.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`\n${table(figures)}\n\n${JSON.stringify(result)}\n\nresults written to ${out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
