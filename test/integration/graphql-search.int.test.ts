import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../src/fhir/build-extract.js';
import { tenantHash } from '../../src/logger.js';
import { CLINIC_PATIENTS, clinicalTenant } from '../fixtures/clinical-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * The query side of the HL7 FHIR GraphQL page over a real gateway: `X(id:)`, `XList` with ORed
 * values, modifiers and `_sort`, `XConnection` paging by cursors, and list-field arguments.
 */
let gw: TestGateway;
let token: string;

/** The 12 resource types the schema serves by default. */
const ALL_TYPES = R4_EXTRACT_RESOURCE_TYPES;

beforeAll(async () => {
  gw = await createTestGateway({ tenants: [clinicalTenant()], resourceTypes: ALL_TYPES });
  token = await gw.tokenFor('clinic');
});

afterAll(async () => {
  await gw?.close();
});

async function data(query: string, variables?: Record<string, unknown>) {
  const res = await gw.post(query, { token, ...(variables === undefined ? {} : { variables }) });
  expect(res.json.errors, res.text).toBeUndefined();
  return res.json.data as Record<string, unknown>;
}

async function errorOf(query: string, variables?: Record<string, unknown>) {
  const res = await gw.post(query, { token, ...(variables === undefined ? {} : { variables }) });
  expect(res.json.errors, res.text).toHaveLength(1);
  return res.json.errors![0]!;
}

function ids(list: unknown): string[] {
  return (list as Array<{ id: string }>).map((r) => r.id);
}

function statementsSince(from: number) {
  return gw.statements.slice(from).filter((s) => s.tenantHash === tenantHash('clinic'));
}

