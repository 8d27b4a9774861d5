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
  // Lookups for joins: one keyed by its primary key, one unique only with its locale.
  `CREATE TABLE persona_ext (
    id_persona INTEGER PRIMARY KEY, genero VARCHAR(10), codigo_txt VARCHAR(20), alta DATE)`,
  `CREATE TABLE nombres_concepto (
    id_concepto INTEGER NOT NULL, locale VARCHAR(5) NOT NULL, nombre VARCHAR(50),
    UNIQUE (id_concepto, locale))`,
  'CREATE TABLE notas (id INTEGER, id_persona INTEGER, texto VARCHAR(200))',
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
  // Names that are no dates, no booleans, no numbers (the sampling tests read them).
  for (const [id, nombre] of [
    [1, 'Ana Pérez'],
    [2, 'Luis Soto'],
    [3, 'María Díaz'],
  ] as const) {
    await database.query({
      sql: 'INSERT INTO personas (id_persona, codigo, nombre) VALUES (?, ?, ?)',
      params: [id, `P${id}`, nombre],
    });
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
    // One sqlite_master statement, then per table its columns and its unique indexes; rows are
    // read only to sample text columns, at most 50 per column.
    expect(db.statements[0]).toMatch(/FROM sqlite_master WHERE type IN \('table', 'view'\)/);
    const xinfo = db.statements.filter((sql) => sql.startsWith('PRAGMA table_xinfo('));
    expect(xinfo).toHaveLength(tables.size);
    for (const sql of db.statements.slice(1)) {
      expect(sql).toMatch(
        /^PRAGMA (table_xinfo|index_list|index_info)\("\w+"\)$|^SELECT "\w+" AS v FROM "\w+" WHERE .* LIMIT (50|100)$/,
      );
    }
  });

  it('reports compile problems and live-database problems in one pass', async () => {
    const document = personas(
      { elements: { 'name[0].nonsense': 'nombre', gender: 'sexo_que_no_existe' } },
      {
        Observation: {
          table: 'examenes',
          id: { column: 'id', type: 'integer' },
          elements: { status: { constant: 'final' }, valueInteger: 'resultado_viejo' },
        },
      },
    );
    const db = recording(database);
    const result = await checkMapping(document, { defs, database: db });
    const compiled = compileMapping(document, { defs, dialect: database.dialect });
    expect(compiled.ok).toBe(false);
    const compileProblems = compiled.ok ? [] : compiled.problems;
    expect(compileProblems.length).toBeGreaterThan(0);
    expect(result.ok).toBe(false);
    // The compile problems first, as they are; then the live schema of both resources: the one
    // that compiled and the one that did not (from the document's text).
    expect(result.problems.slice(0, compileProblems.length)).toEqual(compileProblems);
    expect(result.problems.slice(compileProblems.length)).toEqual([
      {
        resource: 'Patient',
        path: 'gender',
        column: 'sexo_que_no_existe',
        message: 'column "sexo_que_no_existe" does not exist in table "personas"',
      },
      {
        resource: 'Observation',
        path: 'valueInteger',
        column: 'resultado_viejo',
        message: 'column "resultado_viejo" does not exist in table "examenes"',
      },
    ]);
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

  it('checks what the text of a resource that does not compile names', async () => {
    const result = await checkMapping(
      personas({
        joins: [{ as: 'ext', table: 'persona_extra', on: { id_persona: 'id_persona' } }],
        where: [{ exists: { table: 'examenes', on: { id_paciente: 'id_persona' } } }],
        elements: {
          'name[0].nonsense': 'nombre',
          gender: 'ext.genero',
          telecom: {
            rows: { table: 'personas_fonos', key: 'persona', orderBy: [{ column: 'orden' }] },
            elements: { value: 'numero', system: { template: '{tipo} fijo' } },
          },
        },
        search: { family: { column: 'apellido' } },
      }),
      { defs, database },
    );
    expect(result.ok).toBe(false);
    const live = result.problems
      .filter((p) => /does not exist in/.test(p.message))
      .map((p) => `${p.path} ${p.column ?? ''}: ${p.message}`);
    expect(live).toEqual([
      'joins[0].table : table or view "persona_extra" does not exist in the database',
      'exists id_paciente: column "id_paciente" does not exist in table "examenes"',
      'key persona: column "persona" does not exist in table "personas_fonos"',
      'orderBy orden: column "orden" does not exist in table "personas_fonos"',
      'telecom.system tipo: column "tipo" does not exist in table "personas_fonos"',
      'search.family apellido: column "apellido" does not exist in table "personas"',
    ]);
  });

  it('checks join tables and columns, and the types of each compared pair', async () => {
    const result = await checkMapping(
      personas(
        {
          joins: [
            // text against an integer key: works by conversion, a warning
            { as: 'ext', table: 'persona_ext', on: { id_persona: 'codigo' } },
            // a date against an integer: never the same value, an error
            { as: 'ext2', table: 'persona_ext', kind: 'left', on: { id_persona: 'fec_nac' } },
            { as: 'gone', table: 'tabla_borrada', on: { id: 'id_persona' } },
            { as: 'bad', table: 'persona_ext', on: { id_persona_x: 'id_persona' } },
          ],
          where: [
            {
              notExists: { table: 'notas', on: { id_persona: 'fec_nac' }, where: [] },
            },
          ],
          elements: {
            gender: 'ext.genero',
            telecom: {
              rows: { table: 'personas_fonos', key: 'id_persona', parentKey: 'codigo' },
              elements: { value: 'numero' },
            },
          },
        },
        {},
      ),
      { defs, database },
    );
    expect(result.ok).toBe(false);
    const lines = result.problems.map(
      (p) => `${p.severity ?? 'error'} ${p.path} ${p.column}: ${p.message}`,
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^warning join:ext id_persona: join "ext": "persona_ext.id_persona" \(integer\) is compared with "personas.codigo" \(varchar\(20\)\); the database converts one side/,
        ),
        expect.stringMatching(
          /^error join:ext2 id_persona: join "ext2": "persona_ext.id_persona" \(integer\) is compared with "personas.fec_nac" \(date\); these types never compare as the same value$/,
        ),
        'error joins[2].table undefined: table or view "tabla_borrada" does not exist in the database',
        'error join:bad id_persona_x: column "id_persona_x" does not exist in table "persona_ext"',
        expect.stringMatching(
          /^error exists id_persona: exists: "notas.id_persona" \(integer\) is compared with "personas.fec_nac" \(date\)/,
        ),
        expect.stringMatching(
          /^warning key id_persona: child key: "personas_fonos.id_persona" \(integer\) is compared with "personas.codigo" \(varchar\(20\)\)/,
        ),
      ]),
    );
    // `notas` has no key at all, but it is an exists, not a join: no uniqueness warning for it.
    expect(lines.filter((l) => l.includes('not a unique key'))).toEqual([]);
  });

  it('warns when a join is not a lookup, counting its where eq columns', async () => {
    const result = await checkMapping(
      {
        formatVersion: 2,
        resources: {
          Observation: {
            table: 'examenes',
            id: { column: 'id', type: 'integer' },
            joins: [
              // unique key (id_concepto, locale): covered with the where eq on locale
              {
                as: 'nombre',
                table: 'nombres_concepto',
                kind: 'left',
                on: { id_concepto: 'id' },
                where: [{ column: 'locale', op: 'eq', value: 'es' }],
              },
              // not covered: several names per concept
              { as: 'todos', table: 'nombres_concepto', kind: 'left', on: { id_concepto: 'id' } },
              // primary key
              { as: 'ext', table: 'persona_ext', kind: 'left', on: { id_persona: 'id_persona' } },
              // no key at all
              { as: 'nota', table: 'notas', kind: 'left', on: { id_persona: 'id_persona' } },
            ],
            elements: {
              status: { constant: 'final' },
              'code.text': 'nombre.nombre',
              'note[0].text': 'nota.texto',
            },
          },
        },
      },
      { defs, database },
    );
    expect(result.problems).toEqual([
      {
        severity: 'warning',
        resource: 'Observation',
        path: 'joins[1]',
        column: 'id_concepto',
        message: expect.stringMatching(
          /^join "todos": "id_concepto" is not a unique key of table "nombres_concepto" .* a join must be a lookup/,
        ),
      },
      {
        severity: 'warning',
        resource: 'Observation',
        path: 'joins[3]',
        column: 'id_persona',
        message: expect.stringMatching(
          /^join "nota": "id_persona" is not a unique key of table "notas"/,
        ),
      },
    ]);
    // Warnings do not block activation.
    expect(result.ok).toBe(true);
  });

  it('checks the columns that when rules test, even when the resource does not compile', async () => {
    const result = await checkMapping(
      personas({
        elements: {
          birthDate: {
            when: [
              {
                if: [{ column: 'estimada_no_existe', op: 'eq', value: 1 }],
                use: { column: 'fec_nac', transform: [{ fn: 'date', precision: 'year' }] },
              },
            ],
            else: 'fec_nac',
          },
        },
      }),
      { defs, database },
    );
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        {
          resource: 'Patient',
          path: 'if:birthDate',
          column: 'estimada_no_existe',
          message: 'column "estimada_no_existe" does not exist in table "personas"',
        },
      ]),
    );
  });

  it('warns when sampled text values do not read as the element type, quoting none', async () => {
    const db = recording(database);
    const result = await checkMapping(
      personas({
        elements: {
          birthDate: 'nombre',
          deceasedDateTime: { column: 'nombre', transform: ['trim'] },
          'contact[0].name.text': 'nombre',
          multipleBirthInteger: { column: 'codigo', transform: ['number'] },
        },
      }),
      { defs, database: db },
    );
    expect(result.ok).toBe(true);
    expect(result.problems).toEqual([
      {
        severity: 'warning',
        resource: 'Patient',
        path: 'birthDate',
        column: 'nombre',
        message:
          'none of the 3 sampled values of column "nombre" (varchar(80)) can be read as a date, yet it feeds a date element; is it the right column?',
      },
      {
        severity: 'warning',
        resource: 'Patient',
        path: 'deceasedDateTime',
        column: 'nombre',
        message:
          'none of the 3 sampled values of column "nombre" (varchar(80)) can be read as a dateTime, yet it feeds a dateTime element; is it the right column?',
      },
    ]);
    // "P1" holds a digit: a number transform may read it, so it is not flagged.
    const text = JSON.stringify(result.problems);
    for (const value of ['Ana', 'Luis', 'María', 'P1']) {
      expect(text).not.toContain(value);
    }
    const samples = db.statements.filter((sql) => sql.includes(' AS v FROM '));
    expect(samples).toEqual(Array(3).fill(expect.stringMatching(/ LIMIT 50$/)));
  });
});
