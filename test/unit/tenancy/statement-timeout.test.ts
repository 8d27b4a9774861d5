import { ConsecutiveBreaker, circuitBreaker, handleAll, TaskCancelledError, wrap } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { statementTimeout } from '../../../src/tenancy/statement-timeout.js';

describe('statementTimeout', () => {
  it('passes a statement that returns in time through, its signal never aborted', async () => {
    let seen: AbortSignal | undefined;
    const rows = await statementTimeout(5_000).execute(async ({ signal }) => {
      seen = signal;
      await new Promise((resolve) => setImmediate(resolve));
      return ['row'];
    });
    expect(rows).toEqual(['row']);
    expect(seen?.aborted).toBe(false);
  });

  it("passes a statement's own failure through, thrown or rejected", async () => {
    const policy = statementTimeout(5_000);
    await expect(
      policy.execute(() => {
        throw new Error('thrown');
      }),
    ).rejects.toThrow('thrown');
    await expect(policy.execute(() => Promise.reject(new Error('rejected')))).rejects.toThrow(
      'rejected',
    );
  });

  it('rejects with TaskCancelledError once the time is up and aborts the signal', async () => {
    let seen: AbortSignal | undefined;
    const never = statementTimeout(20).execute(({ signal }) => {
      seen = signal;
      return new Promise<never>(() => {});
    });
    await expect(never).rejects.toBeInstanceOf(TaskCancelledError);
    await expect(never).rejects.toThrow('Operation timed out after 20ms');
    expect(seen?.aborted).toBe(true);
  });

  it("aborts the statement's signal when the caller's signal aborts", async () => {
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    const running = statementTimeout(5_000).execute(({ signal }) => {
      seen = signal;
      return new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    }, caller.signal);
    caller.abort();
    await expect(running).rejects.toThrow('aborted');
    expect(seen?.aborted).toBe(true);
  });

  it('counts a timeout as a failure of the breaker around it', async () => {
    const breaker = circuitBreaker(handleAll, {
      halfOpenAfter: 60_000,
      breaker: new ConsecutiveBreaker(1),
    });
    const policy = wrap(breaker, statementTimeout(10));
    await expect(policy.execute(() => new Promise<never>(() => {}))).rejects.toBeInstanceOf(
      TaskCancelledError,
    );
    await expect(policy.execute(() => 'ok')).rejects.toThrow(/breaker|open/i);
  });
});
