import { expect } from 'chai';
import { join } from 'node:path';
import type { AgentCatalog } from '../../src/api/catalog.js';
import type { TemplateSpecV2 } from '../../src/api/v2/template.js';
import { renderRunbook } from '../../src/generator/render.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { eventually } from '../support/eventually.js';
import { RunbookEnv } from '../support/runbook-env.js';
import { succeed } from '../support/scripted-agents.js';

const AGENTS = [
  'normalize',
  'research',
  'market_analyst',
  'synthesis',
  'security',
  'librarian',
  'performance',
];
const CATALOG: AgentCatalog = {
  agents: AGENTS.map((name) => ({ name, image: `registry.example/agents/${name}:1.0.0` })),
};

/** What an agent reports for each declared output type. */
const SAMPLE: Record<string, unknown> = {
  object: { ok: true },
  array: [],
  string: 'done',
  number: 1,
  integer: 1,
  boolean: true,
};

interface Template {
  metadata: { name: string };
  spec: TemplateSpecV2;
}

describe('the template library on a real API server: each template admitted, generated and run', function () {
  this.timeout(300_000);
  const env = new RunbookEnv('templates', CATALOG, { webhook: true });

  before(async () => {
    await env.start();
    env.script = (call) =>
      succeed(
        Object.fromEntries(Object.entries(call.outputs).map(([name, type]) => [name, SAMPLE[type] ?? null])),
      );
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
          const pending = (status.gates ?? [])
            .filter((gate) => gate.phase === 'Pending')
            .map((gate) => String(gate.name));
          for (const gate of pending)
            await env.k('annotate', 'arb', name, `gates.i2s.studio/${gate}=approved`, '--overwrite');
          phases.push(`${name}=${String(status.phase)}`);
        }
        expect(phases).to.deep.equal(names.map((name) => `${name}=Succeeded`));
      },
      240_000,
      1000,
    );
  });
});
