import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantHash } from '../../src/logger.js';
import {
  CLINIC_PATIENTS,
  clinicalTenant,
  ENCOUNTERS_PER_PATIENT,
  ORPHAN_OBSERVATIONS,
} from '../fixtures/clinical-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * References both ways, as the HL7 FHIR GraphQL page has them: `Reference.resource` and reverse
 * `XList(_reference: ...)` fields, and the promise behind them: a fixed number of statements
 * per request, one per resource type and nesting level, whatever the number of rows.
 */
let gw: TestGateway;
let token: string;

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [clinicalTenant()],
    resourceTypes: [
      'Patient',
      'Practitioner',
      'Organization',
      'Encounter',
      'Observation',
      'Condition',
    ],
  });
  token = await gw.tokenFor('clinic');
});

afterAll(async () => {
  await gw?.close();
});

async function post(query: string) {
  return gw.post(query, { token });
}

async function data(query: string) {
  const res = await post(query);
  expect(res.json.errors, res.text).toBeUndefined();
  return res.json.data as Record<string, unknown>;
}

/** The tables the clinic's statements since `from` read, in order. */
function tablesSince(from: number): string[] {
  return gw.statements
    .slice(from)
    .filter((s) => s.tenantHash === tenantHash('clinic'))
    .map((s) => /\bFROM `(\w+)`/.exec(s.sql)?.[1] ?? s.sql);
}

type Json = Record<string, unknown>;

describe('Reference.resource', () => {
  it('resolves Type/id references into the Resource union', async () => {
    const d = await data(`{
      Observation(id: "101") {
        subject { reference resource { __typename ... on Patient { id gender } } }
        performer { reference resource { ... on Practitioner { id name { family } } } }
        encounter { resource { ... on Encounter { id status } } }
      }
    }`);
    expect(d['Observation']).toEqual({
      subject: {
        reference: 'Patient/1',
        resource: { __typename: 'Patient', id: '1', gender: 'male' },
      },
      performer: [
        { reference: 'Practitioner/3', resource: { id: '3', name: [{ family: 'MEDICO3' }] } },
      ],
      encounter: { resource: { id: '10', status: 'finished' } },
    });
  });

  it('follows only references of the requested type', async () => {
    const d = await data(`{
      Observation(id: "101") {
        asPatient: subject { resource(type: Patient) { ... on Patient { id } } }
        asPractitioner: subject { resource(type: Practitioner) { ... on Practitioner { id } } }
      }
    }`);
    expect(d['Observation']).toEqual({
      asPatient: { resource: { id: '1' } },
      asPractitioner: { resource: null },
    });
  });

  it('errors for what it cannot read unless optional: an unmapped type, a missing resource', async () => {
    const unmapped = await post(
      '{ Patient(id: "1") { managingOrganization { reference resource { __typename } } } }',
    );
    expect(unmapped.json.data).toEqual({
      Patient: { managingOrganization: { reference: 'Organization/1', resource: null } },
    });
    expect(unmapped.json.errors?.[0]?.extensions).toMatchObject({
      code: 'RESOURCE_NOT_SUPPORTED',
      resource: { resourceType: 'OperationOutcome', issue: [{ code: 'not-supported' }] },
    });
    const optional = await data(
      '{ Patient(id: "1") { managingOrganization { resource(optional: true) { __typename } } } }',
    );
    expect(optional).toEqual({ Patient: { managingOrganization: { resource: null } } });

    // One lab result belongs to a voided patient, one to a patient that never existed.
    const [voided, ghost] = ORPHAN_OBSERVATIONS;
    const missing = await post(`{
      a: Observation(id: "${voided}") { subject { resource { ... on Patient { id } } } }
      b: Observation(id: "${ghost}") { subject { resource(optional: true) { ... on Patient { id } } } }
    }`);
    expect(missing.json.data).toEqual({
      a: { subject: { resource: null } },
      b: { subject: { resource: null } },
    });
    expect(missing.json.errors).toHaveLength(1);
    expect(missing.json.errors?.[0]).toMatchObject({
      message: 'The referenced Patient does not exist.',
      path: ['a', 'subject', 'resource'],
      extensions: { code: 'REFERENCE_NOT_FOUND', resource: { issue: [{ code: 'not-found' }] } },
    });
  });

  it('gives null for absolute references, without an error', async () => {
    const d = await data(
      '{ Encounter(id: "10") { serviceProvider { reference resource { __typename } } } }',
    );
    expect(d).toEqual({
      Encounter: {
        serviceProvider: {
          reference: 'https://registry.example.org/fhir/Organization/7',
          resource: null,
        },
      },
    });
  });

  it('reads every reference of one type at one level with one statement', async () => {
    const from = gw.statements.length;
    const d = await data(`{
      ObservationList(_count: 60) {
        subject { resource { ... on Patient { id } } }
        performer { resource { ... on Practitioner { id } } }
      }
    }`);
    const list = d['ObservationList'] as Json[];
    expect(list).toHaveLength(60);
    // Observations, then patients (with their phones) and doctors, each once.
    // No telecom is selected, so the patients' phone child table is not read.
    expect(tablesSince(from).sort()).toEqual(['examenes', 'medicos', 'pac']);
  });
});

