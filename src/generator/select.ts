/**
 * The specification's template selector, with its precedence kept in the templates' own rules
 * (spec.selector) rather than in code: of the templates whose rules all hold for the context, the
 * highest priority wins, ties going to the first name.
 */
import type { SelectorV2, TemplateSpecV2 } from '../api/v2/template.js';
import { compareText } from '../api/text.js';

/** The fields of an idea's context that selection reads (spec.context's). */
export interface SelectionContext {
  complexity?: string;
  domains?: string[];
  riskLevel?: number;
  userType?: string;
}

export interface NamedTemplate {
  /** The template's name; a namespaced one is preferred over a cluster one of the same name. */
  name: string;
  spec: TemplateSpecV2;
}

/** Each rule a selector sets, and whether the context meets it, in words. */
export function ruleVerdicts(
  selector: SelectorV2,
  context: SelectionContext,
): { rule: string; holds: boolean }[] {
  const verdicts: { rule: string; holds: boolean }[] = [];
  const { complexity, domains, userType, riskLevel } = selector;
  if (complexity) {
    verdicts.push({
      rule: `complexity is ${complexity.join(' or ')}`,
      holds:
        context.complexity !== undefined &&
        complexity.includes(context.complexity as (typeof complexity)[number]),
    });
  }
  if (domains) {
    verdicts.push({
      rule: `domains include ${domains.join(' or ')}`,
      holds: (context.domains ?? []).some((domain) => domains.includes(domain)),
    });
  }
  if (userType) {
    verdicts.push({
      rule: `userType is ${userType.join(' or ')}`,
      holds: context.userType !== undefined && userType.includes(context.userType),
    });
  }
  const risk = context.riskLevel ?? 0;
  if (riskLevel?.above !== undefined) {
    verdicts.push({ rule: `riskLevel > ${riskLevel.above}`, holds: risk > riskLevel.above });
  }
  if (riskLevel?.atMost !== undefined) {
    verdicts.push({ rule: `riskLevel <= ${riskLevel.atMost}`, holds: risk <= riskLevel.atMost });
  }
  return verdicts;
}

/** A template as a source holds it: its kind, name and spec. */
export interface KindedTemplate extends NamedTemplate {
  kind: string;
}

/** The templates one namespace sees: a namespaced template shadows a cluster one of its name. */
export function visibleTemplates(
  cluster: Iterable<KindedTemplate>,
  namespaced: Iterable<KindedTemplate>,
): KindedTemplate[] {
  const byName = new Map<string, KindedTemplate>();
  for (const template of cluster) byName.set(template.name, template);
  for (const template of namespaced) byName.set(template.name, template);
  return [...byName.values()];
}

export interface Selection<T extends NamedTemplate = NamedTemplate> {
  template: T;
  /** Why it was chosen, for `agentrunbook templates select` and the runbook's status.template. */
  reason: string;
}

/** The template for a context, or undefined when no selectable template's rules hold. */
export function selectTemplate<T extends NamedTemplate>(
  templates: readonly T[],
  context: SelectionContext,
): Selection<T> | undefined {
  const matching = templates
    .filter((template) => template.spec.selector !== undefined)
    .map((template) => {
      const selector = template.spec.selector ?? {};
      return { template, verdicts: ruleVerdicts(selector, context), priority: selector.priority ?? 0 };
    })
    .filter(({ verdicts }) => verdicts.every((verdict) => verdict.holds))
    .sort((a, b) => b.priority - a.priority || compareText(a.template.name, b.template.name));
  const [best, ...others] = matching;
  if (!best) return undefined;
  const rules = best.verdicts.map((verdict) => verdict.rule);
  const beaten = others.map((other) => `${other.template.name} (${other.priority})`);
  return {
    template: best.template,
    reason: `${best.template.name} (priority ${best.priority}): ${rules.length ? rules.join(', ') : 'no rules: the default'}${beaten.length ? `; also matched, lower: ${beaten.join(', ')}` : ''}`,
  };
}
