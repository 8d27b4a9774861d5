import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../src/fhir/build-extract.js';
import { clinicalTenant } from '../fixtures/clinical-tenant.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * The data flattening directives of the HL7 FHIR GraphQL page (`@flatten`, `@first`,
 * `@singleton`, `@slice`) and the list-field `fhirpath` argument, over a real gateway (real
 * HTTP, RS256, MariaDB, graphql-jit on: every document here has one operation). Patient 2 of the
 * clinic has one official name and two phones (mobile, then home); patient 1 a mobile only.
 */
let gw: TestGateway;
let token: string;

type Json = Record<string, unknown>;

const MOBILE_2 = '+56 9 10000002';
const HOME_2 = '+56 2 2000002';

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

async function data(query: string, variables?: Json): Promise<Json> {
  const res = await gw.post(query, { token, ...(variables === undefined ? {} : { variables }) });
  expect(res.json.errors, res.text).toBeUndefined();
  expect(res.status).toBe(200);
  // Nothing shaping reads for itself reaches the client.
  expect(res.text).not.toContain('__fhirgate');
  return res.json.data as Json;
}

async function failure(query: string) {
  const res = await gw.post(query, { token });
  const errors = res.json.errors ?? [];
  expect(errors.length, res.text).toBeGreaterThan(0);
  const error = errors[errors.length - 1]!;
  return {
    status: res.status,
    data: res.json.data,
    code: error.extensions?.['code'],
    message: error.message,
    outcome: error.extensions?.['resource'] as Json | undefined,
  };
}

