/**
 * Every resource the demo hospitals serve, of every type, built through the compiled mappings
 * from an in-memory SQLite copy of each hospital and validated against the R4
 * StructureDefinitions (medplum) and required bindings: zero errors. A failure names the
 * resource (`Observation/12-8302-2`) and the element paths; the data is synthetic.
 */
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoHospital, SeedValue } from '../../../src/demo/demo-hospital.js';
import { DEMO_HOSPITALS, HOSPITAL_A, HOSPITAL_B } from '../../../src/demo/hospitals.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import { type DemoTenant, openDemoTenant } from '../../fixtures/clinical-demo.js';
import { loadR4Definitions, validateR4 } from './r4-validator.js';

/** The types issue 3 asks every demo hospital to serve. */
const CLINICAL_TYPES = [
  'Patient',
  'Practitioner',
  'Encounter',
  'Observation',
  'Condition',
  'AllergyIntolerance',
  'MedicationRequest',
] as const;

/** LOINC codes of the vital signs, by what a wide vitals row measures. */
const VITAL_CODES = {
  height: '8302-2',
  weight: '29463-7',
  pressure: '85354-9',
  heartRate: '8867-4',
} as const;

/** Where each hospital keeps its wide vitals rows: the seed table and its measurement columns. */
interface VitalsTable {
  readonly table: string;
  readonly deleted: string;
  readonly columns: Readonly<Record<keyof typeof VITAL_CODES, readonly string[]>>;
}

const VITALS: ReadonlyMap<DemoHospital, VitalsTable> = new Map([
  [
    HOSPITAL_A,
    {
      table: 'signos_vitales',
      deleted: 'anulado',
      columns: {
        height: ['talla_cm'],
        weight: ['peso_kg'],
        pressure: ['pa_sistolica', 'pa_diastolica'],
        heartRate: ['pulso'],
      },
    },
  ],
  [
    HOSPITAL_B,
    {
      table: 'signos',
      deleted: 'eliminado',
      columns: {
        height: ['estatura_in'],
        weight: ['peso_lb'],
        pressure: ['presion_sis', 'presion_dia'],
        heartRate: ['fc'],
      },
    },
  ],
]);

/** What each hospital serves, by type, from its hand-written and generated rows. */
const SERVED_COUNTS: Readonly<Record<string, Record<(typeof CLINICAL_TYPES)[number], number>>> = {
  'hospital-a': {
    Patient: 222,
    Practitioner: 17,
    Encounter: 627,
    Observation: 1842,
    Condition: 363,
    AllergyIntolerance: 51,
    MedicationRequest: 319,
  },
  'hospital-b': {
    Patient: 225,
    Practitioner: 18,
    Encounter: 591,
    Observation: 1595,
    Condition: 348,
    AllergyIntolerance: 60,
    MedicationRequest: 298,
  },
};

/** Resources validated, by hospital and type; every entry must be above 0. */
const validated = new Map<string, number>();

beforeAll(() => {
  loadR4Definitions();
});

afterAll(() => {
  expect([...validated.values()].every((n) => n > 0)).toBe(true);
});

/** `Patient/3` for every `reference` string anywhere in `node`. */
function referencesIn(node: unknown): string[] {
  if (Array.isArray(node)) {
    return node.flatMap(referencesIn);
  }
  if (node === null || typeof node !== 'object') {
    return [];
  }
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'reference' && typeof value === 'string' ? [value] : referencesIn(value),
  );
}

/** A seed cell that records a measurement: not NULL, not blank, not 0. */
function measured(value: SeedValue | undefined): boolean {
  return value !== null && value !== undefined && value !== '' && Number(value) !== 0;
}

describe('the validator', () => {
  it('would catch what the mappings must never produce', () => {
    const issues = (resource: Record<string, unknown>) =>
      validateR4(resource as unknown as Resource).map((i) => i.message);
    const clinical = (code: string) => ({
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }],
    });
    // A required element missing.
    expect(issues({ resourceType: 'Observation', id: 'o', code: { text: 'x' } })).toEqual([
      'Missing required property',
    ]);
    // An invariant (con-4): an abated condition cannot be active.
    expect(
      issues({
        resourceType: 'Condition',
        id: 'c',
        subject: { reference: 'Patient/1' },
        clinicalStatus: clinical('active'),
        abatementDateTime: '2024-01-01',
      }),
    ).toEqual([expect.stringMatching(/^Constraint con-4 not met/)]);
    // Required bindings, on a CodeableConcept and on a nested code.
    expect(
      issues({
        resourceType: 'AllergyIntolerance',
        id: 'a',
        patient: { reference: 'Patient/1' },
        clinicalStatus: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
              code: 'ACTIVA',
            },
          ],
        },
        reaction: [{ severity: 'SEVERA', manifestation: [{ text: 'Urticaria' }] }],
      }),
    ).toEqual([
      expect.stringMatching(/\|ACTIVA is not in the required value set/),
      expect.stringMatching(/^"SEVERA" is not in the required value set/),
    ]);
    expect(issues({ resourceType: 'Patient', id: 'p', gender: 'M' })).toEqual([
      expect.stringMatching(/^"M" is not in the required value set/),
    ]);
  });
});

