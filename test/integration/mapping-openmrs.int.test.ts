import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../src/fhir/build-extract.js';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { checkMapping } from '../../src/mapping/check-mapping.js';
import {
  CIEL,
  FILLER_IDS,
  NATIONAL_ID_SYSTEM,
  OPENMRS,
  OPENMRS_ID_SYSTEM,
  openmrsMapping,
  openmrsTenant,
  PROVIDER_ID_SYSTEM,
} from '../fixtures/openmrs-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { openTenantDatabase } from '../helpers/tenant-database.js';
import { validatingClient } from '../helpers/validating-client.js';
import { loadR4Definitions } from '../unit/conformance/r4-validator.js';

/**
 * An OpenMRS-core-shaped hospital (`test/fixtures/openmrs-tenant.ts`) served through the real
 * HTTP gateway from `mappings/openmrs.json` alone: mapping format 2, zero views. Demographics
 * joined from `person`, names / identifiers / addresses from child tables, EAV observations whose
 * value element depends on the concept's datatype, codes three hops away, voided rows and voided
 * parents. Every resource a test receives is validated against R4.
 */
let gw: TestGateway;
let token: string;

const FIELDS: Record<string, string> = {
  Patient: `resourceType id identifier { use type { text } system value }
    name { use text family given prefix } gender birthDate deceasedBoolean deceasedDateTime
    address { line city district state postalCode country }`,
  Practitioner:
    'resourceType id identifier { system value } active name { text family given } gender',
  Location: `resourceType id status name description
    address { line city state postalCode country } partOf { reference display }`,
  Encounter: `resourceType id status class { system code } type { text } subject { reference }
    period { start } location { location { reference display } }
    participant { type { text } individual { reference display } }`,
  Observation: `resourceType id status code { coding { system code display } text }
    subject { reference } encounter { reference } effectiveDateTime
    valueQuantity { value unit system code } valueCodeableConcept { coding { system code } text }
    valueString valueDateTime valueBoolean`,
};