describe('X(id:) and XList', () => {
  it('reads by id or _id, and refuses both or neither', async () => {
    const d = await data(
      '{ a: Patient(id: "3") { id gender } b: Patient(_id: "4") { id gender } none: Patient(id: "999") { id } }',
    );
    expect(d).toEqual({
      a: { id: '3', gender: 'male' },
      b: { id: '4', gender: 'female' },
      none: null,
    });
    for (const query of ['{ Patient(id: "1", _id: "1") { id } }', '{ Patient { id } }']) {
      const err = await errorOf(query);
      expect(err.extensions?.['code']).toBe('BAD_USER_INPUT');
      expect(err.message).toBe('Give exactly one of id and _id.');
    }
  });

  it('serves all 12 types in the schema and answers RESOURCE_NOT_SUPPORTED for unmapped ones', async () => {
    const d = await data('{ __type(name: "ResourceType") { enumValues { name } } }');
    const names = (d['__type'] as { enumValues: Array<{ name: string }> }).enumValues.map(
      (v) => v.name,
    );
    expect(names.sort()).toEqual([...ALL_TYPES].sort());
    const err = await errorOf('{ ImmunizationList { id } }');
    expect(err.extensions?.['code']).toBe('RESOURCE_NOT_SUPPORTED');
    expect(err.message).toBe('This tenant does not serve Immunization resources.');
  });

  it('ORs the values of one argument and ANDs arguments', async () => {
    const d = await data(`{
      either: PatientList(family: ["APELLIDO01", "APELLIDO04", "APELLIDO07"]) { id }
      male: PatientList(family: ["APELLIDO01", "APELLIDO04", "APELLIDO07"], gender: "male") { id }
      single: PatientList(_id: "5") { id }
      ids: PatientList(_id: ["2", "9"], _count: 5) { id }
    }`);
    expect(ids(d['either'])).toEqual(['1', '4', '7']);
    expect(ids(d['male'])).toEqual(['1', '7']);
    expect(ids(d['single'])).toEqual(['5']);
    expect(ids(d['ids'])).toEqual(['2', '9']);
  });

  it('exposes :exact, :contains and :missing as <param>_exact, _contains and _missing', async () => {
    const d = await data(`{
      prefix: PatientList(family: "APELLIDO1", _count: 50) { id }
      exact: PatientList(family_exact: "APELLIDO1") { id }
      exact2: PatientList(family_exact: ["APELLIDO12", "APELLIDO21"]) { id }
      contains: PatientList(family_contains: "IDO2", _count: 50) { id }
      missing: PatientList(birthdate_missing: true) { id }
      present: PatientList(birthdate_missing: false, _count: 2) { id }
    }`);
    expect(ids(d['prefix'])).toEqual(['10', '11', '12', '13', '14', '15', '16', '17', '18', '19']);
    expect(ids(d['exact'])).toEqual([]);
    expect(ids(d['exact2'])).toEqual(['12', '21']);
    expect(ids(d['contains'])).toEqual(['20', '21', '22', '23', '24']);
    expect(ids(d['missing'])).toEqual([]);
    expect(ids(d['present'])).toEqual(['1', '2']);
  });

  it('sorts by _sort, -code descending, the id breaking ties', async () => {
    const d = await data(`{
      desc: PatientList(_sort: "-family", _count: 3) { id }
      byGender: PatientList(_sort: ["gender", "-birthdate"], _count: 30) { id gender birthDate }
      comma: PatientList(_sort: "-gender,family", _count: 2) { id }
    }`);
    expect(ids(d['desc'])).toEqual(['24', '23', '22']);
    const byGender = d['byGender'] as Array<{ id: string; gender: string; birthDate: string }>;
    expect(byGender).toHaveLength(CLINIC_PATIENTS);
    // F before M (the column order), birth dates descending inside each.
    expect(byGender.slice(0, CLINIC_PATIENTS / 2).every((p) => p.gender === 'female')).toBe(true);
    const femaleDates = byGender.slice(0, CLINIC_PATIENTS / 2).map((p) => p.birthDate);
    expect(femaleDates).toEqual([...femaleDates].sort().reverse());
    expect(ids(d['comma'])).toEqual(['1', '3']);
  });

  it('rejects unknown or unmapped _sort codes with a code, never echoing the value', async () => {
    const unknown = await errorOf('{ PatientList(_sort: "-nope\' OR 1=1") { id } }');
    expect(unknown.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(unknown.message).toBe('_sort names a parameter that Patient does not have.');
    const unmapped = await errorOf('{ PatientList(_sort: "address-city") { id } }');
    expect(unmapped.extensions?.['code']).toBe('SEARCH_PARAM_NOT_SUPPORTED');
  });

  it('answers SEARCH_PARAM_NOT_SUPPORTED for a parameter the tenant does not map', async () => {
    const err = await errorOf('{ PatientList(address_city: "Santiago") { id } }');
    expect(err.extensions?.['code']).toBe('SEARCH_PARAM_NOT_SUPPORTED');
    expect(err.message).toBe('Search parameter "address-city" is not supported for Patient.');
  });
});

describe('XConnection', () => {
  const PAGE = `query($cursor: String, $count: Int) {
    PatientConnection(gender: "female", _sort: "family", _count: $count, _cursor: $cursor) {
      count offset pagesize first previous next last
      edges { mode score resource { id gender } }
    }
  }`;

  type Page = {
    count: number;
    offset: number;
    pagesize: number;
    first: string | null;
    previous: string | null;
    next: string | null;
    last: string | null;
    edges: Array<{ mode: string; score: number | null; resource: { id: string } }>;
  };

  async function page(variables: Record<string, unknown>): Promise<Page> {
    return (await data(PAGE, variables))['PatientConnection'] as Page;
  }

  it('pages forward and back with opaque next/previous cursors that round-trip', async () => {
    const first = await page({ count: 5 });
    expect(first).toMatchObject({ count: 12, offset: 0, pagesize: 5, previous: null });
    expect(first.edges.map((e) => e.resource.id)).toEqual(['2', '4', '6', '8', '10']);
    expect(first.edges[0]).toMatchObject({ mode: 'match', score: null });
    expect(first.next).toMatch(/^[A-Za-z0-9_-]+$/);

    const second = await page({ cursor: first.next, count: 5 });
    expect(second).toMatchObject({ offset: 5, pagesize: 5 });
    expect(second.edges.map((e) => e.resource.id)).toEqual(['12', '14', '16', '18', '20']);
    const third = await page({ cursor: second.next });
    expect(third.edges.map((e) => e.resource.id)).toEqual(['22', '24']);
    expect(third.next).toBeNull();
    expect(third.last).toBe(second.last);

    const back = await page({ cursor: third.previous });
    expect(back.edges.map((e) => e.resource.id)).toEqual(['12', '14', '16', '18', '20']);
    const again = await page({ cursor: back.previous });
    expect(again.previous).toBeNull();
    expect(again.edges.map((e) => e.resource.id)).toEqual(['2', '4', '6', '8', '10']);
    const last = await page({ cursor: first.last });
    expect(last.offset).toBe(10);
    const fromFirst = await page({ cursor: third.first });
    expect(fromFirst.offset).toBe(0);
  });

  it('accepts `cursor` as well as `_cursor`', async () => {
    const first = await page({ count: 5 });
    const d = await data(
      'query($c: String) { PatientConnection(gender: "female", _sort: "family", cursor: $c) { offset edges { resource { id } } } }',
      { c: first.next },
    );
    expect(d['PatientConnection']).toMatchObject({ offset: 5 });
  });

  it('rejects a cursor of another search, an edited one and garbage as BAD_USER_INPUT', async () => {
    const first = await page({ count: 5 });
    const next = first.next as string;
    const body = JSON.parse(Buffer.from(next, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(body).sort()).toEqual(['c', 'h', 'o']);
    const edited = Buffer.from(JSON.stringify({ ...body, o: 0 })).toString('base64url');
    const otherSearch =
      'query($c: String) { PatientConnection(gender: "male", _sort: "family", _cursor: $c) { offset } }';
    const otherType = 'query($c: String) { ObservationConnection(_cursor: $c) { offset } }';
    for (const [query, cursor] of [
      [PAGE, edited],
      [PAGE, 'not-a-cursor'],
      [PAGE, `${next}x`],
      [otherSearch, next],
      [otherType, next],
    ] as const) {
      const err = await errorOf(query, { cursor, c: cursor });
      expect(err.extensions?.['code'], cursor).toBe('BAD_USER_INPUT');
      expect(err.message).toBe('The cursor does not belong to this search.');
    }
    const conflicting = await errorOf(
      'query($c: String) { PatientConnection(gender: "female", _sort: "family", _cursor: $c, _offset: 3) { offset } }',
      { c: next },
    );
    expect(conflicting.extensions?.['code']).toBe('BAD_USER_INPUT');
  });

  it('runs the COUNT statement only when count or last is selected', async () => {
    const counts = async (query: string) => {
      const from = gw.statements.length;
      await data(query);
      return statementsSince(from).filter((s) => /COUNT\(\*\)/i.test(s.sql)).length;
    };
    expect(
      await counts('{ PatientConnection(_count: 3) { next edges { resource { id } } } }'),
    ).toBe(0);
    expect(await counts('{ PatientConnection(_count: 3) { count } }')).toBe(1);
    expect(await counts('{ PatientConnection(_count: 3) { last n: count count } }')).toBe(1);
    expect(
      await counts(
        '{ PatientConnection(_count: 3) { ...F } } fragment F on PatientConnection { last }',
      ),
    ).toBe(1);
    expect(
      await counts('{ PatientConnection(_count: 3) { count @skip(if: true) edges { mode } } }'),
    ).toBe(0);
    // _count: 0 is "just count": the COUNT and nothing else.
    const from = gw.statements.length;
    const d = await data(
      '{ PatientConnection(_count: 0, gender: "male") { count edges { mode } } }',
    );
    expect(d['PatientConnection']).toEqual({ count: 12, edges: [] });
    expect(statementsSince(from)).toHaveLength(1);
  });
});

describe('list-field arguments', () => {
  it('filters repeating elements by their primitive children, then pages them, in memory', async () => {
    const from = gw.statements.length;
    const d = await data(`{
      Patient(id: "2") {
        all: telecom { use }
        mobile: telecom(system: "phone", use: "mobile") { value use }
        none: telecom(use: "work") { value }
        second: telecom(_offset: 1, _count: 1) { use }
        official: name(use: "official") { family given }
        byGiven: name(given: "NOMBRE2") { family }
      }
    }`);
    expect(d['Patient']).toEqual({
      all: [{ use: 'mobile' }, { use: 'home' }],
      mobile: [{ value: '+56 9 10000002', use: 'mobile' }],
      none: [],
      second: [{ use: 'home' }],
      official: [{ family: 'APELLIDO02', given: ['NOMBRE2'] }],
      byGiven: [{ family: 'APELLIDO02' }],
    });
    // The patient and its phones: filters cost no SQL.
    expect(statementsSince(from)).toHaveLength(2);
  });
});

describe('errors', () => {
  it('carry extensions.code and an OperationOutcome in extensions.resource, whatever failed', async () => {
    const cases: Array<[string, string, string, number]> = [
      ['{ PatientList(', 'GRAPHQL_PARSE_FAILED', 'structure', 400],
      ['{ PatientList { nope } }', 'GRAPHQL_VALIDATION_FAILED', 'invalid', 400],
      ['{ PatientList(_count: "x") { id } }', 'GRAPHQL_VALIDATION_FAILED', 'invalid', 400],
      ['{ ImmunizationList { id } }', 'RESOURCE_NOT_SUPPORTED', 'not-supported', 200],
      ['{ PatientList(_count: 500) { id } }', 'BAD_USER_INPUT', 'invalid', 200],
      ['{ PatientList(birthdate: "yesterday") { id } }', 'BAD_USER_INPUT', 'invalid', 200],
    ];
    for (const [query, code, issue, status] of cases) {
      const res = await gw.post(query, { token });
      expect(res.status, query).toBe(status);
      const error = res.json.errors?.[0];
      expect(error?.extensions?.['code'], query).toBe(code);
      expect(error?.extensions?.['resource'], query).toEqual({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: issue, details: { text: error?.message } }],
      });
    }
  });

  it('gives variable errors a code too', async () => {
    const res = await gw.post('query($c: Int) { PatientList(_count: $c) { id } }', {
      token,
      variables: { c: 'many' },
    });
    const error = res.json.errors?.[0];
    expect(error?.extensions?.['code']).toBe('BAD_USER_INPUT');
    expect(error?.extensions?.['resource']).toMatchObject({ issue: [{ code: 'invalid' }] });
  });
});
