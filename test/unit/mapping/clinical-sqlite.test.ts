import Database from 'better-sqlite3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { SqlStatement } from '../../../src/db/dialect.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import type { CompiledResource } from '../../../src/mapping/compiled-resource.js';
import { isMappingQueryError } from '../../../src/mapping/mapping-query-error.js';
import { assertValidR4 } from './fhir-validation.js';
import {
  compileFixture,
  createRecordingExecutor,
  type RecordingExecutor,
  seedHospitalC,
} from './sqlite-fixtures.js';

// Hospital C: a clinical record (patients, practitioners, encounters, vital signs, one `listas`
// table of problems, allergies and prescriptions) served from its mapping document alone.
const db = new Database(':memory:');
seedHospitalC(db);
const mapping = compileFixture('hospital-c');

function resource(type: string): CompiledResource {
  const found = mapping.resource(type);
  if (found === undefined) {
    throw new Error(`hospital C must map ${type}`);
  }
  return found;
}

const encounter = resource('Encounter');

let exec: RecordingExecutor;

beforeEach(() => {
  exec = createRecordingExecutor(db);
});

afterAll(() => {
  db.close();
});

const idsOf = (resources: readonly (FhirJson | null)[]) =>
  resources.map((r) => (r === null ? null : String(r['id'])));

/** Plain SQL over the fixture, for expectations computed independently of the engine. */
function column(sql: string, ...params: unknown[]): string[] {
  return (db.prepare(sql).all(...params) as Record<string, unknown>[]).map((r) =>
    String(Object.values(r)[0]),
  );
}

function validateAll(resources: readonly (FhirJson | null)[]): void {
  for (const r of resources) {
    if (r !== null) {
      assertValidR4(r);
    }
  }
}

/** Every value is bound: placeholders match params and no string param is in the text. */
function expectOnlyPlaceholders(statements: readonly SqlStatement[]): void {
  for (const { sql, params } of statements) {
    expect(sql.split('?').length - 1).toBe(params.length);
    for (const param of params) {
      if (typeof param === 'string' && param.length > 1) {
        expect(sql).not.toContain(param);
      }
    }
    expect(sql.replaceAll(" ESCAPE '!'", '').replaceAll("<> ''", '')).not.toContain("'");
  }
}

async function errorOf(run: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await run();
  } catch (err) {
    if (isMappingQueryError(err)) {
      return { code: err.code, message: err.message };
    }
    throw err;
  }
  throw new Error('expected a MappingQueryError');
}

