import { z } from 'zod';
import { TLS_MODES, TLS_VERSIONS, type TlsMode, type TlsVersion } from './db/database-tls.js';
import { isTrustedProxyEntry } from './security/client-address.js';
import { TLS_POLICIES, type TlsPolicy } from './tenancy/tenant-connection.js';

/**
 * The only reader of `process.env`. Every setting, its default and its validation live in
 * {@link EnvSchema}; docs/configuration.md is generated from it (`npm run docs:config`).
 */

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const positiveInt = (min = 1) => z.coerce.number().int().min(min);

/** A comma-separated list (blank entries dropped), each entry checked by `item`; default none. */
const list = (item: z.ZodString) =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0),
    )
    .pipe(z.array(item));

/** An absolute http(s) URL with no credentials, query or fragment. */
function isPublicBaseUrl(value: string): boolean {
  if (!URL.canParse(value)) {
    return false;
  }
  const url = new URL(value);
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === '' &&
    !/[?#]/.test(value)
  );
}

/** Durations in milliseconds. */
const ms = (min = 0) => z.coerce.number().int().min(min);

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  FHIRGATE_KEEP_ALIVE_TIMEOUT_MS: ms(1000).max(600_000).default(65_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  FHIRGATE_DATA_DIR: z.string().min(1).default('.fhirgate'),
  FHIRGATE_REGISTRY_URL: z.string().min(1).optional(),
  FHIRGATE_ENCRYPTION_KEY: z.string().optional(),
  FHIRGATE_ENCRYPTION_KEY_ID: z.string().default('k1'),
  FHIRGATE_ENCRYPTION_OLD_KEYS: z.string().optional(),

  FHIRGATE_OIDC_ISSUER: z.string().min(1).optional(),
  FHIRGATE_OIDC_JWKS_URL: z.url().optional(),
  FHIRGATE_OIDC_AUDIENCE: z.string().min(1).default('fhir-gateway'),
  FHIRGATE_OIDC_ALGORITHMS: z
    .string()
    .default('RS256')
    .transform((v) => v.split(',').map((a) => a.trim()))
    .pipe(
      z
        .array(
          z.enum([
            'RS256',
            'RS384',
            'RS512',
            'PS256',
            'PS384',
            'PS512',
            'ES256',
            'ES384',
            'ES512',
            'EdDSA',
          ]),
        )
        .min(1),
    ),
  FHIRGATE_OIDC_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(30),
  FHIRGATE_OIDC_MAX_TOKEN_AGE: z
    .string()
    .regex(/^\d+[smh]$/, 'expected a duration such as 15m')
    .default('15m'),
  FHIRGATE_TENANT_CLAIM: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/)
    .default('client_id'),
  FHIRGATE_ROLE_SOURCE: z.enum(['client', 'realm']).default('client'),

  FHIRGATE_RESOURCE_TYPES: z
    .string()
    .default(
      'Patient,Practitioner,Organization,Location,Encounter,Observation,Condition,AllergyIntolerance,MedicationRequest,Procedure,Immunization,DiagnosticReport',
    )
    .transform((v) =>
      v
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0),
    ),
  FHIRGATE_MAX_COUNT: positiveInt().max(1000).default(100),
  FHIRGATE_DEFAULT_COUNT: positiveInt().max(1000).default(20),
  FHIRGATE_MAX_RESOURCES_PER_REQUEST: positiveInt().max(1_000_000).default(5000),
  FHIRGATE_MAX_RESPONSE_BYTES: positiveInt(1024)
    .max(1024 * 1024 * 1024)
    .default(16 * 1024 * 1024),
  FHIRGATE_GRAPHIQL: bool.default(true),
  /** The FHIR REST base path: `/fhir` serves `/fhir/Patient/1`, `/fhir/metadata`, `/fhir/$graphql`. */
  FHIRGATE_FHIR_BASE: z
    .string()
    .regex(/^(\/[a-z0-9][a-z0-9-]{0,31}){1,3}$/, 'a path such as /fhir or /api/fhir/r4')
    .refine((p) => p !== '/graphql', 'must differ from the GraphQL endpoint')
    .default('/fhir'),
  FHIRGATE_PUBLIC_BASE_URL: z
    .string()
    .refine(
      isPublicBaseUrl,
      'an absolute http(s) URL without query or fragment, such as https://fhir.example.org',
    )
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
  FHIRGATE_TRUSTED_PROXIES: list(
    z
      .string()
      .refine(
        isTrustedProxyEntry,
        'expected IP addresses or CIDR ranges such as 10.0.0.5, 10.0.0.0/8 or fd00::/8',
      ),
  ),

  FHIRGATE_CONFIG_TTL_MS: ms(1000).default(300_000),
  FHIRGATE_CONFIG_MAX_STALE_MS: ms(0).default(900_000),
  FHIRGATE_POOL_MAX_TENANTS: positiveInt().default(200),
  FHIRGATE_POOL_IDLE_EVICT_MS: ms(1000).default(1_800_000),
  FHIRGATE_POOL_MAX_CONNECTIONS: positiveInt().default(150),
  FHIRGATE_POOL_TENANT_CONNECTIONS: positiveInt().max(100).default(10),
  FHIRGATE_POOL_QUEUE_LIMIT: positiveInt(0).default(20),
  FHIRGATE_POOL_CONNECTION_IDLE_MS: ms(1000).default(60_000),
  FHIRGATE_POOL_VALIDATE_AFTER_MS: ms(0).default(30_000),
  FHIRGATE_DB_CONNECT_TIMEOUT_MS: ms(100).default(3000),
  FHIRGATE_DB_QUERY_TIMEOUT_MS: ms(100).default(5000),
  FHIRGATE_DB_STATEMENT_LIMIT_MS: ms(100).default(4000),
  FHIRGATE_DB_TLS_POLICY: z.enum(TLS_POLICIES).default('allow-plain'),
  FHIRGATE_REGISTRY_TLS_MODE: z.enum(TLS_MODES).optional(),
  FHIRGATE_REGISTRY_TLS_CA_FILE: z.string().min(1).optional(),
  FHIRGATE_REGISTRY_TLS_CERT_FILE: z.string().min(1).optional(),
  FHIRGATE_REGISTRY_TLS_KEY_FILE: z.string().min(1).optional(),
  FHIRGATE_REGISTRY_TLS_MIN_VERSION: z.enum(TLS_VERSIONS).optional(),
  FHIRGATE_TENANT_CONCURRENCY: positiveInt().max(1000).default(10),
  FHIRGATE_TENANT_QUEUE: positiveInt(0).max(10_000).default(20),
  FHIRGATE_BREAKER_THRESHOLD: positiveInt().max(1000).default(5),
  FHIRGATE_BREAKER_HALF_OPEN_MS: ms(100).default(10_000),
  FHIRGATE_RATE_USER_PER_S: z.coerce.number().min(0).default(50),
  FHIRGATE_RATE_USER_BURST: positiveInt().default(100),
  FHIRGATE_RATE_TENANT_PER_S: z.coerce.number().min(0).default(500),
  FHIRGATE_RATE_TENANT_BURST: positiveInt().default(1000),
  FHIRGATE_AUTH_FAILURES_PER_S: z.coerce.number().min(0).default(10),
  FHIRGATE_AUTH_FAILURES_BURST: positiveInt().default(50),
  FHIRGATE_HEAVY_REQUEST_RESOURCES: positiveInt().max(1_000_000).default(1000),
  FHIRGATE_HEAVY_CONCURRENCY: positiveInt().max(100).default(2),
  FHIRGATE_HEAVY_QUEUE: positiveInt(0).max(1000).default(4),
  FHIRGATE_HEAVY_MAX_WAIT_MS: positiveInt().max(10_000).default(200),
  FHIRGATE_HEAVY_SHARE: positiveInt().max(100).default(5),
  FHIRGATE_REFUSAL_HOLD_MS: ms(0).max(10_000).default(5000),
  FHIRGATE_REFUSAL_HOLD_MAX: positiveInt(0).max(100_000).default(1000),
  FHIRGATE_METRICS: bool.default(true),
  FHIRGATE_METRICS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  FHIRGATE_METRICS_TOKEN: z.string().min(16).max(512).optional(),
  FHIRGATE_READY_TIMEOUT_MS: ms(50).default(1000),
  FHIRGATE_SHUTDOWN_DELAY_MS: ms(0).default(0),
  FHIRGATE_SHUTDOWN_TIMEOUT_MS: ms(0).default(10_000),

  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/[^\s]+$/, 'expected redis://... or rediss://...')
    .optional(),
  FHIRGATE_RELOAD_CHANNEL: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,128}$/)
    .default('fhirgate:tenant-reload'),
  FHIRGATE_RELOAD_COOLDOWN_MS: ms(0).default(10_000),
  FHIRGATE_PLATFORM_ADMIN_ROLE: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,128}$/)
    .default('fhirgate-platform-admin'),
  FHIRGATE_PLATFORM_ADMIN_CLIENTS: list(
    z.string().regex(/^[\x21-\x2b\x2d-\x7e]{1,255}$/, 'expected client ids (printable, no comma)'),
  ),
  FHIRGATE_CORS_ORIGINS: list(
    z
      .string()
      .regex(
        /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?$/,
        'expected origins such as https://app.example.org (scheme, host, port; no path, no *)',
      ),
  ),

  FHIRGATE_AUDIT_DATABASE_URL: z.string().min(1).optional(),
  FHIRGATE_AUDIT_SOURCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/)
    .default('fhirgate'),
  FHIRGATE_AUDIT_BATCH_MAX: positiveInt().max(1000).default(100),
  FHIRGATE_AUDIT_BACKLOG: positiveInt().max(1_000_000).default(10_000),
  FHIRGATE_AUDIT_MAX_IN_FLIGHT: positiveInt().max(32).default(1),
  FHIRGATE_AUDIT_WRITE_TIMEOUT_MS: ms(100).default(5000),
  FHIRGATE_AUDIT_DENIAL_INTERVAL_MS: ms(1000).max(3_600_000).default(60_000),
  FHIRGATE_MAX_DISTINCT_PATIENTS: positiveInt(0).max(1_000_000).default(300),
  FHIRGATE_DISTINCT_PATIENTS_WINDOW_MS: ms(1000).default(300_000),
});

