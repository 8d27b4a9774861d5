import Database from 'better-sqlite3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE_DIALECT } from '../../../src/db/dialect.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import { type CompiledMapping, compileMapping } from '../../../src/mapping/compile-mapping.js';
import type { CompiledResource } from '../../../src/mapping/compiled-resource.js';
import { todayPlus } from '../../../src/mapping/filters.js';
import { assertValidR4 } from './fhir-validation.js';
import { createRecordingExecutor, type RecordingExecutor } from './sqlite-fixtures.js';

/**
 * Format 2 on the SQL side, against real SQLite rows shaped like a normalized EHR: demographics
 * in `person`, the patient flag and `voided` in `patient`, names in a child table, observations
 * reaching their concept, codes through three hops, and voided parents.
 */

const defs = loadDefinitions();
const db = new Database(':memory:');
const today = todayPlus(0);
const yesterday = todayPlus(-1);
const tomorrow = todayPlus(1);
db.exec(`
  CREATE TABLE person (person_id INTEGER PRIMARY KEY, gender TEXT, birthdate TEXT, voided INTEGER);
  CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, voided INTEGER);
  CREATE TABLE person_name (person_name_id INTEGER PRIMARY KEY, person_id INTEGER,
    given_name TEXT, family_name TEXT, preferred INTEGER, voided INTEGER);
  CREATE TABLE encounter (encounter_id INTEGER PRIMARY KEY, patient_id INTEGER, voided INTEGER);
  CREATE TABLE concept (concept_id INTEGER PRIMARY KEY, datatype_id INTEGER);
  CREATE TABLE concept_datatype (concept_datatype_id INTEGER PRIMARY KEY, name TEXT);
  CREATE TABLE concept_name (concept_name_id INTEGER PRIMARY KEY, concept_id INTEGER, name TEXT,
    locale TEXT, concept_name_type TEXT);
  CREATE TABLE concept_reference_source (concept_source_id INTEGER PRIMARY KEY, name TEXT);
  CREATE TABLE concept_reference_term (concept_reference_term_id INTEGER PRIMARY KEY,
    concept_source_id INTEGER, code TEXT);
  CREATE TABLE concept_map_type (concept_map_type_id INTEGER PRIMARY KEY, name TEXT);
  CREATE TABLE concept_reference_map (concept_map_id INTEGER PRIMARY KEY, concept_id INTEGER,
    concept_reference_term_id INTEGER, concept_map_type_id INTEGER);
  CREATE TABLE obs (obs_id INTEGER PRIMARY KEY, person_id INTEGER, encounter_id INTEGER,
    concept_id INTEGER, value_coded INTEGER, value_numeric REAL, obs_datetime TEXT,
    date_stopped TEXT, voided INTEGER);

  INSERT INTO person VALUES (1, 'F', '1980-04-02', 0), (2, 'M', '1975-01-01', 0),
    (3, 'M', '1990-09-09', 0), (4, 'F', '2001-02-03', 0);
  -- 3 is voided as a patient; 4 is a person who is not a patient.
  INSERT INTO patient VALUES (1, 0), (2, 0), (3, 1);
  INSERT INTO person_name VALUES
    (10, 1, 'Ana', 'Old', 0, 0), (11, 1, 'Ana', 'Pérez', 1, 0), (12, 1, 'X', 'Voided', 1, 1),
    (20, 2, 'Juan', 'O''Brien', 1, 0), (30, 3, 'Luis', 'Gone', 1, 0), (40, 4, 'Eva', 'Nope', 1, 0);
  INSERT INTO encounter VALUES (100, 1, 0), (101, 1, 1), (200, 2, 0);
  INSERT INTO concept_datatype VALUES (1, 'Numeric'), (2, 'Coded');
  INSERT INTO concept VALUES (5089, 1), (1065, 2), (1066, 2);
  INSERT INTO concept_name VALUES
    (1, 5089, 'Weight (kg)', 'en', 'FULLY_SPECIFIED'), (2, 5089, 'Poids', 'fr', 'FULLY_SPECIFIED'),
    (3, 1065, 'Yes', 'en', 'FULLY_SPECIFIED'), (4, 1066, 'No', 'en', 'FULLY_SPECIFIED');
  INSERT INTO concept_reference_source VALUES (1, 'LOINC'), (2, 'CIEL');
  INSERT INTO concept_reference_term VALUES (1, 1, '29463-7'), (2, 2, '5089');
  INSERT INTO concept_map_type VALUES (1, 'SAME-AS'), (2, 'NARROWER-THAN');
  -- The CIEL term comes first in storage; SAME-AS must still sort first.
  INSERT INTO concept_reference_map VALUES (1, 5089, 2, 2), (2, 5089, 1, 1);
  INSERT INTO obs VALUES
    (1000, 1, 100, 5089, NULL, 61.5, '2024-01-01', NULL, 0),
    (1001, 1, 101, 5089, NULL, 62.0, '2024-02-01', NULL, 0),
    (1002, 1, NULL, 5089, NULL, 63.0, '2024-03-01', '${yesterday}', 0),
    (1003, 2, 200, 5089, NULL, 80.0, '2024-01-05', '${tomorrow}', 0),
    (1004, 3, NULL, 5089, NULL, 90.0, '2024-01-06', NULL, 0),
    (1005, 2, 200, 1065, 1065, NULL, '2024-01-07', NULL, 1),
    (1006, 2, 200, 1065, 1066, NULL, '2024-01-08', NULL, 0);
`);

