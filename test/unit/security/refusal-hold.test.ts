import { describe, expect, it } from 'vitest';
import { createRefusalHold } from '../../../src/security/refusal-hold.js';

describe('createRefusalHold', () => {
  it('holds for a random half to all of min(Retry-After, delayMs)', async () => {
    const hold = createRefusalHold({ delayMs: 200, maxHeld: 10 });
    const started = performance.now();
    const wait = hold.hold(1);
    expect(wait).toBeInstanceOf(Promise);
    expect(hold.held).toBe(1);
    await wait;
    const ms = performance.now() - started;
    expect(ms).toBeGreaterThanOrEqual(95);
    expect(ms).toBeLessThan(400);
    expect(hold.held).toBe(0);
  });

  it('answers at once when holding is off, Retry-After is 0, or maxHeld are held', async () => {
    expect(createRefusalHold({ delayMs: 0, maxHeld: 10 }).hold(5)).toBeUndefined();
    const hold = createRefusalHold({ delayMs: 100, maxHeld: 2 });
    expect(hold.hold(0)).toBeUndefined();
    const first = hold.hold(1);
    const second = hold.hold(1);
    expect(hold.hold(1)).toBeUndefined();
    expect(hold.held).toBe(2);
    await Promise.all([first, second]);
    expect(hold.held).toBe(0);
    expect(hold.hold(1)).toBeInstanceOf(Promise);
  });
});
