import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../src/fhir/build-extract.js';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { checkMapping } from '../../src/mapping/check-mapping.js';
import {
  HOSPITAL_C,
  hospitalCMapping,
  hospitalCTenant,
  RUT_SYSTEM,
} from '../fixtures/hospital-c-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { openTenantDatabase } from '../helpers/tenant-database.js';
import { validatingClient } from '../helpers/validating-client.js';
import { loadR4Definitions } from '../unit/conformance/r4-validator.js';

/**
 * Every feature of the mapping language and of search, against MariaDB and PostgreSQL (the same
 * suite runs for each) and through the real HTTP gateway: hospital C's legacy tables (`test/fixtures/hospital-c-tenant.ts`) in, standard FHIR R4
 * out. Every resource a test receives is validated against the R4 StructureDefinitions
 * (medplum's validator plus required bindings); the last test asserts how many were.
 */
let gw: TestGateway;
let token: string;

/** The 12 resource types the schema serves by default. */
const ALL_TYPES = R4_EXTRACT_RESOURCE_TYPES;

/** Selection sets that cover every element hospital C maps, per type. */
const FIELDS: Record<string, string> = {
  Patient: `resourceType id identifier { system value } name { use text family given } gender
    birthDate active telecom { system value use } address { line city }`,
  Practitioner: `resourceType id active identifier { system value } name { family given text }
    telecom { system value use } birthDate`,
  Encounter: `resourceType id status class { system code } subject { reference }
    participant { type { text } individual { reference display } } period { start end }
    reasonCode { text }`,
  Observation: `resourceType id status category { coding { system code } }
    code { coding { system code display } } subject { reference } encounter { reference }
    effectiveDateTime valueQuantity { value unit system code }
    component { code { coding { system code display } } valueQuantity { value unit system code } }`,
  Condition: `resourceType id clinicalStatus { coding { system code } }
    verificationStatus { coding { system code } } category { coding { system code } }
    code { coding { system code } text } subject { reference } encounter { reference }
    recordedDate note { text }`,
  AllergyIntolerance: `resourceType id clinicalStatus { coding { system code } }
    verificationStatus { coding { system code } } code { coding { system code } text }
    patient { reference } recordedDate reaction { manifestation { text } }`,
  MedicationRequest: `resourceType id status intent medicationCodeableConcept { coding { system code } text }
    subject { reference } encounter { reference } authoredOn dosageInstruction { text route { text } }`,
};

type Json = Record<string, unknown>;

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';

