#!/usr/bin/env node
import { basename } from 'node:path';
import { Command } from 'commander';
import { registerGenerateCommand } from './generate-command.js';
import { registerOperatorCommand } from './operator-command.js';
import { registerTemplatesCommand } from './templates-command.js';
import { registerAgentsCommand } from './agents-command.js';
import { registerValidateCommands } from './validate-command.js';
import { registerDiffCommands } from './diff-command.js';
import { registerImportCommand } from './import-command.js';
import { registerRunCommands } from './run-commands.js';
import { registerLogsCommand } from './logs-command.js';
import { registerHistoryCommands } from './history-command.js';
import { answerCompletion, COMPLETE_COMMAND, registerCompletionCommand } from './completion-command.js';
import { registerConsoleCommand } from './console-command.js';
import { registerCacheCommand } from './cache-command.js';
import { registerListCommands } from './list-commands.js';
import { registerVersionCommand } from './version-command.js';

/**
 * The name it was started as: the script's for `node main.js` and npm's links; for a standalone
 * build (whose script lives inside it, under /$bunfs) the name it was run by, links included.
 */
const script = process.argv[1] ?? '';
const invokedAs = basename(script.startsWith('/$bunfs/') ? process.argv0 : script);
// Installed as kubectl-agentrunbook on PATH, it is the kubectl plugin `kubectl agentrunbook`; as
// kubectl_complete-agentrunbook, kubectl asks it to complete `kubectl agentrunbook ...`.
const asKubectlPlugin = invokedAs.startsWith('kubectl-');
const asKubectlCompleter = invokedAs.startsWith('kubectl_complete-');

const program = new Command()
  .name(asKubectlPlugin || asKubectlCompleter ? 'kubectl agentrunbook' : 'agentrunbook')
  .description('Runs AI-agent runbooks (i2s.studio AgentRunbook) on Kubernetes')
  .showHelpAfterError();

registerOperatorCommand(program);
registerGenerateCommand(program);
registerTemplatesCommand(program);
registerAgentsCommand(program);
registerImportCommand(program);
registerValidateCommands(program);
registerDiffCommands(program);
registerListCommands(program);
registerRunCommands(program);
registerLogsCommand(program);
registerHistoryCommands(program);
registerCacheCommand(program);
registerConsoleCommand(program);
registerCompletionCommand(program);
registerVersionCommand(program);

const args = process.argv.slice(2);
const run = asKubectlCompleter
  ? answerCompletion(program, args)
  : args[0] === COMPLETE_COMMAND
    ? answerCompletion(program, args.slice(1))
    : // --version as the first word is the version command, so that it may ask the cluster too.
      program.parseAsync(args[0] === '--version' ? ['version', ...args.slice(1)] : args, { from: 'user' });

run.catch((error: unknown) => {
  console.error(`${program.name()}: ${(error as Error).message}`);
  process.exit(1);
});
