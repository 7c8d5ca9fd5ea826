/**
 * `agentrunbook generate`: a runbook from a template and an idea's context (the specification's
 * RunbookGenerator), printed, or created with --apply.
 */
import type { Command } from 'commander';
import { GROUP, PLURAL, STORAGE_VERSION } from '../api/group.js';
import { renderRunbook } from '../generator/render.js';
import { selectTemplate } from '../generator/select.js';
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
      const template = flags.template
        ? templates.find((candidate) => candidate.name === flags.template)
        : selectTemplate(templates, context)?.template;
      if (!template) {
        throw new Error(
          flags.template
            ? `no template named ${flags.template} (agentrunbook templates lists them)`
            : `no template's rules select this context (agentrunbook templates select explains)`,
        );
      }
      const rendered = renderRunbook(template, context, new Date(), namespace);
      if ('problem' in rendered) throw new Error(rendered.problem);
      const { runbook } = rendered;
      if (!flags.apply || !http) {
        http?.close();
        process.stdout.write(render(runbook, flags.output));
        return;
      }
      try {
        await http.request({
          method: 'POST',
          path: `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${PLURAL}`,
          body: runbook,
        });
      } finally {
        http.close();
      }
      process.stdout.write(
        `agentrunbook.${GROUP}/${runbook.metadata.name} created (template ${template.name})\n`,
      );
    },
  );
}
