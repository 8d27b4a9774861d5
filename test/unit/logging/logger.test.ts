import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { toYogaLogger } from '../../../src/gateway.js';
import { createLogger, lazyChild, safeError, tenantHash } from '../../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l.length > 0),
      );
      done();
    },
  });
  return { log: createLogger({ level: 'debug' }, sink), lines };
}

const CANARY = 'ZZPHI-3f7c0d6e';

describe('logging', () => {
  it('keeps only data-free fields of a mysql2-style error', () => {
    const err = Object.assign(new Error(`Duplicate entry '${CANARY}' for key 'PRIMARY'`), {
      code: 'ER_DUP_ENTRY',
      errno: 1062,
      sqlState: '23000',
      sql: `INSERT INTO pacientes VALUES ('${CANARY}')`,
      sqlMessage: `Duplicate entry '${CANARY}'`,
    });
    expect(safeError(err)).toEqual({
      type: 'Error',
      code: 'ER_DUP_ENTRY',
      errno: 1062,
      sqlState: '23000',
    });
  });

  it('drops the URL that Node puts into ERR_INVALID_URL errors', () => {
    let err: unknown;
    try {
      new URL(`mysql://u:ZZPW-${CANARY}@`);
    } catch (e) {
      err = e;
    }
    const { log, lines } = capture();
    log.error({ err, url: `mysql://u:ZZPW-${CANARY}@h/db` }, 'tenant database URL rejected');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(CANARY);
    expect(JSON.parse(lines[0]!).err).toEqual({ type: 'TypeError', code: 'ERR_INVALID_URL' });
  });

  it('passes Yoga’s masked originals through the serializer and drops its parameters', () => {
    const { log, lines } = capture();
    const yoga = toYogaLogger(log);
    yoga.error(new Error(`patient ${CANARY} not found`));
    yoga.debug('Processing GraphQL Parameters', { query: `{ x(name: "${CANARY}") }` });
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain(CANARY);
  });

  it('labels tenants with a stable hash, not their client id', () => {
    expect(tenantHash('hospital-a')).toBe(tenantHash('hospital-a'));
    expect(tenantHash('hospital-a')).not.toBe(tenantHash('hospital-b'));
    expect(tenantHash('hospital-a')).toMatch(/^[0-9a-f]{12}$/);
  });

  it('lazyChild writes what a child writes, and makes the child only when a line is written', () => {
    const { log, lines } = capture();
    let children = 0;
    const counted = new Proxy(log, {
      get(target, prop) {
        if (prop === 'child') {
          return (bindings: Record<string, unknown>) => {
            children += 1;
            return target.child(bindings);
          };
        }
        return Reflect.get(target, prop, target);
      },
    });
    log.level = 'info';
    const requestLog = lazyChild(counted, { requestId: 'r-1', tenant: 'abc' });
    requestLog.debug({ step: 1 }, 'not written');
    expect(children).toBe(0);
    expect(lines).toEqual([]);
    requestLog.warn({ step: 2 }, 'written');
    requestLog.info('again');
    expect(children).toBe(1);
    const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(first).toMatchObject({
      level: 40,
      requestId: 'r-1',
      tenant: 'abc',
      step: 2,
      msg: 'written',
    });
    expect(second).toMatchObject({ level: 30, requestId: 'r-1', tenant: 'abc', msg: 'again' });
    expect(requestLog.isLevelEnabled('debug')).toBe(false);
  });
});
