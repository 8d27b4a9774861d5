import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMysqlDatabase, type MysqlTarget } from '../../src/db/mysql-database.js';
import type { TenantDatabase } from '../../src/db/tenant-database.js';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { activateMapping } from '../../src/mapping/activate-mapping.js';
import { checkMapping } from '../../src/mapping/check-mapping.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { createTenantRegistry, type TenantRegistry } from '../../src/tenancy/registry.js';
import { hospitalA, hospitalB } from '../fixtures/tenants.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const defs = loadDefinitions();
const a = hospitalA();
const b = hospitalB();

let tenantDb: TestDatabase;
let registryDb: TestDatabase;
let database: TenantDatabase;
let registry: TenantRegistry;
const statements: string[] = [];

function mysqlTarget(url: string): MysqlTarget {
  const target = parseDatabaseUrl(url);
  if (target.kind !== 'mysql') {
    throw new Error('expected a mysql URL');
  }
  return target;
}

beforeAll(async () => {
  tenantDb = await createTestDatabase('chk');
  for (const ddl of [...a.ddl, ...b.ddl]) {
    await tenantDb.exec(ddl);
  }
  await tenantDb.exec(`
    CREATE TABLE examenes (
      id INT PRIMARY KEY, id_paciente INT NOT NULL, codigo VARCHAR(20), resultado VARCHAR(20),
      tomado DATE, tomado_num BIGINT, emitido DATETIME, valor DECIMAL(10,2), vigente BIT(1),
      estado ENUM('final', 'preliminar'), activo_txt VARCHAR(20), activo_sn CHAR(1));
    CREATE TABLE concepto (id INT PRIMARY KEY, codigo VARCHAR(20) NOT NULL, UNIQUE KEY (codigo));
    CREATE TABLE concepto_nombre (
      id INT PRIMARY KEY, id_concepto INT NOT NULL, locale VARCHAR(5) NOT NULL, nombre VARCHAR(50),
      UNIQUE KEY uq_concepto_locale (id_concepto, locale));
    INSERT INTO examenes (id, id_paciente, codigo, resultado) VALUES
      (1, 1, 'GLU', 'positivo'), (2, 1, 'HB', 'negativo'), (3, 2, 'GLU', 'indeterminado');
    CREATE VIEW v_pacientes AS
      SELECT id_paciente AS id, CONCAT(nom_pac, ' ', ap_pat_pac) AS nombre_completo, fec_nac_pac
      FROM pacientes WHERE voided = 0;
  `);
  const real = createMysqlDatabase(mysqlTarget(tenantDb.url), {
    connectionLimit: 2,
    queueLimit: 10,
    connectTimeoutMs: 5000,
    queryTimeoutMs: 10_000,
    connectionIdleMs: 60_000,
    validateAfterIdleMs: 30_000,
  });
  database = {
    ...real,
    query(statement, options) {
      statements.push(statement.sql);
      return real.query(statement, options);
    },
  };

  registryDb = await createTestDatabase('chkreg');
  registry = createTenantRegistry(parseDatabaseUrl(registryDb.url));
  await registry.applySchema();
  await registry.upsertTenant({
    clientId: a.clientId,
    displayName: 'Hospital A',
    dbType: 'mysql',
    sealedUrl: 'sealed-url-not-used-here',
    status: 'active',
  });
});

afterAll(async () => {
  await database?.close();
  await registry?.close();
  await tenantDb?.drop();
  await registryDb?.drop();
});

/** An Observation mapping over `examenes` with the given elements and search. */
function examenes(elements: Record<string, unknown>, search: Record<string, unknown> = {}) {
  return {
    formatVersion: 1,
    resources: {
      Observation: {
        table: 'examenes',
        id: { column: 'id', type: 'integer' },
        elements: { 'subject.reference': { template: 'Patient/{id_paciente}' }, ...elements },
        search,
      },
    },
  };
}