describe('references', () => {
  it('writes foreign keys as references, with a display, and validates', async () => {
    const [first, cancelled, orphan] = await encounter.loadByIds(exec, ['1', '100', '101']);
    expect(first).toEqual({
      resourceType: 'Encounter',
      id: '1',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: 'Patient/1' },
      participant: [{ individual: { reference: 'Practitioner/M001', display: 'ANA SOTO' } }],
      period: { start: '2023-01-02T08:30:00-03:00', end: '2023-01-02T12:30:00-03:00' },
      reasonCode: [{ text: 'CONTROL' }],
    });
    expect(cancelled).toBeNull();
    // A NULL foreign key leaves the reference out, display and all.
    expect(orphan?.['subject']).toBeUndefined();
    expect(orphan?.['participant']).toBeUndefined();
    validateAll([first ?? null, orphan ?? null]);
  });

  it('searches reference parameters by Type/id or by id, exactly', async () => {
    const expected = column(
      'SELECT id_atencion FROM atenciones WHERE id_paciente = 3 AND anulada = 0 ORDER BY id_atencion',
    );
    expect(expected).toHaveLength(3);
    for (const value of ['Patient/3', '3', ' Patient/3 ']) {
      const found = await encounter.search(exec, [{ code: 'patient', values: [value] }], {
        count: 50,
        offset: 0,
      });
      expect(idsOf(found)).toEqual(expected);
      validateAll(found);
    }
    const bySubject = await encounter.search(exec, [{ code: 'subject', values: ['Patient/3'] }], {
      count: 50,
      offset: 0,
    });
    expect(idsOf(bySubject)).toEqual(expected);
    const byPractitioner = await encounter.search(
      exec,
      [{ code: 'practitioner', values: ['Practitioner/M002'] }],
      { count: 100, offset: 0 },
    );
    expect(idsOf(byPractitioner)).toEqual(
      column(
        "SELECT id_atencion FROM atenciones WHERE id_medico = 'M002' AND anulada = 0 ORDER BY id_atencion",
      ),
    );
  });

  it('matches nothing, without a statement, for another type or a malformed id', async () => {
    for (const value of [
      'Group/3',
      'Practitioner/3',
      'Patient/',
      'Patient/3/_history/1',
      'http://example.org/fhir/Patient/3',
      '03',
      '3.0',
      'Patient/1 OR 1=1',
      "1' OR '1'='1",
      '1; DROP TABLE atenciones',
    ]) {
      const found = await encounter.search(exec, [{ code: 'patient', values: [value] }], {
        count: 50,
        offset: 0,
      });
      expect(found, value).toEqual([]);
    }
    expect(exec.statements).toHaveLength(0);
    expect(column('SELECT COUNT(*) FROM atenciones')).toEqual(['38']);
  });

  it('checks reference ids with the target type of the id (integers for Patient) and binds them as text', async () => {
    await encounter.search(
      exec,
      [
        { code: 'patient', values: ['Patient/3', '4'] },
        { code: 'practitioner', values: ["M001' OR '1'='1", 'M001'] },
      ],
      { count: 10, offset: 0 },
    );
    expect(exec.statements[0]?.params).toEqual([0, '3', '4', 'M001']);
    expect(exec.statements[0]?.sql).toContain('t."id_paciente" IN (?, ?) AND t."id_medico" = ?');
    expectOnlyPlaceholders(exec.statements);
  });

  it('supports :missing on reference parameters', async () => {
    const found = await encounter.search(
      exec,
      [{ code: 'patient', modifier: 'missing', values: ['true'] }],
      { count: 10, offset: 0 },
    );
    expect(idsOf(found)).toEqual(['101']);
    expect(
      (
        await errorOf(() =>
          encounter.search(exec, [{ code: 'patient', modifier: 'exact', values: ['1'] }], {
            count: 10,
            offset: 0,
          }),
        )
      ).code,
    ).toBe('BAD_USER_INPUT');
  });

  it('lists the mapped reference parameters and their targets', () => {
    expect([...encounter.referenceParams]).toEqual([
      ['patient', ['Patient']],
      ['subject', ['Patient']],
      ['practitioner', ['Practitioner']],
      ['participant', ['Practitioner']],
    ]);
    expect(resource('Patient').referenceParams.size).toBe(0);
  });
});

describe('sort', () => {
  const page = (sort: { code: string; descending: boolean }[], count = 5, offset = 0) => ({
    count,
    offset,
    sort,
  });

  it('sorts by the first column of a mapped parameter, then by id', async () => {
    const found = await encounter.search(exec, [], page([{ code: 'date', descending: true }]));
    expect(idsOf(found)).toEqual(
      column(
        'SELECT id_atencion FROM atenciones WHERE anulada = 0 ORDER BY ingreso DESC, id_atencion LIMIT 5',
      ),
    );
    expect(exec.statements[0]?.sql).toMatch(
      / ORDER BY t\."ingreso" DESC, t\."id_atencion" LIMIT 5 OFFSET 0$/,
    );
  });

  it('breaks ties by id, so pages neither repeat nor skip', async () => {
    const sort = [
      { code: 'patient', descending: false },
      { code: 'status', descending: true },
    ];
    const all = idsOf(await encounter.search(exec, [], page(sort, 100)));
    const paged: (string | null)[] = [];
    for (let offset = 0; offset < all.length; offset += 7) {
      paged.push(...idsOf(await encounter.search(exec, [], page(sort, 7, offset))));
    }
    expect(paged).toEqual(all);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(
      column(
        'SELECT id_atencion FROM atenciones WHERE anulada = 0 ORDER BY id_paciente, estado DESC, id_atencion',
      ),
    );
  });

  it('sorts by _id in either direction', async () => {
    const found = await encounter.search(exec, [], page([{ code: '_id', descending: true }], 3));
    expect(idsOf(found)).toEqual(['101', '36', '35']);
    expect(exec.statements[0]?.sql).toMatch(/ ORDER BY t\."id_atencion" DESC LIMIT 3 OFFSET 0$/);
  });

  it('refuses unmapped and unsortable codes without a statement', async () => {
    expect(
      await errorOf(() =>
        encounter.search(exec, [], page([{ code: 'location', descending: false }])),
      ),
    ).toEqual({
      code: 'SEARCH_PARAM_NOT_SUPPORTED',
      message: 'Sort parameter "location" is not supported for Encounter.',
    });
    expect(
      (
        await errorOf(() =>
          encounter.search(exec, [], page([{ code: "x' OR 1=1", descending: false }])),
        )
      ).message,
    ).toBe('This sort parameter is not supported for Encounter.');
    const tooMany = Array.from({ length: 6 }, () => ({ code: '_id', descending: false }));
    expect((await errorOf(() => encounter.search(exec, [], page(tooMany)))).code).toBe(
      'BAD_USER_INPUT',
    );
    expect(exec.statements).toHaveLength(0);
  });
});