// The same tables and rows on both servers (`postgresDdl`, `insertRows`); one gateway at a time.
describe.each(['mysql', 'postgres'] as const)('OpenMRS on %s', (engine) => {
  // MariaDB's utf8mb4_unicode_ci ignores accents; PostgreSQL's ILIKE does not (docs/tenants.md).
  const accentFolded = (found: string[]) => (engine === 'mysql' ? found : []);
  const { validated, data, list, read, ids, statementsSince } = validatingClient({
    fields: FIELDS,
    clientId: OPENMRS,
    gateway: () => gw,
    token: () => token,
  });

  beforeAll(async () => {
    loadR4Definitions();
    gw = await createTestGateway({
      tenants: [openmrsTenant()],
      resourceTypes: R4_EXTRACT_RESOURCE_TYPES,
      engine,
    });
    token = await gw.tokenFor(OPENMRS);
  });

  afterAll(async () => {
    await gw?.close();
  });

  const LOINC = 'http://loinc.org';
  const SNOMED = 'http://snomed.info/sct';
  const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
  const UCUM = 'http://unitsofmeasure.org';
  const FILLERS = FILLER_IDS.map(String);

  describe('Patient: person, patient and child tables joined', () => {
    it('builds patient 1 field by field: preferred name and identifier first, voided ones out', async () => {
      expect(await read('Patient', '1')).toEqual({
        resourceType: 'Patient',
        id: '1',
        // Preferred first (identifier 2), then by id; the voided '999-9' is not there.
        identifier: [
          {
            use: 'official',
            type: { text: 'OpenMRS ID' },
            system: OPENMRS_ID_SYSTEM,
            value: '100-8',
          },
          {
            use: 'secondary',
            type: { text: 'National ID' },
            system: NATIONAL_ID_SYSTEM,
            value: 'KE-12345678',
          },
        ],
        // Name 2 is preferred although name 1 has the lower id; the voided 'Smith' is not there.
        name: [
          { use: 'official', text: "Zoë Anne O'Brien", family: "O'Brien", given: ['Zoë', 'Anne'] },
          { use: 'usual', text: 'Zoe OBrien', family: 'OBrien', given: ['Zoe'] },
        ],
        gender: 'female',
        birthDate: '1984-03-12',
        deceasedBoolean: false,
        address: [
          {
            line: ['12 Kenyatta Ave'],
            city: 'Eldoret',
            district: 'Kapseret',
            state: 'Uasin Gishu',
            postalCode: '30100',
            country: 'Kenya',
          },
        ],
      });
    });

    it('serves an estimated birthdate with year precision, and death as a dateTime or a boolean', async () => {
      const [jose, amani, kwame, bjork] = await Promise.all(
        ['2', '3', '4', '6'].map((id) => read('Patient', id)),
      );
      expect(jose).toEqual({
        resourceType: 'Patient',
        id: '2',
        identifier: [
          {
            use: 'official',
            type: { text: 'OpenMRS ID' },
            system: OPENMRS_ID_SYSTEM,
            value: '101-6',
          },
        ],
        name: [
          { use: 'official', text: 'José María Núñez', family: 'Núñez', given: ['José', 'María'] },
        ],
        gender: 'male',
        // birthdate_estimated = 1: 1960-07-01 is only good to the year.
        birthDate: '1960',
        // dead = 1 with a death_date: the dateTime variant, not the boolean one.
        deceasedDateTime: '2023-05-04T10:00:00+03:00',
        address: [{ city: "Murang'a", country: 'Kenya' }],
      });
      // dead = 1 without a date: deceasedBoolean; no birthdate at all.
      expect(amani).toEqual({
        resourceType: 'Patient',
        id: '3',
        identifier: [
          {
            use: 'official',
            type: { text: 'OpenMRS ID' },
            system: OPENMRS_ID_SYSTEM,
            value: '102-4',
          },
        ],
        name: [
          {
            use: 'official',
            text: 'Dr. Amani Müller-Lüdenscheidt',
            family: 'Müller-Lüdenscheidt',
            given: ['Amani'],
            prefix: ['Dr.'],
          },
        ],
        gender: 'female',
        deceasedBoolean: true,
      });
      // An identifier type the mapping has no system for: type text and value only.
      expect(kwame).toMatchObject({
        identifier: [
          {
            use: 'official',
            type: { text: 'OpenMRS ID' },
            system: OPENMRS_ID_SYSTEM,
            value: '103-2',
          },
          { use: 'secondary', type: { text: 'Old Identification Number' }, value: 'OLD-77' },
        ],
        name: [{ family: "D'Souza", given: ['Kwame'] }],
        birthDate: '1990-01-31',
        deceasedBoolean: false,
      });
      const [, oldId] = (kwame?.['identifier'] ?? []) as Record<string, unknown>[];
      expect(oldId).toEqual({
        use: 'secondary',
        type: { text: 'Old Identification Number' },
        value: 'OLD-77',
      });
      expect(bjork).toMatchObject({
        gender: 'unknown',
        birthDate: '2001',
        deceasedBoolean: false,
        name: [
          { use: 'official', text: 'Björk Ólafsdóttir', family: 'Ólafsdóttir', given: ['Björk'] },
        ],
      });
    });

    it('never serves a voided patient: not by id, not in searches, counts or references', async () => {
      const d = await data(`{
      read: Patient(id: "5") { id }
      byName: PatientList(family: "Ghost") { id }
      byIdentifier: PatientList(identifier: "104-0") { id }
      count: PatientConnection(_count: 0) { count }
      encounter: Encounter(id: "5") { id }
      obs: Observation(id: "13") { id }
    }`);
      expect(d).toEqual({
        read: null,
        byName: [],
        byIdentifier: [],
        count: { count: 5 + FILLERS.length },
        encounter: null,
        obs: null,
      });
      expect(await ids('Patient', '_count: 100')).toEqual(['1', '2', '3', '4', '6', ...FILLERS]);
    });
  });

  describe('Observation: one EAV row per value, typed by the concept datatype', () => {
    it('a numeric obs: valueQuantity, codings three hops away with SAME-AS first, the en fully specified name', async () => {
      expect(await read('Observation', '1')).toEqual({
        resourceType: 'Observation',
        id: '1',
        status: 'final',
        // SAME-AS maps by map id (LOINC 2, CIEL 3), then the NARROWER-THAN map 1; the retired
        // term and the BROADER-THAN map are not codings.
        code: {
          coding: [
            { system: LOINC, code: '3141-9', display: 'Body weight Measured' },
            { system: CIEL, code: '5089' },
            { system: SNOMED, code: '27113001', display: 'Body weight' },
          ],
          text: 'Weight (kg)',
        },
        subject: { reference: 'Patient/1' },
        encounter: { reference: 'Encounter/1' },
        effectiveDateTime: '2024-01-15T09:35:00+03:00',
        valueQuantity: { value: 61.5, unit: 'kg', system: UCUM, code: 'kg' },
      });
      // Units through concept_numeric; 'DEG C' has the UCUM code Cel. No encounter: none written.
      const temperature = await read('Observation', '12');
      expect(temperature).toMatchObject({
        code: {
          coding: [
            { system: CIEL, code: '5088' },
            { system: LOINC, code: '8310-5', display: 'Body temperature' },
          ],
          text: 'Temperature (c)',
        },
        valueQuantity: { value: 37.2, unit: 'DEG C', system: UCUM, code: 'Cel' },
      });
      expect(temperature?.['encounter']).toBeUndefined();
    });

    it('a coded obs: valueCodeableConcept from the answer concept, its own SAME-AS codings and name', async () => {
      const [hypertension, diabetes, nonCoded] = await Promise.all(
        ['3', '11', '17'].map((id) => read('Observation', id)),
      );
      expect(hypertension).toEqual({
        resourceType: 'Observation',
        id: '3',
        status: 'final',
        code: { coding: [{ system: CIEL, code: '6042' }], text: 'Problem added' },
        subject: { reference: 'Patient/1' },
        encounter: { reference: 'Encounter/1' },
        effectiveDateTime: '2024-01-15T09:50:00+03:00',
        // Not 'Hypertension (old)' (voided), 'HTN' (short), the French name or the synonym.
        valueCodeableConcept: {
          coding: [
            { system: CIEL, code: '117399' },
            { system: SNOMED, code: '38341003' },
            { system: ICD10, code: 'I10' },
          ],
          text: 'Hypertension',
        },
      });
      // The NARROWER-THAN ICD-10 map of diabetes is not a coding of the answer (SAME-AS only).
      expect(diabetes?.['valueCodeableConcept']).toEqual({
        coding: [
          { system: CIEL, code: '119481' },
          { system: SNOMED, code: '73211009' },
        ],
        text: 'Diabetes mellitus',
      });
      // An answer concept with no mappings: text only.
      expect(nonCoded?.['valueCodeableConcept']).toEqual({ text: 'Other non-coded' });
    });

    it('text, date, datetime and boolean obs: exactly one value[x] each', async () => {
      const [note, returnDate, legacyFalse, codedTrue, frenchNote, eventDate, codedFalse] =
        await Promise.all(
          ['4', '5', '6', '7', '15', '16', '18'].map((id) => read('Observation', id)),
        );
      expect(note).toEqual({
        resourceType: 'Observation',
        id: '4',
        status: 'final',
        code: { coding: [{ system: CIEL, code: '161011' }], text: 'Free text comment' },
        subject: { reference: 'Patient/1' },
        encounter: { reference: 'Encounter/1' },
        effectiveDateTime: '2024-01-15T09:55:00+03:00',
        valueString: `Patient's sister has "similar" symptoms; café visit advised`,
      });
      expect(frenchNote?.['valueString']).toBe('Douleur thoracique — à revoir');
      // Datatype Date: the date only; Datetime: with the hospital's offset.
      expect(returnDate).toMatchObject({
        code: { coding: [{ system: CIEL, code: '5096' }], text: 'Return visit date' },
        valueDateTime: '2024-02-15',
      });
      expect(eventDate?.['valueDateTime']).toBe('2024-06-09T22:45:00+03:00');
      // Booleans: the legacy value_boolean column, and value_coded TRUE (1065) / FALSE (1066).
      // The local concept has no mappings: code text only.
      expect(legacyFalse).toEqual({
        resourceType: 'Observation',
        id: '6',
        status: 'final',
        code: { text: 'Currently smokes' },
        subject: { reference: 'Patient/1' },
        encounter: { reference: 'Encounter/1' },
        effectiveDateTime: '2024-01-15T09:57:00+03:00',
        valueBoolean: false,
      });
      expect(codedTrue?.['valueBoolean']).toBe(true);
      expect(codedFalse).toMatchObject({
        subject: { reference: 'Patient/6' },
        valueBoolean: false,
      });
      const variants = ['valueQuantity', 'valueCodeableConcept', 'valueString', 'valueDateTime'];
      for (const obs of [note, returnDate, legacyFalse, codedTrue, eventDate, codedFalse]) {
        const present = [...variants, 'valueBoolean'].filter((k) => obs?.[k] !== undefined);
        expect(present, String(obs?.['id'])).toHaveLength(1);
      }
    });

    it('never serves a voided obs, an obs of a voided encounter or of a voided patient', async () => {
      const d = await data(`{
      voided: Observation(id: "9") { id }
      ofVoidedEncounter: Observation(id: "8") { id }
      ofVoidedPatient: Observation(id: "13") { id }
      count: ObservationConnection(_count: 0) { count }
    }`);
      expect(d).toEqual({
        voided: null,
        ofVoidedEncounter: null,
        ofVoidedPatient: null,
        count: { count: 15 + FILLERS.length },
      });
      expect(await ids('Observation', 'patient: "Patient/1", _count: 50')).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
      ]);
    });
  });

  describe('Encounter, Practitioner and Location', () => {
    it('builds encounter 1: type and location through joins, providers and roles from encounter_provider', async () => {
      expect(await read('Encounter', '1')).toEqual({
        resourceType: 'Encounter',
        id: '1',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        type: [{ text: 'Adult Initial' }],
        subject: { reference: 'Patient/1' },
        period: { start: '2024-01-15T09:30:00+03:00' },
        location: [{ location: { reference: 'Location/3', display: 'Outpatient Clinic' } }],
        // The voided encounter_provider row (provider 3) is not a participant; provider 1 has no
        // name of its own (its person has one), so no display.
        participant: [
          { type: [{ text: 'Clinician' }], individual: { reference: 'Practitioner/1' } },
          {
            type: [{ text: 'Unknown' }],
            individual: { reference: 'Practitioner/2', display: 'Pierre-Émile Lefèvre' },
          },
        ],
      });
      const four = await read('Encounter', '4');
      expect(four).toEqual({
        resourceType: 'Encounter',
        id: '4',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        type: [{ text: 'Vitals' }],
        subject: { reference: 'Patient/4' },
        period: { start: '2024-06-10T08:15:00+03:00' },
      });
      expect(await ids('Encounter', '_count: 100')).toEqual(['1', '3', '4', ...FILLERS]);
    });

    it('builds providers from provider, person and person_name, and locations with their parent', async () => {
      expect(await list('Practitioner', '_count: 10')).toEqual([
        {
          resourceType: 'Practitioner',
          id: '1',
          identifier: [{ system: PROVIDER_ID_SYSTEM, value: 'PRV-001' }],
          active: true,
          name: [{ text: 'Jane Wanjiru', family: 'Wanjiru', given: ['Jane'] }],
          gender: 'female',
        },
        {
          resourceType: 'Practitioner',
          id: '2',
          identifier: [{ system: PROVIDER_ID_SYSTEM, value: 'PRV-002' }],
          active: true,
          name: [{ text: 'Pierre-Émile Lefèvre' }],
        },
        {
          resourceType: 'Practitioner',
          id: '3',
          identifier: [{ system: PROVIDER_ID_SYSTEM, value: 'PRV-003' }],
          active: false,
          name: [{ text: "Mary O'Connor" }],
        },
      ]);
      expect(await list('Location', '_count: 10')).toEqual([
        { resourceType: 'Location', id: '1', status: 'active', name: 'Unknown Location' },
        {
          resourceType: 'Location',
          id: '2',
          status: 'active',
          name: 'Moi Teaching and Referral Hospital',
          description: 'Referral hospital',
          address: {
            line: ['Nandi Road'],
            city: 'Eldoret',
            state: 'Uasin Gishu',
            postalCode: '30100',
            country: 'Kenya',
          },
        },
        {
          resourceType: 'Location',
          id: '3',
          status: 'active',
          name: 'Outpatient Clinic',
          description: 'MTRH outpatient',
          address: { city: 'Eldoret', country: 'Kenya' },
          partOf: { reference: 'Location/2', display: 'Moi Teaching and Referral Hospital' },
        },
      ]);
    });
  });

  describe('searches through joined and child columns', () => {
    it('Patient by name through person_name (every live name, not voided ones), identifier, gender, dates', async () => {
      expect(await ids('Patient', `family: "O'B"`)).toEqual(['1']);
      expect(await ids('Patient', 'family: "OBrien"')).toEqual(['1']);
      expect(await ids('Patient', 'family: "Smith"')).toEqual([]);
      // The collation (utf8mb4_unicode_ci) ignores accents and case.
      expect(await ids('Patient', 'family: "nunez"')).toEqual(accentFolded(['2']));
      expect(await ids('Patient', 'family_exact: "Müller-Lüdenscheidt"')).toEqual(['3']);
      expect(await ids('Patient', 'given: "Anne"')).toEqual(['1']);
      expect(await ids('Patient', 'name: "kwa"')).toEqual(['4']);
      expect(await ids('Patient', 'identifier: "100-8"')).toEqual(['1']);
      expect(await ids('Patient', 'identifier: "KE-12345678"')).toEqual(['1']);
      expect(await ids('Patient', 'identifier: "999-9"')).toEqual([]);
      expect(await ids('Patient', 'gender: "unknown"')).toEqual(['6']);
      expect(await ids('Patient', 'gender: "female", _count: 50')).toEqual([
        '1',
        '3',
        ...FILLERS.filter((_, i) => i % 2 === 0),
      ]);
      expect(await ids('Patient', 'birthdate: "1960"')).toEqual(['2']);
      // Sorted by a column of the person join, NULL birthdates last when descending.
      expect(await ids('Patient', '_sort: ["-birthdate"], _count: 5')).toEqual([
        '6',
        '4',
        '116',
        '1',
        '115',
      ]);
      expect(await ids('Patient', 'death_date: "ge2023"')).toEqual(['2']);
      expect(await ids('Patient', 'address_city: "Eldoret"')).toEqual(['1']);
      expect(await ids('Patient', 'address_city: "Kitale"')).toEqual([]);
    });

    it('Observation by code through concept_reference_map -> term, and by coded answer', async () => {
      const weights = ['1', '14', ...FILLERS];
      expect(await ids('Observation', 'code: "3141-9", _count: 50')).toEqual(weights);
      expect(await ids('Observation', 'code: "5089", _count: 50')).toEqual(weights);
      // A NARROWER-THAN map is a coding of the concept, so it finds the weights too.
      expect(await ids('Observation', 'code: "27113001", _count: 50')).toEqual(weights);
      // Retired term, BROADER-THAN map: never a coding, never found.
      expect(await ids('Observation', 'code: ["3140-1", "363808001"]')).toEqual([]);
      expect(await ids('Observation', 'code: "8310-5"')).toEqual(['12']);
      expect(await ids('Observation', 'code: "5089", patient: "Patient/1"')).toEqual(['1']);
      expect(await ids('Observation', 'value_concept: "38341003"')).toEqual(['3']);
      expect(await ids('Observation', 'value_concept: ["119481", "E14"]')).toEqual(['11']);
      expect(await ids('Observation', 'value_string: "café"')).toEqual(['4']);
      expect(await ids('Observation', 'value_string: "revoir"')).toEqual(['15']);
      expect(await ids('Observation', 'value_date: "2024-06"')).toEqual(['16']);
      expect(await ids('Observation', 'encounter: "Encounter/3"')).toEqual(['10', '11']);
    });

    it('Encounter by joined type name and location; Practitioner by joined person name', async () => {
      expect(await ids('Encounter', 'type: "Vitals"')).toEqual(['4']);
      expect(await ids('Encounter', 'type: "Adult Initial"')).toEqual(['1']);
      expect(await ids('Encounter', 'location: "Location/3"')).toEqual(['1', '3']);
      expect(await ids('Practitioner', 'name: "Wanjiru"')).toEqual(['1']);
      expect(await ids('Practitioner', 'name: "lefevre"')).toEqual(accentFolded(['2']));
      expect(await ids('Practitioner', 'family: "Wanjiru"')).toEqual(['1']);
      expect(await ids('Location', 'address_city: "Eldoret"')).toEqual(['2', '3']);
      expect(await ids('Location', 'partof: "Location/2"')).toEqual(['3']);
    });
  });

  describe('reverse references and statement counts', () => {
    it('lists a patient’s encounters and observations, an encounter’s observations, a location’s encounters', async () => {
      const d = await data(`{
      one: Patient(id: "1") {
        EncounterList(_reference: patient) { id }
        ObservationList(_reference: subject, _count: 50) { id }
      }
      two: Patient(id: "2") { ObservationList(_reference: subject) { id } }
      encounter: Encounter(id: "1") { ObservationList(_reference: encounter, _count: 50) { id } }
      location: Location(id: "3") { EncounterList(_reference: location) { id } }
    }`);
      expect(d).toEqual({
        one: {
          EncounterList: [{ id: '1' }],
          ObservationList: ['1', '2', '3', '4', '5', '6', '7'].map((id) => ({ id })),
        },
        two: { ObservationList: [{ id: '10' }, { id: '11' }, { id: '12' }] },
        encounter: {
          ObservationList: ['1', '2', '3', '4', '5', '6', '7'].map((id) => ({ id })),
        },
        location: { EncounterList: [{ id: '1' }, { id: '3' }] },
      });
    });

    it('reads a patient with its observations in one statement per level and child plan', async () => {
      const from = gw.statements.length;
      const d = await data(`{
      Patient(id: "1") {
        name { family } identifier { value }
        ObservationList(_reference: subject, _count: 50) {
          id code { coding { code } text } valueCodeableConcept { coding { code } text }
        }
      }
    }`);
      expect(d['Patient']).toMatchObject({
        name: [{ family: "O'Brien" }, { family: 'OBrien' }],
        identifier: [{ value: '100-8' }, { value: 'KE-12345678' }],
      });
      const tables = statementsSince(from).map(
        (sql) => /\bFROM [`"](\w+)[`"]/.exec(sql)?.[1] ?? sql,
      );
      // Patient (with its person join), its names and identifiers, the observations (with their
      // concept, datatype and name joins), and the two coding child plans (question, answer).
      expect(tables[0]).toBe('patient');
      expect(tables.slice(1).sort()).toEqual([
        'concept_reference_map',
        'concept_reference_map',
        'obs',
        'patient_identifier',
        'person_name',
      ]);
    });
  });

  describe('the mapping checker (information_schema)', () => {
    it('passes the whole format 2 mapping against the live schema, warning only of lookups no index makes unique', async () => {
      const db = gw.tenantDbs.get(OPENMRS)!;
      const database = openTenantDatabase(db);
      try {
        const result = await checkMapping(openmrsMapping(), { defs: loadDefinitions(), database });
        // OpenMRS keeps one preferred name per person and one preferred fully specified name per
        // concept and locale in code, not in a unique index: the checker can only warn, and the
        // mapping activates (ok). The tests above show each row served once.
        expect(result.ok).toBe(true);
        expect(
          result.problems.map((p) => `${p.severity} ${p.resource} ${p.path} ${p.column}`),
        ).toEqual([
          'warning Practitioner joins[1] person_id',
          'warning Observation joins[2] concept_id',
          'warning Observation joins[3] concept_id',
        ]);
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
        Patient: ['1', '2', '3', '4', '6', ...FILLERS],
        Practitioner: ['1', '2', '3'],
        Location: ['1', '2', '3'],
        Encounter: ['1', '3', '4', ...FILLERS],
        Observation: [
          '1',
          '2',
          '3',
          '4',
          '5',
          '6',
          '7',
          '10',
          '11',
          '12',
          '14',
          '15',
          '16',
          '17',
          '18',
          ...FILLERS,
        ],
      });
    });

    it('validated every resource the tests received against R4, with zero errors', () => {
      // Counted by `valid()`: each passed medplum's validateResource and the required-binding check.
      expect(validated).toEqual({
        Patient: 26,
        Practitioner: 6,
        Location: 6,
        Encounter: 21,
        Observation: 43,
      });
    });
  });
});
