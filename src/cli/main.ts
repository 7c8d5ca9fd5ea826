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
import { registerCompletionCommand } from './completion-command.js';
import { registerConsoleCommand } from './console-command.js';
import { registerCacheCommand } from './cache-command.js';

// Installed as kubectl-agentrunbook on PATH, it is the kubectl plugin `kubectl agentrunbook`.
const asKubectlPlugin = basename(process.argv[1] ?? '').startsWith('kubectl-');

const program = new Command()
  .name(asKubectlPlugin ? 'kubectl agentrunbook' : 'agentrunbook')
  .description('Runs AI-agent runbooks (i2s.studio AgentRunbook) on Kubernetes')
  .showHelpAfterError();

registerOperatorCommand(program);
registerGenerateCommand(program);
registerTemplatesCommand(program);
registerAgentsCommand(program);
registerImportCommand(program);
registerValidateCommands(program);
registerDiffCommands(program);
registerRunCommands(program);
registerLogsCommand(program);
registerHistoryCommands(program);
registerCacheCommand(program);
registerConsoleCommand(program);
registerCompletionCommand(program);

program.parseAsync().catch((error: unknown) => {
  console.error(`${program.name()}: ${(error as Error).message}`);
  process.exit(1);
});
