/**
 * `agentrunbook generate`: a runbook from a template and an idea's context (the specification's
 * RunbookGenerator), printed, or created with --apply.
 */
import type { Command } from 'commander';
import { GROUP } from '../api/group.js';
import { chooseTemplate, createRunbook, generatedRunbook } from '../client/templates.js';
import { render, withClusterFlags, withOutputFlag } from './cluster-flags.js';
import { contextFrom, withContextFlags, type ContextFlags } from './context-flags.js';
import { loadTemplates, withLibraryFlag, type TemplateSourceFlags } from './template-source.js';

interface GenerateFlags extends TemplateSourceFlags, ContextFlags {
  template?: string;
  apply?: boolean;
  output: string;
}

export function registerGenerateCommand(program: Command): void {
  const command = program
    .command('generate')
    .description(
      'Make a runbook from a template and an idea: the named template, or the one the context selects',
    )
    .option('-t, --template <name>', 'use this template instead of selecting one')
    .option('--apply', 'create the runbook in the cluster instead of printing it');
  withOutputFlag(withLibraryFlag(withClusterFlags(withContextFlags(command)))).action(
    async (flags: GenerateFlags) => {
      if (flags.apply && flags.library)
        throw new Error('--apply creates the runbook in a cluster: drop --library');
      const context = contextFrom(flags);
      const { templates, namespace, http } = await loadTemplates(flags);
      const template = chooseTemplate(templates, context, flags.template);
      const runbook = generatedRunbook(template, context, namespace);
      if (!flags.apply || !http) {
        http?.close();
        process.stdout.write(render(runbook, flags.output));
        return;
      }
      try {
        await createRunbook(http, namespace, runbook);
      } finally {
        http.close();
      }
      process.stdout.write(
        `agentrunbook.${GROUP}/${runbook.metadata.name} created (template ${template.name})\n`,
      );
    },
  );
}
