import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { Writable } from 'node:stream';
import { createServerAdapter, type ServerAdapterPlugin } from '@whatwg-node/server';
import { createSchema, type Plugin, YogaServer } from 'graphql-yoga';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapterListener, createGraphqlListener } from '../../src/yoga-listeners.js';
import { rawHttp } from '../helpers/raw-http.js';

type Facts = Record<string, unknown>;

const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query {
      hello(name: String!): String!
      fails: String
      seen: String
    }
  `,
  resolvers: {
    Query: {
      hello: (_: unknown, { name }: { name: string }) => `hi ${name}`,
      fails: () => {
        throw new Error('resolver broke');
      },
      // What the plugins in front put on the server context reaches the GraphQL context.
      seen: (_: unknown, __: unknown, ctx: Facts) => `${String(ctx['tag'])}/${String(ctx['fact'])}`,
    },
  },
});

/**
 * Plugins of the kinds the gateway has: one that ends a request in `onRequest` (a refusal), one
 * that adds to the server context, one that sets a header in `onResponse`, and one whose
 * `onRequest` throws.
 */
const plugins: Plugin[] = [
  {
    onRequest({ request, serverContext, endResponse, url }) {
      if (request.headers.get('x-refuse') !== null) {
        endResponse(
          new Response(JSON.stringify({ errors: [{ message: 'refused' }] }), {
            status: 401,
            headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
          }),
        );
        return;
      }
      Object.assign(serverContext as object, { tag: url.pathname });
    },
  },
  {
    async onRequest({ request }) {
      await Promise.resolve();
      if (request.headers.get('x-throw') !== null) {
        throw new Error('a hook broke');
      }
    },
    onResponse({ response, serverContext }) {
      response.headers.set('x-seen-fact', String((serverContext as Facts)['fact']));
    },
  },
];

function yogaServer(): YogaServer<Facts, Facts> {
  return new YogaServer<Facts, Facts>({
    schema,
    maskedErrors: { isDev: false },
    logging: false,
    graphiql: false,
    landingPage: false,
    multipart: false,
    batching: false,
    maxRequestBodySize: false,
    plugins,
  });
}

const silent = pino({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() }));
const errorLines: string[] = [];
const capture = pino(
  { level: 'error' },
  new Writable({
    write(chunk, _e, cb) {
      errorLines.push(String(chunk));
      cb();
    },
  }),
);

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/graphql` };
}

let adapter: { server: Server; url: string };
let listener: { server: Server; url: string };
let adapterListener: { server: Server; url: string };

beforeAll(async () => {
  // The reference: Yoga as createYoga serves it, through the Fetch API server adapter.
  const a = yogaServer();
  const aPlugins = (a as unknown as { plugins: ServerAdapterPlugin<Facts>[] }).plugins;
  const served = createServerAdapter(a as never, { fetchAPI: a.fetchAPI, plugins: aPlugins });
  adapter = await listen((req, res) =>
    (served.requestListener as (...args: unknown[]) => void)(req, res, { fact: 'f1' }),
  );
  const b = yogaServer();
  const bPlugins = (b as unknown as { plugins: ServerAdapterPlugin<Facts>[] }).plugins;
  const lean = createGraphqlListener({
    yoga: b as never,
    plugins: bPlugins,
    waitUntil: () => undefined,
    url: 'http://localhost/graphql',
    log: capture,
  });
  listener = await listen((req, res) => lean(req, res, { fact: 'f1' }));
  const throughAdapter = createAdapterListener(served as never, a.fetchAPI, capture);
  adapterListener = await listen((req, res) => throughAdapter(req, res, { fact: 'f1' }));
  void silent;
});

afterAll(async () => {
  await Promise.all(
    [adapter, listener, adapterListener].map(
      (s) => s && new Promise<void>((resolve) => s.server.close(() => resolve())),
    ),
  );
});

