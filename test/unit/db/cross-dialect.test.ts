import { describe, expect, it } from 'vitest';
import { dialectFor } from '../../../src/db/dialect.js';
import { renderQuery } from '../../../src/db/render-statement.js';
import { asText, column, eq, or, param, type Select } from '../../../src/db/statement.js';

/**
 * What must read alike on every server: NULL sorts lowest (MySQL/MariaDB and SQLite do it
 * unasked; PostgreSQL needs NULLS FIRST / NULLS LAST), and a text comparison of a value of any
 * type (PostgreSQL refuses `numeric_column = ''`; the others convert).
 */
const query: Select = {
  kind: 'select',
  items: [{ expr: column('t', 'id') }],
  from: { table: 'vitals', as: 't' },
  where: or(eq(asText(column('t', 'weight')), param('')), eq(column('t', 'weight'), param(0))),
  orderBy: [
    { expr: column('t', 'taken'), descending: false },
    { expr: column('t', 'id'), descending: true },
  ],
};

describe('statements that read alike on every server', () => {
  it.each([
    [
      'postgres',
      'SELECT t."id" FROM "vitals" AS t WHERE CAST(t."weight" AS text) = $1 OR t."weight" = $2 ORDER BY t."taken" NULLS FIRST, t."id" DESC NULLS LAST',
    ],
    [
      'mysql',
      'SELECT t.`id` FROM `vitals` AS t WHERE t.`weight` = ? OR t.`weight` = ? ORDER BY t.`taken`, t.`id` DESC',
    ],
    [
      'sqlite',
      'SELECT t."id" FROM "vitals" AS t WHERE t."weight" = ? OR t."weight" = ? ORDER BY t."taken", t."id" DESC',
    ],
  ] as const)('%s: NULL sorts lowest, and text compares as text', (name, sql) => {
    expect(renderQuery(dialectFor(name), query)).toMatchObject({ sql, params: ['', 0] });
  });
});
