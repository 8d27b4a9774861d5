import { LRUCache } from 'lru-cache';

/** The denials of one client address in one interval, beyond the first (which has its own row). */
export interface DenialAggregate {
  readonly source: string;
  /** Denials counted, not written one by one. */
  readonly count: number;
  /** How many of them per error code (`UNAUTHENTICATED`, `RATE_LIMITED`...). */
  readonly codes: ReadonlyMap<string, number>;
  /** Epoch ms of the interval's first denial (the one written on its own) and of its last. */
  readonly firstAt: number;
  readonly lastAt: number;
}

export interface DenialAggregation {
  /**
   * Records an anonymous denial (no verified principal) from `source`. `true`: the first of its
   * interval, write it as its own row now; `false`: counted into the address's aggregate row.
   */
  admit(source: string, code: string, now?: number): boolean;
  /** Aggregates whose interval is over (all of them with `all`), removed from the counter. */
  drain(now?: number, all?: boolean): DenialAggregate[];
}

interface Entry {
  readonly startedAt: number;
  lastAt: number;
  count: number;
  readonly codes: Map<string, number>;
}

/**
 * Anonymous denials counted per client address and interval, so a flood of bad tokens writes
 * two audit rows per address and interval (the first denial, then one with the count) instead
 * of one per request. At most `maxSources` addresses are tracked; an address pushed out early
 * has its count drained with the next call, never dropped.
 */
export function createDenialAggregation(options: {
  readonly intervalMs: number;
  readonly maxSources?: number;
}): DenialAggregation {
  const evicted: DenialAggregate[] = [];
  const toAggregate = (source: string, e: Entry): DenialAggregate => ({
    source,
    count: e.count,
    codes: e.codes,
    firstAt: e.startedAt,
    lastAt: e.lastAt,
  });
  const entries = new LRUCache<string, Entry>({
    max: options.maxSources ?? 10_000,
    dispose: (entry, source, reason) => {
      if (reason === 'evict' && entry.count > 0) {
        evicted.push(toAggregate(source, entry));
      }
    },
  });
  return {
    admit(source, code, now = Date.now()) {
      const entry = entries.get(source);
      if (entry === undefined || now - entry.startedAt >= options.intervalMs) {
        if (entry !== undefined && entry.count > 0) {
          evicted.push(toAggregate(source, entry));
        }
        entries.set(source, { startedAt: now, lastAt: now, count: 0, codes: new Map() });
        return true;
      }
      entry.count++;
      entry.lastAt = now;
      entry.codes.set(code, (entry.codes.get(code) ?? 0) + 1);
      return false;
    },
    drain(now = Date.now(), all = false) {
      const due = evicted.splice(0);
      for (const [source, entry] of [...entries.entries()]) {
        if (all || now - entry.startedAt >= options.intervalMs) {
          if (entry.count > 0) {
            due.push(toAggregate(source, entry));
          }
          entries.delete(source);
        }
      }
      return due;
    },
  };
}
