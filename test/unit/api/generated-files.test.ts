import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { generatedFiles, renderedFiles } from '../../../hack/generated-files.js';
import { repoRoot } from '../../../hack/local-cluster/paths.js';

describe('generated files', () => {
  for (const [path, content] of [...generatedFiles(), ...renderedFiles()]) {
    it(`${path} is up to date (run make generate if this fails)`, () => {
      const file = join(repoRoot, path);
      expect(existsSync(file), `${path} is missing`).to.equal(true);
      // A string comparison, so a stale file fails with the diff to what make generate writes.
      expect(readFileSync(file, 'utf8'), `${path} is stale`).to.equal(content);
    });
  }
});
