import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MYSQL_DIALECT } from '../../src/db/dialect.js';
import { createMysqlDatabase } from '../../src/db/mysql-database.js';
import type { TenantDatabase } from '../../src/db/tenant-database.js';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import type { FhirJson } from '../../src/fhir/fhir-json.js';
import type {} from '../../src/graphql/builder.js';
import { checkMapping } from '../../src/mapping/check-mapping.js';
import { compileMapping } from '../../src/mapping/compile-mapping.js';
import type { CompiledResource } from '../../src/mapping/compiled-resource.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { assertValidR4 } from '../unit/mapping/fhir-validation.js';

/**
 * `when` rules and choice variants over the cells mysql2 hands back from MariaDB: DECIMAL as
 * text, BIT(1) as a Buffer, TINYINT as a number, DATE as text (zero dates included), and join
 * columns keyed `<join>.<column>`. Then the live checker on the same mapping: condition columns
 * are checked like any other.
 */

const defs = loadDefinitions();

/** `YYYY-MM-DD` of the UTC date today plus `days`. */
function utcDate(days: number): string {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

let tenantDb: TestDatabase;
let database: TenantDatabase;

beforeAll(async () => {
  tenantDb = await createTestDatabase('cond');
  await tenantDb.exec(`
    SET SESSION sql_mode = '';
    CREATE TABLE person (
      person_id INT PRIMARY KEY, gender CHAR(1), birthdate DATE, birthdate_estimated TINYINT(1),
      dead BIT(1), death_date DATE);
    CREATE TABLE concept (concept_id INT PRIMARY KEY, datatype VARCHAR(10), name VARCHAR(50));
    CREATE TABLE obs (
      obs_id INT PRIMARY KEY, person_id INT NOT NULL, concept_id INT NOT NULL,
      value_numeric DECIMAL(10,2), value_text VARCHAR(100), value_boolean BIT(1),
      date_stopped DATE, KEY (concept_id));
    INSERT INTO person VALUES
      (1, 'M', '1987-06-15', 1, b'0', NULL),
      (2, 'F', '1990-02-03', 0, b'1', '2020-01-02'),
      (3, 'F', '0000-00-00', 1, b'1', NULL);
    INSERT INTO concept VALUES (10, 'NM', 'Weight'), (11, 'BIT', 'Smoker'), (12, 'ST', 'Comment');
  `);
  await tenantDb.exec(
    `INSERT INTO obs VALUES
      (100, 1, 10, '70.50', NULL, NULL, NULL),
      (101, 1, 11, NULL, 'stray', b'1', ?),
      (102, 1, 12, NULL, 'feels well', NULL, ?),
      (103, 2, 11, NULL, NULL, b'0', '0000-00-00')`,
    [utcDate(-1), utcDate(1)],
  );
  const target = parseDatabaseUrl(tenantDb.url);
  if (target.kind !== 'mysql') {
    throw new Error('expected a mysql URL');
  }
  database = createMysqlDatabase(target, {
    connectionLimit: 2,
    queueLimit: 10,
    connectTimeoutMs: 5000,
    queryTimeoutMs: 10_000,
    connectionIdleMs: 60_000,
    validateAfterIdleMs: 30_000,
  });
});

afterAll(async () => {
  await database?.close();
  await tenantDb?.drop();
});

const document = {
  formatVersion: 2,
  resources: {
    Patient: {
      table: 'person',
      id: { column: 'person_id', type: 'integer' },
      choices: {
        'deceased[x]': [
          { type: 'dateTime', if: [{ column: 'death_date', op: 'notNull' }] },
          { type: 'boolean' },
        ],
      },
      elements: {
        gender: {
          when: [
            { if: [{ column: 'gender', op: 'eq', value: 'M' }], use: { constant: 'male' } },
            { if: [{ column: 'gender', op: 'eq', value: 'F' }], use: { constant: 'female' } },
          ],
        },
        birthDate: {
          when: [
            {
              if: [{ column: 'birthdate_estimated', op: 'eq', value: true }],
              use: { column: 'birthdate', transform: [{ fn: 'date', precision: 'year' }] },
            },
          ],
          else: 'birthdate',
        },
        deceasedDateTime: 'death_date',
        deceasedBoolean: 'dead',
      },
    },
    Observation: {
      table: 'obs',
      id: { column: 'obs_id', type: 'integer' },
      joins: [{ as: 'concept', table: 'concept', on: { concept_id: 'concept_id' } }],
      choices: {
        'value[x]': [
          { type: 'Quantity', if: [{ column: 'concept.datatype', op: 'eq', value: 'NM' }] },
          { type: 'boolean', if: [{ column: 'concept.datatype', op: 'eq', value: 'BIT' }] },
          { type: 'string' },
        ],
      },
      elements: {
        status: {
          when: [
            {
              if: [{ column: 'date_stopped', op: 'lt', value: { today: 0 } }],
              use: { constant: 'cancelled' },
            },
          ],
          else: { constant: 'final' },
        },
        'code.text': 'concept.name',
        subject: { reference: { type: 'Patient', column: 'person_id' } },
        'valueQuantity.value': 'value_numeric',
        valueBoolean: 'value_boolean',
        valueString: 'value_text',
      },
    },
  },
};

function compiled(type: string): CompiledResource {
  const result = compileMapping(document, { defs, dialect: MYSQL_DIALECT });
  if (!result.ok) {
    throw new Error(JSON.stringify(result.problems));
  }
  return result.mapping.resource(type) as CompiledResource;
}

async function read(type: string, ids: string[]): Promise<FhirJson[]> {
  const found = await compiled(type).loadByIds(database, ids);
  return found.map((r) => {
    if (r === null) {
      throw new Error('not found');
    }
    assertValidR4(r);
    return r;
  });
}

const valueKeys = (r: FhirJson) => Object.keys(r).filter((k) => k.startsWith('value'));

describe('when and choices on MariaDB cells', () => {
  it('reads TINYINT flags as booleans, DATEs with precision and BIT(1) variants', async () => {
    const found = await read('Patient', ['1', '2', '3']);
    expect(found.map((p) => [p['gender'], p['birthDate'], p['deceasedBoolean']])).toEqual([
      ['male', '1987', false],
      ['female', '1990-02-03', undefined],
      ['female', undefined, true],
    ]);
    expect(found[1]?.['deceasedDateTime']).toBe('2020-01-02');
  });

  it('chooses by a join column and compares DATEs with today, zero dates as NULL', async () => {
    const found = await read('Observation', ['100', '101', '102', '103']);
    expect(found.map((o) => [o['status'], valueKeys(o), o[valueKeys(o)[0] as string]])).toEqual([
      ['final', ['valueQuantity'], { value: 70.5 }],
      ['cancelled', ['valueBoolean'], true],
      ['final', ['valueString'], 'feels well'],
      ['final', ['valueBoolean'], false],
    ]);
  });

  it('lets the live checker hold condition columns like any other', async () => {
    expect(await checkMapping(document, { defs, database })).toEqual({ ok: true, problems: [] });
    const broken = structuredClone(document);
    const observation = broken.resources.Observation;
    observation.choices['value[x]'][0] = {
      type: 'Quantity',
      if: [{ column: 'concept.data_type', op: 'eq', value: 'NM' }],
    };
    observation.elements.status.when[0] = {
      if: [{ column: 'stopped_on', op: 'lt', value: { today: 0 } }],
      use: { constant: 'cancelled' },
    };
    const result = await checkMapping(broken, { defs, database });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => `${p.path} ${p.column}: ${p.message}`)).toEqual([
      'if:status stopped_on: column "stopped_on" does not exist in table "obs"',
      'if:value[x] data_type: column "data_type" does not exist in table "concept"',
    ]);
  });
});
