import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/sql-audit-store.js';
import { hospitalA } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { type RawResponse, rawHttp } from '../helpers/raw-http.js';

/**
 * One door (issue 11, item 1): Yoga serves its endpoint at any URL ending in `/graphql`, so
 * every variant of the path, every method and every body shape is walked here over raw TCP, and
 * each must be answered 401/404/405/411/413/415 (or 400 for a hostile Host) before anything is
 * parsed: no validation text in the body, no tenant statement, and a denial audit row for a 401.
 */
let gw: TestGateway;
let url: string;

/** A query that only validation could complain about. */
const QUERY = '{ Patient(id: "1") { nosuchfield } }';
const BODY = JSON.stringify({ query: QUERY });
/** What a parse or validation would have written into the body. */
const PARSED = /nosuchfield|Cannot query field|GRAPHQL_VALIDATION_FAILED|GRAPHQL_PARSE_FAILED/;

beforeAll(async () => {
  gw = await createTestGateway({ tenants: [hospitalA()] });
  url = gw.url;
});

afterAll(async () => {
  await gw?.close();
});

function post(
  target: string,
  headers: Record<string, string> = {},
  body: string = BODY,
  localAddress?: string,
) {
  return rawHttp(url, {
    method: 'POST',
    target,
    ...(localAddress === undefined ? {} : { localAddress }),
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
    body,
  });
}

