import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  GraphQLError,
  GraphQLList,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
} from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWorkBudget } from '../../../src/graphql/use-work-budget.js';
import { createWorkBudget } from '../../../src/repository/work-budget.js';

const NAMES = ['José María Núñez', 'Zoë', '王秀英', 'emoji 😀 and "quotes" \\ </script>'];

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      names: { type: new GraphQLList(GraphQLString), resolve: () => NAMES },
      partial: {
        type: GraphQLString,
        resolve: () => {
          throw new GraphQLError('Not here.', { extensions: { code: 'NOT_HERE' } });
        },
      },
    },
  }),
});

/** A later plugin that replaces `data`: the answer is then written whole from the new result. */
const replaceData: Plugin = {
  onResultProcess({ request, result, setResult }) {
    if (request.headers.get('x-replace') !== null && !Array.isArray(result)) {
      setResult({ ...result, data: { names: ['replaced'] } });
    }
  },
};

/** The result processor in a real Yoga, behind a real HTTP server. */
describe("useWorkBudget: the answer's text", () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const yoga = createYoga({
      schema,
      logging: false,
      maskedErrors: false,
      plugins: [useWorkBudget(), replaceData],
      context: () => ({
        repository: { work: createWorkBudget('client', { maxResources: 100, maxBytes: 1 << 20 }) },
      }),
    });
    server = createServer(yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function post(query: string, headers: Record<string, string> = {}) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    return { res, bytes, text: bytes.toString('utf8') };
  }

  it('sends the UTF-8 of JSON.stringify(result), with its length in bytes', async () => {
    const { res, bytes, text } = await post('{ names }');
    expect(res.status).toBe(200);
    expect(text).toBe(JSON.stringify({ data: { names: NAMES } }));
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
    expect(bytes.length).toBeGreaterThan(text.length);
  });

  it('writes the errors beside the data, key for key', async () => {
    const { res, text } = await post('{ names partial }');
    expect(res.status).toBe(200);
    const body = JSON.parse(text) as { data: unknown; errors: unknown[] };
    expect(text).toBe(JSON.stringify(body));
    expect(body.data).toEqual({ names: NAMES, partial: null });
    expect(body.errors).toHaveLength(1);
  });

  it('writes the new result when a later plugin replaced the data', async () => {
    const { text } = await post('{ names }', { 'x-replace': '1' });
    expect(text).toBe(JSON.stringify({ data: { names: ['replaced'] } }));
  });
});
