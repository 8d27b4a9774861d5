import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4_EXTRACT_RESOURCE_TYPES } from '../../src/fhir/build-extract.js';
import { clinicalTenant } from '../fixtures/clinical-tenant.js';
import { hospitalDTenant } from '../fixtures/hospital-d-tenant.js';
import { hospitalA, hospitalB } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { loadR4Definitions, validateR4 } from '../unit/conformance/r4-validator.js';

/**
 * The clinic and hospitals A, B and D answer on PostgreSQL exactly as on MariaDB (the suites of
 * hospitals C and D, OpenMRS and OpenEMR run on both servers themselves). The MariaDB suites
 * (`graphql-search`, `gateway`, `fhir-parity`, `mapping-more-types`) assert what these tenants
 * must serve; here the same fixtures (one source: `postgresDdl` and `insertRows`)
 * are loaded into both servers behind two real gateways, and every search a tenant offers is
 * asked of both over FHIR REST: the whole list of every mapped type (paged by cursor), each
 * parameter's `:missing`, both sort orders, and values taken from the served resources for
 * string, token, reference and date parameters (date prefixes and precisions included). Answers
 * must be equal resource for resource, and every PostgreSQL Bundle validates as R4. Joins,
 * exists/notExists/anyOf, `{today:n}`, child rows, fan-out, `when`/choices and transforms are
 * all in these resources: a dialect difference in any of them shows as an unequal answer.
 */
const TENANTS = [clinicalTenant(), hospitalA(), hospitalB(), hospitalDTenant()] as const;

/**
 * The resources that differ, and why: each is a MariaDB behaviour the fixture keeps on purpose
 * (its own suite asserts it) and that PostgreSQL does not have. They are left out of the
 * comparison, and each must still show as a difference, so the list cannot go stale.
 */
const KNOWN_DIFFERENCES: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  'hospital-d': {
    // A zero issue date ('0000-00-00') is no PostgreSQL value: the fixture stores NULL there.
    // MariaDB's zero date reads as an absent element too, but it is NOT NULL: `:missing` and
    // sorts see a value.
    DiagnosticReport: ['5'],
    // Its status is 's'; the search map lists 'S'. MariaDB's _ci collation finds it;
    // PostgreSQL's equality is exact.
    Location: ['3'],
  },
};

/** Searches that show a known difference, asked besides the generated ones. */
const EXTRA_SEARCHES: Readonly<Record<string, readonly string[]>> = {
  'hospital-d': ['Location?status=suspended&_sort=_id'],
};

type Json = Record<string, unknown>;
interface Capability {
  type: string;
  searchParams: Array<{ code: string; type: string; modifiers: string[] }>;
}

let maria: TestGateway;
let postgres: TestGateway;

beforeAll(async () => {
  loadR4Definitions();
  const options = { tenants: TENANTS, resourceTypes: R4_EXTRACT_RESOURCE_TYPES, maxCount: 100 };
  [maria, postgres] = await Promise.all([
    createTestGateway(options),
    createTestGateway({ ...options, engine: 'postgres' }),
  ]);
});

afterAll(async () => {
  await Promise.all([maria?.close(), postgres?.close()]);
});

/** What a search answered: the status and the resources (or the OperationOutcome), all pages. */
interface Answer {
  readonly status: number;
  readonly resources: Json[];
  readonly outcome?: Json;
}

/**
 * Reads up to `pages` pages of `query` (following the `next` links, so cursors are compared
 * too); with `validate`, each Bundle must validate as R4.
 */
async function search(
  gw: TestGateway,
  token: string,
  query: string,
  pages: number,
  validate: boolean,
): Promise<Answer> {
  const resources: Json[] = [];
  let url: string | undefined = `${gw.fhirUrl}/${query}`;
  for (let page = 0; url !== undefined && page < pages; page++) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as Json;
    if (response.status !== 200) {
      return { status: response.status, resources, outcome: body };
    }
    if (validate) {
      expect(validateR4(body as unknown as Resource), query).toEqual([]);
    }
    for (const entry of (body['entry'] as Array<{ resource: Json }> | undefined) ?? []) {
      resources.push(entry.resource);
    }
    url = (body['link'] as Array<{ relation: string; url: string }>).find(
      (l) => l.relation === 'next',
    )?.url;
  }
  return { status: 200, resources };
}

/** Every string leaf of `value` under a key in `keys`, in document order. */
function leaves(value: unknown, keys: ReadonlySet<string>, found: string[] = []): string[] {
  if (Array.isArray(value)) {
    for (const item of value) {
      leaves(item, keys, found);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (typeof child === 'string' && keys.has(key)) {
        found.push(child);
      } else {
        leaves(child, keys, found);
      }
    }
  }
  return found;
}

function distinct(values: readonly string[], n: number): string[] {
  return [...new Set(values)].slice(0, n);
}

const STRING_KEYS = new Set(['family', 'given', 'text', 'name', 'city', 'line', 'display']);
const TOKEN_KEYS = new Set(['code', 'value', 'status', 'gender', 'intent']);
const DATE_KEYS = new Set([
  'birthDate',
  'start',
  'end',
  'effectiveDateTime',
  'issued',
  'recordedDate',
  'authoredOn',
  'onsetDateTime',
  'date',
  'occurrenceDateTime',
  'performedDateTime',
]);
const DATE = /^\d{4}-\d{2}-\d{2}/;

