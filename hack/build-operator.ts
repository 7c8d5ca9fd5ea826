/**
 * Bundles the CLI (and so the operator) with its dependencies into dist/bundle/ with esbuild:
 * main.js, the webhook thread's webhook-worker.js beside it, and the chunks they share (each
 * command is still loaded only when run). The operator image runs dist/bundle/main.js.
 *
 * Why: V8 keeps every loaded module's source text (it compiles functions lazily, and again after
 * dropping their bytecode), and Node keeps a record per module; the operator loads about 700 of
 * them. Bundled without comments and whitespace, the operator is 4 to 7 MB smaller idle with 100
 * finished runbooks (82 to 84 MB as compiled modules, 77 to 78 bundled) and about 5 MB lower at
 * the peak of the 100 x 5 run (docs/performance.md).
 * Names are not minified (esbuild renames only a top-level name two modules share): stack traces
 * keep them, and so does `constructor.name`, which dependencies read. Minified names would need
 * esbuild's `keepNames`, which wraps every function it renames in a call, run each time the
 * function is made. `--enable-source-maps` maps stack traces back to src/ through the linked maps.
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
    minifyWhitespace: true,
    minifySyntax: true,
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
