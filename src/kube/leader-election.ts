/**
 * Leader election with a coordination.k8s.io Lease, with client-go's semantics: a candidate takes
 * the Lease when it is free or when its holder has not renewed it for a lease duration (measured
 * on the candidate's own clock from when it last saw the Lease change, so clock skew between
 * machines does not matter); the leader renews every retry period and gives up leadership when it
 * could not renew within the renew deadline. Releasing on shutdown empties the holder, so another
 * candidate takes over at its next retry instead of after a lease duration.
 */
import { isStatus, type KubeHttp } from './http.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log?: (message: string, meta?: Record<string, unknown>) => void;
}

export const LEADER_ELECTION_DEFAULTS = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** MicroTime as the API server writes it (RFC 3339 with microseconds). */
function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private observed: { record: string; at: number } | undefined;
  private lease: Lease | undefined;
  private leading = false;
  private stopped = false;
  /** The acquire or renew in flight: releasing meanwhile would race it with a stale resourceVersion. */
  private attempt: Promise<boolean> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly path: string;
  /** namespace/name, for the log. */
  private readonly leaseName: string;

  constructor(
    private readonly http: KubeHttp,
    private readonly options: LeaderElectionOptions,
  ) {
    if (options.renewDeadlineMs >= options.leaseDurationMs)
      throw new Error('the lease duration must be greater than the renew deadline');
    if (options.retryPeriodMs * 1.2 >= options.renewDeadlineMs)
      throw new Error('the renew deadline must be greater than 1.2 times the retry period');
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases/${options.name}`;
    this.leaseName = `${options.namespace}/${options.name}`;
  }

  /** Read through a method: `stop()` may change it while a loop awaits. */
  private isStopped(): boolean {
    return this.stopped;
  }

  /** Resolves when this candidate holds the Lease, or with false when stopped before. */
  async acquire(): Promise<boolean> {
    while (!this.stopped) {
      if (await this.tryOnce()) {
        this.leading = true;
        this.options.log?.('became the leader', { lease: this.leaseName });
        return true;
      }
      await this.sleep(this.options.retryPeriodMs);
    }
    return false;
  }

  /**
   * Renews while leading; resolves when leadership is lost (a renewal did not succeed within the
   * renew deadline) or when stopped.
   */
  async renewUntilLost(): Promise<'lost' | 'stopped'> {
    let lastRenew = Date.now();
    for (;;) {
      await this.sleep(this.options.retryPeriodMs);
      if (this.isStopped()) return 'stopped';
      if (await this.tryOnce()) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew >= this.options.renewDeadlineMs) {
        this.leading = false;
        this.options.log?.('lost the leadership', { lease: this.leaseName });
        return 'lost';
      }
    }
  }

  /** Stops electing and renewing, and releases the Lease when holding it. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.attempt;
    if (!this.leading) return;
    this.leading = false;
    const lease = this.lease;
    if (lease?.spec?.holderIdentity !== this.options.identity) return;
    const now = microTime(new Date());
    try {
      await this.http.request({
        method: 'PUT',
        path: this.path,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: null,
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
          },
        },
        timeoutMs: this.options.retryPeriodMs,
      });
      this.options.log?.('released the lease', { lease: this.leaseName });
    } catch (error) {
      this.options.log?.('could not release the lease', { error: (error as Error).message });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  private tryOnce(): Promise<boolean> {
    this.attempt = this.tryAcquireOrRenew();
    return this.attempt;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { identity, leaseDurationMs, namespace, name } = this.options;
    const now = new Date();
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    const timeoutMs = this.options.retryPeriodMs;
    try {
      let current: Lease;
      try {
        current = await this.http.request<Lease>({ method: 'GET', path: this.path, timeoutMs });
      } catch (error) {
        if (!isStatus(error, 404)) throw error;
        this.lease = await this.http.request<Lease>({
          method: 'POST',
          path: `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec },
          timeoutMs,
        });
        this.observe(this.lease);
        return true;
      }
      const held = current.spec ?? {};
      const record = JSON.stringify(held);
      if (this.observed?.record !== record) this.observed = { record, at: Date.now() };
      const holder = held.holderIdentity ?? '';
      const expired = this.observed.at + (held.leaseDurationSeconds ?? 0) * 1000 <= Date.now();
      if (holder !== '' && holder !== identity && !expired) return false;
      if (holder === identity) {
        spec.acquireTime = held.acquireTime ?? spec.acquireTime;
        spec.leaseTransitions = held.leaseTransitions ?? 0;
      } else {
        spec.leaseTransitions = (held.leaseTransitions ?? 0) + 1;
      }
      this.lease = await this.http.request<Lease>({
        method: 'PUT',
        path: this.path,
        body: { ...current, spec },
        timeoutMs,
      });
      this.observe(this.lease);
      return true;
    } catch (error) {
      // A conflict means another candidate wrote first; anything else is retried the same way.
      if (!isStatus(error, 409))
        this.options.log?.('lease update failed', { error: (error as Error).message });
      return false;
    }
  }

  private observe(lease: Lease): void {
    this.observed = { record: JSON.stringify(lease.spec ?? {}), at: Date.now() };
  }
}
