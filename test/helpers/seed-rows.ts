/**
 * Fixture seeding that reads the same on MariaDB and PostgreSQL: a fixture lists its rows once
 * and {@link insertRows} writes the statement each server understands (mysql2's `VALUES ?` bulk
 * form, or `$n` placeholders in batches under PostgreSQL's 65,535-parameter limit).
 */

/** The server a test database lives on. */
export type TestEngine = 'mysql' | 'postgres';

/** What a fixture's `seed` gets: a TestDatabase or a TestPgDatabase. */
export interface SeedTarget {
  readonly engine: TestEngine;
  exec(sql: string, params?: readonly unknown[]): Promise<unknown>;
}

const PG_MAX_PARAMS = 65_535;

/** MariaDB's zero dates, which PostgreSQL has no value for. */
const ZERO_DATES: ReadonlySet<unknown> = new Set(['0000-00-00', '0000-00-00 00:00:00']);

/**
 * Inserts `rows` into `table`; `columns` is the fixture's comma-separated column list, quoted
 * here so that mixed-case names (OpenEMR's `DOB`) keep their case on PostgreSQL. On PostgreSQL a
 * MariaDB zero date becomes NULL, what a PostgreSQL legacy schema holds for "no date": both read
 * as an absent element.
 */
export async function insertRows(
  db: SeedTarget,
  table: string,
  columns: string,
  rows: readonly (readonly unknown[])[],
): Promise<void> {
  const names = columns.split(',').map((c) => c.trim());
  if (rows.length === 0) {
    return;
  }
  if (db.engine === 'mysql') {
    const list = names.map((n) => `\`${n}\``).join(', ');
    await db.exec(`INSERT INTO \`${table}\` (${list}) VALUES ?`, [rows]);
    return;
  }
  const list = names.map((n) => `"${n}"`).join(', ');
  const perBatch = Math.floor(PG_MAX_PARAMS / names.length);
  for (let start = 0; start < rows.length; start += perBatch) {
    const batch = rows.slice(start, start + perBatch);
    const tuples = batch.map(
      (_, r) => `(${names.map((_n, c) => `$${r * names.length + c + 1}`).join(', ')})`,
    );
    const values = batch.flat().map((v) => (ZERO_DATES.has(v) ? null : v));
    await db.exec(`INSERT INTO "${table}" (${list}) VALUES ${tuples.join(', ')}`, values);
  }
}