describe('the audit trail with partial selections', () => {
  it('names the patient of each Observation even when the query does not select its subject', async () => {
    // The mapping builds only the selected elements, plus subject/patient for this trail.
    const res = await gw.post('{ ObservationList(_count: 4) { id } }', { token });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id') ?? '';
    const ids = ((res.json.data?.['ObservationList'] ?? []) as { id: string }[]).map((o) => o.id);
    expect(ids).toHaveLength(4);
    const withSubject = await gw.post('{ ObservationList(_count: 4) { subject { reference } } }', {
      token,
    });
    const patients = new Set(
      (
        (withSubject.json.data?.['ObservationList'] ?? []) as {
          subject: { reference: string };
        }[]
      ).map((o) => o.subject.reference),
    );
    expect(patients.size).toBeGreaterThan(0);
    const [row] = await gw.auditStore.readEvents({ requestId });
    const entities = (row?.event['entity'] ?? []) as {
      what: { reference?: string };
      role?: { code: string };
    }[];
    expect(
      new Set(entities.filter((e) => e.role?.code === '1').map((e) => e.what.reference)),
    ).toEqual(patients);
    // BALP PatientQuery: the patients and the query, not every Observation (the row stays
    // bounded by the patients, whatever the result size).
    expect(entities.some((e) => e.what.reference?.startsWith('Observation/'))).toBe(false);
    expect(entities.filter((e) => e.role?.code === '24')).toHaveLength(1);
    expect(ids).toHaveLength(4);
  });
});

describe('reverse references', () => {
  it('lists the resources that point at each parent, with search arguments', async () => {
    const d = await data(`{
      Patient(id: "5") {
        ObservationList(_reference: subject, code: "http://loinc.org|718-7", _sort: "-date", _count: 3) {
          id code { coding { code } } effectiveDateTime
        }
        ConditionList(_reference: patient) { code { coding { code } } }
        EncounterList(_reference: subject, _sort: "date") { id }
      }
    }`);
    const patient = d['Patient'] as Json;
    const observations = patient['ObservationList'] as Json[];
    expect(observations.map((o) => o['id'])).toEqual(['511', '509', '507']);
    expect(observations.every((o) => JSON.stringify(o['code']).includes('718-7'))).toBe(true);
    expect(patient['ConditionList']).toEqual([
      { code: { coding: [{ code: 'E11.9' }] } },
      { code: { coding: [{ code: 'J45' }] } },
    ]);
    expect(patient['EncounterList']).toEqual([{ id: '50' }, { id: '51' }]);
  });

  it('pages each parent on its own', async () => {
    const d = await data(`{
      PatientList(_count: 3) {
        id
        ObservationList(_reference: subject, _sort: "date", _offset: 2, _count: 2) { id }
      }
    }`);
    expect(d['PatientList']).toEqual([
      { id: '1', ObservationList: [{ id: '102' }, { id: '103' }] },
      { id: '2', ObservationList: [{ id: '202' }, { id: '203' }] },
      { id: '3', ObservationList: [{ id: '302' }, { id: '303' }] },
    ]);
  });

  it('refuses a _reference that cannot point at the parent, and unmapped parameters', async () => {
    const wrongTarget = await post(
      '{ Patient(id: "1") { EncounterList(_reference: practitioner) { id } } }',
    );
    expect(wrongTarget.json.errors?.[0]?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(wrongTarget.json.errors?.[0]?.message).toBe(
      '_reference practitioner of Encounter cannot point at a Patient.',
    );
    const unmapped = await post(
      '{ Patient(id: "1") { ObservationList(_reference: performer) { id } } }',
    );
    expect(unmapped.json.errors?.[0]?.extensions).toMatchObject({
      code: 'SEARCH_PARAM_NOT_SUPPORTED',
      resource: { issue: [{ code: 'not-supported' }] },
    });
  });

  it('has a _reference enum per resource type, written as GraphQL names', async () => {
    const d = await data(`{
      __type(name: "Encounter_reference_param") { enumValues { name } }
      patient: __type(name: "Patient") { fields { name args { name type { kind ofType { name } } } } }
    }`);
    const values = (d['__type'] as { enumValues: Array<{ name: string }> }).enumValues.map(
      (v) => v.name,
    );
    expect(values).toEqual(
      expect.arrayContaining(['subject', 'patient', 'participant', 'practitioner', 'part_of']),
    );
    const fields = (d['patient'] as { fields: Array<{ name: string; args: Json[] }> }).fields;
    const names = fields.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining(['ObservationList', 'EncounterList', 'ConditionList', 'PatientList']),
    );
    const reference = fields
      .find((f) => f.name === 'ObservationList')
      ?.args.find((a) => a['name'] === '_reference');
    expect(reference).toEqual({
      name: '_reference',
      type: { kind: 'NON_NULL', ofType: { name: 'Observation_reference_param' } },
    });
  });
});