export type Env = z.input<typeof EnvSchema>;

/** Validated, frozen settings. Field docs give the environment variable they come from. */
export interface Config {
  readonly nodeEnv: 'development' | 'production' | 'test';
  /** `PORT` @default 4000 */
  readonly port: number;
  /** `HOST` @default '127.0.0.1' */
  readonly host: string;
  /**
   * `FHIRGATE_KEEP_ALIVE_TIMEOUT_MS`: how long an idle client connection stays open. Above the
   * idle timeout of the proxies in front (60 s for an AWS ALB or nginx), so the proxy, not the
   * gateway, closes an idle connection. @default 65000
   */
  readonly keepAliveTimeoutMs: number;
  /** `LOG_LEVEL` @default 'info' */
  readonly logLevel: string;
  /** `FHIRGATE_DATA_DIR`: demo state (SQLite files, demo issuer key). @default '.fhirgate' */
  readonly dataDir: string;
  /** Demo mode: `FHIRGATE_REGISTRY_URL` is not set. */
  readonly demo: boolean;
  /** `FHIRGATE_REGISTRY_URL`: the control-plane database (mysql://, mariadb:// or sqlite:). */
  readonly registryUrl: string | undefined;
  /** `FHIRGATE_REGISTRY_TLS_*`: TLS to the registry (and the audit database). */
  readonly registryTls: RegistryTlsFiles;
  /** `FHIRGATE_DB_TLS_POLICY`: which TLS modes tenant and registry connections may use. */
  readonly dbTlsPolicy: TlsPolicy;
  readonly encryption: {
    readonly primaryKey: string | undefined;
    readonly primaryKeyId: string;
    readonly oldKeys: string | undefined;
  };
  readonly oidc: {
    readonly issuer: string | undefined;
    readonly jwksUrl: string | undefined;
    readonly audience: string;
    readonly algorithms: readonly string[];
    readonly clockToleranceSec: number;
    readonly maxTokenAge: string;
    readonly tenantClaim: string;
    readonly roleSource: 'client' | 'realm';
  };
  readonly graphql: {
    readonly resourceTypes: readonly string[];
    readonly maxCount: number;
    readonly defaultCount: number;
    /**
     * `FHIRGATE_MAX_RESOURCES_PER_REQUEST`: the most resources one operation may return in the
     * worst case (lists multiply by their `_count`); refused above. @default 5000
     */
    readonly maxResourcesPerRequest: number;
    /**
     * `FHIRGATE_MAX_RESPONSE_BYTES`: the most bytes of JSON one answer may be, counted while it
     * is written; past it the answer is 400 `RESPONSE_TOO_LARGE` instead. @default 16 MiB
     */
    readonly maxResponseBytes: number;
    readonly graphiql: boolean;
    /**
     * `FHIRGATE_CORS_ORIGINS`: browser origins allowed to call the endpoint cross-origin (no
     * credentials: the token travels in `Authorization`). @default none (CORS closed)
     */
    readonly corsOrigins: readonly string[];
  };
  readonly fhir: {
    /** The FHIR REST base path. @default '/fhir' */
    readonly base: string;
    /**
     * `FHIRGATE_PUBLIC_BASE_URL`: the origin (and path prefix) clients reach the gateway at,
     * behind a proxy or ingress; the FHIR base is appended to it. @default the request's own URL
     */
    readonly publicBaseUrl: string | undefined;
  };
  /**
   * `FHIRGATE_TRUSTED_PROXIES`: proxies (addresses, CIDR ranges) whose `X-Forwarded-For` names
   * the client for per-address limits and the audit. @default none: the TCP peer is the client
   */
  readonly trustedProxies: readonly string[];
  readonly tenancy: {
    readonly configTtlMs: number;
    /** How long a tenant's last good config is served while the registry is down. */
    readonly configMaxStaleMs: number;
    readonly maxTenantPools: number;
    readonly poolIdleEvictMs: number;
    readonly maxTotalConnections: number;
    readonly connectionsPerTenant: number;
    readonly queueLimit: number;
    readonly connectionIdleMs: number;
    readonly validateAfterIdleMs: number;
    readonly connectTimeoutMs: number;
    readonly queryTimeoutMs: number;
    readonly statementTimeLimitMs: number;
  };
  readonly rateLimits: {
    /** Per user (`iss` + `sub`); `perSecond` 0 turns it off. */
    readonly user: { readonly perSecond: number; readonly burst: number };
    /** Per tenant (client id); `perSecond` 0 turns it off. */
    readonly tenant: { readonly perSecond: number; readonly burst: number };
  };
  /**
   * Failed token checks per client address (`FHIRGATE_AUTH_FAILURES_PER_S`, 0 = off, and
   * `FHIRGATE_AUTH_FAILURES_BURST`): past them the address is refused (429) before verification.
   */
  readonly authFailureLimit: { readonly perSecond: number; readonly burst: number };
  /**
   * 429 and busy/unavailable 503 answers are held up to their `Retry-After`, at most `delayMs`
   * (`FHIRGATE_REFUSAL_HOLD_MS`, 0 = answer at once), with at most `maxHeld`
   * (`FHIRGATE_REFUSAL_HOLD_MAX`) held at a time.
   */
  readonly refusalHold: { readonly delayMs: number; readonly maxHeld: number };
  /**
   * Requests whose worst case is above `threshold` resources (`FHIRGATE_HEAVY_REQUEST_RESOURCES`)
   * run at most `concurrency` at a time per tenant (`FHIRGATE_HEAVY_CONCURRENCY`), with `queue`
   * more waiting (`FHIRGATE_HEAVY_QUEUE`); past that 503 `TENANT_BUSY`. Their work runs in
   * slices while no light request is in flight, a slice waiting at most `maxWaitMs`
   * (`FHIRGATE_HEAVY_MAX_WAIT_MS`), and take at most `sharePercent` of the event loop while
   * other requests are about (`FHIRGATE_HEAVY_SHARE`).
   */
  readonly heavyRequests: {
    readonly threshold: number;
    readonly concurrency: number;
    readonly queue: number;
    readonly maxWaitMs: number;
    readonly sharePercent: number;
  };
  readonly observability: {
    /** `FHIRGATE_METRICS`: serve `/metrics`. @default true */
    readonly metrics: boolean;
    /** `FHIRGATE_METRICS_PORT`: serve `/metrics` on this port (same host) instead of `PORT`. */
    readonly metricsPort: number | undefined;
    /** `FHIRGATE_METRICS_TOKEN`: scrapes must send `Authorization: Bearer <token>`. */
    readonly metricsToken: string | undefined;
    /** `FHIRGATE_READY_TIMEOUT_MS`: budget of the registry ping behind `/readyz`. @default 1000 */
    readonly readyTimeoutMs: number;
    /** `FHIRGATE_SHUTDOWN_DELAY_MS`: `/readyz` says 503 this long before the listener closes. @default 0 */
    readonly shutdownDelayMs: number;
    /** `FHIRGATE_SHUTDOWN_TIMEOUT_MS`: in-flight requests' budget once the listener closed. @default 10000 */
    readonly shutdownTimeoutMs: number;
  };
  readonly admin: {
    /** `FHIRGATE_PLATFORM_ADMIN_ROLE`: with `fhir-admin`, administers every tenant. @default 'fhirgate-platform-admin' */
    readonly platformAdminRole: string;
    /**
     * `FHIRGATE_PLATFORM_ADMIN_CLIENTS`: the operations clients (`azp`) whose tokens may carry
     * the platform-admin role; from any other client the role is ignored. @default none
     */
    readonly platformAdminClients: readonly string[];
    /** `REDIS_URL`: reloads reach every replica through Redis pub/sub; unset means TTL only. */
    readonly redisUrl: string | undefined;
    /** `FHIRGATE_RELOAD_CHANNEL` @default 'fhirgate:tenant-reload' */
    readonly reloadChannel: string;
    /** `FHIRGATE_RELOAD_COOLDOWN_MS`: one effective `reloadTenantConfig` per tenant per window. @default 10000 */
    readonly reloadCooldownMs: number;
  };
  readonly resilience: {
    readonly concurrency: number;
    readonly queue: number;
    readonly failureThreshold: number;
    readonly halfOpenAfterMs: number;
    readonly timeoutMs: number;
  };
  readonly audit: {
    /** `FHIRGATE_AUDIT_DATABASE_URL`: the audit store; unset means the registry database. */
    readonly databaseUrl: string | undefined;
    /** `FHIRGATE_AUDIT_SOURCE_ID`: the observer named in every AuditEvent. @default 'fhirgate' */
    readonly sourceId: string;
    /** `FHIRGATE_AUDIT_BATCH_MAX`: most events per INSERT. @default 100 */
    readonly batchMax: number;
    /** `FHIRGATE_AUDIT_BACKLOG`: events waiting at most; beyond, PHI reads get 503. @default 10000 */
    readonly backlog: number;
    /** `FHIRGATE_AUDIT_MAX_IN_FLIGHT`: INSERT batches written at the same time. @default 1 */
    readonly maxInFlight: number;
    /** `FHIRGATE_AUDIT_WRITE_TIMEOUT_MS`: budget of one INSERT. @default 5000 */
    readonly writeTimeoutMs: number;
    /**
     * `FHIRGATE_AUDIT_DENIAL_INTERVAL_MS`: anonymous denials are counted per client address over
     * this interval (one row for the first, one with the count of the rest). @default 60000
     */
    readonly denialIntervalMs: number;
    /** `FHIRGATE_MAX_DISTINCT_PATIENTS` / `_WINDOW_MS`: per-user enumeration limit; 0 is off. */
    readonly patientLimit: { readonly maxDistinctPatients: number; readonly windowMs: number };
  };
}

