import { describe, expect, it } from 'vitest';
import { createReadiness } from '../../../src/observability/readiness.js';

describe('createReadiness', () => {
  it('is ready while the registry ping succeeds', async () => {
    const readiness = createReadiness({ ping: async () => {}, timeoutMs: 100 });
    expect(await readiness.check()).toEqual({ ready: true });
  });

  it('is not ready when the ping fails, and says so without the error', async () => {
    const readiness = createReadiness({
      ping: () => Promise.reject(new Error('connect ECONNREFUSED mysql://root:pw@db/registry')),
      timeoutMs: 100,
    });
    const result = await readiness.check();
    expect(result).toEqual({ ready: false, reason: 'registry-unavailable' });
    expect(JSON.stringify(result)).not.toContain('mysql');
  });

  it('counts a ping slower than its budget as unavailable, in about the budget', async () => {
    const readiness = createReadiness({
      ping: () => new Promise((resolve) => setTimeout(resolve, 2000)),
      timeoutMs: 50,
    });
    const started = performance.now();
    expect(await readiness.check()).toEqual({ ready: false, reason: 'registry-unavailable' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('shares one ping among concurrent checks and reuses the answer for cacheMs', async () => {
    let pings = 0;
    const readiness = createReadiness({
      ping: async () => {
        pings++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      },
      timeoutMs: 500,
      cacheMs: 200,
    });
    const results = await Promise.all(Array.from({ length: 50 }, () => readiness.check()));
    expect(results.every((r) => r.ready)).toBe(true);
    await readiness.check();
    expect(pings).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await readiness.check();
    expect(pings).toBe(2);
  });

  it('answers shutting-down from the moment shutdown is marked, whatever the registry says', async () => {
    const readiness = createReadiness({ ping: async () => {}, timeoutMs: 100 });
    expect((await readiness.check()).ready).toBe(true);
    readiness.markShuttingDown();
    expect(readiness.shuttingDown).toBe(true);
    expect(await readiness.check()).toEqual({ ready: false, reason: 'shutting-down' });
  });
});
