/**
 * Jobs this operator is creating or created and its Job informer has not shown yet (client-go's
 * "expectations"). The decision writer does not create one twice while it waits for it, and the
 * Job's first watch event is not news to its runbook: the reconcile that created it decided as if
 * it were there, and wrote the status that runs it at the same time (or failed, and is retried).
 */
export class JobExpectations {
  /** By namespace/name: when the expectation lapses (ms since the epoch). */
  private readonly pending = new Map<string, number>();

  /** How long a created Job may take to show up before it may be created again (default 5 min). */
  constructor(private readonly ttlMs = 5 * 60_000) {}

  /** A create of the Job is about to be sent. */
  expect(key: string, nowMs: number): void {
    this.pending.set(key, nowMs + this.ttlMs);
  }

  /** The create failed: the Job will not show up. */
  forget(key: string): void {
    this.pending.delete(key);
  }

  /** Whether a create of the Job was sent and it has not shown up yet (a lapsed one is dropped). */
  awaits(key: string, nowMs: number): boolean {
    const until = this.pending.get(key);
    if (until === undefined) return false;
    if (until > nowMs) return true;
    this.pending.delete(key);
    return false;
  }

  /** The informer shows the Job: resolves whether this operator was waiting for it. */
  shown(key: string): boolean {
    return this.pending.delete(key);
  }
}
