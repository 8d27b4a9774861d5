import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type Dialect,
  MYSQL_DIALECT,
  type QueryExecutor,
  type Row,
  SQLITE_DIALECT,
  type SqlStatement,
} from '../../../src/db/dialect.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import { type CompiledMapping, compileMapping } from '../../../src/mapping/compile-mapping.js';
import type { CompiledResource } from '../../../src/mapping/compiled-resource.js';
import { todayPlus } from '../../../src/mapping/filters.js';
import { SHAPES_FAN_OUT_MAPPING, SHAPES_MAPPING } from '../../fixtures/statement-shapes.js';

/**
 * Item 6 of issue 10: every statement shape of every dialect has a snapshot. Each shape is run by
 * the engine against real SQLite tables; the MySQL text runs there too (SQLite accepts backtick
 * quoting), so every snapshotted statement is also executed and its results are checked. The
 * snapshots are `__snapshots__/statement-shapes/<dialect>/<shape>.sql`.
 */

const defs = loadDefinitions();
/** Statements that hold a `today` value render with this clock. */
const FIXED_NOW = new Date('2026-03-15T12:00:00Z');

function seed(db: Database.Database): void {
  db.exec(`
    CREATE TABLE person (person_id INTEGER PRIMARY KEY, gender TEXT, birthdate TEXT, voided INTEGER NOT NULL);
    CREATE TABLE patient (patient_id INTEGER PRIMARY KEY, voided INTEGER NOT NULL);
    CREATE TABLE person_name (person_name_id INTEGER PRIMARY KEY, person_id INTEGER, given_name TEXT,
      family_name TEXT, preferred INTEGER, voided INTEGER NOT NULL);
    CREATE TABLE patient_identifier_type (patient_identifier_type_id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE patient_identifier (patient_identifier_id INTEGER PRIMARY KEY, patient_id INTEGER,
      identifier TEXT, identifier_type INTEGER, voided INTEGER NOT NULL);
    CREATE TABLE encounter (encounter_id INTEGER PRIMARY KEY, patient_id INTEGER, encounter_datetime TEXT,
      voided INTEGER NOT NULL);
    CREATE TABLE concept_datatype (concept_datatype_id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE concept (concept_id INTEGER PRIMARY KEY, datatype_id INTEGER, class_id INTEGER);
    CREATE TABLE concept_name (concept_name_id INTEGER PRIMARY KEY, concept_id INTEGER, name TEXT,
      locale TEXT, concept_name_type TEXT, voided INTEGER NOT NULL);
    CREATE TABLE concept_reference_source (concept_source_id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE concept_reference_term (concept_reference_term_id INTEGER PRIMARY KEY,
      concept_source_id INTEGER, code TEXT);
    CREATE TABLE concept_map_type (concept_map_type_id INTEGER PRIMARY KEY, name TEXT);
    CREATE TABLE concept_reference_map (concept_map_id INTEGER PRIMARY KEY, concept_id INTEGER,
      concept_reference_term_id INTEGER, concept_map_type_id INTEGER);
    CREATE TABLE obs (obs_id INTEGER PRIMARY KEY, person_id INTEGER, encounter_id INTEGER,
      concept_id INTEGER, obs_datetime TEXT, value_numeric REAL, value_text TEXT, voided INTEGER NOT NULL);
    CREATE TABLE vitals (vitals_id INTEGER PRIMARY KEY, encounter_id INTEGER, patient_id INTEGER,
      height_cm REAL, weight_kg REAL, voided INTEGER NOT NULL);

    INSERT INTO person VALUES (1, 'F', '1980-05-17', 0), (2, 'M', '1975-01-02', 0),
      (3, 'F', '1990-01-01', 1), (4, 'F', '1991-02-03', 0);
    INSERT INTO patient VALUES (1, 0), (2, 0), (3, 0), (4, 1);
    INSERT INTO person_name VALUES (1, 1, 'MARIA', 'SMYTHE', 0, 0), (2, 1, 'MARIA', 'SMITH', 1, 0),
      (3, 2, 'JOHN', 'DOE', 1, 0), (4, 2, 'JOHN', 'SMITH', 0, 1), (5, 3, 'EVE', 'SMITH', 1, 0);
    INSERT INTO patient_identifier_type VALUES (1, 'OpenMRS ID'), (2, 'National ID');
    INSERT INTO patient_identifier VALUES (1, 1, '100-1', 1, 0), (2, 1, '12345678-9', 2, 0),
      (3, 2, '200-2', 1, 0), (4, 2, '999-9', 1, 1);
    INSERT INTO encounter VALUES (1, 1, '2024-01-10 09:00:00', 0), (2, 2, '2024-02-01 10:00:00', 0),
      (3, 1, '2024-03-01 11:00:00', 1);
    INSERT INTO concept_datatype VALUES (1, 'Numeric'), (2, 'Text'), (3, 'N/A');
    INSERT INTO concept VALUES (5089, 1, 1), (5090, 1, 1), (160632, 2, 2);
    INSERT INTO concept_name VALUES (1, 5089, 'Weight (kg)', 'en', 'FULLY_SPECIFIED', 0),
      (2, 5089, 'WT', 'en', 'SHORT', 0), (3, 5089, 'Peso (kg)', 'es', 'FULLY_SPECIFIED', 0),
      (4, 5090, 'Height (cm)', 'en', 'FULLY_SPECIFIED', 0), (5, 160632, 'Remarks', 'en', 'FULLY_SPECIFIED', 0);
    INSERT INTO concept_reference_source VALUES (1, 'LOINC'), (2, 'CIEL');
    INSERT INTO concept_reference_term VALUES (1, 1, '29463-7'), (2, 2, '5089'), (3, 1, '8302-2'),
      (4, 2, '5090'), (5, 2, '160632');
    INSERT INTO concept_map_type VALUES (1, 'SAME-AS'), (2, 'NARROWER-THAN');
    -- 5089: the LOINC map comes first by id, but the SAME-AS one is preferred.
    INSERT INTO concept_reference_map VALUES (1, 5089, 1, 2), (2, 5089, 2, 1), (3, 5090, 3, 1),
      (4, 5090, 4, 1), (5, 160632, 5, 1);
    INSERT INTO obs VALUES
      (1, 1, 1, 5089, '2024-01-10 09:05:00', 70.5, NULL, 0),
      (2, 1, 1, 5090, '2024-01-10 09:06:00', 165, NULL, 0),
      (3, 2, 2, 5089, '2024-02-01 10:05:00', 80, NULL, 0),
      (4, 1, 3, 5089, '2024-03-01 11:05:00', 71, NULL, 0),       -- its encounter is voided
      (5, 1, NULL, 160632, '2024-04-01 08:00:00', NULL, 'feels well', 0),
      (6, 1, 1, 5089, '2099-01-01 00:00:00', 72, NULL, 0),        -- in the future
      (7, 4, NULL, 5089, '2024-01-01 00:00:00', 60, NULL, 0),     -- its patient is voided
      (8, 2, 2, 5089, '2024-02-01 10:06:00', NULL, NULL, 0),      -- no value
      (9, 1, 1, 5089, '2024-01-10 09:07:00', 70, NULL, 1);        -- voided
    INSERT INTO vitals VALUES (1, 1, 1, 165, 70, 0), (2, 2, 2, NULL, 80, 0), (3, NULL, 1, 0, NULL, 0),
      (4, 1, 1, 170, 71, 1);
  `);
}

