import { describe, expect, it } from 'vitest';
import { toForeignKeyParam, toIdParam, toKeyParam } from '../../../src/mapping/resource-id.js';

describe('binding ids', () => {
  it('binds an own integer id as a number, and a foreign-key id as its checked text', () => {
    expect(toIdParam('17', 'integer')).toBe(17);
    // A VARCHAR foreign-key column keeps its index only when compared with text.
    expect(toForeignKeyParam('17', 'integer')).toBe('17');
    expect(toForeignKeyParam('M001', 'string')).toBe('M001');
  });

  it('refuses the same foreign-key ids as own ids, before any SQL', () => {
    for (const bad of ['01', '1abc', '1 OR 1=1', '', '-0', '99999999999999999999']) {
      expect(toIdParam(bad, 'integer')).toBeUndefined();
      expect(toForeignKeyParam(bad, 'integer')).toBeUndefined();
    }
    expect(toForeignKeyParam("1' --", 'string')).toBeUndefined();
  });

  it('keeps ids beyond 2^53 as bigint, which text would round against an integer column', () => {
    expect(toForeignKeyParam('9007199254740993', 'integer')).toBe(9007199254740993n);
  });

  it('binds a parent key cell as text when it is a safe integer, as read otherwise', () => {
    expect(toKeyParam(42)).toBe('42');
    expect(toKeyParam('0042')).toBe('0042');
    expect(toKeyParam(12345678901234567890n)).toBe(12345678901234567890n);
    expect(toKeyParam(1.5)).toBe(1.5);
    expect(toKeyParam(Buffer.from('A-1'))).toBe('A-1');
    expect(toKeyParam(null)).toBeUndefined();
  });
});
