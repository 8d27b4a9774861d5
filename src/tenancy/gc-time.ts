import { PerformanceObserver } from 'node:perf_hooks';

/**
 * Milliseconds the garbage collector has stopped this process's event loop since the first call,
 * from V8's `gc` performance entries (one observer per process, one callback per batch of
 * collections, nothing per request). The count runs a little behind: entries are delivered on a
 * later turn of the loop than the collection that made them.
 */
export type GcClock = () => number;

let pausedMs = 0;
let observer: PerformanceObserver | undefined;

export const gcPauseMs: GcClock = () => {
  if (observer === undefined) {
    observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        pausedMs += entry.duration;
      }
    });
    observer.observe({ entryTypes: ['gc'] });
  }
  return pausedMs;
};
