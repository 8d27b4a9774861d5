/**
 * Light requests first: the turn on which heavy work gets its next slice. Heavy requests share
 * one slicer (`heavy-requests.ts`); scheduled through this gate, its next slice waits while any
 * light request is in flight, so a light request's turns of the loop (parse, verify, query,
 * write) do not each queue behind a slice of heavy work. A slice waits at most `maxWaitMs`, so
 * a steady stream of light requests slows heavy work down but never stops it.
 *
 * Every HTTP request is counted from its arrival to its response's `close` (the gateway's
 * handler), which always comes; one admitted as heavy is set aside until it ends.
 */
export interface LightFirst {
  /** Light requests in flight. */
  readonly inFlight: number;
  /** Counts a request in flight until the returned function is called; again does nothing. */
  begin(): () => void;
  /**
   * Stops counting a request in flight as light (it turned out heavy) until the returned
   * function is called; again does nothing.
   */
  setAside(): () => void;
  /**
   * Runs `slice` on a later turn of the loop: on the next one when no light request is in
   * flight, else once none is or `maxWaitMs` after this call, whichever comes first. Slices are
   * run in the order they were scheduled.
   */
  schedule(slice: () => void): void;
}

export function createLightFirst(maxWaitMs: number): LightFirst {
  let inFlight = 0;
  let waiting: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;

  const release = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    const ready = waiting;
    waiting = [];
    for (const slice of ready) {
      setImmediate(slice);
    }
  };

  const leave = (): void => {
    inFlight--;
    if (inFlight <= 0 && waiting.length > 0) {
      release();
    }
  };

  return {
    get inFlight() {
      return inFlight;
    },
    begin() {
      inFlight++;
      return once(leave);
    },
    setAside() {
      leave();
      return once(() => {
        inFlight++;
      });
    },
    schedule(slice) {
      if (inFlight <= 0 && waiting.length === 0) {
        setImmediate(slice);
        return;
      }
      waiting.push(slice);
      // The starvation bound counts from the oldest waiting slice.
      timer ??= setTimeout(release, maxWaitMs);
    },
  };
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      action();
    }
  };
}
