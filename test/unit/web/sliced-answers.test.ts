import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLList, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHARS_PER_SLICE,
  slicedBody,
  slicedResponse,
  useSlicedAnswers,
} from '../../../src/web/sliced-answers.js';

// Two-byte, three-byte and four-byte (a surrogate pair in JavaScript) characters.
const TEXT = 'aé王😀'.repeat(7);

/** Reads a stream chunk by chunk, noting how many turns of the event loop had passed at each. */
async function readWithTurns(stream: ReadableStream<Uint8Array>) {
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) {
      setImmediate(tick);
    }
  };
  setImmediate(tick);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  const at: number[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      break;
    }
    chunks.push(value);
    at.push(turns);
  }
  ticking = false;
  return { bytes: Buffer.concat(chunks), chunks, at };
}

describe('slicedBody', () => {
  it('gives the UTF-8 of the text, never cutting a surrogate pair, a slice per turn', async () => {
    // 4 characters per slice: every fourth slice would end inside the emoji's pair.
    const { bytes, chunks, at } = await readWithTurns(slicedBody(TEXT, 4));
    expect(bytes.equals(Buffer.from(TEXT, 'utf8'))).toBe(true);
    // Each chunk decodes on its own: no replacement character from a split pair.
    for (const chunk of chunks) {
      expect(Buffer.from(chunk).toString('utf8')).not.toContain('\uFFFD');
    }
    expect(chunks.length).toBeGreaterThan(TEXT.length / 4);
    for (let i = 1; i < at.length; i++) {
      expect(at[i], `slice ${i}`).toBeGreaterThan(at[i - 1] as number);
    }
  });

  it('sends an empty text as nothing', async () => {
    const { bytes } = await readWithTurns(slicedBody(''));
    expect(bytes.length).toBe(0);
  });
});

describe('slicedResponse', () => {
  it("keeps the whole text's Content-Length and headers", async () => {
    const response = slicedResponse(TEXT, { status: 200, headers: { 'content-type': 'x/y' } });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.equals(Buffer.from(TEXT))).toBe(true);
    expect(response.headers.get('content-length')).toBe(String(bytes.length));
    expect(response.headers.get('content-type')).toBe('x/y');
  });
});

const BIG = 'José 王 😀 "quoted" \\ '.repeat(Math.ceil((3 * CHARS_PER_SLICE) / 20));

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      big: { type: new GraphQLList(GraphQLString), resolve: () => [BIG, 'end'] },
      small: { type: GraphQLString, resolve: () => 'small' },
    },
  }),
});

/** The plugin in a real Yoga, behind a real HTTP server. */
describe('useSlicedAnswers', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const yoga = createYoga({ schema, logging: false, plugins: [useSlicedAnswers()] });
    server = createServer(yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function post(query: string) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query }),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { res, bytes };
  }

  it('sends a large answer byte for byte, with the Content-Length of the whole', async () => {
    const { res, bytes } = await post('{ big }');
    expect(res.status).toBe(200);
    expect(bytes.toString('utf8')).toBe(JSON.stringify({ data: { big: [BIG, 'end'] } }));
    expect(bytes.length).toBeGreaterThan(CHARS_PER_SLICE);
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(res.headers.get('transfer-encoding')).toBeNull();
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('replaces a large JSON answer with one whose body comes a slice per turn', async () => {
    const fetchAPI = createYoga({ schema, logging: false }).fetchAPI;
    const text = JSON.stringify({ data: { big: [BIG] } });
    const original = new fetchAPI.Response(text, {
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    let replaced: Response | undefined;
    const hook = useSlicedAnswers().onResponse as (payload: unknown) => Promise<void>;
    await hook({
      request: new fetchAPI.Request('http://localhost/graphql', { method: 'POST' }),
      response: original,
      setResponse: (r: Response) => {
        replaced = r;
      },
      fetchAPI,
      serverContext: {},
    });
    expect(replaced).toBeDefined();
    expect(replaced?.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    const { bytes, at } = await readWithTurns(replaced?.body as ReadableStream<Uint8Array>);
    expect(bytes.toString('utf8')).toBe(text);
    expect(at.length).toBeGreaterThanOrEqual(3);
    expect(new Set(at).size).toBe(at.length);
  });

  it('leaves a small answer as it was', async () => {
    const { res, bytes } = await post('{ small }');
    expect(bytes.toString('utf8')).toBe('{"data":{"small":"small"}}');
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
  });
});
