import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles, renderedFiles } from './generated-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const write = (files: Map<string, string>) => {
  for (const [path, content] of files) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
    console.log(`wrote ${path}`);
  }
};
write(generatedFiles());
write(renderedFiles());