/** Runs each statement on the SQLite database, whatever the dialect it was rendered for. */
function recordingExecutor(db: Database.Database, dialect: Dialect) {
  const statements: SqlStatement[] = [];
  const exec: QueryExecutor = {
    dialect,
    async query(statement) {
      statements.push(statement);
      return db.prepare(statement.sql).all(...statement.params) as Row[];
    },
  };
  return { exec, statements };
}

function compile(document: unknown, dialect: Dialect): CompiledMapping {
  const result = compileMapping(document, { defs, dialect });
  if (!result.ok) {
    throw new Error(`the shapes mapping does not compile: ${JSON.stringify(result.problems)}`);
  }
  return result.mapping;
}

function resource(mapping: CompiledMapping, type: string): CompiledResource {
  const compiled = mapping.resource(type);
  if (compiled === undefined) {
    throw new Error(`${type} is not mapped`);
  }
  return compiled;
}

interface Mappings {
  readonly main: CompiledMapping;
  readonly fanOut: CompiledMapping;
}

const ids = (resources: readonly (FhirJson | null)[]) => resources.map((r) => r?.['id'] ?? null);

/**
 * One shape: what it runs, the ids it must find and how many statements it may take (one per
 * resource type and nesting level).
 */
interface Shape {
  readonly name: string;
  readonly statements: number;
  readonly run: (m: Mappings, exec: QueryExecutor) => Promise<unknown>;
  readonly expected: unknown;
}

