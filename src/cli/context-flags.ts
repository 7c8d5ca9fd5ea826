/** An idea's context (spec.context) from a file and flags, as generate and templates select take it. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { parse } from 'yaml';
import { COMPLEXITIES } from '../api/v2/context.js';
import { collect } from './cluster-flags.js';

export interface ContextFlags {
  contextFile?: string;
  title?: string;
  ideaText?: string;
  ideaId?: string;
  oneLiner?: string;
  complexity?: string;
  domain?: string[];
  riskLevel?: string;
  userType?: string;
}

const riskLevel = (value: string) => {
  const risk = Number(value);
  if (!Number.isFinite(risk) || risk < 0 || risk > 10)
    throw new InvalidArgumentError('a number from 0 to 10');
  return value;
};

const complexity = (value: string) => {
  if (!(COMPLEXITIES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`one of ${COMPLEXITIES.join(', ')}`);
  }
  return value;
};

export function withContextFlags(command: Command): Command {
  return command
    .option('-f, --context-file <file>', 'the context as YAML or JSON (the flags below override it)')
    .option('--title <title>', 'context.title: the project title')
    .option('--idea-text <text>', 'context.ideaText: the idea in full')
    .option('--idea-id <id>', 'context.ideaId')
    .option('--one-liner <text>', 'context.oneLiner')
    .option('--complexity <complexity>', `context.complexity: ${COMPLEXITIES.join(', ')}`, complexity)
    .option('--domain <domain>', 'context.domains: repeat for each', collect)
    .option('--risk-level <0-10>', 'context.riskLevel', riskLevel)
    .option('--user-type <type>', 'context.userType');
}

export function contextFrom(flags: ContextFlags): Record<string, unknown> {
  const file = flags.contextFile ? (parse(readFileSync(flags.contextFile, 'utf8')) as unknown) : {};
  if (typeof file !== 'object' || file === null || Array.isArray(file)) {
    throw new Error(`${flags.contextFile ?? ''} does not hold a context object`);
  }
  const fromFlags = {
    ...(flags.title === undefined ? {} : { title: flags.title }),
    ...(flags.ideaText === undefined ? {} : { ideaText: flags.ideaText }),
    ...(flags.ideaId === undefined ? {} : { ideaId: flags.ideaId }),
    ...(flags.oneLiner === undefined ? {} : { oneLiner: flags.oneLiner }),
    ...(flags.complexity === undefined ? {} : { complexity: flags.complexity }),
    ...(flags.domain === undefined ? {} : { domains: flags.domain }),
    ...(flags.riskLevel === undefined ? {} : { riskLevel: Number(flags.riskLevel) }),
    ...(flags.userType === undefined ? {} : { userType: flags.userType }),
  };
  return { ...(file as Record<string, unknown>), ...fromFlags };
}
