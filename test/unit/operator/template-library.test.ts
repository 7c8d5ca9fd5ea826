import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { readTemplateLibrary } from '../../../src/operator/template-library.js';
import { repoRoot } from '../../../hack/local-cluster/paths.js';

describe('the template library file (--template-library)', () => {
  it('reads the eleven library templates the chart hands the operator', () => {
    const library = readTemplateLibrary(
      join(repoRoot, 'helm', 'agentrunbook-operator', 'files', 'template-library.yaml'),
    );
    expect(library.map((template) => template.metadata.name))
      .to.have.length(11)
      .and.include('enterprise');
  });

  it('refuses, naming the template and field, what the schema refuses or another kind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'library-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'apiVersion: i2s.studio/v2\nkind: ClusterAgentRunbookTemplate\nmetadata: {name: broken}\nspec: {runbook: {}}\n',
    );
    expect(() => readTemplateLibrary(bad)).to.throw(
      /bad\.yaml: broken: spec\.runbook\.spec: required field is missing/,
    );
    const other = join(dir, 'other.yaml');
    writeFileSync(other, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    expect(() => readTemplateLibrary(other)).to.throw(
      /holds only ClusterAgentRunbookTemplates, not ConfigMap/,
    );
  });
});
