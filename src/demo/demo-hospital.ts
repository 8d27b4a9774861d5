import { createHash } from 'node:crypto';

/**
 * What a demo hospital is made of, and the helpers its seed data shares: the fake RUTs and the
 * data file name that changes whenever the schema or the seed does.
 */

/** A value in a seed row: what both better-sqlite3 and mysql2 bind without conversion. */
export type SeedValue = string | number | null;

/** Rows for one table, in the order of `columns`. */
export interface SeedTable {
  readonly table: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly SeedValue[])[];
}

/** One demo hospital: a tenant with its own database, schema, data and mapping. */
export interface DemoHospital {
  /** The tenant's `client_id` (what `npm run token -- --tenant` takes). */
  readonly clientId: string;
  readonly displayName: string;
  /**
   * The SQLite file inside the data dir. Its name carries a digest of `ddl` and `seed`, so a
   * data dir made by an older demo gets a fresh database instead of serving a stale schema.
   */
  readonly fileName: string;
  /**
   * `CREATE TABLE` / `CREATE INDEX` / `CREATE VIEW` statements, portable between SQLite and
   * MariaDB, in the order they must run.
   */
  readonly ddl: readonly string[];
  /** Rows to insert, parents before children. */
  readonly seed: readonly SeedTable[];
  /** The mapping document (format version 1), a JSON file beside this module. */
  readonly mappingFile: URL;
}

/** The system of the Chilean RUT identifiers in both demo mappings. */
export const DEMO_RUT_SYSTEM = 'https://demo.fhirgate.invalid/rut';

/** The RUT check digit (modulo 11), so the fake RUTs look like real ones to a validator. */
export function rutCheckDigit(body: number): string {
  let sum = 0;
  let factor = 2;
  for (let n = body; n > 0; n = Math.floor(n / 10)) {
    sum += (n % 10) * factor;
    factor = factor === 7 ? 2 : factor + 1;
  }
  const digit = 11 - (sum % 11);
  return digit === 11 ? '0' : digit === 10 ? 'K' : String(digit);
}

/** `12345678-5`: the RUT body without thousands dots, a dash, the check digit. */
export function formatRut(body: number): string {
  return `${body}-${rutCheckDigit(body)}`;
}

/** `hospital-a-1f2e3d4c.db`: the base name plus the first 8 hex digits of the DDL and seed digest. */
export function toDataFileName(
  base: string,
  ddl: readonly string[],
  seed: readonly SeedTable[],
): string {
  const digest = createHash('sha256').update(JSON.stringify({ ddl, seed })).digest('hex');
  return `${base}-${digest.slice(0, 8)}.db`;
}

/** Rows by table, each a record of column values: what the generator adds to a hospital. */
export type GeneratedRows = Readonly<
  Record<string, readonly Readonly<Record<string, SeedValue>>[]>
>;

/** The first id after the rows of `table` in `seed` (its first column is the primary key). */
export function nextId(seed: readonly SeedTable[], table: string): number {
  const rows = seed.find((t) => t.table === table)?.rows ?? [];
  return rows.reduce((max, row) => Math.max(max, Number(row[0])), 0) + 1;
}

/**
 * `seed` with `generated` appended to its tables, each generated row put in the table's column
 * order. A generated table `seed` lacks, or a row whose columns differ from the table's, throws:
 * that is a bug in the generator, not a legacy quirk.
 */
export function appendRows(seed: readonly SeedTable[], generated: GeneratedRows): SeedTable[] {
  const unknown = Object.keys(generated).filter((table) => !seed.some((t) => t.table === table));
  if (unknown.length > 0) {
    throw new Error(`generated rows for tables the hospital does not have: ${unknown.join(', ')}`);
  }
  return seed.map(({ table, columns, rows }) => {
    const extra = (generated[table] ?? []).map((row) => {
      const keys = Object.keys(row);
      if (keys.length !== columns.length || !columns.every((c) => c in row)) {
        throw new Error(`a generated ${table} row has [${keys}], the table [${columns}]`);
      }
      return columns.map((c) => row[c] ?? null);
    });
    return { table, columns, rows: [...rows, ...extra] };
  });
}
