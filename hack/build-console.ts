/**
 * Bundles the console's front end (console-ui/) into dist/console-ui/ with esbuild: one script,
 * one stylesheet, the page; nothing from a CDN, so the console works air-gapped. Fails when the
 * script grows past its budget.
 */
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CONSOLE_OUT = join(ROOT, 'dist', 'console-ui');
/** The script's budget, minified and gzipped: Preact, htm, dagre and diff fit in well under it. */
export const SCRIPT_BUDGET_GZIP_BYTES = 48 * 1024;

export async function buildConsole(out = CONSOLE_OUT): Promise<{ scriptBytes: number; gzipBytes: number }> {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'console-ui', 'src', 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    outfile: join(out, 'app.js'),
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(ROOT, 'console-ui', 'index.html'), join(out, 'index.html'));
  copyFileSync(join(ROOT, 'console-ui', 'app.css'), join(out, 'app.css'));
  const scriptBytes = statSync(join(out, 'app.js')).size;
  const gzipBytes = gzipSync(readFileSync(join(out, 'app.js'))).length;
  if (gzipBytes > SCRIPT_BUDGET_GZIP_BYTES)
    throw new Error(
      `the console's script is ${gzipBytes} bytes gzipped, over its budget of ${SCRIPT_BUDGET_GZIP_BYTES}`,
    );
  return { scriptBytes, gzipBytes };
}

// No top-level await: mocha loads a module graph with one through import() instead of require(),
// which gives the test helpers it shares with the root hooks a second instance.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildConsole().then(
    ({ scriptBytes, gzipBytes }) => {
      process.stdout.write(`dist/console-ui/app.js: ${scriptBytes} bytes, ${gzipBytes} gzipped\n`);
    },
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
