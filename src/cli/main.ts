#!/usr/bin/env node
import { basename } from 'node:path';
import { Command } from 'commander';
import { COMPLETE_COMMAND } from './completion.js';
import { COMMAND_MODULES, modulesFor } from './command-modules.js';

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

const args = process.argv.slice(2);
// kubectl's completer and __complete answer for every command; `--version` first is `version`.
const completing = asKubectlCompleter || args[0] === COMPLETE_COMMAND;
const commandArgs = args[0] === '--version' ? ['version', ...args.slice(1)] : args;
for (const module of completing ? COMMAND_MODULES : modulesFor(commandArgs)) (await module.load())(program);

const run = completing
  ? (await import('./completion-command.js')).answerCompletion(
      program,
      asKubectlCompleter ? args : args.slice(1),
    )
  : // --version as the first word is the version command, so that it may ask the cluster too.
    program.parseAsync(commandArgs, { from: 'user' });

run.catch((error: unknown) => {
  console.error(`${program.name()}: ${(error as Error).message}`);
  process.exit(1);
});
