import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminActionEvent, AdminCaller, AdminService } from '../../src/admin/admin-service.js';
import {
  type AdministrationOptions,
  createAdministration,
} from '../../src/admin/create-administration.js';
import type { FhirRole, Principal } from '../../src/auth/principal.js';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { createLogger } from '../../src/logger.js';
import { createTenantPolicies } from '../../src/tenancy/breakers.js';
import { createConfigResolver } from '../../src/tenancy/config-resolver.js';
import { sealSecret } from '../../src/tenancy/crypto.js';
import { createPoolManager, type TenantPoolManager } from '../../src/tenancy/pool-manager.js';
import { hospitalA, hospitalB } from '../fixtures/tenants.js';
import {
  createTenantWorld,
  type GatewayProcess,
  type GraphqlResult,
  startGatewayProcess,
  type TenantWorld,
} from './gateway-process.js';

const A = hospitalA();
const B = hospitalB();
const PLATFORM_ROLE = 'ops-platform-admin';
/** The operations client allowed to carry the platform role (`FHIRGATE_PLATFORM_ADMIN_CLIENTS`). */
const OPS = 'ops-console';

const STATUS = `query Status($c: String!) { tenantStatus(clientId: $c) {
  clientId status mappingVersion activeMappingVersion poolSize connectionsInUse idleConnections
  queueLength poolLimit breakerState lastErrorCode lastErrorAt } }`;
const ACTIVATE = `mutation Activate($c: String!, $d: JSON!, $dry: Boolean) {
  activateTenantMapping(clientId: $c, document: $d, dryRun: $dry) {
    clientId dryRun ok version published problems { resource path column message } } }`;
const RELOAD = `mutation Reload($c: String!) { reloadTenantConfig(clientId: $c) {
  clientId mappingVersion published } }`;
const PATIENTS = '{ PatientList(_count: 2) { id } }';

/** The hospital A mapping with two columns that do not exist / do not fit. */
function brokenMapping(): unknown {
  const broken = structuredClone(A.mapping) as {
    resources: { Patient: { elements: Record<string, unknown> } };
  };
  broken.resources.Patient.elements['name[0].prefix[0]'] = 'titulo';
  broken.resources.Patient.elements['multipleBirthInteger'] = 'rut_pac';
  return broken;
}

let world: TenantWorld;
let gateway: GatewayProcess;
const responses: string[] = [];

async function call(
  query: string,
  roles: string[],
  variables: Record<string, unknown>,
  clientId = 'hospital-a',
): Promise<GraphqlResult> {
  const token = await world.keycloak.tokenFor({ clientId, roles });
  const result = await gateway.post(query, token, variables);
  responses.push(result.text);
  return result;
}

function codeOf(result: GraphqlResult): unknown {
  return result.json.errors?.[0]?.extensions?.['code'];
}

beforeAll(async () => {
  world = await createTenantWorld([A, B]);
  gateway = await startGatewayProcess(
    world.env({
      FHIRGATE_PLATFORM_ADMIN_ROLE: PLATFORM_ROLE,
      FHIRGATE_PLATFORM_ADMIN_CLIENTS: OPS,
    }),
  );
});

afterAll(async () => {
  await gateway?.stop();
  // No answer and no log line ever holds a tenant database URL or a sealed value.
  const secrets = [...world.tenantDbs.values()].map((db) => db.url);
  const sealed = (await world.registry.listTenants()).map((t) => t.sealedUrl);
  for (const text of [...responses, ...(gateway?.lines ?? [])]) {
    for (const secret of [...secrets, ...sealed, world.registryDb.url]) {
      expect(text).not.toContain(secret);
    }
  }
  await world?.close();
});