describe('count', () => {
  it('counts matches in one COUNT(*) statement', async () => {
    expect(await encounter.count(exec, [])).toBe(37);
    expect(await encounter.count(exec, [{ code: 'patient', values: ['Patient/3'] }])).toBe(3);
    expect(await encounter.count(exec, [{ code: 'status', values: ['in-progress'] }])).toBe(
      Number(column("SELECT COUNT(*) FROM atenciones WHERE estado = 'A' AND anulada = 0")[0]),
    );
    expect(exec.statements).toHaveLength(3);
    expect(exec.statements[1]).toEqual({
      sql: 'SELECT COUNT(*) AS "_fhirgate_n" FROM "atenciones" AS t WHERE t."anulada" = ? AND t."id_paciente" = ?',
      params: [0, '3'],
    });
  });

  it('answers 0 without a statement when nothing can match, and checks its input', async () => {
    expect(await encounter.count(exec, [{ code: 'patient', values: ['Group/3'] }])).toBe(0);
    expect(exec.statements).toHaveLength(0);
    expect(
      (await errorOf(() => encounter.count(exec, [{ code: 'location', values: ['1'] }]))).code,
    ).toBe('SEARCH_PARAM_NOT_SUPPORTED');
    expect(
      (await errorOf(() => encounter.count(exec, [{ code: 'date', values: ['yesterday'] }]))).code,
    ).toBe('BAD_USER_INPUT');
  });
});

