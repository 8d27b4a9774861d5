import type { GraphQLSchema } from 'graphql';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { sealSecret } from '../../src/tenancy/crypto.js';
import { type CanaryTenant, hospitalA, hospitalB } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { refusedPort } from '../helpers/fault-servers.js';
import { keyForms, passwordCanary, phiCanary, scanText } from '../helpers/log-capture.js';

/**
 * Log hygiene (issue 5 item 4, SECURITY-TESTS 70a-70h), failure path by failure path: each one
 * is driven through the real HTTP gateway, then this test's own captured pino lines (Yoga's
 * logger included), the console and the response are scanned for the PHI canaries of the rows,
 * the password canaries of the tenant URLs, the encryption key (base64, base64url, hex) and the
 * token. The suite-wide scan in the global teardown repeats the log and console part for every
 * test file of the run.
 */
let gw: TestGateway;
let masked: TestGateway;
let a: CanaryTenant;
let b: CanaryTenant;
let leaky: CanaryTenant;
const maskedCanary = phiCanary('M');
const LIST = '{ PatientList(_count: 5) { id name { family given } } }';

/** Hospital A's schema behind a view whose stored function raises an error quoting the row. */
function leakyTenant(): CanaryTenant {
  const base = hospitalA(phiCanary('L'));
  const mapping = structuredClone(base.mapping) as {
    resources: { Patient: { table: string } };
  };
  mapping.resources.Patient.table = 'pacientes_leaky';
  return {
    ...base,
    clientId: 'hospital-leaky',
    ddl: [
      ...base.ddl,
      // SIGNAL puts the family name (a PHI canary) into the error message mysql2 hands us.
      `CREATE FUNCTION leak(v VARCHAR(200)) RETURNS VARCHAR(200) DETERMINISTIC
       BEGIN
         DECLARE m VARCHAR(200) DEFAULT CONCAT('bad value ', v);
         SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = m;
         RETURN v;
       END`,
      `CREATE VIEW pacientes_leaky AS
       SELECT id_paciente, rut_pac, nom_pac, leak(ap_pat_pac) AS ap_pat_pac, ap_mat_pac,
              fec_nac_pac, sexo_pac, voided
       FROM pacientes`,
    ],
    mapping,
  };
}

/** Every secret this file planted: row canaries, URL passwords, the keys, tokens issued. */
const secrets: string[] = [];

async function register(
  clientId: string,
  plainUrl: string,
  dbType: 'mysql' | 'postgres' = 'mysql',
): Promise<void> {
  await gw.registry.upsertTenant({
    clientId,
    displayName: clientId,
    dbType,
    sealedUrl: sealSecret(gw.keyring, clientId, plainUrl),
    status: 'active',
  });
  await gw.registry.addMapping(clientId, JSON.stringify(a.mapping), { activate: true });
}

async function tokenFor(target: TestGateway, clientId: string): Promise<string> {
  const token = await target.tokenFor(clientId);
  secrets.push(token);
  return token;
}

/** Hits of every canary kind in `text`, the planted exact secrets included. */
function hitsIn(text: string): number {
  return scanText(text, 'this test', secrets).length;
}

let consoleCalls = 0;
beforeEach(() => {
  consoleCalls = 0;
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation(() => {
      consoleCalls++;
    });
  }
});
afterEach(() => {
  vi.restoreAllMocks();
});

beforeAll(async () => {
  a = hospitalA();
  b = hospitalB();
  leaky = leakyTenant();
  gw = await createTestGateway({ tenants: [a, b, leaky] });
  // Yoga's default isDev follows NODE_ENV; the gateway pins it off, so this must change nothing.
  const nodeEnv = process.env['NODE_ENV'];
  process.env['NODE_ENV'] = 'development';
  try {
    masked = await createTestGateway({
      tenants: [hospitalA(phiCanary('MA'))],
      editSchema: (schema: GraphQLSchema) => {
        const field = schema.getQueryType()?.getFields()['Patient'];
        if (field === undefined) {
          throw new Error('schema has no Patient field');
        }
        // A resolver bug whose message quotes PHI (SECURITY-TESTS 44).
        field.resolve = () => {
          throw new Error(`lookup failed for ${maskedCanary}`);
        };
      },
    });
  } finally {
    process.env['NODE_ENV'] = nodeEnv;
  }
  secrets.push(
    a.canary,
    b.canary,
    leaky.canary,
    maskedCanary,
    ...keyForms(gw.keyring.primary.key.toString('base64')),
    ...keyForms(masked.keyring.primary.key.toString('base64')),
    ...[...gw.tenantUrls.values()],
  );
});