describe('checkMapping on MariaDB', () => {
  it.each([
    ['hospital A', a],
    ['hospital B', b],
  ])('passes the %s fixture mapping with three catalogue statements', async (_name, tenant) => {
    statements.length = 0;
    const result = await checkMapping(tenant.mapping, { defs, database });
    expect(result).toEqual({ ok: true, problems: [] });
    expect(statements.slice(0, 3)).toEqual([
      expect.stringMatching(
        /FROM information_schema\.COLUMNS WHERE TABLE_SCHEMA = DATABASE\(\) AND TABLE_NAME IN \(\?, \?\)/,
      ),
      expect.stringMatching(/FROM information_schema\.TABLES WHERE .*TABLE_TYPE = 'VIEW'/),
      expect.stringMatching(/FROM information_schema\.STATISTICS WHERE .*NON_UNIQUE = 0/),
    ]);
    // Anything else samples a text column: at most 50 values, never a whole table.
    for (const sql of statements.slice(3)) {
      expect(sql).toMatch(/^SELECT `\w+` AS v FROM `\w+` WHERE .* LIMIT (50|100)$/);
    }
  });

  it('holds joins to the unique keys of information_schema.STATISTICS and pairs to their types', async () => {
    const result = await checkMapping(
      {
        formatVersion: 2,
        resources: {
          Observation: {
            table: 'examenes',
            id: { column: 'id', type: 'integer' },
            joins: [
              // UNIQUE KEY (codigo): a lookup
              { as: 'c', table: 'concepto', on: { codigo: 'codigo' } },
              // several names per concept: not a lookup
              { as: 'n', table: 'concepto_nombre', kind: 'left', on: { id_concepto: 'c.id' } },
              // UNIQUE KEY (id_concepto, locale), covered with the where eq on locale
              {
                as: 'es',
                table: 'concepto_nombre',
                kind: 'left',
                on: { id_concepto: 'c.id' },
                where: [{ column: 'locale', op: 'eq', value: 'es' }],
              },
              // a view: nothing known about its keys, nothing said
              { as: 'p', table: 'v_pacientes', kind: 'left', on: { id: 'id_paciente' } },
              // int against varchar: converts, a warning
              { as: 'x', table: 'concepto', kind: 'left', on: { id: 'codigo' } },
              // int against date: never equal, an error
              { as: 'y', table: 'concepto', kind: 'left', on: { id: 'tomado' } },
            ],
            where: [{ exists: { table: 'concepto', on: { codigo: 'resultado_x' } } }],
            elements: {
              status: { constant: 'final' },
              'code.text': 'es.nombre',
              'code.coding[0].code': 'c.codigo',
              'subject.display': 'p.nombre_completo',
            },
          },
        },
      },
      { defs, database },
    );
    expect(result.ok).toBe(false);
    expect(
      result.problems.map((p) => `${p.severity ?? 'error'} ${p.path} ${p.column}: ${p.message}`),
    ).toEqual([
      expect.stringMatching(
        /^warning join:x id: join "x": "concepto\.id" \(int\(11\)\) is compared with "examenes\.codigo" \(varchar\(20\)\); the database converts one side/,
      ),
      expect.stringMatching(
        /^error join:y id: join "y": "concepto\.id" \(int\(11\)\) is compared with "examenes\.tomado" \(date\); these types never compare as the same value$/,
      ),
      'error exists resultado_x: column "resultado_x" does not exist in table "examenes"',
      expect.stringMatching(
        /^warning joins\[1\] id_concepto: join "n": "id_concepto" is not a unique key of table "concepto_nombre"/,
      ),
    ]);
  });

  it('warns about a text column whose sampled values are no dates, quoting none, and lets it activate', async () => {
    const document = examenes({ status: { constant: 'final' }, effectiveDateTime: 'resultado' });
    const result = await checkMapping(document, { defs, database });
    expect(result).toEqual({
      ok: true,
      problems: [
        {
          severity: 'warning',
          resource: 'Observation',
          path: 'effectiveDateTime',
          column: 'resultado',
          message:
            'none of the 3 sampled values of column "resultado" (varchar(20)) can be read as a dateTime, yet it feeds a dateTime element; is it the right column?',
        },
      ],
    });
    for (const value of ['positivo', 'negativo', 'indeterminado']) {
      expect(JSON.stringify(result)).not.toContain(value);
    }
    const dryRun = await activateMapping({
      registry,
      clientId: a.clientId,
      document,
      database,
      defs,
      dryRun: true,
    });
    expect(dryRun).toEqual({ ok: true, version: null, problems: result.problems });
  });

  it('reports a missing table and missing columns, and reads a view like a table', async () => {
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
            search: { birthdate: { column: 'fec_nac_pac' }, name: { column: 'nombre_corto' } },
          },
          Practitioner: { table: 'medicos', id: 'rut', elements: { 'name[0].text': 'nombre' } },
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
      expect.objectContaining({
        resource: 'Patient',
        path: 'name[0].family',
        column: 'apellido',
        message: 'column "apellido" does not exist in table "v_pacientes"',
      }),
      expect.objectContaining({
        resource: 'Patient',
        path: 'search.name',
        column: 'nombre_corto',
        message: 'column "nombre_corto" does not exist in table "v_pacientes"',
      }),
      {
        resource: 'Practitioner',
        path: 'table',
        message: 'table or view "medicos" does not exist in the database',
      },
    ]);
  });

  it('reports type mismatches with resource, path and column, and accepts what fits', async () => {
    const result = await checkMapping(
      examenes(
        {
          valueInteger: 'resultado',
          effectiveDateTime: 'tomado_num',
          'referenceRange[0].low.value': { column: 'tomado', transform: ['number'] },
          'code.coding[0].code': 'codigo',
        },
        { date: { column: 'codigo' }, 'value-string': { column: 'valor' } },
      ),
      { defs, database },
    );
    expect(result.ok).toBe(false);
    const lines = result.problems.map((p) => `${p.resource} ${p.path} ${p.column}: ${p.message}`);
    expect(lines).toEqual([
      expect.stringMatching(
        /^Observation valueInteger resultado: an integer element needs a "number" transform to read column "resultado", which is varchar\(20\)$/,
      ),
      expect.stringMatching(
        /^Observation effectiveDateTime tomado_num: a dateTime element needs a "date" or "dateTime" transform .* to read column "tomado_num", which is bigint(\(20\))?$/,
      ),
      expect.stringMatching(
        /^Observation referenceRange\[0\]\.low\.value tomado: transform "number" reads numbers but column "tomado" is date/,
      ),
      expect.stringMatching(
        /^Observation search\.date codigo: search parameter "date" is a date search but column "codigo" is varchar\(20\)/,
      ),
    ]);
  });

  it('accepts ISO text for a date search and refuses other text, quoting no value', async () => {
    await tenantDb.exec(
      'CREATE TABLE IF NOT EXISTS examenes_txt (id INT PRIMARY KEY, id_paciente INT NOT NULL, ' +
        'fecha_iso VARCHAR(19), fecha_cl VARCHAR(10))',
    );
    await tenantDb.exec(
      "INSERT INTO examenes_txt VALUES (1, 1, '2024-03-04 08:30', '04/03/2024'), " +
        "(2, 1, '2024-05-06', '06/05/2024'), (3, 2, '0000-00-00', NULL), (4, 2, '', '')",
    );
    const mapping = (column: string) => ({
      formatVersion: 1,
      resources: {
        Observation: {
          table: 'examenes_txt',
          id: { column: 'id', type: 'integer' },
          elements: { 'subject.reference': { template: 'Patient/{id_paciente}' } },
          search: { date: { column } },
        },
      },
    });
    statements.length = 0;
    expect(await checkMapping(mapping('fecha_iso'), { defs, database })).toEqual({
      ok: true,
      problems: [],
    });
    // The three catalogue statements, then one sample of at most 100 values of the text column.
    expect(statements).toHaveLength(4);
    expect(statements[3]).toMatch(/^SELECT `fecha_iso` AS v FROM `examenes_txt` .* LIMIT 100$/);

    const refused = await checkMapping(mapping('fecha_cl'), { defs, database });
    expect(refused.ok).toBe(false);
    expect(refused.problems).toEqual([
      {
        resource: 'Observation',
        path: 'search.date',
        column: 'fecha_cl',
        message: expect.stringMatching(
          /^search parameter "date" is a date search but column "fecha_cl" is varchar\(10\) and holds values that are not ISO dates \(YYYY-MM-DD\) in the 2 rows sampled/,
        ),
      },
    ]);
    expect(JSON.stringify(refused)).not.toContain('/2024');
  });

  it('checks booleans and integer ids against the column type', async () => {
    const bad = await checkMapping(
      {
        formatVersion: 1,
        resources: {
          Patient: {
            table: 'examenes',
            id: { column: 'codigo', type: 'integer' },
            elements: { active: 'activo_txt', deceasedBoolean: 'tomado' },
          },
        },
      },
      { defs, database },
    );
    expect(bad.problems.map((p) => [p.resource, p.path, p.column])).toEqual([
      ['Patient', 'id', 'codigo'],
      ['Patient', 'active', 'activo_txt'],
      ['Patient', 'deceasedBoolean', 'tomado'],
    ]);
    expect(bad.problems[0]?.message).toMatch(
      /id is declared "integer" but column "codigo" is varchar\(20\)/,
    );

    const good = await checkMapping(
      {
        formatVersion: 1,
        resources: {
          Patient: {
            table: 'examenes',
            id: { column: 'id', type: 'integer' },
            elements: {
              active: 'vigente',
              deceasedBoolean: 'activo_sn',
              'identifier[0].value': 'estado',
              'name[0].text': { column: 'activo_txt', transform: ['trim'] },
            },
          },
          Observation: examenes({ valueBoolean: { column: 'activo_txt', transform: ['boolean'] } })
            .resources.Observation,
        },
      },
      { defs, database },
    );
    expect(good).toEqual({ ok: true, problems: [] });
  });

  it('holds table names to the server letter case', async (ctx) => {
    const rows = await tenantDb.exec<Record<string, unknown>[]>(
      'SELECT @@lower_case_table_names AS lctn',
    );
    if (Number(rows[0]?.['lctn']) !== 0) {
      ctx.skip();
    }
    const document = structuredClone(a.mapping) as { resources: { Patient: { table: string } } };
    document.resources.Patient.table = 'Pacientes';
    const result = await checkMapping(document, { defs, database });
    expect(result.problems).toEqual([
      {
        resource: 'Patient',
        path: 'table',
        message:
          'table or view "Pacientes" does not exist in the database; table names are case-sensitive on this server, and there is "pacientes"',
      },
    ]);
  });
});

