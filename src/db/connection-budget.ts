/**
 * The global cap on open database connections, summed over every tenant pool of this process.
 *
 * A pool asks for a permit before it opens a connection and returns it when the connection
 * has closed (socket closed, so the server no longer counts it either). At the cap, a request
 * waits in FIFO order for a permit, and the budget closes the longest-idle connection of any pool
 * to make one (an idle connection of a quiet tenant is worth less than a waiting request of a
 * busy one).
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
  /** Idle connections closed to make room whose permits have not come back yet. */
  let reclaiming = 0;
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
      // Close the longest-idle connection of any pool, unless enough closes are already on their
      // way for the requests waiting. Its permit comes back once its socket has closed (the
      // server has let go of it), and goes to the first waiter.
      if (reclaiming <= waiters.length && reclaimIdle()) {
        if (inUse < max) {
          // A source whose connection was already closed gave its permit back at once.
          inUse++;
          return Promise.resolve();
        }
        reclaiming++;
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
      if (reclaiming > 0) {
        reclaiming--;
      }
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
