import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hospitalA } from '../fixtures/tenants.js';
import { type KeycloakStub, startKeycloakStub } from '../helpers/jwks-server.js';
import { freePort, registerTenant, startMain, waitFor } from '../helpers/main-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

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
    await registerTenant({ registryUrl: registryDb.url, key, tenant, tenantUrl: tenantDb.url });
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
      expect((await run.exited).code).toBe(1);
      const out = run.output();
      expect(out).toContain('FHIRGATE_ENCRYPTION_KEY');
      for (const material of [key.toString('base64'), key.toString('hex'), bad ?? 'none']) {
        expect(out).not.toContain(material.slice(0, 16));
      }
      expect(out).not.toContain(registryDb.url);
    },
  );

  it('refuses to boot while rows reference a key that is no longer configured (counts only)', async () => {
    // The registry's row is sealed under kid k1 (the default id). A new primary k2 without k1 in
    // FHIRGATE_ENCRYPTION_OLD_KEYS would leave that tenant unopenable.
    const newKey = randomBytes(32);
    const run = startMain({
      ...production(),
      FHIRGATE_ENCRYPTION_KEY: newKey.toString('base64'),
      FHIRGATE_ENCRYPTION_KEY_ID: 'k2',
      PORT: '0',
    });
    expect((await run.exited).code).toBe(1);
    const out = run.output();
    expect(out).toContain('1 row references retired kid k1');
    expect(out).toContain('fhirgate keys rotate');
    for (const material of [key, newKey]) {
      expect(out).not.toContain(material.toString('base64').slice(0, 16));
      expect(out).not.toContain(material.toString('hex').slice(0, 16));
    }
    expect(out).not.toContain('hospital-a');
    expect(out).not.toContain(registryDb.url);

    // With k1 kept as a decrypt-only key, the same process boots.
    const port = await freePort();
    const kept = startMain({
      ...production(),
      FHIRGATE_ENCRYPTION_KEY: newKey.toString('base64'),
      FHIRGATE_ENCRYPTION_KEY_ID: 'k2',
      FHIRGATE_ENCRYPTION_OLD_KEYS: `k1:${key.toString('base64')}`,
      PORT: String(port),
    });
    try {
      const healthy = await waitFor('the server', async () =>
        (await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined,
      );
      expect(healthy).toBe(true);
    } finally {
      kept.child.kill('SIGTERM');
      expect((await kept.exited).code).toBe(0);
    }
  });

  it('serves a registered MariaDB tenant in production mode', async () => {
    const port = await freePort();
    const run = startMain({
      ...production(),
      FHIRGATE_ENCRYPTION_KEY: key.toString('base64'),
      PORT: String(port),
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor('the server', async () =>
        (await fetch(`${url}/healthz`)).ok ? true : undefined,
      );
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
      expect((await run.exited).code).toBe(0);
    }
  });
});
