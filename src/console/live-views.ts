/**
 * What the console's pages follow live: the runbooks a viewer may list, one run (the runbook and
 * its Events), and one stage's log across its attempts. Each is a server-sent event stream backed
 * by watches made with the viewer's identity.
 */
import { stringify } from 'yaml';
import { GROUP, KIND, PLURAL, STORAGE_VERSION } from '../api/group.js';
import { LABEL_ATTEMPT, LABEL_EXECUTION, LABEL_RUNBOOK, LABEL_STAGE } from '../api/labels.js';
import { labelValue } from '../engine/model/naming.js';
import { runbooksPath } from '../client/runbook-actions.js';
import { AGENT_CONTAINER } from '../controller/job-builder.js';
import { streamLines } from '../kube/http.js';
import type { AgentRunbookJson, PodJson } from '../kube/types.js';
import { runSummary } from './run-summary.js';
import { followCollection, refusal, type EventStream } from './event-stream.js';
import type { Viewer } from './viewer.js';

/** A row of the runbook list: what the table shows, not the whole object. */
export function listRow(runbook: AgentRunbookJson) {
  const status = runbook.status ?? {};
  return {
    namespace: runbook.metadata.namespace ?? '',
    name: runbook.metadata.name ?? '',
    uid: runbook.metadata.uid ?? '',
    labels: runbook.metadata.labels ?? {},
    created: runbook.metadata.creationTimestamp ?? '',
    phase: status.phase ?? '',
    progress: status.progress ?? '',
    tokens: status.usage?.tokens ?? 0,
    costUSD: status.usage?.costUSD ?? '0',
    waitingGates: (status.gates ?? []).filter((gate) => gate.phase === 'Pending' && gate.since).length,
    suspended: runbook.spec.suspend === true,
  };
}

export function followRunbookList(
  viewer: Viewer,
  stream: EventStream,
  { namespace, labelSelector }: { namespace: string; labelSelector: string },
): void {
  const path = namespace ? runbooksPath(namespace) : `/apis/${GROUP}/${STORAGE_VERSION}/${PLURAL}`;
  followCollection<AgentRunbookJson>(viewer.http, stream, path, labelSelector ? { labelSelector } : {}, {
    snapshot: (items) => {
      stream.send('snapshot', items.map(listRow));
    },
    change: (type, item) => {
      stream.send('change', { type, row: listRow(item) });
    },
    problem: (message) => {
      stream.send('problem', { message });
    },
  });
}

/** The runbook without what no page shows (managedFields), and its spec as YAML. */
function runMessage(runbook: AgentRunbookJson) {
  const metadata: AgentRunbookJson['metadata'] & { managedFields?: unknown } = { ...runbook.metadata };
  delete metadata.managedFields;
  return {
    runbook: { ...runbook, metadata },
    specYaml: stringify(runbook.spec, { lineWidth: 0 }),
    ...runSummary(runbook, new Date()),
  };
}

