import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { GraphQLSchema } from 'graphql';
import { type AuditTrail, createAuditTrail } from '../../src/audit/audit-trail.js';
import type { PatientEnumerationLimit } from '../../src/audit/patient-enumeration.js';
import { createSqlAuditStore, type SqlAuditStore } from '../../src/audit/sql-audit-store.js';
import { createAccessTokenVerifier } from '../../src/auth/verify-access-token.js';
import type { Config } from '../../src/config.js';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { createGateway } from '../../src/gateway.js';
import { buildGatewaySchema } from '../../src/graphql/schema.js';
import { createLogger } from '../../src/logger.js';
import { parseTrustedProxies } from '../../src/security/client-address.js';
import {
  createTenantPolicies,
  type TenantPolicies,
  type TenantPolicyOptions,
} from '../../src/tenancy/breakers.js';
import { type ConfigResolver, createConfigResolver } from '../../src/tenancy/config-resolver.js';
import { type Keyring, parseKeyring, sealSecret } from '../../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import {
  createPoolManager,
  type PoolManagerOptions,
  type TenantPoolManager,
} from '../../src/tenancy/pool-manager.js';
import { createTenantRegistry, type TenantRegistry } from '../../src/tenancy/registry.js';
import { type KeycloakStub, startKeycloakStub } from './jwks-server.js';
import { captureSink, keyForms, recordCrossTenantHit, recordSecrets } from './log-capture.js';
import { createPgTenantUser } from './pg-tenant-user.js';
import { postgresDdl } from './postgres-ddl.js';
import type { SeedTarget, TestEngine } from './seed-rows.js';
import { createTenantUser, type TenantUser } from './tenant-user.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';
import { createTestPgDatabase, type TestPgDatabase } from './test-pg-database.js';

/** A tenant of the test gateway: its own database, schema, rows and mapping. */
export interface TenantFixture {
  readonly clientId: string;
  /** Statements that create the tenant's legacy tables (MariaDB's SQL). */
  readonly ddl: readonly string[];
  /** The same tables in PostgreSQL's SQL. @default `ddl` through `postgresDdl` */
  readonly pgDdl?: readonly string[];
  /** Fills the tables (`insertRows` writes either server's statement). */
  seed(db: SeedTarget): Promise<void>;
  /** The mapping document stored as the tenant's active version. */
  readonly mapping: unknown;
}

export interface TestGatewayOptions {
  readonly tenants: readonly TenantFixture[];
  /** Overrides of the pool manager's settings. */
  readonly pools?: Partial<PoolManagerOptions>;
  /** Overrides of the per-tenant resilience policy. */
  readonly resilience?: Partial<TenantPolicyOptions>;
  /** Config cache TTL. @default 300000 */
  readonly configTtlMs?: number;
  /** How long the last good config is served while the registry is down. @default 900000 */
  readonly configMaxStaleMs?: number;
  readonly resourceTypes?: readonly string[];
  readonly maxCount?: number;
  /** Where databases are created. @default createTestDatabase on the vitest-provided server */
  readonly createDatabase?: (prefix: string) => Promise<TestDatabase>;
  /**
   * The server the tenants' databases live on; the registry and audit trail stay on MariaDB.
   * @default 'mysql'
   */
  readonly engine?: TestEngine;
  /** Browser origins CORS lets in. @default none (closed) */
  readonly corsOrigins?: readonly string[];
  /** Per-user and per-tenant rate limits. @default unlimited */
  readonly rateLimits?: Config['rateLimits'];
  /** Hold throttling refusals; absent = answer at once (production default: 5 s, 1,000 held). */
  readonly refusalHold?: Config['refusalHold'];
  /** Per-user distinct-patient limit (C48). @default off */
  readonly patientLimit?: PatientEnumerationLimit;
  /** Log level of the captured logger. @default 'debug' */
  readonly logLevel?: string;
  /**
   * Settings of the audit trail, which is always real: the `fhirgate_audit_events` table of the
   * test registry database (MariaDB), as in production. @default the production defaults
   */
  readonly audit?: {
    readonly batchMax?: number;
    readonly backlog?: number;
    readonly writeTimeoutMs?: number;
    /** Anonymous denials are counted per address over this interval. @default 60000 */
    readonly denialIntervalMs?: number;
  };
  /** Worst-case resources per request. @default the production default, 5000 */
  readonly maxResources?: number;
  /** Bytes of one answer's JSON at most. @default the production default, 16 MiB */
  readonly maxResponseBytes?: number;
  /** Per-tenant bulkheads for heavy requests. @default off */
  readonly heavyRequests?: Config['heavyRequests'];
  /** Failed token checks per client address before it is refused unverified. @default off */
  readonly authFailureLimit?: Config['authFailureLimit'];
  /** `FHIRGATE_PUBLIC_BASE_URL`. @default none: URLs from each request */
  readonly publicBaseUrl?: string;
  /** `FHIRGATE_TRUSTED_PROXIES`: addresses and CIDR ranges. @default none */
  readonly trustedProxies?: readonly string[];
  /**
   * Give each tenant its own SELECT-only database user whose password is a `ZZPW-` canary
   * (falls back to the server's account when it may not create users). @default true
   */
  readonly tenantUsers?: boolean;
  /** Changes the built schema before the gateway serves it (hostile-resolver tests). */
  readonly editSchema?: (schema: GraphQLSchema) => void;
}

