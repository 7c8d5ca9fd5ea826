/**
 * Reads the reports agents put in their logs (the agent contract's reportInLog) for the engine,
 * which reads no API itself. A report is read once and kept for a while; the engine needs it
 * only until the stage's outcome is in the status.
 */
import { MAX_REPORT_BYTES, REPORT_LINE_PREFIX } from '../api/agent-contract.js';
import type { JobObservation } from '../engine/model/types.js';
import { isStatus, streamLines, type KubeHttp } from '../kube/http.js';
import { AGENT_CONTAINER } from './job-builder.js';

/**
 * Reports kept (each up to MAX_REPORT_BYTES): beyond this the oldest is read again if it is needed
 * again. A report is wanted only until its stage's outcome is in the status, a reconcile or two.
 */
const KEPT = 16;
/** The most of a log read looking for the report line. */
const MAX_LOG_BYTES = 8 * 1024 * 1024;
/**
 * The longest a log read may take: a node that answers slowly or not at all must not hold a
 * worker, or one of the operator's few connections, for ever. The reconcile is retried instead.
 */
const READ_DEADLINE_MS = 60_000;
/**
 * How long after its Job ended a log that cannot be read (a node gone or unreachable) is retried.
 * Past it the stage fails with ReportLogUnreadable, keeping its usage, instead of the runbook
 * waiting for ever.
 */
export const LOG_RETRY_MS = 5 * 60_000;
/** The longest report line kept: the largest report the engine takes, and its prefix. */
const MAX_LINE_CHARS = MAX_REPORT_BYTES + 128;

type Found = NonNullable<JobObservation['reportLog']>;

/** Whether a termination message announces a report in the log (it is at most 4 KiB). */
function announcesLog(message: string | undefined): boolean {
  if (!message?.includes('"reportInLog"')) return false;
  try {
    const parsed = JSON.parse(message) as { reportInLog?: unknown };
    return typeof parsed.reportInLog === 'object' && parsed.reportInLog !== null;
  } catch {
    return false;
  }
}

export class ReportLogs {
  private readonly kept = new Map<string, Found>();

  constructor(
    private readonly http: KubeHttp,
    private readonly deadlineMs = READ_DEADLINE_MS,
  ) {}

  /**
   * The observations, with the report line of each `wanted` one whose agent put its report in its
   * log. A log that cannot be read throws, so the reconcile is retried, until LOG_RETRY_MS after
   * its Job ended; then it is reported as unreadable.
   */
  attach(
    namespace: string,
    observations: JobObservation[],
    wanted: (observation: JobObservation) => boolean,
    now: Date,
  ): Promise<JobObservation[]> {
    return Promise.all(
      observations.map(async (observation) => {
        if (
          !observation.podTerminated ||
          !observation.pod ||
          !announcesLog(observation.terminationMessage) ||
          !wanted(observation)
        )
          return observation;
        const key = `${namespace}/${observation.pod}`;
        let found = this.kept.get(key);
        if (!found) {
          found = await this.read(namespace, observation.pod).catch((error: unknown) =>
            unreadable(observation, error, now),
          );
          this.kept.set(key, found);
          if (this.kept.size > KEPT) this.kept.delete(this.kept.keys().next().value ?? '');
        }
        return { ...observation, reportLog: found };
      }),
    );
  }

  /**
   * The report line of a Pod's log. A Pod that is gone has no log to read: that is the stage's
   * outcome. Any other failure throws, so the reconcile is retried rather than the stage failed.
   */
  private async read(namespace: string, pod: string): Promise<Found> {
    let stream;
    try {
      stream = await this.http.stream(
        `/api/v1/namespaces/${namespace}/pods/${pod}/log`,
        { container: AGENT_CONTAINER, limitBytes: MAX_LOG_BYTES },
        this.deadlineMs,
      );
    } catch (error) {
      if (isStatus(error, 404)) return { error: `Pod ${pod} is gone` };
      throw error;
    }
    // Only a report line the engine could take is kept, and longer lines are skipped as they
    // stream by: an agent's log can neither fill the memory nor make the scan quadratic.
    let line: string | undefined;
    for await (const candidate of streamLines(stream, MAX_LINE_CHARS))
      if (candidate.startsWith(`${REPORT_LINE_PREFIX} `)) line = candidate;
    return line === undefined
      ? {
          error: `the log of Pod ${pod} has no ${REPORT_LINE_PREFIX} line of at most ${MAX_LINE_CHARS} characters`,
        }
      : { line };
  }
}

/** A failed read as the stage's outcome once its Job ended LOG_RETRY_MS ago; until then it throws. */
function unreadable(observation: JobObservation, error: unknown, now: Date): Found {
  const waited = now.getTime() - Date.parse(observation.completionTime ?? '');
  // NaN (no end time known) is never long enough: the reconcile keeps being retried.
  if (!(waited >= LOG_RETRY_MS)) throw error;
  const why = error instanceof Error ? error.message : String(error);
  return { error: `still failing ${LOG_RETRY_MS / 60_000} minutes after the Job ended: ${why}` };
}