describe('searchByReference', () => {
  const targets = Array.from({ length: 20 }, (_, i) => String(i + 1));

  it('answers 20 targets in one statement plus one per child table, every id a key', async () => {
    const out = await encounter.searchByReference(exec, {
      code: 'patient',
      targetIds: targets,
      query: [],
      countPerTarget: 2,
    });
    // The main statement, then the care-team child table for all the encounters found.
    expect(exec.statements).toHaveLength(2);
    expect(exec.statements[1]?.sql).toMatch(/^SELECT .* FROM "atenciones_equipo" AS c WHERE /);
    expect([...out.keys()]).toEqual(targets);
    for (const target of targets) {
      const expected = column(
        'SELECT id_atencion FROM atenciones WHERE id_paciente = ? AND anulada = 0 ORDER BY id_atencion LIMIT 2',
        Number(target),
      );
      expect(idsOf(out.get(target) ?? []), target).toEqual(expected);
      for (const r of out.get(target) ?? []) {
        expect(r['subject']).toEqual({ reference: `Patient/${target}` });
        assertValidR4(r);
      }
    }
    expect(out.get('4')).toEqual([]);
    const [statement] = exec.statements;
    expect(statement?.sql).toBe(
      'SELECT * FROM (SELECT t."id_atencion", t."estado", t."tipo", t."id_paciente", t."id_medico", t."nombre_medico", t."ingreso", t."alta", t."motivo", ROW_NUMBER() OVER (PARTITION BY t."id_paciente" ORDER BY t."id_atencion") AS "_fhirgate_rn" FROM "atenciones" AS t WHERE t."anulada" = ? AND t."id_paciente" IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)) AS r WHERE r."_fhirgate_rn" <= ? ORDER BY r."id_paciente", r."_fhirgate_rn"',
    );
    expect(statement?.params).toEqual([0, ...targets, 2]);
  });

  it('applies the query and the sort inside each target', async () => {
    const out = await encounter.searchByReference(exec, {
      code: 'subject',
      targetIds: ['3', '7', '11'],
      query: [{ code: 'status', values: ['finished'] }],
      countPerTarget: 5,
      sort: [{ code: 'date', descending: true }],
    });
    for (const target of ['3', '7', '11']) {
      expect(idsOf(out.get(target) ?? [])).toEqual(
        column(
          "SELECT id_atencion FROM atenciones WHERE id_paciente = ? AND anulada = 0 AND estado = 'F' ORDER BY ingreso DESC, id_atencion",
          Number(target),
        ),
      );
    }
    expect(exec.statements).toHaveLength(2);
    expect(exec.statements[0]?.sql).toContain(
      'ROW_NUMBER() OVER (PARTITION BY t."id_paciente" ORDER BY t."ingreso" DESC, t."id_atencion")',
    );
  });

  it('works for text ids and groups by the id the reference shows', async () => {
    const out = await encounter.searchByReference(exec, {
      code: 'practitioner',
      targetIds: ['M002', 'M404', 'm002'],
      query: [{ code: 'patient', values: ['3'] }],
      countPerTarget: 10,
    });
    expect(idsOf(out.get('M002') ?? [])).toEqual(
      column(
        "SELECT id_atencion FROM atenciones WHERE id_paciente = 3 AND id_medico = 'M002' ORDER BY id_atencion",
      ),
    );
    expect(out.get('M404')).toEqual([]);
    expect(out.get('m002')).toEqual([]);
  });

  it('gives hostile or impossible ids empty entries without binding them', async () => {
    const out = await encounter.searchByReference(exec, {
      code: 'patient',
      targetIds: ['1 OR 1=1', 'Patient/1', '01', '', "1' --", '2'],
      query: [],
      countPerTarget: 3,
    });
    expect([...out.keys()]).toEqual(['1 OR 1=1', 'Patient/1', '01', '', "1' --", '2']);
    expect(out.get('1 OR 1=1')).toEqual([]);
    expect(out.get('Patient/1')).toEqual([]);
    expect(idsOf(out.get('2') ?? [])).toEqual(
      column('SELECT id_atencion FROM atenciones WHERE id_paciente = 2 ORDER BY id_atencion'),
    );
    expect(exec.statements).toHaveLength(2);
    expect(exec.statements[0]?.params).toEqual([0, '2', 3]);
    expectOnlyPlaceholders(exec.statements);
  });

  it('runs no statement when no target can exist, the count is 0, or the query matches nothing', async () => {
    const run = (request: Partial<Parameters<CompiledResource['searchByReference']>[1]>) =>
      encounter.searchByReference(exec, {
        code: 'patient',
        targetIds: ['1'],
        query: [],
        countPerTarget: 5,
        ...request,
      });
    expect([...(await run({ targetIds: ['x y'] }))]).toEqual([['x y', []]]);
    expect([...(await run({ countPerTarget: 0 }))]).toEqual([['1', []]]);
    expect([...(await run({ query: [{ code: 'status', values: ['planned'] }] }))]).toEqual([
      ['1', []],
    ]);
    expect(exec.statements).toHaveLength(0);
  });

  it('refuses codes that are not mapped reference parameters, and bad counts', async () => {
    const request = { targetIds: ['1'], query: [], countPerTarget: 5 };
    expect(
      await errorOf(() => encounter.searchByReference(exec, { ...request, code: 'date' })),
    ).toEqual({
      code: 'SEARCH_PARAM_NOT_SUPPORTED',
      message: 'Reference parameter "date" is not supported for Encounter.',
    });
    expect(
      (await errorOf(() => encounter.searchByReference(exec, { ...request, code: 'location' })))
        .code,
    ).toBe('SEARCH_PARAM_NOT_SUPPORTED');
    expect(
      (
        await errorOf(() =>
          encounter.searchByReference(exec, { ...request, code: 'patient', countPerTarget: -1 }),
        )
      ).code,
    ).toBe('BAD_USER_INPUT');
    expect(exec.statements).toHaveLength(0);
  });
});

