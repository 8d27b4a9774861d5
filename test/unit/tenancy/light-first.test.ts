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
    const done = light.begin();
    expect(light.inFlight).toBe(1);
    const order: string[] = [];
    const slices = ['a', 'b', 'c'].map((name) => slice(name, order));
    for (const s of slices) {
      light.schedule(s.fn);
    }
    await turns(20);
    expect(order).toEqual([]);
    done();
    done(); // a second call changes nothing
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
    first();
    await turns(20);
    expect(order).toEqual([]);
    second();
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

  it('does not count a request set aside as heavy, until it ends', async () => {
    const light = createLightFirst(NEVER_MS);
    light.begin();
    const restore = light.setAside();
    expect(light.inFlight).toBe(0);
    const order: string[] = [];
    const a = slice('a', order);
    light.schedule(a.fn);
    await a.ran;
    restore();
    restore();
    expect(light.inFlight).toBe(1);
    const b = slice('b', order);
    light.schedule(b.fn);
    await turns(20);
    expect(order).toEqual(['a']);
  });
});

describe('the heavy slicer', () => {
  const options = { threshold: 10, concurrency: 1, queue: 1, maxWaitMs: NEVER_MS };

  it('gives heavy work its next slice only once no light request is in flight', async () => {
    const heavy = createHeavyRequests(options, undefined, 100);
    const done = heavy.light.begin();
    expect(heavy.slicer.pass(100)).toBeUndefined();
    let passed = false;
    const wait = heavy.slicer.pass(50)?.then(() => {
      passed = true;
    });
    expect(wait).toBeInstanceOf(Promise);
    await turns(20);
    expect(passed).toBe(false);
    done();
    await wait;
    expect(passed).toBe(true);
  });

  it('sets an admitted heavy request aside while it queues and runs, and counts it again at its end', async () => {
    const heavy = createHeavyRequests(options);
    heavy.light.begin();
    heavy.light.begin();
    expect(heavy.admit('a', 10)).toBeUndefined();
    const release = await heavy.admit('a', 11);
    expect(heavy.light.inFlight).toBe(1);
    const queued = heavy.admit('a', 11);
    expect(heavy.light.inFlight).toBe(0);
    release?.();
    const second = await queued;
    expect(heavy.light.inFlight).toBe(1);
    second?.();
    expect(heavy.light.inFlight).toBe(2);
  });
});
