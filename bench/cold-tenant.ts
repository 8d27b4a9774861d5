/**
 * First-request latency of a cold tenant against a warm one: N tenants on MariaDB, each with its
 * own database; the first request of a tenant pays the registry read, the mapping compile, the pool
 * and the TCP/auth handshake of its database. Run: `npx tsx bench/cold-tenant.ts [tenants]`.
 */
import { hospitalA } from '../test/fixtures/tenants.js';
import { createTestGateway } from '../test/helpers/create-test-gateway.js';
import { resolveMysqlServer } from '../test/helpers/global-setup.js';
import { createTestDatabase } from '../test/helpers/test-database.js';

const tenants = Number(process.argv[2] ?? 20);
const resolved = await resolveMysqlServer(process.env);
const base = hospitalA();
const fixtures = Array.from({ length: tenants + 1 }, (_, i) => ({
  ...base,
  clientId: `bench-${i}`,
}));
const gw = await createTestGateway({
  tenants: fixtures,
  createDatabase: (prefix) => createTestDatabase(prefix, resolved.server),
  logLevel: 'warn',
});

const query = '{ Patient(id: "1") { id name { family } birthDate } }';
async function timed(token: string): Promise<number> {
  const t0 = performance.now();
  const res = await gw.post(query, { token });
  if (res.status !== 200 || res.json.errors !== undefined) {
    throw new Error(`request failed with ${res.status}`);
  }
  return performance.now() - t0;
}

// Tenant 0 warms the JWKS cache, the schema and the HTTP path, so only tenant costs remain.
const warmToken = await gw.tokenFor('bench-0');
for (let i = 0; i < 20; i++) {
  await timed(warmToken);
}
const cold: number[] = [];
const warm: number[] = [];
for (let i = 1; i <= tenants; i++) {
  const token = await gw.tokenFor(`bench-${i}`);
  cold.push(await timed(token));
  for (let k = 0; k < 5; k++) {
    warm.push(await timed(token));
  }
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const fmt = (n: number) => `${n.toFixed(2)} ms`;
console.log(`tenants: ${tenants} (each its own MariaDB database)`);
console.log(`cold first request  p50 ${fmt(pct(cold, 50))}  p95 ${fmt(pct(cold, 95))}`);
console.log(`warm request        p50 ${fmt(pct(warm, 50))}  p95 ${fmt(pct(warm, 95))}`);
console.log(`cold/warm p50 ratio ${(pct(cold, 50) / pct(warm, 50)).toFixed(1)}x`);
await gw.close();
await resolved.stop();
