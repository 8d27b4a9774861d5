import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyring, sealSecret } from '../../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { createTenantRegistry } from '../../src/tenancy/registry.js';
import { hospitalA } from '../fixtures/tenants.js';
import { type KeycloakStub, startKeycloakStub } from '../helpers/jwks-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** Runs `src/main.ts` as a real process with exactly `env` (plus PATH) and collects its output. */
function startMain(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('boot', () => {
  const key = randomBytes(32);
  let registryDb: TestDatabase;
  let tenantDb: TestDatabase;
  let keycloak: KeycloakStub;

  beforeAll(async () => {
    registryDb = await createTestDatabase('reg');
    tenantDb = await createTestDatabase('ten');
    keycloak = await startKeycloakStub();
    const tenant = hospitalA();
    for (const ddl of tenant.ddl) {
      await tenantDb.exec(ddl);
    }
    await tenant.seed(tenantDb);
    const registry = createTenantRegistry(parseDatabaseUrl(registryDb.url));
    await registry.applySchema();
    const keyring = parseKeyring({ primaryKey: key.toString('base64') });
    await registry.upsertTenant({
      clientId: tenant.clientId,
      displayName: 'Hospital A',
      dbType: 'mysql',
      sealedUrl: sealSecret(keyring, tenant.clientId, tenantDb.url),
      status: 'active',
    });
    await registry.addMapping(tenant.clientId, JSON.stringify(tenant.mapping), { activate: true });
    await registry.close();
  });

  afterAll(async () => {
    await keycloak?.close();
    await registryDb?.drop();
    await tenantDb?.drop();
  });

  const production = () => ({
    FHIRGATE_REGISTRY_URL: registryDb.url,
    FHIRGATE_OIDC_ISSUER: keycloak.issuer(),
    LOG_LEVEL: 'warn',
  });

  it.each([
    ['missing', undefined],
    ['not base64', `${key.toString('hex')}!`],
    ['31 bytes', key.subarray(0, 31).toString('base64')],
    ['33 bytes', Buffer.concat([key, Buffer.from([7])]).toString('base64')],
  ])(
    'stops at boot when the encryption key is %s, without printing key material',
    async (_label, bad) => {
      const env: Record<string, string> = { ...production(), PORT: '0' };
      if (bad !== undefined) {
        env['FHIRGATE_ENCRYPTION_KEY'] = bad;
      }
      const run = startMain(env);
      expect(await run.exited).toBe(1);
      const out = run.output();
      expect(out).toContain('FHIRGATE_ENCRYPTION_KEY');
      for (const material of [key.toString('base64'), key.toString('hex'), bad ?? 'none']) {
        expect(out).not.toContain(material.slice(0, 16));
      }
      expect(out).not.toContain(registryDb.url);
    },
  );

  it('serves a registered MariaDB tenant in production mode', async () => {
    const port = await freePort();
    const run = startMain({
      ...production(),
      FHIRGATE_ENCRYPTION_KEY: key.toString('base64'),
      PORT: String(port),
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        const ok = await fetch(`${url}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const token = await keycloak.tokenFor({ clientId: 'hospital-a', roles: ['fhir-read'] });
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ Patient(id: "1") { id gender } }' }),
      });
      expect(await res.json()).toEqual({ data: { Patient: { id: '1', gender: 'male' } } });
      const out = run.output();
      expect(out).not.toContain(registryDb.url);
      expect(out).not.toContain(tenantDb.name);
      expect(out).not.toContain(token);
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
  });
});