export interface StatementRecord {
  readonly tenantHash: string;
  readonly sql: string;
}

export interface PostResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
  };
}

export interface TestGateway {
  /** `http://127.0.0.1:<port>/graphql`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>/fhir`: the FHIR REST base. */
  readonly fhirUrl: string;
  readonly keycloak: KeycloakStub;
  readonly keyring: Keyring;
  readonly registry: TenantRegistry;
  readonly registryDb: TestDatabase;
  /** Each tenant's database (on PostgreSQL with `engine: 'postgres'`). */
  readonly tenantDbs: ReadonlyMap<string, TestDatabase | TestPgDatabase>;
  /** The audit trail the gateway writes to, and its store (read events back with `readEvents`). */
  readonly audit: AuditTrail;
  readonly auditStore: SqlAuditStore;
  /** The plain URL sealed for each tenant (with its canary password when `tenantUsers`). */
  readonly tenantUrls: ReadonlyMap<string, string>;
  readonly pools: TenantPoolManager;
  readonly policies: TenantPolicies;
  readonly resolver: ConfigResolver;
  /** Every statement sent to any tenant database, in order. */
  readonly statements: StatementRecord[];
  /** Every log line the gateway wrote (JSON text). */
  readonly logLines: string[];
  tokenFor(
    clientId: string,
    roles?: string[],
    overrides?: Record<string, unknown>,
  ): Promise<string>;
  /** POSTs a GraphQL operation over real HTTP. */
  post(
    query: string,
    options?: {
      token?: string;
      variables?: Record<string, unknown>;
      headers?: Record<string, string>;
    },
  ): Promise<PostResult>;
  close(): Promise<void>;
}

/**
 * A gateway wired exactly as `main.ts` wires it, against real components: a registry database
 * and one database per tenant on the test MariaDB, a Keycloak-shaped JWKS over HTTP, and a real
 * listening port. Like Medplum's `createTestProject`: one call, typed options, one `close`.
 */
