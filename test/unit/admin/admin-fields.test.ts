// Pothos runs outside Vite and gets graphql's CommonJS build through Node; see graphql/fhir-types.test.ts.
import { graphql, printSchema } from 'graphql/index.js';
import { describe, expect, it } from 'vitest';
import type { AdminCaller, AdminService } from '../../../src/admin/admin-service.js';
import { type Config, ConfigError, loadConfig } from '../../../src/config.js';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { buildGatewaySchema } from '../../../src/graphql/schema.js';
import { createLogger } from '../../../src/logger.js';

const defs = loadDefinitions();
const LIMITS = { maxCount: 100, defaultCount: 20, maxOffset: 10_000 };

const context = {
  requestId: 'req-1',
  principal: {
    issuer: 'https://sso.test/realms/t',
    subject: 'u1',
    clientId: 'hospital-a',
    roles: new Set(['fhir-admin']),
    expiresAt: 0,
  },
  log: createLogger({ level: 'silent' }),
};

/** Records what the fields hand to the service; the service's own rules have integration tests. */
function recordingService(calls: unknown[]): AdminService {
  return {
    reloadTenantConfig: (caller: AdminCaller, clientId) => {
      calls.push({ op: 'reload', requestId: caller.requestId, clientId });
      return Promise.resolve({ clientId, mappingVersion: 3, published: true });
    },
    activateTenantMapping: (_caller, clientId, document, dryRun) => {
      calls.push({ op: 'activate', clientId, document, dryRun });
      return Promise.resolve({
        clientId,
        dryRun,
        ok: false,
        version: null,
        published: false,
        problems: [
          { resource: 'Patient', path: 'id', column: 'x', message: 'm' },
          { message: 'n' },
        ],
      });
    },
    tenantStatus: (_caller, clientId) =>
      Promise.resolve({
        clientId,
        status: 'active',
        activeMappingVersion: 2,
        mappingVersion: 2,
        poolSize: 3,
        connectionsInUse: 1,
        idleConnections: 2,
        queueLength: 0,
        poolLimit: 10,
        breakerState: 'half-open',
        lastErrorCode: 'UPSTREAM_TIMEOUT',
        lastErrorAt: '2026-01-01T00:00:00.000Z',
      }),
  };
}

describe('admin fields in the gateway schema', () => {
  it('are part of the public schema, with or without an admin service', () => {
    const sdl = printSchema(
      buildGatewaySchema({ defs, resourceTypes: ['Patient'], limits: LIMITS }),
    );
    expect(sdl).toContain('scalar JSON');
    expect(sdl).toMatch(/reloadTenantConfig\(clientId: String!\): AdminTenantReload!/);
    expect(sdl).toMatch(
      /activateTenantMapping\(clientId: String!, document: JSON!, dryRun: Boolean = false\): AdminMappingActivation!/,
    );
    expect(sdl).toMatch(/tenantStatus\(clientId: String!\): AdminTenantStatus!/);
  });

  it('answer FORBIDDEN when the gateway was built without an admin service', async () => {
    const schema = buildGatewaySchema({ defs, resourceTypes: ['Patient'], limits: LIMITS });
    const result = await graphql({
      schema,
      source: 'mutation { reloadTenantConfig(clientId: "hospital-a") { published } }',
      contextValue: context,
    });
    expect(result.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('pass a JSON literal or variable document through unchanged, dryRun defaulting to false', async () => {
    const calls: unknown[] = [];
    const schema = buildGatewaySchema({
      defs,
      resourceTypes: ['Patient'],
      limits: LIMITS,
      admin: recordingService(calls),
    });
    const literal = await graphql({
      schema,
      source:
        'mutation { activateTenantMapping(clientId: "a", document: { formatVersion: 1, resources: { Patient: { table: "t", list: [1, "x", true, null] } } }) { ok problems { resource path column message } } }',
      contextValue: context,
    });
    expect(literal.errors).toBeUndefined();
    expect(literal.data?.['activateTenantMapping']).toEqual({
      ok: false,
      problems: [
        { resource: 'Patient', path: 'id', column: 'x', message: 'm' },
        { resource: null, path: null, column: null, message: 'n' },
      ],
    });
    const document = { formatVersion: 1, nested: { a: [1, 2] } };
    await graphql({
      schema,
      source:
        'mutation($d: JSON!) { activateTenantMapping(clientId: "b", document: $d, dryRun: true) { ok } }',
      variableValues: { d: document },
      contextValue: context,
    });
    expect(calls).toEqual([
      {
        op: 'activate',
        clientId: 'a',
        document: {
          formatVersion: 1,
          resources: { Patient: { table: 't', list: [1, 'x', true, null] } },
        },
        dryRun: false,
      },
      { op: 'activate', clientId: 'b', document, dryRun: true },
    ]);
  });

  it('expose every tenantStatus field', async () => {
    const schema = buildGatewaySchema({
      defs,
      resourceTypes: ['Patient'],
      limits: LIMITS,
      admin: recordingService([]),
    });
    const result = await graphql({
      schema,
      source:
        '{ tenantStatus(clientId: "a") { clientId status activeMappingVersion mappingVersion poolSize connectionsInUse idleConnections queueLength poolLimit breakerState lastErrorCode lastErrorAt } }',
      contextValue: context,
    });
    expect(result.data?.['tenantStatus']).toMatchObject({
      poolSize: 3,
      connectionsInUse: 1,
      queueLength: 0,
      breakerState: 'half-open',
      lastErrorCode: 'UPSTREAM_TIMEOUT',
    });
  });
});

describe('admin settings', () => {
  const base = { FHIRGATE_REGISTRY_URL: undefined };
  it('default to no Redis, the standard channel, fhirgate-platform-admin from no client and a 10 s reload cooldown', () => {
    const config: Config = loadConfig(base);
    expect(config.admin).toEqual({
      platformAdminRole: 'fhirgate-platform-admin',
      platformAdminClients: [],
      redisUrl: undefined,
      reloadChannel: 'fhirgate:tenant-reload',
      reloadCooldownMs: 10_000,
    });
  });

  it('read the operations clients as a comma list, and refuse an entry with a blank', () => {
    expect(
      loadConfig({ ...base, FHIRGATE_PLATFORM_ADMIN_CLIENTS: ' ops-console , fhirgate-ops ,' })
        .admin.platformAdminClients,
    ).toEqual(['ops-console', 'fhirgate-ops']);
    expect(() => loadConfig({ ...base, FHIRGATE_PLATFORM_ADMIN_CLIENTS: 'ops console' })).toThrow(
      /FHIRGATE_PLATFORM_ADMIN_CLIENTS/,
    );
  });

  it('reject a REDIS_URL that is not redis:// or rediss://, without quoting it', () => {
    const secret = 'http://user:hunter2@cache:6379';
    expect(() => loadConfig({ ...base, REDIS_URL: secret })).toThrow(ConfigError);
    try {
      loadConfig({ ...base, REDIS_URL: secret });
    } catch (err) {
      expect((err as Error).message).toContain('REDIS_URL');
      expect((err as Error).message).not.toContain('hunter2');
    }
    expect(loadConfig({ ...base, REDIS_URL: 'rediss://:pw@cache:6380/0' }).admin.redisUrl).toBe(
      'rediss://:pw@cache:6380/0',
    );
  });
});
