/**
 * Every YAML block of the README and docs/ is applied here, so the docs cannot drift from the API:
 * a whole runbook runs to Succeeded (its agents answer with outputs of the declared types); a
 * runbook made from a template, and any other whole object, is admitted by the API server and the
 * operator's webhooks (server-side dry run); a block marked ```yaml fragment=KIND is merged into
 * the smallest object of that kind and admitted too; ```yaml fragment=configuration is checked as
 * the operator's configuration file. A block that is none of these fails the test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { parseCatalog } from '../../src/operator/configuration-file.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { RunbookEnv } from '../support/runbook-env.js';
import { DOC_PAGES } from '../support/repo-files.js';
import { deepMerge } from '../../src/engine/spec/effective.js';
import { succeed } from '../support/scripted-agents.js';

interface Block {
  where: string;
  fragment: string | undefined;
  objects: Record<string, unknown>[];
}

function yamlBlocks(): Block[] {
  return DOC_PAGES.flatMap((file) => {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    return [...text.matchAll(/^```ya?ml([^\n]*)\n([\s\S]*?)^```/gm)].map((match) => {
      const line = text.slice(0, match.index).split('\n').length;
      const fragment = /fragment=(\S+)/.exec(match[1] ?? '')?.[1];
      const objects = parseAllDocuments(match[2] ?? '').map(
        (document) => document.toJS() as Record<string, unknown>,
      );
      return { where: `${file}:${line}`, fragment, objects };
    });
  });
}

/** The smallest object of each kind a fragment is merged into. */
const SMALLEST: Record<string, Record<string, unknown>> = {
  AgentRunbook: { spec: { version: '1.0.0', agents: { pipeline: [{ name: 'a' }] } } },
  Agent: { spec: { image: 'registry.example/agents/a:1' } },
};

const VALUE_OF_TYPE: Record<string, unknown> = {
  string: 'text',
  number: 1.5,
  integer: 1,
  boolean: true,
  object: { from: 'docs' },
  array: ['docs'],
};

const blocks = yamlBlocks();
/** The object under a name of the test's, in the test's namespace. */
const named = (object: Record<string, unknown>, name: string): Record<string, unknown> => {
  const metadata = Object.entries((object.metadata ?? {}) as Record<string, unknown>).filter(
    ([key]) => key !== 'namespace',
  );
  return { ...object, metadata: { ...Object.fromEntries(metadata), name } };
};
const runbooks = blocks.flatMap((block, index) =>
  block.fragment
    ? []
    : block.objects
        .filter(
          (object) => object.kind === 'AgentRunbook' && !(object.spec as { template?: unknown }).template,
        )
        .map((object) => ({ where: block.where, object: named(object, `docs-${index}`) })),
);
const agentNames = runbooks.flatMap(({ object }) =>
  ((object.spec as { agents: { pipeline?: { name: string; agent?: string }[] } }).agents.pipeline ?? []).map(
    (stage) => stage.agent ?? stage.name,
  ),
);
const CATALOG: AgentCatalog = {
  agents: [...new Set(agentNames)].map((name) => ({ name, image: `registry.example/agents/${name}:1` })),
};

describe('the runbooks of the README and docs/ on a real control plane', function () {
  this.timeout(240_000);
  const env = new RunbookEnv('docs', CATALOG, { webhook: true });

  before(async () => {
    await env.start();
    env.script = (call) =>
      succeed(
        Object.fromEntries(Object.entries(call.outputs).map(([name, type]) => [name, VALUE_OF_TYPE[type]])),
      );
  });
  after(() => env.stop());
  const applyAsAdmin = (object: unknown, ...flags: string[]) =>
    kubectl(
      env.plane.adminKubeconfigPath,
      ['-n', env.namespace, 'apply', ...flags, '-f', '-'],
      stringify(object),
    );

  it('finds the blocks: whole runbooks to run, and each other block marked with what it is', () => {
    expect(runbooks.length, 'whole runbooks in the docs').to.be.greaterThanOrEqual(2);
    for (const block of blocks) {
      const whole = block.objects.every((object) => 'apiVersion' in object && 'kind' in object);
      expect(
        whole || block.fragment !== undefined,
        `${block.where}: a whole object, or marked fragment=KIND`,
      ).to.equal(true);
      if (block.fragment)
        expect(['configuration', ...Object.keys(SMALLEST)], block.where).to.include(block.fragment);
    }
  });

  it('runs every whole runbook to Succeeded', async () => {
    for (const { where, object } of runbooks) {
      const result = await applyAsAdmin(object);
      expect(result.code, `${where}: ${result.stderr}`).to.equal(0);
    }
    for (const { where, object } of runbooks) {
      const { name } = object.metadata as { name: string };
      await env.waitPhase(name, 'Succeeded').catch((error: unknown) => {
        throw new Error(`${where}: ${(error as Error).message}`);
      });
    }
  });

  it('admits every other whole object and every fragment (server-side dry run, webhooks included)', async () => {
    const admitted = blocks.flatMap((block, index) => {
      // Configuration is read below; whole runbooks ran above.
      if (block.fragment === 'configuration' || runbooks.some((runbook) => runbook.where === block.where))
        return [];
      return block.objects
        .map((object) =>
          block.fragment
            ? deepMerge(
                { apiVersion: 'i2s.studio/v2', kind: block.fragment, ...SMALLEST[block.fragment] },
                object,
              )
            : object,
        )
        .map((object) => ({
          where: block.where,
          object: named(object as Record<string, unknown>, `docs-dry-${index}`),
        }));
    });
    expect(admitted.length).to.be.greaterThanOrEqual(4);
    for (const { where, object } of admitted) {
      const result = await applyAsAdmin(object, '--dry-run=server');
      if (object.kind === 'GateDecision') {
        // The schema took it; the webhook then looks for the run it decides, which no doc makes.
        const runbook = (object.spec as { runbook: string }).runbook;
        expect(result.stderr, where).to.contain(
          `spec.runbook: agentrunbook ${env.namespace}/${runbook} does not exist`,
        );
      } else expect(result.code, `${where}: ${result.stderr}`).to.equal(0);
    }
  });

  it('reads every configuration block as the operator reads its configuration file', () => {
    const configurations = blocks.filter((block) => block.fragment === 'configuration');
    expect(configurations.length).to.be.greaterThanOrEqual(3);
    for (const block of configurations) {
      const [object] = block.objects;
      expect(
        () => parseCatalog(stringify({ agents: [], ...object }), block.where),
        block.where,
      ).not.to.throw();
    }
  });
});
