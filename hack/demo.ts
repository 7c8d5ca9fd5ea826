/**
 * `make demo`: a local control plane, the operator running under its own ServiceAccount, a node
 * that runs every agent Pod as the reference agent, and the example runbooks, shown as they
 * progress. Then it stays up for you to look around, until Ctrl-C (or exits at once with
 * --exit-when-done).
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Watch } from '@kubernetes/client-node';
import { newGateDecision } from '../src/api/v2/gate-decision.js';
import { OPERATOR_NAME, OPERATOR_NAMESPACE } from '../src/operator/rbac.js';
import { runAgentPod } from './local-cluster/agent-runner.js';
import { ControlPlane } from './local-cluster/control-plane.js';
import { FakeNode } from './local-cluster/fake-node.js';
import { installOperator } from './local-cluster/install-operator.js';
import { ManagedProcess } from './local-cluster/managed-process.js';
import { freePort } from './local-cluster/ports.js';
import { repoRoot } from './local-cluster/paths.js';
import { kubectl, layerBinary } from './local-cluster/tools.js';
import { loadClusterAccess } from '../src/kube/cluster-access.js';
import { startLocalConsole } from '../src/console/start.js';
import { buildConsole, CONSOLE_OUT } from './build-console.js';
import { renderRunTree } from '../src/cli/run-tree.js';
import type { AgentRunbookJson } from '../src/kube/types.js';

const DEMO_NAMESPACE = 'demo';
const TERMINAL = new Set(['Succeeded', 'Failed', 'TimedOut', 'BudgetExceeded', 'Cancelled']);
const exitWhenDone = process.argv.includes('--exit-when-done');
const say = (text: string) => {
  console.log(`\x1b[1m==> ${text}\x1b[0m`);
};

interface RunbookRow {
  metadata: { name: string };
  status?: {
    phase?: string;
    progress?: string;
    usage?: { tokens?: number; costUSD?: string };
    gates?: { name: string; phase: string; since?: string }[];
  };
}

const approved = new Set<string>();

/** Plays the approver: a gate that waits gets approved, the way a person would do it. */
function approvePendingGates(kubeconfig: string, row: RunbookRow): void {
  for (const gate of row.status?.gates ?? []) {
    const key = `${row.metadata.name}/${gate.name}`;
    if (gate.phase !== 'Pending' || !gate.since || approved.has(key)) continue;
    approved.add(key);
    const decision = newGateDecision({
      namespace: DEMO_NAMESPACE,
      runbook: row.metadata.name,
      gate: gate.name,
      decision: 'Approved',
      comment: 'approved by the demo',
    });
    say(
      `${row.metadata.name} waits for approval of gate ${gate.name}; approving it: agentrunbook approve ${row.metadata.name} ${gate.name} -n ${DEMO_NAMESPACE}`,
    );
    void kubectl(kubeconfig, ['create', '-f', '-'], stringify(decision));
  }
}