const mapping = {
  formatVersion: 2,
  resources: {
    Patient: {
      table: 'patient',
      id: { column: 'patient_id', type: 'integer' },
      joins: [{ as: 'person', table: 'person', on: { person_id: 'patient_id' } }],
      where: [
        { column: 'voided', op: 'eq', value: 0 },
        { column: 'person.voided', op: 'eq', value: 0 },
      ],
      elements: {
        gender: {
          column: 'person.gender',
          transform: [{ fn: 'valueMap', map: { F: 'female', M: 'male' } }],
        },
        birthDate: 'person.birthdate',
        name: {
          rows: {
            table: 'person_name',
            key: 'person_id',
            where: [{ column: 'voided', op: 'eq', value: 0 }],
            orderBy: [{ column: 'preferred', first: [1] }, { column: 'person_name_id' }],
          },
          elements: { family: 'family_name', 'given[0]': 'given_name' },
        },
      },
      search: {
        gender: {
          column: 'person.gender',
          map: { female: ['F'], male: ['M'] },
        },
        birthdate: { column: 'person.birthdate' },
        family: { rows: 'name', column: 'family_name' },
      },
    },
    Observation: {
      table: 'obs',
      id: { column: 'obs_id', type: 'integer' },
      joins: [
        { as: 'concept', table: 'concept', on: { concept_id: 'concept_id' } },
        { as: 'dt', table: 'concept_datatype', on: { concept_datatype_id: 'concept.datatype_id' } },
        {
          as: 'qname',
          table: 'concept_name',
          kind: 'left',
          on: { concept_id: 'concept_id' },
          where: [
            { column: 'locale', op: 'eq', value: 'en' },
            { column: 'concept_name_type', op: 'eq', value: 'FULLY_SPECIFIED' },
          ],
        },
        {
          as: 'aname',
          table: 'concept_name',
          kind: 'left',
          on: { concept_id: 'value_coded' },
          where: [{ column: 'locale', op: 'eq', value: 'en' }],
        },
      ],
      where: [
        { column: 'voided', op: 'eq', value: 0 },
        {
          exists: {
            table: 'patient',
            on: { patient_id: 'person_id' },
            where: [{ column: 'voided', op: 'eq', value: 0 }],
          },
        },
        {
          notExists: {
            table: 'encounter',
            on: { encounter_id: 'encounter_id' },
            where: [{ column: 'voided', op: 'eq', value: 1 }],
          },
        },
        {
          anyOf: [
            [{ column: 'date_stopped', op: 'isNull' }],
            [{ column: 'date_stopped', op: 'ge', value: { today: 0 } }],
          ],
        },
      ],
      elements: {
        status: { constant: 'final' },
        'code.text': 'qname.name',
        'code.coding': {
          rows: {
            table: 'concept_reference_map',
            key: 'concept_id',
            parentKey: 'concept_id',
            joins: [
              {
                as: 'term',
                table: 'concept_reference_term',
                on: { concept_reference_term_id: 'concept_reference_term_id' },
              },
              {
                as: 'src',
                table: 'concept_reference_source',
                on: { concept_source_id: 'term.concept_source_id' },
              },
              {
                as: 'mt',
                table: 'concept_map_type',
                on: { concept_map_type_id: 'concept_map_type_id' },
              },
            ],
            orderBy: [{ column: 'mt.name', first: ['SAME-AS'] }],
          },
          elements: {
            system: {
              column: 'src.name',
              transform: [
                {
                  fn: 'valueMap',
                  map: { LOINC: 'http://loinc.org', CIEL: 'https://openconceptlab.org/orgs/CIEL' },
                },
              ],
            },
            code: 'term.code',
          },
        },
        subject: { reference: { type: 'Patient', column: 'person_id' } },
        effectiveDateTime: 'obs_datetime',
        'valueQuantity.value': 'value_numeric',
      },
      search: {
        code: { rows: 'code.coding', column: 'term.code' },
        subject: { column: 'person_id' },
        date: { column: 'obs_datetime' },
        'value-concept': { column: 'aname.name' },
      },
    },
  },
};

