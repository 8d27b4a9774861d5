import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../src/fhir/build-extract.js';
import {
  CLINIC_PATIENTS,
  clinicalTenant,
  OBSERVATIONS_PER_PATIENT,
} from '../fixtures/clinical-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * Rules of the HL7 FHIR GraphQL page the gateway once missed: a list without `_count` returns
 * everything or an error, never a silent first page; comma-separated values of a search argument
 * are ORed, as in REST.
 */
let gw: TestGateway;
let token: string;

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [clinicalTenant()],
    resourceTypes: R4_EXTRACT_RESOURCE_TYPES,
  });
  token = await gw.tokenFor('clinic');
});

afterAll(async () => {
  await gw?.close();
});

describe('lists without _count', () => {
  it('return every match when at most the maximum match', async () => {
    const res = await gw.post(
      '{ PatientList { id } p: Patient(id: "1") { ObservationList(_reference: subject) { id } } }',
      {
        token,
      },
    );
    expect(res.json.errors).toBeUndefined();
    expect(res.json.data!['PatientList']).toHaveLength(CLINIC_PATIENTS);
    expect((res.json.data!['p'] as { ObservationList: unknown[] }).ObservationList).toHaveLength(
      OBSERVATIONS_PER_PATIENT,
    );
  });

  it('fail with a clear error, not a truncated list, when more match', async () => {
    const res = await gw.post('{ ObservationList { id } }', { token });
    expect(res.json.data?.['ObservationList'] ?? null).toBeNull();
    const error = res.json.errors![0]!;
    expect(error.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(error.message).toBe(
      'More than 100 resources match; give _count (and _offset) to page, or use the Connection field.',
    );
    const paged = await gw.post('{ ObservationList(_count: 100) { id } }', { token });
    expect(paged.json.data!['ObservationList']).toHaveLength(100);
  });
});

describe('comma-separated values', () => {
  it('are ORed within one argument value, as in REST', async () => {
    const res = await gw.post(
      `{ a: PatientList(family: "APELLIDO01,APELLIDO04", _sort: "_id") { id }
         b: EncounterList(status: "finished,in-progress", _count: 100) { id }
         c: EncounterList(_count: 100) { id } }`,
      { token },
    );
    expect(res.json.errors).toBeUndefined();
    expect(res.json.data!['a']).toEqual([{ id: '1' }, { id: '4' }]);
    expect((res.json.data!['b'] as unknown[]).length).toBe(
      (res.json.data!['c'] as unknown[]).length,
    );
  });
});

describe('reverse references as a Connection', () => {
  it('pages each parent by its own cursors, with a total, one statement per page level', async () => {
    const query = `query($c: String) { PatientList(_id: ["1", "2"], _sort: "_id") { id
      ObservationConnection(_reference: subject, _count: 5, _sort: "_id", _cursor: $c) {
        count offset next previous edges { resource { ... on Observation { id subject { reference } } } }
      } } }`;
    const from = gw.statements.length;
    const first = await gw.post(query, { token });
    expect(first.json.errors).toBeUndefined();
    const patients = first.json.data!['PatientList'] as Array<{
      id: string;
      ObservationConnection: {
        count: number;
        offset: number;
        next: string | null;
        previous: string | null;
        edges: Array<{ resource: { id: string; subject: { reference: string } } }>;
      };
    }>;
    // One for the patients, one for both patients' observations, one COUNT per patient.
    const observationReads = gw.statements
      .slice(from)
      .filter((s) => /FROM `examenes`/.test(s.sql) && !/COUNT/i.test(s.sql));
    expect(observationReads).toHaveLength(1);
    for (const patient of patients) {
      const page = patient.ObservationConnection;
      expect(page.count).toBe(OBSERVATIONS_PER_PATIENT);
      expect(page.edges).toHaveLength(5);
      expect(page.previous).toBeNull();
      for (const edge of page.edges) {
        expect(edge.resource.subject.reference).toBe(`Patient/${patient.id}`);
      }
    }
    const [one, two] = patients;
    // A cursor is bound to its parent: patient 1's next page, asked for both, opens for 1 only.
    const second = await gw.post(query, {
      token,
      variables: { c: one!.ObservationConnection.next },
    });
    const errors = second.json.errors ?? [];
    expect(errors).toHaveLength(1);
    expect(errors[0]!.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect((errors[0] as { path?: unknown }).path).toEqual([
      'PatientList',
      1,
      'ObservationConnection',
    ]);
    const page2 = (second.json.data!['PatientList'] as typeof patients)[0]!.ObservationConnection;
    expect(page2.offset).toBe(5);
    const ids = (p: typeof page2) => p.edges.map((e) => e.resource.id);
    expect(ids(page2).some((id) => ids(one!.ObservationConnection).includes(id))).toBe(false);
    expect(two!.ObservationConnection.next).not.toBe(one!.ObservationConnection.next);
  });
});

describe('single String variables for list arguments', () => {
  it('validate and search as one value, as documents for other FHIR GraphQL servers expect', async () => {
    const res = await gw.post(
      'query($f: String, $s: String!) { PatientList(family: $f, _sort: $s) { id } }',
      { token, variables: { f: 'APELLIDO01,APELLIDO04', s: '-_id' } },
    );
    expect(res.json.errors, res.text).toBeUndefined();
    expect(res.json.data!['PatientList']).toEqual([{ id: '4' }, { id: '1' }]);
    const list = await gw.post('query($f: [String!]) { PatientList(family: $f) { id } }', {
      token,
      variables: { f: ['APELLIDO04'] },
    });
    expect(list.json.data!['PatientList']).toEqual([{ id: '4' }]);
  });

  it('still refuses variables of other types there', async () => {
    const res = await gw.post('query($n: Int) { PatientList(family: $n) { id } }', {
      token,
      variables: { n: 1 },
    });
    expect(res.json.errors![0]!.message).toBe(
      'Variable "$n" of type "Int" used in position expecting type "[String!]".',
    );
  });
});
