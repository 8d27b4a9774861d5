import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../../src/security/rate-limiter.js';

describe('createRateLimiter', () => {
  it('allows a burst, then refuses with a retry time, then refills at the sustained rate', () => {
    const limiter = createRateLimiter({ perSecond: 2, burst: 3 });
    const t0 = 1_000_000;
    expect([1, 2, 3].map(() => limiter.take('u', t0).ok)).toEqual([true, true, true]);
    expect(limiter.take('u', t0)).toEqual({ ok: false, retryAfterSec: 1 });
    expect(limiter.take('other', t0).ok).toBe(true);
    expect(limiter.take('u', t0 + 500).ok).toBe(true);
    expect(limiter.take('u', t0 + 500).ok).toBe(false);
  });

  it('is off at 0 per second', () => {
    const limiter = createRateLimiter({ perSecond: 0, burst: 0 });
    expect(Array.from({ length: 1000 }, () => limiter.take('u').ok).every(Boolean)).toBe(true);
  });

  it('forget drops a bucket: the key starts full again (an offboarded tenant)', () => {
    const limiter = createRateLimiter({ perSecond: 1, burst: 2 });
    expect(limiter.take('t', 0).ok).toBe(true);
    expect(limiter.take('t', 0).ok).toBe(true);
    expect(limiter.take('t', 0).ok).toBe(false);
    limiter.forget('t');
    expect(limiter.take('t', 0).ok).toBe(true);
  });
});
