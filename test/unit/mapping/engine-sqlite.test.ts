import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MYSQL_DIALECT, type QueryExecutor, type SqlStatement } from '../../../src/db/dialect.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';
import type { CompiledResource } from '../../../src/mapping/compiled-resource.js';
import {
  isMappingQueryError,
  type MappingQueryErrorCode,
} from '../../../src/mapping/mapping-query-error.js';
import type { SearchQuery } from '../../../src/mapping/search.js';
import { assertValidR4 } from './fhir-validation.js';
import {
  compileFixture,
  createRecordingExecutor,
  type RecordingExecutor,
  readFixtureMapping,
  seedHospitalA,
  seedHospitalB,
} from './sqlite-fixtures.js';

// Both hospitals' schemas live in one database with overlapping ids, so a statement that read
// the wrong table would show up as the wrong data.
const db = new Database(':memory:');
seedHospitalA(db);
seedHospitalB(db);

let exec: RecordingExecutor;
let a: CompiledResource;
let b: CompiledResource;

beforeAll(() => {
  const patientA = compileFixture('hospital-a').resource('Patient');
  const patientB = compileFixture('hospital-b').resource('Patient');
  if (patientA === undefined || patientB === undefined) {
    throw new Error('fixtures must map Patient');
  }
  a = patientA;
  b = patientB;
});

beforeEach(() => {
  exec = createRecordingExecutor(db);
});

afterAll(() => {
  db.close();
});

const ids = (resources: readonly (FhirJson | null)[]) =>
  resources.map((r) => (r === null ? null : r['id']));

function tableCount(table: string): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
}

/** Every value is bound: no statement text contains a bound string value or a quote. */
function expectOnlyPlaceholders(statements: readonly SqlStatement[]): void {
  for (const { sql, params } of statements) {
    const placeholders = sql.split('?').length - 1;
    expect(placeholders).toBe(params.length);
    for (const param of params) {
      if (typeof param === 'string' && param.length > 1) {
        expect(sql).not.toContain(param);
      }
    }
    // The only quote characters are identifier quotes and the fixed ESCAPE '!' clause.
    expect(sql.replaceAll(" ESCAPE '!'", '').replaceAll("<> ''", '')).not.toContain("'");
  }
}

async function search(
  resource: CompiledResource,
  query: SearchQuery,
  page = { count: 50, offset: 0 },
): Promise<string[]> {
  const found = await resource.search(exec, query, page);
  for (const r of found) {
    assertValidR4(r);
  }
  return found.map((r) => String(r['id']));
}

async function searchError(
  resource: CompiledResource,
  query: SearchQuery,
): Promise<{ code: MappingQueryErrorCode; message: string }> {
  try {
    await resource.search(exec, query, { count: 10, offset: 0 });
  } catch (err) {
    if (isMappingQueryError(err)) {
      return { code: err.code, message: err.message };
    }
    throw err;
  }
  throw new Error('expected a MappingQueryError');
}

