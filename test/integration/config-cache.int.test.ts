import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hospitalA } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';

/**
 * SECURITY-TESTS I79: while the registry cannot be read, a tenant's last good config keeps being
 * served (with a warning) for a bounded time after it was read; past that, the tenant fails
 * closed with 503 REGISTRY_UNAVAILABLE; when the registry returns, service resumes. The outage is
 * real: the registry's tenants table is renamed away on the registry's MariaDB database.
 */
const TTL_MS = 200;
const MAX_STALE_MS = 1_500;
const QUERY = '{ Patient(id: "1") { id } }';

let gw: TestGateway;

beforeAll(async () => {
  gw = await createTestGateway({
    tenants: [hospitalA()],
    configTtlMs: TTL_MS,
    configMaxStaleMs: MAX_STALE_MS,
  });
});

afterAll(async () => {
  await gw?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('config cache during a registry outage', () => {
  it('serves the last known config for a bounded time, then fails closed, then recovers', async () => {
    const token = await gw.tokenFor('hospital-a');
    const warm = await gw.post(QUERY, { token });
    expect(warm.status).toBe(200);
    expect(warm.json.data).toEqual({ Patient: { id: '1' } });
    const loadedAt = performance.now();

    await gw.registryDb.exec('RENAME TABLE fhirgate_tenants TO fhirgate_tenants_away');
    try {
      await sleep(TTL_MS * 2);
      const logFrom = gw.logLines.length;
      const stale = await gw.post(QUERY, { token });
      // Still within MAX_STALE_MS of the last good read: served, with a warning in the log.
      expect(performance.now() - loadedAt).toBeLessThan(MAX_STALE_MS);
      expect(stale.status).toBe(200);
      expect(stale.json.data).toEqual({ Patient: { id: '1' } });
      const warnings = gw.logLines
        .slice(logFrom)
        .filter((line) => line.includes('serving the last known config'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0] as string)).toMatchObject({ level: 40, alsoServedStale: 0 });
      // More requests in the same outage are served without a line each (one a minute).
      const moreFrom = gw.logLines.length;
      for (let i = 0; i < 5; i++) {
        expect((await gw.post(QUERY, { token })).status).toBe(200);
      }
      expect(
        gw.logLines.slice(moreFrom).filter((l) => l.includes('serving the last known config')),
      ).toHaveLength(0);

      await sleep(MAX_STALE_MS - (performance.now() - loadedAt) + 200);
      const closed = await gw.post(QUERY, { token });
      expect(closed.status).toBe(503);
      expect(closed.json.data).toBeUndefined();
      expect(closed.json.errors?.[0]?.extensions?.['code']).toBe('REGISTRY_UNAVAILABLE');
      expect(gw.logLines.some((line) => line.includes('failing closed'))).toBe(true);
    } finally {
      await gw.registryDb.exec('RENAME TABLE fhirgate_tenants_away TO fhirgate_tenants');
    }

    const back = await gw.post(QUERY, { token });
    expect(back.status).toBe(200);
    expect(back.json.data).toEqual({ Patient: { id: '1' } });
  });

  it('serves no stale answer to a tenant it had not read before the outage', async () => {
    // A cold tenant during an outage has no last known config: 503 at once.
    await gw.registryDb.exec('RENAME TABLE fhirgate_tenants TO fhirgate_tenants_away');
    try {
      const cold = await gw.post(QUERY, { token: await gw.tokenFor('hospital-cold') });
      expect(cold.status).toBe(503);
      expect(cold.json.errors?.[0]?.extensions?.['code']).toBe('REGISTRY_UNAVAILABLE');
    } finally {
      await gw.registryDb.exec('RENAME TABLE fhirgate_tenants_away TO fhirgate_tenants');
    }
  });
});