const SHAPES: readonly Shape[] = [
  {
    name: 'patient-read-by-ids',
    // main (person join), names, identifiers (with their type join)
    statements: 3,
    run: async (m, exec) => {
      const found = await resource(m.main, 'Patient').loadByIds(exec, ['2', '1', '999', '4']);
      return found.map((r) => r && { id: r['id'], name: r['name'], identifier: r['identifier'] });
    },
    expected: [
      {
        id: '2',
        name: [{ family: 'DOE', given: ['JOHN'] }],
        identifier: [{ value: '200-2', type: { text: 'OpenMRS ID' } }],
      },
      {
        id: '1',
        name: [
          { family: 'SMITH', given: ['MARIA'] },
          { family: 'SMYTHE', given: ['MARIA'] },
        ],
        identifier: [
          { value: '100-1', type: { text: 'OpenMRS ID' } },
          { value: '12345678-9', type: { text: 'National ID' } },
        ],
      },
      null,
      null,
    ],
  },
  {
    name: 'patient-search-string-child-exists',
    // only `name` is selected: the identifier table is not read
    statements: 2,
    run: async (m, exec) =>
      ids(
        await resource(m.main, 'Patient').search(
          exec,
          [{ code: 'family', values: ['smi'] }],
          { count: 10, offset: 0 },
          new Set(['name']),
        ),
      ),
    // 2's SMITH is voided, 3's person is voided.
    expected: ['1'],
  },
  {
    name: 'patient-search-token-date-sort',
    statements: 3,
    run: async (m, exec) =>
      ids(
        await resource(m.main, 'Patient').search(
          exec,
          [
            { code: 'gender', values: ['female', 'male'] },
            { code: 'birthdate', values: ['ge1970'] },
          ],
          { count: 10, offset: 0, sort: [{ code: 'birthdate', descending: true }] },
        ),
      ),
    expected: ['1', '2'],
  },
  {
    name: 'patient-search-modifiers',
    statements: 3,
    run: async (m, exec) =>
      ids(
        await resource(m.main, 'Patient').search(
          exec,
          [
            { code: '_id', values: ['1', '2', '3', '01'] },
            { code: 'family', modifier: 'exact', values: ['DOE', 'SMITH'] },
            { code: 'birthdate', modifier: 'missing', values: ['false'] },
            { code: 'identifier', modifier: 'missing', values: ['false'] },
          ],
          { count: 10, offset: 0 },
        ),
      ),
    expected: ['1', '2'],
  },
  {
    name: 'patient-count-token-child-exists',
    statements: 1,
    run: async (m, exec) =>
      resource(m.main, 'Patient').count(exec, [{ code: 'identifier', values: ['100-1', '999-9'] }]),
    expected: 1,
  },
  {
    name: 'observation-read-by-ids',
    // main (five joins, exists, notExists, anyOf, today), codings (three joins, SAME-AS first)
    statements: 2,
    run: async (m, exec) => {
      const found = await resource(m.main, 'Observation').loadByIds(exec, [
        '1',
        '4',
        '5',
        '6',
        '7',
        '8',
        '9',
      ]);
      return found.map((r) => r && { id: r['id'], code: r['code'], category: r['category'] });
    },
    expected: [
      {
        id: '1',
        code: {
          text: 'Weight (kg)',
          coding: [
            { system: 'https://openconceptlab.org/orgs/CIEL', code: '5089' },
            { system: 'http://loinc.org', code: '29463-7' },
          ],
        },
        category: [{ text: 'WT' }],
      },
      null,
      {
        id: '5',
        code: {
          text: 'Remarks',
          coding: [{ system: 'https://openconceptlab.org/orgs/CIEL', code: '160632' }],
        },
        category: undefined,
      },
      null,
      null,
      null,
      null,
    ],
  },
  {
    name: 'observation-search-token-reference-date',
    statements: 2,
    run: async (m, exec) =>
      ids(
        await resource(m.main, 'Observation').search(
          exec,
          [
            { code: 'code', values: ['http://loinc.org|29463-7'] },
            { code: 'patient', values: ['Patient/1', '2'] },
            { code: 'date', values: ['ge2024-01', 'lt2030'] },
          ],
          { count: 10, offset: 0 },
        ),
      ),
    expected: ['1', '3'],
  },
  {
    name: 'observation-search-join-column-sort',
    statements: 2,
    run: async (m, exec) =>
      ids(
        await resource(m.main, 'Observation').search(
          exec,
          [{ code: 'category', values: ['Numeric', 'Text'] }],
          {
            count: 2,
            offset: 1,
            sort: [
              { code: 'category', descending: true },
              { code: 'date', descending: true },
            ],
          },
        ),
      ),
    // Text (5), then Numeric by date descending: 3, 2, 1.
    expected: ['3', '2'],
  },
  {
    name: 'observation-count-token-child-join',
    statements: 1,
    run: async (m, exec) =>
      resource(m.main, 'Observation').count(exec, [{ code: 'code', values: ['5089'] }]),
    expected: 2,
  },
  {
    name: 'observation-reverse-reference',
    // one ROW_NUMBER statement for every target, then the codings
    statements: 2,
    run: async (m, exec) => {
      const byTarget = await resource(m.main, 'Observation').searchByReference(exec, {
        code: 'patient',
        targetIds: ['1', '2', 'x'],
        query: [{ code: 'date', values: ['ge2024'] }],
        countPerTarget: 2,
        sort: [{ code: 'date', descending: true }],
      });
      return Object.fromEntries([...byTarget].map(([k, v]) => [k, ids(v)]));
    },
    expected: { '1': ['5', '2'], '2': ['3'], x: [] },
  },
  {
    name: 'encounter-search-reference',
    statements: 1,
    run: async (m, exec) =>
      ids(
        await resource(m.main, 'Encounter').search(exec, [{ code: 'patient', values: ['1'] }], {
          count: 10,
          offset: 0,
        }),
      ),
    expected: ['1'],
  },
  {
    name: 'fan-out-read-by-ids',
    statements: 1,
    run: async (m, exec) =>
      ids(
        await resource(m.fanOut, 'Observation').loadByIds(exec, [
          '1-8302-2',
          '1-29463-7',
          '2-8302-2',
          '2-29463-7',
          '3-8302-2',
          '3-29463-7',
          '4-8302-2',
        ]),
      ),
    expected: ['1-8302-2', '1-29463-7', null, '2-29463-7', null, null, null],
  },
  {
    name: 'fan-out-search-union',
    statements: 1,
    run: async (m, exec) =>
      ids(
        await resource(m.fanOut, 'Observation').search(
          exec,
          [
            { code: 'patient', values: ['1', '2'] },
            { code: 'date', values: ['ge2024'] },
            { code: 'code', values: ['http://loinc.org|'] },
          ],
          { count: 2, offset: 1, sort: [{ code: 'date', descending: true }] },
        ),
      ),
    // 2-29463-7 (February), then 1-8302-2 and 1-29463-7 (January).
    expected: ['1-8302-2', '1-29463-7'],
  },
  {
    name: 'fan-out-count',
    statements: 1,
    run: async (m, exec) =>
      resource(m.fanOut, 'Observation').count(exec, [
        { code: '_id', values: ['1-8302-2', '2-29463-7', '2-8302-2'] },
      ]),
    expected: 2,
  },
  {
    name: 'fan-out-reverse-reference',
    statements: 1,
    run: async (m, exec) => {
      const byTarget = await resource(m.fanOut, 'Observation').searchByReference(exec, {
        code: 'patient',
        targetIds: ['1', '2'],
        query: [],
        countPerTarget: 1,
      });
      return Object.fromEntries([...byTarget].map(([k, v]) => [k, ids(v)]));
    },
    expected: { '1': ['1-8302-2'], '2': ['2-29463-7'] },
  },
];

