import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseAllDocuments } from 'yaml';
import { readAgentLibrary } from '../../../src/operator/agent-library.js';
import { repoRoot } from '../../../hack/local-cluster/paths.js';

const file = (name: string, text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'agent-library-')), name);
  writeFileSync(path, text);
  return path;
};

describe('the agent library file (--agent-library)', () => {
  it('reads the agents the chart’s values install, as the chart renders them', () => {
    const rendered = parseAllDocuments(
      readFileSync(join(repoRoot, 'test', 'golden', 'helm-default.yaml'), 'utf8'),
    ).map((document) => document.toJS() as { kind?: string; data?: Record<string, string> });
    const configMap = rendered.find(
      (object) => object.kind === 'ConfigMap' && object.data?.['agent-library.yaml'],
    );
    const library = readAgentLibrary(file('agents.yaml', configMap?.data?.['agent-library.yaml'] ?? ''));
    expect(library.map((agent) => `${agent.kind ?? ''}/${agent.metadata.name ?? ''}`)).to.deep.equal([
      'ClusterAgent/reference',
    ]);
    expect(library[0]?.spec.image).to.equal('ghcr.io/i2s-studio/agentrunbook-agent:0.1.0');
  });

  it('reads Agents with their namespace from YAML documents too', () => {
    const library = readAgentLibrary(
      file(
        'agents.yaml',
        'apiVersion: i2s.studio/v2\nkind: Agent\nmetadata: {name: research, namespace: team-a}\nspec: {image: r:1}\n---\napiVersion: i2s.studio/v2\nkind: ClusterAgent\nmetadata: {name: all}\nspec: {image: a:1}\n',
      ),
    );
    expect(library.map((agent) => agent.metadata.namespace ?? '(cluster)')).to.deep.equal([
      'team-a',
      '(cluster)',
    ]);
  });

  it('refuses, naming the agent and the field, another kind, an Agent without a namespace, or a bad spec', () => {
    expect(() =>
      readAgentLibrary(file('a.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n')),
    ).to.throw(/a\.yaml: x: the agent library holds only Agents and ClusterAgents/);
    expect(() =>
      readAgentLibrary(
        file('b.yaml', 'apiVersion: i2s.studio/v2\nkind: Agent\nmetadata: {name: y}\nspec: {image: i}\n'),
      ),
    ).to.throw(/b\.yaml: y: an Agent needs metadata\.namespace/);
    expect(() =>
      readAgentLibrary(
        file(
          'c.yaml',
          'apiVersion: i2s.studio/v2\nkind: ClusterAgent\nmetadata: {name: z}\nspec: {image: 7}\n',
        ),
      ),
    ).to.throw(/c\.yaml: z: spec\.image/);
  });
});