/** A bad environment: the message lists every problem, and never a value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates the environment once. Pure: tests pass their own `env`. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    // Name the variable and the rule, never the received value (it may be a key or a password).
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const demo = e.FHIRGATE_REGISTRY_URL === undefined;
  const problems: string[] = [];
  if (!demo) {
    if (e.FHIRGATE_OIDC_ISSUER === undefined) {
      problems.push('  FHIRGATE_OIDC_ISSUER: required when FHIRGATE_REGISTRY_URL is set');
    }
    if (e.FHIRGATE_ENCRYPTION_KEY === undefined) {
      problems.push(
        '  FHIRGATE_ENCRYPTION_KEY: required when FHIRGATE_REGISTRY_URL is set; make one with ' +
          '`openssl rand -base64 32` (32 random bytes in base64)',
      );
    }
  }
  if (e.FHIRGATE_DB_STATEMENT_LIMIT_MS >= e.FHIRGATE_DB_QUERY_TIMEOUT_MS) {
    problems.push(
      '  FHIRGATE_DB_STATEMENT_LIMIT_MS: must be below FHIRGATE_DB_QUERY_TIMEOUT_MS, so the server stops first',
    );
  }
  if (e.FHIRGATE_DEFAULT_COUNT > e.FHIRGATE_MAX_COUNT) {
    problems.push('  FHIRGATE_DEFAULT_COUNT: must not exceed FHIRGATE_MAX_COUNT');
  }
  const metricsPort = e.FHIRGATE_METRICS_PORT;
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === e.PORT) {
    problems.push('  FHIRGATE_METRICS_PORT: must differ from PORT');
  }
  if (problems.length > 0) {
    throw new ConfigError(`Invalid environment:\n${problems.join('\n')}`);
  }
  const issuer = e.FHIRGATE_OIDC_ISSUER;
  return Object.freeze({
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    keepAliveTimeoutMs: e.FHIRGATE_KEEP_ALIVE_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    dataDir: e.FHIRGATE_DATA_DIR,
    demo,
    registryUrl: e.FHIRGATE_REGISTRY_URL,
    registryTls: registryTlsFiles(e),
    dbTlsPolicy: e.FHIRGATE_DB_TLS_POLICY,
    encryption: Object.freeze({
      primaryKey: e.FHIRGATE_ENCRYPTION_KEY,
      primaryKeyId: e.FHIRGATE_ENCRYPTION_KEY_ID,
      oldKeys: e.FHIRGATE_ENCRYPTION_OLD_KEYS,
    }),
    oidc: Object.freeze({
      issuer,
      jwksUrl:
        e.FHIRGATE_OIDC_JWKS_URL ??
        (issuer === undefined ? undefined : `${issuer}/protocol/openid-connect/certs`),
      audience: e.FHIRGATE_OIDC_AUDIENCE,
      algorithms: Object.freeze([...e.FHIRGATE_OIDC_ALGORITHMS]),
      clockToleranceSec: e.FHIRGATE_OIDC_CLOCK_TOLERANCE_S,
      maxTokenAge: e.FHIRGATE_OIDC_MAX_TOKEN_AGE,
      tenantClaim: e.FHIRGATE_TENANT_CLAIM,
      roleSource: e.FHIRGATE_ROLE_SOURCE,
    }),
    graphql: Object.freeze({
      resourceTypes: Object.freeze([...e.FHIRGATE_RESOURCE_TYPES]),
      maxCount: e.FHIRGATE_MAX_COUNT,
      defaultCount: e.FHIRGATE_DEFAULT_COUNT,
      maxResourcesPerRequest: e.FHIRGATE_MAX_RESOURCES_PER_REQUEST,
      maxResponseBytes: e.FHIRGATE_MAX_RESPONSE_BYTES,
      graphiql: e.FHIRGATE_GRAPHIQL,
      corsOrigins: Object.freeze([...e.FHIRGATE_CORS_ORIGINS]),
    }),
    fhir: Object.freeze({ base: e.FHIRGATE_FHIR_BASE, publicBaseUrl: e.FHIRGATE_PUBLIC_BASE_URL }),
    trustedProxies: Object.freeze([...e.FHIRGATE_TRUSTED_PROXIES]),
    tenancy: Object.freeze({
      configTtlMs: e.FHIRGATE_CONFIG_TTL_MS,
      configMaxStaleMs: e.FHIRGATE_CONFIG_MAX_STALE_MS,
      maxTenantPools: e.FHIRGATE_POOL_MAX_TENANTS,
      poolIdleEvictMs: e.FHIRGATE_POOL_IDLE_EVICT_MS,
      maxTotalConnections: e.FHIRGATE_POOL_MAX_CONNECTIONS,
      connectionsPerTenant: e.FHIRGATE_POOL_TENANT_CONNECTIONS,
      queueLimit: e.FHIRGATE_POOL_QUEUE_LIMIT,
      connectionIdleMs: e.FHIRGATE_POOL_CONNECTION_IDLE_MS,
      validateAfterIdleMs: e.FHIRGATE_POOL_VALIDATE_AFTER_MS,
      connectTimeoutMs: e.FHIRGATE_DB_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: e.FHIRGATE_DB_QUERY_TIMEOUT_MS,
      statementTimeLimitMs: e.FHIRGATE_DB_STATEMENT_LIMIT_MS,
    }),
    rateLimits: Object.freeze({
      user: Object.freeze({
        perSecond: e.FHIRGATE_RATE_USER_PER_S,
        burst: e.FHIRGATE_RATE_USER_BURST,
      }),
      tenant: Object.freeze({
        perSecond: e.FHIRGATE_RATE_TENANT_PER_S,
        burst: e.FHIRGATE_RATE_TENANT_BURST,
      }),
    }),
    authFailureLimit: Object.freeze({
      perSecond: e.FHIRGATE_AUTH_FAILURES_PER_S,
      burst: e.FHIRGATE_AUTH_FAILURES_BURST,
    }),
    refusalHold: Object.freeze({
      delayMs: e.FHIRGATE_REFUSAL_HOLD_MS,
      maxHeld: e.FHIRGATE_REFUSAL_HOLD_MAX,
    }),
    heavyRequests: Object.freeze({
      threshold: e.FHIRGATE_HEAVY_REQUEST_RESOURCES,
      concurrency: e.FHIRGATE_HEAVY_CONCURRENCY,
      queue: e.FHIRGATE_HEAVY_QUEUE,
      maxWaitMs: e.FHIRGATE_HEAVY_MAX_WAIT_MS,
      sharePercent: e.FHIRGATE_HEAVY_SHARE,
    }),
    observability: Object.freeze({
      metrics: e.FHIRGATE_METRICS,
      metricsPort: e.FHIRGATE_METRICS_PORT,
      metricsToken: e.FHIRGATE_METRICS_TOKEN,
      readyTimeoutMs: e.FHIRGATE_READY_TIMEOUT_MS,
      shutdownDelayMs: e.FHIRGATE_SHUTDOWN_DELAY_MS,
      shutdownTimeoutMs: e.FHIRGATE_SHUTDOWN_TIMEOUT_MS,
    }),
    admin: Object.freeze({
      platformAdminRole: e.FHIRGATE_PLATFORM_ADMIN_ROLE,
      platformAdminClients: Object.freeze([...e.FHIRGATE_PLATFORM_ADMIN_CLIENTS]),
      redisUrl: e.REDIS_URL,
      reloadChannel: e.FHIRGATE_RELOAD_CHANNEL,
      reloadCooldownMs: e.FHIRGATE_RELOAD_COOLDOWN_MS,
    }),
    resilience: Object.freeze({
      concurrency: e.FHIRGATE_TENANT_CONCURRENCY,
      queue: e.FHIRGATE_TENANT_QUEUE,
      failureThreshold: e.FHIRGATE_BREAKER_THRESHOLD,
      halfOpenAfterMs: e.FHIRGATE_BREAKER_HALF_OPEN_MS,
      timeoutMs: e.FHIRGATE_DB_QUERY_TIMEOUT_MS,
    }),
    audit: Object.freeze({
      databaseUrl: e.FHIRGATE_AUDIT_DATABASE_URL,
      sourceId: e.FHIRGATE_AUDIT_SOURCE_ID,
      batchMax: e.FHIRGATE_AUDIT_BATCH_MAX,
      backlog: e.FHIRGATE_AUDIT_BACKLOG,
      maxInFlight: e.FHIRGATE_AUDIT_MAX_IN_FLIGHT,
      writeTimeoutMs: e.FHIRGATE_AUDIT_WRITE_TIMEOUT_MS,
      denialIntervalMs: e.FHIRGATE_AUDIT_DENIAL_INTERVAL_MS,
      patientLimit: Object.freeze({
        maxDistinctPatients: e.FHIRGATE_MAX_DISTINCT_PATIENTS,
        windowMs: e.FHIRGATE_DISTINCT_PATIENTS_WINDOW_MS,
      }),
    }),
  });
}

/**
 * `FHIRGATE_REGISTRY_TLS_MODE` (default: `verify-full` unless the registry is on this machine),
 * `FHIRGATE_REGISTRY_TLS_CA_FILE`, `_CERT_FILE`, `_KEY_FILE` (PEM files, read at start) and
 * `FHIRGATE_REGISTRY_TLS_MIN_VERSION` (`TLSv1.2`).
 */
