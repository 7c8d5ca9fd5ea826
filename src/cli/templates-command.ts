/** `agentrunbook templates`: list them, show one, and say which one a context selects and why. */
import type { Command } from 'commander';
import { ruleVerdicts, selectTemplate } from '../generator/select.js';
import { render, withClusterFlags, withOutputFlag } from './cluster-flags.js';
import { contextFrom, withContextFlags, type ContextFlags } from './context-flags.js';
import { loadTemplates, withLibraryFlag, type TemplateSourceFlags } from './template-source.js';
import { table } from './table.js';
import { NO_TEMPLATES } from '../client/templates.js';
import { compareText } from '../api/text.js';

export function registerTemplatesCommand(program: Command): void {
  const templates = program.command('templates').description('The runbook templates: list, show, select');

  withLibraryFlag(
    withClusterFlags(
      templates
        .command('list', { isDefault: true })
        .description('List the templates a runbook in the namespace may use'),
    ),
  ).action(async (flags: TemplateSourceFlags) => {
    const { templates: found, http } = await loadTemplates(flags);
    http?.close();
    const rows = [...found]
      .sort(
        (a, b) =>
          (b.spec.selector?.priority ?? -1) - (a.spec.selector?.priority ?? -1) ||
          compareText(a.name, b.name),
      )
      .map((template) => {
        const selector = template.spec.selector;
        const rules = selector
          ? ruleVerdicts(selector, {})
              .map((verdict) => verdict.rule)
              .join(', ') || '(default)'
          : '(by name only)';
        return [template.name, template.kind, selector ? String(selector.priority ?? 0) : '', rules];
      });
    process.stdout.write(table([['NAME', 'KIND', 'PRIORITY', 'SELECTED WHEN'], ...rows]));
  });

  withOutputFlag(
    withLibraryFlag(withClusterFlags(templates.command('show <name>').description('Print one template'))),
  ).action(async (name: string, flags: TemplateSourceFlags & { output: string }) => {
    const { templates: found, http } = await loadTemplates(flags);
    http?.close();
    const template = found.find((candidate) => candidate.name === name);
    if (!template) throw new Error(`no template named ${name}`);
    process.stdout.write(
      render({ kind: template.kind, metadata: { name }, spec: template.spec }, flags.output),
    );
  });

  withLibraryFlag(
    withClusterFlags(
      withContextFlags(
        templates.command('select').description('Say which template a context selects, and why'),
      ),
    ),
  ).action(async (flags: TemplateSourceFlags & ContextFlags) => {
    const context = contextFrom(flags);
    const { templates: found, http } = await loadTemplates(flags);
    http?.close();
    const selection = selectTemplate(found, context);
    if (!selection)
      throw new Error(found.length === 0 ? NO_TEMPLATES : "no template's rules select this context");
    process.stdout.write(`${selection.template.name}\n  ${selection.reason}\n`);
  });
}
