/**
 * The CLI's commands, by the module that registers them. Running a command loads only its module,
 * so the operator's process (and `agentrunbook get`) holds no code of the other commands; help,
 * completion and an unknown command load them all, in this order.
 */
import type { Command } from 'commander';

export interface CommandModule {
  /** The top-level commands (and aliases) the module registers. */
  commands: readonly string[];
  load: () => Promise<(program: Command) => void>;
}

export const COMMAND_MODULES: readonly CommandModule[] = [
  {
    commands: ['operator'],
    load: async () => (await import('./operator-command.js')).registerOperatorCommand,
  },
  {
    commands: ['generate'],
    load: async () => (await import('./generate-command.js')).registerGenerateCommand,
  },
  {
    commands: ['templates'],
    load: async () => (await import('./templates-command.js')).registerTemplatesCommand,
  },
  { commands: ['agents'], load: async () => (await import('./agents-command.js')).registerAgentsCommand },
  { commands: ['import'], load: async () => (await import('./import-command.js')).registerImportCommand },
  {
    commands: ['validate', 'convert'],
    load: async () => (await import('./validate-command.js')).registerValidateCommands,
  },
  {
    commands: ['diff', 'optimize'],
    load: async () => (await import('./diff-command.js')).registerDiffCommands,
  },
  {
    commands: ['list', 'ls', 'describe', 'delete', 'suspend', 'resume'],
    load: async () => (await import('./list-commands.js')).registerListCommands,
  },
  {
    commands: ['get', 'watch', 'wait', 'approve', 'reject', 'cancel', 'rerun', 'retry'],
    load: async () => (await import('./run-commands.js')).registerRunCommands,
  },
  { commands: ['logs'], load: async () => (await import('./logs-command.js')).registerLogsCommand },
  {
    commands: ['history', 'rollback'],
    load: async () => (await import('./history-command.js')).registerHistoryCommands,
  },
  { commands: ['cache'], load: async () => (await import('./cache-command.js')).registerCacheCommand },
  { commands: ['console'], load: async () => (await import('./console-command.js')).registerConsoleCommand },
  {
    commands: ['completion'],
    load: async () => (await import('./completion-command.js')).registerCompletionCommand,
  },
  { commands: ['version'], load: async () => (await import('./version-command.js')).registerVersionCommand },
];

/** The modules to load for these arguments: the one command's, or all when it is not one of them. */
export function modulesFor(args: readonly string[]): readonly CommandModule[] {
  const first = args[0];
  const one = COMMAND_MODULES.find((module) => first !== undefined && module.commands.includes(first));
  return one ? [one] : COMMAND_MODULES;
}
