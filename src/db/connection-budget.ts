/**
 * The global cap on open database connections, summed over every tenant pool of this process.
 *
 * A pool asks for a permit before it opens a connection and returns it when the connection
 * closes. At the cap, the budget first reclaims the longest-idle connection of any pool (an idle
 * connection of a quiet tenant is worth less than a waiting request of a busy one), and only when
 * nothing is idle does the request wait, in FIFO order, until a permit is returned.
 */

/** A pool whose idle connections the budget may close to make room for another tenant. */
export interface IdleConnectionSource {
  /** When the longest-idle connection went idle (ms since epoch), or undefined if none is idle. */
  oldestIdleSince(): number | undefined;
  /** Closes the longest-idle connection; its permit comes back through `release()`. */
  closeOldestIdle(): boolean;
}

export interface ConnectionBudget {
  /** The cap. */
  readonly max: number;
  /** Permits held now (= connections open or opening). */
  readonly inUse: number;
  /** Requests waiting for a permit. */
  readonly waiting: number;
  /** Resolves once a permit is held. Rejects with the signal's reason when aborted while waiting. */
  acquire(signal?: AbortSignal): Promise<void>;
  release(): void;
  register(source: IdleConnectionSource): void;
  unregister(source: IdleConnectionSource): void;
}

export function createConnectionBudget(max: number): ConnectionBudget {
  let inUse = 0;
  const waiters: Array<() => void> = [];
  const sources = new Set<IdleConnectionSource>();

  function reclaimIdle(): boolean {
    let oldest: IdleConnectionSource | undefined;
    let oldestAt = Number.POSITIVE_INFINITY;
    for (const source of sources) {
      const since = source.oldestIdleSince();
      if (since !== undefined && since < oldestAt) {
        oldestAt = since;
        oldest = source;
      }
    }
    return oldest?.closeOldestIdle() ?? false;
  }

  return {
    max,
    get inUse() {
      return inUse;
    },
    get waiting() {
      return waiters.length;
    },
    acquire(signal) {
      if (inUse < max) {
        inUse++;
        return Promise.resolve();
      }
      // Closing an idle connection releases its permit synchronously, so try again right after.
      if (reclaimIdle() && inUse < max) {
        inUse++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal?.removeEventListener('abort', onAbort);
          inUse++;
          resolve();
        };
        const onAbort = () => {
          const i = waiters.indexOf(grant);
          if (i >= 0) {
            waiters.splice(i, 1);
          }
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(grant);
      });
    },
    release() {
      inUse = Math.max(0, inUse - 1);
      const next = waiters.shift();
      if (next !== undefined) {
        next();
      }
    },
    register(source) {
      sources.add(source);
    },
    unregister(source) {
      sources.delete(source);
    },
  };
}
