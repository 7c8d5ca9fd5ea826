/**
 * The writes a person makes to one runbook, the same from the CLI and the console, so that RBAC
 * and admission judge them the same way whichever a person uses.
 */
import { ANNOTATION_RERUN, ANNOTATION_RETRY, LABEL_PARENT } from '../api/labels.js';
import { DECISION_KIND, GROUP, PLURAL, STORAGE_VERSION } from '../api/group.js';
import { newGateDecision } from '../api/v2/gate-decision.js';
import { OPERATIONAL_FIELDS } from '../engine/versions/spec-changes.js';
import { RETRYABLE_PHASES } from '../engine/run/retry-run.js';
import { listRevisions, type RunbookRevision } from '../controller/revisions.js';
import semver from 'semver';
import { isStatus, KubeApiError, type KubeHttp } from '../kube/http.js';
import type { AgentRunbookJson } from '../kube/types.js';

export const runbooksPath = (namespace: string) =>
  `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${PLURAL}`;

export const decisionsPath = (namespace: string) =>
  `/apis/${GROUP}/${STORAGE_VERSION}/namespaces/${namespace}/${DECISION_KIND.plural}`;

/** One named runbook, read and changed through one connection with one identity. */
export class RunbookHandle {
  readonly path: string;

  constructor(
    readonly http: KubeHttp,
    readonly namespace: string,
    readonly name: string,
  ) {
    this.path = `${runbooksPath(namespace)}/${name}`;
  }

  private notFound = (error: unknown): never => {
    if (isStatus(error, 404))
      throw new KubeApiError(
        404,
        'NotFound',
        `agentrunbook ${this.name} not found in namespace ${this.namespace}`,
      );
    throw error;
  };

  get(): Promise<AgentRunbookJson> {
    return this.http.request<AgentRunbookJson>({ method: 'GET', path: this.path }).catch(this.notFound);
  }

  /** The child runbooks its stages run (owned by it, labelled with its name); none when they cannot be listed. */
  async children(uid: string | undefined): Promise<AgentRunbookJson[]> {
    const listed = await this.http
      .request<{ items: AgentRunbookJson[] }>({
        method: 'GET',
        path: `${runbooksPath(this.namespace)}?labelSelector=${encodeURIComponent(`${LABEL_PARENT}=${this.name}`)}`,
      })
      .catch(() => ({ items: [] }));
    return listed.items.filter((child) => child.metadata.ownerReferences?.some((owner) => owner.uid === uid));
  }

  /** A JSON merge patch of the runbook. */
  patch(body: unknown): Promise<AgentRunbookJson> {
    return this.http
      .request<AgentRunbookJson>({
        method: 'PATCH',
        path: this.path,
        contentType: 'application/merge-patch+json',
        body,
      })
      .catch(this.notFound);
  }

  /** Decides a gate with a GateDecision; returns the decision's name. */
  async decide(gate: string, verdict: 'Approved' | 'Rejected', comment?: string): Promise<string> {
    const runbook = await this.get();
    const body = newGateDecision({
      namespace: this.namespace,
      runbook: this.name,
      gate,
      decision: verdict,
      ...(comment ? { comment } : {}),
      generation: runbook.metadata.generation,
    });
    const made = await this.http.request<{ metadata: { name: string } }>({
      method: 'POST',
      path: decisionsPath(this.namespace),
      body,
    });
    return made.metadata.name;
  }

  cancel(): Promise<AgentRunbookJson> {
    return this.patch({ spec: { status: 'Cancelled' } });
  }

  /** Runs again from the start with the same spec; a cancelled run is uncancelled. */
  async rerun(): Promise<AgentRunbookJson> {
    const runbook = await this.get();
    return this.patch({
      metadata: { annotations: { [ANNOTATION_RERUN]: new Date().toISOString() } },
      ...(runbook.spec.status === 'Cancelled' ? { spec: { status: null } } : {}),
    });
  }

  /**
   * Runs again the stages of a run that ended without success, and those after them, keeping the
   * succeeded stages and their outputs. The annotation names the run, so a retry that arrives
   * after another run started does nothing.
   */
  async retry(): Promise<AgentRunbookJson> {
    const { status } = await this.get();
    if (!status?.execution || !RETRYABLE_PHASES.includes(status.phase ?? ''))
      throw new Error(
        `runbook ${this.name} is ${status?.phase ?? 'not started'}: only a run that ended ${RETRYABLE_PHASES.join(', ')} can be retried (rerun runs it again from the start)`,
      );
    return this.patch({ metadata: { annotations: { [ANNOTATION_RETRY]: status.execution } } });
  }

  suspend(suspended: boolean): Promise<AgentRunbookJson> {
    return this.patch({ spec: { suspend: suspended ? true : null } });
  }

  async revisions(): Promise<RunbookRevision[]> {
    const runbook = await this.get();
    return listRevisions(this.http, this.namespace, runbook.metadata.uid ?? '');
  }

  /**
   * Puts back the spec of revision `to` (a number, or a spec.version: its newest revision),
   * keeping suspend and cancel as they are. An update with the resourceVersion read, so a spec
   * changed meanwhile fails it instead of being lost; a conflict from the operator's status writes
   * alone (the generation unchanged) is read again and retried, as client-go's RetryOnConflict.
   */
  async rollback(to: string): Promise<RunbookRevision> {
    const first = await this.get();
    // Status writes add no revision (only a new generation does), so one listing serves every try.
    const revision = pickRevision(
      await listRevisions(this.http, this.namespace, first.metadata.uid ?? ''),
      to,
    );
    let runbook = first;
    for (let attempt = 1; ; attempt += 1) {
      const kept = Object.fromEntries(
        OPERATIONAL_FIELDS.flatMap((field) =>
          runbook.spec[field] === undefined ? [] : [[field, runbook.spec[field]]],
        ),
      );
      try {
        await this.http.request({
          method: 'PUT',
          path: this.path,
          body: { ...runbook, spec: { ...revision.spec, ...kept } },
        });
        return revision;
      } catch (error) {
        if (!isStatus(error, 409) || attempt >= ROLLBACK_ATTEMPTS) throw error;
      }
      runbook = await this.get();
      if (
        runbook.metadata.uid !== first.metadata.uid ||
        runbook.metadata.generation !== first.metadata.generation
      )
        throw new KubeApiError(
          409,
          'Conflict',
          `agentrunbook ${this.name} changed while it was being rolled back (generation ${first.metadata.generation} is now ${runbook.metadata.generation}); look at its spec and roll back again`,
        );
    }
  }
}

/** Status writes by the operator move the resourceVersion often; a rollback retries past a few. */
const ROLLBACK_ATTEMPTS = 5;

/** The revision `to` names: a revision number, or a spec.version (the newest revision that has it). */
export function pickRevision(revisions: readonly RunbookRevision[], to: string): RunbookRevision {
  const found = /^\d+$/.test(to)
    ? revisions.find((revision) => revision.number === Number(to))
    : revisions.filter((revision) => revision.version === semver.clean(to)).at(-1);
  if (!found) {
    const kept = revisions.map((revision) => `${revision.number} (${revision.version})`).join(', ');
    throw new Error(`no revision ${to}; the revisions kept are ${kept || 'none'}`);
  }
  return found;
}
