/** The README and docs/ link to files and headings that exist, so moving a page breaks a test, not a reader. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../../../hack/local-cluster/paths.js';
import { DOC_PAGES } from '../../support/repo-files.js';

/** Text outside code blocks. */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '');

/** GitHub's anchor of a heading. */
const anchor = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-');

function anchorsOf(file: string): Set<string> {
  const headings = [...prose(readFileSync(join(repoRoot, file), 'utf8')).matchAll(/^#+ (.*)$/gm)];
  return new Set(headings.map((match) => anchor(match[1] ?? '')));
}

describe('docs: links between pages', () => {
  it('resolves every relative link to a file, and every #anchor to a heading of it', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of DOC_PAGES) {
      for (const match of prose(readFileSync(join(repoRoot, page), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1] ?? '';
        if (/^[a-z]+:/.test(target)) continue;
        checked += 1;
        const [path = '', hash] = target.split('#');
        const file = path ? normalize(join(dirname(page), path)) : page;
        if (!existsSync(join(repoRoot, file))) broken.push(`${page}: ${target} (no ${file})`);
        else if (hash !== undefined && file.endsWith('.md') && !anchorsOf(file).has(hash))
          broken.push(`${page}: ${target} (no heading #${hash} in ${file})`);
      }
    }
    expect(broken).to.deep.equal([]);
    expect(checked).to.be.greaterThan(20);
  });

  it('keeps the README short: the rest is in docs/', () => {
    const lines = readFileSync(join(repoRoot, 'README.md'), 'utf8').split('\n').length;
    expect(lines).to.be.at.most(250);
  });
});