function compile(document: unknown): CompiledMapping {
  const result = compileMapping(document, { defs, dialect: SQLITE_DIALECT });
  if (!result.ok) {
    throw new Error(JSON.stringify(result.problems, null, 2));
  }
  return result.mapping;
}

function problemsOf(document: unknown) {
  const result = compileMapping(document, { defs, dialect: SQLITE_DIALECT });
  return result.ok ? [] : result.problems;
}

const compiled = compile(mapping);
const patient = compiled.resource('Patient') as CompiledResource;
const observation = compiled.resource('Observation') as CompiledResource;
let exec: RecordingExecutor;

beforeEach(() => {
  exec = createRecordingExecutor(db);
});

afterAll(() => {
  db.close();
});

const idsOf = (resources: readonly (FhirJson | null)[]) =>
  resources.map((r) => (r === null ? null : r['id']));

describe('joins', () => {
  it('reads joined columns into elements, filters on the join and the source', async () => {
    const found = await patient.loadByIds(exec, ['1', '2', '3', '4']);
    expect(idsOf(found)).toEqual(['1', '2', null, null]);
    for (const r of found) {
      if (r !== null) {
        assertValidR4(r);
      }
    }
    expect(found[0]).toEqual({
      resourceType: 'Patient',
      id: '1',
      gender: 'female',
      birthDate: '1980-04-02',
      // Preferred first, then by id; the voided name is left out.
      name: [
        { family: 'Pérez', given: ['Ana'] },
        { family: 'Old', given: ['Ana'] },
      ],
    });
    expect(found[1]?.['name']).toEqual([{ family: "O'Brien", given: ['Juan'] }]);
    // One statement for the rows and their join, one for the child rows.
    expect(exec.statements).toHaveLength(2);
    expect(exec.statements[0]?.sql).toBe(
      'SELECT t."patient_id", j_person."gender" AS "person.gender", j_person."birthdate" AS "person.birthdate" FROM "patient" AS t JOIN "person" AS j_person ON j_person."person_id" = t."patient_id" WHERE t."voided" = ? AND j_person."voided" = ? AND t."patient_id" IN (?, ?, ?, ?)',
    );
  });

  it('searches and sorts on joined columns', async () => {
    const female = await patient.search(exec, [{ code: 'gender', values: ['female'] }], {
      count: 10,
      offset: 0,
    });
    expect(idsOf(female)).toEqual(['1']);
    const byBirth = await patient.search(exec, [], {
      count: 10,
      offset: 0,
      sort: [{ code: 'birthdate', descending: false }],
    });
    expect(idsOf(byBirth)).toEqual(['2', '1']);
    const family = await patient.search(exec, [{ code: 'family', values: ['pér'] }], {
      count: 10,
      offset: 0,
    });
    expect(idsOf(family)).toEqual(['1']);
    expect(await patient.count(exec, [{ code: 'gender', values: ['male'] }])).toBe(1);
  });

  it('joins the same table twice under two names, and a left join keeps rows without a match', async () => {
    const [weight] = await observation.loadByIds(exec, ['1000']);
    expect(weight?.['code']).toEqual({
      coding: [
        { system: 'http://loinc.org', code: '29463-7' },
        { system: 'https://openconceptlab.org/orgs/CIEL', code: '5089' },
      ],
      text: 'Weight (kg)',
    });
    assertValidR4(weight as FhirJson);
    const page = { count: 10, offset: 0 };
    // Obs 1005 answers Yes but is voided; 1006 answers No. Its concept has no mapped term, so
    // the left joins keep it, with no coding.
    expect(
      idsOf(await observation.search(exec, [{ code: 'value-concept', values: ['Yes'] }], page)),
    ).toEqual([]);
    const no = await observation.search(exec, [{ code: 'value-concept', values: ['No'] }], page);
    expect(idsOf(no)).toEqual(['1006']);
    expect(no[0]?.['code']).toEqual({ text: 'Yes' });
  });
});

