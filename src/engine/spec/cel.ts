/**
 * CEL conditions from users, made safe to evaluate in a process every namespace shares: parsed
 * with structural limits, their cost estimated against the values they will see (as the API
 * server estimates CRD rules) and refused over CEL_COST_LIMIT, and matches() run on RE2, whose
 * time is linear in its input, instead of JavaScript's backtracking RegExp.
 */
import { Environment } from '@marcbachmann/cel-js';
import { RE2JS } from 're2js';
import { CEL_COST_LIMIT } from '../../api/limits.js';
import { isObject, ownChild } from '../../api/json.js';

const LIMITS = {
  maxAstNodes: 2_000,
  maxDepth: 32,
  maxListElements: 256,
  maxMapEntries: 256,
  maxCallArguments: 16,
};
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const RE2_MATCHES = 're2Matches';

const patterns = new Map<string, RE2JS>();
function re2(pattern: string): RE2JS {
  let compiled = patterns.get(pattern);
  if (!compiled) {
    compiled = RE2JS.compile(pattern);
    if (patterns.size >= 256) patterns.clear();
    patterns.set(pattern, compiled);
  }
  return compiled;
}

const withRe2 = (env: Environment) =>
  env.registerFunction(`string.${RE2_MATCHES}(string): bool`, (text: string, pattern: string) =>
    re2(pattern).matcher(text).find(),
  );

const environment = withRe2(new Environment({ unlistedVariablesAreDyn: true, limits: LIMITS }));

interface AstNode {
  op: string;
  args: unknown;
}

const isNode = (value: unknown): value is AstNode => isObject(value) && typeof value.op === 'string';

/** The largest collection (items) and string (chars) in a value, nested ones included. */
interface Sizes {
  items: number;
  chars: number;
}

/** Measured once per object: a condition may name the same part of the spec many times. */
const measured = new WeakMap<object, Sizes>();

function sizesOf(value: unknown): Sizes {
  if (typeof value === 'string') return { items: 0, chars: value.length };
  if (typeof value !== 'object' || value === null) return { items: 0, chars: 0 };
  const known = measured.get(value);
  if (known) return known;
  const sizes = { items: 0, chars: 0 };
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node === 'string') sizes.chars = Math.max(sizes.chars, node.length);
    else if (Array.isArray(node)) {
      sizes.items = Math.max(sizes.items, node.length);
      stack.push(...(node as unknown[]));
    } else if (isObject(node)) {
      const keys = Object.keys(node);
      sizes.items = Math.max(sizes.items, keys.length);
      for (const key of keys) {
        sizes.chars = Math.max(sizes.chars, key.length);
        stack.push(node[key]);
      }
    }
  }
  measured.set(value, sizes);
  return sizes;
}

interface Estimate extends Sizes {
  cost: number;
  /** The value, when the expression is a path into the scope that can be resolved before running. */
  known?: unknown;
}

/** What a comprehension's variable can hold: the largest element, or anything within the range. */
function elementSizes(range: Estimate): Sizes {
  const known = range.known;
  const elements = Array.isArray(known) ? known : isObject(known) ? Object.keys(known) : undefined;
  if (!elements) return { items: range.items, chars: range.chars };
  return elements.map(sizesOf).reduce(
    (most, sizes) => ({
      items: Math.max(most.items, sizes.items),
      chars: Math.max(most.chars, sizes.chars),
    }),
    { items: 0, chars: 0 },
  );
}

/**
 * An upper bound of the steps an evaluation takes: each node costs one, a comprehension costs its
 * body once per element of the largest collection it can range over, and string and list work
 * costs their length. Sizes come from the scope's actual values where a path resolves.
 */
