/**
 * GraphiQL as `npm start` serves it: the page holds a working hospital-a token in the JSON form
 * GraphiQL's Headers editor takes, and every example tab answers without errors when sent the
 * way GraphiQL sends it (the whole tab text, with the operation's name).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_GRAPHIQL_ROLES, DEMO_GRAPHIQL_TENANT } from '../../src/demo/demo-graphiql.js';
import { GRAPHIQL_EXAMPLES } from '../../src/demo/graphiql-examples.js';
import { type DemoProcess, startDemo } from '../helpers/demo-process.js';
import { graphiqlOptionsIn } from '../helpers/graphiql-options.js';

let dataDir: string;
let demo: DemoProcess;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-demo-graphiql-'));
  demo = await startDemo(dataDir);
});

afterAll(async () => {
  await demo?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Tab {
  readonly query: string;
  readonly variables: string | null;
  readonly headers: string;
}

async function openGraphiQL(): Promise<Record<string, unknown>> {
  const res = await fetch(`${demo.base}/graphql`, { headers: { accept: 'text/html' } });
  expect(res.status).toBe(200);
  return graphiqlOptionsIn(await res.text());
}

function bearerOf(headers: string): string {
  const parsed = JSON.parse(headers) as Record<string, string>;
  expect(Object.keys(parsed)).toEqual(['Authorization']);
  const match = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(parsed['Authorization'] ?? '');
  expect(match).not.toBeNull();
  return match?.[1] as string;
}

async function send(token: string, query: string, operationName: string, variables?: unknown) {
  const res = await fetch(`${demo.base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, operationName, variables }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] },
  };
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8'));
}

describe('GraphiQL in demo mode', () => {
  it('opens with a hospital-a token in every tab, as JSON GraphiQL accepts', async () => {
    const options = await openGraphiQL();
    const tabs = options['defaultTabs'] as Tab[];
    expect(tabs).toHaveLength(GRAPHIQL_EXAMPLES.length);
    expect(options['query']).toBe(GRAPHIQL_EXAMPLES[0]?.query);
    const token = bearerOf(options['headers'] as string);
    for (const tab of tabs) {
      expect(tab.headers).toBe(options['headers']);
    }
    const claims = claimsOf(token);
    expect(claims['azp']).toBe(DEMO_GRAPHIQL_TENANT);
    expect((claims['realm_access'] as { roles: string[] }).roles).toEqual([...DEMO_GRAPHIQL_ROLES]);
  });

  it('mints a fresh token for each page load', async () => {
    const first = bearerOf((await openGraphiQL())['headers'] as string);
    const second = bearerOf((await openGraphiQL())['headers'] as string);
    expect(claimsOf(second)['jti']).not.toBe(claimsOf(first)['jti']);
  });

  it('answers every example tab, operation by operation, without an error', async () => {
    const options = await openGraphiQL();
    const token = bearerOf(options['headers'] as string);
    const tabs = options['defaultTabs'] as Tab[];
    let cursor: string | undefined;
    const answered: string[] = [];
    for (const tab of tabs) {
      const names = [...tab.query.matchAll(/^(?:query|mutation) (\w+)/gm)].map((m) => m[1]);
      expect(names.length, tab.query).toBeGreaterThan(0);
      for (const name of names as string[]) {
        const variables = name === 'NextPage' ? { cursor } : undefined;
        const { status, body } = await send(token, tab.query, name, variables);
        expect(body.errors, name).toBeUndefined();
        expect(status, name).toBe(200);
        answered.push(name);
        if (name === 'FirstPage') {
          cursor = (body.data?.['PatientConnection'] as { next?: string } | undefined)?.next;
          expect(cursor).toEqual(expect.any(String));
        }
        if (name === 'NextPage') {
          expect(body.data?.['PatientConnection']).toMatchObject({ offset: 2 });
        }
      }
    }
    expect(answered).toEqual([
      'PatientsWithIdentifiers',
      'VitalsWithPatient',
      'PatientRecord',
      'FirstPage',
      'NextPage',
      'ReloadTenant',
    ]);
  });

  it('finds a patient named Soto, with an identifier, in the first example', async () => {
    const options = await openGraphiQL();
    const token = bearerOf(options['headers'] as string);
    const { body } = await send(token, options['query'] as string, 'PatientsWithIdentifiers');
    const patients = body.data?.['PatientList'] as {
      name: { family: string }[];
      identifier: { value: string }[];
    }[];
    expect(patients.length).toBeGreaterThan(0);
    expect(patients[0]?.name[0]?.family).toBe('Soto');
    expect(patients[0]?.identifier.length).toBeGreaterThan(0);
  });

  it('sends a browser from / to GraphiQL and prints the header in GraphiQL form', async () => {
    const res = await fetch(`${demo.base}/`, {
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/graphql');
    expect(demo.output()).toContain('{"Authorization": "Bearer <token>"}');
    expect(demo.output()).not.toContain('"Authorization: Bearer');
  });
});
