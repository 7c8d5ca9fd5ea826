import { RUNBOOK_SERIES_LIMIT } from '../api/limits.js';

/**
 * Which runbooks may have series of their own: the first RUNBOOK_SERIES_LIMIT to ask, until they
 * are deleted. The others are counted, so the limit shows on /metrics instead of hiding.
 */
export class SeriesBudget {
  private readonly admitted = new Set<string>();
  private readonly refused = new Set<string>();

  constructor(private readonly limit = RUNBOOK_SERIES_LIMIT) {}

  admit(uid: string): boolean {
    if (this.admitted.has(uid)) return true;
    if (this.admitted.size >= this.limit) {
      this.refused.add(uid);
      return false;
    }
    this.admitted.add(uid);
    return true;
  }

  forget(uid: string): void {
    this.admitted.delete(uid);
    this.refused.delete(uid);
  }

  /** Runbooks that asked for series and were refused them. */
  get overLimit(): number {
    return this.refused.size;
  }
}
