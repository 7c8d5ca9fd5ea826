/**
 * `npm run sizes`: the largest source files and functions under src/, by lines, so a change that
 * grows one past what a reader takes in at once shows (issue 26 asks for files under ~400 lines
 * and functions under ~80). Prints; never fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { repoRoot } from './local-cluster/paths.js';

const SHOWN = 15;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

interface Sized {
  name: string;
  lines: number;
}

function functionsOf(path: string, text: string): Sized[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: Sized[] = [];
  const lineOf = (position: number) => source.getLineAndCharacterOfPosition(position).line;
  const visit = (node: ts.Node, owner: string) => {
    let name = owner;
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node)) {
      name = `${owner}${node.name?.getText(source) ?? 'constructor'}`;
    } else if (ts.isVariableDeclaration(node) && node.initializer && ts.isArrowFunction(node.initializer)) {
      name = `${owner}${node.name.getText(source)}`;
    } else if (ts.isClassDeclaration(node)) {
      name = `${node.name?.getText(source) ?? 'class'}.`;
    }
    if (name !== owner && !ts.isClassDeclaration(node)) {
      found.push({
        name: `${relative(repoRoot, path)}: ${name}`,
        lines: lineOf(node.getEnd()) - lineOf(node.getStart(source)) + 1,
      });
    }
    ts.forEachChild(node, (child) => {
      visit(child, ts.isClassDeclaration(node) ? name : owner);
    });
  };
  visit(source, '');
  return found;
}

const files: Sized[] = [];
const functions: Sized[] = [];
for (const path of sourceFiles(join(repoRoot, 'src'))) {
  const text = readFileSync(path, 'utf8');
  files.push({ name: relative(repoRoot, path), lines: text.split('\n').length });
  functions.push(...functionsOf(path, text));
}
const table = (title: string, rows: Sized[]) => {
  console.log(`${title}\n${'-'.repeat(title.length)}`);
  for (const row of [...rows].sort((a, b) => b.lines - a.lines).slice(0, SHOWN))
    console.log(`${String(row.lines).padStart(6)}  ${row.name}`);
  console.log('');
};
table(`The ${SHOWN} largest of ${files.length} files under src/ (lines)`, files);
table(`The ${SHOWN} largest of ${functions.length} functions (lines)`, functions);
