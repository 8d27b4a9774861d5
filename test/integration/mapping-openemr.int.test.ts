import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../src/fhir/build-extract.js';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { checkMapping } from '../../src/mapping/check-mapping.js';
import {
  NPI_SYSTEM,
  OPENEMR,
  OPENEMR_FILLER_PIDS,
  openemrMapping,
  openemrTenant,
  PUBPID_SYSTEM,
} from '../fixtures/openemr-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { openTenantDatabase } from '../helpers/tenant-database.js';
import { validatingClient } from '../helpers/validating-client.js';
import { loadR4Definitions } from '../unit/conformance/r4-validator.js';

/**
 * An OpenEMR-shaped practice (`test/fixtures/openemr-tenant.ts`) served through the real HTTP
 * gateway from `mappings/openemr.json` alone: mapping format 2, zero views. Vitals reach their
 * encounter, patient and soft-delete flag only through `forms`; encounters exist while their
 * 'newpatient' form is not deleted; a problem's clinical status follows its end date against
 * today; `patient_data` has no primary key. Every resource a test receives is validated against
 * R4.
 */
let gw: TestGateway;
let token: string;

const FIELDS: Record<string, string> = {
  Patient: `resourceType id identifier { use system value } name { use text family given }
    gender birthDate deceasedDateTime address { line city state postalCode country }
    telecom { system use value }`,
  Practitioner:
    'resourceType id identifier { system value } active name { text family given prefix }',
  Encounter: `resourceType id status class { system code } subject { reference }
    participant { individual { reference display } } period { start end } reasonCode { text }`,
  Observation: `resourceType id status category { coding { system code } }
    code { coding { system code display } } subject { reference } encounter { reference }
    effectiveDateTime valueQuantity { value unit system code }
    component { code { coding { system code display } } valueQuantity { value unit system code } }`,
  Condition: `resourceType id clinicalStatus { coding { system code } }
    verificationStatus { coding { system code } } category { coding { system code } }
    code { coding { system code } text } subject { reference } onsetDateTime abatementDateTime
    recordedDate note { text }`,
  AllergyIntolerance: `resourceType id clinicalStatus { coding { system code } }
    verificationStatus { coding { system code } } criticality code { coding { system code } text }
    patient { reference } onsetDateTime recordedDate reaction { manifestation { text } }`,
};

