import type { GcClock } from './gc-time.js';

/**
 * Light requests first: the turn on which heavy work gets its next slice. Heavy requests share
 * one slicer (`heavy-requests.ts`); scheduled through this gate, its next slice waits while any
 * light request is in flight, so a light request's turns of the loop (parse, verify, query,
 * write) do not each queue behind a slice of heavy work. A slice waits at most `maxWaitMs`, so
 * a steady stream of light requests slows heavy work down but never stops it.
 *
 * And while other requests are about (one in flight, or one ended within the last `maxWaitMs`),
 * heavy work takes at most `sharePercent` of the loop: after a slice that kept the loop t ms (its
 * work and whatever ran before the next turn), no heavy slice for t * (100 - share) / share ms, at
 * most `maxWaitMs`. Waiting for a light request alone is not enough on a small machine: heavy work
 * in the gaps between light requests still takes the CPU, the garbage collector's time and the
 * database's that those requests then wait for. Alone, heavy work runs at full speed.
 *
 * With a `gcClock`, a slice is also charged the collector's pauses since the previous slice
 * (while heavy work goes on): heavy work's garbage is collected between its slices, in pauses that
 * stop light requests as much as its slices do (a heavy read allocates some 15 MB, most of which
 * outlives two young-generation collections). Pauses during a light request are charged too, and
 * those inside a slice may be counted twice: heavy work errs towards yielding.
 *
 * Every HTTP request is counted from its arrival to its response's `close` (the gateway's
 * handler), which always comes; one admitted as heavy is set aside until it ends.
 */
/** One HTTP request's place in the count: light until set aside, counted until it ends. */
export interface LightTicket {
  /** The request's response has closed; again does nothing. */
  end(): void;
  /**
   * The request turned out heavy: it no longer counts as light, and its end is no light
   * request's end. Again, or after `end`, does nothing.
   */
  setAside(): void;
}

export interface LightFirst {
  /** Light requests in flight. */
  readonly inFlight: number;
  /** Counts a request in flight as light until its ticket ends or is set aside. */
  begin(): LightTicket;
  /**
   * Runs `slice` on a later turn of the loop: on the next one when no light request is in
   * flight, else once none is or `maxWaitMs` after this call, whichever comes first, and not
   * before the pause after the previous slice has passed. Slices run in the order scheduled.
   */
  schedule(slice: () => void): void;
}

export function createLightFirst(
  maxWaitMs: number,
  sharePercent = 50,
  gcClock?: GcClock,
): LightFirst {
  if (!(sharePercent >= 1 && sharePercent <= 100)) {
    throw new RangeError(`sharePercent must be 1-100, got ${sharePercent}`);
  }
  // The pause after a contended slice, per millisecond of that slice.
  const pausePerMs = (100 - sharePercent) / sharePercent;
  let inFlight = 0;
  // When the last light request ended: one that ended a moment ago is likely to have followers.
  let lastLightEnd = Number.NEGATIVE_INFINITY;
  let waiting: Array<() => void> = [];
  let oldestSince = 0;
  // No slice before this time (`performance.now()`): heavy work's share of the loop.
  let resumeAt = 0;
  // A slice ran and its work is not measured yet: nothing more is let through until it is.
  let measuring = false;
  let timer: NodeJS.Timeout | undefined;
  // The collector's clock at the end of the last slice, and when that was.
  let gcAtLastSlice = 0;
  let lastSliceEnd = Number.NEGATIVE_INFINITY;

  const run = (slice: () => void): void => {
    setImmediate(() => {
      const started = performance.now();
      const gcAtStart = gcClock?.() ?? 0;
      measuring = true;
      slice();
      // The slice's work runs in the microtasks after this callback; the next turn sees it done.
      setImmediate(() => {
        const now = performance.now();
        const gcNow = gcClock?.() ?? 0;
        // Pauses since the previous slice while heavy work went on, else since this one began.
        const gcMs = gcNow - (started - lastSliceEnd <= maxWaitMs * 2 ? gcAtLastSlice : gcAtStart);
        gcAtLastSlice = gcNow;
        lastSliceEnd = now;
        const charged = now - started + gcMs;
        const contended = inFlight > 0 || now - lastLightEnd < maxWaitMs;
        resumeAt = contended ? now + Math.min(charged * pausePerMs, maxWaitMs) : now;
        measuring = false;
        next();
      });
    });
  };

  // Lets the waiting slices through if they may run now, else arms the timer for when they may.
  const next = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (waiting.length === 0 || measuring) {
      return;
    }
    const now = performance.now();
    const bound = oldestSince + maxWaitMs;
    const at = Math.max(resumeAt, inFlight > 0 ? bound : now);
    if (at > now) {
      timer = setTimeout(next, Math.ceil(at - now));
      return;
    }
    const ready = waiting;
    waiting = [];
    for (const slice of ready) {
      run(slice);
    }
  };

  const leave = (): void => {
    inFlight--;
    if (inFlight <= 0) {
      next();
    }
  };

  return {
    get inFlight() {
      return inFlight;
    },
    begin() {
      inFlight++;
      let state: 'light' | 'aside' | 'ended' = 'light';
      return {
        end() {
          if (state === 'light') {
            lastLightEnd = performance.now();
            leave();
          }
          state = 'ended';
        },
        setAside() {
          if (state === 'light') {
            state = 'aside';
            leave();
          }
        },
      };
    },
    schedule(slice) {
      if (waiting.length === 0) {
        oldestSince = performance.now();
      }
      waiting.push(slice);
      next();
    },
  };
}