describe('activateMapping', () => {
  it('keeps the active version on problems and activates a new one when the check passes', async () => {
    const first = await registry.addMapping(a.clientId, JSON.stringify(a.mapping), {
      activate: true,
      createdBy: 'setup',
    });
    expect((await registry.findTenant(a.clientId))?.mapping?.version).toBe(first);

    const broken = structuredClone(a.mapping) as {
      resources: { Patient: { elements: Record<string, unknown> } };
    };
    broken.resources.Patient.elements['name[0].prefix[0]'] = 'titulo';
    const refused = await activateMapping({
      registry,
      clientId: a.clientId,
      document: broken,
      database,
      defs,
      createdBy: 'ops@example.invalid',
    });
    expect(refused).toEqual({
      ok: false,
      problems: [
        {
          resource: 'Patient',
          path: 'name[0].prefix[0]',
          column: 'titulo',
          message: 'column "titulo" does not exist in table "pacientes"',
        },
      ],
    });
    const still = await registry.findTenant(a.clientId);
    expect(still?.mapping?.version).toBe(first);
    expect(JSON.parse(still?.mapping?.document ?? 'null')).toEqual(a.mapping);

    const dryRun = await activateMapping({
      registry,
      clientId: a.clientId,
      document: a.mapping,
      database,
      defs,
      dryRun: true,
    });
    expect(dryRun).toEqual({ ok: true, version: null, problems: [] });
    expect((await registry.findTenant(a.clientId))?.mapping?.version).toBe(first);

    const updated = structuredClone(a.mapping) as {
      resources: { Patient: { elements: Record<string, unknown> } };
    };
    updated.resources.Patient.elements['name[0].suffix[0]'] = 'ap_mat_pac';
    const activated = await activateMapping({
      registry,
      clientId: a.clientId,
      document: updated,
      database,
      defs,
      createdBy: 'ops@example.invalid',
    });
    expect(activated).toEqual({ ok: true, version: first + 1, problems: [] });
    const now = await registry.findTenant(a.clientId);
    expect(now?.mapping?.version).toBe(first + 1);
    expect(JSON.parse(now?.mapping?.document ?? 'null')).toEqual(updated);
  });
});
