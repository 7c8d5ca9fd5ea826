/** Records core/v1 Events on runbooks, so `kubectl describe agentrunbook` tells the story of a run. */
import { hostname } from 'node:os';
import { GROUP, KIND, STORAGE_VERSION } from '../api/group.js';
import { MANAGED_BY } from '../api/labels.js';
import type { EngineEvent } from '../engine/types.js';
import type { Logger } from '../observability/logger.js';
import type { KubeHttp } from '../kube/http.js';
import type { AgentRunbookJson } from '../kube/types.js';

const MAX_MESSAGE = 1024;

export class EventRecorder {
  private readonly instance = hostname();

  constructor(
    private readonly http: KubeHttp,
    private readonly log: Logger,
  ) {}

  /** Records the events; a failure to record is logged and never fails the reconcile. */
  async record(runbook: AgentRunbookJson, events: EngineEvent[], now: Date): Promise<void> {
    const namespace = runbook.metadata.namespace ?? 'default';
    for (const [index, event] of events.entries()) {
      const time = now.toISOString();
      // lastTimestamp has whole seconds; eventTime (microseconds) keeps one reconcile's Events in order.
      const eventTime = `${time.slice(0, -1)}${String(Math.min(index, 999)).padStart(3, '0')}Z`;
      try {
        await this.http.request({
          method: 'POST',
          path: `/api/v1/namespaces/${namespace}/events`,
          body: {
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { generateName: `${runbook.metadata.name ?? 'runbook'}.`, namespace },
            involvedObject: {
              apiVersion: `${GROUP}/${STORAGE_VERSION}`,
              kind: KIND,
              name: runbook.metadata.name,
              namespace,
              uid: runbook.metadata.uid,
              resourceVersion: runbook.metadata.resourceVersion,
            },
            type: event.type,
            reason: event.reason,
            message: event.message.slice(0, MAX_MESSAGE),
            source: { component: MANAGED_BY },
            reportingComponent: MANAGED_BY,
            reportingInstance: this.instance,
            firstTimestamp: time,
            lastTimestamp: time,
            eventTime,
            action: event.reason,
            count: 1,
          },
        });
      } catch (error) {
        this.log.warn('could not record event', { reason: event.reason, error: (error as Error).message });
      }
    }
  }
}
