/**
 * `agentrunbook completion bash|zsh`: a completion script made from the commands themselves, so it
 * never falls behind them. Runbook names complete from the cluster (through kubectl), files from
 * the disk.
 */
import { Argument, type Command } from 'commander';

/** Commands whose first argument is a runbook in the cluster. */
const RUNBOOK_ARGUMENT = 'name';

function words(command: Command): string[] {
  return [
    ...command.commands.map((sub) => sub.name()),
    ...command.options.flatMap((option) =>
      [option.short, option.long].filter((flag): flag is string => !!flag),
    ),
    '--help',
  ];
}

function bashScript(program: Command): string {
  const cases = program.commands
    .filter((command) => command.name() !== 'completion')
    .map((command) => {
      const first = command.registeredArguments[0]?.name();
      const names = first === RUNBOOK_ARGUMENT ? '__agentrunbook_runbooks; ' : '';
      const files = first === 'file' || first === 'old' ? 'COMPREPLY+=($(compgen -f -- "$cur")); ' : '';
      return `    ${command.name()}) ${names}${files}COMPREPLY+=($(compgen -W "${words(command).join(' ')}" -- "$cur")) ;;`;
    });
  return `# agentrunbook completion (bash): source <(agentrunbook completion bash)
__agentrunbook_runbooks() {
  local names
  names=$(kubectl get agentrunbooks -o jsonpath='{.items[*].metadata.name}' 2>/dev/null)
  COMPREPLY+=($(compgen -W "$names" -- "$cur"))
}
_agentrunbook() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  COMPREPLY=()
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${words(program).join(' ')}" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases.join('\n')}
  esac
}
complete -F _agentrunbook agentrunbook kubectl-agentrunbook
`;
}

export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('Print a shell completion script: source <(agentrunbook completion bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh']))
    .action((shell: string) => {
      const bash = bashScript(program);
      process.stdout.write(
        shell === 'zsh'
          ? `# agentrunbook completion (zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bash}`
          : bash,
      );
    });
}
