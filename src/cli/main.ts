#!/usr/bin/env node
import { Command } from 'commander';
import { registerGenerateCommand } from './generate-command.js';
import { registerOperatorCommand } from './operator-command.js';
import { registerTemplatesCommand } from './templates-command.js';
import { registerValidateCommands } from './validate-command.js';
import { registerDiffCommands } from './diff-command.js';
import { registerImportCommand } from './import-command.js';

const program = new Command()
  .name('agentrunbook')
  .description('Runs AI-agent runbooks (i2s.studio AgentRunbook) on Kubernetes')
  .showHelpAfterError();

registerOperatorCommand(program);
registerGenerateCommand(program);
registerTemplatesCommand(program);
registerImportCommand(program);
registerValidateCommands(program);
registerDiffCommands(program);

program.parseAsync().catch((error: unknown) => {
  console.error(`agentrunbook: ${(error as Error).message}`);
  process.exit(1);
});
