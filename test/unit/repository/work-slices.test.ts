import { describe, expect, it } from 'vitest';
import { CHARS_PER_JOIN, longerThan, writeInPieces } from '../../../src/repository/sliced-json.js';

/** The joined text of {@link writeInPieces}. */
const stringifyInPieces = async (...args: Parameters<typeof writeInPieces>) =>
  (await writeInPieces(...args)).join('');

import { createSlicer } from '../../../src/repository/slicer.js';
import { createWorkBudget } from '../../../src/repository/work-budget.js';
import { createRefusalHold } from '../../../src/security/refusal-hold.js';
import { createHeavyRequests } from '../../../src/tenancy/heavy-requests.js';

/** Resolves after the loop has had `n` more turns (each `setImmediate` is one check phase). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function observation(i: number) {
  return {
    resourceType: 'Observation',
    id: String(i),
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: `Patient/${i % 7}` },
    valueQuantity: { value: i / 3, unit: '/min' },
    note: [{ text: `Árbol ${i} "quoted" \u2028` }],
    missing: undefined,
  };
}

describe('slicer', () => {
  it('lets work through while the slice has room, then queues it for later turns in order', async () => {
    const slicer = createSlicer(100);
    expect(slicer.pass(60)).toBeUndefined();
    expect(slicer.pass(40)).toBeUndefined();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => {
      const wait = slicer.pass(60);
      expect(wait).toBeInstanceOf(Promise);
      return wait?.then(() => order.push(n));
    });
    // Nothing queued runs in the turn that filled the slice.
    await Promise.resolve();
    expect(order).toEqual([]);
    // One slice (60 of 100) per turn: 1, then 2, then 3, each on its own turn.
    await turns(1);
    expect(order).toEqual([1]);
    await turns(1);
    expect(order).toEqual([1, 2]);
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
  });

  it('never holds back a piece larger than a slice when nothing ran before it', () => {
    const slicer = createSlicer(10);
    expect(slicer.pass(500)).toBeUndefined();
    expect(slicer.pass(1)).toBeInstanceOf(Promise);
  });
});

describe('writeInPieces', () => {
  const shapes: unknown[] = [
    { data: { a: [1, 2, 3].map(observation), b: null, c: [] } },
    {
      resourceType: 'Bundle',
      entry: Array.from({ length: 40 }, (_, i) => ({ resource: observation(i) })),
    },
    [undefined, () => 1, 'x', [[[[{ deep: [1, { d: 2 }] }]]]]],
    { date: new Date(0), nested: { toJSON: () => 'custom' }, emoji: '\u{1F600}', u: undefined },
    'plain',
    42,
    null,
  ];

  it('writes exactly what JSON.stringify writes, and tells the length of each piece', async () => {
    for (const value of shapes) {
      let chars = 0;
      const text = await stringifyInPieces(value, (n) => {
        chars += n;
        return undefined;
      });
      expect(text).toBe(JSON.stringify(value));
      expect(chars).toBe(text.length);
    }
  });

  it('holds the byte cap exactly on UTF-8 bytes, multi-byte text included', async () => {
    const stop = (): never => {
      throw new Error('over the cap');
    };
    const go = () => undefined;
    // 300 entries of 'é€😀' (2 + 3 + 4 bytes in 4 UTF-16 code units): bytes > 2 x length.
    for (const value of [
      { data: { list: Array.from({ length: 300 }, (_, i) => ({ i, s: 'é€😀' })) } },
      { data: { list: Array.from({ length: 300 }, (_, i) => observation(i)) } },
    ]) {
      const text = JSON.stringify(value);
      const bytes = Buffer.byteLength(text);
      await expect(stringifyInPieces(value, go, { maxBytes: bytes, exceeded: stop })).resolves.toBe(
        text,
      );
      await expect(
        stringifyInPieces(value, go, { maxBytes: bytes - 1, exceeded: stop }),
      ).rejects.toThrow('over the cap');
    }
    const multi = JSON.stringify({ s: 'é€😀'.repeat(50) });
    expect(longerThan(multi, Buffer.byteLength(multi))).toBe(false);
    expect(longerThan(multi, Buffer.byteLength(multi) - 1)).toBe(true);
    expect(longerThan(multi, multi.length)).toBe(true);
    expect(longerThan('{"a":"x"}', 9)).toBe(false);
    expect(longerThan('{"a":"x"}', 8)).toBe(true);
  });

  it('cuts a large answer into pieces of about one resource', async () => {
    const value = { data: { list: Array.from({ length: 300 }, (_, i) => observation(i)) } };
    const sizes: number[] = [];
    await stringifyInPieces(value, (n) => {
      sizes.push(n);
      return undefined;
    });
    const whole = Buffer.byteLength(JSON.stringify(value));
    expect(sizes.length).toBeGreaterThan(300);
    expect(Math.max(...sizes)).toBeLessThan(whole / 100);
  });

  it('hands back a few joined parts, not a part per piece, so the last join is one copy', async () => {
    const value = { data: { list: Array.from({ length: 4000 }, (_, i) => observation(i)) } };
    let pieceCount = 0;
    const parts = await writeInPieces(value, () => {
      pieceCount++;
      return undefined;
    });
    const text = JSON.stringify(value);
    expect(parts.join('')).toBe(text);
    expect(pieceCount).toBeGreaterThan(8000);
    // Every part but the last reaches the join size, and none passes it by more than a piece.
    expect(parts.length).toBe(Math.ceil(text.length / CHARS_PER_JOIN));
    for (const part of parts.slice(0, -1)) {
      expect(part.length).toBeGreaterThanOrEqual(CHARS_PER_JOIN);
      expect(part.length).toBeLessThan(CHARS_PER_JOIN + 1024);
    }
  });
});

describe('work budget', () => {
  it('counts built resources against the cap and keeps refusing once past it', () => {
    const work = createWorkBudget('t', { maxResources: 100, maxBytes: 1 << 20 });
    expect(work.built(60)).toBeUndefined();
    expect(() => work.built(41)).toThrow(expect.objectContaining({ code: 'RESPONSE_TOO_LARGE' }));
    expect(work.exceeded?.message).toContain('more than 100 resources');
    expect(() => work.handOut(1)).toThrow(expect.objectContaining({ code: 'RESPONSE_TOO_LARGE' }));
  });

  it('writes answers within the byte cap and refuses larger ones, small or sliced', async () => {
    const small = createWorkBudget('t', { maxResources: 10_000, maxBytes: 2000 });
    expect(await small.serialize({ a: 'x' })).toBe('{"a":"x"}');
    await expect(small.serialize({ a: 'x'.repeat(3000) })).rejects.toMatchObject({
      code: 'RESPONSE_TOO_LARGE',
    });

    const value = { data: { list: Array.from({ length: 400 }, (_, i) => observation(i)) } };
    const size = Buffer.byteLength(JSON.stringify(value));
    const fits = createWorkBudget('t', { maxResources: 10_000, maxBytes: size, unitsPerSlice: 8 });
    await fits.built(400);
    expect(await fits.serialize(value)).toBe(JSON.stringify(value));
    const over = createWorkBudget('t', { maxResources: 10_000, maxBytes: size - 1 });
    await over.built(400);
    await expect(over.serialize(value)).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
  });
});

describe('heavy requests', () => {
  it("queue behind their own tenant's slots and are refused past its queue, after the hold", async () => {
    const hold = createRefusalHold({ delayMs: 60_000, maxHeld: 1 });
    const heavy = createHeavyRequests(
      { threshold: 10, concurrency: 1, queue: 1, maxWaitMs: 50, sharePercent: 50 },
      hold,
    );
    expect(heavy.admit('a', 10)).toBeUndefined();
    const first = await heavy.admit('a', 11);
    let secondRan = false;
    const second = heavy.admit('a', 11)?.then((release) => {
      secondRan = true;
      return release;
    });
    // Another tenant is not behind A's slots.
    const other = await heavy.admit('b', 11);
    other?.();
    const third = heavy.admit('a', 11);
    await expect.poll(() => hold.held, { interval: 5 }).toBe(1);
    expect(secondRan).toBe(false);
    first?.();
    const release = await second;
    expect(secondRan).toBe(true);
    release?.();
    // The held refusal is still pending (its hold is long); it is a TENANT_BUSY once it ends.
    void third?.catch(() => undefined);
  });

  it('answers TENANT_BUSY with Retry-After when the queue is full', async () => {
    const heavy = createHeavyRequests({
      threshold: 0,
      concurrency: 1,
      queue: 0,
      maxWaitMs: 50,
      sharePercent: 50,
    });
    const first = await heavy.admit('a', 1);
    await expect(heavy.admit('a', 1)).rejects.toMatchObject({
      code: 'TENANT_BUSY',
      extensions: { http: { status: 503, headers: { 'retry-after': '1' } } },
    });
    first?.();
    // cockatiel frees the slot once the released work's promise has settled.
    await turns(1);
    const again = await heavy.admit('a', 1);
    expect(again).toBeTypeOf('function');
    again?.();
  });
});