describe('loadByIds', () => {
  it('returns resources in key order, null for missing and voided rows', async () => {
    const out = await a.loadByIds(exec, ['2', '1', '99', '3', '7']);
    expect(ids(out)).toEqual(['2', '1', null, null, '7']);
    for (const r of out) {
      if (r !== null) {
        assertValidR4(r);
      }
    }
  });

  it('builds hospital A patients with their live phones only', async () => {
    const [one] = await a.loadByIds(exec, ['1']);
    expect(one).toEqual({
      resourceType: 'Patient',
      id: '1',
      identifier: [{ use: 'official', system: 'urn:oid:2.16.152.1.1.1', value: '12345678-9' }],
      name: [
        {
          use: 'official',
          family: 'GONZALEZ PEREZ',
          given: ['MARIA JOSE'],
          text: 'MARIA JOSE GONZALEZ PEREZ',
        },
      ],
      gender: 'female',
      birthDate: '1980-05-17',
      telecom: [
        { system: 'phone', use: 'mobile', value: '+56911111111' },
        { system: 'phone', use: 'home', value: '221234567' },
      ],
    });
  });

  it('costs exactly one main statement plus one per child table, ids deduplicated', async () => {
    await a.loadByIds(exec, ['1', '2', '1', '10', '2']);
    expect(exec.statements).toHaveLength(2);
    const [main, phones] = exec.statements;
    expect(main?.sql).toBe(
      'SELECT t."id_paciente", t."rut_pac", t."ap_pat_pac", t."ap_mat_pac", t."nom_pac", t."sexo_pac", t."fec_nac_pac" FROM "pacientes" AS t WHERE t."voided" = ? AND t."id_paciente" IN (?, ?, ?)',
    );
    expect(main?.params).toEqual([0, 1, 2, 10]);
    expect(phones?.sql).toBe(
      'SELECT c."id_paciente", c."tipo", c."numero" FROM "pacientes_telefonos" AS c WHERE c."borrado" = ? AND c."id_paciente" IN (?, ?, ?) ORDER BY c."id_paciente", c."id"',
    );
    // Parent keys bind as text: the child's key column may be a VARCHAR.
    expect(phones?.params).toEqual([0, '1', '2', '10']);
    expectOnlyPlaceholders(exec.statements);
  });

  it('skips the child statements when the main statement finds nothing', async () => {
    expect(await a.loadByIds(exec, ['99', '3'])).toEqual([null, null]);
    expect(exec.statements).toHaveLength(1);
  });

  it('refuses ids that cannot exist without any SQL (SECURITY-TESTS 54, 56)', async () => {
    const hostile = [
      '01',
      '1abc',
      '1 OR 1=1',
      '1; DROP TABLE pacientes',
      '',
      ' 1',
      '1.0',
      '1e0',
      '-0',
      'x'.repeat(65),
      "1' OR '1'='1",
    ];
    expect(await a.loadByIds(exec, hostile)).toEqual(hostile.map(() => null));
    expect(exec.statements).toHaveLength(0);
    expect(tableCount('pacientes')).toBe(8);
  });

  it('never lets 01 or 1abc answer for row 1', async () => {
    const out = await a.loadByIds(exec, ['01', '1', '1abc']);
    expect(ids(out)).toEqual([null, '1', null]);
    expect(exec.statements[0]?.params).toEqual([0, 1]);
  });

  it('binds string ids as text and matches them exactly', async () => {
    const result = compileMapping(
      {
        formatVersion: 1,
        resources: {
          Patient: { table: 'usuarios', id: 'rut_usr', elements: { 'name[0].text': 'nombre_usr' } },
        },
      },
      { defs: loadDefinitions(), dialect: exec.dialect },
    );
    if (!result.ok) {
      throw new Error('expected ok');
    }
    const byRut = result.mapping.resource('Patient');
    const out = await byRut?.loadByIds(exec, [
      '12.345.678-k',
      '12.345.678-K',
      "x' OR '1'='1",
      '9876543-2',
    ]);
    expect(out?.map((r) => r?.['id'] ?? null)).toEqual(['12.345.678-k', null, null, '9876543-2']);
    expect(exec.statements).toHaveLength(1);
    expect(exec.statements[0]?.params).toEqual(['12.345.678-k', '12.345.678-K', '9876543-2']);
  });

  it('keeps the two hospitals apart even though their ids overlap', async () => {
    const [fromA] = await a.loadByIds(exec, ['1']);
    const [fromB] = await b.loadByIds(exec, ['1']);
    expect(fromA?.['name']).not.toEqual(fromB?.['name']);
    const tables = exec.statements.map((s) => /FROM "(\w+)"/.exec(s.sql)?.[1]);
    expect(tables).toEqual(['pacientes', 'pacientes_telefonos', 'usuarios', 'usuarios_nombres']);
  });

  it('builds hospital B patients: split names, aliases, H/M, DD/MM/YYYY and TINYINT flags', async () => {
    const out = await b.loadByIds(exec, ['1', '2', '3', '4']);
    for (const r of out) {
      if (r !== null) {
        assertValidR4(r);
      }
    }
    expect(out[0]).toEqual({
      resourceType: 'Patient',
      id: '1',
      identifier: [{ use: 'official', system: 'urn:oid:2.16.152.1.1.1', value: '12.345.678-K' }],
      name: [
        {
          use: 'official',
          family: 'PEREZ GONZALEZ',
          given: ['JUAN', 'CARLOS'],
          text: 'JUAN CARLOS PEREZ GONZALEZ',
        },
        { use: 'nickname', family: 'PEREZ', given: ['JC'], text: 'JC PEREZ' },
      ],
      gender: 'male',
      birthDate: '1980-05-17',
      active: true,
    });
    // '00/00/0000' and '31/02/1999' are absent, not errors; aliases follow `orden`.
    expect(out[1]?.['birthDate']).toBeUndefined();
    expect(out[1]?.['active']).toBe(false);
    expect((out[1]!['name'] as { use: string }[]).map((n) => n.use)).toEqual([
      'official',
      'usual',
      'maiden',
    ]);
    expect(out[2]).toMatchObject({
      gender: 'female',
      name: [{ family: 'PEREZ GONZALEZ', given: ['ANA'] }],
    });
    expect(out[2]?.['birthDate']).toBeUndefined();
    expect(out[3]).toMatchObject({ gender: 'unknown', birthDate: '2001-01-01' });
    expect(out[3]?.['active']).toBeUndefined();
    expect(exec.statements).toHaveLength(2);
  });

  it('refuses a statement from another dialect', async () => {
    const mysqlExec: QueryExecutor = { dialect: MYSQL_DIALECT, query: async () => [] };
    await expect(a.loadByIds(mysqlExec, ['1'])).rejects.toThrow(/compiled for sqlite/);
  });
});