/** Values to search `param` with, taken from the resources MariaDB served. */
function probes(param: { code: string; type: string }, resources: readonly Json[]): string[] {
  switch (param.type) {
    case 'string':
      return distinct(leaves(resources, STRING_KEYS), 2).map((v, i) =>
        // A prefix in lower case (case-insensitive match) and a whole value.
        encodeURIComponent(i === 0 ? v.slice(0, 3).toLowerCase() : v),
      );
    case 'token':
      return distinct(
        leaves(resources, TOKEN_KEYS).filter((v) => v.length <= 40),
        3,
      ).map(encodeURIComponent);
    case 'reference':
      return distinct(leaves(resources, new Set(['reference'])), 1).map(encodeURIComponent);
    case 'date':
      // Each precision (year, month, day) and the prefixes, around one served date.
      return distinct(
        leaves(resources, DATE_KEYS).filter((v) => DATE.test(v)),
        1,
      ).flatMap((d) => [d.slice(0, 4), d.slice(0, 7), `ge${d.slice(0, 10)}`, `lt${d.slice(0, 7)}`]);
    default:
      return [];
  }
}

/** Where two answers part, briefly (the first resource that differs), or undefined. */
function differenceOf(expected: Answer, actual: Answer): string | undefined {
  if (expected.status !== actual.status) {
    return `status ${expected.status} on MariaDB, ${actual.status} on PostgreSQL`;
  }
  if (JSON.stringify(expected.outcome) !== JSON.stringify(actual.outcome)) {
    return `OperationOutcome ${JSON.stringify(expected.outcome)} on MariaDB, ${JSON.stringify(actual.outcome)} on PostgreSQL`;
  }
  const ids = (a: Answer) => a.resources.map((r) => r['id']).join(',');
  if (ids(expected) !== ids(actual)) {
    return `ids [${ids(expected)}] on MariaDB, [${ids(actual)}] on PostgreSQL`;
  }
  const i = expected.resources.findIndex(
    (r, k) => JSON.stringify(r) !== JSON.stringify(actual.resources[k]),
  );
  return i < 0
    ? undefined
    : `resource ${i}: ${JSON.stringify(expected.resources[i])} on MariaDB, ${JSON.stringify(actual.resources[i])} on PostgreSQL`;
}

describe.each(TENANTS.map((t) => t.clientId))('tenant %s on PostgreSQL', (clientId) => {
  it('answers every search as MariaDB does, with valid R4 resources', async () => {
    const [mariaToken, pgToken] = await Promise.all([
      maria.tokenFor(clientId),
      postgres.tokenFor(clientId),
    ]);
    const res = await maria.post(
      '{ tenantCapabilities { type searchParams { code type modifiers } } }',
      { token: mariaToken },
    );
    const capabilities = (res.json.data as { tenantCapabilities: Capability[] }).tenantCapabilities;
    expect(capabilities.length).toBeGreaterThan(0);
    let compared = 0;
    let withHits = 0;
    let resources = 0;
    const differences: string[] = [];
    const known = KNOWN_DIFFERENCES[clientId] ?? {};
    const knownSeen = new Set<string>();
    // The whole list of a type (every page, each validated); of a search, two pages.
    const ask = async (query: string, whole = false) => {
      const pages = whole ? 50 : 2;
      const [expected, actual] = await Promise.all([
        search(maria, mariaToken, query, pages, false),
        search(postgres, pgToken, query, pages, whole),
      ]);
      const type = query.slice(0, query.indexOf('?'));
      const skip = new Set(known[type] ?? []);
      const without = (a: Answer): Answer => ({
        ...a,
        resources: a.resources.filter((r) => !skip.has(String(r['id']))),
      });
      for (const id of skip) {
        const at = (x: Answer) => x.resources.findIndex((r) => String(r['id']) === id);
        const [i, k] = [at(expected), at(actual)];
        if (
          i !== k ||
          JSON.stringify(expected.resources[i]) !== JSON.stringify(actual.resources[k])
        ) {
          knownSeen.add(`${type}/${id}`);
        }
      }
      const difference = differenceOf(without(expected), without(actual));
      if (difference !== undefined) {
        differences.push(`${query}: ${difference}`);
      }
      compared++;
      return expected;
    };
    for (const { type, searchParams } of capabilities) {
      const all = await ask(`${type}?_sort=_id&_count=40`, true);
      expect(all.status).toBe(200);
      resources += all.resources.length;
      const queries: string[] = [];
      for (const param of searchParams) {
        if (param.code === '_id') {
          continue;
        }
        if (param.modifiers.includes('missing')) {
          queries.push(`${type}?${param.code}:missing=true`, `${type}?${param.code}:missing=false`);
        }
        queries.push(`${type}?_sort=${param.code},_id`, `${type}?_sort=-${param.code},_id`);
        for (const value of probes(param, all.resources)) {
          queries.push(`${type}?${param.code}=${value}&_sort=_id`);
        }
      }
      for (const query of queries) {
        const answer = await ask(`${query}&_count=50`);
        if (answer.resources.length > 0) {
          withHits++;
        }
      }
    }
    for (const query of EXTRA_SEARCHES[clientId] ?? []) {
      await ask(query);
    }
    expect(differences).toEqual([]);
    expect([...knownSeen].sort()).toEqual(
      Object.entries(known)
        .flatMap(([type, ids]) => ids.map((id) => `${type}/${id}`))
        .sort(),
    );
    // The probes find rows (values come from the data), not only empty answers.
    expect(resources).toBeGreaterThan(0);
    expect(withHits * 2).toBeGreaterThan(compared - capabilities.length);
  });
});
