import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { validateAgentRunbook, validateTemplate } from '../../../src/api/validator.js';
import type { TemplateSpecV2 } from '../../../src/api/v2/template.js';
import { renderRunbook } from '../../../src/generator/render.js';
import { selectTemplate, type NamedTemplate, type SelectionContext } from '../../../src/generator/select.js';
import { validateRunbookSpec } from '../../../src/webhook/validate-runbook.js';
import { repoRoot } from '../../../hack/local-cluster/paths.js';
import { resolveTemplate } from '../../../src/generator/resolve-template.js';
import { chooseTemplate, NO_TEMPLATES } from '../../../src/client/templates.js';

const DIR = join(repoRoot, 'config', 'templates');
const objects = readdirSync(DIR)
  .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
  .map((file) => ({
    file,
    object: parse(readFileSync(join(DIR, file), 'utf8')) as {
      metadata: { name: string };
      spec: TemplateSpecV2;
    },
  }));
const library: NamedTemplate[] = objects.map(({ object }) => ({
  name: object.metadata.name,
  spec: object.spec,
}));

const CONTEXT = {
  ideaId: 'idea_123',
  title: 'AI Task Manager',
  ideaText:
    "A task manager that reads a person's calendar and inbox and proposes the next three things to do.",
  complexity: 'moderate',
  riskLevel: 5,
  domains: ['productivity', 'ai'],
  userType: 'individual',
};
const NOW = new Date('2026-11-25T10:20:30Z');

describe('the template library (config/templates)', () => {
  it('holds every template the specification names', () => {
    expect(library.map((template) => template.spec.displayName).sort()).to.deep.equal([
      'Basic Pipeline',
      'Complex Analysis',
      'Comprehensive Pipeline',
      'Enterprise',
      'HIPAA-Compliant Pipeline',
      'High-Security Pipeline',
      'Lightweight Pipeline',
      'PCI-Compliant Pipeline',
      'Rapid Prototype',
      'Security-First',
      'Standard Pipeline',
    ]);
  });

  for (const { file, object } of objects) {
    it(`${file}: a valid ClusterAgentRunbookTemplate that generates a runbook admission accepts`, () => {
      expect(validateTemplate(object)).to.deep.equal([]);
      const rendered = renderRunbook(
        { name: object.metadata.name, spec: object.spec },
        CONTEXT,
        NOW,
        'team-a',
      );
      if ('problem' in rendered) throw new Error(rendered.problem);
      const { runbook } = rendered;
      expect(validateAgentRunbook(runbook)).to.deep.equal([]);
      expect(validateRunbookSpec(runbook.spec)).to.deep.equal([]);
      expect(runbook.metadata).to.deep.include({ name: 'ai-task-manager', namespace: 'team-a' });
      expect(runbook.metadata.annotations).to.deep.equal({ 'i2s.studio/template': object.metadata.name });
      expect(runbook.spec.context).to.deep.equal(CONTEXT);
      expect(runbook.spec.description).to.contain('AI Task Manager').and.not.contain('${');
      expect(runbook.spec.created).to.equal('2026-11-25T10:20:30Z');
      // Stage inputs keep their references for the run.
      expect(runbook.spec.agents.pipeline?.[0]?.config?.inputs).to.deep.include({
        idea_text: '${context.ideaText}',
      });
    });
  }
});

