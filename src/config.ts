import { z } from 'zod';

/**
 * The only reader of `process.env`. Every setting, its default and its validation live in
 * {@link EnvSchema}; the README's configuration reference lists the same names and defaults.
 */

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const positiveInt = (min = 1) => z.coerce.number().int().min(min);

/** Durations in milliseconds. */
const ms = (min = 0) => z.coerce.number().int().min(min);

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
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
  FHIRGATE_GRAPHIQL: bool.default(true),

  FHIRGATE_CONFIG_TTL_MS: ms(1000).default(300_000),
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
  FHIRGATE_TENANT_CONCURRENCY: positiveInt().max(1000).default(10),
  FHIRGATE_TENANT_QUEUE: positiveInt(0).max(10_000).default(20),
  FHIRGATE_BREAKER_THRESHOLD: positiveInt().max(1000).default(5),
  FHIRGATE_BREAKER_HALF_OPEN_MS: ms(100).default(10_000),
  FHIRGATE_RATE_USER_PER_S: z.coerce.number().min(0).default(50),
  FHIRGATE_RATE_USER_BURST: positiveInt().default(100),
  FHIRGATE_RATE_TENANT_PER_S: z.coerce.number().min(0).default(500),
  FHIRGATE_RATE_TENANT_BURST: positiveInt().default(1000),
});

export type Env = z.input<typeof EnvSchema>;

/** Validated, frozen settings. Field docs give the environment variable they come from. */
export interface Config {
  readonly nodeEnv: 'development' | 'production' | 'test';
  /** `PORT` @default 4000 */
  readonly port: number;
  /** `HOST` @default '127.0.0.1' */
  readonly host: string;
  /** `LOG_LEVEL` @default 'info' */
  readonly logLevel: string;
  /** `FHIRGATE_DATA_DIR`: demo state (SQLite files, demo issuer key). @default '.fhirgate' */
  readonly dataDir: string;
  /** Demo mode: `FHIRGATE_REGISTRY_URL` is not set. */
  readonly demo: boolean;
  /** `FHIRGATE_REGISTRY_URL`: the control-plane database (mysql://, mariadb:// or sqlite:). */
  readonly registryUrl: string | undefined;
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
    readonly graphiql: boolean;
  };
  readonly tenancy: {
    readonly configTtlMs: number;
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
  readonly resilience: {
    readonly concurrency: number;
    readonly queue: number;
    readonly failureThreshold: number;
    readonly halfOpenAfterMs: number;
    readonly timeoutMs: number;
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
      problems.push('  FHIRGATE_ENCRYPTION_KEY: required when FHIRGATE_REGISTRY_URL is set');
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
  if (problems.length > 0) {
    throw new ConfigError(`Invalid environment:\n${problems.join('\n')}`);
  }
  const issuer = e.FHIRGATE_OIDC_ISSUER;
  return Object.freeze({
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    dataDir: e.FHIRGATE_DATA_DIR,
    demo,
    registryUrl: e.FHIRGATE_REGISTRY_URL,
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
      graphiql: e.FHIRGATE_GRAPHIQL,
    }),
    tenancy: Object.freeze({
      configTtlMs: e.FHIRGATE_CONFIG_TTL_MS,
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
    resilience: Object.freeze({
      concurrency: e.FHIRGATE_TENANT_CONCURRENCY,
      queue: e.FHIRGATE_TENANT_QUEUE,
      failureThreshold: e.FHIRGATE_BREAKER_THRESHOLD,
      halfOpenAfterMs: e.FHIRGATE_BREAKER_HALF_OPEN_MS,
      timeoutMs: e.FHIRGATE_DB_QUERY_TIMEOUT_MS,
    }),
  });
}
