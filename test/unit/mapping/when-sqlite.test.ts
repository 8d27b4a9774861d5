import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SQLITE_DIALECT } from '../../../src/db/dialect.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';
import type { CompiledResource } from '../../../src/mapping/compiled-resource.js';
import type { MappingProblem } from '../../../src/mapping/mapping-problem.js';
import { assertValidR4 } from './fhir-validation.js';
import { createRecordingExecutor } from './sqlite-fixtures.js';

// `when` rules over real SQLite rows: an OpenMRS-shaped `person` table whose birth date is
// estimated for some rows, a retirement date compared with today, and phone rows whose system
// depends on their type.

const defs = loadDefinitions();

/** `YYYY-MM-DD` of the UTC date today plus `days`, so expectations never depend on a fixed date. */
function utcDate(days: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const db = new Database(':memory:');
db.exec(`
  CREATE TABLE person (
    person_id INTEGER PRIMARY KEY, gender TEXT, birthdate TEXT, birthdate_estimated INTEGER,
    retired_on TEXT, title TEXT, birth_year INTEGER);
  CREATE TABLE phone (id INTEGER PRIMARY KEY, person_id INTEGER, kind TEXT, value TEXT);
  CREATE TABLE vitals (id INTEGER PRIMARY KEY, person_id INTEGER, temp REAL, temp_unit TEXT);
`);
const person = db.prepare('INSERT INTO person VALUES (?, ?, ?, ?, ?, ?, ?)');
person.run(1, 'M', '1987-06-15', 1, null, 'DR', 1987);
person.run(2, 'F', '1990-02-03', 0, utcDate(-1), null, null);
person.run(3, 'X', '1975-12-31 00:00:00', null, utcDate(0), null, 0);
person.run(4, null, '0000-00-00', 1, utcDate(1), null, 19870);
person.run(5, 'W', '1969-07-20', 0, '0000-00-00', null, 1969);
const phone = db.prepare('INSERT INTO phone VALUES (?, ?, ?, ?)');
phone.run(1, 1, 'MAIL', 'ana@example.org');
phone.run(2, 1, 'CEL', '+56911111111');
phone.run(3, 1, null, '221234567');
const vital = db.prepare('INSERT INTO vitals VALUES (?, ?, ?, ?)');
vital.run(1, 1, 37.5, 'C');
vital.run(2, 1, 99.5, 'F');
vital.run(3, 1, 36.6, null);
afterAll(() => db.close());

const patientMapping = {
  table: 'person',
  id: { column: 'person_id', type: 'integer' },
  elements: {
    // First match wins: 'M' also satisfies the notNull rule.
    gender: {
      when: [
        { if: [{ column: 'gender', op: 'eq', value: 'M' }], use: { constant: 'male' } },
        { if: [{ column: 'gender', op: 'in', value: ['F', 'W'] }], use: { constant: 'female' } },
        { if: [{ column: 'gender', op: 'notNull' }], use: { constant: 'unknown' } },
      ],
    },
    birthDate: {
      when: [
        {
          if: [{ column: 'birthdate_estimated', op: 'eq', value: 1 }],
          use: { column: 'birthdate', transform: [{ fn: 'date', precision: 'year' }] },
        },
      ],
      else: 'birthdate',
    },
    // Retired before today: inactive; retired today or later, or never: active.
    active: {
      when: [
        {
          if: [{ column: 'retired_on', op: 'lt', value: { today: 0 } }],
          use: { constant: false },
        },
      ],
      else: { constant: true },
    },
    // A conditional part next to a constant: no title, no prefix, and name[0] keeps only data.
    'name[0].use': { constant: 'official' },
    'name[0].prefix[0]': {
      when: [{ if: [{ column: 'title', op: 'eq', value: 'DR' }], use: { constant: 'Dr.' } }],
    },
    telecom: {
      rows: { table: 'phone', key: 'person_id', orderBy: [{ column: 'id' }] },
      elements: {
        system: {
          when: [{ if: [{ column: 'kind', op: 'eq', value: 'MAIL' }], use: { constant: 'email' } }],
          else: { constant: 'phone' },
        },
        use: {
          when: [{ if: [{ column: 'kind', op: 'eq', value: 'CEL' }], use: { constant: 'mobile' } }],
        },
        value: 'value',
      },
    },
  },
};

const vitalsMapping = {
  table: 'vitals',
  id: { column: 'id', type: 'integer' },
  elements: {
    status: { constant: 'final' },
    subject: { reference: { type: 'Patient', column: 'person_id' } },
  },
  fanOut: [
    {
      key: 'temp',
      skipColumn: 'temp',
      elements: {
        'code.coding[0].system': { constant: 'http://loinc.org' },
        'code.coding[0].code': { constant: '8310-5' },
        'valueQuantity.value': 'temp',
        'valueQuantity.code': {
          when: [
            { if: [{ column: 'temp_unit', op: 'eq', value: 'F' }], use: { constant: '[degF]' } },
          ],
          else: { constant: 'Cel' },
        },
      },
    },
  ],
};

function compileOne(type: string, mapping: unknown): CompiledResource {
  const result = compileMapping(
    { formatVersion: 2, resources: { [type]: mapping } },
    { defs, dialect: SQLITE_DIALECT },
  );
  if (!result.ok) {
    throw new Error(JSON.stringify(result.problems));
  }
  return result.mapping.resource(type) as CompiledResource;
}

async function read(resource: CompiledResource, ids: string[]): Promise<(FhirJson | null)[]> {
  const found = await resource.loadByIds(createRecordingExecutor(db), ids);
  for (const r of found) {
    if (r !== null) {
      assertValidR4(r);
    }
  }
  return found;
}

describe('when: values chosen per row', () => {
  const patient = compileOne('Patient', patientMapping);

  it('takes the first rule that holds, and nothing when none does', async () => {
    const found = await read(patient, ['1', '2', '3', '4', '5']);
    expect(found.map((p) => p?.['gender'])).toEqual([
      'male',
      'female',
      'unknown',
      undefined,
      'female',
    ]);
  });

  it('writes an estimated birth date with year precision', async () => {
    const found = await read(patient, ['1', '2', '3', '4']);
    expect(found.map((p) => p?.['birthDate'])).toEqual([
      '1987',
      '1990-02-03',
      '1975-12-31',
      undefined,
    ]);
  });

  it('compares dates with today: NULL and zero dates match no rule', async () => {
    const found = await read(patient, ['1', '2', '3', '4', '5']);
    // 1: never retired (NULL); 2: yesterday; 3: today; 4: tomorrow; 5: zero date.
    expect(found.map((p) => p?.['active'])).toEqual([true, false, true, true, true]);
  });

  it('leaves a conditional part absent without keeping the constants around it', async () => {
    const [dr, plain] = await read(patient, ['1', '2']);
    expect(dr?.['name']).toEqual([{ use: 'official', prefix: ['Dr.'] }]);
    expect(plain?.['name']).toBeUndefined();
  });

  it('evaluates rules on child rows', async () => {
    const [one] = await read(patient, ['1']);
    expect(one?.['telecom']).toEqual([
      { system: 'email', value: 'ana@example.org' },
      { system: 'phone', use: 'mobile', value: '+56911111111' },
      { system: 'phone', value: '221234567' },
    ]);
  });

  it('evaluates rules on fan-out items', async () => {
    const observation = compileOne('Observation', vitalsMapping);
    const found = await read(observation, ['1-temp', '2-temp', '3-temp']);
    expect(
      found.map((o) => (o?.['valueQuantity'] as Record<string, unknown> | undefined)?.['code']),
    ).toEqual(['Cel', '[degF]', 'Cel']);
    expect(
      observation.columnUses.filter((u) => u.path.startsWith('if:')).map((u) => u.path),
    ).toEqual(['if:valueQuantity.code']);
  });

  it('lists branch columns at the element and condition columns at if:<element>', () => {
    const uses = patient.columnUses.map((u) => `${u.table}.${u.column} ${u.path}`);
    expect(uses).toEqual(
      expect.arrayContaining([
        'person.gender if:gender',
        'person.birthdate birthDate',
        'person.birthdate_estimated if:birthDate',
        'person.retired_on if:active',
        'person.title if:name[0].prefix[0]',
        'phone.kind if:telecom.system',
        'phone.kind if:telecom.use',
      ]),
    );
    // The date branch and the plain branch both read birthdate; each use is listed.
    expect(uses.filter((u) => u === 'person.birthdate birthDate')).toHaveLength(2);
  });
});

describe('date precision', () => {
  it('keeps a cut date through later transforms and in date and dateTime elements', async () => {
    const patient = compileOne('Patient', {
      table: 'person',
      id: { column: 'person_id', type: 'integer' },
      elements: {
        birthDate: {
          column: 'birthdate',
          transform: [{ fn: 'date', precision: 'month' }, 'trim'],
        },
        deceasedDateTime: {
          column: 'birthdate',
          transform: [{ fn: 'dateTime', precision: 'year' }],
        },
      },
    });
    const [one, three, four] = await read(patient, ['1', '3', '4']);
    expect([one?.['birthDate'], one?.['deceasedDateTime']]).toEqual(['1987-06', '1987']);
    expect([three?.['birthDate'], three?.['deceasedDateTime']]).toEqual(['1975-12', '1975']);
    expect(four).toEqual({ resourceType: 'Patient', id: '4' });
  });

  it('reads a year column into a date element, and nothing that is not a year', async () => {
    const patient = compileOne('Patient', {
      table: 'person',
      id: { column: 'person_id', type: 'integer' },
      elements: { birthDate: 'birth_year' },
    });
    const found = await read(patient, ['1', '2', '3', '4', '5']);
    expect(found.map((p) => p?.['birthDate'])).toEqual([
      '1987',
      undefined,
      undefined,
      undefined,
      '1969',
    ]);
  });
});

describe('when: compile problems', () => {
  function problemsOf(elements: Record<string, unknown>): MappingProblem[] {
    const result = compileMapping(
      {
        formatVersion: 2,
        resources: { Patient: { table: 'person', id: 'person_id', elements } },
      },
      { defs, dialect: SQLITE_DIALECT },
    );
    return result.ok ? [] : result.problems;
  }
  const estimated = [{ column: 'birthdate_estimated', op: 'eq', value: 1 }];

  it('type-checks every branch against the element and names the branch and column', () => {
    expect(
      problemsOf({
        birthDate: {
          when: [{ if: estimated, use: { column: 'flag', transform: ['boolean'] } }],
          else: { constant: 'soon' },
        },
      }),
    ).toEqual([
      {
        resource: 'Patient',
        path: 'birthDate.when[0].use',
        column: 'flag',
        message: 'transform boolean produces boolean, which does not fit a date element',
      },
      {
        resource: 'Patient',
        path: 'birthDate.else',
        message: 'the constant does not fit a date element',
      },
    ]);
  });

  it('refuses a reference branch on an element that is not a Reference', () => {
    const problems = problemsOf({
      gender: {
        when: [{ if: estimated, use: { reference: { type: 'Patient', column: 'other_id' } } }],
      },
    });
    expect(problems.map((p) => [p.path, p.column])).toEqual([['gender.when[0].use', 'other_id']]);
  });

  it('reports an unknown element once, not once per branch', () => {
    const problems = problemsOf({
      birthDay: {
        when: [
          { if: estimated, use: 'a' },
          { if: estimated, use: 'b' },
        ],
        else: 'c',
      },
    });
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'birthDay: Patient has no element "birthDay"',
    ]);
  });

  it('names the rule of a malformed when in schema problems', () => {
    const messages = (gender: unknown) =>
      problemsOf({ gender }).map((p) => `${p.path} ${p.column ?? '-'}: ${p.message}`);
    expect(messages({ when: [{ if: estimated, use: 'b' }], column: 'x' })).toEqual([
      'gender x: an element has exactly one of column, constant, template, reference, when, rows, delimited or json',
    ]);
    expect(messages({ when: [{ if: [{ column: 'a', op: 'like', value: 1 }], use: 'b' }] })).toEqual(
      [
        'gender a: when[0].if[0].op: unknown filter op; use one of eq, ne, lt, le, gt, ge, in, notIn, isNull, notNull',
      ],
    );
  });

  it('refuses a when and another mapping of the same element', () => {
    const problems = problemsOf({
      gender: { when: [{ if: estimated, use: { constant: 'male' } }] },
      'name[0].family': 'f',
      'name[0]': {
        when: [{ if: estimated, use: { column: 'n', transform: ['splitName'] } }],
      },
    });
    expect(problems.map((p) => p.path)).toEqual(['name[0].family']);
  });
});
