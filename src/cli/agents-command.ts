/**
 * `agentrunbook agents`: the agents a runbook in the namespace can name, in the order a stage
 * resolves them (its namespace's Agents, then ClusterAgents; the operator's catalog file is not
 * an API object and is not listed).
 */
import type { Command } from 'commander';
import { AGENT_KINDS, GROUP, STORAGE_VERSION } from '../api/group.js';
import type { AgentJson } from '../kube/types.js';
import { connect, withClusterFlags, type ClusterFlags } from './cluster-flags.js';
import { table } from './table.js';
import { compareText } from '../api/text.js';

export function registerAgentsCommand(program: Command): void {
  withClusterFlags(
    program
      .command('agents')
      .description(
        'List the Agents and ClusterAgents a runbook in the namespace can name, as a stage resolves them',
      ),
  ).action(async (flags: ClusterFlags) => {
    const { http, namespace } = await connect(flags);
    const prefix = `/apis/${GROUP}/${STORAGE_VERSION}`;
    const list = async (path: string) =>
      (await http.request<{ items: AgentJson[] }>({ method: 'GET', path })).items.sort((a, b) =>
        compareText(a.metadata.name ?? '', b.metadata.name ?? ''),
      );
    try {
      const [own, cluster] = await Promise.all([
        list(`${prefix}/namespaces/${namespace}/${AGENT_KINDS.namespaced.plural}`),
        list(`${prefix}/${AGENT_KINDS.cluster.plural}`),
      ]);
      const shadowed = new Set(own.map((agent) => agent.metadata.name));
      const row = (agent: AgentJson, kind: string, note: string) => [
        agent.metadata.name ?? '',
        kind,
        agent.spec.versions ?? '*',
        agent.spec.image,
        note,
      ];
      process.stdout.write(
        table([
          ['NAME', 'KIND', 'VERSIONS', 'IMAGE', 'NOTE'],
          ...own.map((agent) => row(agent, AGENT_KINDS.namespaced.kind, '')),
          ...cluster.map((agent) =>
            row(
              agent,
              AGENT_KINDS.cluster.kind,
              shadowed.has(agent.metadata.name) ? `an Agent in ${namespace} comes first` : '',
            ),
          ),
        ]),
      );
    } finally {
      http.close();
    }
  });
}
