import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantDatabase } from '../../src/db/tenant-database.js';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { checkMapping } from '../../src/mapping/check-mapping.js';
import { hospitalA, hospitalB } from '../fixtures/tenants.js';
import { HANG_BACKSTOP_MS } from '../helpers/backstop.js';
import { createPgTenantUser } from '../helpers/pg-tenant-user.js';
import { postgresDdl } from '../helpers/postgres-ddl.js';
import { openTenantDatabase } from '../helpers/tenant-database.js';
import { createTestPgDatabase, type TestPgDatabase } from '../helpers/test-pg-database.js';

/**
 * The live checker on a PostgreSQL tenant: the catalogue comes from `pg_catalog` (tables as the
 * session's `search_path` finds them), names keep their case, and column pairs that PostgreSQL
 * will not compare are errors, not the warnings MariaDB gets. The MariaDB side of the same checks
 * is `check-mapping.int.test.ts`.
 */
const defs = loadDefinitions();
const a = hospitalA();
const b = hospitalB();

let tenantDb: TestPgDatabase;
let database: TenantDatabase;
const statements: string[] = [];

beforeAll(async () => {
  tenantDb = await createTestPgDatabase('chkpg');
  for (const ddl of [...a.ddl, ...b.ddl].flatMap(postgresDdl)) {
    await tenantDb.exec(ddl);
  }
  await a.seed(tenantDb);
  await b.seed(tenantDb);
  await tenantDb.exec(`
    CREATE TYPE estado_examen AS ENUM ('final', 'preliminar');
    CREATE DOMAIN rut AS VARCHAR(12);
    CREATE TABLE examenes (
      id INT PRIMARY KEY, id_paciente INT NOT NULL, codigo VARCHAR(20), resultado VARCHAR(20),
      tomado DATE, tomado_num BIGINT, emitido TIMESTAMP, emitido_tz TIMESTAMPTZ,
      valor NUMERIC(10,2), vigente BOOLEAN, marca BIT(1), estado estado_examen, muestra UUID,
      rut_paciente rut, id_paciente_txt VARCHAR(12), fecha_cl VARCHAR(10), datos JSONB);
    CREATE TABLE concepto (id INT PRIMARY KEY, codigo VARCHAR(20) NOT NULL UNIQUE, muestra UUID);
    CREATE TABLE concepto_nombre (
      id INT PRIMARY KEY, id_concepto INT NOT NULL, locale VARCHAR(5) NOT NULL, nombre VARCHAR(50),
      UNIQUE (id_concepto, locale));
    CREATE UNIQUE INDEX concepto_nombre_parcial ON concepto_nombre (nombre) WHERE locale = 'es';
    CREATE TABLE "Ingresos" (id INT PRIMARY KEY, "idPaciente" INT, "Fecha" DATE);
    CREATE SCHEMA archivo;
    CREATE TABLE archivo.altas (id INT PRIMARY KEY, id_paciente INT NOT NULL, fecha DATE);
    CREATE VIEW v_pacientes AS
      SELECT id_paciente AS id, nom_pac || ' ' || ap_pat_pac AS nombre_completo, fec_nac_pac
      FROM pacientes WHERE voided = 0;
    INSERT INTO examenes (id, id_paciente, codigo, resultado, fecha_cl) VALUES
      (1, 1, 'GLU', 'positivo', '04/03/2024'), (2, 1, 'HB', 'negativo', '06/05/2024'),
      (3, 2, 'GLU', 'indeterminado', NULL);
  `);
  const real = openTenantDatabase(tenantDb);
  database = {
    ...real,
    query(statement, options) {
      statements.push(statement.sql);
      return real.query(statement, options);
    },
  };
});