describe('statements per request', () => {
  it('costs one statement per resource type and nesting level for 20 patients', async () => {
    const from = gw.statements.length;
    const d = await data(`{
      PatientList(_count: 20) {
        id
        ObservationList(_reference: subject, _count: 10, _sort: "-date") {
          id
          effectiveDateTime
          subject { resource { ... on Patient { id } } }
        }
        EncounterList(_reference: subject) { id }
        ConditionList(_reference: patient) { id }
      }
    }`);
    const patients = d['PatientList'] as Json[];
    expect(patients).toHaveLength(20);
    for (const patient of patients) {
      const observations = patient['ObservationList'] as Json[];
      expect(observations).toHaveLength(10);
      const dates = observations.map((o) => String(o['effectiveDateTime']));
      expect(dates).toEqual([...dates].sort().reverse());
      for (const o of observations) {
        expect(o['subject']).toEqual({ resource: { id: patient['id'] } });
      }
      expect(patient['EncounterList']).toHaveLength(ENCOUNTERS_PER_PATIENT);
      expect((patient['ConditionList'] as Json[]).length).toBe(
        Number(patient['id']) % 5 === 0 ? 2 : 1,
      );
    }
    // Level 1: patients (their phone child table is not read: no telecom is selected). Level 2:
    // one statement each for observations, encounters and conditions, for all 20 patients.
    // Level 3: the observations' subjects were loaded at level 1, so no statement at all.
    const tables = tablesSince(from);
    expect(tables[0]).toBe('pac');
    expect(tables.slice(1).sort()).toEqual(['atenciones', 'diagnosticos', 'examenes']);
    expect(tables).toHaveLength(4);
    const sql = gw.statements.slice(from).map((s) => s.sql);
    // Bound values only: no patient id is written into the statement text.
    expect(sql.every((s) => s.includes('?'))).toBe(true);
    // Each level-2 statement serves all 20 parents at once, paged per parent in SQL.
    const reverse = sql.filter((s) => s.includes('PARTITION BY'));
    expect(reverse).toHaveLength(3);
    for (const s of reverse) {
      expect(/IN \(([?, ]+)\)/.exec(s)?.[1]?.split(',')).toHaveLength(20);
    }
  });

  it('answers parents listed twice when no reference is followed (nothing is kept)', async () => {
    // No `Reference.resource` here: the request keeps none of what it reads for later reads by
    // id, and its reverse lists are not cached. The two aliases' patients (the same 5) resolve in
    // two ticks, so their lists are read by two statements (cached, the second would be none);
    // each alias still gets the full lists.
    const from = gw.statements.length;
    const d = await data(`{
      a: PatientList(_count: 5) { id ObservationList(_reference: subject, _count: 3, _sort: "-date") { id subject { reference } } }
      b: PatientList(_count: 5) { id ObservationList(_reference: subject, _count: 3, _sort: "-date") { id subject { reference } } }
    }`);
    expect(d['a']).toEqual(d['b']);
    const patients = d['a'] as Json[];
    expect(patients).toHaveLength(5);
    for (const patient of patients) {
      const observations = patient['ObservationList'] as Json[];
      expect(observations).toHaveLength(3);
      for (const o of observations) {
        expect(o['subject']).toEqual({ reference: `Patient/${patient['id']}` });
      }
    }
    expect(tablesSince(from).sort()).toEqual(['examenes', 'examenes', 'pac', 'pac']);
  });

  it('adds one statement for a third level of a new type, whatever its fan-out', async () => {
    const from = gw.statements.length;
    const d = await data(`{
      PatientList(_count: ${CLINIC_PATIENTS}) {
        ObservationList(_reference: subject, _count: 10, _sort: "-date") {
          performer { resource(type: Practitioner) { ... on Practitioner { name { family } } } }
        }
      }
    }`);
    const patients = d['PatientList'] as Json[];
    expect(patients).toHaveLength(CLINIC_PATIENTS);
    // 240 performer references to 3 doctors: one statement (the patients' phones: none, as
    // nothing selects telecom).
    expect(tablesSince(from)).toEqual(['pac', 'examenes', 'medicos']);
  });
});
