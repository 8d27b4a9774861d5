import { describe, expect, it } from 'vitest';
import { MYSQL_DIALECT, SQLITE_DIALECT } from '../../../src/db/dialect.js';
import { renderExpr, renderQuery } from '../../../src/db/render-statement.js';
import {
  and,
  column,
  compare,
  eq,
  exists,
  FALSE,
  flag,
  inList,
  isNull,
  like,
  not,
  or,
  param,
  type Select,
  TRUE,
} from '../../../src/db/statement.js';

const a = eq(column('t', 'a'), param(1));
const b = eq(column('t', 'b'), param(2));
const c = eq(column('t', 'c'), param(3));

function select(extra: Partial<Select> = {}): Select {
  return {
    kind: 'select',
    items: [{ expr: column('t', 'id') }],
    from: { table: 'x', as: 't' },
    ...extra,
  };
}

describe('renderQuery quoting', () => {
  it('quotes tables, columns and result keys with each dialect', () => {
    const query = select({
      items: [{ expr: column('j_person', 'gender'), as: 'person.gender' }],
      joins: [
        {
          kind: 'left',
          table: 'person',
          as: 'j_person',
          on: eq(column('j_person', 'id'), column('t', 'pid')),
        },
      ],
    });
    expect(renderQuery(MYSQL_DIALECT, query).sql).toBe(
      'SELECT j_person.`gender` AS `person.gender` FROM `x` AS t LEFT JOIN `person` AS j_person ON j_person.`id` = t.`pid`',
    );
    expect(renderQuery(SQLITE_DIALECT, query).sql).toBe(
      'SELECT j_person."gender" AS "person.gender" FROM "x" AS t LEFT JOIN "person" AS j_person ON j_person."id" = t."pid"',
    );
  });

  it.each([
    ['a table', select({ from: { table: 'x`; DROP TABLE y; --', as: 't' } })],
    ['a table with a dot', select({ from: { table: 'db.x', as: 't' } })],
    ['a joined table', select({ joins: [{ kind: 'inner', table: 'a b', as: 'j', on: TRUE }] })],
    ['a column', select({ items: [{ expr: column('t', 'id"') }] })],
    ['a column with two dots', select({ items: [{ expr: column('t', 'a.b.c') }] })],
    ['a result key', select({ items: [{ expr: column('t', 'id'), as: 'x` FROM y --' }] })],
    ['a source alias with a quote', select({ from: { table: 'x', as: 't"' } })],
    ['an upper-case source alias', select({ from: { table: 'x', as: 'T' } })],
    ['a source alias of a column', select({ items: [{ expr: column('t; --', 'id') }] })],
    ['a join alias', select({ joins: [{ kind: 'inner', table: 'y', as: '1j', on: TRUE }] })],
    ['a derived table alias', select({ from: { query: select(), as: 'r x' } })],
    ['a column named with SQL', select({ where: eq(column('t', 'id = 1 OR 1'), param(1)) })],
  ])('refuses %s that is not a plain identifier, in both dialects', (_, query) => {
    expect(() => renderQuery(MYSQL_DIALECT, query)).toThrow();
    expect(() => renderQuery(SQLITE_DIALECT, query)).toThrow();
  });

  it('refuses inlined numbers that are not small non-negative integers', () => {
    for (const value of [-1, 1.5, 2_000_000, Number.NaN]) {
      expect(() => renderExpr(MYSQL_DIALECT, { kind: 'int', value })).toThrow();
    }
    expect(() => renderQuery(MYSQL_DIALECT, select({ limit: -1 }))).toThrow();
    expect(() => renderQuery(MYSQL_DIALECT, select({ limit: 10, offset: 0.5 }))).toThrow();
    expect(renderQuery(MYSQL_DIALECT, select({ limit: 10, offset: 20 })).sql).toBe(
      'SELECT t.`id` FROM `x` AS t LIMIT 10 OFFSET 20',
    );
  });
});