describe('the selector (the specification’s precedence, as the templates’ rules)', () => {
  const table: [SelectionContext, string][] = [
    [{ complexity: 'moderate' }, 'standard-pipeline'],
    [{}, 'standard-pipeline'],
    [{ complexity: 'simple' }, 'lightweight-pipeline'],
    [{ complexity: 'complex' }, 'comprehensive-pipeline'],
    [{ complexity: 'simple', domains: ['healthcare'] }, 'hipaa-compliant-pipeline'],
    [{ complexity: 'complex', domains: ['finance'] }, 'pci-compliant-pipeline'],
    [{ domains: ['finance', 'healthcare'] }, 'hipaa-compliant-pipeline'],
    [{ domains: ['finance'], riskLevel: 9 }, 'high-security-pipeline'],
    [{ complexity: 'simple', riskLevel: 8.5 }, 'high-security-pipeline'],
    [{ complexity: 'simple', riskLevel: 8 }, 'lightweight-pipeline'],
  ];
  for (const [context, expected] of table) {
    it(`${JSON.stringify(context)} -> ${expected}`, () => {
      expect(selectTemplate(library, context)?.template.name).to.equal(expected);
    });
  }

  it('says why, naming the rules that held and the templates it beat', () => {
    expect(selectTemplate(library, { domains: ['healthcare'], riskLevel: 9.5 })?.reason).to.equal(
      'high-security-pipeline (priority 400): riskLevel > 8; also matched, lower: hipaa-compliant-pipeline (300), standard-pipeline (0)',
    );
  });

  it('never picks a template without a selector, and gives nothing when no rules hold', () => {
    const named = library.filter((template) => !template.spec.selector);
    expect(named.map((template) => template.name).sort()).to.deep.equal([
      'basic-pipeline',
      'complex-analysis',
      'enterprise',
      'rapid-prototype',
      'security-first',
    ]);
    expect(selectTemplate(named, { complexity: 'simple' })).to.equal(undefined);
  });
});

describe('rendering a template', () => {
  const [first] = library;
  if (!first) throw new Error('empty library');

  it('bounds the name whatever the title, and falls back to the idea id', () => {
    const long = renderRunbook(first, { title: 'Ünïcode ' + 'x'.repeat(10_000) }, NOW);
    if ('problem' in long) throw new Error(long.problem);
    expect(long.runbook.metadata.name)
      .to.have.length.at.most(63)
      .and.match(/^unicode-x+$/);
    const byId = renderRunbook(first, { ideaId: 'Idea_42', title: '' }, NOW);
    expect('runbook' in byId && byId.runbook.metadata.name).to.equal('idea-42');
  });

  it('fills {timestamp} and the other placeholders in the name', () => {
    const named = {
      ...first,
      spec: { ...first.spec, runbook: { ...first.spec.runbook, name: '{idea-slug}-{timestamp}' } },
    };
    const rendered = renderRunbook(named, CONTEXT, NOW);
    expect('runbook' in rendered && rendered.runbook.metadata.name).to.equal(
      'ai-task-manager-20261125102030',
    );
  });

  it('names a ${context...} reference the context cannot fill', () => {
    const broken = {
      ...first,
      spec: {
        ...first.spec,
        runbook: {
          ...first.spec.runbook,
          spec: { ...first.spec.runbook.spec, description: 'for ${context.sponsor|upper}' },
        },
      },
    };
    const rendered = renderRunbook(broken, CONTEXT, NOW);
    expect('problem' in rendered && rendered.problem).to.match(
      /^template basic-pipeline: \$\{context\.sponsor\|upper\}: /,
    );
  });
});

describe('a cluster with no templates at all', () => {
  const runbook = {
    metadata: { name: 'idea', namespace: 'team-a' },
    spec: { version: '1.0.0', template: {}, context: { complexity: 'simple' } },
  } as unknown as Parameters<typeof resolveTemplate>[0];

  it('says so, and how to install the library, where the operator resolves spec.template', () => {
    const outcome = resolveTemplate(runbook, [], new Date(0));
    expect(outcome).to.include({ reason: 'NoTemplateMatches' });
    expect((outcome as { message: string }).message)
      .to.contain('kubectl apply -f manifests/template-library.yaml')
      .and.contain('complexity=simple')
      .and.contain('no AgentRunbookTemplate (in team-a) or ClusterAgentRunbookTemplate');
    const some = resolveTemplate(
      runbook,
      [{ ...library[0], kind: 'ClusterAgentRunbookTemplate' }] as never,
      new Date(0),
    );
    expect((some as { message: string }).message).to.match(/among 1 templates/);
  });

  it('says so, and how to install the library, where generate chooses one', () => {
    expect(() => chooseTemplate([], { complexity: 'simple' }, undefined)).to.throw(NO_TEMPLATES);
    expect(NO_TEMPLATES).to.contain('kubectl apply -f manifests/template-library.yaml');
  });
});
