import type { Resource } from '@medplum/fhirtypes';
import { expect } from 'vitest';
import { tenantHash } from '../../src/logger.js';
import { validateR4, withoutNulls } from '../unit/conformance/r4-validator.js';
import type { TestGateway } from './create-test-gateway.js';

type Json = Record<string, unknown>;

/**
 * GraphQL reads for one tenant of a test gateway in which every resource received is validated
 * against R4 (zero errors expected) and counted by type, so a test file can finish by asserting
 * how many resources of each type it validated. `gateway` and `token` are read at call time, as
 * they are usually set in `beforeAll`.
 */
export function validatingClient(options: {
  /** Selection sets covering every element the tenant maps, per resource type. */
  readonly fields: Readonly<Record<string, string>>;
  readonly clientId: string;
  readonly gateway: () => TestGateway;
  readonly token: () => string;
}) {
  const { fields, clientId, gateway, token } = options;
  /** Resources validated so far, by type. */
  const validated: Record<string, number> = {};

  /** Strips nulls, validates against R4 (zero errors expected) and counts. */
  function valid(raw: unknown): Json {
    const resource = withoutNulls(raw) as Json;
    expect(validateR4(resource as unknown as Resource), JSON.stringify(resource)).toEqual([]);
    const type = String(resource['resourceType']);
    validated[type] = (validated[type] ?? 0) + 1;
    return resource;
  }

  async function data(query: string): Promise<Json> {
    const res = await gateway().post(query, { token: token() });
    expect(res.json.errors, res.text).toBeUndefined();
    expect(res.status).toBe(200);
    return res.json.data as Json;
  }

  return {
    validated,
    valid,
    data,
    /** `XList(<args>)` with the full selection set, every resource validated. */
    async list(type: string, args = ''): Promise<Json[]> {
      const d = await data(
        `{ r: ${type}List${args === '' ? '' : `(${args})`} { ${fields[type]} } }`,
      );
      return (d['r'] as unknown[]).map(valid);
    },
    /** `X(id:)` with the full selection set; `null` when there is none. */
    async read(type: string, id: string): Promise<Json | null> {
      const d = await data(`{ r: ${type}(id: ${JSON.stringify(id)}) { ${fields[type]} } }`);
      return d['r'] === null ? null : valid(d['r']);
    },
    async ids(type: string, args: string): Promise<string[]> {
      const d = await data(`{ r: ${type}List(${args}) { id } }`);
      return (d['r'] as Json[]).map((r) => String(r['id']));
    },
    /** The SQL this tenant's database received since `from` (an index into `statements`). */
    statementsSince(from: number): string[] {
      return gateway()
        .statements.slice(from)
        .filter((s) => s.tenantHash === tenantHash(clientId))
        .map((s) => s.sql);
    },
  };
}