describe('search: string parameters', () => {
  it('matches the start of any listed column, case-insensitively', async () => {
    expect(await search(a, [{ code: 'family', values: ['gonz'] }])).toEqual(['1', '10']);
    expect(await search(a, [{ code: 'family', values: ['PER'] }])).toEqual(['1', '2']);
  });

  it('supports :exact and :contains', async () => {
    expect(await search(a, [{ code: 'family', modifier: 'exact', values: ['PEREZ'] }])).toEqual([
      '1',
      '2',
    ]);
    expect(await search(a, [{ code: 'family', modifier: 'exact', values: ['PERE'] }])).toEqual([]);
    expect(await search(a, [{ code: 'family', modifier: 'contains', values: ['REZ'] }])).toEqual([
      '1',
      '2',
    ]);
  });

  it('matches any word start with match: word', async () => {
    expect(await search(a, [{ code: 'given', values: ['jose'] }])).toEqual(['1']);
    expect(await search(a, [{ code: 'given', values: ['ose'] }])).toEqual([]);
    expect(await search(b, [{ code: 'name', values: ['carl'] }])).toEqual(['1']);
    expect(await search(b, [{ code: 'family', values: ['gonz'] }])).toEqual(['1', '3']);
  });

  it('matches % _ \\ and ! literally (SECURITY-TESTS 57)', async () => {
    expect(await search(a, [{ code: 'family', values: ['%'] }])).toEqual([]);
    expect(await search(a, [{ code: 'name', values: ['%'] }])).toEqual([]);
    expect(await search(a, [{ code: 'name', modifier: 'contains', values: ['%'] }])).toEqual(['6']);
    expect(await search(a, [{ code: 'given', values: ['100%'] }])).toEqual(['6']);
    expect(await search(a, [{ code: 'family', values: ['D_'] }])).toEqual(['4']);
    expect(await search(a, [{ code: 'family', values: ['_'] }])).toEqual([]);
    expect(await search(a, [{ code: 'family', values: ['BACK\\'] }])).toEqual(['6']);
    expect(await search(a, [{ code: 'family', values: ['A!'] }])).toEqual([]);
    expectOnlyPlaceholders(exec.statements);
  });

  it('supports :missing', async () => {
    expect(await search(a, [{ code: 'family', modifier: 'missing', values: ['true'] }])).toEqual([
      '7',
    ]);
    expect(await search(a, [{ code: 'family', modifier: 'missing', values: ['false'] }])).toEqual([
      '1',
      '2',
      '4',
      '5',
      '6',
      '10',
    ]);
    expect(
      (await searchError(a, [{ code: 'family', modifier: 'missing', values: ['yes'] }])).code,
    ).toBe('BAD_USER_INPUT');
  });
});

