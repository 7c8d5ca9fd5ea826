/**
 * `agentrunbook completion bash|zsh|fish` prints a script that asks `agentrunbook __complete` for
 * candidates (see completion.ts); `__complete` answers, reading the cluster with the flags already
 * typed (--kubeconfig, --context, -n).
 */
import { Argument, type Command } from 'commander';
import { GROUP, STORAGE_VERSION, TEMPLATE_KINDS } from '../api/group.js';
import { runbooksPath } from '../client/runbook-actions.js';
import { kubeconfigContexts } from '../kube/cluster-access.js';
import type { AgentRunbookJson } from '../kube/types.js';
import { connect, type ClusterFlags } from './cluster-flags.js';
import { COMPLETE_COMMAND, complete, formatCompletion, type CompletionSource } from './completion.js';

type Named = { items?: { metadata: { name?: string } }[] };
const names = (list: Named) => (list.items ?? []).flatMap((item) => item.metadata.name ?? []);

async function withCluster<T>(
  flags: ReadonlyMap<string, string>,
  read: (connected: Awaited<ReturnType<typeof connect>>) => Promise<T>,
): Promise<T> {
  const kubeconfig = flags.get('kubeconfig');
  const context = flags.get('context');
  const namespace = flags.get('namespace');
  const clusterFlags: ClusterFlags = {
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(context ? { context } : {}),
    ...(namespace ? { namespace } : {}),
  };
  const connected = await connect(clusterFlags);
  try {
    return await read(connected);
  } finally {
    connected.http.close();
  }
}

const clusterSource: CompletionSource = {
  runbooks: (flags) =>
    withCluster(flags, async ({ http, namespace }) =>
      names(await http.request<Named>({ method: 'GET', path: runbooksPath(namespace) })),
    ),
  gates: (runbook, flags) =>
    withCluster(flags, async ({ http, namespace }) => {
      const object = await http.request<AgentRunbookJson>({
        method: 'GET',
        path: `${runbooksPath(namespace)}/${runbook}`,
      });
      const declared = (object.spec.quality?.gates ?? []).map((gate) => gate.name);
      const added = (object.status?.gates ?? []).map((gate) => gate.name);
      return [...new Set([...declared, ...added])];
    }),
  templates: (flags) =>
    withCluster(flags, async ({ http, namespace }) => {
      const base = `/apis/${GROUP}/${STORAGE_VERSION}`;
      const lists = await Promise.all([
        http
          .request<Named>({
            method: 'GET',
            path: `${base}/namespaces/${namespace}/${TEMPLATE_KINDS.namespaced.plural}`,
          })
          .catch(() => ({})),
        http
          .request<Named>({ method: 'GET', path: `${base}/${TEMPLATE_KINDS.cluster.plural}` })
          .catch(() => ({})),
      ]);
      return [...new Set(lists.flatMap(names))];
    }),
  namespaces: (flags) =>
    withCluster(flags, async ({ http }) =>
      names(await http.request<Named>({ method: 'GET', path: '/api/v1/namespaces' })),
    ),
  contexts: (flags) => Promise.resolve(kubeconfigContexts(flags.get('kubeconfig'))),
};

/** Answers a completion request: the words typed after the program's name, the last one being completed. */
export async function answerCompletion(program: Command, words: string[]): Promise<void> {
  const typed = words.slice(0, -1);
  const current = words.at(-1) ?? '';
  process.stdout.write(formatCompletion(await complete(program, typed, current, clusterSource)));
}

/** How each shell asks: each script passes the words typed so far and offers what comes back. */
function bashScript(name: string): string {
  return `# ${name} completion (bash): source <(${name} completion bash)
_agentrunbook() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out directive
  out=$("\${COMP_WORDS[0]}" ${COMPLETE_COMMAND} "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return
  directive=\${out##*:}
  out=\${out%:*}
  COMPREPLY=($(compgen -W "$out" -- "$cur"))
  if (( \${#COMPREPLY[@]} == 0 && (directive & 4) == 0 )); then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -F _agentrunbook agentrunbook kubectl-agentrunbook
`;
}

function zshScript(name: string): string {
  return `#compdef agentrunbook kubectl-agentrunbook
# ${name} completion (zsh): source <(${name} completion zsh), after compinit
_agentrunbook() {
  local -a out candidates
  local directive
  out=("\${(@f)$("\${words[1]}" ${COMPLETE_COMMAND} "\${(@)words[2,CURRENT]}" 2>/dev/null)}") || return
  directive=\${out[-1]#:}
  candidates=("\${(@)out[1,-2]}")
  if (( \${#candidates} )); then
    compadd -- "\${candidates[@]}"
  elif (( (directive & 4) == 0 )); then
    _files
  fi
}
if (( $+functions[compdef] )); then
  compdef _agentrunbook agentrunbook kubectl-agentrunbook
fi
`;
}

function fishScript(name: string): string {
  return `# ${name} completion (fish): ${name} completion fish | source
function __agentrunbook_complete
    set -l words (commandline -opc)
    set -l out ($words[1] ${COMPLETE_COMMAND} $words[2..-1] (commandline -ct) 2>/dev/null)
    or return
    set -l directive (string replace -r '^:' '' -- $out[-1])
    set -e out[-1]
    if test (count $out) -gt 0
        printf '%s\\n' $out
    else if test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path (commandline -ct)
    end
end
complete -c agentrunbook -f -a '(__agentrunbook_complete)'
complete -c kubectl-agentrunbook -f -a '(__agentrunbook_complete)'
`;
}

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description(
      'Print a shell completion script: source <(agentrunbook completion bash); for kubectl agentrunbook, put kubectl_complete-agentrunbook on PATH (npm installs it; for the standalone binary, a link to it)',
    )
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .action((shell: string) => {
      const name = program.name();
      process.stdout.write(
        shell === 'zsh' ? zshScript(name) : shell === 'fish' ? fishScript(name) : bashScript(name),
      );
    });
}