describe('renderQuery placeholders', () => {
  it('binds values in the order of their placeholders, through joins, exists, CASE and LIKE', () => {
    const query = select({
      items: [
        { expr: column('t', 'id') },
        { expr: flag(inList(column('t', 'k'), [param('i1'), param('i2')])), as: 'f' },
      ],
      joins: [
        {
          kind: 'inner',
          table: 'y',
          as: 'j_y',
          on: and(eq(column('j_y', 'id'), column('t', 'y')), eq(column('j_y', 'v'), param('join'))),
        },
      ],
      where: and(
        eq(column('t', 'a'), param('w1')),
        exists({
          kind: 'select',
          items: [],
          from: { table: 'z', as: 'e1' },
          where: and(
            eq(column('e1', 'id'), column('t', 'id')),
            eq(column('e1', 'q'), param('sub')),
          ),
        }),
        like(column('t', 'name'), 'pat%'),
        compare(
          '<=',
          column('t', 'd'),
          param(() => 'late'),
        ),
      ),
      orderBy: [{ expr: flag(eq(column('t', 'm'), param('order'))), descending: true }],
    });
    const { sql, params } = renderQuery(SQLITE_DIALECT, query);
    expect(sql).toBe(
      'SELECT t."id", CASE WHEN t."k" IN (?, ?) THEN 1 ELSE 0 END AS "f" FROM "x" AS t' +
        ' JOIN "y" AS j_y ON j_y."id" = t."y" AND j_y."v" = ?' +
        ' WHERE t."a" = ? AND EXISTS (SELECT 1 FROM "z" AS e1 WHERE e1."id" = t."id" AND e1."q" = ?)' +
        ` AND t."name" LIKE ? ESCAPE '!' AND t."d" <= ?` +
        ' ORDER BY CASE WHEN t."m" = ? THEN 1 ELSE 0 END DESC',
    );
    expect(params).toEqual(['i1', 'i2', 'join', 'w1', 'sub', 'pat%', 'late', 'order']);
  });

  it('calls a value function each time the statement is rendered', () => {
    let n = 0;
    const query = select({
      where: eq(
        column('t', 'd'),
        param(() => `day${++n}`),
      ),
    });
    expect(renderQuery(MYSQL_DIALECT, query).params).toEqual(['day1']);
    expect(renderQuery(MYSQL_DIALECT, query).params).toEqual(['day2']);
  });

  it('renders UNION ALL branches and a ROW_NUMBER over a derived table, values in order', () => {
    const branch = (i: number) =>
      select({
        items: [
          { expr: column('t', 'id') },
          { expr: { kind: 'int', value: i }, as: '_fhirgate_item' },
        ],
        where: eq(column('t', 'k'), param(`b${i}`)),
        orderBy: [{ expr: column('t', 'id'), descending: false }],
        limit: 5,
      });
    const { sql, params } = renderQuery(MYSQL_DIALECT, {
      kind: 'select',
      items: 'all',
      from: {
        query: {
          kind: 'select',
          items: [
            { expr: column('f', 'id') },
            {
              expr: {
                kind: 'rowNumber',
                partitionBy: [column('f', 'id')],
                orderBy: [{ expr: column('f', 'id'), descending: true }],
              },
              as: '_fhirgate_rn',
            },
          ],
          from: { query: { kind: 'unionAll', branches: [branch(0), branch(1)] }, as: 'f' },
        },
        as: 'r',
      },
      where: compare('<=', column('r', '_fhirgate_rn'), param(2)),
    });
    expect(sql).toBe(
      'SELECT * FROM (SELECT f.`id`, ROW_NUMBER() OVER (PARTITION BY f.`id` ORDER BY f.`id` DESC) AS `_fhirgate_rn` FROM (' +
        'SELECT * FROM (SELECT t.`id`, 0 AS `_fhirgate_item` FROM `x` AS t WHERE t.`k` = ? ORDER BY t.`id` LIMIT 5 OFFSET 0) AS b0' +
        ' UNION ALL ' +
        'SELECT * FROM (SELECT t.`id`, 1 AS `_fhirgate_item` FROM `x` AS t WHERE t.`k` = ? ORDER BY t.`id` LIMIT 5 OFFSET 0) AS b1' +
        ') AS f) AS r WHERE r.`_fhirgate_rn` <= ?',
    );
    expect(params).toEqual(['b0', 'b1', 2]);
    expect(
      renderExpr(MYSQL_DIALECT, {
        kind: 'rowNumber',
        partitionBy: [],
        orderBy: [{ expr: column('t', 'id'), descending: false }],
      }).sql,
    ).toBe('ROW_NUMBER() OVER (ORDER BY t.`id`)');
  });
});