// The same tables and rows on both servers (`postgresDdl`, `insertRows`); one gateway at a time.
describe.each(['mysql', 'postgres'] as const)('hospital C on %s', (engine) => {
  const { validated, data, list, read, ids, statementsSince } = validatingClient({
    fields: FIELDS,
    clientId: HOSPITAL_C,
    gateway: () => gw,
    token: () => token,
  });

  beforeAll(async () => {
    loadR4Definitions();
    gw = await createTestGateway({
      tenants: [hospitalCTenant()],
      resourceTypes: ALL_TYPES,
      engine,
    });
    token = await gw.tokenFor(HOSPITAL_C);
  });

  afterAll(async () => {
    await gw?.close();
  });

  describe('columns, constants and transforms', () => {
    it('maps columns and constants, trims, splits, templates, booleans and JSON phones (Patient 1)', async () => {
      expect(await read('Patient', '1')).toEqual({
        resourceType: 'Patient',
        id: '1',
        identifier: [{ system: RUT_SYSTEM, value: '11111111-1' }],
        name: [
          {
            use: 'official',
            text: 'MARIA JOSE GONZALEZ PEREZ',
            family: 'GONZALEZ PEREZ',
            given: ['MARIA', 'JOSE'],
          },
        ],
        gender: 'female',
        birthDate: '1980-05-17',
        active: true,
        // A JSON column: one ContactPoint per entry; the entry without a number keeps its use,
        // the string entry gives nothing.
        telecom: [
          { system: 'phone', value: '+56911111111', use: 'mobile' },
          { system: 'phone', value: '221234567', use: 'home' },
          { system: 'phone', use: 'mobile' },
        ],
        // `split` with its default ',' separator; the empty last part is dropped.
        address: [{ line: ['Av. Siempre Viva 742', 'Depto 5'], city: 'Santiago' }],
      });
    });

    it('turns legacy edge values into absent elements, never errors', async () => {
      const [juan, ana, anaX, rosa, pedro] = await Promise.all(
        ['2', '3', '4', '5', '6'].map((id) => read('Patient', id)),
      );
      // ' 22222222-2 ' trimmed; 'N' is false; '{not json' gives no phones.
      expect(juan).toMatchObject({
        identifier: [{ value: '22222222-2' }],
        active: false,
        gender: 'male',
      });
      expect(juan?.['telecom']).toBeUndefined();
      // 's' is true (boolean defaults), '?' is absent, 'X' is not in the gender map (no default).
      expect(ana?.['active']).toBe(true);
      expect(anaX?.['active']).toBeUndefined();
      expect(anaX?.['gender']).toBeUndefined();
      // A MariaDB zero date is absent; so is a NULL flag.
      expect(rosa).toMatchObject({ id: '5', name: [{ family: '100% SOTO' }] });
      expect(rosa?.['birthDate']).toBeUndefined();
      expect(rosa?.['active']).toBeUndefined();
      // A NULL RUT drops the whole identifier (its system is a constant); '[]' gives no phones.
      expect(pedro).toMatchObject({ id: '6', active: true, birthDate: '2000-02-29' });
      expect(pedro?.['identifier']).toBeUndefined();
      expect(pedro?.['telecom']).toBeUndefined();
    });

    it('builds a HumanName with splitName, fixed telecom items from three columns, BIT(1) and DD/MM/YYYY', async () => {
      const all = await list('Practitioner', '_count: 10');
      expect(all).toEqual([
        {
          resourceType: 'Practitioner',
          id: 'M001',
          active: true,
          identifier: [{ system: RUT_SYSTEM, value: '5555555-5' }],
          name: [{ family: 'SOTO', given: ['ANA'], text: 'ANA SOTO' }],
          telecom: [
            { system: 'phone', value: '221111111', use: 'home' },
            { system: 'phone', value: '222222222', use: 'work' },
            { system: 'phone', value: '+56933333333', use: 'mobile' },
          ],
          birthDate: '1970-05-17',
        },
        {
          // No home phone and a blank work phone: those items are dropped, the mobile moves up.
          // '00/00/0000' is absent.
          resourceType: 'Practitioner',
          id: 'M002',
          active: false,
          identifier: [{ system: RUT_SYSTEM, value: '6666666-6' }],
          name: [{ family: 'ROJAS', given: ['PEDRO'], text: 'PEDRO ROJAS' }],
          telecom: [{ system: 'phone', value: '+56944444444', use: 'mobile' }],
        },
        {
          // 'Family, Given' whatever the order; '31/02/1999' is impossible, so absent.
          resourceType: 'Practitioner',
          id: 'M003',
          name: [{ family: 'SOTO ROJAS', given: ['LUIS'], text: 'LUIS SOTO ROJAS' }],
        },
      ]);
    });

    it('maps valueMap with a default, dateTime from DATETIME and DD/MM/YYYY HH:mm text, references with display', async () => {
      const [first, second, third, voided, orphan] = await Promise.all(
        ['1', '2', '3', '4', '5'].map((id) => read('Encounter', id)),
      );
      expect(first).toEqual({
        resourceType: 'Encounter',
        id: '1',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: 'Patient/1' },
        participant: [{ individual: { reference: 'Practitioner/M001', display: 'ANA SOTO' } }],
        period: { start: '2023-01-02T08:30:00-03:00', end: '2023-01-02T12:30:00-03:00' },
        reasonCode: [{ text: 'CONTROL' }],
      });
      // The care team child table, filtered (a deleted member) and ordered by id, after the fixed
      // participant[0]; a zero '00/00/0000 00:00' discharge is absent.
      expect(second).toEqual({
        resourceType: 'Encounter',
        id: '2',
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
        subject: { reference: 'Patient/1' },
        participant: [
          { individual: { reference: 'Practitioner/M002', display: 'PEDRO ROJAS' } },
          { type: [{ text: 'ANESTESISTA' }], individual: { reference: 'Practitioner/M001' } },
          { type: [{ text: 'CIRUJANO' }], individual: { reference: 'Practitioner/M002' } },
        ],
        period: { start: '2023-02-10T22:15:00-03:00' },
      });
      // 'X' is not in the status map: the default 'unknown'.
      expect(third).toMatchObject({ id: '3', status: 'unknown', class: { code: 'EMER' } });
      expect(voided).toBeNull();
      // NULL foreign keys: no subject, no participant (display included).
      expect(orphan).toEqual({
        resourceType: 'Encounter',
        id: '5',
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        period: { start: '2023-04-01T10:00:00-03:00' },
      });
    });
  });

  describe('fan-out: one vitals row, several Observations', () => {
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
    const quantity = (value: number, code: string, unit = code) => ({
      value,
      unit,
      system: UCUM,
      code,
    });

    it('writes LOINC codes, UCUM units (converted from lb and degF), ids <row>-<code>', async () => {
      const row1 = await list('Observation', 'patient: "Patient/1", _count: 50');
      expect(row1.map((o) => o['id'])).toEqual([
        '1-8302-2',
        '1-29463-7',
        '1-8310-5',
        '1-85354-9',
        '2-29463-7',
      ]);
      const subject = {
        subject: { reference: 'Patient/1' },
        encounter: { reference: 'Encounter/1' },
      };
      expect(row1[0]).toEqual({
        ...shared,
        id: '1-8302-2',
        code: { coding: [{ system: LOINC, code: '8302-2', display: 'Body height' }] },
        ...subject,
        effectiveDateTime: '2023-01-02T09:00:00-03:00',
        valueQuantity: quantity(165, 'cm'),
      });
      // 154.0 lb (DECIMAL, read as text) is 69.9 kg; 98.6 degF is 37 Cel.
      expect(row1[1]?.['valueQuantity']).toEqual(quantity(69.9, 'kg'));
      expect(row1[2]?.['valueQuantity']).toEqual(quantity(37, 'Cel'));
      expect(row1[3]).toMatchObject({
        code: { coding: [{ code: '85354-9' }] },
        component: [
          {
            code: {
              coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }],
            },
            valueQuantity: quantity(120, 'mm[Hg]', 'mmHg'),
          },
          {
            code: {
              coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }],
            },
            valueQuantity: quantity(80, 'mm[Hg]', 'mmHg'),
          },
        ],
      });
      expect(row1[3]?.['valueQuantity']).toBeUndefined();
      // Row 2: no encounter; NULL height and '0.0' degF are not measured.
      expect(row1[4]).toMatchObject({
        id: '2-29463-7',
        valueQuantity: quantity(68.3, 'kg'),
      });
      expect(row1[4]?.['encounter']).toBeUndefined();
    });

    it('skips NULL, 0 and empty values, and voided rows, in search and in reads by id', async () => {
      // Row 3: '' height, NULL weight. Row 4: voided. Row 5: '0' text, 0.0 and 0: nothing measured.
      expect(await ids('Observation', 'patient: "2", _count: 50')).toEqual([
        '3-8310-5',
        '3-85354-9',
      ]);
      const d = await data(`{
      a: Observation(id: "3-8302-2") { id }
      b: Observation(id: "3-29463-7") { id }
      c: Observation(id: "4-8302-2") { id }
      d: Observation(id: "5-8302-2") { id }
      e: Observation(id: "5-29463-7") { id }
      f: Observation(id: "5-85354-9") { id }
      g: Observation(id: "3-8310-5") { id valueQuantity { value code } }
      h: Observation(id: "1-9999-9") { id }
    }`);
      expect(d).toEqual({
        a: null,
        b: null,
        c: null,
        d: null,
        e: null,
        f: null,
        g: { id: '3-8310-5', valueQuantity: { value: 38, code: 'Cel' } },
        h: null,
      });
      const count = await data('{ ObservationConnection(_count: 0) { count } }');
      // PostgreSQL also counts row 6's height item ('n/m' is not 0 there; see below).
      expect(count).toEqual({ ObservationConnection: { count: engine === 'postgres' ? 8 : 7 } });
    });

    it("lets the database decide, in search, count and read by id alike: VARCHAR 'n/m' against 0", async () => {
      // Row 6 holds only talla_cm = 'n/m'. MariaDB turns it into the number 0 to compare it with
      // the skip value 0, so the height item does not exist: no Observation, no count, no read.
      // PostgreSQL compares it as text ('n/m' is not '0'): the item exists everywhere, without a
      // value ('n/m' is no number).
      const exists = engine === 'postgres';
      const d = await data(`{
      search: ObservationList(patient: "6", _count: 50) { id }
      byId: ObservationList(_id: "6-8302-2") { id }
      byCode: ObservationList(code: "8302-2", _count: 50) { id }
      count: ObservationConnection(patient: "6", _count: 0) { count }
      heights: ObservationConnection(code: "8302-2", _count: 0) { count }
      read: Observation(id: "6-8302-2") { id valueQuantity { value } }
      Patient(id: "6") { ObservationList(_reference: subject, _count: 50) { id } }
    }`);
      const item = exists ? [{ id: '6-8302-2' }] : [];
      expect(d).toEqual({
        search: item,
        byId: item,
        byCode: [{ id: '1-8302-2' }, ...item],
        count: { count: item.length },
        heights: { count: 1 + item.length },
        read: exists ? { id: '6-8302-2', valueQuantity: null } : null,
        Patient: { ObservationList: item },
      });
      // The read asked the database: the skip rule is a selected flag, its values bound.
      const from = gw.statements.length;
      expect((await read('Observation', '6-8302-2'))?.['id']).toBe(exists ? '6-8302-2' : undefined);
      const [statement] = statementsSince(from);
      expect(statement).toContain(
        exists
          ? 'CASE WHEN NOT (t."talla_cm" IS NULL OR t."talla_cm" = $1 OR CAST(t."talla_cm" AS text) = $2) THEN 1 ELSE 0 END AS "_fhirgate_present_0"'
          : 'CASE WHEN NOT (t.`talla_cm` IS NULL OR t.`talla_cm` = ? OR t.`talla_cm` = ?) THEN 1 ELSE 0 END AS `_fhirgate_present_0`',
      );
      expect(statement).not.toContain('n/m');
    });

    it('searches items by code (system|code or code) and by date', async () => {
      expect(await ids('Observation', 'code: "http://loinc.org|29463-7"')).toEqual([
        '1-29463-7',
        '2-29463-7',
      ]);
      expect(await ids('Observation', 'code: ["8310-5", "85354-9"], subject: "Patient/2"')).toEqual(
        ['3-8310-5', '3-85354-9'],
      );
      expect(await ids('Observation', 'code: "http://snomed.info/sct|8302-2"')).toEqual([]);
      expect(await ids('Observation', 'date: "ge2023-02", code: "29463-7"')).toEqual(['2-29463-7']);
    });
  });

  describe('one lists table, three resource types', () => {
    it('serves each row as exactly one type, deleted and other rows never', async () => {
      expect(await ids('Condition', '_count: 50')).toEqual(['1', '2', '5']);
      expect(await ids('AllergyIntolerance', '_count: 50')).toEqual(['3', '7']);
      expect(await ids('MedicationRequest', '_count: 50')).toEqual(['4', '8', '10']);
      const d = await data(`{
      a: Condition(id: "3") { id } b: Condition(id: "6") { id } c: Condition(id: "9") { id }
      d: AllergyIntolerance(id: "1") { id } e: MedicationRequest(id: "3") { id }
    }`);
      expect(d).toEqual({ a: null, b: null, c: null, d: null, e: null });
    });

    it('splits prefixed codes through the prefix table, ;-joined, and reads filtered, ordered notes', async () => {
      const [diabetes, hypertension, cie9] = await list('Condition', '_count: 50');
      expect(diabetes).toEqual({
        resourceType: 'Condition',
        id: '1',
        clinicalStatus: {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' },
          ],
        },
        verificationStatus: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
              code: 'confirmed',
            },
          ],
        },
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
          coding: [
            { system: 'http://hl7.org/fhir/sid/icd-10', code: 'E11.9' },
            { system: 'http://snomed.info/sct', code: '44054006' },
          ],
          text: 'DIABETES MELLITUS TIPO 2',
        },
        subject: { reference: 'Patient/1' },
        encounter: { reference: 'Encounter/1' },
        recordedDate: '2020-03-04',
        // Clinical notes only, not deleted, by id (7 was inserted before 1).
        note: [{ text: 'Control con HbA1c cada 3 meses' }, { text: 'Meta HbA1c menor a 7%' }],
      });
      expect(hypertension).toMatchObject({
        clinicalStatus: { coding: [{ code: 'resolved' }] },
        note: [{ text: 'En tratamiento con losartan' }],
      });
      // An unknown prefix (CIE9) gives no coding; the text stays.
      expect(cie9?.['code']).toEqual({ text: 'DIABETES (CIE9)' });
    });

    it('reads allergy reactions from a delimited column and dosages from a JSON column', async () => {
      const [penicillin, pollen] = await list('AllergyIntolerance', '_count: 50');
      expect(penicillin).toEqual({
        resourceType: 'AllergyIntolerance',
        id: '3',
        clinicalStatus: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
              code: 'active',
            },
          ],
        },
        verificationStatus: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
              code: 'confirmed',
            },
          ],
        },
        code: {
          coding: [{ system: 'http://snomed.info/sct', code: '91936005' }],
          text: 'PENICILINA',
        },
        patient: { reference: 'Patient/1' },
        recordedDate: '2015-06-01',
        reaction: [
          { manifestation: [{ text: 'urticaria' }] },
          { manifestation: [{ text: 'disnea' }] },
        ],
      });
      // A zero DATETIME is absent; no reactions, no code.
      expect(pollen).toMatchObject({ id: '7', code: { text: 'POLEN' } });
      expect(pollen?.['recordedDate']).toBeUndefined();
      expect(pollen?.['reaction']).toBeUndefined();

      const [metformin, paracetamol, enalapril] = await list('MedicationRequest', '_count: 50');
      expect(metformin).toEqual({
        resourceType: 'MedicationRequest',
        id: '4',
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: {
          coding: [{ system: 'http://www.whocc.no/atc', code: 'A10BA02' }],
          text: 'METFORMINA 850 MG',
        },
        subject: { reference: 'Patient/2' },
        encounter: { reference: 'Encounter/3' },
        authoredOn: '2023-01-03T11:30:00-03:00',
        dosageInstruction: [
          { text: '1 comp cada 12 h', route: { text: 'oral' } },
          { text: 'suspender si vomitos' },
        ],
      });
      expect(paracetamol).toMatchObject({ id: '8', status: 'stopped' });
      expect(paracetamol?.['dosageInstruction']).toBeUndefined();
      expect(enalapril?.['dosageInstruction']).toEqual([
        { text: '1 comp al dia', route: { text: 'oral' } },
      ]);
    });
  });

  describe('search parameters', () => {
    it('string: starts-with by default, :exact, :contains, case as the collation', async () => {
      expect(await ids('Patient', 'family: "GONZ"')).toEqual(['1', '6']);
      expect(await ids('Patient', 'family: "gonz"')).toEqual(['1', '6']);
      expect(await ids('Patient', 'family_exact: "GONZALEZ"')).toEqual(['6']);
      expect(await ids('Patient', 'family_exact: ["PEREZ", "D_ARCY"]')).toEqual(['2', '3']);
      expect(await ids('Patient', 'family_contains: "PEREZ"')).toEqual(['1', '2']);
      expect(await ids('Practitioner', 'name: "ROJ"')).toEqual(['M002', 'M003']);
    });

    it('escapes LIKE wildcards in values', async () => {
      // '_' and '%' are literal: D_ARCY only, not DXARCY; 100% SOTO only.
      expect(await ids('Patient', 'family: "D_A"')).toEqual(['3']);
      expect(await ids('Patient', 'family_contains: "_"')).toEqual(['3']);
      expect(await ids('Patient', 'family_contains: "%"')).toEqual(['5']);
      expect(await ids('Patient', 'family: "%"')).toEqual([]);
      expect(await ids('Patient', 'family: "100%"')).toEqual(['5']);
      expect(await ids('Patient', 'family_contains: "!"')).toEqual([]);
    });

    it('token: system|code, code, |code, system|, and mapped codes', async () => {
      expect(await ids('Patient', `identifier: "${RUT_SYSTEM}|11111111-1"`)).toEqual(['1']);
      expect(await ids('Patient', 'identifier: "11111111-1"')).toEqual(['1']);
      expect(await ids('Patient', 'identifier: "http://example.org/rut|11111111-1"')).toEqual([]);
      expect(await ids('Patient', 'identifier: "|11111111-1"')).toEqual([]);
      expect(await ids('Patient', `identifier: "${RUT_SYSTEM}|"`)).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
      ]);
      expect(await ids('Patient', 'gender: "female"')).toEqual(['1', '3', '5']);
      expect(await ids('Patient', 'gender: ["male", "female"], family: "GONZ"')).toEqual([
        '1',
        '6',
      ]);
      expect(
        await ids('Encounter', 'class: "http://terminology.hl7.org/CodeSystem/v3-ActCode|IMP"'),
      ).toEqual(['2']);
      expect(await ids('Encounter', 'class: ["EMER", "AMB"]')).toEqual(['1', '3', '5']);
      expect(await ids('Encounter', 'status: "finished"')).toEqual(['1', '5']);
      expect(await ids('Condition', 'clinical_status: "resolved"')).toEqual(['2']);
    });

    it('date: eq ne gt lt ge le on a DATE column, zero dates never matching', async () => {
      const cases: Array<[string, string[]]> = [
        ['1980', ['1', '3']],
        ['eq1980-05-17', ['1']],
        ['ne1980', ['2', '4', '6']],
        ['gt1980', ['4', '6']],
        ['lt1980', ['2']],
        ['ge1980-12-31', ['3', '4', '6']],
        ['le1980-05', ['1', '2']],
      ];
      for (const [value, expected] of cases) {
        expect(await ids('Patient', `birthdate: "${value}"`), value).toEqual(expected);
      }
      expect(await ids('Encounter', 'date: ["lt2023-01-03", "gt2023-03"]')).toEqual(['1', '5']);
      expect(await ids('Condition', 'recorded_date: "le2019"')).toEqual(['2', '5']);
    });

    it('reference: Patient/123 or 123, _id, a voided row never found', async () => {
      for (const value of ['Patient/1', '1']) {
        expect(await ids('Encounter', `patient: "${value}"`), value).toEqual(['1', '2']);
      }
      expect(await ids('Encounter', 'practitioner: "Practitioner/M002"')).toEqual(['2']);
      expect(await ids('Encounter', 'subject: ["Group/1", "Patient/01", "1 OR 1=1"]')).toEqual([]);
      expect(await ids('Patient', '_id: ["1", "6", "7", "x"]')).toEqual(['1', '6']);
      expect(await ids('MedicationRequest', 'patient: "Patient/1", status: "active"')).toEqual([
        '10',
      ]);
    });
  });

  describe('row filters at every level', () => {
    it('keeps deleted rows out of reads, searches, counts, child tables, references and reverse references', async () => {
      const d = await data(`{
      deleted: Patient(id: "7") { id }
      byName: PatientList(family_exact: "GONZALEZ") { id }
      count: PatientConnection(_count: 0) { count }
      Patient(id: "1") {
        EncounterList(_reference: patient) { id }
        ConditionList(_reference: patient) { id note { text } }
        ObservationList(_reference: subject, _count: 50) { id }
      }
      Encounter(id: "2") { participant { type { text } } }
    }`);
      expect(d).toEqual({
        deleted: null,
        byName: [{ id: '6' }],
        count: { count: 6 },
        Patient: {
          EncounterList: [{ id: '1' }, { id: '2' }],
          ConditionList: [
            {
              id: '1',
              note: [{ text: 'Control con HbA1c cada 3 meses' }, { text: 'Meta HbA1c menor a 7%' }],
            },
            { id: '2', note: [{ text: 'En tratamiento con losartan' }] },
          ],
          ObservationList: [
            { id: '1-8302-2' },
            { id: '1-29463-7' },
            { id: '1-8310-5' },
            { id: '1-85354-9' },
            { id: '2-29463-7' },
          ],
        },
        Encounter: {
          participant: [
            { type: null },
            { type: [{ text: 'ANESTESISTA' }] },
            { type: [{ text: 'CIRUJANO' }] },
          ],
        },
      });
    });
  });

  describe('a patient summary in one request', () => {
    it('costs one statement per resource type and nesting level, plus one per child table', async () => {
      const from = gw.statements.length;
      const d = await data(`{
      Patient(id: "1") {
        id name(use: "official") { text } birthDate
        EncounterList(_reference: patient, _sort: "-date") {
          id status period { start }
          participant { individual { resource(type: Practitioner) { ... on Practitioner { name { text } } } } }
        }
        ObservationList(_reference: subject, _sort: "-date", _count: 10) {
          id code { coding { code } } valueQuantity { value unit }
          component { valueQuantity { value } }
        }
        ConditionList(_reference: patient, clinical_status: "active") { code { text } }
        AllergyIntoleranceList(_reference: patient) { code { text } reaction { manifestation { text } } }
        MedicationRequestList(_reference: subject, status: "active") {
          medicationCodeableConcept { text } dosageInstruction { text }
        }
      }
    }`);
      expect(d['Patient']).toEqual({
        id: '1',
        name: [{ text: 'MARIA JOSE GONZALEZ PEREZ' }],
        birthDate: '1980-05-17',
        EncounterList: [
          {
            id: '2',
            status: 'in-progress',
            period: { start: '2023-02-10T22:15:00-03:00' },
            participant: [
              { individual: { resource: { name: [{ text: 'PEDRO ROJAS' }] } } },
              { individual: { resource: { name: [{ text: 'ANA SOTO' }] } } },
              { individual: { resource: { name: [{ text: 'PEDRO ROJAS' }] } } },
            ],
          },
          {
            id: '1',
            status: 'finished',
            period: { start: '2023-01-02T08:30:00-03:00' },
            participant: [{ individual: { resource: { name: [{ text: 'ANA SOTO' }] } } }],
          },
        ],
        ObservationList: [
          {
            id: '2-29463-7',
            code: { coding: [{ code: '29463-7' }] },
            valueQuantity: { value: 68.3, unit: 'kg' },
            component: null,
          },
          {
            id: '1-8302-2',
            code: { coding: [{ code: '8302-2' }] },
            valueQuantity: { value: 165, unit: 'cm' },
            component: null,
          },
          {
            id: '1-29463-7',
            code: { coding: [{ code: '29463-7' }] },
            valueQuantity: { value: 69.9, unit: 'kg' },
            component: null,
          },
          {
            id: '1-8310-5',
            code: { coding: [{ code: '8310-5' }] },
            valueQuantity: { value: 37, unit: 'Cel' },
            component: null,
          },
          {
            id: '1-85354-9',
            code: { coding: [{ code: '85354-9' }] },
            valueQuantity: null,
            component: [{ valueQuantity: { value: 120 } }, { valueQuantity: { value: 80 } }],
          },
        ],
        ConditionList: [{ code: { text: 'DIABETES MELLITUS TIPO 2' } }],
        AllergyIntoleranceList: [
          {
            code: { text: 'PENICILINA' },
            reaction: [
              { manifestation: [{ text: 'urticaria' }] },
              { manifestation: [{ text: 'disnea' }] },
            ],
          },
        ],
        MedicationRequestList: [
          {
            medicationCodeableConcept: { text: 'ENALAPRIL 10 MG' },
            dosageInstruction: [{ text: '1 comp al dia' }],
          },
        ],
      });
      const tables = statementsSince(from).map(
        (sql) => /\bFROM [`"](\w+)[`"]/.exec(sql)?.[1] ?? sql,
      );
      // Level 1: the patient. Level 2: encounters (+ their care-team child table), vitals,
      // conditions, allergies and prescriptions: one statement each (the conditions' notes child
      // table is not read: nothing selects `note`). Level 3: the practitioners of every
      // participant, one statement. Child tables run when their parents' rows arrive, so only the
      // first statement has a fixed place.
      expect(tables[0]).toBe('personas');
      expect(tables.slice(1).sort()).toEqual([
        'atenciones',
        'atenciones_equipo',
        'listas',
        'listas',
        'listas',
        'medicos',
        'signos_vitales',
      ]);
      expect(tables.indexOf('medicos')).toBeGreaterThan(tables.indexOf('atenciones'));
      expect(tables).toHaveLength(8);
    });
  });

  describe('the mapping checker on hospital C (the live catalogue)', () => {
    it('passes the whole mapping, and names resource, path and column for every broken feature', async () => {
      const db = gw.tenantDbs.get(HOSPITAL_C)!;
      const database = openTenantDatabase(db);
      const defs = loadDefinitions();
      try {
        // JSON and TEXT arrays, BIT(1) and CHAR flags, DECIMAL and VARCHAR numbers, DATE, DATETIME
        // and DD/MM/YYYY text: every source hospital C uses fits its column.
        expect(await checkMapping(hospitalCMapping(), { defs, database })).toEqual({
          ok: true,
          problems: [],
        });

        type Doc = { resources: Record<string, Record<string, unknown> & { elements: Json }> };
        const broken = hospitalCMapping() as Doc;
        const { Observation, Condition, AllergyIntolerance, Practitioner, MedicationRequest } =
          broken.resources;
        // A fan-out item's skip column and value column, a child table's filter column, a
        // delimited column, a JSON column, a fixed item's column, a boolean fed by a DATE and an
        // integer fed by text.
        (Observation!['fanOut'] as Json[])[0]!['skipColumn'] = 'talla';
        (Condition!.elements['note'] as { rows: { where: Json[] } }).rows.where[0]!['column'] =
          'clase';
        (AllergyIntolerance!.elements['reaction'] as { delimited: Json }).delimited['column'] =
          'reaccion';
        (MedicationRequest!.elements['dosageInstruction'] as { json: Json }).json['column'] =
          'dosis';
        Practitioner!.elements['telecom[1].value'] = 'fono_oficina';
        Practitioner!.elements['active'] = 'fec_nac';
        broken.resources['Patient']!.elements['multipleBirthInteger'] = 'rut';
        broken.resources['Patient']!.elements['deceasedBoolean'] = 'fecha_nac';
        const result = await checkMapping(broken, { defs, database });
        expect(result.ok).toBe(false);
        // One line per problem, as `fhirgate mapping check` prints them. A child table's filter
        // column is reported with the path `where` and the child table's name.
        expect(
          result.problems.map((p) => `${p.resource} ${p.path} ${p.column}: ${p.message}`),
        ).toEqual([
          'Patient multipleBirthInteger rut: an integer element needs a "number" transform to read column "rut", which is varchar(14)',
          'Patient deceasedBoolean fecha_nac: a boolean element needs a "boolean" transform naming the true and false values to read column "fecha_nac", which is date',
          'Practitioner active fec_nac: a boolean element needs a "boolean" transform naming the true and false values to read column "fec_nac", which is varchar(10)',
          'Practitioner telecom[1].value fono_oficina: column "fono_oficina" does not exist in table "medicos"',
          'Observation fanOut:8302-2 talla: column "talla" does not exist in table "signos_vitales"',
          'Condition where clase: column "clase" does not exist in table "listas_notas"',
          'AllergyIntolerance reaction reaccion: column "reaccion" does not exist in table "listas"',
          'MedicationRequest dosageInstruction dosis: column "dosis" does not exist in table "listas"',
        ]);
      } finally {
        await database.close();
      }
    });
  });

  describe('conformance', () => {
    it('serves every live row of every mapped type as valid R4, and nothing for the 5 unmapped types', async () => {
      const served: Record<string, string[]> = {};
      for (const type of Object.keys(FIELDS)) {
        served[type] = (await list(type, '_count: 100')).map((r) => String(r['id']));
      }
      expect(served).toEqual({
        Patient: ['1', '2', '3', '4', '5', '6'],
        Practitioner: ['M001', 'M002', 'M003'],
        Encounter: ['1', '2', '3', '5'],
        Observation: [
          '1-8302-2',
          '1-29463-7',
          '1-8310-5',
          '1-85354-9',
          '2-29463-7',
          '3-8310-5',
          '3-85354-9',
          // 'n/m' is not 0 on PostgreSQL (see fan-out above).
          ...(engine === 'postgres' ? ['6-8302-2'] : []),
        ],
        Condition: ['1', '2', '5'],
        AllergyIntolerance: ['3', '7'],
        MedicationRequest: ['4', '8', '10'],
      });
      for (const type of [
        'Organization',
        'Location',
        'Procedure',
        'Immunization',
        'DiagnosticReport',
      ]) {
        const res = await gw.post(`{ ${type}List { id } }`, { token });
        expect(res.json.errors?.[0]?.extensions?.['code'], type).toBe('RESOURCE_NOT_SUPPORTED');
      }
    });

    it('validated every resource the tests received against R4, with zero errors', () => {
      // Counted by `valid()`: each one passed medplum's validateResource and the required-binding
      // check with zero errors.
      expect(validated).toEqual({
        Patient: 12,
        Practitioner: 6,
        Encounter: 8,
        // PostgreSQL serves row 6's height item too: read once, listed once.
        Observation: engine === 'postgres' ? 14 : 12,
        Condition: 6,
        AllergyIntolerance: 4,
        MedicationRequest: 6,
      });
    });
  });
});
