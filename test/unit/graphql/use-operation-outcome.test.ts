import {
  GraphQLError,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
} from 'graphql';
import { createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { gatewayError, issueTypeOf, operationOutcomeFor } from '../../../src/errors.js';
import { useOperationOutcome } from '../../../src/graphql/use-operation-outcome.js';

/** A schema with one field per kind of failure a resolver can have. */
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      ok: { type: GraphQLString, resolve: () => 'fine' },
      expected: {
        type: GraphQLString,
        resolve: () => {
          throw gatewayError(
            'RESOURCE_NOT_SUPPORTED',
            'This tenant does not serve Group resources.',
          );
        },
      },
      unexpected: {
        type: GraphQLString,
        resolve: () => {
          throw new Error('connect ECONNREFUSED mysql://secret@db');
        },
      },
      nonNull: { type: new GraphQLNonNull(GraphQLString), resolve: () => null },
      echo: {
        type: GraphQLString,
        args: { n: { type: new GraphQLNonNull(GraphQLString) } },
        resolve: (_r, args: { n: string }) => args.n,
      },
      transient: {
        type: GraphQLString,
        resolve: () => {
          throw new GraphQLError('Busy.', {
            extensions: { code: 'SOMETHING_ELSE', http: { status: 503 } },
          });
        },
      },
    },
  }),
});

const yoga = createYoga({
  schema,
  maskedErrors: { isDev: false },
  logging: false,
  plugins: [useOperationOutcome()],
});

interface Body {
  data?: unknown;
  errors?: Array<{ message: string; path?: unknown; extensions: Record<string, unknown> }>;
}

async function post(query: string, variables?: Record<string, unknown>) {
  const res = await yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as Body };
}

describe('useOperationOutcome', () => {
  it('adds an OperationOutcome to an expected error and keeps its code', async () => {
    const { status, body } = await post('{ ok expected }');
    expect(status).toBe(200);
    expect(body.data).toEqual({ ok: 'fine', expected: null });
    expect(body.errors).toMatchInlineSnapshot(`
      [
        {
          "extensions": {
            "code": "RESOURCE_NOT_SUPPORTED",
            "resource": {
              "issue": [
                {
                  "code": "not-supported",
                  "details": {
                    "text": "This tenant does not serve Group resources.",
                  },
                  "severity": "error",
                },
              ],
              "resourceType": "OperationOutcome",
            },
          },
          "locations": [
            {
              "column": 6,
              "line": 1,
            },
          ],
          "message": "This tenant does not serve Group resources.",
          "path": [
            "expected",
          ],
        },
      ]
    `);
  });

  it('covers masked errors without leaking the original message', async () => {
    const { status, body } = await post('{ unexpected }');
    expect(status).toBe(200);
    expect(JSON.stringify(body)).not.toContain('ECONNREFUSED');
    expect(body.errors?.[0]?.message).toBe('Unexpected error.');
    // Yoga keeps its internal `unexpected` flag out of the response.
    expect(body.errors?.[0]?.extensions).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      resource: operationOutcomeFor('INTERNAL_SERVER_ERROR', 'Unexpected error.'),
    });
    expect(issueTypeOf('INTERNAL_SERVER_ERROR')).toBe('exception');
  });

  it('covers parse and validation errors, with their HTTP status', async () => {
    const parse = await post('{ ok');
    expect(parse.status).toBe(400);
    expect(parse.body.errors?.[0]?.extensions['code']).toBe('GRAPHQL_PARSE_FAILED');
    expect(parse.body.errors?.[0]?.extensions['resource']).toMatchObject({
      issue: [{ severity: 'error', code: 'structure' }],
    });
    const invalid = await post('{ nope }');
    expect(invalid.status).toBe(400);
    expect(invalid.body.errors?.[0]?.extensions['code']).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(invalid.body.errors?.[0]?.extensions['resource']).toMatchObject({
      issue: [{ severity: 'error', code: 'invalid', details: { text: expect.any(String) } }],
    });
  });

  it('gives graphql-js errors without a code one: bad variables are the client’s, null leaks ours', async () => {
    const variables = await post('query($n: String!) { echo(n: $n) }', { n: 3 });
    expect(variables.body.errors?.[0]?.extensions['code']).toBe('BAD_USER_INPUT');
    expect(variables.body.errors?.[0]?.extensions['resource']).toMatchObject({
      issue: [{ code: 'invalid' }],
    });
    const nonNull = await post('{ nonNull }');
    expect(nonNull.body.errors?.[0]?.extensions['code']).toBe('INTERNAL_SERVER_ERROR');
    expect(nonNull.body.errors?.[0]?.extensions['resource']).toMatchObject({
      issue: [{ code: 'exception' }],
    });
  });

  it('maps foreign codes by their HTTP status', async () => {
    const { body } = await post('{ transient }');
    expect(body.errors?.[0]?.extensions['code']).toBe('SOMETHING_ELSE');
    expect(body.errors?.[0]?.extensions['resource']).toMatchObject({
      issue: [{ code: 'exception' }],
    });
    expect(issueTypeOf('SOMETHING_ELSE', 422)).toBe('invalid');
  });

  it('maps every gateway code to a FHIR issue type', () => {
    expect(operationOutcomeFor('UNAUTHENTICATED', 'The access token is missing.')).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        { severity: 'error', code: 'login', details: { text: 'The access token is missing.' } },
      ],
    });
    expect(issueTypeOf('FORBIDDEN')).toBe('forbidden');
    expect(issueTypeOf('TENANT_BUSY')).toBe('throttled');
    expect(issueTypeOf('UPSTREAM_TIMEOUT')).toBe('timeout');
    expect(issueTypeOf('REFERENCE_NOT_FOUND')).toBe('not-found');
    expect(issueTypeOf('SEARCH_PARAM_NOT_SUPPORTED')).toBe('not-supported');
    expect(issueTypeOf('TENANT_UNAVAILABLE')).toBe('transient');
    expect(issueTypeOf('BAD_USER_INPUT')).toBe('invalid');
  });
});
