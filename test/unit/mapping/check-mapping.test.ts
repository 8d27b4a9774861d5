import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteDatabase } from '../../../src/db/sqlite-database.js';
import type { TenantDatabase } from '../../../src/db/tenant-database.js';
import { HOSPITAL_A, HOSPITAL_B, loadDemoMapping } from '../../../src/demo/hospitals.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { checkMapping } from '../../../src/mapping/check-mapping.js';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';

const defs = loadDefinitions();

/** A tenant database that records the SQL of every statement it runs. */
interface RecordingDatabase extends TenantDatabase {
  readonly statements: string[];
}

function recording(db: TenantDatabase): RecordingDatabase {
  const statements: string[] = [];
  return {
    ...db,
    statements,
    query(statement, options) {
      statements.push(statement.sql);
      return db.query(statement, options);
    },
  };
}

/** Tables with one column per kind of trouble, beside the demo hospitals' own. */
const FIXTURE_DDL = [
  `CREATE TABLE personas (
    id_persona INTEGER PRIMARY KEY,
    codigo VARCHAR(20),
    nombre VARCHAR(80),
    fec_nac DATE,
    fec_nac_txt VARCHAR(10),
    fec_nac_num INTEGER,
    activo_txt VARCHAR(20),
    activo_sn CHAR(1),
    partos VARCHAR(10),
    sin_tipo
  )`,
  `CREATE TABLE examenes (
    id INTEGER PRIMARY KEY,
    id_persona INTEGER NOT NULL,
    resultado VARCHAR(20),
    tomado DATE,
    tomado_num BIGINT,
    emitido DATETIME,
    valor DECIMAL(10, 2)
  )`,
  'CREATE TABLE personas_fonos (id INTEGER PRIMARY KEY, id_persona INTEGER, numero VARCHAR(20))',
  // A view with a computed column (no declared type) and one that passes a typed column through.
  `CREATE VIEW v_fonos AS
    SELECT id, id_persona, numero, upper(numero) AS numero_norm FROM personas_fonos`,
];

let database: TenantDatabase;

beforeAll(async () => {
  database = createSqliteDatabase(':memory:', { readonly: false });
  for (const sql of [...HOSPITAL_A.ddl, ...HOSPITAL_B.ddl, ...FIXTURE_DDL]) {
    await database.query({ sql, params: [] });
  }
});

afterAll(async () => {
  await database.close();
});

/** A Patient mapping over `personas` with the given parts. */
function personas(patient: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    formatVersion: 1,
    resources: {
      Patient: {
        table: 'personas',
        id: { column: 'id_persona', type: 'integer' },
        ...patient,
        elements: { 'name[0].text': 'nombre', ...(patient['elements'] as object | undefined) },
      },
      ...extra,
    },
  };
}

