/** The console's reads and writes of one request: each is the same API call the CLI makes. */
import { stringify } from 'yaml';
import { LABEL_RUNBOOK } from '../api/labels.js';
import { isObject } from '../api/json.js';
import { NAME_MAX_LENGTH, NAME_PATTERN } from '../api/grammar.js';
import { labelValue } from '../engine/model/naming.js';
import { RunbookHandle } from '../client/runbook-actions.js';
import {
  chooseTemplate,
  createRunbook,
  generatedRunbook,
  templatesFromCluster,
} from '../client/templates.js';
import type { Viewer } from './viewer.js';

/** A request the console refuses itself, before asking the API server. */
export class BadRequest extends Error {}

/** A Kubernetes name or namespace as the console accepts it in a query (DNS-1123 subdomain). */
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function nameParameter(value: unknown, what: string): string {
  if (typeof value !== 'string' || !NAME.test(value))
    throw new BadRequest(`${what} must be a Kubernetes name`);
  return value;
}

const STAGE_OR_GATE = new RegExp(NAME_PATTERN);

/** A stage's or a gate's name, by the runbook schema's own rule (underscores allowed). */
export function memberName(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > NAME_MAX_LENGTH || !STAGE_OR_GATE.test(value))
    throw new BadRequest(`${what} must be a stage or gate name (${NAME_PATTERN})`);
  return value;
}

function text(value: unknown, what: string, max: number): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' || value.length > max)
    throw new BadRequest(`${what} must be text of at most ${max} characters`);
  return value;
}

export async function revisions(viewer: Viewer, namespace: string, name: string) {
  const kept = await new RunbookHandle(viewer.http, namespace, name).revisions();
  return kept.map((revision) => ({
    number: revision.number,
    version: revision.version,
    bump: revision.bump,
    created: revision.created,
    changes: revision.changes,
    specYaml: stringify(revision.spec, { lineWidth: 0 }),
  }));
}

/** How much of a large output the page gets to show; the rest is a download. */
export const OUTPUT_PART_CHARS = 64 * 1024;

/**
 * An output kept in a ConfigMap, as the text it stands for (a JSON string's text; anything else as
 * formatted JSON). Only a ConfigMap of this runbook is read.
 */
export async function storedOutput(
  viewer: Viewer,
  namespace: string,
  name: string,
  configMap: string,
  key: string,
) {
  const map = await viewer.http.request<{
    metadata?: { labels?: Record<string, string> };
    data?: Record<string, string>;
  }>({
    method: 'GET',
    path: `/api/v1/namespaces/${namespace}/configmaps/${configMap}`,
  });
  if (map.metadata?.labels?.[LABEL_RUNBOOK] !== labelValue(name))
    throw new BadRequest(`configmap ${configMap} does not hold outputs of runbook ${name}`);
  const raw = map.data?.[key];
  if (raw === undefined) throw new BadRequest(`configmap ${configMap} has no output ${key}`);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  return typeof value === 'string'
    ? { text: value, json: false }
    : { text: JSON.stringify(value, null, 2), json: true };
}

export async function templates(viewer: Viewer, namespace: string) {
  const found = await templatesFromCluster(viewer.http, namespace);
  return found.map((template) => ({
    kind: template.kind,
    name: template.name,
    description: typeof template.spec.description === 'string' ? template.spec.description : '',
  }));
}

const ACTIONS = ['approve', 'reject', 'cancel', 'rerun', 'suspend', 'resume', 'rollback'] as const;
export type Action = (typeof ACTIONS)[number];

/** Does what the body asks of one runbook; resolves with a sentence saying what was done. */
export async function act(viewer: Viewer, body: unknown): Promise<string> {
  if (!isObject(body)) throw new BadRequest('the body must be a JSON object');
  const namespace = nameParameter(body.namespace, 'namespace');
  const name = nameParameter(body.name, 'name');
  const action = body.action;
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action))
    throw new BadRequest(`action must be one of ${ACTIONS.join(', ')}`);
  const runbook = new RunbookHandle(viewer.http, namespace, name);
  switch (action as Action) {
    case 'approve':
    case 'reject': {
      const gate = memberName(body.gate, 'gate');
      const comment = text(body.comment, 'comment', 2048);
      const decision = await runbook.decide(gate, action === 'approve' ? 'Approved' : 'Rejected', comment);
      return `gate ${gate} ${action === 'approve' ? 'approved' : 'rejected'} (gatedecision ${decision})`;
    }
    case 'cancel':
      await runbook.cancel();
      return `${name} cancelled`;
    case 'rerun':
      await runbook.rerun();
      return `${name} runs again`;
    case 'suspend':
    case 'resume':
      await runbook.suspend(action === 'suspend');
      return `${name} ${action === 'suspend' ? 'suspended' : 'resumed'}`;
    case 'rollback': {
      const to = text(body.revision, 'revision', 64);
      if (!to) throw new BadRequest('rollback needs a revision');
      const revision = await runbook.rollback(to);
      return `${name} rolled back to revision ${revision.number} (version ${revision.version})`;
    }
  }
}

/** Makes a runbook from a template and an idea's context, as `agentrunbook generate --apply`. */
export async function generate(viewer: Viewer, body: unknown): Promise<{ name: string; template: string }> {
  if (!isObject(body)) throw new BadRequest('the body must be a JSON object');
  const namespace = nameParameter(body.namespace, 'namespace');
  const template =
    body.template === undefined || body.template === ''
      ? undefined
      : nameParameter(body.template, 'template');
  if (!isObject(body.context)) throw new BadRequest('context must be a JSON object');
  const chosen = chooseTemplate(await templatesFromCluster(viewer.http, namespace), body.context, template);
  const runbook = generatedRunbook(chosen, body.context, namespace);
  await createRunbook(viewer.http, namespace, runbook);
  return { name: runbook.metadata.name, template: chosen.name };
}