function estimate(node: AstNode, scope: Record<string, unknown>, bound: Map<string, Sizes>): Estimate {
  const sub = (child: unknown): Estimate =>
    isNode(child) ? estimate(child, scope, bound) : { cost: 1, items: 0, chars: 0 };
  const add = (...parts: Estimate[]): number => parts.reduce((sum, part) => sum + part.cost, 1);
  const args = node.args;
  switch (node.op) {
    case 'value':
      return { cost: 1, items: 0, chars: typeof args === 'string' ? args.length : 0 };
    case 'id': {
      const name = String(args);
      const local = bound.get(name);
      if (local) return { cost: 1, ...local };
      const known = ownChild(scope, name);
      return { cost: 1, ...sizesOf(known), known };
    }
    case '.':
    case '.?': {
      const [target, field] = args as [AstNode, string];
      const parent = sub(target);
      if (parent.known !== undefined && isObject(parent.known)) {
        const known = ownChild(parent.known, field);
        return { cost: parent.cost + 1, ...sizesOf(known), known };
      }
      return { cost: parent.cost + 1, items: parent.items, chars: parent.chars };
    }
    case 'rcall': {
      const [name, target, rest] = args as [string, AstNode, AstNode[]];
      const range = sub(target);
      if (COMPREHENSIONS.has(name) && isNode(rest[0]) && rest[0].op === 'id') {
        const variable = String(rest[0].args);
        const inner = new Map(bound).set(variable, elementSizes(range));
        const body = rest.slice(1).map((part) => estimate(part, scope, inner));
        const perElement = add(...body);
        const chars = Math.max(range.chars, ...body.map((part) => part.chars));
        return { cost: range.cost + range.items * perElement + 1, items: range.items, chars };
      }
      const parts = rest.map(sub);
      const pattern = name === RE2_MATCHES ? Math.max(1, ...parts.map((part) => part.chars)) : 1;
      return {
        cost: add(range, ...parts) + range.items + range.chars * pattern,
        items: name === 'split' ? Math.max(range.items, range.chars) : range.items,
        chars: range.chars,
      };
    }
    case 'call': {
      const [, callArgs] = args as [string, AstNode[]];
      const parts = callArgs.map(sub);
      const items = Math.max(0, ...parts.map((part) => part.items));
      const chars = Math.max(0, ...parts.map((part) => part.chars));
      return { cost: add(...parts) + items + chars, items, chars };
    }
    case 'list':
    case 'map': {
      const parts = (args as unknown[])
        .flatMap((entry): unknown[] => (Array.isArray(entry) ? (entry as unknown[]) : [entry]))
        .map(sub);
      return {
        cost: add(...parts),
        items: Math.max((args as unknown[]).length, ...parts.map((part) => part.items)),
        chars: Math.max(0, ...parts.map((part) => part.chars)),
      };
    }
    case '!_':
    case '-_': {
      const operand = sub(args);
      return { ...operand, cost: operand.cost + 1, known: undefined };
    }
    default: {
      const parts = (Array.isArray(args) ? args : [args]).map(sub);
      const items = parts.reduce((sum, part) => sum + part.items, 0);
      const chars = parts.reduce((sum, part) => sum + part.chars, 0);
      // Concatenation, equality of lists and `in` walk their operands; the rest are constant.
      const walks = ['+', '==', '!=', 'in'].includes(node.op);
      return { cost: add(...parts) + (walks ? items + chars : 0), items, chars };
    }
  }
}

/** Calls `visit` for every node of the AST, parents before children. */
function forEachNode(tree: unknown, visit: (node: AstNode) => void): void {
  if (Array.isArray(tree)) {
    for (const child of tree) forEachNode(child, visit);
    return;
  }
  if (!isNode(tree)) return;
  visit(tree);
  if (tree.op !== 'value' && tree.op !== 'id') forEachNode(tree.args, visit);
}

/** The method a call node names, with its receiver and arguments, when the node is a method call. */
function methodCall(node: AstNode): { name: string; args: unknown[] } | undefined {
  if (node.op !== 'rcall' || !Array.isArray(node.args)) return undefined;
  const [name, , args] = node.args as [unknown, unknown, unknown];
  return typeof name === 'string' && Array.isArray(args) ? { name, args } : undefined;
}

/** Go's regexp (RE2) semantics for matches(), as CEL specifies; see the module comment. */
function useRe2(ast: unknown): void {
  forEachNode(ast, (node) => {
    if (methodCall(node)?.name === 'matches') (node.args as unknown[]).splice(0, 1, RE2_MATCHES);
  });
}

/** Regular expressions written as literals are checked for RE2 syntax before anything runs. */
function literalPatternProblem(ast: unknown): string | undefined {
  const problems: string[] = [];
  forEachNode(ast, (node) => {
    const call = methodCall(node);
    const [pattern] = call?.name === RE2_MATCHES ? call.args : [];
    if (!isNode(pattern) || pattern.op !== 'value' || typeof pattern.args !== 'string') return;
    try {
      re2(pattern.args);
    } catch (error) {
      problems.push(
        `matches() pattern ${JSON.stringify(pattern.args)} is not an RE2 regular expression: ${(error as Error).message}`,
      );
    }
  });
  return problems[0];
}

/** Names the expression reads that no comprehension binds: the variables it needs from its scope. */
function freeVariables(ast: unknown): Set<string> {
  const used = new Set<string>();
  const bound = new Set<string>();
  forEachNode(ast, (node) => {
    if (node.op === 'id') used.add(String(node.args));
    const call = methodCall(node);
    const [variable] = call && COMPREHENSIONS.has(call.name) ? call.args : [];
    if (isNode(variable) && variable.op === 'id') bound.add(String(variable.args));
  });
  return new Set([...used].filter((name) => !bound.has(name)));
}

/**
 * The fields of `variable` an expression reads by name (`outputs.research`, `outputs['a-b']`), and
 * whether it also reads the variable another way (`outputs[name]`, `size(outputs)`), which no
 * static check can follow. Undefined when the expression does not parse.
 */
export function fieldsRead(
  expression: string,
  variable: string,
): { names: ReadonlySet<string>; dynamic: boolean } | undefined {
  // The stage graph is rebuilt on every reconcile: each condition is parsed for it once.
  const key = `${variable}\u0000${expression}`;
  if (reads.has(key)) return reads.get(key);
  const found = parseFieldsRead(expression, variable);
  if (reads.size >= 256) reads.clear();
  reads.set(key, found);
  return found;
}