// The same tables and rows on both servers (`postgresDdl`, `insertRows`); one gateway at a time.
describe.each(['mysql', 'postgres'] as const)('OpenEMR on %s', (engine) => {
  // MariaDB's utf8mb4_unicode_ci ignores accents; PostgreSQL's ILIKE does not (docs/tenants.md).
  const accentFolded = (found: string[]) => (engine === 'mysql' ? found : []);
  const { validated, data, list, read, ids, statementsSince } = validatingClient({
    fields: FIELDS,
    clientId: OPENEMR,
    gateway: () => gw,
    token: () => token,
  });

  beforeAll(async () => {
    loadR4Definitions();
    gw = await createTestGateway({
      tenants: [openemrTenant()],
      resourceTypes: R4_EXTRACT_RESOURCE_TYPES,
      engine,
    });
    token = await gw.tokenFor(OPENEMR);
  });

  afterAll(async () => {
    await gw?.close();
  });

  const LOINC = 'http://loinc.org';
  const UCUM = 'http://unitsofmeasure.org';
  const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
  const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
  const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
  const ALLERGY_CLINICAL = 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical';
  const ALLERGY_VERIFICATION =
    'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification';
  const FILLERS = OPENEMR_FILLER_PIDS.map(String);
  const VITALS_1 = ['29463-7', '8302-2', '8310-5', '8867-4', '59408-5', '85354-9'].map(
    (code) => `1-${code}`,
  );

  const clinical = (system: string, code: string) => ({ coding: [{ system, code }] });
  const quantity = (value: number, code: string, unit = code) => ({
    value,
    unit,
    system: UCUM,
    code,
  });

  describe('Patient: patient_data, keyed by pid (no primary key)', () => {
    it('builds patients field by field: empty strings and zero dates are absent', async () => {
      const [renee, bjorn, ada, sam] = await Promise.all(
        ['1', '2', '3', '4'].map((id) => read('Patient', id)),
      );
      expect(renee).toEqual({
        resourceType: 'Patient',
        id: '1',
        identifier: [{ use: 'usual', system: PUBPID_SYSTEM, value: 'EMR-0001' }],
        name: [
          { use: 'official', text: "Renée M D'Angelo", family: "D'Angelo", given: ['Renée', 'M'] },
        ],
        gender: 'female',
        birthDate: '1975-11-30',
        address: [
          {
            line: ['742 Evergreen Terrace'],
            city: 'Springfield',
            state: 'IL',
            postalCode: '62704',
            country: 'USA',
          },
        ],
        // phone_cell is '': that ContactPoint is dropped and the e-mail moves up.
        telecom: [
          { system: 'phone', use: 'home', value: '555-0100' },
          { system: 'email', value: 'renee@example.org' },
        ],
      });
      // DOB '0000-00-00' and a blank address: absent.
      expect(bjorn).toEqual({
        resourceType: 'Patient',
        id: '2',
        identifier: [{ use: 'usual', system: PUBPID_SYSTEM, value: 'EMR-0002' }],
        name: [{ use: 'official', text: 'Björn Ñúñez', family: 'Ñúñez', given: ['Björn'] }],
        gender: 'male',
        telecom: [{ system: 'phone', use: 'mobile', value: '555-0199' }],
      });
      expect(ada).toEqual({
        resourceType: 'Patient',
        id: '3',
        identifier: [{ use: 'usual', system: PUBPID_SYSTEM, value: 'EMR-0003' }],
        name: [
          {
            use: 'official',
            text: 'Ada King Lovelace',
            family: 'Lovelace',
            given: ['Ada', 'King'],
          },
        ],
        gender: 'female',
        birthDate: '1815-12-10',
        deceasedDateTime: '1852-11-27T00:00:00-05:00',
        address: [
          { line: ['12 St James Square'], city: 'London', postalCode: 'SW1Y 4JH', country: 'GBR' },
        ],
      });
      // sex '' and pubpid '': no gender, no identifier.
      expect(sam).toEqual({
        resourceType: 'Patient',
        id: '4',
        name: [{ use: 'official', text: 'Sam Taylor', family: 'Taylor', given: ['Sam'] }],
        birthDate: '2000-01-01',
        address: [{ city: 'Springfield', state: 'IL', country: 'USA' }],
      });
      // The FHIR id is pid, not the auto-increment id (Ada's row id is 13; pids end at 12).
      expect(await read('Patient', '13')).toBeNull();
    });

    it('searches names with apostrophes and accents, dates never matching a zero DOB', async () => {
      expect(await ids('Patient', `family: "D'A"`)).toEqual(['1']);
      expect(await ids('Patient', 'family: "nunez"')).toEqual(accentFolded(['2']));
      expect(await ids('Patient', 'name: "king"')).toEqual(['3']);
      expect(await ids('Patient', 'given: "renee"')).toEqual(accentFolded(['1']));
      expect(await ids('Patient', 'identifier: "EMR-0003"')).toEqual(['3']);
      expect(await ids('Patient', 'birthdate: "lt2000", _count: 50')).toEqual([
        '1',
        '3',
        ...FILLERS,
      ]);
      expect(await ids('Patient', 'birthdate: "le1900"')).toEqual(['3']);
      expect(await ids('Patient', 'gender: "male", _count: 50')).toEqual([
        '2',
        ...FILLERS.filter((_, i) => i % 2 === 0),
      ]);
    });
  });

  describe('Practitioner and Encounter', () => {
    it('serves authorized users only, as Practitioners', async () => {
      expect(await list('Practitioner', '_count: 10')).toEqual([
        {
          resourceType: 'Practitioner',
          id: '2',
          identifier: [{ system: NPI_SYSTEM, value: '1234567893' }],
          active: true,
          name: [
            { text: 'Dr. Ana Méndez', family: 'Méndez', given: ['Ana', 'Lucía'], prefix: ['Dr.'] },
          ],
        },
        {
          resourceType: 'Practitioner',
          id: '3',
          active: false,
          name: [{ text: "Chinedu O'Neil-Obi", family: "O'Neil-Obi", given: ['Chinedu'] }],
        },
      ]);
      expect(await read('Practitioner', '1')).toBeNull();
      expect(await ids('Practitioner', 'name: "mendez"')).toEqual(accentFolded(['2']));
      expect(await ids('Practitioner', 'identifier: "1234567893"')).toEqual(['2']);
      expect(await ids('Practitioner', 'active: "false"')).toEqual(['3']);
    });

    it('builds encounters by encounter number, only while their newpatient form is not deleted', async () => {
      expect(await list('Encounter', '_count: 10')).toEqual([
        {
          resourceType: 'Encounter',
          id: '900001',
          status: 'finished',
          class: { system: ACT_CODE, code: 'AMB' },
          subject: { reference: 'Patient/1' },
          participant: [{ individual: { reference: 'Practitioner/2', display: 'Méndez' } }],
          period: { start: '2024-01-10T10:00:00-05:00', end: '2024-01-10T10:40:00-05:00' },
          reasonCode: [{ text: "Follow-up: patient's blood pressure" }],
        },
        {
          // provider_id 0 is "no provider": no participant at all.
          resourceType: 'Encounter',
          id: '900002',
          status: 'finished',
          class: { system: ACT_CODE, code: 'AMB' },
          subject: { reference: 'Patient/1' },
          period: { start: '2024-02-14T15:30:00-05:00' },
          reasonCode: [{ text: 'Flu symptoms — fièvre' }],
        },
        {
          resourceType: 'Encounter',
          id: '900003',
          status: 'finished',
          class: { system: ACT_CODE, code: 'AMB' },
          subject: { reference: 'Patient/2' },
          participant: [{ individual: { reference: 'Practitioner/3', display: "O'Neil-Obi" } }],
          period: { start: '2024-03-03T09:00:00-05:00' },
          reasonCode: [{ text: 'Annual physical' }],
        },
        {
          resourceType: 'Encounter',
          id: '900005',
          status: 'finished',
          class: { system: ACT_CODE, code: 'EMER' },
          subject: { reference: 'Patient/2' },
          participant: [{ individual: { reference: 'Practitioner/2', display: 'Méndez' } }],
          period: { start: '2024-05-05T08:00:00-05:00', end: '2024-05-05T13:15:00-05:00' },
          reasonCode: [{ text: 'Chest pain' }],
        },
      ]);
      const d = await data(`{
      deleted: Encounter(id: "900004") { id }
      byRowId: Encounter(id: "1") { id }
      count: EncounterConnection(_count: 0) { count }
    }`);
      expect(d).toEqual({ deleted: null, byRowId: null, count: { count: 4 } });
      expect(await ids('Encounter', 'patient: "Patient/1"')).toEqual(['900001', '900002']);
      expect(await ids('Encounter', 'practitioner: "Practitioner/2"')).toEqual([
        '900001',
        '900005',
      ]);
      expect(await ids('Encounter', 'class: "EMER"')).toEqual(['900005']);
      expect(await ids('Encounter', 'date: "2024-02"')).toEqual(['900002']);
    });
  });

  describe('Observation: wide vitals rows fanned out, reached through forms', () => {
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
    };

    it('builds every vital of form 1 with its patient and encounter from forms, US units converted', async () => {
      const vitals = await list('Observation', 'encounter: "Encounter/900001", _count: 50');
      expect(vitals.map((o) => o['id'])).toEqual(VITALS_1);
      const context = {
        subject: { reference: 'Patient/1' },
        encounter: { reference: 'Encounter/900001' },
        effectiveDateTime: '2024-01-10T10:05:00-05:00',
      };
      expect(vitals[0]).toEqual({
        ...shared,
        id: '1-29463-7',
        code: { coding: [{ system: LOINC, code: '29463-7', display: 'Body weight' }] },
        ...context,
        // 154 lb
        valueQuantity: quantity(69.9, 'kg'),
      });
      // 65 in, 98.6 degF, 72 /min, 98 %.
      expect(vitals.slice(1, 5).map((o) => o['valueQuantity'])).toEqual([
        quantity(165.1, 'cm'),
        quantity(37, 'Cel'),
        quantity(72, '/min'),
        quantity(98, '%'),
      ]);
      // Blood pressure from VARCHAR text.
      expect(vitals[5]).toEqual({
        ...shared,
        id: '1-85354-9',
        code: {
          coding: [
            {
              system: LOINC,
              code: '85354-9',
              display: 'Blood pressure panel with all children optional',
            },
          ],
        },
        ...context,
        component: [
          {
            code: {
              coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }],
            },
            valueQuantity: quantity(128, 'mm[Hg]', 'mmHg'),
          },
          {
            code: {
              coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }],
            },
            valueQuantity: quantity(82, 'mm[Hg]', 'mmHg'),
          },
        ],
      });
    });

    it('never serves vitals of a soft-deleted form, vitals without a form, or unmeasured (0, empty) values', async () => {
      const d = await data(`{
      deletedForm: Observation(id: "2-29463-7") { id }
      noForm: Observation(id: "4-29463-7") { id }
      zeroWeight: Observation(id: "3-29463-7") { id }
      emptyPressure: Observation(id: "3-85354-9") { id }
      ofDeletedForm: ObservationList(encounter: "Encounter/900002") { id }
      count: ObservationConnection(_count: 0) { count }
    }`);
      expect(d).toEqual({
        deletedForm: null,
        noForm: null,
        zeroWeight: null,
        emptyPressure: null,
        ofDeletedForm: [],
        count: { count: 13 },
      });
      // Vitals row 1 shares form_id 1 with encounter form 1 and SOAP form 1: each item once.
      expect(await ids('Observation', 'patient: "Patient/1", _count: 50')).toEqual(VITALS_1);
      expect(await ids('Observation', 'patient: "Patient/2", _count: 50')).toEqual([
        '3-8302-2',
        '3-8867-4',
        '5-29463-7',
        '5-8302-2',
        '5-8310-5',
        '5-8867-4',
        '5-85354-9',
      ]);
      expect(await ids('Observation', 'code: "29463-7"')).toEqual(['1-29463-7', '5-29463-7']);
      expect(await ids('Observation', 'code: "8302-2", date: "ge2024-03"')).toEqual([
        '3-8302-2',
        '5-8302-2',
      ]);
      const five = await read('Observation', '5-8310-5');
      // 99.1 degF
      expect(five?.['valueQuantity']).toEqual(quantity(37.3, 'Cel'));
    });
  });

  describe('lists: problems and allergies, status against today', () => {
    it('derives clinicalStatus from outcome and enddate vs today; abatement only once past', async () => {
      const conditions = await list('Condition', '_count: 50');
      // Row 11's activity is NULL: on the list (anyOf activity = 1 or NULL); row 9's is 0.
      expect(conditions.map((c) => c['id'])).toEqual(['1', '2', '3', '4', '5', '10', '11']);
      const [hypertension, bronchitis, diabetes, fracture, migraine, lupus, asthma] = conditions;
      expect(hypertension).toEqual({
        resourceType: 'Condition',
        id: '1',
        clinicalStatus: clinical(CONDITION_CLINICAL, 'active'),
        verificationStatus: clinical(CONDITION_VERIFICATION, 'confirmed'),
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
          coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'I10' }],
          text: 'Essential hypertension',
        },
        subject: { reference: 'Patient/1' },
        onsetDateTime: '2019-05-01',
        recordedDate: '2019-05-01',
        note: [{ text: "Patient's BP well controlled" }],
      });
      // enddate in the past: inactive, abated.
      expect(bronchitis).toMatchObject({
        clinicalStatus: clinical(CONDITION_CLINICAL, 'inactive'),
        abatementDateTime: '2023-12-01',
      });
      // enddate in 2099: still active, not abated; two codes in one cell.
      expect(diabetes).toMatchObject({
        clinicalStatus: clinical(CONDITION_CLINICAL, 'active'),
        verificationStatus: clinical(CONDITION_VERIFICATION, 'unconfirmed'),
        code: {
          coding: [
            { system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'E11.9' },
            { system: 'http://snomed.info/sct', code: '44054006' },
          ],
          text: 'Type 2 diabetes mellitus',
        },
        subject: { reference: 'Patient/2' },
      });
      expect(diabetes?.['abatementDateTime']).toBeUndefined();
      // outcome 1 wins: resolved.
      expect(fracture).toMatchObject({
        clinicalStatus: clinical(CONDITION_CLINICAL, 'resolved'),
        abatementDateTime: '2022-04-01',
      });
      // A zero enddate is no end date.
      expect(migraine).toMatchObject({ clinicalStatus: clinical(CONDITION_CLINICAL, 'active') });
      expect(migraine?.['abatementDateTime']).toBeUndefined();
      expect(lupus).toMatchObject({
        code: { text: 'Lupus érythémateux' },
        verificationStatus: clinical(CONDITION_VERIFICATION, 'provisional'),
      });
      expect(lupus?.['code']).toEqual({ text: 'Lupus érythémateux' });
      expect(asthma).toMatchObject({
        clinicalStatus: clinical(CONDITION_CLINICAL, 'active'),
        subject: { reference: 'Patient/3' },
        onsetDateTime: '2012-09-09',
      });
      const d = await data(`{
      deactivated: Condition(id: "9") { id }
      allergy: Condition(id: "6") { id }
      medication: Condition(id: "8") { id }
    }`);
      expect(d).toEqual({ deactivated: null, allergy: null, medication: null });
      expect(await ids('Condition', 'patient: "Patient/2"')).toEqual(['3', '4']);
      expect(await ids('Condition', 'onset_date: "lt2016"')).toEqual(['3', '11']);
      // Zero end dates never match a date search.
      expect(await ids('Condition', 'abatement_date: "le2024"')).toEqual(['2', '4']);
    });

    it('serves allergies with criticality, reaction and status against today', async () => {
      expect(await list('AllergyIntolerance', '_count: 10')).toEqual([
        {
          resourceType: 'AllergyIntolerance',
          id: '6',
          clinicalStatus: clinical(ALLERGY_CLINICAL, 'active'),
          verificationStatus: clinical(ALLERGY_VERIFICATION, 'confirmed'),
          criticality: 'high',
          code: {
            coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7980' }],
            text: 'Penicillin',
          },
          patient: { reference: 'Patient/1' },
          onsetDateTime: '2010-06-01',
          recordedDate: '2010-06-01',
          reaction: [{ manifestation: [{ text: 'hives' }] }],
        },
        {
          resourceType: 'AllergyIntolerance',
          id: '7',
          clinicalStatus: clinical(ALLERGY_CLINICAL, 'inactive'),
          verificationStatus: clinical(ALLERGY_VERIFICATION, 'unconfirmed'),
          code: { text: 'Latex' },
          patient: { reference: 'Patient/2' },
          onsetDateTime: '2018-01-01',
          recordedDate: '2018-01-01',
        },
      ]);
      expect(await ids('AllergyIntolerance', 'patient: "Patient/1"')).toEqual(['6']);
    });
  });

  describe('reverse references and statement counts', () => {
    it('lists a patient’s encounters, vitals, problems and allergies; an encounter’s vitals', async () => {
      const from = gw.statements.length;
      const d = await data(`{
      Patient(id: "1") {
        EncounterList(_reference: patient) { id }
        ObservationList(_reference: subject, _count: 50) { id }
        ConditionList(_reference: patient) { id }
        AllergyIntoleranceList(_reference: patient) { id }
      }
      Encounter(id: "900001") { ObservationList(_reference: encounter, _count: 50) { id } }
    }`);
      expect(d).toEqual({
        Patient: {
          EncounterList: [{ id: '900001' }, { id: '900002' }],
          ObservationList: VITALS_1.map((id) => ({ id })),
          ConditionList: [{ id: '1' }, { id: '2' }, { id: '10' }],
          AllergyIntoleranceList: [{ id: '6' }],
        },
        Encounter: { ObservationList: VITALS_1.map((id) => ({ id })) },
      });
      // Level 1: the patient and the encounter; level 2: one statement per list (the vitals with
      // their forms join in the same statement).
      const tables = statementsSince(from).map(
        (sql) => /\bFROM [`"](\w+)[`"]/.exec(sql)?.[1] ?? sql,
      );
      expect(tables.sort()).toEqual([
        'form_encounter',
        'form_encounter',
        'form_vitals',
        'form_vitals',
        'lists',
        'lists',
        'patient_data',
      ]);
    });
  });

  describe('the mapping checker (information_schema)', () => {
    it('passes the whole format 2 mapping against the live schema, warning only of lookups no index makes unique', async () => {
      const db = gw.tenantDbs.get(OPENEMR)!;
      const database = openTenantDatabase(db);
      try {
        const result = await checkMapping(openemrMapping(), { defs: loadDefinitions(), database });
        // form_id is unique per formdir in OpenEMR's code only (forms has a plain KEY form_id):
        // the checker can only warn, and the mapping activates (ok). The vitals tests show each
        // item served once.
        expect(result.ok).toBe(true);
        expect(
          result.problems.map((p) => `${p.severity} ${p.resource} ${p.path} ${p.column}`),
        ).toEqual(['warning Observation joins[0] form_id']);
        for (const problem of result.problems) {
          expect(problem.message).toContain('is not a unique key');
        }
      } finally {
        await database.close();
      }
    });
  });

  describe('conformance', () => {
    it('serves every live row of every mapped type as valid R4', async () => {
      const served: Record<string, string[]> = {};
      for (const type of Object.keys(FIELDS)) {
        served[type] = (await list(type, '_count: 100')).map((r) => String(r['id']));
      }
      expect(served).toEqual({
        Patient: ['1', '2', '3', '4', ...FILLERS],
        Practitioner: ['2', '3'],
        Encounter: ['900001', '900002', '900003', '900005'],
        Observation: [
          ...VITALS_1,
          '3-8302-2',
          '3-8867-4',
          '5-29463-7',
          '5-8302-2',
          '5-8310-5',
          '5-8867-4',
          '5-85354-9',
        ],
        Condition: ['1', '2', '3', '4', '5', '10', '11'],
        AllergyIntolerance: ['6', '7'],
      });
    });

    it('validated every resource the tests received against R4, with zero errors', () => {
      // Counted by `valid()`: each passed medplum's validateResource and the required-binding check.
      expect(validated).toEqual({
        Patient: 16,
        Practitioner: 4,
        Encounter: 8,
        Observation: 20,
        Condition: 14,
        AllergyIntolerance: 4,
      });
    });
  });
});
