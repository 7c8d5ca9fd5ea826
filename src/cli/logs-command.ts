/** `agentrunbook logs`: the agents' output of a run, stage by stage, from their Pods (as kubectl logs). */
import type { Command } from 'commander';
import { LABEL_ATTEMPT, LABEL_EXECUTION, LABEL_RUNBOOK, LABEL_STAGE } from '../api/labels.js';
import { labelValue } from '../engine/model/naming.js';
import { streamLines } from '../kube/http.js';
import type { PodJson } from '../kube/types.js';
import { AGENT_CONTAINER } from '../controller/job-builder.js';
import { withClusterFlags, type ClusterFlags } from './cluster-flags.js';
import type { RunbookHandle } from '../client/runbook-actions.js';
import { withRunbook } from './runbook-client.js';

interface LogsFlags extends ClusterFlags {
  stage?: string;
  follow?: boolean;
}

/** The Pods of the run's current execution, in the order of its stages, then attempts. */
async function runPods(client: RunbookHandle, stage: string | undefined): Promise<PodJson[]> {
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
  const list = await client.http.request<{ items?: PodJson[] }>({
    method: 'GET',
    path: `/api/v1/namespaces/${client.namespace}/pods`,
    query: { labelSelector: selector },
  });
  const order = (pod: PodJson) => {
    const labels = pod.metadata.labels ?? {};
    const index = stages.findIndex((name) => labelValue(name) === labels[LABEL_STAGE]);
    return index * 1000 + Number(labels[LABEL_ATTEMPT] ?? 0);
  };
  return (list.items ?? []).sort((a, b) => order(a) - order(b));
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
      .option('-f, --follow', 'keep printing as the agents write'),
  ).action(async (name: string, flags: LogsFlags) => {
    await withRunbook(name, flags, async (client) => {
      const pods = await runPods(client, flags.stage);
      if (pods.length === 0)
        throw new Error(
          `no agent Pods of runbook ${name}'s current run${flags.stage ? ` for stage ${flags.stage}` : ''}`,
        );
      const prefixOf = (pod: PodJson) => {
        const labels = pod.metadata.labels ?? {};
        return `[${labels[LABEL_STAGE] ?? '?'}/${labels[LABEL_ATTEMPT] ?? '?'}] `;
      };
      // Followed logs interleave as they come; finished ones print one after another.
      if (flags.follow) await Promise.all(pods.map((pod) => copyLog(client, pod, prefixOf(pod), true)));
      else for (const pod of pods) await copyLog(client, pod, prefixOf(pod), false);
    });
  });
}