interface EventJson {
  metadata?: { uid?: string; resourceVersion?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { count?: number; lastObservedTime?: string };
}

function eventRow(event: EventJson) {
  return {
    uid: event.metadata?.uid ?? '',
    type: event.type ?? '',
    reason: event.reason ?? '',
    message: event.message ?? '',
    count: event.series?.count ?? event.count ?? 1,
    last:
      event.series?.lastObservedTime ?? event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? '',
  };
}

export function followRun(viewer: Viewer, stream: EventStream, namespace: string, name: string): void {
  followCollection<AgentRunbookJson>(
    viewer.http,
    stream,
    runbooksPath(namespace),
    { fieldSelector: `metadata.name=${name}` },
    {
      snapshot: (items) => {
        const [runbook] = items;
        stream.send(
          'run',
          runbook
            ? runMessage(runbook)
            : { missing: `agentrunbook ${name} not found in namespace ${namespace}` },
        );
      },
      change: (type, item) => {
        stream.send(
          'run',
          type === 'DELETED' ? { missing: `agentrunbook ${name} was deleted` } : runMessage(item),
        );
      },
      problem: (message) => {
        stream.send('problem', { message });
      },
    },
  );
  followCollection<EventJson>(
    viewer.http,
    stream,
    `/api/v1/namespaces/${namespace}/events`,
    { fieldSelector: `involvedObject.kind=${KIND},involvedObject.name=${name}` },
    {
      snapshot: (items) => {
        stream.send('events', items.map(eventRow));
      },
      change: (type, item) => {
        if (type !== 'DELETED') stream.send('event', eventRow(item));
      },
      problem: (message) => {
        stream.send('problem', { message: `Events: ${message}` });
      },
    },
  );
}

/** The longest log line sent whole; a longer one is skipped as it streams by. */
const MAX_LINE_CHARS = 16_384;
/** Lines sent per attempt before its log is cut (the download of a Pod log is kubectl's job). */
const MAX_LINES_PER_ATTEMPT = 20_000;

/** Sends one attempt's log, following it while the container runs. */
async function sendLog(viewer: Viewer, stream: EventStream, pod: PodJson, attempt: string): Promise<void> {
  const follow = pod.status?.phase === 'Running';
  const response = await viewer.http.stream(
    `/api/v1/namespaces/${pod.metadata.namespace ?? ''}/pods/${pod.metadata.name ?? ''}/log`,
    { container: AGENT_CONTAINER, ...(follow ? { follow: true } : {}) },
  );
  stream.onClose(() => response.destroy());
  let sent = 0;
  for await (const line of streamLines(response, MAX_LINE_CHARS)) {
    if (stream.isClosed()) return;
    if (sent === MAX_LINES_PER_ATTEMPT) {
      stream.send('cut', { attempt, lines: sent });
      response.destroy();
      return;
    }
    sent += 1;
    stream.send('line', { attempt, line });
  }
  stream.send('ended', { attempt });
}

/** The log of `stage` in the run's current execution: every attempt's, each as soon as it starts. */
export async function followStageLog(
  viewer: Viewer,
  stream: EventStream,
  namespace: string,
  name: string,
  stage: string,
): Promise<void> {
  const runbook = await viewer.http.request<AgentRunbookJson>({
    method: 'GET',
    path: `${runbooksPath(namespace)}/${name}`,
  });
  const execution = runbook.status?.execution;
  if (!execution) {
    stream.send('problem', { message: `runbook ${name} has not started a run yet` });
    return;
  }
  const started = new Set<string>();
  const consider = (pod: PodJson) => {
    const podName = pod.metadata.name ?? '';
    const phase = pod.status?.phase ?? 'Pending';
    if (phase === 'Pending' || started.has(podName)) return;
    started.add(podName);
    const attempt = pod.metadata.labels?.[LABEL_ATTEMPT] ?? '?';
    stream.send('attempt', { attempt, pod: podName });
    sendLog(viewer, stream, pod, attempt).catch((error: unknown) => {
      stream.send('problem', { message: `attempt ${attempt}: ${refusal(error)}` });
    });
  };
  followCollection<PodJson>(
    viewer.http,
    stream,
    `/api/v1/namespaces/${namespace}/pods`,
    {
      labelSelector: [
        `${LABEL_RUNBOOK}=${labelValue(name)}`,
        `${LABEL_EXECUTION}=${execution}`,
        `${LABEL_STAGE}=${labelValue(stage)}`,
      ].join(','),
    },
    {
      snapshot: (pods) => {
        const attempt = (pod: PodJson) => Number(pod.metadata.labels?.[LABEL_ATTEMPT] ?? 0);
        for (const pod of [...pods].sort((a, b) => attempt(a) - attempt(b))) consider(pod);
      },
      change: (type, pod) => {
        if (type !== 'DELETED') consider(pod);
      },
      problem: (message) => {
        stream.send('problem', { message: `Pods: ${message}` });
      },
    },
  );
}