describe('search: token parameters', () => {
  it('translates FHIR codes through the map', async () => {
    expect(await search(a, [{ code: 'gender', values: ['female'] }])).toEqual(['1', '4', '6']);
    expect(await search(a, [{ code: 'gender', values: ['male'] }])).toEqual(['2', '10']);
    expect(await search(b, [{ code: 'gender', values: ['male'] }])).toEqual(['1']);
    expect(await search(b, [{ code: 'gender', values: ['female'] }])).toEqual(['2', '3']);
    expect(await search(b, [{ code: 'active', values: ['true'] }])).toEqual(['1', '3']);
    expect(await search(b, [{ code: 'active', values: ['false'] }])).toEqual(['2']);
  });

  it('matches nothing for a code outside the map, without a statement', async () => {
    expect(await search(a, [{ code: 'gender', values: ['other'] }])).toEqual([]);
    expect(exec.statements).toHaveLength(0);
  });

  it('honours the mapped system', async () => {
    const rut = '12345678-9';
    expect(await search(a, [{ code: 'identifier', values: [rut] }])).toEqual(['1']);
    expect(
      await search(a, [{ code: 'identifier', values: [`urn:oid:2.16.152.1.1.1|${rut}`] }]),
    ).toEqual(['1']);
    expect(await search(a, [{ code: 'identifier', values: [`urn:other|${rut}`] }])).toEqual([]);
    expect(await search(a, [{ code: 'identifier', values: [`|${rut}`] }])).toEqual([]);
    expect(await search(a, [{ code: 'identifier', values: ['urn:oid:2.16.152.1.1.1|'] }])).toEqual([
      '1',
      '2',
      '4',
      '5',
      '6',
      '10',
    ]);
  });

  it('ignores the system when the mapping has none', async () => {
    const gender = 'http://hl7.org/fhir/administrative-gender|male';
    expect(await search(a, [{ code: 'gender', values: [gender] }])).toEqual(['2', '10']);
  });

  it('searches child rows through EXISTS, honouring the child filters', async () => {
    expect(await search(a, [{ code: 'phone', values: ['+56911111111'] }])).toEqual(['1']);
    expect(await search(a, [{ code: 'telecom', values: ['+56922222222', '221234567'] }])).toEqual([
      '1',
      '2',
    ]);
    // A deleted phone, and the phone of a voided patient, find nobody.
    expect(await search(a, [{ code: 'phone', values: ['+56999999999'] }])).toEqual([]);
    expect(await search(a, [{ code: 'phone', values: ['+56933333333'] }])).toEqual([]);
    const exists = exec.statements.find((s) => s.sql.includes('EXISTS'));
    expect(exists?.sql).toContain(
      'EXISTS (SELECT 1 FROM "pacientes_telefonos" AS c WHERE c."id_paciente" = t."id_paciente" AND c."borrado" = ? AND c."numero" = ?)',
    );
  });

  it('rejects string modifiers and empty tokens', async () => {
    expect(await searchError(a, [{ code: 'gender', modifier: 'exact', values: ['male'] }])).toEqual(
      {
        code: 'BAD_USER_INPUT',
        message: 'Search parameter "gender" does not support the :exact modifier.',
      },
    );
    expect((await searchError(a, [{ code: 'identifier', values: ['|'] }])).code).toBe(
      'BAD_USER_INPUT',
    );
  });
});

describe('search: date parameters', () => {
  const cases: [string, string[]][] = [
    ['1980', ['1', '4']],
    ['eq1980-05', ['1']],
    ['1980-05-17', ['1']],
    ['ge1980-12-31', ['4', '5', '10']],
    ['gt1980-12-31', ['5', '10']],
    ['gt1980', ['5', '10']],
    ['lt1980', ['6']],
    ['le1980', ['1', '4', '6']],
    ['ne1980', ['5', '6', '10']],
    ['2000-02-29', ['10']],
    ['9999', []],
    ['gt9999-12-31', []],
  ];

  it.each(cases)('birthdate=%s', async (value, expected) => {
    expect(await search(a, [{ code: 'birthdate', values: [value] }])).toEqual(expected);
  });

  it('uses half-open ranges with bound bounds', async () => {
    await search(a, [{ code: 'birthdate', values: ['1980-05'] }]);
    expect(exec.statements[0]?.sql).toContain('AND t."fec_nac_pac" >= ? AND t."fec_nac_pac" < ?');
    expect(exec.statements[0]?.params).toEqual([0, '1980-05-01', '1980-06-01']);
  });

  it.each([
    '1980-13',
    '80',
    'sa1980',
    '1980-02-30',
    '1980-05-17T10:00:00Z',
    'ZZPHI-1980',
    '1980-5',
  ])('rejects %j without a statement and without echoing it', async (value) => {
    const error = await searchError(a, [{ code: 'birthdate', values: [value] }]);
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toContain('"birthdate"');
    expect(error.message).not.toContain(value);
    expect(exec.statements).toHaveLength(0);
  });

  it('is not offered where the column cannot be compared as a date', async () => {
    expect((await searchError(b, [{ code: 'birthdate', values: ['1980'] }])).code).toBe(
      'SEARCH_PARAM_NOT_SUPPORTED',
    );
  });
});