describe.each(DEMO_HOSPITALS)('every resource $clientId serves', (hospital) => {
  let tenant: DemoTenant;
  const served = new Map<string, FhirJson[]>();

  beforeAll(async () => {
    tenant = await openDemoTenant(hospital);
    for (const type of tenant.mapping.resourceTypes) {
      served.set(type, await tenant.searchAll(type));
    }
  });

  afterAll(async () => {
    await tenant?.close();
  });

  it('maps Patient, Practitioner, Encounter, Observation, Condition, AllergyIntolerance and MedicationRequest', () => {
    expect([...tenant.mapping.resourceTypes].sort()).toEqual(
      expect.arrayContaining([...CLINICAL_TYPES]),
    );
  });

  it.for(CLINICAL_TYPES)('%s: valid R4, every one, read back by id', async (type, context) => {
    const resources = served.get(type) ?? [];
    expect(resources.length, `${hospital.clientId} serves no ${type}`).toBeGreaterThan(0);
    const ids = resources.map((r) => String(r['id']));
    expect(new Set(ids).size, 'ids are unique').toBe(ids.length);
    expect(await tenant.load(type, ids)).toEqual(resources);

    const problems = resources.flatMap((r) =>
      validateR4(r as unknown as Resource).map((i) => `${i.path}: ${i.message}`),
    );
    expect(problems, problems.join('\n')).toEqual([]);
    expect(resources.every((r) => r['resourceType'] === type)).toBe(true);
    validated.set(`${hospital.clientId} ${type}`, resources.length);
    await context.annotate(`${resources.length} ${type} resources validated`);
  });

  it('serves the generated population beside the hand-written rows: resources per type', () => {
    const counts = Object.fromEntries(
      CLINICAL_TYPES.map((type) => [type, served.get(type)?.length ?? 0]),
    );
    // Pinned, as the generator is deterministic: 25 hand-written patients and 200 generated ones,
    // less those voided in hospital A (hospital B deactivates instead), and their care.
    expect(counts).toEqual(SERVED_COUNTS[hospital.clientId]);
  });

  it('has no reference that leads nowhere: every Type/id is a resource it serves', () => {
    const ids = new Map(
      [...served].map(([type, list]) => [type, new Set(list.map((r) => String(r['id'])))]),
    );
    const dangling = [...served.values()].flat().flatMap((resource) =>
      referencesIn(resource)
        .filter((ref) => {
          const [type, id] = ref.split('/');
          return !ids.get(type ?? '')?.has(id ?? '');
        })
        .map((ref) => `${resource['resourceType']}/${resource['id']} -> ${ref}`),
    );
    expect(dangling, dangling.join('\n')).toEqual([]);
  });

  it('fans each vitals row out into one Observation per measurement, id <rowid>-<LOINC>', () => {
    const spec = VITALS.get(hospital)!;
    const table = hospital.seed.find((t) => t.table === spec.table)!;
    const cell = (row: readonly SeedValue[], column: string) => row[table.columns.indexOf(column)];
    const expected = table.rows
      .filter((row) => cell(row, spec.deleted) === 0)
      .flatMap((row) =>
        Object.entries(spec.columns)
          .filter(([, columns]) => columns.some((c) => measured(cell(row, c))))
          .map(([what]) => `${row[0]}-${VITAL_CODES[what as keyof typeof VITAL_CODES]}`),
      )
      .sort();

    const observations = served.get('Observation') ?? [];
    const ids = observations.map((o) => String(o['id']));
    expect([...ids].sort()).toEqual(expected);
    for (const observation of observations) {
      const [, code] = /^\d+-(\d+-\d)$/.exec(String(observation['id'])) ?? [];
      expect(code, String(observation['id'])).toBeDefined();
      expect(observation).toMatchObject({
        status: 'final',
        category: [{ coding: [{ code: 'vital-signs' }] }],
        code: { coding: [{ system: 'http://loinc.org', code }] },
      });
    }
  });
});
