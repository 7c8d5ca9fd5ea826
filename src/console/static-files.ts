/** The console's front end (the bundle `npm run build` writes to dist/console-ui), held in memory. */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

/** Where the bundle is: beside the compiled console (dist/), or in dist/ when run from src/. */
export function defaultAssetsDir(): string {
  const candidates = ['../console-ui/', '../../dist/console-ui/'].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (!found)
    throw new Error(
      `the console's front end is not built (npm run build): looked in ${candidates.join(', ')}`,
    );
  return found;
}

export function loadStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(`/${name}`, { body, type, etag });
  }
  const index = files.get('/index.html');
  if (!index) throw new Error(`${dir} has no index.html`);
  files.set('/', index);
  return files;
}
