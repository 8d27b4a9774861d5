import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { createReadiness } from '../../../src/observability/readiness.js';
import { createShutdown } from '../../../src/observability/shutdown.js';

function quietLog(lines: string[] = []) {
  return createLogger(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
}

// A server that never listened: closing it completes at once, so these tests need no socket.
describe('createShutdown (steps and exit code)', () => {
  it('marks readiness first, flushes the audit store before the other steps, exits 0', async () => {
    const order: string[] = [];
    const readiness = createReadiness({ ping: async () => {}, timeoutMs: 100 });
    const shutdown = createShutdown({
      server: createServer(),
      log: quietLog(),
      deadlineMs: 1000,
      readiness,
    });
    shutdown.addStep('tenant-pools', async () => {
      order.push(`pools (ready=${(await readiness.check()).ready})`);
    });
    shutdown.addStep('registry', async () => {
      order.push('registry');
    });
    shutdown.setAuditFlush(async () => {
      order.push('audit');
    });
    expect(shutdown.started).toBe(false);
    const code = await shutdown.run('SIGTERM');
    expect(code).toBe(0);
    expect(order).toEqual(['audit', 'pools (ready=false)', 'registry']);
    expect(shutdown.started).toBe(true);
  });

  it('runs once: a second call gets the same result and runs no step again', async () => {
    let runs = 0;
    const shutdown = createShutdown({ server: createServer(), log: quietLog(), deadlineMs: 100 });
    shutdown.addStep('count', async () => {
      runs++;
    });
    const [a, b] = await Promise.all([shutdown.run('SIGTERM'), shutdown.run('SIGINT')]);
    expect([a, b, runs]).toEqual([0, 0, 1]);
  });

  it('exits 1 when a step fails or outlives its budget, and still runs the later steps', async () => {
    const lines: string[] = [];
    const order: string[] = [];
    const shutdown = createShutdown({
      server: createServer(),
      log: quietLog(lines),
      deadlineMs: 100,
      stepTimeoutMs: 50,
    });
    shutdown.setAuditFlush(() => Promise.reject(new Error('audit store down')));
    shutdown.addStep('hangs', () => new Promise(() => {}));
    shutdown.addStep('registry', async () => {
      order.push('registry');
    });
    const started = performance.now();
    expect(await shutdown.run('SIGTERM')).toBe(1);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(order).toEqual(['registry']);
    const log = lines.join('');
    expect(log).toContain('"step":"audit-flush"');
    expect(log).toContain('shutdown step timed out');
    expect(log).not.toContain('audit store down');
  });

  it('waits delayMs before closing the listener', async () => {
    const shutdown = createShutdown({
      server: createServer(),
      log: quietLog(),
      delayMs: 150,
      deadlineMs: 100,
    });
    const started = performance.now();
    expect(await shutdown.run('SIGTERM')).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});