describe('fan-out: one vital-signs row, several Observations', () => {
  const observation = resource('Observation');
  const KEYS = ['8302-2', '29463-7', '8310-5', '85354-9'];
  const SKIP_COLUMNS = ['talla_cm', 'peso_lb', 'temp_f', 'pa_sist'];

  /** The Observation ids the fixture should give, in (row id, item) order, from plain SQL. */
  function expectedIds(where = '1=1', ...params: unknown[]): string[] {
    const rows = db
      .prepare(`SELECT * FROM signos_vitales WHERE anulado = 0 AND ${where} ORDER BY id`)
      .all(...params) as Record<string, unknown>[];
    return rows.flatMap((row) =>
      KEYS.flatMap((key, i) => {
        const value = row[SKIP_COLUMNS[i]!];
        return value === null || value === 0 || value === '' ? [] : [`${row['id']}-${key}`];
      }),
    );
  }

  const all = () => observation.search(exec, [], { count: 1000, offset: 0 });

  it('writes one Observation per measured item, with converted units, all valid', async () => {
    const out = await observation.loadByIds(exec, ['1-29463-7', '1-8310-5', '1-85354-9']);
    expect(exec.statements).toHaveLength(1);
    validateAll(out);
    const shared = {
      resourceType: 'Observation',
      status: 'final',
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/observation-category',
              code: 'vital-signs',
            },
          ],
        },
      ],
      subject: { reference: 'Patient/1' },
      encounter: { reference: 'Encounter/1' },
      effectiveDateTime: '2023-01-02T09:00:00-03:00',
    };
    expect(out[0]).toEqual({
      ...shared,
      id: '1-29463-7',
      code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
      valueQuantity: { value: 69.9, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    });
    expect(out[1]?.['valueQuantity']).toEqual({
      value: 37,
      unit: 'Cel',
      system: 'http://unitsofmeasure.org',
      code: 'Cel',
    });
    const mmHg = { unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' };
    expect(out[2]).toMatchObject({
      id: '1-85354-9',
      code: { coding: [{ code: '85354-9' }] },
      component: [
        { code: { coding: [{ code: '8480-6' }] }, valueQuantity: { value: 120, ...mmHg } },
        { code: { coding: [{ code: '8462-4' }] }, valueQuantity: { value: 80, ...mmHg } },
      ],
    });
    expect(out[2]?.['valueQuantity']).toBeUndefined();
  });

  it('skips items whose skip column is NULL, 0 or empty, in one statement', async () => {
    const ids = [
      '1-8302-2',
      '2-8302-2', // NULL height
      '2-8310-5', // 0 degF
      '3-8302-2', // 0 cm
      '6-8302-2', // '' cm
      '6-29463-7',
      '4-8302-2', // a voided row
      '5-29463-7', // a row with nothing measured
      '2-29463-7',
    ];
    expect(idsOf(await observation.loadByIds(exec, ids))).toEqual([
      '1-8302-2',
      null,
      null,
      null,
      null,
      '6-29463-7',
      null,
      null,
      '2-29463-7',
    ]);
    expect(exec.statements).toHaveLength(1);
    // The database decides: one presence flag per item (its skip values, bound), then the row
    // filter and the row ids, each once.
    expect(exec.statements[0]?.sql).toContain(
      'CASE WHEN NOT (t."talla_cm" IS NULL OR t."talla_cm" = ? OR t."talla_cm" = ?) THEN 1 ELSE 0 END AS "_fhirgate_present_0"',
    );
    expect(exec.statements[0]?.sql.match(/ AS "_fhirgate_present_\d"/g)).toHaveLength(4);
    expect(exec.statements[0]?.params).toEqual([0, '', 0, '', 0, '', 0, '', 0, 1, 2, 3, 6, 4, 5]);
    expectOnlyPlaceholders(exec.statements);
  });

  it('refuses ids that name no item of a possible row, without SQL', async () => {
    const hostile = [
      '1',
      '1-',
      '-8302-2',
      '01-8302-2',
      '1-8302',
      '1-9999-9',
      '1-8302-2 OR 1=1',
      "1' OR '1'='1-8302-2",
      'Observation/1-8302-2',
    ];
    expect(await observation.loadByIds(exec, hostile)).toEqual(hostile.map(() => null));
    expect(exec.statements).toHaveLength(0);
  });

  it('searches and pages items exactly, in (row, item) order', async () => {
    const expected = expectedIds();
    expect(expected.length).toBeGreaterThan(20);
    const found = await all();
    expect(idsOf(found)).toEqual(expected);
    validateAll(found);
    for (const size of [1, 4, 7]) {
      const paged: (string | null)[] = [];
      for (let offset = 0; offset < expected.length + size; offset += size) {
        paged.push(...idsOf(await observation.search(exec, [], { count: size, offset })));
      }
      expect(paged, `pages of ${size}`).toEqual(expected);
    }
  });

  it('costs one statement per page: a UNION ALL of the items, each cut at offset + count', async () => {
    await observation.search(exec, [{ code: 'patient', values: ['1'] }], { count: 3, offset: 2 });
    expect(exec.statements).toHaveLength(1);
    const [statement] = exec.statements;
    expect(statement?.sql.match(/ UNION ALL /g)).toHaveLength(3);
    expect(statement?.sql.match(/ ORDER BY t\."id" LIMIT 5 OFFSET 0\) AS b\d/g)).toHaveLength(4);
    expect(statement?.sql).toMatch(
      /\) AS f ORDER BY f\."id", f\."_fhirgate_item" LIMIT 3 OFFSET 2$/,
    );
    expect(statement?.sql).toContain(
      'AND NOT (t."talla_cm" IS NULL OR t."talla_cm" = ? OR t."talla_cm" = ?)',
    );
    expectOnlyPlaceholders(exec.statements);
  });

  it('counts items, not rows', async () => {
    expect(await observation.count(exec, [])).toBe(expectedIds().length);
    expect(await observation.count(exec, [{ code: 'patient', values: ['Patient/1'] }])).toBe(
      expectedIds('id_paciente = 1').length,
    );
    expect(await observation.count(exec, [{ code: 'code', values: ['8302-2'] }])).toBe(
      expectedIds().filter((id) => id.endsWith('-8302-2')).length,
    );
    expect(exec.statements).toHaveLength(3);
    expect(exec.statements[2]?.sql.includes('UNION ALL')).toBe(false);
  });

  it('selects items by code: key, system|code, system|, several values', async () => {
    const heights = expectedIds().filter((id) => id.endsWith('-8302-2'));
    const search = async (values: string[], extra: { code: string; values: string[] }[] = []) =>
      idsOf(
        await observation.search(exec, [{ code: 'code', values }, ...extra], {
          count: 100,
          offset: 0,
        }),
      );
    expect(await search(['http://loinc.org|8302-2'])).toEqual(heights);
    expect(await search(['8302-2'])).toEqual(heights);
    expect(await search(['29463-7', 'http://loinc.org|8310-5'])).toEqual(
      expectedIds().filter((id) => id.endsWith('-29463-7') || id.endsWith('-8310-5')),
    );
    expect(await search(['http://loinc.org|'])).toEqual(expectedIds());
    expect(await search(['8302-2'], [{ code: 'patient', values: ['Patient/1'] }])).toEqual([
      '1-8302-2',
    ]);
    expect(exec.statements).toHaveLength(5);
    // A foreign system, no system, a component code, or two codes ANDed: nothing, and no SQL.
    expect(await search(['http://snomed.info/sct|8302-2'])).toEqual([]);
    expect(await search(['|8302-2'])).toEqual([]);
    expect(await search(['8480-6'])).toEqual([]);
    expect(await search(['8302-2'], [{ code: 'code', values: ['29463-7'] }])).toEqual([]);
    expect(exec.statements).toHaveLength(5);
    expect(
      (
        await errorOf(() =>
          observation.search(exec, [{ code: 'code', modifier: 'missing', values: ['true'] }], {
            count: 1,
            offset: 0,
          }),
        )
      ).code,
    ).toBe('BAD_USER_INPUT');
  });

  it('searches _id per item', async () => {
    const found = await observation.search(
      exec,
      [{ code: '_id', values: ['3-8310-5', '1-8302-2', '2-8302-2', 'garbage', '1-8302-2 OR 1=1'] }],
      { count: 10, offset: 0 },
    );
    expect(idsOf(found)).toEqual(['1-8302-2', '3-8310-5']);
    const [statement] = exec.statements;
    expect(statement?.sql.match(/ UNION ALL /g)).toHaveLength(1);
    // Per branch: the row filter, the ids of that item only, the skip values.
    expect(statement?.params).toEqual([0, 1, 2, 0, '', 0, 3, 0, '']);
    expect(
      await observation.search(exec, [{ code: '_id', values: ['2-8302-2'] }], {
        count: 10,
        offset: 0,
      }),
    ).toEqual([]);
  });

  it('sorts by a row column, then row id, then item', async () => {
    const found = await observation.search(exec, [], {
      count: 100,
      offset: 0,
      sort: [{ code: 'date', descending: true }],
    });
    const rows = column('SELECT id FROM signos_vitales WHERE anulado = 0 ORDER BY fecha DESC, id');
    const expected = expectedIds();
    expect(idsOf(found)).toEqual(
      rows.flatMap((row) => expected.filter((id) => id.startsWith(`${row}-`))),
    );
    expect(
      (
        await errorOf(() =>
          observation.search(exec, [], {
            count: 1,
            offset: 0,
            sort: [{ code: 'code', descending: false }],
          }),
        )
      ).code,
    ).toBe('SEARCH_PARAM_NOT_SUPPORTED');
  });

  it('answers searchByReference for 20 patients in one statement, counting items', async () => {
    const targets = Array.from({ length: 20 }, (_, i) => String(i + 1));
    const out = await observation.searchByReference(exec, {
      code: 'subject',
      targetIds: targets,
      query: [],
      countPerTarget: 2,
    });
    expect(exec.statements).toHaveLength(1);
    for (const target of targets) {
      expect(idsOf(out.get(target) ?? []), target).toEqual(
        expectedIds('id_paciente = ?', Number(target)).slice(0, 2),
      );
    }
    expect(exec.statements[0]?.sql).toContain(
      'f."_fhirgate_item", ROW_NUMBER() OVER (PARTITION BY f."id_paciente" ORDER BY f."id", f."_fhirgate_item") AS "_fhirgate_rn" FROM (',
    );
    const heights = await observation.searchByReference(exec, {
      code: 'patient',
      targetIds: ['1', '3'],
      query: [{ code: 'code', values: ['http://loinc.org|29463-7'] }],
      countPerTarget: 5,
    });
    expect([...heights].map(([k, v]) => [k, idsOf(v)])).toEqual([
      ['1', ['1-29463-7', '2-29463-7']],
      ['3', ['6-29463-7']],
    ]);
  });
});