afterAll(async () => {
  await database?.close();
  await tenantDb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const ROOT = new URL('../../', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'fhirgate-chkpg-'));

/** Runs the CLI as `npm run fhirgate` does, with an empty environment. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { cwd: ROOT, env: {}, timeout: HANG_BACKSTOP_MS },
      (err, stdout, stderr) => {
        resolve({
          code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** An Observation mapping over `examenes` with the given elements, search and joins. */
function examenes(
  elements: Record<string, unknown>,
  more: { search?: Record<string, unknown>; joins?: unknown[] } = {},
) {
  return {
    formatVersion: 2,
    resources: {
      Observation: {
        table: 'examenes',
        id: { column: 'id', type: 'integer' },
        ...(more.joins === undefined ? {} : { joins: more.joins }),
        elements: {
          status: { constant: 'final' },
          'subject.reference': { template: 'Patient/{id_paciente}' },
          ...elements,
        },
        search: more.search ?? {},
      },
    },
  };
}

function lines(
  problems: ReadonlyArray<{ severity?: string; path?: string; column?: string; message: string }>,
) {
  return problems.map((p) => `${p.severity ?? 'error'} ${p.path} ${p.column}: ${p.message}`);
}

describe('checkMapping on PostgreSQL', () => {
  it.each([
    ['hospital A', a],
    ['hospital B', b],
  ])('passes the %s fixture mapping with two pg_catalog statements', async (_name, tenant) => {
    statements.length = 0;
    const result = await checkMapping(tenant.mapping, { defs, database });
    expect(result).toEqual({ ok: true, problems: [] });
    expect(statements.slice(0, 2)).toEqual([
      expect.stringMatching(
        /FROM pg_catalog\.pg_class c JOIN pg_catalog\.pg_attribute .* pg_catalog\.pg_table_is_visible\(c\.oid\) AND lower\(c\.relname\) IN \(\$1, \$2\)/,
      ),
      expect.stringMatching(/FROM pg_catalog\.pg_index i .* WHERE i\.indisunique/),
    ]);
    // Anything else samples a text column: at most 50 values, never a whole table.
    for (const sql of statements.slice(2)) {
      expect(sql).toMatch(/^SELECT "\w+" AS v FROM "\w+" WHERE .* LIMIT (50|100)$/);
    }
  });

  it('reports a missing table and column, and reads a view like a table', async () => {
    const result = await checkMapping(
      {
        formatVersion: 1,
        resources: {
          Patient: {
            table: 'v_pacientes',
            id: { column: 'id', type: 'integer' },
            elements: {
              'name[0].text': 'nombre_completo',
              birthDate: 'fec_nac_pac',
              'name[0].family': 'apellido',
              telecom: {
                rows: { table: 'telefonos', key: 'id_paciente' },
                elements: { value: 'numero' },
              },
            },
            search: { birthdate: { column: 'fec_nac_pac' } },
          },
        },
      },
      { defs, database },
    );
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        resource: 'Patient',
        path: 'telecom.rows.table',
        message: 'table or view "telefonos" does not exist in the database',
      },
      {
        resource: 'Patient',
        path: 'name[0].family',
        column: 'apellido',
        message: 'column "apellido" does not exist in table "v_pacientes"',
      },
    ]);
  });

  it('maps PostgreSQL types to the checker kinds: mismatches are found, what fits passes', async () => {
    const result = await checkMapping(
      examenes(
        {
          valueInteger: 'resultado',
          effectiveDateTime: 'tomado_num',
          issued: 'emitido_tz',
          'referenceRange[0].low.value': { column: 'tomado', transform: ['number'] },
          'referenceRange[0].high.value': 'valor',
          'code.coding[0].code': 'rut_paciente',
          'code.coding[0].userSelected': 'vigente',
          'code.coding[1].userSelected': 'marca',
          'code.coding[2].userSelected': 'estado',
          'code.coding[3].version': 'muestra',
          'method.text': 'datos',
        },
        { search: { date: { column: 'codigo' } } },
      ),
      { defs, database },
    );
    expect(result.ok).toBe(false);
    expect(lines(result.problems)).toEqual([
      'error valueInteger resultado: an integer element needs a "number" transform to read column "resultado", which is varchar(20)',
      expect.stringMatching(
        /^error effectiveDateTime tomado_num: a dateTime element needs a "date" or "dateTime" transform .* to read column "tomado_num", which is bigint$/,
      ),
      'error referenceRange[0].low.value tomado: transform "number" reads numbers but column "tomado" is date',
      expect.stringMatching(
        /^error search\.date codigo: search parameter "date" is a date search but column "codigo" is varchar\(20\) and holds values that are not ISO dates/,
      ),
    ]);
  });

  it('finds the unique keys in pg_index: a join that is no lookup warns, a pair PostgreSQL will not compare is an error', async () => {
    const result = await checkMapping(
      examenes(
        { 'code.text': 'es.nombre', 'code.coding[0].code': 'c.codigo' },
        {
          joins: [
            // UNIQUE (codigo): a lookup
            { as: 'c', table: 'concepto', on: { codigo: 'codigo' } },
            // several names per concept: no lookup
            { as: 'n', table: 'concepto_nombre', kind: 'left', on: { id_concepto: 'c.id' } },
            // UNIQUE (id_concepto, locale), covered with the where eq on locale
            {
              as: 'es',
              table: 'concepto_nombre',
              kind: 'left',
              on: { id_concepto: 'c.id' },
              where: [{ column: 'locale', op: 'eq', value: 'es' }],
            },
            // only a partial unique index on nombre: no key
            { as: 'pn', table: 'concepto_nombre', kind: 'left', on: { nombre: 'resultado' } },
            // a view: nothing known about its keys, nothing said
            { as: 'p', table: 'v_pacientes', kind: 'left', on: { id: 'id_paciente' } },
            // int against varchar: MariaDB converts (a warning); PostgreSQL fails
            { as: 'x', table: 'concepto', kind: 'left', on: { id: 'id_paciente_txt' } },
            // uuid against varchar fails too
            { as: 'y', table: 'concepto', kind: 'left', on: { muestra: 'codigo' } },
            // integer against numeric compares
            { as: 'z', table: 'concepto', kind: 'left', on: { id: 'valor' } },
          ],
        },
      ),
      { defs, database },
    );
    expect(result.ok).toBe(false);
    expect(lines(result.problems)).toEqual([
      'error join:x id: join "x": "concepto.id" (integer) is compared with "examenes.id_paciente_txt" (varchar(12)); PostgreSQL does not convert between these types, so every statement that compares them fails (make both columns one type, or map a view that casts one)',
      'error join:y muestra: join "y": "concepto.muestra" (uuid) is compared with "examenes.codigo" (varchar(20)); PostgreSQL does not convert between these types, so every statement that compares them fails (make both columns one type, or map a view that casts one)',
      expect.stringMatching(
        /^warning joins\[1\] id_concepto: join "n": "id_concepto" is not a unique key of table "concepto_nombre"/,
      ),
      expect.stringMatching(
        /^warning joins\[3\] nombre: join "pn": "nombre" is not a unique key of table "concepto_nombre"/,
      ),
      expect.stringMatching(
        /^warning joins\[6\] muestra: join "y": "muestra" is not a unique key of table "concepto"/,
      ),
    ]);
  });

  it('holds table and column names to their case, as quoted names are', async () => {
    const result = await checkMapping(
      {
        formatVersion: 1,
        resources: {
          Encounter: {
            table: 'ingresos',
            id: { column: 'id', type: 'integer' },
            elements: { status: { constant: 'finished' } },
          },
          Observation: {
            table: 'Ingresos',
            id: { column: 'id', type: 'integer' },
            elements: {
              status: { constant: 'final' },
              'subject.reference': { template: 'Patient/{idPaciente}' },
              effectiveDateTime: 'fecha',
            },
          },
        },
      },
      { defs, database },
    );
    expect(result.ok).toBe(false);
    expect(lines(result.problems)).toEqual([
      'error table undefined: table or view "ingresos" does not exist in the database; table names are case-sensitive on this server, and there is "Ingresos"',
      'error effectiveDateTime fecha: column "fecha" does not exist in table "Ingresos"; column names are case-sensitive on this server, and there is "Fecha"',
    ]);
  });

  it('finds tables through the search_path of the session, public by default', async () => {
    const altas = {
      formatVersion: 1,
      resources: {
        Encounter: {
          table: 'altas',
          id: { column: 'id', type: 'integer' },
          elements: {
            status: { constant: 'finished' },
            'subject.reference': { template: 'Patient/{id_paciente}' },
            'period.end': 'fecha',
          },
        },
      },
    };
    expect((await checkMapping(altas, { defs, database })).problems).toEqual([
      {
        resource: 'Encounter',
        path: 'table',
        message: 'table or view "altas" does not exist in the database',
      },
    ]);
    // What an operator does for a schema other than public: set the path of the database (or of
    // the tenant's role); new sessions take it.
    await tenantDb.exec(`ALTER DATABASE "${tenantDb.name}" SET search_path = archivo, public`);
    const onPath = openTenantDatabase(tenantDb);
    try {
      expect(await checkMapping(altas, { defs, database: onPath })).toEqual({
        ok: true,
        problems: [],
      });
    } finally {
      await onPath.close();
    }
  });
});

