/**
 * What the schema cannot check of an agent (a catalog entry, an Agent, a ClusterAgent): its
 * version range parses, HOME is a path, its Pod template fits the operator's own volumes, and
 * what it loosens of the restricted defaults is what the namespace's policy allows.
 */
import semver from 'semver';
import type { NamespacePolicy } from './catalog.js';
import { podTemplateProblems, SCRATCH_DEFAULTS, type PodTemplate } from './pod-template.js';
import type { FieldError } from './validator.js';

/** The fields of an agent these checks read. */
export interface AgentFields {
  versions?: string | undefined;
  env?: Record<string, string> | undefined;
  podTemplate?: PodTemplate | undefined;
}

export function agentProblems(agent: AgentFields, at: string): FieldError[] {
  const problems: FieldError[] = [];
  if (agent.versions !== undefined && semver.validRange(agent.versions) === null)
    problems.push({ field: `${at}.versions`, message: `is not a semver range: ${agent.versions}` });
  const home = agent.env?.HOME ?? SCRATCH_DEFAULTS.home;
  if (!home.startsWith('/') || home === '/')
    problems.push({
      field: `${at}.env.HOME`,
      message: 'must be an absolute path below /: HOME gets a scratch volume',
    });
  problems.push(...podTemplateProblems(agent.podTemplate, `${at}.podTemplate`, home));
  return problems;
}

/** What the agent loosens of the restricted defaults beyond what `policy` allows. */
export function securityPolicyProblems(
  agent: AgentFields,
  at: string,
  policy: NamespacePolicy | undefined,
): FieldError[] {
  const own = agent.podTemplate?.securityContext;
  const field = `${at}.podTemplate.securityContext`;
  const problems: FieldError[] = [];
  if (own?.readOnlyRootFilesystem === false && policy?.allowWritableRootFilesystem !== true) {
    problems.push({
      field: `${field}.readOnlyRootFilesystem`,
      message:
        "a writable root filesystem is not allowed here (the operator's admission policy would need allowWritableRootFilesystem); write to /tmp, HOME or a volume instead",
    });
  }
  const allowed = new Set(policy?.allowedCapabilities ?? []);
  const refused = (own?.addCapabilities ?? []).filter((capability) => !allowed.has(capability));
  if (refused.length) {
    problems.push({
      field: `${field}.addCapabilities`,
      message: `capabilities ${refused.join(', ')} are not allowed here (the operator's admission policy allows ${allowed.size ? [...allowed].join(', ') : 'none'})`,
    });
  }
  return problems;
}
