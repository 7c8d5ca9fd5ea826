/**
 * Shell completion as cobra does it: the shells ask the CLI itself (`agentrunbook __complete
 * WORDS... CURRENT`), which answers with one candidate per line and a last line `:DIRECTIVE`.
 * kubectl asks a plugin's completer the same way (`kubectl_complete-agentrunbook WORDS...`), so one
 * engine serves bash, zsh, fish and `kubectl agentrunbook`. Candidates come from the commands
 * themselves, so they never fall behind them; runbooks, gates, templates, namespaces and contexts
 * come from the cluster.
 */
import type { Command, Option } from 'commander';

/** The hidden command the completion scripts run: `agentrunbook __complete WORDS...`. */
export const COMPLETE_COMMAND = '__complete';

/** cobra's ShellCompDirective bits, which kubectl and the scripts below read. */
export const DIRECTIVE = { default: 0, error: 1, noSpace: 2, noFileComp: 4 } as const;

/** What completes from outside the program: the cluster and the kubeconfig. */
export interface CompletionSource {
  runbooks(flags: ReadonlyMap<string, string>): Promise<string[]>;
  gates(runbook: string, flags: ReadonlyMap<string, string>): Promise<string[]>;
  templates(flags: ReadonlyMap<string, string>): Promise<string[]>;
  namespaces(flags: ReadonlyMap<string, string>): Promise<string[]>;
  contexts(flags: ReadonlyMap<string, string>): Promise<string[]>;
}

export interface Completion {
  candidates: string[];
  directive: number;
}

/** Arguments that name files: completed by the shell. */
const FILE_ARGUMENTS = new Set(['file', 'files', 'old', 'new']);

const flagsOf = (option: Option) => [option.long, option.short].filter((flag): flag is string => !!flag);

/** The option `word` names on `command` or the commands above it. */
function findOption(chain: Command[], word: string): Option | undefined {
  for (const command of chain.toReversed()) {
    const found = command.options.find((option) => flagsOf(option).includes(word));
    if (found) return found;
  }
  return undefined;
}

function optionValues(
  option: Option,
  flags: ReadonlyMap<string, string>,
  source: CompletionSource,
): Promise<string[]> | string[] | undefined {
  if (option.argChoices) return option.argChoices;
  if (option.long === '--namespace') return source.namespaces(flags);
  if (option.long === '--context') return source.contexts(flags);
  if (option.long === '--template') return source.templates(flags);
  return undefined;
}

/** The value the user typed for a cluster flag, as the lookups need it. */
function clusterFlag(chain: Command[], words: string[], index: number, flags: Map<string, string>): number {
  const word = words[index] ?? '';
  const [name, inline] = word.split('=', 2) as [string, string | undefined];
  const option = findOption(chain, name);
  if (!option?.required && !option?.optional) return index;
  const value = inline ?? words[index + 1];
  if (value !== undefined && option.long) flags.set(option.long.slice(2), value);
  return inline === undefined ? index + 1 : index;
}

/**
 * Completes `current` after `words` (the words typed after the program's name). Never throws: a
 * lookup that fails gives no candidates, as kubectl's completion does.
 */
export async function complete(
  program: Command,
  words: readonly string[],
  current: string,
  source: CompletionSource,
): Promise<Completion> {
  const chain: Command[] = [program];
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index] ?? '';
    if (word.startsWith('-')) {
      index = clusterFlag(chain, [...words], index, flags);
      continue;
    }
    const command = chain.at(-1) as Command;
    const sub = positional.length === 0 && command.commands.find((candidate) => candidate.name() === word);
    if (sub) chain.push(sub);
    else positional.push(word);
  }
  const command = chain.at(-1) as Command;
  const lookup = async (values: Promise<string[]> | string[]): Promise<Completion> => ({
    candidates: (await Promise.resolve(values).catch(() => [] as string[])).filter((value) =>
      value.startsWith(current),
    ),
    directive: DIRECTIVE.noFileComp,
  });

  // The value of the option just before: -n <TAB>, -o <TAB>.
  const previous = words.at(-1);
  const pending =
    previous?.startsWith('-') && !previous.includes('=') ? findOption(chain, previous) : undefined;
  if (pending && (pending.required || pending.optional)) {
    const values = optionValues(pending, flags, source);
    return values ? lookup(values) : { candidates: [], directive: DIRECTIVE.default };
  }
  if (current.startsWith('-')) {
    const options = chain.flatMap((each) => each.options.flatMap(flagsOf));
    return lookup([...new Set([...options, '--help'])].sort());
  }
  const subcommands = command.commands
    .map((sub) => sub.name())
    .filter((name) => !name.startsWith('_') && name !== 'help');
  if (positional.length === 0 && subcommands.length) return lookup([...subcommands, 'help'].sort());

  const argument =
    command.registeredArguments[Math.min(positional.length, command.registeredArguments.length - 1)];
  if (!argument) return { candidates: [], directive: DIRECTIVE.noFileComp };
  if (FILE_ARGUMENTS.has(argument.name())) return { candidates: [], directive: DIRECTIVE.default };
  const inTemplates = chain.some((each) => each.name() === 'templates');
  if (argument.name() === 'name')
    return lookup(inTemplates ? source.templates(flags) : source.runbooks(flags));
  if (argument.name() === 'gate' && positional[0]) return lookup(source.gates(positional[0], flags));
  if (argument.argChoices) return lookup(argument.argChoices);
  return { candidates: [], directive: DIRECTIVE.noFileComp };
}

/** cobra's answer format: candidates, then `:DIRECTIVE`. */
export function formatCompletion({ candidates, directive }: Completion): string {
  return [...candidates, `:${directive}`].join('\n') + '\n';
}
