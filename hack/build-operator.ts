/**
 * Bundles the CLI (and so the operator) with its dependencies into dist/bundle/ with esbuild,
 * minified: main.js, the webhook thread's webhook-worker.js beside it, and the chunks they share
 * (each command is still loaded only when run). The operator image runs dist/bundle/main.js.
 *
 * Why: V8 keeps every loaded module's source text (it compiles functions lazily, and again after
 * dropping their bytecode), and Node keeps a record per module; the operator loads about 600 of
 * them. Bundled and minified, the operator is 6 to 7 MB smaller idle with 100 finished runbooks
 * (84 to 77 MB) and 14 MB lower at its peak; the webhook thread 2 to 3 MB (docs/performance.md).
 * Names are kept (`keepNames`): dependencies read `constructor.name`, and error messages name
 * classes. `--enable-source-maps` maps stack traces back to src/ through the linked maps.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BUNDLE_OUT = join(ROOT, 'dist', 'bundle');

/**
 * esbuild's ES module output has no `require` for the CommonJS dependencies it wraps (winston,
 * prom-client, semver ...) to load Node's built-in modules with: each chunk makes one.
 */
const REQUIRE_SHIM =
  "import { createRequire as __agentrunbookCreateRequire } from 'node:module'; const require = __agentrunbookCreateRequire(import.meta.url);";

export async function buildOperatorBundle(out = BUNDLE_OUT): Promise<string[]> {
  rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints: [
      { in: join(ROOT, 'src', 'cli', 'main.ts'), out: 'main' },
      // Beside the chunks, where src/webhook/webhook-thread.ts looks for it.
      { in: join(ROOT, 'src', 'webhook', 'webhook-worker.ts'), out: 'webhook-worker' },
    ],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    outdir: out,
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'linked',
    banner: { js: REQUIRE_SHIM },
    logLevel: 'warning',
  });
  return readdirSync(out).filter((name) => name.endsWith('.js'));
}

// No top-level await: see hack/build-console.ts.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildOperatorBundle().then(
    (files) => process.stdout.write(`dist/bundle: ${files.length} scripts\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
