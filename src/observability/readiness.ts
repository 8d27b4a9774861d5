/** Why the process is not ready: fixed words, never an error message. */
export type NotReadyReason = 'registry-unavailable' | 'shutting-down';

export type ReadinessResult =
  | { readonly ready: true }
  | { readonly ready: false; readonly reason: NotReadyReason };

export interface ReadinessOptions {
  /** A cheap statement on the registry (`SELECT 1`); never a tenant database. */
  readonly ping: () => Promise<void>;
  /** Budget of one ping; a slower registry counts as unavailable. @default 1000 */
  readonly timeoutMs: number;
  /** How long one answer is reused, so probes cannot flood the registry. @default 1000 */
  readonly cacheMs?: number;
}

/**
 * Readiness: the registry answers and shutdown has not begun. Tenant databases are never looked
 * at — one hospital's outage must not take every replica out of the load balancer. Concurrent
 * checks share one ping and an answer is reused for `cacheMs`, so /readyz costs the registry at
 * most one `SELECT 1` per second however often it is called.
 */
export interface Readiness {
  check(): Promise<ReadinessResult>;
  /** From now on every check answers `shutting-down`. */
  markShuttingDown(): void;
  readonly shuttingDown: boolean;
}

export function createReadiness(options: ReadinessOptions): Readiness {
  const cacheMs = options.cacheMs ?? 1000;
  let shuttingDown = false;
  let cached: { readonly at: number; readonly result: ReadinessResult } | undefined;
  let pending: Promise<ReadinessResult> | undefined;

  async function pingOnce(): Promise<ReadinessResult> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
    });
    try {
      const outcome = await Promise.race([options.ping().then(() => 'ok' as const), timedOut]);
      return outcome === 'ok' ? { ready: true } : { ready: false, reason: 'registry-unavailable' };
    } catch {
      return { ready: false, reason: 'registry-unavailable' };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async check() {
      if (shuttingDown) {
        return { ready: false, reason: 'shutting-down' };
      }
      const now = performance.now();
      if (cached !== undefined && now - cached.at < cacheMs) {
        return cached.result;
      }
      pending ??= pingOnce().then((result) => {
        cached = { at: performance.now(), result };
        pending = undefined;
        return result;
      });
      const result = await pending;
      return shuttingDown ? { ready: false, reason: 'shutting-down' } : result;
    },
    markShuttingDown() {
      shuttingDown = true;
    },
    get shuttingDown() {
      return shuttingDown;
    },
  };
}
