/**
 * Work in slices that yield to the event loop. A request that builds, hands out or serialises
 * thousands of resources would otherwise do it in one macrotask and hold the loop for every other
 * request (the three-alias read: 0.28-0.45 s of event-loop lag); charged to a slicer, it
 * runs at most `unitsPerSlice` units of work per macrotask and lets the loop poll its sockets in
 * between. A light request has its own slicer; heavy requests share one (`heavy-requests.ts`), so
 * heavy work as a whole gets at most one slice per turn of the loop, on the turns `light-first.ts`
 * gives it.
 */
/**
 * Work units run per turn of the event loop: a resource built or handed out, or a KiB of JSON
 * written, each some microseconds; a slice is about a millisecond of work on an idle core.
 */
export const UNITS_PER_SLICE = 200;

export interface Slicer {
  /**
   * Charges `units` of work about to be done. `undefined` (go on now) while this turn's slice has
   * room; otherwise a promise that resolves on a later turn (`schedule`), when the work may
   * run. Callers that arrive while others wait queue behind them, in order.
   */
  pass(units: number): Promise<void> | undefined;
}

interface Waiter {
  readonly units: number;
  readonly resolve: () => void;
}

/** Runs the next slice on a later turn of the loop; `setImmediate` unless heavy (`light-first.ts`). */
export type SliceScheduler = (slice: () => void) => void;

export function createSlicer(
  unitsPerSlice: number,
  schedule: SliceScheduler = setImmediate,
): Slicer {
  let spent = 0;
  let scheduled = false;
  let waiting: Waiter[] = [];

  // Runs on its own turn of the loop: lets through as many waiters as one slice holds (at least
  // one), whose work runs in the microtasks right after, and leaves the rest for the next turn.
  const drain = (): void => {
    spent = 0;
    let i = 0;
    while (i < waiting.length) {
      const next = waiting[i] as Waiter;
      if (spent > 0 && spent + next.units > unitsPerSlice) {
        break;
      }
      spent += next.units;
      next.resolve();
      i++;
    }
    waiting = i === waiting.length ? [] : waiting.slice(i);
    scheduled = waiting.length > 0;
    if (scheduled) {
      schedule(drain);
    }
  };

  return {
    pass(units) {
      // A piece larger than a whole slice goes on at once when nothing ran before it this turn:
      // it cannot be cut here, and waiting would not make it smaller.
      if (!scheduled && (spent === 0 || spent + units <= unitsPerSlice)) {
        spent += units;
        return undefined;
      }
      return new Promise<void>((resolve) => {
        waiting.push({ units, resolve });
        if (!scheduled) {
          scheduled = true;
          schedule(drain);
        }
      });
    },
  };
}
