import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { createLogger, tenantHash } from '../../src/logger.js';
import { createConfigResolver } from '../../src/tenancy/config-resolver.js';
import { sealSecret } from '../../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { createTenantRegistry } from '../../src/tenancy/registry.js';
import { encodeTenantConnection, type TlsSettings } from '../../src/tenancy/tenant-connection.js';
import { hospitalB } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import type { ResolvedMysqlServer } from '../helpers/global-setup.js';
import { connectionOptions, createTestDatabase } from '../helpers/test-database.js';
import {
  makeCertificates,
  startTlsMariadb,
  type TestCertificates,
} from '../helpers/tls-mariadb.js';
import { startGatewayProcess } from './gateway-process.js';

/**
 * TLS to tenant databases against real TLS-enabled MariaDB servers started here, with
 * certificates made here: one server with a certificate from the test CA (for 127.0.0.1 and
 * db.hospital.test), one whose certificate has expired, one without TLS. Each tenant below is
 * hospital-b's database reached with other TLS settings; its breaker opens on the first failure.
 */
let certs: TestCertificates;
let good: ResolvedMysqlServer;
let expired: ResolvedMysqlServer;
let plain: ResolvedMysqlServer;
let gw: TestGateway;
/** hospital-b's URL on the good server, by its least-privilege user. */
let baseUrl: URL;
let x509User: string;

const QUERY = '{ Patient(id: "1") { id } }';

function urlOn(server: ResolvedMysqlServer, host = '127.0.0.1', url = baseUrl): string {
  const copy = new URL(url.href);
  copy.hostname = host;
  copy.port = String(server.server.port);
  return copy.href;
}

async function registerTlsTenant(clientId: string, url: string, tls: TlsSettings): Promise<void> {
  await gw.registry.upsertTenant({
    clientId,
    displayName: clientId,
    dbType: 'mysql',
    sealedUrl: sealSecret(gw.keyring, clientId, encodeTenantConnection({ url, tls })),
    status: 'active',
  });
  await gw.registry.addMapping(clientId, JSON.stringify(hospitalB().mapping), { activate: true });
}

async function ask(clientId: string) {
  const res = await gw.post(QUERY, { token: await gw.tokenFor(clientId) });
  return {
    status: res.status,
    code: res.json.errors?.[0]?.extensions?.['code'],
    message: res.json.errors?.[0]?.message,
    text: res.text,
  };
}

/** The operator log's line for the tenant's failed statement: its message and driver code. */
function failureLogged(clientId: string): { msg: string; driverCode: string } | undefined {
  for (const line of gw.logLines) {
    const entry = JSON.parse(line) as {
      msg?: string;
      tenant?: string;
      driverCode?: string;
      err?: { message?: string };
    };
    if (entry.msg === 'tenant statement failed' && entry.tenant === tenantHash(clientId)) {
      return { msg: entry.err?.message ?? '', driverCode: entry.driverCode ?? '' };
    }
  }
  return undefined;
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fhirgate-tls-'));
  certs = await makeCertificates(dir);
  // One after the other: parallel mariadb-install-db runs collide on their temporary tables.
  good = await startTlsMariadb(certs, certs.serverCertFile);
  expired = await startTlsMariadb(certs, certs.expiredCertFile);
  plain = await startTlsMariadb(certs, undefined);
  gw = await createTestGateway({
    tenants: [hospitalB()],
    createDatabase: (prefix) => createTestDatabase(prefix, good.server),
    resilience: { failureThreshold: 1, halfOpenAfterMs: 60_000 },
  });
  baseUrl = new URL(gw.tenantUrls.get('hospital-b') as string);
  // A user that must present a client certificate signed by the CA the server trusts.
  x509User = `fgx_${Date.now().toString(36)}`;
  const admin = await mysql.createConnection(connectionOptions(good.server));
  try {
    const database = baseUrl.pathname.slice(1);
    await admin.query("CREATE USER ?@'%' IDENTIFIED BY 'x509-pass' REQUIRE X509", [x509User]);
    await admin.query(`GRANT SELECT, SHOW VIEW ON \`${database}\`.* TO ?@'%'`, [x509User]);
  } finally {
    await admin.end();
  }
  const x509Url = new URL(baseUrl.href);
  x509Url.username = x509User;
  x509Url.password = 'x509-pass';
  const mtls = { cert: certs.clientCertPem, key: certs.clientKeyPem };

  await registerTlsTenant('tls-good', urlOn(good), { mode: 'verify-full', ca: certs.caPem });
  await registerTlsTenant('tls-good-ca', urlOn(good, 'localhost'), {
    mode: 'verify-ca',
    ca: certs.caPem,
    minVersion: 'TLSv1.3',
  });
  await registerTlsTenant('tls-unknown-ca', urlOn(good), {
    mode: 'verify-full',
    ca: certs.otherCaPem,
  });
  await registerTlsTenant('tls-system-roots', urlOn(good), { mode: 'verify-full' });
  await registerTlsTenant('tls-wrong-host', urlOn(good, 'localhost'), {
    mode: 'verify-full',
    ca: certs.caPem,
  });
  await registerTlsTenant('tls-expired', urlOn(expired), { mode: 'verify-full', ca: certs.caPem });
  await registerTlsTenant('tls-mutual', urlOn(good, '127.0.0.1', x509Url), {
    mode: 'verify-full',
    ca: certs.caPem,
    ...mtls,
  });
  await registerTlsTenant('tls-mutual-no-cert', urlOn(good, '127.0.0.1', x509Url), {
    mode: 'verify-full',
    ca: certs.caPem,
  });
  await registerTlsTenant('tls-no-server-tls', urlOn(plain), { mode: 'require' });
}, 120_000);

