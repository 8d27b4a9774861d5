/**
 * Throttling refusals (429 `RATE_LIMITED`, 503 `TENANT_BUSY` / `TENANT_UNAVAILABLE`) are answered
 * after a short hold instead of at once.
 *
 * Why: a refusal costs the shared event loop little, but a client that re-sends the moment it is
 * refused turns that little into a loop that takes the event loop from every other tenant
 * (`npm run bench:noisy -- --clients flood`; the figures are in bench/README.md). Held for the time the
 * refusal asks the client to wait anyway (`Retry-After`, capped at `delayMs`; a random half to
 * all of it), each such connection sends at most about two requests per `delayMs`, so the flood's cost is bounded by the
 * number of connections, not by how fast the server can say no. A polite client loses nothing: it
 * would have waited out `Retry-After` itself.
 *
 * Held responses cost a timer and an open socket. At most `maxHeld` are held at once; past that a
 * refusal is answered at once (a flood over that many connections is a job for the load balancer's
 * connection limits, not for this process).
 */
export interface RefusalHoldOptions {
  /** The longest hold, ms; 0 answers every refusal at once. */
  readonly delayMs: number;
  /** Refusals held at the same time, at most. */
  readonly maxHeld: number;
}

export interface RefusalHold {
  /**
   * Resolves when a refusal that asks the client to retry after `retryAfterSec` may be sent;
   * `undefined` when it should be sent now (holding off, or `maxHeld` refusals already held).
   */
  hold(retryAfterSec: number): Promise<void> | undefined;
  /** Refusals being held right now. */
  readonly held: number;
}

export function createRefusalHold(options: RefusalHoldOptions): RefusalHold {
  let held = 0;
  return {
    hold(retryAfterSec) {
      const longest = Math.min(options.delayMs, Math.max(0, retryAfterSec) * 1000);
      if (longest <= 0 || held >= options.maxHeld) {
        return undefined;
      }
      held++;
      // Between half and all of the longest hold, at random: refusals that arrived together
      // (a flood's connections start together) are spread out instead of coming back as one
      // burst every hold, which stalled the event loop for everyone at the same instant.
      const ms = longest * (0.5 + Math.random() * 0.5);
      return new Promise<void>((resolve) => {
        // unref: a held refusal never keeps a stopping process alive.
        setTimeout(() => {
          held--;
          resolve();
        }, ms).unref();
      });
    },
    get held() {
      return held;
    },
  };
}