describe('admin GraphQL over HTTP (a real gateway process)', () => {
  it('refuses every admin field without fhir-admin, with FORBIDDEN', async () => {
    for (const [query, variables] of [
      [STATUS, { c: 'hospital-a' }],
      [RELOAD, { c: 'hospital-a' }],
      [ACTIVATE, { c: 'hospital-a', d: A.mapping, dry: true }],
    ] as const) {
      const result = await call(query, ['fhir-read', 'fhir-write'], variables);
      expect(codeOf(result)).toBe('FORBIDDEN');
      expect(result.json.errors?.[0]?.message).toBe('Administration needs the fhir-admin role.');
    }
  });

  it('refuses a hospital admin acting on another tenant, and changes nothing there', async () => {
    const before = await world.registry.findTenant('hospital-b');
    for (const [query, variables] of [
      [STATUS, { c: 'hospital-b' }],
      [RELOAD, { c: 'hospital-b' }],
      [ACTIVATE, { c: 'hospital-b', d: B.mapping, dry: false }],
    ] as const) {
      const result = await call(query, ['fhir-admin'], variables);
      expect(codeOf(result)).toBe('FORBIDDEN');
      expect(result.json.errors?.[0]?.message).toMatch(/only on the tenant of the access token/);
    }
    expect((await world.registry.findTenant('hospital-b'))?.mapping?.version).toBe(
      before?.mapping?.version,
    );
  });

  it("reports the own tenant's pool, breaker and mapping version", async () => {
    const read = await call(PATIENTS, ['fhir-read'], {});
    expect(read.json.errors).toBeUndefined();
    const result = await call(STATUS, ['fhir-admin'], { c: 'hospital-a' });
    expect(result.json.errors).toBeUndefined();
    const status = result.json.data?.['tenantStatus'] as Record<string, unknown>;
    expect(status).toMatchObject({
      clientId: 'hospital-a',
      status: 'active',
      mappingVersion: 1,
      activeMappingVersion: 1,
      connectionsInUse: 0,
      queueLength: 0,
      poolLimit: 10,
      breakerState: 'closed',
      lastErrorCode: null,
      lastErrorAt: null,
    });
    expect(status['poolSize']).toBeGreaterThanOrEqual(1);
    expect(status['idleConnections']).toBe(status['poolSize']);
  });

  it('returns the problem list of a broken document and stores nothing', async () => {
    for (const dry of [true, false]) {
      const result = await call(ACTIVATE, ['fhir-admin'], {
        c: 'hospital-a',
        d: brokenMapping(),
        dry,
      });
      expect(result.json.errors).toBeUndefined();
      expect(result.json.data?.['activateTenantMapping']).toEqual({
        clientId: 'hospital-a',
        dryRun: dry,
        ok: false,
        version: null,
        published: false,
        problems: [
          {
            resource: 'Patient',
            path: 'name[0].prefix[0]',
            column: 'titulo',
            message: 'column "titulo" does not exist in table "pacientes"',
          },
          {
            resource: 'Patient',
            path: 'multipleBirthInteger',
            column: 'rut_pac',
            message: expect.stringMatching(/needs a "number" transform/),
          },
        ],
      });
    }
    expect((await world.registry.findTenant('hospital-a'))?.mapping?.version).toBe(1);
  });

  it('answers BAD_USER_INPUT for a document that is not a JSON object', async () => {
    for (const d of ['not a mapping', [1, 2], 42]) {
      const result = await call(ACTIVATE, ['fhir-admin'], { c: 'hospital-a', d, dry: true });
      expect(codeOf(result)).toBe('BAD_USER_INPUT');
    }
  });

  it('a dry run of a good document passes and stores nothing', async () => {
    const result = await call(ACTIVATE, ['fhir-admin'], {
      c: 'hospital-a',
      d: A.mapping,
      dry: true,
    });
    expect(result.json.data?.['activateTenantMapping']).toMatchObject({
      ok: true,
      dryRun: true,
      version: null,
      problems: [],
    });
    expect((await world.registry.findTenant('hospital-a'))?.mapping?.version).toBe(1);
  });

  it('activates a good document as the next version and serves it at once', async () => {
    const changed = structuredClone(A.mapping) as {
      resources: { Patient: Record<string, unknown> };
    };
    const result = await call(ACTIVATE, ['fhir-admin'], { c: 'hospital-a', d: changed });
    expect(result.json.errors).toBeUndefined();
    expect(result.json.data?.['activateTenantMapping']).toMatchObject({
      ok: true,
      dryRun: false,
      version: 2,
      // No REDIS_URL on this gateway: nothing is published, the reload is local.
      published: false,
      problems: [],
    });
    const status = await call(STATUS, ['fhir-admin'], { c: 'hospital-a' });
    expect(status.json.data?.['tenantStatus']).toMatchObject({
      mappingVersion: 2,
      activeMappingVersion: 2,
    });
    const read = await call(PATIENTS, ['fhir-read'], {});
    expect(read.json.data?.['PatientList']).toHaveLength(2);
  });

  it('reloads the own tenant and reports the version it serves', async () => {
    const result = await call(RELOAD, ['fhir-admin'], { c: 'hospital-a' });
    expect(result.json.data?.['reloadTenantConfig']).toEqual({
      clientId: 'hospital-a',
      mappingVersion: 2,
      published: false,
    });
  });

  it('reports the last error of a tenant whose database is down; activation there stores nothing', async () => {
    // A tenant whose server refuses connections (nothing listens on port 1).
    const downUrl = `mysql://fg_down:ZZPW-down-${Date.now()}@127.0.0.1:1/his`;
    await world.registry.upsertTenant({
      clientId: 'hospital-down',
      displayName: 'down',
      dbType: 'mysql',
      sealedUrl: sealSecret(world.keyring, 'hospital-down', downUrl),
      status: 'active',
    });
    await world.registry.addMapping('hospital-down', JSON.stringify(A.mapping), { activate: true });
    const read = await call(PATIENTS, ['fhir-read'], {}, 'hospital-down');
    expect(codeOf(read)).toBe('TENANT_UNAVAILABLE');
    const status = await call(STATUS, ['fhir-admin'], { c: 'hospital-down' }, 'hospital-down');
    expect(status.json.data?.['tenantStatus']).toMatchObject({
      status: 'active',
      mappingVersion: 1,
      breakerState: 'closed',
      lastErrorCode: 'TENANT_UNAVAILABLE',
      lastErrorAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    const activation = await call(
      ACTIVATE,
      ['fhir-admin'],
      { c: 'hospital-down', d: A.mapping },
      'hospital-down',
    );
    expect(codeOf(activation)).toBe('TENANT_UNAVAILABLE');
    expect((await world.registry.findTenant('hospital-down'))?.mapping?.version).toBe(1);
    for (const text of [read.text, status.text, activation.text, ...gateway.lines]) {
      expect(text).not.toContain('ZZPW-down');
    }
  });

  it('lets a platform admin repair a tenant whose active mapping is broken', async () => {
    await world.registry.upsertTenant({
      clientId: 'hospital-broken',
      displayName: 'broken',
      dbType: 'mysql',
      sealedUrl: sealSecret(
        world.keyring,
        'hospital-broken',
        world.tenantDbs.get('hospital-a')?.url ?? '',
      ),
      status: 'active',
    });
    await world.registry.addMapping('hospital-broken', '{"formatVersion": 1, "nonsense": true}', {
      activate: true,
    });
    // Its readers are refused at authentication: the tenant cannot be served.
    const reader = await call(PATIENTS, ['fhir-read'], {}, 'hospital-broken');
    expect(reader.status).toBe(503);
    expect(codeOf(reader)).toBe('TENANT_CONFIG_INVALID');
    // Its own admin reaches the admin fields (on an empty mapping that serves nothing).
    const own = await call(STATUS, ['fhir-admin'], { c: 'hospital-broken' }, 'hospital-broken');
    expect(own.status).toBe(200);
    expect(own.json.data?.['tenantStatus']).toMatchObject({
      status: 'invalid',
      mappingVersion: null,
      activeMappingVersion: 1,
    });
    const fixed = await call(
      ACTIVATE,
      ['fhir-admin', PLATFORM_ROLE],
      { c: 'hospital-broken', d: A.mapping },
      OPS,
    );
    expect(fixed.json.data?.['activateTenantMapping']).toMatchObject({ ok: true, version: 2 });
    const read = await call(PATIENTS, ['fhir-read'], {}, 'hospital-broken');
    expect(read.json.errors).toBeUndefined();
    expect(read.json.data?.['PatientList']).toHaveLength(2);
  });

  it('lets a platform admin of the operations client act on any tenant, and only with fhir-admin too', async () => {
    const status = await call(STATUS, ['fhir-admin', PLATFORM_ROLE], { c: 'hospital-b' }, OPS);
    expect(status.json.data?.['tenantStatus']).toMatchObject({
      clientId: 'hospital-b',
      status: 'active',
      mappingVersion: 1,
    });
    const reload = await call(RELOAD, ['fhir-admin', PLATFORM_ROLE], { c: 'hospital-b' }, OPS);
    expect(reload.json.data?.['reloadTenantConfig']).toMatchObject({ clientId: 'hospital-b' });
    const unknown = await call(STATUS, ['fhir-admin', PLATFORM_ROLE], { c: 'hospital-z' }, OPS);
    expect(codeOf(unknown)).toBe('UNKNOWN_TENANT');
    // The operations client is no tenant: it reads no data.
    const read = await call(PATIENTS, ['fhir-admin', 'fhir-read', PLATFORM_ROLE], {}, OPS);
    expect(read.json.data?.['PatientList'] ?? null).toBeNull();
    expect(codeOf(read)).toBe('RESOURCE_NOT_SUPPORTED');
    // The platform role alone is no fhirgate role: authentication refuses the token.
    const alone = await call(STATUS, [PLATFORM_ROLE], { c: 'hospital-b' }, OPS);
    expect(alone.status).toBe(403);
    expect(codeOf(alone)).toBe('FORBIDDEN');
    // Without the platform role the operations client is an unknown tenant.
    const plain = await call(STATUS, ['fhir-admin'], { c: 'hospital-b' }, OPS);
    expect(plain.status).toBe(403);
    expect(codeOf(plain)).toBe('UNKNOWN_TENANT');
  });

  it("ignores the platform role in a hospital client's token: its admin stays on its own tenant", async () => {
    const before = await world.registry.findTenant('hospital-b');
    for (const query of [STATUS, RELOAD]) {
      const other = await call(query, ['fhir-admin', PLATFORM_ROLE], { c: 'hospital-b' });
      expect(codeOf(other)).toBe('FORBIDDEN');
    }
    const activation = await call(ACTIVATE, ['fhir-admin', PLATFORM_ROLE], {
      c: 'hospital-b',
      d: B.mapping,
    });
    expect(codeOf(activation)).toBe('FORBIDDEN');
    expect((await world.registry.findTenant('hospital-b'))?.mapping?.version).toBe(
      before?.mapping?.version,
    );
    // Its own tenant still works.
    const own = await call(STATUS, ['fhir-admin', PLATFORM_ROLE], { c: 'hospital-a' });
    expect(own.json.data?.['tenantStatus']).toMatchObject({ clientId: 'hospital-a' });
  });
});

describe('admin service: audit hook and registry (in process)', () => {
  let admin: AdminService;
  let pools: TenantPoolManager;
  let closeAdmin: () => Promise<void>;
  let administrationOptions: AdministrationOptions;
  const events: AdminActionEvent[] = [];
  const logLines: string[] = [];

  function caller(roles: FhirRole[], platformAdmin = false): AdminCaller {
    const principal: Principal = {
      issuer: 'https://sso.test/realms/test',
      subject: 'user-1',
      clientId: 'hospital-a',
      roles: new Set(roles),
      expiresAt: Math.floor(Date.now() / 1000) + 300,
      ...(platformAdmin ? { platformAdmin: true } : {}),
    };
    return { principal, requestId: `req-${events.length}`, log: createLogger({ level: 'silent' }) };
  }

  beforeAll(() => {
    const log = createLogger(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString('utf8'));
          done();
        },
      }),
    );
    const defs = loadDefinitions();
    pools = createPoolManager(
      {
        maxTenantPools: 10,
        poolIdleEvictMs: 60_000,
        maxTotalConnections: 20,
        connectionsPerTenant: 2,
        queueLimit: 10,
        connectionIdleMs: 60_000,
        validateAfterIdleMs: 30_000,
        connectTimeoutMs: 3000,
        queryTimeoutMs: 5000,
      },
      log,
    );
    const policies = createTenantPolicies(
      { concurrency: 2, queue: 10, failureThreshold: 5, halfOpenAfterMs: 10_000, timeoutMs: 5000 },
      log,
    );
    const resolver = createConfigResolver(
      { registry: world.registry, keyring: world.keyring, defs, log },
      { ttlMs: 60_000 },
    );
    administrationOptions = {
      registry: world.registry,
      resolver,
      pools,
      policies,
      keyring: world.keyring,
      defs,
      log,
      connectionsPerTenant: 2,
      redisUrl: undefined,
      reloadChannel: 'unused',
      onAdminAction: (event) => {
        events.push(event);
      },
    };
    const administration = createAdministration(administrationOptions);
    admin = administration.service;
    closeAdmin = () => administration.close();
  });

  afterAll(async () => {
    await closeAdmin?.();
    await pools?.close();
  });

  it('calls onAdminAction once for every action, refused and rejected ones included', async () => {
    events.length = 0;
    await expect(admin.tenantStatus(caller(['fhir-read']), 'hospital-a')).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
    await expect(
      admin.reloadTenantConfig(caller(['fhir-admin']), 'hospital-b'),
    ).rejects.toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    await expect(
      admin.activateTenantMapping(caller(['fhir-admin']), 'hospital-a', 'text', true),
    ).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    const checked = await admin.activateTenantMapping(
      caller(['fhir-admin']),
      'hospital-a',
      brokenMapping(),
      true,
    );
    expect(checked.problems).toHaveLength(2);
    const reloaded = await admin.reloadTenantConfig(caller(['fhir-admin'], true), 'hospital-b');
    expect(reloaded.mappingVersion).toBe(1);

    expect(
      events.map(({ action, target, outcome, code, detail, requestId, principal }) => ({
        action,
        target,
        outcome,
        code,
        detail,
        requestId,
        subject: principal.subject,
      })),
    ).toEqual([
      {
        action: 'tenantStatus',
        target: 'hospital-a',
        outcome: 'refused',
        code: 'FORBIDDEN',
        detail: undefined,
        requestId: 'req-0',
        subject: 'user-1',
      },
      {
        action: 'reloadTenantConfig',
        target: 'hospital-b',
        outcome: 'refused',
        code: 'FORBIDDEN',
        detail: undefined,
        requestId: 'req-1',
        subject: 'user-1',
      },
      {
        action: 'activateTenantMapping',
        target: 'hospital-a',
        outcome: 'rejected',
        code: 'BAD_USER_INPUT',
        detail: undefined,
        requestId: 'req-2',
        subject: 'user-1',
      },
      {
        action: 'activateTenantMapping',
        target: 'hospital-a',
        outcome: 'rejected',
        code: 'BAD_USER_INPUT',
        detail: { dryRun: true, problems: 2 },
        requestId: 'req-3',
        subject: 'user-1',
      },
      {
        action: 'reloadTenantConfig',
        target: 'hospital-b',
        outcome: 'success',
        code: undefined,
        detail: { published: false, mappingVersion: 1 },
        requestId: 'req-4',
        subject: 'user-1',
      },
    ]);
    // Events carry ids and counts: no document, no URL.
    const text = JSON.stringify(events);
    expect(text).not.toContain('pacientes');
    for (const db of world.tenantDbs.values()) {
      expect(text).not.toContain(db.url);
      expect(logLines.join('')).not.toContain(db.url);
    }
  });

  it('lets one reload per tenant through a storm; the rest are RATE_LIMITED (429) and audited', async () => {
    events.length = 0;
    // SECURITY-TESTS I82: 20 reloads at once, one effective reload per 10 s cooldown.
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        admin.reloadTenantConfig(caller(['fhir-admin']), 'hospital-a'),
      ),
    );
    const done = outcomes.filter((o) => o.status === 'fulfilled');
    const limited = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(done).toHaveLength(1);
    expect(limited).toHaveLength(19);
    for (const err of limited) {
      expect(err).toMatchObject({ extensions: { code: 'RATE_LIMITED', http: { status: 429 } } });
      const retryAfter = Number(err.extensions.http.headers['Retry-After']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(10);
      expect(err.extensions.retryAfterSeconds).toBe(retryAfter);
    }
    const reloads = events.filter((e) => e.action === 'reloadTenantConfig');
    expect(reloads).toHaveLength(20);
    expect(reloads.filter((e) => e.outcome === 'success')).toHaveLength(1);
    expect(
      reloads.filter((e) => e.outcome === 'rejected' && e.code === 'RATE_LIMITED'),
    ).toHaveLength(19);
  });

  it('puts mapping activations under the same cooldown; dry runs are not counted', async () => {
    events.length = 0;
    // A service of its own, so no earlier reload in this file holds the cooldown.
    const fresh = createAdministration({ ...administrationOptions, reloadCooldownMs: 60_000 });
    const admin = fresh.service;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        admin.activateTenantMapping(caller(['fhir-admin'], true), 'hospital-b', B.mapping, false),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === 'rejected') {
        expect(o.reason).toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
      }
    }
    // The reload that would follow is refused too, while a dry run still answers.
    await expect(
      admin.reloadTenantConfig(caller(['fhir-admin'], true), 'hospital-b'),
    ).rejects.toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    const dry = await admin.activateTenantMapping(
      caller(['fhir-admin'], true),
      'hospital-b',
      B.mapping,
      true,
    );
    expect(dry).toMatchObject({ ok: true, dryRun: true });
    const activations = events.filter((e) => e.action === 'activateTenantMapping');
    expect(activations.filter((e) => e.code === 'RATE_LIMITED')).toHaveLength(4);
    await fresh.close();
  });

  it('keeps the call result when the audit listener throws', async () => {
    const administration = createAdministration({
      registry: world.registry,
      resolver: createConfigResolver(
        {
          registry: world.registry,
          keyring: world.keyring,
          defs: loadDefinitions(),
          log: createLogger({ level: 'silent' }),
        },
        { ttlMs: 60_000 },
      ),
      pools,
      policies: createTenantPolicies(
        {
          concurrency: 2,
          queue: 10,
          failureThreshold: 5,
          halfOpenAfterMs: 10_000,
          timeoutMs: 5000,
        },
        createLogger({ level: 'silent' }),
      ),
      keyring: world.keyring,
      defs: loadDefinitions(),
      log: createLogger({ level: 'silent' }),
      connectionsPerTenant: 2,
      redisUrl: undefined,
      reloadChannel: 'unused',
      onAdminAction: () => {
        throw new Error('audit store down');
      },
    });
    const status = await administration.service.tenantStatus(caller(['fhir-admin']), 'hospital-a');
    expect(status.clientId).toBe('hospital-a');
    await administration.close();
  });
});

