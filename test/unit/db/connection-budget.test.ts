import { describe, expect, it } from 'vitest';
import {
  createConnectionBudget,
  type IdleConnectionSource,
} from '../../../src/db/connection-budget.js';
import { escapeLike, MYSQL_DIALECT, SQLITE_DIALECT } from '../../../src/db/dialect.js';

describe('createConnectionBudget', () => {
  it('grants permits up to the cap, then queues in FIFO order', async () => {
    const budget = createConnectionBudget(2);
    await budget.acquire();
    await budget.acquire();
    const order: number[] = [];
    const third = budget.acquire().then(() => order.push(3));
    const fourth = budget.acquire().then(() => order.push(4));
    expect(budget.waiting).toBe(2);
    budget.release();
    budget.release();
    await Promise.all([third, fourth]);
    expect(order).toEqual([3, 4]);
    expect(budget.inUse).toBe(2);
  });

  it('reclaims the longest-idle connection of another pool before making anyone wait', async () => {
    const budget = createConnectionBudget(1);
    await budget.acquire();
    const closed: string[] = [];
    const source = (name: string, since: number | undefined): IdleConnectionSource => ({
      oldestIdleSince: () => since,
      closeOldestIdle: () => {
        closed.push(name);
        budget.release();
        return true;
      },
    });
    budget.register(source('recent', 2_000));
    budget.register(source('oldest', 1_000));
    budget.register(source('busy', undefined));
    await budget.acquire();
    expect(closed).toEqual(['oldest']);
    expect(budget.inUse).toBe(1);
  });

  it('drops a waiter whose signal aborts', async () => {
    const budget = createConnectionBudget(1);
    await budget.acquire();
    const controller = new AbortController();
    const waiting = budget.acquire(controller.signal);
    controller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(budget.waiting).toBe(0);
  });
});

describe('dialects', () => {
  it('quote identifiers and refuse anything that is not a plain identifier', () => {
    expect(MYSQL_DIALECT.quoteId('pacientes')).toBe('`pacientes`');
    expect(SQLITE_DIALECT.quoteId('pacientes')).toBe('"pacientes"');
    for (const bad of ['name` FROM patients; --', 'patients.ssn', 'otherdb.patients', '', '1abc']) {
      expect(() => MYSQL_DIALECT.quoteId(bad)).toThrow(/invalid SQL identifier/);
      expect(() => SQLITE_DIALECT.quoteId(bad)).toThrow(/invalid SQL identifier/);
    }
  });

  it('page with inlined integers only', () => {
    expect(MYSQL_DIALECT.limitOffset(50, 10)).toBe(' LIMIT 50 OFFSET 10');
    expect(() => MYSQL_DIALECT.limitOffset(1.5, 0)).toThrow();
    expect(() => MYSQL_DIALECT.limitOffset(-1, 0)).toThrow();
  });

  it('escape LIKE wildcards with a sql_mode-independent escape character', () => {
    expect(escapeLike('100%_done!')).toBe('100!%!_done!!');
    expect(MYSQL_DIALECT.likeEscape).toBe(" ESCAPE '!'");
  });
});
