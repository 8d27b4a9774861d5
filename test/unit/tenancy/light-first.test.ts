import { describe, expect, it } from 'vitest';
import { createHeavyRequests } from '../../../src/tenancy/heavy-requests.js';
import { createLightFirst } from '../../../src/tenancy/light-first.js';

/** Resolves after the loop has had `n` more turns (each `setImmediate` is one check phase). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A slice that records its name and resolves `ran` once it has run. */
function slice(name: string, order: string[]) {
  let run: () => void = () => {};
  const ran = new Promise<void>((resolve) => {
    run = resolve;
  });
  return {
    ran,
    fn: () => {
      order.push(name);
      run();
    },
  };
}

// Long enough that no slice is let through by the bound while a test looks at the loop's turns.
const NEVER_MS = 600_000;

describe('light requests first', () => {
  it('runs a slice when no light request is in flight', async () => {
    const light = createLightFirst(NEVER_MS);
    const order: string[] = [];
    const a = slice('a', order);
    light.schedule(a.fn);
    expect(order).toEqual([]);
    await a.ran;
    expect(order).toEqual(['a']);
  });

  it('holds slices back while a light request is in flight, then runs them in order', async () => {
    const light = createLightFirst(NEVER_MS);
    const ticket = light.begin();
    expect(light.inFlight).toBe(1);
    const order: string[] = [];
    const slices = ['a', 'b', 'c'].map((name) => slice(name, order));
    for (const s of slices) {
      light.schedule(s.fn);
    }
    await turns(20);
    expect(order).toEqual([]);
    ticket.end();
    ticket.end(); // a second call changes nothing
    expect(light.inFlight).toBe(0);
    await Promise.all(slices.map((s) => s.ran));
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('waits for the last of several light requests', async () => {
    const light = createLightFirst(NEVER_MS);
    const first = light.begin();
    const second = light.begin();
    const order: string[] = [];
    const a = slice('a', order);
    light.schedule(a.fn);
    first.end();
    await turns(20);
    expect(order).toEqual([]);
    second.end();
    await a.ran;
    expect(order).toEqual(['a']);
  });

  it('lets a slice through after the starvation bound while light requests keep coming', async () => {
    const light = createLightFirst(20);
    light.begin(); // never ends in this test
    const order: string[] = [];
    const slices = ['a', 'b'].map((name) => slice(name, order));
    for (const s of slices) {
      light.schedule(s.fn);
    }
    await Promise.all(slices.map((s) => s.ran));
    expect(order).toEqual(['a', 'b']);
    expect(light.inFlight).toBe(1);
    // The bound holds for the next slice too.
    const c = slice('c', order);
    light.schedule(c.fn);
    await c.ran;
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('does not count a request set aside as heavy, nor its end as a light one', async () => {
    const light = createLightFirst(NEVER_MS);
    const ticket = light.begin();
    ticket.setAside();
    ticket.setAside();
    expect(light.inFlight).toBe(0);
    const order: string[] = [];
    const a = slice('a', order);
    light.schedule(a.fn);
    await a.ran;
    ticket.end();
    expect(light.inFlight).toBe(0);
    // Its end is no light request's: the next slice runs without a pause.
    const b = slice('b', order);
    light.schedule(b.fn);
    await b.ran;
    expect(order).toEqual(['a', 'b']);
  });

  it("keeps the count when a heavy request's client leaves before its work ends", async () => {
    const light = createLightFirst(NEVER_MS);
    const heavy = light.begin();
    heavy.setAside();
    const other = light.begin();
    heavy.end(); // the client went away; its work may still be running
    heavy.setAside();
    expect(light.inFlight).toBe(1);
    other.end();
    expect(light.inFlight).toBe(0);
  });

  it('takes at most its share of the loop while light requests come and go, and all of it alone', async () => {
    const busy = (ms: number) => {
      const start = performance.now();
      while (performance.now() - start < ms) {
        // a slice of heavy work that keeps the loop
      }
    };
    // Slices of 2 ms for `ms`; returns the loop time they took, in percent.
    const heavyShare = async (light: ReturnType<typeof createLightFirst>, ms: number) => {
      let spent = 0;
      let running = true;
      const loop = () =>
        light.schedule(() => {
          const start = performance.now();
          busy(2);
          spent += performance.now() - start;
          if (running) {
            loop();
          }
        });
      loop();
      await new Promise((resolve) => setTimeout(resolve, ms));
      running = false;
      return (spent / ms) * 100;
    };
    const alone = createLightFirst(100, 10);
    expect(await heavyShare(alone, 400)).toBeGreaterThan(60);

    const light = createLightFirst(100, 10);
    // Light requests every 5 ms, each in flight for 1 ms.
    const traffic = setInterval(() => {
      const ticket = light.begin();
      setTimeout(() => ticket.end(), 1);
    }, 5);
    try {
      const share = await heavyShare(light, 600);
      // 10 % of the loop, with room for the timer's granularity; well below the 60 % alone.
      expect(share).toBeLessThan(20);
      expect(share).toBeGreaterThan(2);
    } finally {
      clearInterval(traffic);
    }
  });

  it("charges a slice the collector's pauses since the previous one, while light requests are about", async () => {
    // Gaps between consecutive slices under contention, with the collector pausing `gcPerSlice`
    // ms between slices (its clock, advanced by the slices themselves here).
    const gaps = async (gcPerSlice: number) => {
      let gc = 0;
      const light = createLightFirst(100, 50, () => gc);
      const starts: number[] = [];
      // A light request ends every 2 ms: contended, but never waited out for 100 ms.
      light.begin().end();
      const pulse = setInterval(() => light.begin().end(), 2);
      try {
        await new Promise<void>((resolve) => {
          const next = () =>
            light.schedule(() => {
              starts.push(performance.now());
              gc += gcPerSlice;
              if (starts.length < 5) {
                next();
              } else {
                resolve();
              }
            });
          next();
        });
      } finally {
        clearInterval(pulse);
      }
      return starts.slice(1).map((t, i) => t - (starts[i] as number));
    };
    const without = await gaps(0);
    const withGc = await gaps(30);
    // 50 %: a pause as long as what the slice was charged; 30 ms of collector time each.
    expect(Math.min(...withGc)).toBeGreaterThanOrEqual(25);
    const median = [...without].sort((a, b) => a - b)[Math.floor(without.length / 2)] as number;
    expect(median).toBeLessThan(25);
  });

  it('refuses a share outside 1-100', () => {
    expect(() => createLightFirst(50, 0)).toThrow(/1-100/);
    expect(() => createLightFirst(50, 101)).toThrow(/1-100/);
  });
});

describe('the heavy slicer', () => {
  const options = {
    threshold: 10,
    concurrency: 1,
    queue: 1,
    maxWaitMs: NEVER_MS,
    sharePercent: 50,
  };

  it('gives heavy work its next slice only once no light request is in flight', async () => {
    const heavy = createHeavyRequests(options, undefined, 100);
    const ticket = heavy.light.begin();
    expect(heavy.slicer.pass(100)).toBeUndefined();
    let passed = false;
    const wait = heavy.slicer.pass(50)?.then(() => {
      passed = true;
    });
    expect(wait).toBeInstanceOf(Promise);
    await turns(20);
    expect(passed).toBe(false);
    ticket.end();
    await wait;
    expect(passed).toBe(true);
  });

  it('counts heavy requests running and queued over every tenant', async () => {
    const heavy = createHeavyRequests({ ...options, queue: 2 });
    expect(heavy.stats()).toEqual({ running: 0, queued: 0 });
    const a1 = await heavy.admit('a', 11);
    const a2 = heavy.admit('a', 11);
    const b1 = await heavy.admit('b', 11);
    expect(heavy.stats()).toEqual({ running: 2, queued: 1 });
    a1?.();
    const a2Slot = await a2;
    expect(heavy.stats()).toEqual({ running: 2, queued: 0 });
    a2Slot?.();
    b1?.();
    // cockatiel frees a slot once the held promise has settled: a later turn.
    await turns(2);
    expect(heavy.stats()).toEqual({ running: 0, queued: 0 });
  });

  it('sets an admitted heavy request aside while it queues and runs, for good', async () => {
    const heavy = createHeavyRequests(options);
    const first = heavy.light.begin();
    const second = heavy.light.begin();
    expect(heavy.admit('a', 10, first)).toBeUndefined();
    expect(heavy.light.inFlight).toBe(2);
    const release = await heavy.admit('a', 11, first);
    expect(heavy.light.inFlight).toBe(1);
    const queued = heavy.admit('a', 11, second);
    expect(heavy.light.inFlight).toBe(0);
    release?.();
    const slot = await queued;
    slot?.();
    first.end();
    second.end();
    expect(heavy.light.inFlight).toBe(0);
  });
});
