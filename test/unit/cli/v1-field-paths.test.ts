import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import type { Json } from '../../../src/api/json.js';
import { checkManifest } from '../../../src/cli/runbook-check.js';
import { repoRoot } from '../../../hack/local-cluster/paths.js';

const legacy = () =>
  parse(readFileSync(join(repoRoot, 'examples', 'v1', 'legacy-layout.yaml'), 'utf8')) as Json & {
    spec: { agents: Record<string, Record<string, unknown>> };
  };

describe('validate: a v1 document’s problems at the fields its author wrote', () => {
  it('passes the v1 example', () => {
    expect(checkManifest(legacy()).errors).to.deep.equal([]);
  });

  it('names a stage by its key, and a setting where the v1 document has it', () => {
    const topLevel = legacy();
    topLevel.spec.agents.normalize = { ...topLevel.spec.agents.normalize, timeout: 'soon' };
    const errors = checkManifest(topLevel).errors;
    expect(errors).not.to.deep.equal([]);
    for (const error of errors) expect(error).to.match(/^spec\.agents\.normalize\.timeout: /);
    const underConfig = legacy();
    const research = underConfig.spec.agents.research ?? {};
    delete research.timeout;
    research.config = { ...(research.config as object), timeout: 'later' };
    expect(checkManifest(underConfig).errors[0]).to.match(/^spec\.agents\.research\.config\.timeout: /);
  });

  it('says where a rule of the CRD or the webhook broke, in the v1 layout', () => {
    const dangling = legacy();
    (dangling.spec.agents.research ?? {}).dependsOn = ['ghost'];
    expect(checkManifest(dangling).errors).to.deep.equal([
      'spec.agents: stage research depends on ghost, which is not a stage of this runbook',
    ]);
    const unknownOutput = legacy();
    (unknownOutput.spec.agents.research ?? {}).config = {
      inputs: { normalized_idea: '${nowhere.outputs.x}' },
    };
    const [error] = checkManifest(unknownOutput).errors;
    expect(error).to.match(/^spec\.agents\.research\.config\.inputs/);
    expect(error).not.to.contain('pipeline');
    const v2 = { apiVersion: 'i2s.studio/v2', kind: 'AgentRunbook', metadata: { name: 'x' } } as Json;
    v2.spec = { version: '1.0.0', agents: { pipeline: [{ name: 'a', config: { timeout: 'soon' } }] } };
    expect(checkManifest(v2).errors[0], 'v2 keeps its own paths').to.match(
      /^spec\.agents\.pipeline\[0\]\.config\.timeout/,
    );
  });
});