describe('one lists table, three resource types', () => {
  const condition = resource('Condition');
  const allergy = resource('AllergyIntolerance');
  const prescription = resource('MedicationRequest');
  const page = { count: 100, offset: 0 };

  it('splits the rows by type, and never serves a row as another type', async () => {
    expect(idsOf(await condition.search(exec, [], page))).toEqual(['1', '2', '5']);
    expect(idsOf(await allergy.search(exec, [], page))).toEqual(['3', '7']);
    expect(idsOf(await prescription.search(exec, [], page))).toEqual(['4', '8']);
    expect(idsOf(await condition.loadByIds(exec, ['3', '4', '6', '9']))).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(exec.statements[0]?.sql).toContain(
      'FROM "listas" AS t WHERE t."tipo" = ? AND t."borrado" = ?',
    );
    expect(exec.statements[0]?.params).toEqual(['problem', 0]);
  });

  it('builds a Condition with prefixed codes and clinical notes only', async () => {
    const [problem, cie9] = await condition.loadByIds(exec, ['1', '5']);
    expect(problem).toEqual({
      resourceType: 'Condition',
      id: '1',
      clinicalStatus: {
        coding: [
          { system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' },
        ],
      },
      verificationStatus: {
        coding: [
          {
            system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
            code: 'confirmed',
          },
        ],
      },
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/condition-category',
              code: 'problem-list-item',
            },
          ],
        },
      ],
      code: {
        coding: [
          { system: 'http://hl7.org/fhir/sid/icd-10', code: 'E11.9' },
          { system: 'http://snomed.info/sct', code: '44054006' },
        ],
        text: 'DIABETES MELLITUS TIPO 2',
      },
      subject: { reference: 'Patient/1' },
      encounter: { reference: 'Encounter/1' },
      recordedDate: '2020-03-04',
      // The administrative note and the deleted one are filtered out by the child's where.
      note: [{ text: 'Control con HbA1c cada 3 meses' }],
    });
    // An unknown prefix gives no coding; the text stays.
    expect(cie9?.['code']).toEqual({ text: 'DIABETES (CIE9)' });
    validateAll([problem ?? null, cie9 ?? null]);
    expect(exec.statements[1]?.sql).toBe(
      'SELECT c."id_lista", c."texto" FROM "listas_notas" AS c WHERE c."tipo" = ? AND c."borrado" = ? AND c."id_lista" IN (?, ?) ORDER BY c."id_lista", c."id"',
    );
  });

  it('builds AllergyIntolerance reactions from a delimited column', async () => {
    const [penicillin, pollen] = await allergy.loadByIds(exec, ['3', '7']);
    expect(penicillin).toMatchObject({
      code: {
        coding: [{ system: 'http://snomed.info/sct', code: '91936005' }],
        text: 'PENICILINA',
      },
      patient: { reference: 'Patient/1' },
      recordedDate: '2015-06-01',
      reaction: [
        { manifestation: [{ text: 'urticaria' }] },
        { manifestation: [{ text: 'disnea' }] },
      ],
    });
    expect(pollen?.['reaction']).toBeUndefined();
    expect(pollen?.['recordedDate']).toBeUndefined();
    validateAll([penicillin ?? null, pollen ?? null]);
  });

  it('builds MedicationRequests with a coded medication and JSON dosage', async () => {
    const [metformin, paracetamol] = await prescription.loadByIds(exec, ['4', '8']);
    expect(metformin).toEqual({
      resourceType: 'MedicationRequest',
      id: '4',
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: {
        coding: [{ system: 'http://www.whocc.no/atc', code: 'A10BA02' }],
        text: 'METFORMINA 850 MG',
      },
      subject: { reference: 'Patient/2' },
      encounter: { reference: 'Encounter/2' },
      authoredOn: '2023-01-03T11:30:00-03:00',
      dosageInstruction: [
        { text: '1 comp cada 12 h', route: { text: 'oral' } },
        { text: 'suspender si vomitos' },
      ],
    });
    // 'not json' in the dosage column costs the dosage only.
    expect(paracetamol).toMatchObject({ id: '8', status: 'stopped' });
    expect(paracetamol?.['dosageInstruction']).toBeUndefined();
    validateAll([metformin ?? null, paracetamol ?? null]);
  });

  it('answers reverse references per type', async () => {
    const out = await condition.searchByReference(exec, {
      code: 'patient',
      targetIds: ['1', '2', '3'],
      query: [{ code: 'clinical-status', values: ['active'] }],
      countPerTarget: 10,
    });
    expect([...out].map(([k, v]) => [k, idsOf(v)])).toEqual([
      ['1', ['1']],
      ['2', ['5']],
      ['3', []],
    ]);
    // The main statement, then the notes of the conditions found.
    expect(exec.statements).toHaveLength(2);
    expect(await prescription.count(exec, [{ code: 'patient', values: ['Patient/2'] }])).toBe(1);
  });
});

describe('patients with arrays in one column', () => {
  it('reads phones from JSON, given names and address lines from delimited text', async () => {
    const [maria, juan] = await resource('Patient').loadByIds(exec, ['1', '2']);
    expect(maria).toMatchObject({
      name: [{ family: 'GONZALEZ PEREZ', given: ['MARIA', 'JOSE'] }],
      address: [{ line: ['Av. Siempre Viva 742', 'Depto 5'], city: 'Santiago' }],
      telecom: [
        { system: 'phone', value: '+56911111111', use: 'mobile' },
        { system: 'phone', value: '221234567', use: 'home' },
        { system: 'phone', use: 'mobile' },
      ],
    });
    // '{not json' gives no phones, and no error.
    expect(juan?.['telecom']).toBeUndefined();
    validateAll([maria ?? null, juan ?? null]);
  });
});
