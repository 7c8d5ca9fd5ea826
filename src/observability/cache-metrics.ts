/**
 * The result cache's counters, by namespace: stages that reused a stored result (hits) and cached
 * stages that found none and ran (misses), and the tokens and dollars the hits saved. Moved by the
 * status writes that show a stage's first hit or miss in its run.
 */
import { Counter, type Registry } from 'prom-client';
import { moneyMicros } from '../api/grammar.js';
import type { StageStatusV2, StatusV2 } from '../api/v2/runbook.js';

export class CacheMetrics {
  private readonly hits: Counter<'namespace'>;
  private readonly misses: Counter<'namespace'>;
  private readonly tokensSaved: Counter<'namespace'>;
  private readonly dollarsSaved: Counter<'namespace'>;

  constructor(registry: Registry) {
    const counter = (name: string, help: string) =>
      new Counter({ name, help, labelNames: ['namespace'], registers: [registry] });
    this.hits = counter(
      'agentrunbook_cache_hits_total',
      'Cached stages that reused a stored result, by namespace',
    );
    this.misses = counter(
      'agentrunbook_cache_misses_total',
      'Cached stages that found no stored result to reuse and ran, by namespace',
    );
    this.tokensSaved = counter(
      'agentrunbook_tokens_saved_total',
      'Tokens the reused results cost when they were produced, by namespace',
    );
    this.dollarsSaved = counter(
      'agentrunbook_cost_saved_dollars_total',
      'Dollars the reused results cost when they were produced, by namespace',
    );
  }

  /** Starts a namespace's series at 0, so increase() sees its first hit. */
  seen(namespace: string): void {
    for (const counter of [this.hits, this.misses, this.tokensSaved, this.dollarsSaved])
      counter.inc({ namespace }, 0);
  }

  /** Counts the hits and misses a written status shows for the first time in its run. */
  statusWritten(namespace: string, previous: StatusV2 | undefined, after: StatusV2): void {
    const before = new Map<string, StageStatusV2>(
      (previous?.stages ?? []).map((stage) => [stage.name, stage]),
    );
    for (const stage of after.stages ?? []) {
      const result = stage.cache?.result;
      if (!result || before.get(stage.name)?.cache?.result === result) continue;
      if (result === 'Miss') {
        this.misses.inc({ namespace });
        continue;
      }
      this.hits.inc({ namespace });
      const tokens = stage.cache?.saved?.tokens ?? 0;
      if (tokens > 0) this.tokensSaved.inc({ namespace }, tokens);
      const micros = moneyMicros(stage.cache?.saved?.costUSD ?? '0');
      if (micros > 0) this.dollarsSaved.inc({ namespace }, micros / 1e6);
    }
  }
}