export interface RegistryTlsFiles {
  readonly mode: TlsMode | undefined;
  readonly caFile: string | undefined;
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  readonly minVersion: TlsVersion | undefined;
}

function registryTlsFiles(e: {
  FHIRGATE_REGISTRY_TLS_MODE?: TlsMode | undefined;
  FHIRGATE_REGISTRY_TLS_CA_FILE?: string | undefined;
  FHIRGATE_REGISTRY_TLS_CERT_FILE?: string | undefined;
  FHIRGATE_REGISTRY_TLS_KEY_FILE?: string | undefined;
  FHIRGATE_REGISTRY_TLS_MIN_VERSION?: TlsVersion | undefined;
}): RegistryTlsFiles {
  return Object.freeze({
    mode: e.FHIRGATE_REGISTRY_TLS_MODE,
    caFile: e.FHIRGATE_REGISTRY_TLS_CA_FILE,
    certFile: e.FHIRGATE_REGISTRY_TLS_CERT_FILE,
    keyFile: e.FHIRGATE_REGISTRY_TLS_KEY_FILE,
    minVersion: e.FHIRGATE_REGISTRY_TLS_MIN_VERSION,
  });
}

const CliTlsSchema = z.object({
  FHIRGATE_DB_TLS_POLICY: z.enum(TLS_POLICIES).default('allow-plain'),
  FHIRGATE_REGISTRY_TLS_MODE: z.enum(TLS_MODES).optional(),
  FHIRGATE_REGISTRY_TLS_CA_FILE: z.string().min(1).optional(),
  FHIRGATE_REGISTRY_TLS_CERT_FILE: z.string().min(1).optional(),
  FHIRGATE_REGISTRY_TLS_KEY_FILE: z.string().min(1).optional(),
  FHIRGATE_REGISTRY_TLS_MIN_VERSION: z.enum(TLS_VERSIONS).optional(),
});