describe('search: combining, _id and paging', () => {
  it('ORs values of one parameter and ANDs parameters', async () => {
    expect(await search(a, [{ code: 'gender', values: ['male', 'female'] }])).toEqual([
      '1',
      '2',
      '4',
      '6',
      '10',
    ]);
    expect(
      await search(a, [
        { code: 'gender', values: ['female'] },
        { code: 'birthdate', values: ['1980'] },
      ]),
    ).toEqual(['1', '4']);
    expect(
      await search(a, [
        { code: 'family', values: ['gonz'] },
        { code: 'family', values: ['per'] },
      ]),
    ).toEqual(['1']);
  });

  it('searches _id with the same id rules as loadByIds', async () => {
    expect(await search(a, [{ code: '_id', values: ['1', '3', '10', '1abc', '01'] }])).toEqual([
      '1',
      '10',
    ]);
    expect(exec.statements[0]?.params).toEqual([0, 1, 3, 10]);
    expect(await search(a, [{ code: '_id', values: ['1abc'] }])).toEqual([]);
  });

  it('pages in id order with LIMIT/OFFSET', async () => {
    expect(await search(a, [], { count: 2, offset: 0 })).toEqual(['1', '2']);
    expect(await search(a, [], { count: 2, offset: 2 })).toEqual(['4', '5']);
    expect(await search(a, [], { count: 10, offset: 6 })).toEqual(['10']);
    expect(exec.statements[4]?.sql).toMatch(/ ORDER BY t\."id_paciente" LIMIT 10 OFFSET 6$/);
  });

  it('costs one statement plus one per child table, and none for count 0', async () => {
    await search(a, [{ code: 'family', values: ['gonz'] }]);
    expect(exec.statements).toHaveLength(2);
    exec.statements.length = 0;
    await search(a, [{ code: 'family', values: ['nobody'] }]);
    expect(exec.statements).toHaveLength(1);
    exec.statements.length = 0;
    expect(
      await search(a, [{ code: 'family', values: ['gonz'] }], { count: 0, offset: 0 }),
    ).toEqual([]);
    expect(exec.statements).toHaveLength(0);
  });

  it('ignores empty values, as FHIR servers do', async () => {
    expect(
      await search(a, [{ code: 'family', values: ['', '  '] }], { count: 3, offset: 0 }),
    ).toEqual(['1', '2', '4']);
  });

  it('never returns voided rows', async () => {
    expect(await search(a, [{ code: 'given', values: ['zzvoided'] }])).toEqual([]);
    expect(await search(a, [{ code: '_id', values: ['3'] }])).toEqual([]);
    const all = await search(a, [], { count: 100, offset: 0 });
    expect(all).not.toContain('3');
  });
});

describe('search: sort and count', () => {
  it('sorts by the first column of a multi-column parameter, then id', async () => {
    const found = await a.search(exec, [], {
      count: 20,
      offset: 0,
      sort: [{ code: 'family', descending: false }],
    });
    // NULL sorts first in both SQLite and MySQL; 'DXARCY' < 'D_ARCY' in binary order.
    expect(found.map((r) => r['id'])).toEqual(['7', '6', '5', '4', '1', '10', '2']);
    expect(exec.statements[0]?.sql).toMatch(/ ORDER BY t\."ap_pat_pac", t\."id_paciente" LIMIT/);
  });

  it('refuses to sort by a parameter of a child table', async () => {
    const error = await a
      .search(exec, [], { count: 5, offset: 0, sort: [{ code: 'phone', descending: false }] })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({
      code: 'SEARCH_PARAM_NOT_SUPPORTED',
      message: 'Sort parameter "phone" is not supported for Patient.',
    });
    expect(exec.statements).toHaveLength(0);
  });

  it('counts with the same conditions as search, child EXISTS included', async () => {
    expect(await a.count(exec, [])).toBe(7);
    expect(await a.count(exec, [{ code: 'phone', values: ['+56911111111'] }])).toBe(1);
    expect(exec.statements[1]?.sql).toBe(
      'SELECT COUNT(*) AS "_fhirgate_n" FROM "pacientes" AS t WHERE t."voided" = ? AND EXISTS (SELECT 1 FROM "pacientes_telefonos" AS c WHERE c."id_paciente" = t."id_paciente" AND c."borrado" = ? AND c."numero" = ?)',
    );
  });
});

