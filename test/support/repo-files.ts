/** The repository's own files as tests read them: source code by directory, and the docs pages. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../hack/local-cluster/paths.js';

/** The text of every .ts file under src/<dir> for each dir, but those `skip` names, joined. */
export function sourceCode(dirs: readonly string[], skip: readonly string[] = []): string {
  const texts = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? texts(join(dir, entry.name))
        : entry.name.endsWith('.ts') && !skip.includes(entry.name)
          ? [readFileSync(join(dir, entry.name), 'utf8')]
          : [],
    );
  return dirs.flatMap((dir) => texts(join(repoRoot, 'src', dir))).join('\n');
}

/** The README and the pages of docs/, as paths from the repository root. */
export const DOC_PAGES = [
  'README.md',
  ...readdirSync(join(repoRoot, 'docs')).map((file) => `docs/${file}`),
].filter((file) => file.endsWith('.md'));
