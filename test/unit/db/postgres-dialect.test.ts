import { describe, expect, it } from 'vitest';
import { dialectFor, escapeLike, POSTGRES_DIALECT } from '../../../src/db/dialect.js';
import { renderQuery } from '../../../src/db/render-statement.js';
import { and, column, eq, like, param, type Select } from '../../../src/db/statement.js';

const JOIN = 'a'.repeat(30);
const COLUMN = `c${'x'.repeat(62)}`;
const LONG_KEY = `${JOIN}.${COLUMN}`;

describe('POSTGRES_DIALECT', () => {
  it('is the dialect of postgres tenants', () => {
    expect(dialectFor('postgres')).toBe(POSTGRES_DIALECT);
  });

  it('quotes with double quotes, keeping the case of the name, and refuses anything else', () => {
    expect(POSTGRES_DIALECT.quoteId('PatientID')).toBe('"PatientID"');
    expect(POSTGRES_DIALECT.quoteAlias('person.Gender')).toBe('"person.Gender"');
    expect(() => POSTGRES_DIALECT.quoteId('a"b')).toThrow(/invalid SQL identifier/);
    expect(() => POSTGRES_DIALECT.quoteAlias('x.y.z')).toThrow(/invalid result key/);
  });

  it('numbers its placeholders and pages with LIMIT/OFFSET', () => {
    expect(POSTGRES_DIALECT.placeholder(1)).toBe('$1');
    expect(POSTGRES_DIALECT.placeholder(12)).toBe('$12');
    expect(POSTGRES_DIALECT.limitOffset(20, 40)).toBe(' LIMIT 20 OFFSET 40');
    expect(() => POSTGRES_DIALECT.limitOffset(-1, 0)).toThrow();
  });

  it('renders a statement with $n values in order, and ILIKE with the ! escape', () => {
    const query: Select = {
      kind: 'select',
      items: [{ expr: column('t', 'Id') }],
      from: { table: 'Patients', as: 't' },
      where: and(
        eq(column('t', 'Sex'), param('F')),
        like(column('t', 'Family'), `${escapeLike('50%_!')}%`),
      ),
      limit: 5,
    };
    expect(renderQuery(POSTGRES_DIALECT, query)).toEqual({
      sql: `SELECT t."Id" FROM "Patients" AS t WHERE t."Sex" = $1 AND CAST(t."Family" AS text) ILIKE $2 ESCAPE '!' LIMIT 5 OFFSET 0`,
      params: ['F', '50!%!_!!%'],
    });
  });

  it('keeps a result key of up to 63 characters as it is', () => {
    const key = `${'j'.repeat(30)}.${'c'.repeat(32)}`;
    expect(key).toHaveLength(63);
    expect(POSTGRES_DIALECT.resultName(key)).toBe(key);
  });

  it('shortens a longer result key to 63 characters, the same way every time, distinct per key', () => {
    expect(LONG_KEY).toHaveLength(94);
    const name = POSTGRES_DIALECT.resultName(LONG_KEY);
    expect(name).toHaveLength(63);
    expect(name).toMatch(/^a{30}\.cx{14}~[0-9a-f]{16}$/);
    expect(POSTGRES_DIALECT.resultName(LONG_KEY)).toBe(name);
    expect(POSTGRES_DIALECT.quoteAlias(LONG_KEY)).toBe(`"${name}"`);
    const sibling = `${JOIN}.${COLUMN.slice(0, -1)}y`;
    expect(POSTGRES_DIALECT.resultName(sibling)).not.toBe(name);
  });

  it('maps shortened result names back to their keys, and refers to a derived column by the same name', () => {
    const inner: Select = {
      kind: 'select',
      items: [{ expr: column('t', 'id') }, { expr: column(`j_${JOIN}`, COLUMN), as: LONG_KEY }],
      from: { table: 'p', as: 't' },
    };
    const outer: Select = {
      kind: 'select',
      items: [{ expr: column('f', LONG_KEY), as: LONG_KEY }],
      from: { query: inner, as: 'f' },
    };
    const statement = renderQuery(POSTGRES_DIALECT, outer);
    const name = POSTGRES_DIALECT.resultName(LONG_KEY);
    expect(statement.sql).toBe(
      `SELECT f."${name}" AS "${name}" FROM (SELECT t."id", j_${JOIN}."${COLUMN}" AS "${name}" FROM "p" AS t) AS f`,
    );
    expect(statement.resultKeys).toEqual(new Map([[name, LONG_KEY]]));
  });

  it('adds no result key map when no name was shortened', () => {
    const query: Select = {
      kind: 'select',
      items: [{ expr: column('j_x', 'gender'), as: 'x.gender' }],
      from: { table: 'p', as: 't' },
    };
    expect(renderQuery(POSTGRES_DIALECT, query).resultKeys).toBeUndefined();
  });
});
