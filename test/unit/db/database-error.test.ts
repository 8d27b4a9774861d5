import { describe, expect, it } from 'vitest';
import { toDatabaseError } from '../../../src/db/tenant-database.js';

describe('toDatabaseError', () => {
  it.each(['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR', 'ECONNREFUSED'])(
    '%s is the database being unavailable (an infrastructure failure)',
    (code) => {
      const err = toDatabaseError(Object.assign(new Error('denied'), { code }));
      expect(err.code).toBe('DB_UNAVAILABLE');
      expect(err.infrastructure).toBe(true);
    },
  );

  it('a statement the server rejects is a statement failure, not an outage', () => {
    const err = toDatabaseError(Object.assign(new Error('x'), { code: 'ER_NO_SUCH_TABLE' }));
    expect(err.code).toBe('DB_STATEMENT_FAILED');
    expect(err.infrastructure).toBe(false);
  });
});