interface Case {
  readonly name: string;
  readonly body: string | Buffer;
  readonly headers?: Record<string, string>;
  /**
   * A body that is not JSON: the adapter's Fetch API `json()` appends the whole body to
   * JSON.parse's message (`, "<body>" is not valid JSON`); the listener sends JSON.parse's
   * message alone, so up to 64 KiB of the client's own body is not echoed back.
   */
  readonly notJson?: boolean;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const GQL_RESPONSE = { ...JSON_TYPE, accept: 'application/graphql-response+json' };

const CASES: Case[] = [
  { name: 'a query', body: JSON.stringify({ query: '{ hello(name: "a") }' }) },
  {
    name: 'variables and an operation name',
    body: JSON.stringify({
      query: 'query Q($n: String!) { hello(name: $n) } query R { seen }',
      variables: { n: 'ñandú €' },
      operationName: 'Q',
    }),
  },
  { name: 'the server context', body: JSON.stringify({ query: '{ seen }' }) },
  { name: 'a resolver error (masked)', body: JSON.stringify({ query: '{ fails }' }) },
  { name: 'a validation error', body: JSON.stringify({ query: '{ nosuch }' }) },
  {
    name: 'a validation error, graphql-response+json',
    body: JSON.stringify({ query: '{ nosuch }' }),
    headers: GQL_RESPONSE,
  },
  {
    name: 'a parse error, graphql-response+json',
    body: JSON.stringify({ query: '{ hello(' }),
    headers: GQL_RESPONSE,
  },
  {
    name: 'a variable of the wrong type',
    body: JSON.stringify({ query: 'query($n: String!) { hello(name: $n) }', variables: { n: 1 } }),
  },
  { name: 'invalid JSON', body: '{"query": ', notJson: true },
  { name: 'a JSON null', body: 'null' },
  { name: 'a JSON number', body: '42' },
  { name: 'no query', body: JSON.stringify({ variables: {} }) },
  { name: 'a query that is not a string', body: JSON.stringify({ query: 7 }) },
  { name: 'an unknown parameter', body: JSON.stringify({ query: '{ seen }', extra: 1 }) },
  {
    name: 'a byte order mark',
    body: Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(JSON.stringify({ query: '{ seen }' })),
    ]),
    notJson: true,
  },
  {
    name: 'no acceptable media type',
    body: JSON.stringify({ query: '{ seen }' }),
    headers: { ...JSON_TYPE, accept: 'text/html' },
  },
  {
    name: 'nulls and extensions',
    body: JSON.stringify({
      query: '{ seen }',
      variables: null,
      operationName: null,
      extensions: { persistedQuery: null },
    }),
  },
  {
    name: 'a charset in the content type',
    body: JSON.stringify({ query: '{ seen }' }),
    headers: { 'content-type': 'application/json; charset=utf-8' },
  },
  {
    name: 'application/graphql+json',
    body: JSON.stringify({ query: '{ seen }' }),
    headers: { 'content-type': 'application/graphql+json' },
  },
  { name: 'a batch', body: JSON.stringify([{ query: '{ seen }' }]) },
  { name: 'variables as a list', body: JSON.stringify({ query: '{ seen }', variables: [1] }) },
  {
    name: 'a numeric operation name',
    body: JSON.stringify({ query: '{ seen }', operationName: 1 }),
  },
  { name: 'extensions as a string', body: JSON.stringify({ query: '{ seen }', extensions: 'x' }) },
  {
    name: 'an operation name that is not in the document',
    body: JSON.stringify({ query: 'query A { seen }', operationName: 'B' }),
  },
  {
    name: 'several operations and no name',
    body: JSON.stringify({ query: 'query A { seen } query B { seen }' }),
  },
  {
    name: 'a mutation',
    body: JSON.stringify({ query: 'mutation { seen }' }),
  },
  {
    name: 'a refusal in onRequest',
    body: JSON.stringify({ query: '{ seen }' }),
    headers: { ...JSON_TYPE, 'x-refuse': '1' },
  },
];

/** What must be the same on both paths: the status, the body and the headers that matter. */
async function answer(url: string, c: Case) {
  const res = await rawHttp(url, {
    method: 'POST',
    target: '/graphql',
    headers: { ...(c.headers ?? JSON_TYPE), 'content-length': String(Buffer.byteLength(c.body)) },
    body: c.body,
  });
  const {
    date: _date,
    connection: _connection,
    'keep-alive': _keepAlive,
    ...headers
  } = res.headers;
  return { status: res.status, headers, body: res.body };
}