/** The settings the operator CLI needs: the registry and the keyring, nothing else. */
export interface CliConfig {
  /** `FHIRGATE_REGISTRY_URL` */
  readonly registryUrl: string | undefined;
  /** `FHIRGATE_REGISTRY_TLS_*` */
  readonly registryTls: RegistryTlsFiles;
  /** `FHIRGATE_DB_TLS_POLICY` @default 'allow-plain' */
  readonly dbTlsPolicy: TlsPolicy;
  /** `FHIRGATE_ENCRYPTION_KEY`, `FHIRGATE_ENCRYPTION_KEY_ID`, `FHIRGATE_ENCRYPTION_OLD_KEYS` */
  readonly encryption: Config['encryption'];
  /** `FHIRGATE_AUDIT_DATABASE_URL`: where CLI actions are audited; default the registry. */
  readonly auditDatabaseUrl: string | undefined;
  /** `FHIRGATE_AUDIT_SOURCE_ID` @default 'fhirgate' */
  readonly auditSourceId: string;
  /** `REDIS_URL`: `tenant disable` publishes a reload to the running gateways. */
  readonly redisUrl: string | undefined;
  /** `FHIRGATE_RELOAD_CHANNEL` @default 'fhirgate:tenant-reload' */
  readonly reloadChannel: string;
}

