/**
 * The embedded demo's two hospitals. Their legacy schemas differ on purpose (split name columns
 * vs one full-name column, DATE vs `DD/MM/YYYY` text with zero dates, M/F vs H/M, metric vs
 * imperial vitals, one table per clinical concept vs one `lists` table, different soft-delete
 * flags and code formats) and their primary keys overlap (both have patients 1..225, encounters
 * 1..39+), so the demo shows what a mapping absorbs and that tenants never mix. Each hospital's
 * schema and hand-written rows are in its own module; the deterministic generator
 * (`generator/`) adds {@link GENERATED_PATIENTS} patients with their care after them. Every
 * person, RUT and clinical fact is invented.
 *
 * The DDL is plain enough for SQLite and MariaDB alike; integration tests load the same tables
 * into MariaDB.
 */
import { readFileSync } from 'node:fs';
import {
  appendRows,
  type DemoHospital,
  type SeedTable,
  type SeedValue,
  toDataFileName,
} from './demo-hospital.js';
import { HOSPITAL_A_SPECIALTIES, hospitalARows } from './generator/hospital-a-rows.js';
import { HOSPITAL_B_SPECIALTIES, hospitalBRows } from './generator/hospital-b-rows.js';
import { generatePopulation } from './generator/population.js';
import { HOSPITAL_A_DDL, HOSPITAL_A_SEED } from './hospital-a.js';
import { HOSPITAL_B_DDL, HOSPITAL_B_SEED } from './hospital-b.js';

/** Patients the generator adds to each hospital, after its 25 hand-written ones. */
export const GENERATED_PATIENTS = 200;

/** The RUT bodies of every hand-written person of both hospitals (`rut*` columns). */
function rutBodies(seed: readonly SeedTable[]): ReadonlySet<number> {
  return new Set(
    seed.flatMap(({ columns, rows }) =>
      columns.flatMap((column, i) =>
        column.startsWith('rut') ? rows.map((row) => Number(String(row[i]).split('-')[0])) : [],
      ),
    ),
  );
}

const RESERVED_RUTS = rutBodies([...HOSPITAL_A_SEED, ...HOSPITAL_B_SEED]);

/** Hospital A's hand-written rows, then its generated population (even RUT bodies). */
const SEED_A = appendRows(
  HOSPITAL_A_SEED,
  hospitalARows(
    generatePopulation({
      seed: 'hospital-a',
      patients: GENERATED_PATIENTS,
      practitioners: HOSPITAL_A_SPECIALTIES,
      virtualVisits: false,
      reservedRuts: RESERVED_RUTS,
      rutParity: 0,
    }),
    HOSPITAL_A_SEED,
  ),
);

/** Hospital B's hand-written rows, then its generated population (odd RUT bodies). */
const SEED_B = appendRows(
  HOSPITAL_B_SEED,
  hospitalBRows(
    generatePopulation({
      seed: 'hospital-b',
      patients: GENERATED_PATIENTS,
      practitioners: HOSPITAL_B_SPECIALTIES,
      virtualVisits: true,
      reservedRuts: RESERVED_RUTS,
      rutParity: 1,
    }),
    HOSPITAL_B_SEED,
  ),
);

/**
 * Hospital A: split name columns, DATE/DATETIME columns, M/F, voided flags, one table per
 * clinical concept, metric vitals in one wide row per session.
 */
export const HOSPITAL_A: DemoHospital = {
  clientId: 'hospital-a',
  displayName: 'Hospital Regional de Antofagasta (demo)',
  fileName: toDataFileName('hospital-a', HOSPITAL_A_DDL, SEED_A),
  ddl: HOSPITAL_A_DDL,
  seed: SEED_A,
  mappingFile: new URL('./mappings/hospital-a.json', import.meta.url),
};

/**
 * Hospital B: one full-name column, `DD/MM/YYYY` text dates with zero dates, H/M, an active flag,
 * alias names, imperial vitals, and one `lists` table for problems, allergies and medications.
 */
export const HOSPITAL_B: DemoHospital = {
  clientId: 'hospital-b',
  displayName: 'Clínica Los Andes (demo)',
  fileName: toDataFileName('hospital-b', HOSPITAL_B_DDL, SEED_B),
  ddl: HOSPITAL_B_DDL,
  seed: SEED_B,
  mappingFile: new URL('./mappings/hospital-b.json', import.meta.url),
};

/** Both demo hospitals, in the order the demo registers them. */
export const DEMO_HOSPITALS: readonly DemoHospital[] = [HOSPITAL_A, HOSPITAL_B];

/** The demo hospital with this client id, if any. */
export function findDemoHospital(clientId: string): DemoHospital | undefined {
  return DEMO_HOSPITALS.find((h) => h.clientId === clientId);
}

/**
 * Reads a hospital's mapping document from its JSON file. It is read on every call (not
 * imported), so editing the file and restarting the demo activates the edited mapping.
 */
export function loadDemoMapping(hospital: DemoHospital): unknown {
  return JSON.parse(readFileSync(hospital.mappingFile, 'utf8'));
}

/**
 * `INSERT ... VALUES (?, ...)` statements with their parameters, one per seed row, or one per
 * `rowsPerStatement` rows (`VALUES (?, ...), (?, ...)`): a server that commits every statement
 * loads the generated rows far faster in batches.
 */
export function seedStatements(
  hospital: DemoHospital,
  rowsPerStatement = 1,
): { readonly sql: string; readonly params: SeedValue[] }[] {
  return hospital.seed.flatMap(({ table, columns, rows }) => {
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    const statements: { sql: string; params: SeedValue[] }[] = [];
    for (let at = 0; at < rows.length; at += rowsPerStatement) {
      const batch = rows.slice(at, at + rowsPerStatement);
      statements.push({
        sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${batch.map(() => tuple).join(', ')}`,
        params: batch.flat(),
      });
    }
    return statements;
  });
}

/**
 * Creates a hospital's tables and loads its rows through `exec`, one statement at a time: the
 * DDL (no parameters), then the `INSERT`s of {@link seedStatements}. It works with a synchronous
 * better-sqlite3 `prepare(sql).run(...params)` and with an async mysql2 `query(sql, params)`; wrap
 * it in a transaction on the caller's side when speed matters.
 */
export async function seedHospital(
  exec: (sql: string, params: unknown[]) => void | Promise<void>,
  hospital: DemoHospital,
  options: { readonly rowsPerStatement?: number } = {},
): Promise<void> {
  for (const ddl of hospital.ddl) {
    await exec(ddl, []);
  }
  for (const { sql, params } of seedStatements(hospital, options.rowsPerStatement)) {
    await exec(sql, params);
  }
}
