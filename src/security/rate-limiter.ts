import { LRUCache } from 'lru-cache';

export interface RateLimit {
  /** Sustained requests per second; 0 turns the limit off. */
  readonly perSecond: number;
  /** Requests allowed in a burst above the sustained rate. */
  readonly burst: number;
}

/** A token bucket per key: `take` answers whether one more request fits, and when to retry. */
export interface RateLimiter {
  /** Whether one more request would fit, without spending a token. */
  peek(
    key: string,
    now?: number,
  ): { readonly ok: true } | { readonly ok: false; readonly retryAfterSec: number };
  take(
    key: string,
    now?: number,
  ): { readonly ok: true } | { readonly ok: false; readonly retryAfterSec: number };
  /** Drops a key's bucket (an offboarded tenant): its next request starts full. */
  forget(key: string): void;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets kept in an LRU (at most `maxKeys`), so an attacker cycling keys cannot grow
 * memory. An evicted bucket restarts full, which only ever errs toward letting a request through.
 */
export function createRateLimiter(limit: RateLimit, maxKeys = 100_000): RateLimiter {
  const buckets = new LRUCache<string, Bucket>({ max: maxKeys });
  function refill(key: string, now: number): Bucket {
    const bucket = buckets.get(key) ?? { tokens: limit.burst, updatedAt: now };
    bucket.tokens = Math.min(
      limit.burst,
      bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.perSecond,
    );
    bucket.updatedAt = now;
    return bucket;
  }
  function refusal(bucket: Bucket) {
    return {
      ok: false as const,
      retryAfterSec: Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond)),
    };
  }
  return {
    peek(key, now = Date.now()) {
      if (limit.perSecond <= 0) {
        return { ok: true };
      }
      const bucket = buckets.peek(key);
      if (bucket === undefined) {
        return { ok: true };
      }
      const tokens = Math.min(
        limit.burst,
        bucket.tokens + ((now - bucket.updatedAt) / 1000) * limit.perSecond,
      );
      return tokens >= 1 ? { ok: true } : refusal({ tokens, updatedAt: now });
    },
    take(key, now = Date.now()) {
      if (limit.perSecond <= 0) {
        return { ok: true };
      }
      const bucket = refill(key, now);
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return refusal(bucket);
    },
    forget(key) {
      buckets.delete(key);
    },
  };
}