describe('the GraphQL POST listener against the Fetch API server adapter', () => {
  it.each(CASES)('answers $name through the adapter listener as the adapter does', async (c) => {
    const [expected, actual] = await Promise.all([
      answer(adapter.url, c),
      answer(adapterListener.url, c),
    ]);
    expect(actual).toEqual(expected);
  });

  it('answers a hook that throws on the adapter path with 500 in the error shape, no stack', async () => {
    const before = errorLines.length;
    const res = await rawHttp(adapterListener.url, {
      method: 'GET',
      target: '/graphql?query=%7Bseen%7D',
      headers: { 'x-throw': '1' },
    });
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.body)).toMatchObject({
      errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    expect(res.body).not.toContain('a hook broke');
    expect(errorLines.slice(before).join('')).toContain('request failed outside GraphQL');
    const reference = await rawHttp(adapter.url, {
      method: 'GET',
      target: '/graphql?query=%7Bseen%7D',
      headers: { 'x-throw': '1' },
    });
    expect(reference.body).toContain('a hook broke');
  });

  it.each(CASES)('answers $name exactly as the adapter does', async (c) => {
    const [expected, actual] = await Promise.all([answer(adapter.url, c), answer(listener.url, c)]);
    if (c.notJson === true) {
      const text = Buffer.from(c.body).toString('utf8');
      const echo = `, "${text}" is not valid JSON`;
      const { 'content-length': _expectedLength, ...expectedHeaders } = expected.headers;
      const { 'content-length': _actualLength, ...actualHeaders } = actual.headers;
      type Answer = { errors: [{ extensions: { originalError: { message: string } } }] };
      const reference = JSON.parse(expected.body) as Answer;
      const original = reference.errors[0].extensions.originalError;
      expect(original.message.endsWith(echo)).toBe(true);
      original.message = original.message.slice(0, -echo.length);
      expect({ ...actual, headers: actualHeaders, body: JSON.parse(actual.body) }).toEqual({
        ...expected,
        headers: expectedHeaders,
        body: reference,
      });
      expect(actual.body).not.toContain(JSON.stringify(echo).slice(1, -1));
      return;
    }
    expect(actual).toEqual(expected);
    expect(actual.status).toBeGreaterThanOrEqual(200);
  });

  it('runs the plugins around the request with the server context the gateway gave it', async () => {
    const res = await answer(listener.url, CASES[2] as Case);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: { seen: '/graphql/f1' } });
    expect(res.headers['x-seen-fact']).toBe('f1');
  });

  it('answers a hook that throws with 500 in the error shape, no stack trace, and logs it', async () => {
    const c: Case = {
      name: 'a throwing hook',
      body: JSON.stringify({ query: '{ seen }' }),
      headers: { ...JSON_TYPE, 'x-throw': '1' },
    };
    const before = errorLines.length;
    const res = await answer(listener.url, c);
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = JSON.parse(res.body) as {
      errors: Array<{ message: string; extensions: Record<string, unknown> }>;
    };
    expect(body.errors[0]?.message).toBe('Unexpected error.');
    expect(body.errors[0]?.extensions['code']).toBe('INTERNAL_SERVER_ERROR');
    expect(res.body).not.toContain('a hook broke');
    expect(res.body).not.toContain('at ');
    expect(errorLines.slice(before).join('')).toContain('request failed outside GraphQL');
    // The adapter sends the stack: the reason the listener does not pass such errors on.
    const reference = await answer(adapter.url, c);
    expect(reference.status).toBe(500);
    expect(reference.body).toContain('a hook broke');
  });

  it('reads a body whose multi-byte characters are split across packets', async () => {
    const body = Buffer.from(
      JSON.stringify({ query: 'query($n: String!) { hello(name: $n) }', variables: { n: 'ñ€😀' } }),
    );
    // Cut inside the four bytes of the emoji.
    const cut = body.indexOf(Buffer.from('😀')) + 2;
    const res = await sendInParts(listener.url, body.length, [
      body.subarray(0, cut),
      body.subarray(cut),
    ]);
    expect(res).toContain('HTTP/1.1 200');
    expect(res).toContain(JSON.stringify({ data: { hello: 'hi ñ€😀' } }));
  });

  it('keeps serving after a client leaves in the middle of its body', async () => {
    const before = errorLines.length;
    await sendInParts(listener.url, 1000, [Buffer.from('{"query": "{ seen }"')], {
      leave: true,
    });
    const res = await answer(listener.url, CASES[0] as Case);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ data: { hello: 'hi a' } });
    expect(errorLines.slice(before)).toEqual([]);
  });
});

/**
 * A POST whose body goes out in separate writes (no Nagle delay, a pause between them), read to
 * the end of the connection; with `leave`, the socket is closed before the body is complete.
 */
function sendInParts(
  url: string,
  length: number,
  parts: readonly Buffer[],
  options: { leave?: boolean } = {},
): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, async () => {
      socket.setNoDelay(true);
      socket.write(
        `POST /graphql HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\n` +
          `content-length: ${length}\r\nconnection: close\r\n\r\n`,
      );
      for (const part of parts) {
        await new Promise<void>((done) => socket.write(part, () => setImmediate(done)));
      }
      if (options.leave === true) {
        socket.destroy();
        resolve('');
      }
    });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}