describe('checkMapping on SQLite', () => {
  it.each([HOSPITAL_A, HOSPITAL_B])('passes the demo mapping of $clientId', async (hospital) => {
    const db = recording(database);
    const result = await checkMapping(loadDemoMapping(hospital), { defs, database: db });
    expect(result).toEqual({ ok: true, problems: [] });
    // One sqlite_master statement, then one PRAGMA per distinct table or view the mapping reads.
    const compiled = compileMapping(loadDemoMapping(hospital), { defs, dialect: database.dialect });
    if (!compiled.ok) {
      throw new Error('demo mapping does not compile');
    }
    const tables = new Set(
      compiled.mapping.resourceTypes.flatMap(
        (type) => compiled.mapping.resource(type)?.columnUses.map((use) => use.table) ?? [],
      ),
    );
    expect(tables.size).toBeGreaterThanOrEqual(5);
    expect(db.statements).toHaveLength(1 + tables.size);
    expect(db.statements[0]).toMatch(/FROM sqlite_master WHERE type IN \('table', 'view'\)/);
    expect(db.statements.slice(1)).toEqual(
      [...tables].map(() => expect.stringMatching(/^PRAGMA table_xinfo\("\w+"\)$/)),
    );
  });

  it('returns compile problems as they are, without reading the database', async () => {
    const document = personas({ elements: { 'name[0].nonsense': 'nombre' } });
    const db = recording(database);
    const result = await checkMapping(document, { defs, database: db });
    const compiled = compileMapping(document, { defs, dialect: database.dialect });
    expect(compiled.ok).toBe(false);
    expect(result).toEqual({ ok: false, problems: compiled.ok ? [] : compiled.problems });
    expect(db.statements).toEqual([]);
  });

  it('names the resource and table of a missing table or view', async () => {
    const result = await checkMapping(
      personas(
        {
          elements: {
            telecom: {
              rows: { table: 'fonos_viejos', key: 'id_persona' },
              elements: { value: 'numero' },
            },
          },
        },
        {
          Observation: { table: 'no_existe', id: 'id', elements: { status: 'estado' } },
        },
      ),
      { defs, database },
    );
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        resource: 'Patient',
        path: 'telecom.rows.table',
        message: 'table or view "fonos_viejos" does not exist in the database',
      },
      {
        resource: 'Observation',
        path: 'table',
        message: 'table or view "no_existe" does not exist in the database',
      },
    ]);
  });

  it('names resource, FHIR path and column of a missing column', async () => {
    const result = await checkMapping(
      personas({
        elements: {
          'name[0].family': 'apellido',
          telecom: { rows: { table: 'v_fonos', key: 'id_persona' }, elements: { value: 'fono' } },
        },
        search: { family: { column: 'apellido_busqueda' } },
      }),
      { defs, database },
    );
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        {
          resource: 'Patient',
          path: 'name[0].family',
          column: 'apellido',
          message: 'column "apellido" does not exist in table "personas"',
        },
        {
          resource: 'Patient',
          path: 'telecom.value',
          column: 'fono',
          message: 'column "fono" does not exist in table "v_fonos"',
        },
        {
          resource: 'Patient',
          path: 'search.family',
          column: 'apellido_busqueda',
          message: 'column "apellido_busqueda" does not exist in table "personas"',
        },
      ]),
    );
    expect(result.problems).toHaveLength(3);
  });

  it('reports each kind of type mismatch, naming resource, path and column', async () => {
    const result = await checkMapping(
      personas(
        {
          id: { column: 'codigo', type: 'integer' },
          elements: {
            birthDate: 'fec_nac_num',
            active: 'activo_txt',
            multipleBirthInteger: 'partos',
          },
          search: {
            birthdate: { column: 'fec_nac_txt' },
            // A string search on a numeric column compares text and is fine.
            name: { columns: ['nombre', 'id_persona'] },
          },
        },
        {
          Observation: {
            table: 'examenes',
            id: { column: 'id', type: 'integer' },
            elements: {
              valueInteger: { column: 'tomado', transform: ['number'] },
              effectiveDateTime: 'tomado_num',
              'subject.reference': { template: 'Patient/{id_persona}' },
            },
            search: { date: { column: 'tomado_num' } },
          },
        },
      ),
      { defs, database },
    );
    expect(result.ok).toBe(false);
    const byPath = Object.fromEntries(
      result.problems.map((p) => [`${p.resource} ${p.path} ${p.column}`, p.message]),
    );
    expect(byPath).toEqual({
      'Patient id codigo': expect.stringMatching(
        /^id is declared "integer" but column "codigo" is varchar\(20\)/,
      ),
      'Patient birthDate fec_nac_num': expect.stringMatching(
        /^a date element needs a "date" or "dateTime" transform naming the format \(e\.g\. YYYYMMDD\) to read column "fec_nac_num", which is integer$/,
      ),
      'Patient active activo_txt': expect.stringMatching(
        /^a boolean element needs a "boolean" transform naming the true and false values to read column "activo_txt", which is varchar\(20\)$/,
      ),
      'Patient multipleBirthInteger partos': expect.stringMatching(
        /^an integer element needs a "number" transform to read column "partos", which is varchar\(10\)$/,
      ),
      'Patient search.birthdate fec_nac_txt': expect.stringMatching(
        /^search parameter "birthdate" is a date search but column "fec_nac_txt" is varchar\(10\) and has no values to confirm they are ISO dates; date comparisons need a DATE or DATETIME column, or ISO text/,
      ),
      'Observation valueInteger tomado':
        'transform "number" reads numbers but column "tomado" is date',
      'Observation effectiveDateTime tomado_num': expect.stringMatching(
        /^a dateTime element needs a "date" or "dateTime" transform .* to read column "tomado_num", which is bigint$/,
      ),
      'Observation search.date tomado_num': expect.stringMatching(
        /^search parameter "date" is a date search but column "tomado_num" is bigint/,
      ),
    });
  });

  it('accepts the column types that fit, transforms that convert, views and any letter case', async () => {
    const result = await checkMapping(
      personas(
        {
          table: 'PERSONAS',
          elements: {
            'name[0].family': 'NOMBRE',
            birthDate: {
              column: 'fec_nac_num',
              transform: [{ fn: 'date', formats: ['YYYYMMDD'] }],
            },
            active: {
              column: 'activo_txt',
              transform: [{ fn: 'boolean', true: ['VIGENTE'], false: ['BAJA'] }],
            },
            deceasedBoolean: 'activo_sn',
            multipleBirthInteger: { column: 'partos', transform: ['number'] },
            'identifier[0].value': 'sin_tipo',
            telecom: {
              rows: { table: 'v_fonos', key: 'id_persona', orderBy: [{ column: 'id' }] },
              elements: { value: 'numero_norm' },
            },
          },
          search: {
            birthdate: { column: 'fec_nac' },
            identifier: { column: 'id_persona' },
            phone: { rows: 'telecom', column: 'numero' },
          },
        },
        {
          Observation: {
            table: 'examenes',
            id: { column: 'id', type: 'integer' },
            elements: {
              valueInteger: 'tomado_num',
              // A template joins its columns into text: their types do not matter.
              effectiveDateTime: { template: '{tomado_num}' },
              issued: 'emitido',
              'subject.reference': { template: 'Patient/{id_persona}' },
            },
            search: { date: { column: 'tomado' } },
          },
        },
      ),
      { defs, database },
    );
    expect(result).toEqual({ ok: true, problems: [] });
  });
});