afterAll(async () => {
  await gw?.close();
  await Promise.allSettled([good?.stop(), expired?.stop(), plain?.stop()]);
  if (certs !== undefined) {
    await rm(certs.dir, { recursive: true, force: true });
  }
});

describe('TLS to a tenant database', () => {
  it('a good chain (verify-full) serves, over TLS, and the breaker stays closed', async () => {
    const answer = await ask('tls-good');
    expect(answer.status).toBe(200);
    expect(answer.code).toBeUndefined();
    expect(gw.policies.breakerState('tls-good')).toBe('closed');
    // The server saw an encrypted session from the tenant's user.
    const admin = await mysql.createConnection(connectionOptions(good.server));
    try {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?',
        [baseUrl.username],
      );
      expect(Number(rows[0]?.['n'])).toBeGreaterThan(0);
      const [status] = await admin.query<mysql.RowDataPacket[]>(
        "SHOW GLOBAL STATUS LIKE 'Ssl_accepts'",
      );
      expect(Number(status[0]?.['Value'])).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
  });

  it('verify-ca accepts the chain under another host name, with TLS 1.3 as the minimum', async () => {
    const answer = await ask('tls-good-ca');
    expect(answer.status).toBe(200);
  });

  it('mutual TLS: the client certificate lets a REQUIRE X509 user in', async () => {
    const answer = await ask('tls-mutual');
    expect(answer.status).toBe(200);
  });

  it('a bare URL to this machine keeps its default, a plain connection', async () => {
    const answer = await ask('hospital-b');
    expect(answer.status).toBe(200);
  });

  const failures: Array<[string, string, string]> = [
    ['tls-unknown-ca', 'the server certificate is not signed by a trusted CA', ''],
    ['tls-system-roots', 'the server certificate is not signed by a trusted CA', ''],
    [
      'tls-wrong-host',
      'the server certificate does not name the database host',
      'ERR_TLS_CERT_ALTNAME_INVALID',
    ],
    ['tls-expired', 'the server certificate has expired', 'CERT_HAS_EXPIRED'],
    ['tls-mutual-no-cert', 'database unavailable', 'ER_ACCESS_DENIED_ERROR'],
    [
      'tls-no-server-tls',
      'TLS is required but the server does not offer it',
      'HANDSHAKE_NO_SSL_SUPPORT',
    ],
  ];

  it.each(failures)(
    '%s: 503 TENANT_UNAVAILABLE with a fixed message, the reason in the log, the breaker open',
    async (clientId, reason, driverCode) => {
      const answer = await ask(clientId);
      expect(answer.status).toBe(503);
      expect(answer.code).toBe('TENANT_UNAVAILABLE');
      expect(answer.message).toBe('The tenant database is unavailable.');
      // Nothing about certificates, hosts or users reaches the client.
      expect(answer.text).not.toMatch(/certificate|hospital\.test|127\.0\.0\.1|fgt_|fgx_|TLS/i);
      const logged = failureLogged(clientId);
      expect(logged?.msg).toContain(reason);
      if (driverCode !== '') {
        expect(logged?.driverCode).toBe(driverCode);
      }
      expect(gw.policies.breakerState(clientId)).toBe('open');
      // Recorded for the closing note of the issue.
      process.stderr.write(
        `[tls] ${clientId}: client ${answer.code} "${answer.message}"; log "${logged?.msg}" (${logged?.driverCode})\n`,
      );
    },
  );
});

