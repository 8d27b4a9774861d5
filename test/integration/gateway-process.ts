/**
 * Test support for the admin, reload and CLI tests (not a test file itself): a tenant world on
 * the test MariaDB (registry + one database per tenant + a Keycloak-shaped JWKS), and real
 * gateway processes, compiled as in the image (test-build.ts), started with an environment
 * exactly as an operator runs them. Each process's stdout (pino JSON lines) is captured.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type Keyring, parseKeyring, sealSecret } from '../../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { createTenantRegistry, type TenantRegistry } from '../../src/tenancy/registry.js';
import { HANG_BACKSTOP_MS } from '../helpers/backstop.js';
import type { TenantFixture } from '../helpers/create-test-gateway.js';
import { type KeycloakStub, startKeycloakStub } from '../helpers/jwks-server.js';
import { compiledEntry } from '../helpers/test-build.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const ROOT = new URL('../../', import.meta.url);

export interface TenantWorld {
  readonly registryDb: TestDatabase;
  readonly registry: TenantRegistry;
  readonly keyring: Keyring;
  /** base64 of the primary key (what FHIRGATE_ENCRYPTION_KEY holds). */
  readonly key: string;
  readonly keycloak: KeycloakStub;
  readonly tenantDbs: ReadonlyMap<string, TestDatabase>;
  /** The environment a gateway of this world needs (add PORT, REDIS_URL...). */
  env(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export async function createTenantWorld(tenants: readonly TenantFixture[]): Promise<TenantWorld> {
  const key = randomBytes(32).toString('base64');
  const keyring = parseKeyring({ primaryKey: key });
  const registryDb = await createTestDatabase('reg');
  const registry = createTenantRegistry(parseDatabaseUrl(registryDb.url));
  await registry.applySchema();
  const tenantDbs = new Map<string, TestDatabase>();
  for (const tenant of tenants) {
    const db = await createTestDatabase('ten');
    tenantDbs.set(tenant.clientId, db);
    for (const ddl of tenant.ddl) {
      await db.exec(ddl);
    }
    await tenant.seed(db);
    await registry.upsertTenant({
      clientId: tenant.clientId,
      displayName: tenant.clientId,
      dbType: 'mysql',
      sealedUrl: sealSecret(keyring, tenant.clientId, db.url),
      status: 'active',
    });
    await registry.addMapping(tenant.clientId, JSON.stringify(tenant.mapping), { activate: true });
  }
  const keycloak = await startKeycloakStub();
  return {
    registryDb,
    registry,
    keyring,
    key,
    keycloak,
    tenantDbs,
    env: (extra = {}) => ({
      PATH: process.env['PATH'] ?? '',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      FHIRGATE_REGISTRY_URL: registryDb.url,
      FHIRGATE_ENCRYPTION_KEY: key,
      FHIRGATE_OIDC_ISSUER: keycloak.issuer(),
      FHIRGATE_OIDC_JWKS_URL: keycloak.jwksUrl().href,
      FHIRGATE_RESOURCE_TYPES: 'Patient',
      FHIRGATE_GRAPHIQL: 'false',
      // Tests reload the same tenant back to back; the cooldown has its own test.
      FHIRGATE_RELOAD_COOLDOWN_MS: '0',
      ...extra,
    }),
    async close() {
      await registry.close();
      await keycloak.close();
      await Promise.allSettled([
        registryDb.drop(),
        ...[...tenantDbs.values()].map((d) => d.drop()),
      ]);
    },
  };
}

export interface GraphqlResult {
  readonly status: number;
  readonly json: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
  readonly text: string;
}

export interface GatewayProcess {
  readonly url: string;
  /** Every stdout/stderr line so far. */
  readonly lines: string[];
  post(query: string, token: string, variables?: Record<string, unknown>): Promise<GraphqlResult>;
  /** Resolves with the first log line matching, or rejects after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

/** Starts the compiled gateway with `env` and waits for its "listening" line. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child: ChildProcess = spawn(process.execPath, [compiledEntry('main')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<{ pattern: RegExp; resolve(line: string): void }>();
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.length === 0) {
        continue;
      }
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.delete(w);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  const waitForLine = (pattern: RegExp, timeoutMs = HANG_BACKSTOP_MS) => {
    const seen = lines.find((l) => pattern.test(l));
    if (seen !== undefined) {
      return Promise.resolve(seen);
    }
    return new Promise<string>((resolve, reject) => {
      const waiter = {
        pattern,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  };

  const listening = await Promise.race([
    waitForLine(/fhirgate is listening on (http:\/\/\S+)/),
    exited.then((code) => {
      throw new Error(`gateway exited with ${code} before listening:\n${lines.join('\n')}`);
    }),
  ]);
  const url = /(http:\/\/\S+\/graphql)/.exec(listening)?.[1] as string;

  return {
    url,
    lines,
    async post(query, token, variables) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      let json: GraphqlResult['json'] = {};
      try {
        json = JSON.parse(text) as GraphqlResult['json'];
      } catch {
        // not JSON: the caller looks at `text`
      }
      return { status: response.status, json, text };
    },
    waitForLine,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
