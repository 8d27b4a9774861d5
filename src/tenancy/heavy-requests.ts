import { type BulkheadPolicy, BulkheadRejectedError, bulkhead } from 'cockatiel';
import { LRUCache } from 'lru-cache';
import { gatewayError } from '../errors.js';
import { createSlicer, type Slicer, UNITS_PER_SLICE } from '../repository/slicer.js';
import type { RefusalHold } from '../security/refusal-hold.js';
import { gcPauseMs } from './gc-time.js';
import { createLightFirst, type LightFirst, type LightTicket } from './light-first.js';

export interface HeavyRequestOptions {
  /**
   * A request whose worst case is above this many resources is heavy
   * (`FHIRGATE_HEAVY_REQUEST_RESOURCES`). @default 1000
   */
  readonly threshold: number;
  /** Heavy requests of one tenant running at once (`FHIRGATE_HEAVY_CONCURRENCY`). @default 2 */
  readonly concurrency: number;
  /** Heavy requests of one tenant waiting for a slot (`FHIRGATE_HEAVY_QUEUE`). @default 4 */
  readonly queue: number;
  /**
   * The longest a slice of heavy work waits for light requests to finish
   * (`FHIRGATE_HEAVY_MAX_WAIT_MS`, `light-first.ts`); also the longest pause after a slice.
   * @default 200
   */
  readonly maxWaitMs: number;
  /**
   * Heavy work's most of the event loop, in percent, while other requests are about
   * (`FHIRGATE_HEAVY_SHARE`, `light-first.ts`). @default 5
   */
  readonly sharePercent: number;
}

/** Releases a heavy request's slot; calling it again does nothing. */
export type HeavySlot = () => void;

export interface HeavyRequests {
  /**
   * Admits a request of `clientId` whose worst case is `worstCase` resources: `undefined` for a
   * light one (nothing to wait for or release), else a promise of the slot, resolved once the
   * tenant's bulkhead runs it. Rejects with 503 `TENANT_BUSY` (`Retry-After: 1`, answered after
   * the refusal hold) when the tenant's slots and queue are all taken.
   */
  admit(clientId: string, worstCase: number, ticket?: LightTicket): Promise<HeavySlot> | undefined;
  /**
   * The slicer every admitted heavy request charges its work to, whatever its tenant: together
   * they run at most one slice per turn of the event loop, and only on turns when no light
   * request is in flight (or after `maxWaitMs`), so light requests do not wait behind heavy
   * work. With nothing else to do, a turn is a slice and heavy work runs at full speed.
   */
  readonly slicer: Slicer;
  /** Light requests in flight: the gateway counts every request; heavy ones are set aside. */
  readonly light: LightFirst;
  /** Heavy requests running and queued, over every tenant (the metrics' gauges). */
  stats(): { readonly running: number; readonly queued: number };
}

const RETRY_AFTER_SEC = 1;

/**
 * One small cockatiel bulkhead per tenant for heavy requests (thousands of resources to build,
 * hand out and serialise), so one tenant's heavy reads wait behind each other instead of
 * filling the event loop in front of every other tenant's requests. Light requests never meet
 * it. Separate from the statement bulkhead in `breakers.ts`: that one bounds a tenant's
 * statements in flight, this one its expensive requests, which each send only a few statements.
 */
export function createHeavyRequests(
  options: HeavyRequestOptions,
  hold?: RefusalHold,
  unitsPerSlice = UNITS_PER_SLICE,
): HeavyRequests {
  const bulkheads = new LRUCache<string, BulkheadPolicy>({ max: 20_000 });
  const light = createLightFirst(options.maxWaitMs, options.sharePercent, gcPauseMs);

  async function acquire(clientId: string, ticket: LightTicket | undefined): Promise<HeavySlot> {
    let limiter = bulkheads.get(clientId);
    if (limiter === undefined) {
      limiter = bulkhead(options.concurrency, options.queue);
      bulkheads.set(clientId, limiter);
    }
    let release: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    let admitted: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      admitted = resolve;
    });
    // Queued or running, a heavy request does not hold heavy slices back.
    ticket?.setAside();
    // The slot is held until `release`: the request's work runs outside cockatiel's callback.
    const slot = limiter.execute(() => {
      admitted();
      return done;
    });
    try {
      await Promise.race([running, slot]);
    } catch (err) {
      if (err instanceof BulkheadRejectedError) {
        await hold?.hold(RETRY_AFTER_SEC);
        throw gatewayError(
          'TENANT_BUSY',
          'Too many expensive requests of this tenant are running; retry shortly.',
          { http: { headers: { 'retry-after': String(RETRY_AFTER_SEC) } } },
        );
      }
      throw err;
    }
    return release;
  }

  return {
    admit(clientId, worstCase, ticket) {
      return worstCase > options.threshold ? acquire(clientId, ticket) : undefined;
    },
    slicer: createSlicer(unitsPerSlice, light.schedule),
    light,
    stats() {
      let running = 0;
      let queued = 0;
      for (const limiter of bulkheads.values()) {
        running += options.concurrency - limiter.executionSlots;
        queued += options.queue - limiter.queueSlots;
      }
      return { running, queued };
    },
  };
}