/** Line breaks before the main clauses, so a snapshot reads; nothing else changes. */
function layout(sql: string): string {
  return sql
    .replaceAll(' UNION ALL ', '\nUNION ALL\n')
    .replace(/ (LEFT JOIN|JOIN|WHERE|ORDER BY) /g, '\n  $1 ');
}

function snapshotOf(shape: Shape, statements: readonly SqlStatement[]): string {
  const header = `-- ${shape.name}: ${statements.length} statement(s); line breaks added before JOIN, WHERE, ORDER BY, UNION ALL\n`;
  return (
    header +
    statements
      .map((s, i) => `\n-- [${i + 1}]\n${layout(s.sql)}\n-- params: ${JSON.stringify(s.params)}\n`)
      .join('')
  );
}

/** No value in the text: one placeholder per bound value, no string literal but ESCAPE '!'. */
function expectOnlyPlaceholders(statement: SqlStatement): void {
  expect(statement.sql.split('?').length - 1).toBe(statement.params.length);
  expect(statement.sql.replaceAll(" ESCAPE '!'", '')).not.toContain("'");
}

let db: Database.Database;

beforeAll(() => {
  db = new Database(':memory:');
  seed(db);
});

afterAll(() => {
  db.close();
  vi.useRealTimers();
});

describe.each([
  { dialect: SQLITE_DIALECT, quote: '"' },
  { dialect: MYSQL_DIALECT, quote: '`' },
])('statement shapes, $dialect.name', ({ dialect, quote }) => {
  const mappings: Mappings = {
    main: compile(SHAPES_MAPPING, dialect),
    fanOut: compile(SHAPES_FAN_OUT_MAPPING, dialect),
  };

  it.each(SHAPES)('$name', async (shape) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(FIXED_NOW);
    try {
      const { exec, statements } = recordingExecutor(db, dialect);
      expect(await shape.run(mappings, exec)).toEqual(shape.expected);
      expect(statements).toHaveLength(shape.statements);
      for (const statement of statements) {
        expectOnlyPlaceholders(statement);
        expect(statement.sql).toContain(`${quote}`);
      }
      await expect(snapshotOf(shape, statements)).toMatchFileSnapshot(
        `./__snapshots__/statement-shapes/${dialect.name}/${shape.name}.sql`,
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('binds today when the statement is rendered, not when the mapping is compiled', async () => {
    const { exec, statements } = recordingExecutor(db, dialect);
    await resource(mappings.main, 'Observation').loadByIds(exec, ['1']);
    const [main] = statements;
    expect(main?.sql).toContain(`t.${quote}obs_datetime${quote} <= ?`);
    // The today value is the last value of the row filters, right before the ids.
    expect(main?.params.at(-2)).toBe(todayPlus(0));
    expect(main?.params.at(-2)).toBe(new Date().toISOString().slice(0, 10));
  });
});

it('renders the same values in the same order for both dialects', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(FIXED_NOW);
  try {
    const runs = [SQLITE_DIALECT, MYSQL_DIALECT].map((dialect) => ({
      dialect,
      mappings: {
        main: compile(SHAPES_MAPPING, dialect),
        fanOut: compile(SHAPES_FAN_OUT_MAPPING, dialect),
      },
    }));
    for (const shape of SHAPES) {
      const [sqlite, mysql] = await Promise.all(
        runs.map(async ({ dialect, mappings }) => {
          const { exec, statements } = recordingExecutor(db, dialect);
          await shape.run(mappings, exec);
          return statements;
        }),
      );
      expect(mysql?.map((s) => s.params)).toEqual(sqlite?.map((s) => s.params));
      // The texts differ only in identifier quotes.
      expect(mysql?.map((s) => s.sql.replaceAll('`', '"'))).toEqual(sqlite?.map((s) => s.sql));
    }
  } finally {
    vi.useRealTimers();
  }
});