afterAll(async () => {
  await gw?.close();
  await masked?.close();
});

describe('log hygiene on every failure path', () => {
  it('tenant URLs carry password canaries, so the scans below can see a leak', () => {
    for (const url of gw.tenantUrls.values()) {
      expect(url).toMatch(/:ZZPW-[0-9a-f-]{36}@/);
    }
  });

  it.each([
    ['not a URL at all', (pw: string) => `not a url ${pw}`],
    ['an invalid port', (pw: string) => `mysql://u:${pw}@127.0.0.1:99999/db`],
    [
      'dangerous driver options in a query string (71i)',
      (pw: string) =>
        `mysql://u:${pw}@127.0.0.1:3306/db?multipleStatements=true&debug=true&ssl={"rejectUnauthorized":false}`,
    ],
    ['an unknown scheme', (pw: string) => `sqlserver://u:${pw}@127.0.0.1:1433/db`],
  ])('a bad tenant URL (%s): 503 TENANT_CONFIG_INVALID, no pool, no canary', async (name, make) => {
    const pw = passwordCanary();
    secrets.push(pw);
    const clientId = `bad-url-${name.length}`;
    await register(clientId, make(pw));
    const from = gw.logLines.length;
    const res = await gw.post(LIST, { token: await tokenFor(gw, clientId) });
    expect(res.status).toBe(503);
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_CONFIG_INVALID');
    expect(gw.pools.tenantStats(clientId)).toBeUndefined();
    const logs = gw.logLines.slice(from).join('\n');
    expect(logs.length).toBeGreaterThan(0);
    expect(hitsIn(logs)).toBe(0);
    expect(hitsIn(res.text)).toBe(0);
    expect(logs).not.toContain(pw);
    expect(consoleCalls).toBe(0);
  });

  it('a database that is down (refused port): 503 TENANT_UNAVAILABLE, the code logged, no canary', async () => {
    const pw = passwordCanary();
    secrets.push(pw);
    await register('db-down', `mysql://fhir:${pw}@127.0.0.1:${await refusedPort()}/his`);
    const from = gw.logLines.length;
    const res = await gw.post(LIST, { token: await tokenFor(gw, 'db-down') });
    expect(res.status).toBe(503);
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_UNAVAILABLE');
    const logs = gw.logLines.slice(from).join('\n');
    expect(logs).toContain('ECONNREFUSED');
    expect(hitsIn(logs)).toBe(0);
    expect(hitsIn(res.text)).toBe(0);
    expect(consoleCalls).toBe(0);
  });

  it('a wrong password (ER_ACCESS_DENIED_ERROR names user and host): only the code is logged (70d)', async () => {
    const pw = passwordCanary();
    const user = passwordCanary();
    secrets.push(pw, user);
    const db = gw.tenantDbs.get('hospital-a')!;
    await register('db-denied', `mysql://${user}:${pw}@${db.host}:${db.port}/${db.name}`);
    const from = gw.logLines.length;
    const res = await gw.post(LIST, { token: await tokenFor(gw, 'db-denied') });
    expect(res.status).toBe(503);
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_UNAVAILABLE');
    const logs = gw.logLines.slice(from).join('\n');
    // MariaDB answers an unknown user with errno 1045 or, about one time in four, 1698.
    expect(logs).toMatch(/ER_ACCESS_DENIED_(NO_PASSWORD_)?ERROR/);
    expect(logs).not.toContain(user);
    expect(hitsIn(logs)).toBe(0);
    expect(hitsIn(res.text)).toBe(0);
  });

  it('a PostgreSQL role that does not exist (its message names it): only the SQLSTATE is logged', async () => {
    const pw = passwordCanary();
    const user = `zzrole_${pw.slice(5, 13).replace(/-/g, '')}`;
    secrets.push(pw, user);
    await register('pg-denied', `postgres://${user}:${pw}@127.0.0.1:5432/postgres`, 'postgres');
    const from = gw.logLines.length;
    const res = await gw.post(LIST, { token: await tokenFor(gw, 'pg-denied') });
    expect(res.status).toBe(503);
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_UNAVAILABLE');
    const logs = gw.logLines.slice(from).join('\n');
    expect(logs).toContain('"driverCode":"28000"');
    expect(logs).not.toContain(user);
    expect(hitsIn(logs)).toBe(0);
    expect(hitsIn(res.text)).toBe(0);
  });

  it('an SQL error whose message carries a row value (SIGNAL in a view): code only (70b/70c)', async () => {
    const from = gw.logLines.length;
    const res = await gw.post(LIST, { token: await tokenFor(gw, 'hospital-leaky') });
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_CONFIG_INVALID');
    const logs = gw.logLines.slice(from).join('\n');
    // mysql2 names errno 1644 ER_SIGNAL_EXCEPTION; its message held the canary.
    expect(logs).toContain('ER_SIGNAL_EXCEPTION');
    // The failure line names its tenant (by hash) once: one JSON key, not two.
    const failed = gw.logLines.slice(from).find((l) => l.includes('tenant statement failed'));
    expect(failed?.match(/"tenant":/g)).toHaveLength(1);
    expect(logs).not.toContain(leaky.canary);
    expect(res.text).not.toContain(leaky.canary);
    expect(hitsIn(logs)).toBe(0);
    expect(hitsIn(res.text)).toBe(0);
    expect(consoleCalls).toBe(0);
  });

  it('a resolver error quoting PHI is masked even with NODE_ENV=development, and Yoga logs it through pino (44, 70f)', async () => {
    const from = masked.logLines.length;
    const res = await masked.post('{ Patient(id: "1") { id } }', {
      token: await tokenFor(masked, 'hospital-a'),
    });
    const error = res.json.errors?.[0];
    expect(error?.message).toBe('Unexpected error.');
    expect(error?.extensions?.['code']).toBe('INTERNAL_SERVER_ERROR');
    expect(error?.extensions?.['resource']).toMatchObject({ resourceType: 'OperationOutcome' });
    expect(res.text).not.toContain('originalError');
    expect(res.text).not.toContain(maskedCanary);
    const logs = masked.logLines.slice(from).join('\n');
    expect(logs).toContain('"level":50');
    expect(logs).not.toContain(maskedCanary);
    expect(hitsIn(logs)).toBe(0);
    expect(hitsIn(res.text)).toBe(0);
    // Yoga's default logger would have written the original error to the console.
    expect(consoleCalls).toBe(0);
  });

  it('an expected error built by the gateway echoes no input value (45)', async () => {
    const probe = phiCanary('Q');
    secrets.push(probe);
    const res = await gw.post('query ($s: [String!]) { PatientList(_sort: $s) { id } }', {
      token: await tokenFor(gw, 'hospital-a'),
      variables: { s: [probe] },
    });
    expect(res.json.errors?.[0]?.extensions?.['code']).toBeDefined();
    expect(res.text).not.toContain(probe);
  });

  it('variables, search values and tokens never reach the log (70g, A19)', async () => {
    const from = gw.logLines.length;
    const token = await tokenFor(gw, 'hospital-a');
    const probe = phiCanary('V');
    secrets.push(probe);
    const ok = await gw.post('query ($f: [String!]) { PatientList(family: $f) { id } }', {
      token,
      variables: { f: [probe] },
    });
    expect(ok.status).toBe(200);
    // The token in the query string instead of the header: refused, and not logged either.
    const inUrl = await fetch(`${gw.url}?access_token=${token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(inUrl.status).toBe(401);
    // A CRLF in the operation name still gives one JSON line per log record.
    const crlf = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: 'query Evil { PatientList(_count: 1) { id } }',
        operationName: 'Evil\r\n{"level":60,"msg":"forged"}',
      }),
    });
    expect(crlf.status).toBeGreaterThanOrEqual(200);
    const logs = gw.logLines.slice(from);
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) {
      expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(hitsIn(logs.join('\n'))).toBe(0);
    expect(consoleCalls).toBe(0);
  });

  it("no response of one tenant holds another tenant's canary, on success and failure paths", async () => {
    const responses: Array<{ clientId: string; text: string }> = [];
    for (const clientId of ['hospital-a', 'hospital-b', 'hospital-leaky', 'db-down']) {
      const token = await tokenFor(gw, clientId);
      for (const query of [LIST, '{ Patient(id: "1") { id name { family } } }']) {
        responses.push({ clientId, text: (await gw.post(query, { token })).text });
      }
    }
    const canaryOf = new Map([
      ['hospital-a', a.canary],
      ['hospital-b', b.canary],
      ['hospital-leaky', leaky.canary],
    ]);
    // Meaningful only if the healthy tenants did answer with their own rows.
    expect(responses.find((r) => r.clientId === 'hospital-a')?.text).toContain(a.canary);
    expect(responses.find((r) => r.clientId === 'hospital-b')?.text).toContain(b.canary);
    for (const { clientId, text } of responses) {
      for (const [owner, canary] of canaryOf) {
        if (owner !== clientId) {
          expect(text, `${clientId} got ${owner}'s canary`).not.toContain(canary);
        }
      }
    }
  });

  it('the whole captured log of this file has 0 canary hits', () => {
    const all = [...gw.logLines, ...masked.logLines].join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expect(hitsIn(all)).toBe(0);
  });
});
