import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compiledEntry } from '../helpers/test-build.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * `fhirgate mapping preview` run as a child process against a real MariaDB database shaped like
 * OpenMRS core (demographics in `person`, the patient flag and `voided` in `patient`, names in
 * `person_name`), mapped with format 2: a join, a filter, child rows.
 */

const ROOT = new URL('../../', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'fhirgate-preview-'));
const wrongPassword = `ZZPW-${randomBytes(12).toString('hex')}`;

let db: TestDatabase;
let url: string;
const files = {
  good: join(dir, 'good.json'),
  rawGender: join(dir, 'raw-gender.json'),
  broken: join(dir, 'broken.json'),
  urlFile: join(dir, 'database-url'),
};

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const results: CliResult[] = [];

function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [compiledEntry('cli/main'), ...args],
      // R4 validation loads the definitions (about a second, more on a loaded machine).
      { cwd: ROOT, env: {}, timeout: 100_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        const result = { code, stdout, stderr };
        results.push(result);
        resolve(result);
      },
    );
  });
}

/** The Patient mapping; `gender` is what the tests vary. */
function mapping(gender: unknown, extra: Record<string, unknown> = {}) {
  return {
    formatVersion: 2,
    resources: {
      Patient: {
        table: 'patient',
        id: { column: 'patient_id', type: 'integer' },
        joins: [{ as: 'person', table: 'person', on: { person_id: 'patient_id' } }],
        where: [{ column: 'voided', op: 'eq', value: 0 }],
        elements: {
          gender,
          birthDate: 'person.birthdate',
          name: {
            rows: {
              table: 'person_name',
              key: 'person_id',
              where: [{ column: 'voided', op: 'eq', value: 0 }],
              orderBy: [{ column: 'person_name_id' }],
            },
            elements: { family: 'family_name', 'given[0]': 'given_name' },
          },
          ...extra,
        },
      },
    },
  };
}

const GENDER = {
  column: 'person.gender',
  transform: [{ fn: 'valueMap', map: { M: 'male', F: 'female' }, default: 'unknown' }],
};

beforeAll(async () => {
  db = await createTestDatabase('preview');
  await db.exec(`
    CREATE TABLE person (
      person_id INT PRIMARY KEY, gender VARCHAR(50), birthdate DATE, voided TINYINT NOT NULL);
    CREATE TABLE patient (patient_id INT PRIMARY KEY, voided TINYINT NOT NULL);
    CREATE TABLE person_name (
      person_name_id INT PRIMARY KEY, person_id INT NOT NULL, given_name VARCHAR(50),
      family_name VARCHAR(50), voided TINYINT NOT NULL, KEY (person_id));
    INSERT INTO person VALUES (1, 'F', '1987-06-15', 0), (2, 'M', '1990-01-02', 0),
      (3, 'F', '1950-03-04', 0);
    INSERT INTO patient VALUES (1, 0), (2, 0), (3, 1);
    INSERT INTO person_name VALUES (10, 1, 'Amina', 'Okello', 0), (11, 1, 'Old', 'Name', 1),
      (20, 2, 'Juma', 'Mwangi', 0), (30, 3, 'Voided', 'Patient', 0);
  `);
  url = db.url;
  writeFileSync(files.good, JSON.stringify(mapping(GENDER)));
  // The deliberate mistake: the raw column, "F"/"M", where R4 requires male | female | ...
  writeFileSync(files.rawGender, JSON.stringify(mapping('person.gender')));
  writeFileSync(
    files.broken,
    JSON.stringify(mapping(GENDER, { 'name[0].text': 'nonsense', deceasedBoolean: 'person.dead' })),
  );
  writeFileSync(files.urlFile, `${url}\n`);
});

afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
  for (const { stdout, stderr } of results) {
    expect(stdout + stderr).not.toContain(wrongPassword);
    expect(stdout + stderr).not.toContain(url);
  }
});