describe('search: hostile input (SECURITY-TESTS 54, 56)', () => {
  const hostile = [
    "x' OR '1'='1",
    '1 OR 1=1',
    '1; DROP TABLE pacientes',
    "' OR 1=1 --",
    '") OR ("1"="1',
  ];

  it.each(hostile)('treats %j as data', async (value) => {
    for (const code of ['family', 'name', 'identifier', 'gender', 'phone', '_id']) {
      expect(await search(a, [{ code, values: [value] }]), code).toEqual([]);
    }
    expectOnlyPlaceholders(exec.statements);
    expect(tableCount('pacientes')).toBe(8);
    expect(tableCount('pacientes_telefonos')).toBe(6);
  });

  it('names an unmapped parameter without echoing values, and hides malformed codes', async () => {
    expect(await searchError(a, [{ code: 'address-city', values: ['ZZPHI'] }])).toEqual({
      code: 'SEARCH_PARAM_NOT_SUPPORTED',
      message: 'Search parameter "address-city" is not supported for Patient.',
    });
    const odd = await searchError(a, [{ code: "x' OR 1=1", values: ['1'] }]);
    expect(odd.message).toBe('This search parameter is not supported for Patient.');
  });

  it('bounds values, parameters and pages', async () => {
    const many = Array.from({ length: 51 }, (_, i) => String(i));
    expect((await searchError(a, [{ code: 'family', values: many }])).code).toBe('BAD_USER_INPUT');
    expect((await searchError(a, [{ code: 'family', values: ['x'.repeat(257)] }])).code).toBe(
      'BAD_USER_INPUT',
    );
    const params = Array.from({ length: 21 }, () => ({ code: 'family', values: ['a'] }));
    expect((await searchError(a, params)).code).toBe('BAD_USER_INPUT');
    await expect(a.search(exec, [], { count: 1001, offset: 0 })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    await expect(a.search(exec, [], { count: 10, offset: -1 })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    await expect(a.search(exec, [], { count: 1.5, offset: 0 })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    expect(exec.statements).toHaveLength(0);
  });
});

describe('MySQL statement text', () => {
  it('quotes with backticks and binds every value', async () => {
    const result = compileMapping(readFixtureMapping('hospital-a'), {
      defs: loadDefinitions(),
      dialect: MYSQL_DIALECT,
    });
    if (!result.ok) {
      throw new Error('expected ok');
    }
    const statements: SqlStatement[] = [];
    const mysqlExec: QueryExecutor = {
      dialect: MYSQL_DIALECT,
      query: async (statement) => {
        statements.push(statement);
        return statement.sql.includes('`pacientes_telefonos`')
          ? []
          : [{ id_paciente: 1, nom_pac: 'ANA' }];
      },
    };
    const patient = result.mapping.resource('Patient');
    await patient?.search(
      mysqlExec,
      [
        { code: 'family', values: ["O'HIGGINS_%"] },
        { code: 'birthdate', values: ['lt1990'] },
      ],
      { count: 20, offset: 40 },
    );
    expect(statements.map((s) => s.sql)).toEqual([
      "SELECT t.`id_paciente`, t.`rut_pac`, t.`ap_pat_pac`, t.`ap_mat_pac`, t.`nom_pac`, t.`sexo_pac`, t.`fec_nac_pac` FROM `pacientes` AS t WHERE t.`voided` = ? AND (t.`ap_pat_pac` LIKE ? ESCAPE '!' OR t.`ap_mat_pac` LIKE ? ESCAPE '!') AND t.`fec_nac_pac` >= ? AND t.`fec_nac_pac` < ? ORDER BY t.`id_paciente` LIMIT 20 OFFSET 40",
      'SELECT c.`id_paciente`, c.`tipo`, c.`numero` FROM `pacientes_telefonos` AS c WHERE c.`borrado` = ? AND c.`id_paciente` = ? ORDER BY c.`id_paciente`, c.`id`',
    ]);
    expect(statements[0]?.params).toEqual([
      0,
      "O'HIGGINS!_!%%",
      "O'HIGGINS!_!%%",
      '0001-01-01',
      '1990-01-01',
    ]);
    expectOnlyPlaceholders(statements);
  });
});
