import { describe, expect, it } from 'vitest';
import { parseDateValue, parseToken } from '../../../src/mapping/search.js';

describe('parseDateValue', () => {
  it('turns partial dates into half-open ranges', () => {
    expect(parseDateValue('1980')).toEqual({
      prefix: 'eq',
      start: '1980-01-01',
      end: '1981-01-01',
    });
    expect(parseDateValue('le1980-02')).toEqual({
      prefix: 'le',
      start: '1980-02-01',
      end: '1980-03-01',
    });
    expect(parseDateValue('gt1980-12-31')).toEqual({
      prefix: 'gt',
      start: '1980-12-31',
      end: '1981-01-01',
    });
    expect(parseDateValue('2024-02-29')).toEqual({
      prefix: 'eq',
      start: '2024-02-29',
      end: '2024-03-01',
    });
  });

  it('handles years below 100 and the end of year 9999', () => {
    expect(parseDateValue('0050-12-31')).toEqual({
      prefix: 'eq',
      start: '0050-12-31',
      end: '0051-01-01',
    });
    expect(parseDateValue('9999-12-31')).toEqual({
      prefix: 'eq',
      start: '9999-12-31',
      end: undefined,
    });
  });

  it('rejects what is not a date', () => {
    for (const bad of [
      '0000',
      '1980-00',
      '1980-13',
      '2023-02-29',
      '2023-04-31',
      'ap1980',
      '19800101',
      '1980-1-1',
      'eq',
    ]) {
      expect(parseDateValue(bad), bad).toBeUndefined();
    }
  });
});

describe('parseToken', () => {
  it('splits system and code at the first unescaped bar', () => {
    expect(parseToken('male')).toEqual({ code: 'male' });
    expect(parseToken('urn:x|123')).toEqual({ system: 'urn:x', code: '123' });
    expect(parseToken('|123')).toEqual({ system: '', code: '123' });
    expect(parseToken('urn:x|')).toEqual({ system: 'urn:x', code: '' });
    expect(parseToken('a\\|b|c|d')).toEqual({ system: 'a|b', code: 'c|d' });
  });
});