// Each case starts a Node process and, when validating, indexes the R4 definitions: on a
// loaded machine that takes far longer than the suite's default.
describe.concurrent('fhirgate mapping preview', { timeout: 120_000 }, () => {
  it('prints the FHIR JSON of the first rows, valid R4, exit 0', async () => {
    const result = await cli([
      'mapping',
      'preview',
      '--database-url-file',
      files.urlFile,
      '--mapping',
      files.good,
      '--type',
      'Patient',
      '--count',
      '5',
    ]);
    expect(result.stderr).toMatch(
      /^2 Patient resources from mysql [^ ]+\/preview_[0-9a-f]{8}; all valid R4\.\n$/,
    );
    expect(result.code).toBe(0);
    // The voided patient is not served; the voided name is not either.
    expect(JSON.parse(result.stdout)).toEqual({
      resourceType: 'Patient',
      validated: true,
      results: [
        {
          resource: {
            resourceType: 'Patient',
            id: '1',
            gender: 'female',
            birthDate: '1987-06-15',
            name: [{ family: 'Okello', given: ['Amina'] }],
          },
          issues: [],
        },
        {
          resource: {
            resourceType: 'Patient',
            id: '2',
            gender: 'male',
            birthDate: '1990-01-02',
            name: [{ family: 'Mwangi', given: ['Juma'] }],
          },
          issues: [],
        },
      ],
    });
  });

  it('prints the R4 issues of a deliberately bad element, exit 1', async () => {
    const result = await cli([
      'mapping',
      'preview',
      '--database-url',
      url,
      '--mapping',
      files.rawGender,
      '--type',
      'Patient',
      '--id',
      '2',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^1 Patient resource from mysql .*; 1 with R4 validation issues\.\n$/,
    );
    const printed = JSON.parse(result.stdout) as {
      results: { resource: Record<string, unknown>; issues: { path: string; message: string }[] }[];
    };
    expect(printed.results).toHaveLength(1);
    expect(printed.results[0]?.resource).toMatchObject({ id: '2', gender: 'M' });
    expect(printed.results[0]?.issues).toEqual([
      {
        path: 'Patient/2.gender',
        message: expect.stringMatching(/^"M" is not in the required value set/),
      },
    ]);
  });

  it('lists the mapping problems and prints no resource, exit 1', async () => {
    const result = await cli([
      'mapping',
      'preview',
      '--database-url',
      url,
      '--mapping',
      files.broken,
      '--type',
      'Patient',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toEqual([
      'Patient name[0].text nonsense: column "nonsense" does not exist in table "patient"',
      'Patient deceasedBoolean dead: column "dead" does not exist in table "person"',
      'fhirgate mapping preview: 2 errors in the mapping; fix the errors above first (mapping check lists the same).',
      '',
    ]);
  });

  const base = () => ['mapping', 'preview', '--database-url', url, '--mapping', files.good];

  it('refuses a type the mapping does not map, exit 2', async () => {
    expect(await cli([...base(), '--type', 'Observation'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'fhirgate mapping preview: the mapping does not map Observation; it maps Patient.\n',
    });
  });

  it('says so when no served row has the id (a voided patient), exit 1', async () => {
    expect(await cli([...base(), '--type', 'Patient', '--id', '3'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'fhirgate mapping preview: no Patient has id "3".\n',
    });
  });

  it('refuses bad options, exit 2', async () => {
    const [both, tooMany, noType] = await Promise.all([
      cli([...base(), '--type', 'Patient', '--id', '1', '--count', '2']),
      cli([...base(), '--type', 'Patient', '--count', '1000']),
      cli(base()),
    ]);
    expect(both).toEqual({
      code: 2,
      stdout: '',
      stderr: 'fhirgate mapping preview: give --id or --count, not both.\n',
    });
    expect(tooMany).toEqual({
      code: 2,
      stdout: '',
      stderr: 'fhirgate mapping preview: --count is a whole number from 1 to 100.\n',
    });
    expect(noType).toEqual({
      code: 2,
      stdout: '',
      stderr: 'fhirgate mapping preview: --type <resource type> is required.\n',
    });
  });

  it('names an unreachable database without its URL, exit 2', async () => {
    const badUrl = `mysql://${db.user}:${wrongPassword}@${db.host}:${db.port}/${db.name}`;
    const result = await cli([
      'mapping',
      'preview',
      '--database-url',
      badUrl,
      '--mapping',
      files.good,
      '--type',
      'Patient',
    ]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^fhirgate mapping preview: cannot connect to mysql [^ ]+\/preview_[0-9a-f]{8}: access denied \(check the user and password\)\.\n$/,
    );
    expect(result.stderr).not.toContain(wrongPassword);
  });
});