async function fhirGraphql(path: string, query: string) {
  const response = await fetch(`${gw.fhirUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, json: (await response.json()) as Json };
}

describe('the schema', () => {
  it('declares the directives, so introspection (and GraphiQL) offers them', async () => {
    const { __schema } = (await data(
      '{ __schema { directives { name locations args { name } } } }',
    )) as { __schema: { directives: Array<{ name: string; args: Array<{ name: string }> }> } };
    const byName = new Map(__schema.directives.map((d) => [d.name, d]));
    for (const name of ['flatten', 'first', 'singleton', 'slice', 'skip', 'include']) {
      expect(byName.has(name), name).toBe(true);
    }
    expect(byName.get('slice')!.args.map((a) => a.name)).toEqual(['path']);
  });
});

describe('@flatten', () => {
  it("puts a field's children in its parent; a repeating field's children become lists", async () => {
    expect(
      await data(
        '{ Patient(id: "2") { id telecom @flatten { system value } name @flatten { family given } } }',
      ),
    ).toEqual({
      Patient: {
        id: '2',
        system: ['phone', 'phone'],
        value: [MOBILE_2, HOME_2],
        family: ['APELLIDO02'],
        given: ['NOMBRE2'],
      },
    });
  });

  it('flattens a search: every resource adds to one list per field', async () => {
    expect(
      await data('{ PatientList(_id: ["1", "2"], _sort: "_id") @flatten { id gender } }'),
    ).toEqual({
      id: ['1', '2'],
      gender: ['male', 'female'],
    });
  });

  it('refuses children of different types under one name', async () => {
    const error = await failure('{ Patient(id: "2") { active name @flatten { active: family } } }');
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toBe(
      '@flatten collates values of different types under one name ("active", Boolean, and "family", String); give one of them an alias.',
    );
    expect(error.data).toBeNull();
  });

  it('is refused on a field without children', async () => {
    const error = await failure('{ Patient(id: "2") { id @flatten } }');
    expect(error.status).toBe(400);
    expect(error.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(error.message).toContain('"id" has no children');
  });
});

describe('@first', () => {
  it('keeps the first item, as one value, of each occurrence under @flatten', async () => {
    expect(
      await data(`{ Patient(id: "2") { telecom @first { use value }
        n: name @flatten { given @first } t: telecom @flatten @first { value } } }`),
    ).toEqual({
      Patient: { telecom: { use: 'mobile', value: MOBILE_2 }, given: ['NOMBRE2'], value: MOBILE_2 },
    });
  });
});

describe('@singleton', () => {
  it('answers one value where @flatten would give a list', async () => {
    expect(
      await data(
        '{ Patient(id: "1") { name @flatten { family @singleton } telecom @flatten { value @singleton } } }',
      ),
    ).toEqual({ Patient: { family: 'APELLIDO01', value: '+56 9 10000001' } });
  });

  it('is an error, with its OperationOutcome, when the data has two', async () => {
    const error = await failure(
      '{ Patient(id: "2") { id telecom @flatten { value @singleton } } }',
    );
    expect(error.status).toBe(200);
    expect(error.data).toBeNull();
    expect(error.code).toBe('SINGLETON_VIOLATED');
    expect(error.message).toBe(
      '@singleton: "value" has 2 values in this answer; narrow the list (a filter, _count: 1, @first) or remove @singleton.',
    );
    expect(error.message).not.toContain(MOBILE_2);
    expect(error.outcome).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'invalid', details: { text: error.message } }],
    });
  });

  it('names the schema field in its error, never an alias or a sliced value', async () => {
    const error = await failure(
      '{ Patient(id: "2") { telecom @flatten @slice(path: "system") { myAlias: value @singleton } } }',
    );
    expect(error.code).toBe('SINGLETON_VIOLATED');
    expect(error.message).toContain('"value" has 2 values');
    expect(error.message).not.toMatch(/myAlias|phone/);
  });

  it('unwraps a list field of at most one item', async () => {
    expect(await data('{ Patient(id: "1") { telecom @singleton { value } } }')).toEqual({
      Patient: { telecom: { value: '+56 9 10000001' } },
    });
    expect((await failure('{ Patient(id: "2") { telecom @singleton { value } } }')).code).toBe(
      'SINGLETON_VIOLATED',
    );
  });
});

describe('@slice', () => {
  it("names one property per item by a child's value, suffixes adding up under @flatten", async () => {
    expect(
      await data(
        '{ Patient(id: "2") { telecom @flatten @slice(path: "use") { value @singleton system } } }',
      ),
    ).toEqual({
      Patient: {
        'value.mobile': MOBILE_2,
        'system.mobile': ['phone'],
        'value.home': HOME_2,
        'system.home': ['phone'],
      },
    });
  });

  it('slices by position; without @flatten each slice keeps the field, a list unless @singleton', async () => {
    expect(
      await data(`{ Patient(id: "2") { telecom @slice(path: "$index") { use }
        phone: telecom @slice(path: "use") @singleton { value } } }`),
    ).toEqual({
      Patient: {
        'telecom.0': [{ use: 'mobile' }],
        'telecom.1': [{ use: 'home' }],
        'phone.mobile': { value: MOBILE_2 },
        'phone.home': { value: HOME_2 },
      },
    });
  });

  it('slices a search by an element of the resource, which is read although not selected', async () => {
    expect(
      await data(
        '{ PatientList(_id: ["1", "2"], _sort: "_id") @flatten @slice(path: "gender") { id @singleton } }',
      ),
    ).toEqual({ 'id.male': '1', 'id.female': '2' });
  });

  it('refuses a path that is not $index or a primitive child, a variable, and @first with it', async () => {
    for (const query of [
      '{ Patient(id: "2") { telecom @slice(path: "period") { value } } }',
      '{ Patient(id: "2") { telecom @slice(path: "use.text") { value } } }',
      'query($p: String!) { Patient(id: "2") { telecom @slice(path: $p) { value } } }',
      '{ Patient(id: "2") { telecom @slice(path: "use") @first { value } } }',
    ]) {
      const error = await failure(query);
      expect(error.status, query).toBe(400);
      expect(error.code, query).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(error.message, query).toContain('@slice');
    }
  });
});

describe('with aliases, fragments and abstract types', () => {
  it('shapes through named and inline fragments and aliases', async () => {
    expect(
      await data(`query { a: Patient(id: "2") { ...Phones } }
        fragment Phones on Patient { pid: id phones: telecom @flatten @slice(path: "use") { number: value @singleton } }`),
    ).toEqual({ a: { pid: '2', 'number.mobile': MOBILE_2, 'number.home': HOME_2 } });
  });

  it('tells the type of a Reference.resource apart by its fragment', async () => {
    expect(
      await data(`{ Observation(id: "200") { subject { resource {
        ... on Patient { telecom @flatten { value } }
        ... on Practitioner { name { family } } } } } }`),
    ).toEqual({ Observation: { subject: { resource: { value: [MOBILE_2, HOME_2] } } } });
  });

  it('keeps field errors, with their OperationOutcome, next to the shaped data', async () => {
    const res = await gw.post(
      `{ Patient(id: "2") { id telecom(fhirpath: "where(use = 'home')") @flatten { value }
         name @flatten { family @singleton } } }`,
      { token },
    );
    expect(res.json.data).toEqual({ Patient: { id: '2', family: 'APELLIDO02' } });
    expect(res.json.errors).toHaveLength(1);
    expect(res.json.errors![0]!.extensions).toMatchObject({
      code: 'FHIRPATH_NOT_SUPPORTED',
      resource: { resourceType: 'OperationOutcome' },
    });
  });

  it('shapes introspection fields too', async () => {
    expect(await data('{ __schema @flatten { queryType { name } } }')).toEqual({
      queryType: { name: 'Query' },
    });
  });

  it('refuses one key selected twice with different directives', async () => {
    const error = await failure(
      '{ Patient(id: "2") { telecom @flatten { value } telecom { value } } }',
    );
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toContain('"telecom" is selected more than once under one name');
  });

  it('answers a repeated query the same (the compiled operation is reused)', async () => {
    const query = '{ Patient(id: "2") { telecom @flatten @slice(path: "$index") { value } } }';
    const first = await data(query);
    expect(first).toEqual({ Patient: { 'value.0': [MOBILE_2], 'value.1': [HOME_2] } });
    expect(await data(query)).toEqual(first);
  });
});

describe('the example', () => {
  it('answers one flat row per patient, as docs/api.md shows', async () => {
    const query = readFileSync(
      new URL('../../examples/shaping/patient-rows.graphql', import.meta.url),
      'utf8',
    );
    expect(await data(query, { ids: ['1', '2'] })).toEqual({
      PatientList: [
        { id: '1', family: 'APELLIDO01', given: 'NOMBRE1', 'value.mobile': '+56 9 10000001' },
        {
          id: '2',
          family: 'APELLIDO02',
          given: 'NOMBRE2',
          'value.mobile': MOBILE_2,
          'value.home': HOME_2,
        },
      ],
    });
  });
});

describe('through [base]/$graphql', () => {
  it('shapes system and instance level answers', async () => {
    const query = '{ id telecom @flatten @slice(path: "use") { value @singleton } }';
    const instance = await fhirGraphql('/Patient/2/$graphql', query);
    expect(instance.status).toBe(200);
    expect(instance.json).toEqual({
      data: { id: '2', 'value.mobile': MOBILE_2, 'value.home': HOME_2 },
    });
    const list = await fhirGraphql(
      '/$graphql',
      '{ PatientList(_id: "2") @flatten { telecom @flatten { value } } }',
    );
    expect(list.json).toEqual({ data: { value: [MOBILE_2, HOME_2] } });
    const refused = await fhirGraphql(
      '/Patient/2/$graphql',
      '{ telecom @flatten { value @singleton } }',
    );
    expect(refused.status).toBe(200);
    expect((refused.json['errors'] as Json[])[0]!['extensions']).toMatchObject({
      code: 'SINGLETON_VIOLATED',
    });
  });
});

describe('the fhirpath argument of list fields', () => {
  it('keeps the items a simple expression holds for', async () => {
    expect(
      await data(`{ Patient(id: "2") { home: telecom(fhirpath: "use = 'home'") { value }
        both: telecom(fhirpath: "value.exists() and system = 'phone'") { use }
        none: telecom(fhirpath: "period.exists()") { use }
        name(fhirpath: "family.exists()") { family } } }`),
    ).toEqual({
      Patient: {
        home: [{ value: HOME_2 }],
        both: [{ use: 'mobile' }, { use: 'home' }],
        none: [],
        name: [{ family: 'APELLIDO02' }],
      },
    });
  });

  it('refuses other expressions on the field, with a code and an OperationOutcome', async () => {
    const res = await gw.post(
      `{ Patient(id: "2") { id telecom(fhirpath: "where(use = 'home')") { value } } }`,
      { token },
    );
    expect(res.status).toBe(200);
    const error = res.json.errors![0]!;
    expect(error.extensions?.['code']).toBe('FHIRPATH_NOT_SUPPORTED');
    expect(error.message).toMatch(/^fhirpath: the expression is not one this server evaluates/);
    expect((error as { path?: unknown }).path).toEqual(['Patient', 'telecom']);
    expect(error.extensions?.['resource']).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'not-supported', details: { text: error.message } }],
    });
    expect(res.json.data).toEqual({ Patient: { id: '2', telecom: null } });
  });
});
