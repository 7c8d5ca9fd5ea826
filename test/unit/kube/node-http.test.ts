import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const src = (path: string) => fileURLToPath(new URL(`../../../src/${path}`, import.meta.url));

describe('node-http', () => {
  it('keeps undici out of the operator and its webhook thread, as an ES import of node:http would not', () => {
    // A process of its own: this one has loaded whatever the other tests imported.
    const script = `
      const undici = () => process.moduleLoadList.filter((name) => name.includes('undici'));
      await import(${JSON.stringify(src('cli/operator-command.ts'))});
      await import(${JSON.stringify(src('webhook/webhook-worker.ts'))});
      const operator = undici();
      await import('node:http');
      console.log(JSON.stringify({ operator, afterEsImport: undici().length > 0 }));
    `;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(output)).to.deep.equal({ operator: [], afterEsImport: true });
  });
});