describe('related-row filters', () => {
  it('leaves out obs of voided patients and voided encounters, and stopped obs (today)', async () => {
    const all = await observation.search(exec, [], { count: 50, offset: 0 });
    // 1001: voided encounter; 1002: stopped yesterday; 1004: voided patient; 1005: voided.
    expect(idsOf(all)).toEqual(['1000', '1003', '1006']);
    const read = await observation.loadByIds(exec, ['1001', '1002', '1003', '1004']);
    expect(idsOf(read)).toEqual([null, null, '1003', null]);
    const today0 = exec.statements.find((s) => s.params.includes(today));
    expect(today0, 'today is bound, not written into the text').toBeDefined();
    expect(today0?.sql).not.toContain(today);
  });

  it('searches a token through the child rows and their joins, one statement per level', async () => {
    const found = await observation.search(
      exec,
      [{ code: 'code', values: ['http://loinc.org|29463-7', '29463-7'] }],
      { count: 10, offset: 0 },
    );
    expect(idsOf(found)).toEqual(['1000', '1003']);
    expect(exec.statements).toHaveLength(2);
    expect(exec.statements[0]?.sql).toContain(
      'EXISTS (SELECT 1 FROM "concept_reference_map" AS c JOIN "concept_reference_term" AS k_term ON k_term."concept_reference_term_id" = c."concept_reference_term_id"',
    );
  });

  it('answers reverse references in one statement plus the child level', async () => {
    const byPatient = await observation.searchByReference(exec, {
      code: 'subject',
      targetIds: ['1', '2', '3'],
      query: [],
      countPerTarget: 10,
    });
    expect([...byPatient].map(([k, v]) => [k, idsOf(v)])).toEqual([
      ['1', ['1000']],
      ['2', ['1003', '1006']],
      ['3', []],
    ]);
    expect(exec.statements).toHaveLength(2);
  });
});

describe('compile problems', () => {
  const withObservation = (patch: (o: Record<string, unknown>) => void) => {
    const copy = structuredClone(mapping) as {
      resources: { Observation: Record<string, unknown> };
    };
    patch(copy.resources.Observation);
    return copy;
  };

  it('names an unknown join, a join used before it is declared, and a duplicate join name', () => {
    const problems = problemsOf(
      withObservation((o) => {
        (o['elements'] as Record<string, unknown>)['code.text'] = 'nosuch.name';
        const joins = o['joins'] as Record<string, unknown>[];
        joins.unshift({
          as: 'early',
          table: 'concept_datatype',
          on: { concept_datatype_id: 'concept.datatype_id' },
        });
        joins.push({ as: 'dt', table: 'concept', on: { concept_id: 'concept_id' } });
      }),
    );
    expect(problems.map((p) => [p.path, p.column, p.message])).toEqual([
      [
        'joins[0].on',
        'concept.datatype_id',
        'concept.datatype_id names no join "concept" of this source (joins are declared in joins, and an earlier join can use them)',
      ],
      ['joins[5]', undefined, 'the join name dt is used twice'],
      [
        'code.text',
        'nosuch.name',
        'nosuch.name names no join "nosuch" of this source (joins are declared in joins, and elements can use them)',
      ],
    ]);
  });

  it('lists the join, exists and child-key columns with the column each is compared with', () => {
    const uses = observation.columnUses.filter((u) => u.pairedWith !== undefined);
    const lines = uses.map(
      (u) => `${u.path} ${u.table}.${u.column} = ${u.pairedWith?.table}.${u.pairedWith?.column}`,
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'join:concept concept.concept_id = obs.concept_id',
        'join:dt concept_datatype.concept_datatype_id = concept.datatype_id',
        'exists patient.patient_id = obs.person_id',
        'key concept_reference_map.concept_id = obs.concept_id',
        'join:src concept_reference_source.concept_source_id = concept_reference_term.concept_source_id',
      ]),
    );
  });
});