describe('registry.addMapping under concurrency', () => {
  it('gives 30 concurrent activations consecutive versions and leaves exactly one active', async () => {
    const before = (await world.registry.findTenant('hospital-b'))?.mapping?.version ?? 0;
    const document = JSON.stringify(B.mapping);
    const versions = await Promise.all(
      Array.from({ length: 30 }, () =>
        world.registry.addMapping('hospital-b', document, { activate: true }),
      ),
    );
    expect([...versions].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => before + i + 1),
    );
    const rows = await world.registryDb.exec<Record<string, unknown>[]>(
      'SELECT m.version FROM fhirgate_mappings m JOIN fhirgate_tenants t ON t.id = m.tenant_id ' +
        "WHERE t.client_id = 'hospital-b' AND m.is_active = 1",
    );
    expect(rows).toHaveLength(1);
    // Versions are taken under the tenant row lock, so the last commit holds the highest one.
    expect(Number(rows[0]?.['version'])).toBe(before + 30);
  });

  it('refuses a mapping for an unknown tenant with UnknownTenantError', async () => {
    await expect(
      world.registry.addMapping('hospital-nobody', '{}', { activate: true }),
    ).rejects.toMatchObject({ name: 'UnknownTenantError', code: 'UNKNOWN_TENANT' });
  });
});