describe('fhirgate mapping check over TLS', () => {
  function check(extra: string[]) {
    const mappingFile = join(certs.dir, 'mapping.json');
    writeFileSync(mappingFile, JSON.stringify(hospitalB().mapping));
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'mapping',
          'check',
          mappingFile,
          '--database-url',
          urlOn(good),
          ...extra,
        ],
        {
          cwd: new URL('../../', import.meta.url),
          env: { PATH: process.env['PATH'] ?? '' },
          timeout: 60_000,
        },
        (err, stdout, stderr) =>
          resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr }),
      );
    });
  }

  it('checks through verify-full with the CA bundle, and names the failure without it', async () => {
    const ok = await check(['--tls-mode', 'verify-full', '--tls-ca-file', certs.caFile]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const untrusted = await check([
      '--tls-mode',
      'verify-full',
      '--tls-ca-file',
      certs.otherCaFile,
    ]);
    expect(untrusted.code).toBe(2);
    expect(untrusted.stderr).toContain('the server certificate is not signed by a trusted CA');
    expect(untrusted.stderr).not.toContain(baseUrl.password);
  });
});

describe('a gateway process whose registry is reached over TLS (FHIRGATE_REGISTRY_TLS_*)', () => {
  function env(caFile: string): Record<string, string> {
    return {
      PATH: process.env['PATH'] ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      FHIRGATE_REGISTRY_URL: gw.registryDb.url,
      FHIRGATE_REGISTRY_TLS_MODE: 'verify-full',
      FHIRGATE_REGISTRY_TLS_CA_FILE: caFile,
      FHIRGATE_DB_TLS_POLICY: 'require-verified',
      FHIRGATE_ENCRYPTION_KEY: gw.keyring.primary.key.toString('base64'),
      FHIRGATE_OIDC_ISSUER: gw.keycloak.issuer(),
      FHIRGATE_OIDC_JWKS_URL: gw.keycloak.jwksUrl().href,
      FHIRGATE_RESOURCE_TYPES: 'Patient',
      FHIRGATE_GRAPHIQL: 'false',
    };
  }

  it('serves a verify-full tenant with the registry on verify-full, and is not ready with the wrong CA', async () => {
    const process1 = await startGatewayProcess(env(certs.caFile));
    try {
      const ready = await fetch(new URL('/readyz', process1.url));
      expect(ready.status).toBe(200);
      const token = await gw.tokenFor('tls-good');
      expect((await process1.post(QUERY, token)).status).toBe(200);
      // require-verified: a tenant on plain TCP (hospital-b's local default) is refused.
      const plain = await process1.post(QUERY, await gw.tokenFor('hospital-b'));
      expect(plain.json.errors?.[0]?.extensions?.['code']).toBe('TENANT_CONFIG_INVALID');
    } finally {
      await process1.stop();
    }
    const process2 = await startGatewayProcess(env(certs.otherCaFile));
    try {
      const ready = await fetch(new URL('/readyz', process2.url));
      expect(ready.status).toBe(503);
    } finally {
      await process2.stop();
    }
  });
});

describe('the TLS policy and the registry connection', () => {
  it('FHIRGATE_DB_TLS_POLICY=require-tls makes a plain tenant invalid and keeps a TLS one', async () => {
    const resolver = createConfigResolver(
      { registry: gw.registry, keyring: gw.keyring, defs: loadDefinitions(), log: silentLog() },
      { ttlMs: 60_000, tlsPolicy: 'require-tls' },
    );
    expect((await resolver.resolve('tls-good')).status).toBe('active');
    // hospital-b was sealed as a bare local URL: its default mode is disable, refused.
    expect(await resolver.resolve('hospital-b')).toEqual({ status: 'invalid', reason: 'tls' });
    const verified = createConfigResolver(
      { registry: gw.registry, keyring: gw.keyring, defs: loadDefinitions(), log: silentLog() },
      { ttlMs: 60_000, tlsPolicy: 'require-verified' },
    );
    expect(await verified.resolve('tls-no-server-tls')).toEqual({
      status: 'invalid',
      reason: 'tls',
    });
  });

  it('the registry connects with the same TLS options, and refuses an unknown CA', async () => {
    const target = parseDatabaseUrl(gw.registryDb.url);
    if (target.kind !== 'mysql') {
      throw new Error('expected a mysql registry');
    }
    const verified = createTenantRegistry({
      ...target,
      tls: { mode: 'verify-full', ca: certs.caPem },
    });
    const wrongCa = createTenantRegistry({
      ...target,
      tls: { mode: 'verify-full', ca: certs.otherCaPem },
    });
    try {
      await verified.ping();
      // The mapping transaction opens a connection of its own: it uses TLS too.
      const version = await verified.addMapping('tls-good', JSON.stringify(hospitalB().mapping), {
        activate: false,
      });
      expect(version).toBeGreaterThan(1);
      await expect(wrongCa.ping()).rejects.toMatchObject({
        code: 'DB_UNAVAILABLE',
        message: 'database unavailable: the server certificate is not signed by a trusted CA',
      });
      await expect(wrongCa.addMapping('tls-good', '{}', { activate: false })).rejects.toMatchObject(
        { code: 'DB_UNAVAILABLE' },
      );
    } finally {
      await verified.close();
      await wrongCa.close();
    }
  });
});

function silentLog() {
  return createLogger({ level: 'silent' });
}
