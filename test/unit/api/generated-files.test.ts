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

describe('package-lock.json', () => {
  it('says of the root package what package.json says: name, version, bin, engines', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, Record<string, unknown>>;
    };
    const root = lock.packages[''] ?? {};
    // npm install from a stale lockfile links only the bins the lockfile lists (run npm install).
    for (const field of ['name', 'version', 'bin', 'engines'])
      expect(root[field], `package-lock.json's ${field}`).to.deep.equal(manifest[field]);
  });
});
