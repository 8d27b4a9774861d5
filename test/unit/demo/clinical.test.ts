/**
 * The demo hospitals' clinical resources through their mappings: what each legacy convention
 * turns into, the soft deletes and discriminators that hide rows, and the searches a client
 * runs against them (by patient, date, status, class, code). They run on the hand-written rows,
 * where every case is chosen; `test/unit/conformance/demo-resources.test.ts` covers the generated
 * ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSPITAL_A, HOSPITAL_B } from '../../../src/demo/hospitals.js';
import type { FhirJson } from '../../../src/fhir/fhir-json.js';
import type {} from '../../../src/graphql/builder.js';
import type { SearchQuery } from '../../../src/mapping/search.js';
import { type DemoTenant, handWritten, openDemoTenant } from '../../fixtures/clinical-demo.js';

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

let a: DemoTenant;
let b: DemoTenant;

beforeAll(async () => {
  [a, b] = await Promise.all([
    openDemoTenant(handWritten(HOSPITAL_A)),
    openDemoTenant(handWritten(HOSPITAL_B)),
  ]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

const ids = (resources: readonly (FhirJson | null)[]) => resources.map((r) => r?.['id'] ?? null);

async function one(tenant: DemoTenant, type: string, id: string): Promise<FhirJson> {
  const [found] = await tenant.load(type, [id]);
  expect(found, `${tenant.hospital.clientId} ${type}/${id}`).toBeTruthy();
  return found!;
}

describe('hospital-a (one table per concept, DATETIME columns, voided flags)', () => {
  it('builds an Encounter from atenciones, with references to the patient and the physician', async () => {
    expect(await one(a, 'Encounter', '1')).toEqual({
      resourceType: 'Encounter',
      id: '1',
      status: 'finished',
      class: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
      subject: { reference: 'Patient/1' },
      participant: [
        {
          type: [
            {
              coding: [
                {
                  system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
                  code: 'ATND',
                },
              ],
            },
          ],
          individual: { reference: 'Practitioner/5' },
        },
      ],
      period: { start: '2024-03-12T09:15:00-03:00', end: '2024-03-12T09:40:00-03:00' },
      reasonCode: [{ text: 'Control de hipotiroidismo' }],
    });
  });

  it('leaves an open stay without an end, and hides voided rows at every level', async () => {
    expect(await one(a, 'Encounter', '36')).toMatchObject({
      status: 'in-progress',
      class: { code: 'IMP' },
      period: { start: '2025-03-01T13:40:00-03:00' },
    });
    expect((await one(a, 'Encounter', '36'))['period']).not.toHaveProperty('end');
    expect(ids(await a.load('Encounter', ['15', '14']))).toEqual([null, '14']);
    expect(ids(await a.load('Practitioner', ['8', '7']))).toEqual([null, '7']);
    expect(ids(await a.load('Condition', ['10']))).toEqual([null]);
    expect(ids(await a.load('AllergyIntolerance', ['10']))).toEqual([null]);
    expect(ids(await a.load('MedicationRequest', ['12']))).toEqual([null]);
  });

  it('serves a retired physician as inactive, with the prefix their sex implies', async () => {
    expect(await one(a, 'Practitioner', '7')).toMatchObject({
      active: false,
      name: [{ family: 'Tapia Mella', prefix: ['Dr.'], text: 'Gonzalo Tapia Mella' }],
      gender: 'male',
      qualification: [{ code: { text: 'Medicina Interna' } }],
    });
    // Two given names in one column become two items.
    expect((await one(a, 'Practitioner', '1'))['name']).toEqual([
      {
        use: 'official',
        family: 'Fuentes Vidal',
        given: ['Carolina', 'Andrea'],
        prefix: ['Dra.'],
        text: 'Carolina Andrea Fuentes Vidal',
      },
    ]);
  });

  it('reads a diagnosis cell of several codes into codings, skipping none it knows', async () => {
    expect((await one(a, 'Condition', '5'))['code']).toEqual({
      coding: [
        { system: 'http://hl7.org/fhir/sid/icd-10', code: 'E11.9' },
        { system: 'http://snomed.info/sct', code: '44054006' },
      ],
      text: 'Diabetes mellitus tipo 2',
    });
    expect((await one(a, 'Condition', '8'))['code']).toEqual({
      coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' }],
      text: 'Hipertensión arterial',
    });
    // Carried over from paper: no encounter.
    expect(await one(a, 'Condition', '15')).not.toHaveProperty('encounter');
  });

  it('maps allergy kind, class and severity, and keeps uncoded agents as text', async () => {
    expect(await one(a, 'AllergyIntolerance', '4')).toMatchObject({
      clinicalStatus: { coding: [{ code: 'active' }] },
      type: 'intolerance',
      category: ['medication'],
      code: {
        coding: [{ system: 'http://snomed.info/sct', code: '372658000' }],
        text: 'Enalapril',
      },
      patient: { reference: 'Patient/6' },
      reaction: [{ manifestation: [{ text: 'Tos seca' }], severity: 'mild' }],
    });
    const uncoded = await one(a, 'AllergyIntolerance', '6');
    expect(uncoded['code']).toEqual({ text: 'Sulfas' });
    expect(uncoded).not.toHaveProperty('reaction');
  });

  it('writes prescriptions with ATC codes, the encounter and the prescriber', async () => {
    expect(await one(a, 'MedicationRequest', '9')).toEqual({
      resourceType: 'MedicationRequest',
      id: '9',
      status: 'stopped',
      intent: 'order',
      medicationCodeableConcept: {
        coding: [{ system: 'http://www.whocc.no/atc', code: 'C09AA02' }],
        text: 'Enalapril 10 mg comprimido',
      },
      subject: { reference: 'Patient/6' },
      encounter: { reference: 'Encounter/12' },
      authoredOn: '2024-05-09T10:30:00-03:00',
      requester: { reference: 'Practitioner/4' },
      dosageInstruction: [{ text: '1 comprimido cada 12 horas' }],
    });
  });

  it('fans a vitals row out into one Observation per measured value', async () => {
    expect(await one(a, 'Observation', '13-85354-9')).toEqual({
      resourceType: 'Observation',
      id: '13-85354-9',
      status: 'final',
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/observation-category',
              code: 'vital-signs',
              display: 'Vital Signs',
            },
          ],
        },
      ],
      subject: { reference: 'Patient/6' },
      encounter: { reference: 'Encounter/12' },
      effectiveDateTime: '2024-05-02T14:30:00-03:00',
      code: {
        coding: [
          {
            system: LOINC,
            code: '85354-9',
            display: 'Blood pressure panel with all children optional',
          },
        ],
        text: 'Presión arterial',
      },
      component: [
        {
          code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] },
          valueQuantity: { value: 158, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' },
        },
        {
          code: {
            coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }],
          },
          valueQuantity: { value: 94, unit: 'mmHg', system: UCUM, code: 'mm[Hg]' },
        },
      ],
    });
    // Row 21 has only a weight (height, pressure and pulse are 0); row 18 is voided.
    const row21 = ['8302-2', '29463-7', '85354-9', '8867-4'].map((code) => `21-${code}`);
    expect(ids(await a.load('Observation', [...row21, '18-8302-2']))).toEqual([
      null,
      '21-29463-7',
      null,
      null,
      null,
    ]);
    expect((await one(a, 'Observation', '21-29463-7'))['valueQuantity']).toEqual({
      value: 77.5,
      unit: 'kg',
      system: UCUM,
      code: 'kg',
    });
  });

  it.each<[string, string, SearchQuery, string[]]>([
    ['Encounter', 'patient', [{ code: 'patient', values: ['Patient/3'] }], ['4', '5', '6']],
    ['Encounter', 'subject as a bare id', [{ code: 'subject', values: ['3'] }], ['4', '5', '6']],
    [
      'Encounter',
      'date on a DATETIME column',
      [{ code: 'date', values: ['2024-07'] }],
      ['5', '6', '21', '34'],
    ],
    [
      'Encounter',
      'class, through the AMB/URG/HOSP map',
      [{ code: 'class', values: [`${ACT_CODE}|EMER`] }],
      ['3', '5', '8', '16', '23', '32'],
    ],
    [
      'Encounter',
      'status',
      [{ code: 'status', values: ['in-progress', 'cancelled'] }],
      ['31', '36'],
    ],
    ['Encounter', 'a voided encounter’s patient', [{ code: 'patient', values: ['7'] }], ['14']],
    ['Practitioner', 'active', [{ code: 'active', values: ['false'] }], ['7']],
    ['Condition', 'patient', [{ code: 'patient', values: ['Patient/6'] }], ['7', '8']],
    ['Condition', 'encounter', [{ code: 'encounter', values: ['Encounter/12'] }], ['7', '8']],
    [
      'Condition',
      'clinical-status',
      [{ code: 'clinical-status', values: ['resolved'] }],
      ['2', '4', '18', '27', '28'],
    ],
    ['Condition', 'onset-date', [{ code: 'onset-date', values: ['lt2020'] }], ['15']],
    ['AllergyIntolerance', 'type', [{ code: 'type', values: ['intolerance'] }], ['4']],
    ['AllergyIntolerance', 'category', [{ code: 'category', values: ['food'] }], ['3', '7', '11']],
    [
      'AllergyIntolerance',
      'code, never a voided row',
      [{ code: 'code', values: ['http://snomed.info/sct|764146007'] }],
      ['1'],
    ],
    [
      'MedicationRequest',
      'code',
      [{ code: 'code', values: ['http://www.whocc.no/atc|A10BA02'] }],
      ['6', '17', '23'],
    ],
    [
      'MedicationRequest',
      'requester',
      [{ code: 'requester', values: ['Practitioner/4'] }],
      ['8', '9', '10', '15', '25', '26'],
    ],
    ['MedicationRequest', 'authoredon', [{ code: 'authoredon', values: ['ge2025'] }], ['24', '27']],
    [
      'Observation',
      'code and date',
      [
        { code: 'code', values: ['8867-4'] },
        { code: 'date', values: ['2025'] },
      ],
      ['27-8867-4', '35-8867-4', '39-8867-4', '40-8867-4', '43-8867-4'],
    ],
    [
      'Observation',
      'patient and LOINC system|code',
      [
        { code: 'patient', values: ['Patient/10'] },
        { code: 'code', values: [`${LOINC}|29463-7`, `${LOINC}|8302-2`] },
      ],
      ['21-29463-7'],
    ],
    [
      'Observation',
      '_id, never an unmeasured or voided item',
      [{ code: '_id', values: ['21-8302-2', '21-29463-7', '18-8302-2'] }],
      ['21-29463-7'],
    ],
    [
      'Observation',
      'encounter',
      [{ code: 'encounter', values: ['Encounter/5'] }],
      ['5-85354-9', '5-8867-4', '6-85354-9', '6-8867-4'],
    ],
  ])('searches %s by %s', async (type, _name, query, expected) => {
    expect(ids(await a.search(type, query))).toEqual(expected);
  });
});

describe('hospital-b (text dates, one lists table, deleted flags)', () => {
  it('reads DD/MM/YYYY HH:mm text dates and a zero end date as no end', async () => {
    expect(await one(b, 'Encounter', '1')).toEqual({
      resourceType: 'Encounter',
      id: '1',
      status: 'finished',
      class: { system: ACT_CODE, code: 'AMB', display: 'ambulatory' },
      subject: { reference: 'Patient/1' },
      participant: [{ individual: { reference: 'Practitioner/1' } }],
      period: { start: '2024-03-04T08:30:00-03:00', end: '2024-03-04T08:50:00-03:00' },
      reasonCode: [{ text: 'CONTROL HTA' }],
    });
    expect((await one(b, 'Encounter', '28'))['period']).toEqual({
      start: '2025-03-03T08:00:00-03:00',
    });
    expect(await one(b, 'Encounter', '6')).toMatchObject({ class: { code: 'VR' } });
  });

  it('splits the lists table into three resource types by its type column', async () => {
    const range = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
    // 25, 33 and 51 are deleted; 53 is a surgery, which nothing maps.
    expect(ids(await b.searchAll('Condition'))).toEqual(range(1, 24));
    expect(ids(await b.searchAll('AllergyIntolerance'))).toEqual(range(26, 32));
    expect(ids(await b.searchAll('MedicationRequest'))).toEqual([...range(34, 50), '52']);
    expect(ids(await b.load('Condition', ['26', '1']))).toEqual([null, '1']);
    expect(ids(await b.load('AllergyIntolerance', ['1', '53', '33']))).toEqual([null, null, null]);
  });

  it('reads a professional’s "SURNAMES, GIVEN NAMES" column', async () => {
    expect((await one(b, 'Practitioner', '1'))['name']).toEqual([
      {
        use: 'official',
        family: 'VALDES ROJAS',
        given: ['MARIA', 'JOSE'],
        text: 'MARIA JOSE VALDES ROJAS',
      },
    ]);
    expect(ids(await b.load('Practitioner', ['6']))).toEqual([null]);
  });

  it('derives status from the activity flag and keeps the end date as abatement', async () => {
    expect(await one(b, 'Condition', '5')).toMatchObject({
      clinicalStatus: { coding: [{ code: 'resolved' }] },
      category: [{ coding: [{ code: 'problem-list-item' }] }],
      code: { text: 'NEUMONIA' },
      subject: { reference: 'Patient/5' },
      onsetDateTime: '2022-05-03T11:00:00-03:00',
      abatementDateTime: '2022-05-10T12:00:00-03:00',
      recorder: { reference: 'Practitioner/4' },
    });
    expect(await one(b, 'AllergyIntolerance', '31')).toMatchObject({
      clinicalStatus: { coding: [{ code: 'inactive' }] },
      reaction: [{ manifestation: [{ text: 'NAUSEAS' }], severity: 'mild' }],
    });
    // Several reactions in one ';'-separated cell, typed carelessly.
    expect((await one(b, 'AllergyIntolerance', '29'))['reaction']).toEqual([
      { severity: 'severe', manifestation: [{ text: 'ANAFILAXIA' }, { text: 'URTICARIA' }] },
    ]);
    expect(await one(b, 'MedicationRequest', '45')).toMatchObject({
      status: 'completed',
      intent: 'order',
      medicationCodeableConcept: {
        coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '11289' }],
        text: 'WARFARINA 5 MG',
      },
      subject: { reference: 'Patient/13' },
    });
    // One codes column, three prefixes: ICD-10 and SNOMED CT for problems, RxNorm or SNOMED CT
    // for allergies.
    expect((await one(b, 'Condition', '1'))['code']).toEqual({
      coding: [
        { system: 'http://hl7.org/fhir/sid/icd-10', code: 'I10' },
        { system: 'http://snomed.info/sct', code: '59621000' },
      ],
      text: 'HIPERTENSION ARTERIAL',
    });
    expect((await one(b, 'AllergyIntolerance', '28'))['code']).toEqual({
      coding: [{ system: 'http://snomed.info/sct', code: '111088007' }],
      text: 'LATEX',
    });
    expect((await one(b, 'AllergyIntolerance', '32'))['code']).toEqual({ text: 'MARISCOS' });
  });

  it('converts inches and pounds to cm and kg, and skips a blood pressure not taken', async () => {
    expect(await one(b, 'Observation', '1-8302-2')).toMatchObject({
      code: { coding: [{ system: LOINC, code: '8302-2' }], text: 'ESTATURA' },
      subject: { reference: 'Patient/1' },
      encounter: { reference: 'Encounter/1' },
      effectiveDateTime: '2024-03-04T08:35:00-03:00',
      // 68.5 in
      valueQuantity: { value: 174, unit: 'cm', system: UCUM, code: 'cm' },
    });
    // 187.4 lb
    expect((await one(b, 'Observation', '1-29463-7'))['valueQuantity']).toMatchObject({
      value: 85,
      code: 'kg',
    });
    // 57.3 lb
    expect((await one(b, 'Observation', '35-29463-7'))['valueQuantity']).toMatchObject({
      value: 26,
    });
    expect(ids(await b.load('Observation', ['21-85354-9', '24-8867-4', '21-8867-4']))).toEqual([
      null,
      null,
      '21-8867-4',
    ]);
  });

  it.each<[string, string, SearchQuery, string[]]>([
    ['Encounter', 'patient', [{ code: 'patient', values: ['Patient/10'] }], ['15', '16', '17']],
    ['Encounter', 'class VR', [{ code: 'class', values: ['VR'] }], ['6', '32']],
    ['Encounter', 'status', [{ code: 'status', values: ['cancelled'] }], ['17']],
    ['Encounter', 'a deleted visit’s patient', [{ code: 'patient', values: ['16'] }], ['24']],
    [
      'Condition',
      'clinical-status',
      [{ code: 'clinical-status', values: ['resolved'] }],
      ['5', '9', '23'],
    ],
    [
      'Condition',
      'onset-date on a DATETIME column',
      [{ code: 'onset-date', values: ['2024-12'] }],
      ['13', '19'],
    ],
    ['AllergyIntolerance', 'patient', [{ code: 'patient', values: ['Patient/18'] }], ['31']],
    [
      'MedicationRequest',
      'status',
      [{ code: 'status', values: ['completed'] }],
      ['38', '45', '50'],
    ],
    ['MedicationRequest', 'patient', [{ code: 'patient', values: ['Patient/13'] }], ['44', '45']],
    [
      'Encounter',
      'date, through the DBA’s view',
      [{ code: 'date', values: ['2024-12'] }],
      ['20', '31'],
    ],
    ['Encounter', 'date before 2023', [{ code: 'date', values: ['lt2023'] }], ['8']],
    [
      'Observation',
      'code and date, through the DBA’s view',
      [
        { code: 'code', values: ['8867-4'] },
        { code: 'date', values: ['ge2025-02-14'] },
      ],
      ['13-8867-4', '27-8867-4'],
    ],
    [
      'Observation',
      'patient and blood pressure',
      [
        { code: 'patient', values: ['13'] },
        { code: 'code', values: [`${LOINC}|85354-9`] },
      ],
      ['18-85354-9', '19-85354-9', '20-85354-9'],
    ],
  ])('searches %s by %s', async (type, _name, query, expected) => {
    expect(ids(await b.search(type, query))).toEqual(expected);
  });
});

describe('the two hospitals', () => {
  it('answer the same ids with their own, unrelated resources', async () => {
    const [encounterA, encounterB] = [
      await one(a, 'Encounter', '2'),
      await one(b, 'Encounter', '2'),
    ];
    expect(encounterA['reasonCode']).toEqual([{ text: 'Control de hipotiroidismo' }]);
    expect(encounterB['reasonCode']).toEqual([{ text: 'CONTROL HTA' }]);
    expect(await one(a, 'Condition', '1')).toMatchObject({ code: { text: 'Hipotiroidismo' } });
    expect(await one(b, 'Condition', '1')).toMatchObject({
      code: { text: 'HIPERTENSION ARTERIAL' },
    });
  });
});