/**
 * The CLI's settings. Unlike {@link loadConfig} it needs no OIDC settings; values are checked
 * where they are used (the URL by our parser, the keys by `parseKeyring`).
 */
export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
  const tls = CliTlsSchema.safeParse(
    Object.fromEntries(Object.keys(CliTlsSchema.shape).map((name) => [name, nonEmpty(env[name])])),
  );
  if (!tls.success) {
    // Names the variable and the rule, never the value.
    const lines = tls.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  return Object.freeze({
    registryUrl: nonEmpty(env['FHIRGATE_REGISTRY_URL']),
    registryTls: registryTlsFiles(tls.data),
    dbTlsPolicy: tls.data.FHIRGATE_DB_TLS_POLICY,
    encryption: Object.freeze({
      primaryKey: nonEmpty(env['FHIRGATE_ENCRYPTION_KEY']),
      primaryKeyId: nonEmpty(env['FHIRGATE_ENCRYPTION_KEY_ID']) ?? 'k1',
      oldKeys: nonEmpty(env['FHIRGATE_ENCRYPTION_OLD_KEYS']),
    }),
    auditDatabaseUrl: nonEmpty(env['FHIRGATE_AUDIT_DATABASE_URL']),
    auditSourceId: nonEmpty(env['FHIRGATE_AUDIT_SOURCE_ID']) ?? 'fhirgate',
    redisUrl: nonEmpty(env['REDIS_URL']),
    reloadChannel: nonEmpty(env['FHIRGATE_RELOAD_CHANNEL']) ?? 'fhirgate:tenant-reload',
  });
}