export async function createTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const logLines: string[] = [];
  // Also appended to the run's capture dir: the global teardown scans it for canaries.
  const capture = captureSink('gateway');
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length > 0) {
          logLines.push(line);
          capture.write(line);
        }
      }
      done();
    },
  });
  const log = createLogger({ level: options.logLevel ?? 'debug' }, sink);
  const createDatabase = options.createDatabase ?? ((prefix: string) => createTestDatabase(prefix));
  const primaryKey = randomBytes(32).toString('base64');
  recordSecrets(keyForms(primaryKey));
  const keyring = parseKeyring({ primaryKey });

  const registryDb = await createDatabase('reg');
  const registry = createTenantRegistry(parseDatabaseUrl(registryDb.url));
  await registry.applySchema();
  const auditStore = createSqlAuditStore(parseDatabaseUrl(registryDb.url), {
    ...(options.audit?.writeTimeoutMs === undefined
      ? {}
      : { writeTimeoutMs: options.audit.writeTimeoutMs }),
  });
  const audit = createAuditTrail({
    store: auditStore,
    log,
    ...(options.audit?.batchMax === undefined ? {} : { batchMax: options.audit.batchMax }),
    ...(options.audit?.backlog === undefined ? {} : { backlog: options.audit.backlog }),
    ...(options.audit?.denialIntervalMs === undefined
      ? {}
      : { denialIntervalMs: options.audit.denialIntervalMs }),
  });

  const engine = options.engine ?? 'mysql';
  const tenantDbs = new Map<string, TestDatabase | TestPgDatabase>();
  const tenantUrls = new Map<string, string>();
  const tenantUsers: TenantUser[] = [];
  /** Each tenant's PHI canary (fixtures that have one): other tenants' responses must lack it. */
  const canaries = new Map<string, string>();
  for (const tenant of options.tenants) {
    const db =
      engine === 'postgres' ? await createTestPgDatabase('ten') : await createDatabase('ten');
    tenantDbs.set(tenant.clientId, db);
    const ddl =
      db.engine === 'postgres' ? (tenant.pgDdl ?? tenant.ddl.flatMap(postgresDdl)) : tenant.ddl;
    for (const statement of ddl) {
      await db.exec(statement);
    }
    await tenant.seed(db);
    const canary = (tenant as { canary?: unknown }).canary;
    if (typeof canary === 'string' && canary.length > 0) {
      canaries.set(tenant.clientId, canary);
    }
    const user =
      options.tenantUsers === false
        ? undefined
        : db.engine === 'postgres'
          ? await createPgTenantUser(db)
          : await createTenantUser(db);
    if (user !== undefined) {
      tenantUsers.push(user);
    }
    const tenantUrl = user?.url ?? db.url;
    tenantUrls.set(tenant.clientId, tenantUrl);
    await registry.upsertTenant({
      clientId: tenant.clientId,
      displayName: tenant.clientId,
      dbType: engine,
      sealedUrl: sealSecret(keyring, tenant.clientId, tenantUrl),
      status: 'active',
    });
    await registry.addMapping(tenant.clientId, JSON.stringify(tenant.mapping), { activate: true });
  }

  const keycloak = await startKeycloakStub();
  const defs = loadDefinitions();
  const resourceTypes = options.resourceTypes ?? ['Patient'];
  const limits = { maxCount: options.maxCount ?? 100, defaultCount: 20, maxOffset: 10_000 };
  const schema = buildGatewaySchema({ defs, resourceTypes, limits });
  options.editSchema?.(schema);
  const pools = createPoolManager(
    {
      maxTenantPools: 200,
      poolIdleEvictMs: 1_800_000,
      maxTotalConnections: 150,
      connectionsPerTenant: 10,
      queueLimit: 20,
      connectionIdleMs: 60_000,
      validateAfterIdleMs: 30_000,
      connectTimeoutMs: 3000,
      queryTimeoutMs: 5000,
      statementTimeLimitMs: 4000,
      ...options.pools,
    },
    log,
  );
  const policies = createTenantPolicies(
    {
      concurrency: 10,
      queue: 20,
      failureThreshold: 5,
      halfOpenAfterMs: 10_000,
      timeoutMs: 5000,
      ...options.resilience,
    },
    log,
  );
  const resolver = createConfigResolver(
    { registry, keyring, defs, log },
    { ttlMs: options.configTtlMs ?? 300_000, maxStaleMs: options.configMaxStaleMs ?? 900_000 },
  );
  const verifier = createAccessTokenVerifier({
    issuer: keycloak.issuer(),
    jwksUrl: keycloak.jwksUrl(),
    audience: 'fhir-gateway',
    algorithms: ['RS256'],
    clockToleranceSec: 30,
    maxTokenAge: '15m',
    tenantClaim: 'client_id',
    roleSource: 'client',
  });
  const statements: StatementRecord[] = [];
  const gateway = createGateway({
    schema,
    log,
    verifier,
    resolver,
    pools,
    policies,
    graphiql: true,
    ...(options.corsOrigins === undefined ? {} : { corsOrigins: options.corsOrigins }),
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
    resourceBudget: {
      maxResources: options.maxResources ?? 5000,
      defaultCount: 20,
      maxCount: options.maxCount ?? 100,
    },
    ...(options.maxResponseBytes === undefined
      ? {}
      : { maxResponseBytes: options.maxResponseBytes }),
    ...(options.heavyRequests === undefined ? {} : { heavyRequests: options.heavyRequests }),
    ...(options.authFailureLimit === undefined
      ? {}
      : { authFailureLimit: options.authFailureLimit }),
    ...(options.refusalHold === undefined ? {} : { refusalHold: options.refusalHold }),
    ...(options.trustedProxies === undefined
      ? {}
      : { trustedProxies: parseTrustedProxies(options.trustedProxies) }),
    ...(options.patientLimit === undefined ? {} : { patientLimit: options.patientLimit }),
    onStatement: (e) => statements.push({ tenantHash: e.tenantHash, sql: e.sql }),
    audit,
    fhir: {
      base: '/fhir',
      defs,
      resourceTypes,
      limits,
      issuer: keycloak.issuer(),
      ...(options.publicBaseUrl === undefined ? {} : { publicBaseUrl: options.publicBaseUrl }),
    },
  });
  const server: Server = createServer(gateway);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;

  /** Records (for the final scan) any other tenant's canary in a response to `token`'s tenant. */
  function checkCrossTenant(token: string, text: string): void {
    const clientId = tenantOfToken(token);
    for (const [owner, canary] of canaries) {
      if (owner !== clientId && text.includes(canary)) {
        recordCrossTenantHit(clientId ?? '(no tenant)', owner);
      }
    }
  }

  return {
    url,
    fhirUrl: url.replace(/\/graphql$/, '/fhir'),
    keycloak,
    keyring,
    registry,
    registryDb,
    tenantDbs,
    audit,
    auditStore,
    tenantUrls,
    pools,
    policies,
    resolver,
    statements,
    logLines,
    tokenFor: (clientId, roles = ['fhir-read'], overrides) =>
      keycloak.tokenFor({ clientId, roles, ...(overrides === undefined ? {} : { overrides }) }),
    async post(query, postOptions = {}) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(postOptions.token === undefined
            ? {}
            : { authorization: `Bearer ${postOptions.token}` }),
          ...postOptions.headers,
        },
        body: JSON.stringify({ query, variables: postOptions.variables }),
      });
      const text = await response.text();
      if (postOptions.token !== undefined) {
        checkCrossTenant(postOptions.token, text);
      }
      let json: PostResult['json'] = {};
      try {
        json = JSON.parse(text) as PostResult['json'];
      } catch {
        // Not JSON (GraphiQL HTML, an empty 405): the caller looks at `text`.
      }
      return { status: response.status, headers: response.headers, text, json };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pools.close();
      await audit.close();
      await registry.close();
      await keycloak.close();
      await Promise.allSettled(tenantUsers.map((u) => u.drop()));
      await Promise.allSettled([
        registryDb.drop(),
        ...[...tenantDbs.values()].map((d) => d.drop()),
      ]);
    },
  };
}

/** The `client_id` of a compact JWT, read without verification (test bookkeeping only). */
function tenantOfToken(token: string): string | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    );
    return typeof payload?.client_id === 'string' ? payload.client_id : undefined;
  } catch {
    return undefined;
  }
}