const reads = new Map<string, { names: ReadonlySet<string>; dynamic: boolean } | undefined>();

function parseFieldsRead(
  expression: string,
  variable: string,
): { names: ReadonlySet<string>; dynamic: boolean } | undefined {
  let ast: unknown;
  try {
    ast = environment.parse(expression).ast;
  } catch {
    return undefined;
  }
  const names = new Set<string>();
  const named = new Set<unknown>();
  forEachNode(ast, (node) => {
    if (node.op !== '.' && node.op !== '.?' && node.op !== '[]' && node.op !== '[?]') return;
    const [target, field] = node.args as [unknown, unknown];
    if (!isNode(target) || target.op !== 'id' || target.args !== variable) return;
    const name =
      typeof field === 'string' ? field : isNode(field) && field.op === 'value' ? field.args : undefined;
    if (typeof name !== 'string') return;
    names.add(name);
    named.add(target);
  });
  let dynamic = false;
  forEachNode(ast, (node) => {
    if (node.op === 'id' && node.args === variable && !named.has(node)) dynamic = true;
  });
  return { names, dynamic };
}

type CompiledCondition = { evaluate: () => unknown; cost: number } | { problem: string; cost?: number };

/**
 * Parses a condition, checks that it reads only `declared` variables, and estimates its cost
 * against the scope it will be evaluated in. Malformed, reading an unknown variable, or over the
 * limit, it gives a problem and never runs.
 */
export function compileCondition(
  expression: string,
  scope: Record<string, unknown>,
  declared: ReadonlySet<string>,
): CompiledCondition {
  let program: ReturnType<Environment['parse']>;
  try {
    program = environment.parse(expression);
  } catch (error) {
    return { problem: `is not a valid CEL expression: ${(error as Error).message.split('\n')[0] ?? ''}` };
  }
  const ast = program.ast as unknown;
  useRe2(ast);
  const pattern = literalPatternProblem(ast);
  if (pattern) return { problem: pattern };
  const unknown = [...freeVariables(ast)].filter((name) => !declared.has(name));
  if (unknown.length) {
    return {
      problem: `uses ${unknown.map((name) => JSON.stringify(name)).join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not a variable a condition can read: use a field of spec.context (bare or as context.<field>) or of the spec`,
    };
  }
  const cost = isNode(ast) ? estimate(ast, scope, new Map()).cost : 1;
  if (cost > CEL_COST_LIMIT) {
    return {
      problem: `has an estimated cost of ${cost}, over the limit of ${CEL_COST_LIMIT}: nest fewer comprehensions (all, exists, map, filter) or range over smaller lists`,
      cost,
    };
  }
  return { evaluate: () => program(scope) as unknown, cost };
}

/** CEL's name of a variable's type, as a typed environment declares it. */
export type CelType = 'bool' | 'int' | 'double' | 'string' | 'google.protobuf.Duration';

const durationOf = environment.parse('duration(text)');

/** A CEL duration value of this many seconds, to put in a scope. */
export function celDuration(seconds: number): unknown {
  return durationOf({ text: `${Math.max(0, Math.round(seconds * 1000))}ms` });
}

const typedEnvironments = new Map<string, Environment>();

function typedEnvironment(variables: Readonly<Record<string, CelType>>): Environment {
  const key = JSON.stringify(variables);
  let env = typedEnvironments.get(key);
  if (!env) {
    env = withRe2(new Environment({ limits: LIMITS }));
    for (const [name, type] of Object.entries(variables)) env.registerVariable(name, type);
    typedEnvironments.set(key, env);
  }
  return env;
}

type CompiledTyped = { evaluate: (scope: Record<string, unknown>) => unknown } | { problem: string };

/**
 * Compiles a bool condition over typed scalar variables (alert conditions): parse errors, unknown
 * variables and type errors (a duration compared with a number, say) are problems before it runs.
 * Its cost is estimated as a gate condition's is, and refused over CEL_COST_LIMIT.
 */
export function compileTypedCondition(
  expression: string,
  variables: Readonly<Record<string, CelType>>,
): CompiledTyped {
  const env = typedEnvironment(variables);
  const checked = env.check(expression);
  if (!checked.valid) {
    const message = (checked.error?.message ?? 'does not type-check').split('\n')[0] ?? '';
    return { problem: `is not a valid CEL condition over the alert variables: ${message}` };
  }
  if (checked.type !== 'bool') return { problem: `is of type ${checked.type ?? 'unknown'}, not bool` };
  const program = env.parse(expression);
  const ast: unknown = program.ast;
  useRe2(ast);
  const pattern = literalPatternProblem(ast);
  if (pattern) return { problem: pattern };
  // The variables are scalars, but list literals can still be ranged over, one inside another.
  const cost = isNode(ast) ? estimate(ast, {}, new Map()).cost : 1;
  if (cost > CEL_COST_LIMIT) {
    return {
      problem: `has an estimated cost of ${cost}, over the limit of ${CEL_COST_LIMIT}: nest fewer comprehensions or range over smaller lists`,
    };
  }
  return { evaluate: (scope) => program(scope) as unknown };
}