/** The API server takes a moment to start using a CRD's new conversion settings: retry briefly. */
async function applyPatiently(kubeconfig: string, path: string): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const result = await kubectl(kubeconfig, ['apply', '-n', DEMO_NAMESPACE, '-f', path]);
    if (result.code === 0) return result.stdout;
    if (attempt >= 20) throw new Error(`kubectl apply -f ${path}: ${result.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * Stage result caching: the write stage of cached-research changes, so a new run reuses research
 * and analyze from the cache and runs only write; shown as `agentrunbook get` prints it, with the
 * operator's cache metrics.
 */
/** The fan-out example as `agentrunbook get` prints it: a stage skipped by when, 20 items. */
async function showBranching(kubeconfig: string): Promise<void> {
  const name = 'fan-out-research';
  const object = JSON.parse(
    await run(kubeconfig, ['get', 'agentrunbook', name, '-n', DEMO_NAMESPACE, '-o', 'json']),
  ) as AgentRunbookJson;
  const children = JSON.parse(
    await run(kubeconfig, [
      'get',
      'agentrunbook',
      '-n',
      DEMO_NAMESPACE,
      '-l',
      `i2s.studio/parent=${name}`,
      '-o',
      'json',
    ]),
  ) as { items: AgentRunbookJson[] };
  say(`branching and fan-out: agentrunbook get ${name} -n ${DEMO_NAMESPACE}`);
  console.log(renderRunTree(object, new Date(), children.items));
}

async function showCaching(kubeconfig: string, metricsPort: number): Promise<void> {
  const name = 'cached-research';
  say(
    `stage result caching: changing only the write stage of ${name}; research and analyze come from the cache`,
  );
  await run(kubeconfig, [
    'patch',
    'agentrunbook',
    name,
    '-n',
    DEMO_NAMESPACE,
    '--type=json',
    '-p',
    '[{"op":"replace","path":"/spec/agents/pipeline/2/config/parameters/tone","value":"formal"}]',
  ]);
  for (const condition of ['{.status.observedGeneration}=2', '{.status.phase}=Succeeded'])
    await run(kubeconfig, [
      'wait',
      `--for=jsonpath=${condition}`,
      '--timeout=120s',
      '-n',
      DEMO_NAMESPACE,
      `agentrunbook/${name}`,
    ]);
  const object = JSON.parse(
    await run(kubeconfig, ['get', 'agentrunbook', name, '-n', DEMO_NAMESPACE, '-o', 'json']),
  ) as AgentRunbookJson;
  say(`agentrunbook get ${name} -n ${DEMO_NAMESPACE}`);
  console.log(renderRunTree(object, new Date()));
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  say("the operator's cache metrics (/metrics)");
  console.log(
    metrics
      .split('\n')
      .filter((line) =>
        /^agentrunbook_(cache_hits|cache_misses|tokens_saved|cost_saved_dollars)_total\{namespace="demo"\}/.test(
          line,
        ),
      )
      .join('\n'),
  );
}

async function run(kubeconfig: string, args: string[]): Promise<string> {
  const result = await kubectl(kubeconfig, args);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

function table(rows: Map<string, RunbookRow>): string {
  const lines = [['NAME', 'PHASE', 'PROGRESS', 'TOKENS', 'COST']];
  for (const row of [...rows.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const s = row.status ?? {};
    lines.push([
      row.metadata.name,
      s.phase ?? '',
      s.progress ?? '',
      String(s.usage?.tokens ?? ''),
      s.usage?.costUSD ?? '',
    ]);
  }
  const widths =
    lines[0]?.map((_, column) => Math.max(...lines.map((line) => (line[column] ?? '').length))) ?? [];
  return lines
    .map((line) =>
      line
        .map((cell, column) => cell.padEnd((widths[column] ?? 0) + 3))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

async function main(): Promise<void> {
  say('starting a local control plane (etcd, kube-apiserver, kube-controller-manager)');
  const plane = await ControlPlane.start();
  const admin = plane.adminKubeconfigPath;
  const cleanups: (() => Promise<void> | void)[] = [() => plane.stop()];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  let running: ManagedProcess | undefined;
  try {
    say('installing the CRD and the operator’s RBAC');
    const operatorKubeconfig = await installOperator(plane);

    say(`starting the operator as ServiceAccount ${OPERATOR_NAMESPACE}/${OPERATOR_NAME}`);
    const operatorLog = join(plane.dir, 'operator.log');
    // The API server reaches the operator's webhooks (v1 conversion, validation) on loopback.
    const webhookPort = await freePort();
    const metricsPort = await freePort();
    const webhookUrl = `https://127.0.0.1:${webhookPort}`;
    // A ManagedProcess is killed with the demo whatever ends it, and logs to a file.
    const operator = new ManagedProcess(
      'operator',
      process.execPath,
      [
        '--import',
        'tsx',
        join(repoRoot, 'src', 'cli', 'main.ts'),
        'operator',
        `--kubeconfig=${operatorKubeconfig}`,
        `--config=${join(repoRoot, 'config', 'samples', 'operator-config.yaml')}`,
        // The template library, as the chart and config/manager install it: generate needs it.
        `--template-library=${join(repoRoot, 'config', 'manager', 'template-library.yaml')}`,
        '--log-format=text',
        `--webhook-bind-address=127.0.0.1:${webhookPort}`,
        '--health-probe-bind-address=0',
        `--metrics-bind-address=127.0.0.1:${metricsPort}`,
        `--webhook-url=${webhookUrl}`,
        // One local operator: no other replica for the API server's calls to move to as it stops.
        '--webhook-shutdown-delay=0s',
      ],
      webhookPort,
      operatorLog,
    );
    cleanups.push(() => operator.stop());
    running = operator;

    await run(admin, ['create', 'namespace', DEMO_NAMESPACE]);
    await run(admin, [
      'wait',
      '--for=create',
      '--timeout=30s',
      '-n',
      DEMO_NAMESPACE,
      'serviceaccount/default',
    ]);
    say('starting the demo node: it runs each agent Pod as the reference agent (src/agent/)');
    const node = new FakeNode(plane.adminConfig(), {
      namespace: DEMO_NAMESPACE,
      scenario: (pod, given) => runAgentPod(pod, given, { env: { REFERENCE_AGENT_DELAY_MS: '1500' } }),
    });
    await node.start();
    cleanups.push(() => node.stop());

    say('waiting for the operator to register its webhooks');
    await run(admin, [
      'wait',
      '--for=create',
      '--timeout=60s',
      'validatingwebhookconfiguration/agentrunbook-validation',
    ]);
    await run(admin, [
      'wait',
      `--for=jsonpath={.spec.conversion.webhook.clientConfig.url}=${webhookUrl}/convert`,
      '--timeout=60s',
      'crd/agentrunbooks.i2s.studio',
    ]);

    await buildConsole();
    const consoleServer = await startLocalConsole(await loadClusterAccess(admin), {
      port: 0,
      assets: CONSOLE_OUT,
    });
    cleanups.push(() => consoleServer.server.close());
    const consoleUrl = `${consoleServer.url}#/run/${DEMO_NAMESPACE}/idea-123-runbook`;
    say(`the console (agentrunbook console, as the demo's admin): ${consoleUrl}`);

    say(
      `applying examples/agents/ (an Agent and a ClusterAgent), examples/ (v2) and examples/v1/ (the 1.0 layout) to namespace ${DEMO_NAMESPACE}`,
    );
    for (const folder of ['agents', '.', 'v1'].map((dir) => join(repoRoot, 'examples', dir))) {
      process.stdout.write(await applyPatiently(admin, folder));
    }

    const rows = new Map<string, RunbookRow>();
    let lastTable = '';
    const allDone = new Promise<void>((resolve, reject) => {
      void new Watch(plane.adminConfig())
        .watch(
          `/apis/i2s.studio/v2/namespaces/${DEMO_NAMESPACE}/agentrunbooks`,
          {},
          (type: string, object: RunbookRow) => {
            if (type === 'DELETED') rows.delete(object.metadata.name);
            else rows.set(object.metadata.name, object);
            approvePendingGates(admin, object);
            const shown = table(rows);
            if (shown !== lastTable) {
              lastTable = shown;
              console.log(
                `\n${new Date().toLocaleTimeString()}  kubectl get agentrunbooks -n ${DEMO_NAMESPACE}\n${shown}`,
              );
            }
            if (rows.size > 0 && [...rows.values()].every((row) => TERMINAL.has(row.status?.phase ?? '')))
              resolve();
          },
          (error: unknown) => {
            if (error) reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
          },
        )
        .then((controller) =>
          cleanups.push(() => {
            controller.abort();
          }),
        );
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`the runbooks did not finish within 5 minutes; the operator's log: ${operatorLog}`));
      }, 300_000);
    });
    await Promise.race([allDone, deadline]).finally(() => {
      clearTimeout(timer);
    });

    say('all runbooks finished; outputs passed from normalize to research in normalize-research:');
    console.log(
      await run(admin, [
        'get',
        'agentrunbook',
        'normalize-research',
        '-n',
        DEMO_NAMESPACE,
        '-o',
        'jsonpath={range .status.stages[*]}{.name}{" "}{.phase}{": "}{.outputs}{"\\n"}{end}',
      ]),
    );
    say('the agents, and the runbooks whose stages ran them: kubectl get agents,clusteragents');
    console.log(await run(admin, ['get', 'agents,clusteragents', '-n', DEMO_NAMESPACE]));
    const logSelector = 'i2s.studio/runbook=normalize-research,i2s.studio/stage=research';
    say(`what research's agent printed, as its node serves it: kubectl logs -l ${logSelector}`);
    console.log(await run(admin, ['logs', '-n', DEMO_NAMESPACE, '-l', logSelector]));
    const failed = [...rows.values()].filter((row) => row.status?.phase !== 'Succeeded');
    if (failed.length > 0) {
      process.exitCode = 1;
      console.log(`not succeeded: ${failed.map((row) => row.metadata.name).join(', ')}`);
    }
    await showBranching(admin);
    await showCaching(admin, metricsPort);
    say('the template library the operator keeps in the cluster: kubectl get clusteragentrunbooktemplates');
    const library = await run(admin, ['get', 'clusteragentrunbooktemplates']);
    console.log(library);
    if (!library.includes('standard-pipeline')) {
      process.exitCode = 1;
      console.log('the template library was not installed');
    }
    const kubectlPath = layerBinary('kubectl');
    console.log(`Look around (in another terminal):
  export KUBECONFIG=${admin}
  alias kubectl=${kubectlPath}
  kubectl get agentrunbooks -n ${DEMO_NAMESPACE}
  kubectl describe agentrunbook ai-task-manager-runbook -n ${DEMO_NAMESPACE}
  kubectl get jobs,pods -n ${DEMO_NAMESPACE}
  kubectl get agent research -n ${DEMO_NAMESPACE} -o yaml   # a team's agent: its Pod template and status
  kubectl logs -n ${DEMO_NAMESPACE} -l i2s.studio/runbook=market-scan   # what its agents printed
  kubectl get agentrunbooks.v1.i2s.studio legacy-layout -n ${DEMO_NAMESPACE} -o yaml   # the v1 view of a v2 object
  kubectl annotate agentrunbook market-scan -n ${DEMO_NAMESPACE} i2s.studio/rerun=$(date +%s)   # run it again
  kubectl get cachedresults -n ${DEMO_NAMESPACE}   # stage results kept for reuse (agentrunbook cache list)
  npx agentrunbook templates select --complexity complex --risk-level 7   # the library's templates (docs/cli.md)
The console (the runbooks, their stage graphs, outputs, logs and gates, live): ${consoleServer.url}
The operator's log: ${operatorLog}`);
    if (exitWhenDone) return;
    say('the demo keeps running; press Ctrl-C to stop it and remove everything it started');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  } catch (error) {
    // A step that needed the operator (its webhooks, its runs) failed: what it printed last says
    // why, and its log goes with the control plane's directory.
    if (running) console.error(running.failure('was running when the demo failed').message);
    throw error;
  } finally {
    say('stopping');
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