describe('renderExpr precedence', () => {
  const text = (expr: Parameters<typeof renderExpr>[1]) => renderExpr(SQLITE_DIALECT, expr).sql;

  it('puts an OR inside an AND in parentheses', () => {
    expect(text(and(or(a, b), c))).toBe('(t."a" = ? OR t."b" = ?) AND t."c" = ?');
  });

  it('puts an AND inside an OR in parentheses', () => {
    expect(text(or(and(a, b), c))).toBe('(t."a" = ? AND t."b" = ?) OR t."c" = ?');
  });

  it('puts whatever NOT negates in parentheses', () => {
    expect(text(not(and(a, b)))).toBe('NOT (t."a" = ? AND t."b" = ?)');
    expect(text(not(a))).toBe('NOT (t."a" = ?)');
    expect(text(and(not(or(a, b)), c))).toBe('NOT (t."a" = ? OR t."b" = ?) AND t."c" = ?');
  });

  it('flattens nested ANDs and nested ORs', () => {
    expect(text(and(a, and(b, c)))).toBe('t."a" = ? AND t."b" = ? AND t."c" = ?');
    expect(text(or(or(a, b), c))).toBe('t."a" = ? OR t."b" = ? OR t."c" = ?');
  });

  it('keeps a negated IN, IS NULL and a LIKE as one operand', () => {
    expect(
      text(
        and(inList(column('t', 'a'), [param(1), param(2)], true), isNull(column('t', 'b'), true)),
      ),
    ).toBe('t."a" NOT IN (?, ?) AND t."b" IS NOT NULL');
    expect(text(or(like(column('t', 'a'), 'x%'), a))).toBe(`t."a" LIKE ? ESCAPE '!' OR t."a" = ?`);
  });
});

describe('constant folding', () => {
  const x = column('t', 'x');

  it('folds an empty IN list: never true, and NOT IN () always true', () => {
    expect(inList(x, [])).toBe(FALSE);
    expect(inList(x, [], true)).toBe(TRUE);
    expect(renderExpr(MYSQL_DIALECT, inList(x, [])).sql).toBe('1=0');
    expect(renderQuery(MYSQL_DIALECT, select({ where: inList(x, []) })).sql).toBe(
      'SELECT t.`id` FROM `x` AS t WHERE 1=0',
    );
  });

  it('never renders IN (): a single value is =, a negated one <>', () => {
    expect(renderExpr(MYSQL_DIALECT, inList(x, [param(1)])).sql).toBe('t.`x` = ?');
    expect(renderExpr(MYSQL_DIALECT, inList(x, [param(1)], true)).sql).toBe('t.`x` <> ?');
  });

  it('drops TRUE from an AND and FALSE from an OR, and short-circuits the others', () => {
    expect(and(a, TRUE, b)).toEqual(and(a, b));
    expect(and(a, inList(x, []), b)).toBe(FALSE);
    expect(and()).toBe(TRUE);
    expect(and(undefined, a)).toBe(a);
    expect(or(a, FALSE)).toBe(a);
    expect(or(a, inList(x, [], true))).toBe(TRUE);
    expect(or()).toBe(FALSE);
    expect(not(TRUE)).toBe(FALSE);
    expect(not(FALSE)).toBe(TRUE);
  });

  it('leaves out a WHERE that always holds', () => {
    const { sql, params } = renderQuery(
      MYSQL_DIALECT,
      select({ where: and(TRUE, inList(x, [], true)) }),
    );
    expect(sql).toBe('SELECT t.`id` FROM `x` AS t');
    expect(params).toEqual([]);
  });
});
