/**
 * Each agent's recent Jobs across runbooks, kept up to date from Job and Pod events, so a
 * circuit breaker reads a short list instead of every Job of its agent. A finished Job stays here
 * after it is deleted (history limits remove Jobs; a breaker must not forget failures for that);
 * only the newest AGENT_HISTORY_LIMIT finished Jobs of an agent and the newest MAX_AGENTS agents
 * are kept.
 */
import { isDeepStrictEqual } from 'node:util';
import { AGENT_HISTORY_LIMIT } from '../api/limits.js';
import type { AgentHistory, JobObservation } from '../engine/model/types.js';

/** Agents remembered at most; the one seen least recently is forgotten first. */
const MAX_AGENTS = 10_000;

interface Finished {
  key: string;
  job: JobObservation;
  at: number;
}

interface Entry {
  /** Oldest first. */
  finished: Finished[];
  /** `finished` by Job key. */
  finishedByKey: Map<string, Finished>;
  /** The breakers' view of `finished`, rebuilt when it changes rather than on every read. */
  history: AgentHistory;
  running: Set<string>;
}

const EMPTY: AgentHistory = { finished: [], running: 0 };

export class AgentLedger {
  private readonly agents = new Map<string, Entry>();
  /** Which agent a running Job (by namespace/name) counts for. */
  private readonly runningAgent = new Map<string, string>();

  /** Records what is now known of the Job `key`. */
  record(key: string, job: JobObservation | undefined): void {
    this.forgetRunning(key);
    if (!job?.agent) return;
    const entry = this.entry(job.agent);
    if (job.state === 'active') {
      // A Job runs one Pod: once seen finished (e.g. from its Pod), it does not run again.
      if (entry.finishedByKey.has(key)) return;
      entry.running.add(key);
      this.runningAgent.set(key, job.agent);
      return;
    }
    const at = Date.parse(job.completionTime ?? '');
    if (!Number.isFinite(at)) return;
    // A finished Job's later events (the Job controller marking it, its Pod let go) mostly say
    // nothing new: the history, copied on each change, is then left as it is.
    const known = entry.finishedByKey.get(key);
    if (known && known.at === at && isDeepStrictEqual(known.job, job)) return;
    const finished = entry.finished.filter((item) => item.key !== key);
    let index = finished.length;
    while (index > 0 && (finished[index - 1]?.at ?? 0) > at) index -= 1;
    finished.splice(index, 0, { key, job, at });
    entry.finished = finished.slice(-AGENT_HISTORY_LIMIT);
    entry.finishedByKey = new Map(entry.finished.map((item) => [item.key, item]));
    entry.history = { finished: entry.finished.map((item) => item.job), running: 0 };
  }

  /** A deleted Job no longer runs; if it finished, it stays in its agent's history. */
  forgetRunning(key: string): void {
    const agent = this.runningAgent.get(key);
    if (agent === undefined) return;
    this.runningAgent.delete(key);
    this.agents.get(agent)?.running.delete(key);
  }

  history(agent: string): AgentHistory {
    const entry = this.agents.get(agent);
    if (!entry) return EMPTY;
    return { finished: entry.history.finished, running: entry.running.size };
  }

  /** The agents with a history, the one seen most recently last. */
  agentNames(): IterableIterator<string> {
    return this.agents.keys();
  }

  private entry(agent: string): Entry {
    let entry = this.agents.get(agent);
    if (entry) {
      this.agents.delete(agent); // re-inserted below: the Map's order is the recency order
    } else {
      entry = { finished: [], finishedByKey: new Map(), history: EMPTY, running: new Set() };
    }
    this.agents.set(agent, entry);
    if (this.agents.size > MAX_AGENTS) this.evictOldest();
    return entry;
  }

  private evictOldest(): void {
    for (const [agent, entry] of this.agents) {
      if (entry.running.size > 0) continue;
      this.agents.delete(agent);
      return;
    }
  }
}
