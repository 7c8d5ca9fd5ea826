import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { join } from 'node:path';
import type { TemplateSpecV2 } from '../../src/api/v2/template.js';
import { renderRunbook } from '../../src/generator/render.js';
import { loadClusterAccess } from '../../src/kube/cluster-access.js';
import { KubeHttp } from '../../src/kube/http.js';
import { applyTemplateLibrary, readTemplateLibrary } from '../../src/operator/template-library.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { eventually } from '../support/eventually.js';
import { startCli } from '../support/cli-process.js';
import { RunbookEnv } from '../support/runbook-env.js';
import { LIBRARY_CATALOG, succeedWithDeclaredOutputs } from '../support/scripted-agents.js';

interface Template {
  metadata: { name: string };
  spec: TemplateSpecV2;
}

describe('the template library on a real API server: each template admitted, generated and run', function () {
  this.timeout(300_000);
  const env = new RunbookEnv('templates', LIBRARY_CATALOG, { webhook: true });

  before(async () => {
    await env.start();
    env.script = succeedWithDeclaredOutputs;
    const admin = (...args: string[]) => env.k(...args);
    for (const crd of ['agentrunbooktemplates', 'clusteragentrunbooktemplates']) {
      const established = await admin(
        'wait',
        '--for=condition=Established',
        '--timeout=60s',
        `crd/${crd}.i2s.studio`,
      );
      expect(established.code, established.stderr).to.equal(0);
    }
    const applied = await admin('apply', '-k', join(repoRoot, 'config', 'templates'));
    expect(applied.code, applied.stderr).to.equal(0);
  });
  after(() => env.stop());

  it('runs a runbook generated from every library template to Succeeded, approving its gates', async () => {
    const listed = await env.k('get', 'clusteragentrunbooktemplates', '-o', 'json');
    const templates = (JSON.parse(listed.stdout) as { items: Template[] }).items;
    expect(templates).to.have.length(11);
    const names: string[] = [];
    for (const template of templates) {
      const rendered = renderRunbook(
        { name: template.metadata.name, spec: template.spec },
        {
          ideaId: `idea-${template.metadata.name}`,
          title: `Idea for ${template.metadata.name}`,
          ideaText: 'A task manager that reads a calendar and proposes the next three things to do.',
          complexity: 'moderate',
          riskLevel: 5,
          domains: ['productivity'],
        },
        new Date(),
        env.namespace,
      );
      if ('problem' in rendered) throw new Error(rendered.problem);
      await env.apply(rendered.runbook);
      names.push(rendered.runbook.metadata.name);
    }
    // Gates wait for a person: approve each as it comes, until every run has succeeded.
    await eventually(
      async () => {
        const phases: string[] = [];
        for (const name of names) {
          const status = await env.status(name);
          const waiting = (status.gates ?? [])
            .filter((gate) => gate.phase === 'Pending' && gate.since)
            .map((gate) => String(gate.name));
          for (const gate of waiting) await env.decide(name, gate);
          phases.push(`${name}=${String(status.phase)}`);
        }
        expect(phases).to.deep.equal(names.map((name) => `${name}=Succeeded`));
      },
      240_000,
      1000,
    );
  });

  it('the operator keeps the library: a changed or deleted library template is restored, under its own RBAC', async () => {
    expect((await env.k('delete', 'clusteragentrunbooktemplate', 'security-first')).code).to.equal(0);
    const changed = await env.k(
      'patch',
      'clusteragentrunbooktemplate',
      'basic-pipeline',
      '--type=merge',
      '-p',
      '{"spec":{"displayName":"Changed"}}',
    );
    expect(changed.code, changed.stderr).to.equal(0);
    const library = readTemplateLibrary(join(repoRoot, 'manifests', 'template-library.yaml'));
    await applyTemplateLibrary(new KubeHttp(await loadClusterAccess(env.operatorKubeconfig)), library);
    const names = (await env.k('get', 'clusteragentrunbooktemplates', '-o', 'name')).stdout;
    expect(names).to.contain('security-first');
    const displayName = await env.k(
      'get',
      'clusteragentrunbooktemplate',
      'basic-pipeline',
      '-o',
      'jsonpath={.spec.displayName}',
    );
    expect(displayName.stdout).to.equal('Basic Pipeline');
  });

  const made = (name: string, template: Record<string, unknown>, context: Record<string, unknown>) => ({
    apiVersion: 'i2s.studio/v2',
    kind: 'AgentRunbook',
    metadata: { name },
    spec: {
      version: '1.0.0',
      context: { title: name, ideaText: 'An idea long enough for every template to work with.', ...context },
      template,
    },
  });
  const stagesOf = async (name: string) =>
    ((await env.status(name)).stages as { name: string; phase: string }[]).map(
      (stage) => `${stage.name}=${stage.phase}`,
    );

  it('spec.template {} selects a template from spec.context, keeps it in status.template and runs it', async () => {
    await env.apply(made('picked', {}, { complexity: 'simple', domains: ['productivity'] }));
    await env.waitPhase('picked', 'Succeeded');
    const status = await env.status('picked');
    expect(status.template).to.deep.include({
      kind: 'ClusterAgentRunbookTemplate',
      name: 'lightweight-pipeline',
      observedGeneration: 1,
    });
    expect((status.template as { reason: string }).reason).to.match(
      /^selected: lightweight-pipeline \(priority 100\): complexity is simple/,
    );
    expect(await stagesOf('picked')).to.deep.equal([
      'normalize=Succeeded',
      'research=Succeeded',
      'synthesis=Succeeded',
    ]);
  });

  it('a template changed after it was resolved does not change the runbook, even on a rerun', async () => {
    await env.apply(made('pinned', { name: 'rapid-prototype' }, {}));
    await env.waitPhase('pinned', 'Succeeded');
    const patched = await env.k(
      'patch',
      'clusteragentrunbooktemplate',
      'rapid-prototype',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/runbook/spec/agents/pipeline/1"}]',
    );
    expect(patched.code, patched.stderr).to.equal(0);
    expect((await env.k('annotate', 'arb', 'pinned', 'i2s.studio/rerun=again')).code).to.equal(0);
    await eventually(async () => {
      expect((await env.status('pinned')).execution).to.not.equal('g1');
    });
    await env.waitPhase('pinned', 'Succeeded');
    expect(await stagesOf('pinned')).to.deep.equal(['normalize=Succeeded', 'research=Succeeded']);
  });

  it('without a matching template it waits with TemplateResolved=False naming the context, and runs once one appears', async () => {
    await env.apply(
      made('waiting', { kind: 'AgentRunbookTemplate' }, { complexity: 'simple', riskLevel: 3 }),
    );
    await eventually(async () => {
      const condition = (await env.condition('waiting', 'TemplateResolved')) ?? { reason: '', message: '' };
      expect(condition).to.include({ status: 'False', reason: 'NoTemplateMatches' });
      expect(condition.message).to.contain('complexity=simple').and.contain('riskLevel=3');
    });
    expect(await env.eventCount('waiting', 'NoTemplateMatches')).to.equal(1);
    const library = JSON.parse(
      (await env.k('get', 'clusteragentrunbooktemplate', 'basic-pipeline', '-o', 'json')).stdout,
    ) as { spec: TemplateSpecV2 };
    await env.apply({
      apiVersion: 'i2s.studio/v2',
      kind: 'AgentRunbookTemplate',
      metadata: { name: 'team-simple' },
      spec: { ...library.spec, selector: { complexity: ['simple'] } },
    });
    await env.waitPhase('waiting', 'Succeeded');
    expect((await env.status('waiting')).template).to.deep.include({
      kind: 'AgentRunbookTemplate',
      name: 'team-simple',
    });
  });

  it('refuses at admission a runbook made from a template that sets its own agents', async () => {
    const both = made('both', { name: 'basic-pipeline' }, {});
    const refused = await kubectl(
      env.plane.adminKubeconfigPath,
      ['-n', env.namespace, 'apply', '-f', '-'],
      stringify({ ...both, spec: { ...both.spec, agents: { pipeline: [{ name: 'normalize' }] } } }),
    );
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.contain(
      'spec.agents: a runbook made from a template (spec.template) takes agents from the template',
    );
  });

  describe('the agentrunbook CLI: generate and templates', () => {
    const cli = async (...args: string[]) => {
      const run = startCli([...args, `--kubeconfig=${env.plane.adminKubeconfigPath}`, '-n', env.namespace]);
      return { code: await run.exited, output: run.output() };
    };

    it('generate prints the runbook the context selects; --apply creates it, and it runs', async () => {
      const printed = await cli(
        'generate',
        '--title',
        'Printed Idea',
        '--complexity',
        'complex',
        '--idea-text',
        'Long enough.',
      );
      expect(printed.code, printed.output).to.equal(0);
      const runbook = parse(printed.output) as {
        metadata: { name: string; namespace: string; annotations: Record<string, string> };
      };
      expect(runbook.metadata).to.deep.include({ name: 'printed-idea', namespace: env.namespace });
      expect(runbook.metadata.annotations).to.deep.equal({ 'i2s.studio/template': 'comprehensive-pipeline' });
      const applied = await cli(
        'generate',
        '--apply',
        '--template',
        'basic-pipeline',
        '--title',
        'Applied Idea',
        '--idea-text',
        'x',
      );
      expect(applied.code, applied.output).to.equal(0);
      expect(applied.output).to.equal(
        'agentrunbook.i2s.studio/applied-idea created (template basic-pipeline)\n',
      );
      await env.waitPhase('applied-idea', 'Succeeded');
    });

    it('templates lists what the namespace sees, shows one, and says which one a context selects and why', async () => {
      const listed = await cli('templates');
      expect(listed.code, listed.output).to.equal(0);
      const names = listed.output
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(/\s+/).slice(0, 2).join(' '));
      expect(names)
        .to.include('team-simple AgentRunbookTemplate')
        .and.include('high-security-pipeline ClusterAgentRunbookTemplate');
      expect(names).to.have.length(12);
      const shown = await cli('templates', 'show', 'enterprise', '-o', 'json');
      expect((JSON.parse(shown.output) as { spec: TemplateSpecV2 }).spec.displayName).to.equal('Enterprise');
      const selected = await cli('templates', 'select', '--domain', 'finance', '--complexity', 'simple');
      expect(selected.output).to.equal(
        'pci-compliant-pipeline\n  pci-compliant-pipeline (priority 200): domains include finance or payments; also matched, lower: lightweight-pipeline (100), standard-pipeline (0), team-simple (0)\n',
      );
    });

    it('fails with exit code 1 and says why', async () => {
      const missing = await cli('generate', '--template', 'nope', '--title', 'x');
      expect(missing.code).to.equal(1);
      expect(missing.output).to.contain('no template named nope');
    });
  });
});
