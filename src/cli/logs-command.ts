/**
 * `agentrunbook logs`: the agents' output of a run, stage by stage, from their Pods (as kubectl
 * logs); with -f, as `argo logs -f`, it also picks up the attempts and stages that start later,
 * until the run finishes.
 */
import type { Command } from 'commander';
import { LABEL_ATTEMPT, LABEL_EXECUTION, LABEL_ITEM, LABEL_RUNBOOK, LABEL_STAGE } from '../api/labels.js';
import { TERMINAL_RUN } from '../engine/run/summary.js';
import { followRun } from './follow-run.js';
import { labelValue } from '../engine/model/naming.js';
import { streamLines } from '../kube/http.js';
import type { AgentRunbookJson, PodJson } from '../kube/types.js';
import { AGENT_CONTAINER } from '../controller/job-builder.js';
import { withClusterFlags, type ClusterFlags } from './cluster-flags.js';
import type { RunbookHandle } from '../client/runbook-actions.js';
import { withRunbook } from './runbook-client.js';

interface LogsFlags extends ClusterFlags {
  stage?: string;
  follow?: boolean;
}

/** The label selector of the agent Pods of the run's current execution (of one stage, if given). */
async function runSelector(
  client: RunbookHandle,
  stage: string | undefined,
): Promise<{ runbook: AgentRunbookJson; selector: string; stages: string[] }> {
  const runbook = await client.get();
  const execution = runbook.status?.execution;
  if (!execution) throw new Error(`runbook ${client.name} has not started a run yet`);
  const stages = (runbook.status?.stages ?? []).map((entry) => entry.name);
  if (stage !== undefined && !stages.includes(stage))
    throw new Error(`runbook ${client.name} has no stage ${stage} (its stages: ${stages.join(', ')})`);
  const selector = [
    `${LABEL_RUNBOOK}=${labelValue(client.name)}`,
    `${LABEL_EXECUTION}=${execution}`,
    ...(stage === undefined ? [] : [`${LABEL_STAGE}=${labelValue(stage)}`]),
  ].join(',');
  return { runbook, selector, stages };
}

/** The Pods of the run's current execution, in the order of its stages, then attempts. */
async function runPods(client: RunbookHandle, stage: string | undefined): Promise<PodJson[]> {
  const { selector, stages } = await runSelector(client, stage);
  const list = await client.http.request<{ items?: PodJson[] }>({
    method: 'GET',
    path: podsPath(client),
    query: { labelSelector: selector },
  });
  const order = (pod: PodJson) => {
    const labels = pod.metadata.labels ?? {};
    const index = stages.findIndex((name) => labelValue(name) === labels[LABEL_STAGE]);
    return index * 1000 + Number(labels[LABEL_ATTEMPT] ?? 0);
  };
  return (list.items ?? []).sort((a, b) => order(a) - order(b));
}

const podsPath = (client: RunbookHandle) => `/api/v1/namespaces/${client.namespace}/pods`;

/** Whether the agent container has started, so that its log can be read. */
const agentStarted = (pod: PodJson) =>
  pod.status?.containerStatuses?.some(
    (container) =>
      container.name === AGENT_CONTAINER && (container.state?.running || container.state?.terminated),
  ) ?? false;

const prefixOf = (pod: PodJson) => {
  const labels = pod.metadata.labels ?? {};
  const item = labels[LABEL_ITEM] === undefined ? '' : `[${labels[LABEL_ITEM]}]`;
  return `[${labels[LABEL_STAGE] ?? '?'}${item}/${labels[LABEL_ATTEMPT] ?? '?'}] `;
};

/**
 * Follows the logs of every agent Pod of the run, those there now and those that start later (new
 * attempts, later stages), until the run has finished and every log has ended.
 */
async function followLogs(client: RunbookHandle, stage: string | undefined): Promise<void> {
  const { selector } = await runSelector(client, stage);
  const streams = new Map<string, Promise<void>>();
  const consider = (pod: PodJson) => {
    const name = pod.metadata.name ?? '';
    if (streams.has(name) || !agentStarted(pod)) return;
    streams.set(
      name,
      copyLog(client, pod, prefixOf(pod), true).catch((error: unknown) => {
        process.stderr.write(`${prefixOf(pod)}log ended: ${(error as Error).message}\n`);
      }),
    );
  };
  const watch = client.http.watch(
    podsPath(client),
    { labelSelector: selector },
    (event) => {
      if (event.type === 'ADDED' || event.type === 'MODIFIED') consider(event.object as PodJson);
    },
    () => undefined,
  );
  try {
    await followRun(client, (runbook) => TERMINAL_RUN.has(runbook.status?.phase ?? ''));
  } finally {
    (await watch).abort();
  }
  // Pods that ran and ended between two events are read once more, to the end.
  const last = await client.http.request<{ items?: PodJson[] }>({
    method: 'GET',
    path: podsPath(client),
    query: { labelSelector: selector },
  });
  for (const pod of last.items ?? []) consider(pod);
  let count = -1;
  while (count !== streams.size) {
    count = streams.size;
    await Promise.all(streams.values());
  }
}

/** Writes a Pod's log with each line prefixed, following it when asked; resolves when the log ends. */
async function copyLog(client: RunbookHandle, pod: PodJson, prefix: string, follow: boolean): Promise<void> {
  const stream = await client.http.stream(
    `/api/v1/namespaces/${client.namespace}/pods/${pod.metadata.name ?? ''}/log`,
    { container: AGENT_CONTAINER, ...(follow ? { follow: true } : {}) },
  );
  for await (const line of streamLines(stream)) process.stdout.write(`${prefix}${line}\n`);
}

export function registerLogsCommand(program: Command): void {
  withClusterFlags(
    program
      .command('logs <name>')
      .description(
        "Print the agents' logs of a runbook's current run, each line prefixed with its stage and attempt",
      )
      .option('-s, --stage <stage>', 'only this stage')
      .option(
        '-f, --follow',
        'keep printing as the agents write, and the attempts and stages that start later, until the run finishes',
      ),
  ).action(async (name: string, flags: LogsFlags) => {
    await withRunbook(name, flags, async (client) => {
      // Followed logs interleave as they come; finished ones print one after another.
      if (flags.follow) {
        await followLogs(client, flags.stage);
        return;
      }
      const pods = await runPods(client, flags.stage);
      if (pods.length === 0)
        throw new Error(
          `no agent Pods of runbook ${name}'s current run${flags.stage ? ` for stage ${flags.stage}` : ''}`,
        );
      for (const pod of pods) await copyLog(client, pod, prefixOf(pod), false);
    });
  });
}
