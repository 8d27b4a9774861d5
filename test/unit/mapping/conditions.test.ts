import { describe, expect, it } from 'vitest';
import { compileConditions, conditionColumns } from '../../../src/mapping/conditions.js';
import { ComparisonSchema } from '../../../src/mapping/mapping-schema.js';

/** Whether one comparison on column `c` holds for `cell`. */
function holds(comparison: Record<string, unknown>, cell: unknown): boolean {
  const parsed = ComparisonSchema.parse({ column: 'c', ...comparison });
  return compileConditions([parsed])({ c: cell });
}

/** `YYYY-MM-DD` of the UTC date today plus `days`, computed independently of the code under test. */
function utcDate(days: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

describe('conditions: the SQL NULL rule', () => {
  it('matches a NULL cell only with isNull', () => {
    for (const cell of [null, undefined]) {
      expect(holds({ op: 'isNull' }, cell)).toBe(true);
      expect(holds({ op: 'notNull' }, cell)).toBe(false);
      expect(holds({ op: 'eq', value: 1 }, cell)).toBe(false);
      expect(holds({ op: 'ne', value: 1 }, cell)).toBe(false);
      expect(holds({ op: 'lt', value: 1 }, cell)).toBe(false);
      expect(holds({ op: 'ge', value: 'a' }, cell)).toBe(false);
      expect(holds({ op: 'in', value: [1, 'a'] }, cell)).toBe(false);
      expect(holds({ op: 'notIn', value: [1, 'a'] }, cell)).toBe(false);
      expect(holds({ op: 'lt', value: { today: 0 } }, cell)).toBe(false);
    }
  });

  it('treats empty text and 0 as values, not NULL', () => {
    expect(holds({ op: 'isNull' }, '')).toBe(false);
    expect(holds({ op: 'notNull' }, 0)).toBe(true);
    expect(holds({ op: 'eq', value: '' }, '')).toBe(true);
    expect(holds({ op: 'ne', value: 1 }, 0)).toBe(true);
  });
});

describe('conditions: numbers and booleans', () => {
  it('compares numbers, bigints and numeric text numerically against a number', () => {
    expect(holds({ op: 'eq', value: 1 }, 1)).toBe(true);
    expect(holds({ op: 'eq', value: 1 }, 1n)).toBe(true);
    expect(holds({ op: 'eq', value: 1 }, '1.0')).toBe(true);
    expect(holds({ op: 'eq', value: 1 }, ' 01 ')).toBe(true);
    // As text, '10' < '9'; as numbers it is not.
    expect(holds({ op: 'gt', value: 9 }, '10')).toBe(true);
    expect(holds({ op: 'lt', value: 9 }, 10)).toBe(false);
    expect(holds({ op: 'le', value: 2.5 }, '2.50')).toBe(true);
    expect(holds({ op: 'ge', value: -1 }, -1)).toBe(true);
  });

  it('compares text that is not a number as text against a number', () => {
    expect(holds({ op: 'eq', value: 1 }, 'one')).toBe(false);
    expect(holds({ op: 'ne', value: 1 }, 'one')).toBe(true);
  });

  it('compares a number cell with numeric text numerically, text with text as text', () => {
    expect(holds({ op: 'eq', value: '1' }, 1)).toBe(true);
    expect(holds({ op: 'gt', value: '9' }, 10)).toBe(true);
    expect(holds({ op: 'eq', value: '1' }, '01')).toBe(false);
    expect(holds({ op: 'lt', value: '9' }, '10')).toBe(true);
  });

  it('reads booleans as 1 and 0, and a BIT(1) Buffer as its bit', () => {
    expect(holds({ op: 'eq', value: true }, 1)).toBe(true);
    expect(holds({ op: 'eq', value: true }, '1')).toBe(true);
    expect(holds({ op: 'eq', value: false }, 0)).toBe(true);
    expect(holds({ op: 'eq', value: true }, true)).toBe(true);
    expect(holds({ op: 'eq', value: 1 }, false)).toBe(false);
    expect(holds({ op: 'eq', value: true }, Buffer.from([1]))).toBe(true);
    expect(holds({ op: 'eq', value: false }, Buffer.from([0]))).toBe(true);
    expect(holds({ op: 'eq', value: true }, 'Y')).toBe(false);
  });
});

describe('conditions: text', () => {
  it('compares exactly, case and spaces included', () => {
    expect(holds({ op: 'eq', value: 'CWE' }, 'CWE')).toBe(true);
    expect(holds({ op: 'eq', value: 'CWE' }, 'cwe')).toBe(false);
    expect(holds({ op: 'eq', value: 'CWE' }, 'CWE ')).toBe(false);
    expect(holds({ op: 'lt', value: 'b' }, 'a')).toBe(true);
    expect(holds({ op: 'eq', value: 'SAME-AS' }, Buffer.from('SAME-AS'))).toBe(true);
  });

  it('matches in and notIn over mixed lists', () => {
    expect(holds({ op: 'in', value: ['NM', 'ST'] }, 'ST')).toBe(true);
    expect(holds({ op: 'in', value: ['NM', 'ST'] }, 'CWE')).toBe(false);
    expect(holds({ op: 'in', value: [1, 2] }, '2')).toBe(true);
    expect(holds({ op: 'notIn', value: ['NM', 'ST'] }, 'CWE')).toBe(true);
    expect(holds({ op: 'notIn', value: ['NM', 'ST'] }, 'NM')).toBe(false);
  });
});

describe('conditions: dates against today', () => {
  it('compares the cell as a date with the UTC date today plus n', () => {
    const yesterday = utcDate(-1);
    const today = utcDate(0);
    const tomorrow = utcDate(1);
    expect(holds({ op: 'lt', value: { today: 0 } }, yesterday)).toBe(true);
    expect(holds({ op: 'lt', value: { today: 0 } }, today)).toBe(false);
    expect(holds({ op: 'eq', value: { today: 0 } }, `${today} 23:59:59`)).toBe(true);
    expect(holds({ op: 'ge', value: { today: 1 } }, tomorrow)).toBe(true);
    expect(holds({ op: 'gt', value: { today: -2 } }, yesterday)).toBe(true);
    expect(holds({ op: 'le', value: { today: -2 } }, yesterday)).toBe(false);
  });

  it('reads legacy formats and treats zero and unreadable dates as NULL', () => {
    const [y, m, d] = utcDate(-30).split('-');
    expect(holds({ op: 'lt', value: { today: 0 } }, `${d}/${m}/${y}`)).toBe(true);
    expect(holds({ op: 'lt', value: { today: 0 } }, '0000-00-00')).toBe(false);
    expect(holds({ op: 'ge', value: { today: 0 } }, '0000-00-00')).toBe(false);
    expect(holds({ op: 'ne', value: { today: 0 } }, 'soon')).toBe(false);
  });
});

describe('condition lists', () => {
  it('holds when every comparison holds, on join columns too', () => {
    const conditions = ComparisonSchema.array().parse([
      { column: 'concept.datatype', op: 'eq', value: 'NM' },
      { column: 'value_numeric', op: 'notNull' },
    ]);
    const test = compileConditions(conditions);
    expect(test({ 'concept.datatype': 'NM', value_numeric: 5 })).toBe(true);
    expect(test({ 'concept.datatype': 'NM', value_numeric: null })).toBe(false);
    expect(test({ 'concept.datatype': 'ST', value_numeric: 5 })).toBe(false);
    expect(conditionColumns([...conditions, ...conditions])).toEqual([
      'concept.datatype',
      'value_numeric',
    ]);
  });
});