describe('fhirgate mapping check against a PostgreSQL tenant', () => {
  it('prints the join pair PostgreSQL cannot compare, a missing column, a type mismatch and a join that is no lookup, and exits 1', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(
      file,
      JSON.stringify(
        examenes(
          {
            'code.text': 'nombre_examen',
            valueInteger: 'resultado',
            'code.coding[0].code': 'c.nombre',
          },
          {
            joins: [{ as: 'c', table: 'concepto_nombre', on: { id_concepto: 'id_paciente_txt' } }],
          },
        ),
      ),
    );
    // The tenant's own least-privilege role, its password a canary that must never be printed.
    const user = await createPgTenantUser(tenantDb);
    try {
      const result = await cli(['mapping', 'check', file, '--database-url', user.url]);
      expect(result).toMatchObject({ code: 1, stderr: '' });
      expect(result.stdout.split('\n')).toEqual([
        expect.stringMatching(
          /^Observation join:c id_concepto: join "c": "concepto_nombre\.id_concepto" \(integer\) is compared with "examenes\.id_paciente_txt" \(varchar\(12\)\); PostgreSQL does not convert/,
        ),
        'Observation code.text nombre_examen: column "nombre_examen" does not exist in table "examenes"',
        'Observation valueInteger resultado: an integer element needs a "number" transform to read column "resultado", which is varchar(20)',
        expect.stringMatching(
          /^warning: Observation joins\[0\] id_concepto: join "c": "id_concepto" is not a unique key of table "concepto_nombre"/,
        ),
        expect.stringMatching(
          /^3 errors and 1 warning in .*broken\.json against postgres [^ ]+\/chkpg_[0-9a-f]{8}; it would not be activated\.$/,
        ),
        '',
      ]);
      expect(result.stdout).not.toContain(user.password);
    } finally {
      await user.drop();
    }
  });
});