/** The audit rows of one request id; denials are written after the answer, so poll. */
async function auditRows(requestId: string): Promise<AuditRecord[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await gw.auditStore.readEvents({ requestId });
    if (rows.length > 0 || Date.now() > deadline) {
      return rows;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function expectUnparsed(res: RawResponse, label: string): void {
  expect(res.body, label).not.toMatch(PARSED);
  if (res.status >= 400 && res.body !== '' && res.headers['content-type']?.includes('json')) {
    const code = (JSON.parse(res.body) as { errors: Array<{ extensions: { code: string } }> })
      .errors[0]?.extensions.code;
    expect(code, label).toMatch(/^[A-Z_]+$/);
  }
}

/** Paths that are not the endpoint, however much they end in, contain or resemble it. */
const NOT_THE_ENDPOINT = [
  '/graphql/',
  '/graphql//',
  '/x/graphql',
  '/x/graphql/',
  '/api/graphql',
  '/?a=/graphql',
  '/?/graphql',
  '/healthz/graphql',
  '/metrics?x=/graphql',
  '//graphql',
  '///graphql',
  '/%67raphql',
  '/graphq%6c',
  '/graphql%2F',
  '/%2Fgraphql',
  '/GraphQL',
  '/GRAPHQL',
  '/graphql;a=b',
  '/graphql/.',
  '/./graphql',
  '/a/../graphql',
  '/graphql.json',
  '/health',
  '/x/health',
  '/',
  'http://evil.example/graphql',
  '*',
];

describe('only the endpoint path reaches Yoga', () => {
  it.each(NOT_THE_ENDPOINT)('POST %s without a token: 404, nothing parsed', async (target) => {
    const from = gw.statements.length;
    const res = await post(target);
    expect(res.status, target).toBe(404);
    expectUnparsed(res, target);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('NOT_FOUND');
    expect(gw.statements.length).toBe(from);
  });

  it('GET, PUT, DELETE, PATCH, OPTIONS and HEAD of those paths: 404 too', async () => {
    for (const target of NOT_THE_ENDPOINT) {
      for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
        const query = target.includes('?') ? '' : `?query=${encodeURIComponent(QUERY)}`;
        const res = await rawHttp(url, {
          method,
          target: `${target}${query}`,
          headers: { accept: 'text/html, application/json' },
        });
        expect(res.status, `${method} ${target}`).toBe(404);
        expectUnparsed(res, `${method} ${target}`);
      }
    }
  });

  it('a route path with /graphql in its query string is still the route: GET only', async () => {
    const health = await rawHttp(url, {
      method: 'GET',
      target: '/healthz?/graphql',
      headers: { accept: 'text/html' },
    });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    const posted = await post('/healthz?/graphql');
    expect(posted.status).toBe(405);
    expect(posted.headers['allow']).toBe('GET');
    expectUnparsed(posted, 'POST /healthz?/graphql');
  });

  it('a Host header that would move the path Yoga sees is 400', async () => {
    // An empty Host would make Yoga's URL `http:///graphql`: host `graphql`, path `/`.
    for (const host of ['a?', 'a/b', 'a#', 'a@b', 'a b', 'a\\b', '']) {
      const from = gw.statements.length;
      const res = await post('/graphql', { host });
      expect(res.status, host).toBe(400);
      expect(JSON.parse(res.body).errors[0].extensions.code).toBe('BAD_REQUEST');
      expectUnparsed(res, host);
      expect(gw.statements.length).toBe(from);
    }
    // Names, ports, IP literals and Docker-style service names are fine.
    for (const host of ['localhost', 'gw.example.org:443', '[::1]:4000', 'fhirgate_gateway:4000']) {
      expect((await post('/graphql', { host })).status, host).toBe(401);
    }
  });
});

describe('the endpoint itself, before authentication', () => {
  it.each([
    ['/graphql', '127.0.0.11'],
    ['/graphql?a=/graphql', '127.0.0.12'],
    ['/graphql?x=/health', '127.0.0.13'],
    ['/graphql?query=%7B__typename%7D', '127.0.0.14'],
  ])('POST %s without a token: 401 and a denial audit row', async (target, from) => {
    // Each from an address of its own: the first anonymous denial of an address has its own row.
    const res = await post(target, {}, BODY, from);
    expect(res.status, target).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="fhirgate"');
    expectUnparsed(res, target);
    const requestId = res.headers['x-request-id'] ?? '';
    expect(requestId).not.toBe('');
    const rows = await auditRows(requestId);
    expect(rows.map((r) => [r.kind, r.outcome])).toEqual([['denied', 4]]);
  });

  it('every method but POST (and GraphiQL HTML) is 405 Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
      const res = await rawHttp(url, {
        method,
        target: `/graphql?query=${encodeURIComponent(QUERY)}`,
        headers: { accept: 'application/json' },
      });
      expect(res.status, method).toBe(405);
      expect(res.headers['allow'], method).toBe('POST');
      expectUnparsed(res, method);
    }
    // GraphiQL's page holds no data; a GET of it with a body is refused all the same.
    const page = await rawHttp(url, {
      method: 'GET',
      target: '/graphql',
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    const withBody = await rawHttp(url, {
      method: 'GET',
      target: '/graphql',
      headers: { accept: 'text/html', 'content-length': String(BODY.length) },
      body: BODY,
    });
    expect(withBody.status).toBe(405);
  });

  it('415 for non-JSON and compressed bodies, chunked or not', async () => {
    const cases: Array<[string, Record<string, string>, boolean]> = [
      ['text/plain', {}, false],
      ['application/x-www-form-urlencoded', {}, false],
      ['application/x-www-form-urlencoded', {}, true],
      ['multipart/form-data; boundary=x', {}, true],
      ['application/graphql', {}, false],
      ['application/json', { 'content-encoding': 'gzip' }, false],
      ['application/json', { 'content-encoding': 'deflate' }, true],
    ];
    for (const [type, extra, chunked] of cases) {
      const res = await rawHttp(url, {
        method: 'POST',
        target: '/graphql',
        headers: {
          'content-type': type,
          ...extra,
          ...(chunked ? {} : { 'content-length': String(BODY.length) }),
        },
        body: BODY,
        chunked,
      });
      expect(res.status, `${type} ${chunked}`).toBe(415);
      expect(JSON.parse(res.body).errors[0].extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('411 for a chunked JSON body, answered without waiting for its end', async () => {
    const res = await rawHttp(url, {
      method: 'POST',
      target: '/graphql',
      headers: { 'content-type': 'application/json' },
      body: BODY,
      chunked: true,
      unfinished: true,
    });
    expect(res.status).toBe(411);
    expectUnparsed(res, 'chunked');
  });

  it('a declared 32 MiB body is answered (413, 404, 405) while 31 MiB of it are still owed', async () => {
    for (const target of ['/graphql', '/graphql/', '/x/graphql', '/healthz?/graphql']) {
      const res = await rawHttp(url, {
        method: 'POST',
        target,
        headers: { 'content-type': 'application/json', 'content-length': String(32 << 20) },
        // One MiB of the 32: the answer comes while the rest is still owed.
        body: Buffer.alloc(1 << 20, 0x20),
        unfinished: true,
      });
      expect([413, 404, 405], target).toContain(res.status);
      expectUnparsed(res, target);
    }
  });

  it('a body over the limit sent by fetch still gets its 413', async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ __typename } #${'x'.repeat(1 << 20)}` }),
    });
    expect(res.status).toBe(413);
    expect(
      ((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]
        ?.extensions.code,
    ).toBe('PAYLOAD_TOO_LARGE');
  });
});
