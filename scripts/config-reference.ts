/**
 * Writes docs/configuration.md from the environment schema in src/config.ts: every variable with
 * its default and accepted values taken from the schema, and its meaning from {@link MEANINGS}.
 * `npm run docs:config` rewrites the file; test/unit/config/configuration-doc.test.ts fails when
 * the checked-in file differs, and the `Record<EnvName, ...>` type fails the build when a new
 * variable has no entry here.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { type Env, EnvSchema } from '../src/config.js';

type EnvName = keyof Env;

interface Meaning {
  /** The section the variable is listed under. */
  readonly group: Group;
  readonly meaning: string;
  /** What to show when the variable has no default (it is unset, or required in some cases). */
  readonly unset?: string;
}

const GROUPS = [
  'Server',
  'Registry and sealed database URLs',
  'Tokens (OIDC)',
  'GraphQL and REST',
  'Tenant configuration cache',
  'Connection pools and statements',
  'Isolation between tenants',
  'Administration and reloads',
  'Observability and shutdown',
  'Audit',
] as const;
type Group = (typeof GROUPS)[number];

export const MEANINGS: Readonly<Record<EnvName, Meaning>> = {
  NODE_ENV: {
    group: 'Server',
    meaning: '`development` changes nothing about error masking (pinned off)',
  },
  PORT: { group: 'Server', meaning: 'HTTP port (GraphQL, GraphiQL, health)' },
  HOST: { group: 'Server', meaning: 'listen address (`0.0.0.0` in containers)' },
  FHIRGATE_KEEP_ALIVE_TIMEOUT_MS: {
    group: 'Server',
    meaning:
      "how long an idle client connection stays open; keep it above the idle timeout of the proxy in front (60 s for an AWS ALB or nginx), or the gateway may close a connection just as the proxy reuses it (sporadic 502s); Node's own default is 5 s",
  },
  LOG_LEVEL: { group: 'Server', meaning: 'pino log level' },
  FHIRGATE_DATA_DIR: {
    group: 'Server',
    meaning:
      'demo state: SQLite files, the demo issuer key and the demo encryption key (see `src/demo/README.md`)',
  },
  FHIRGATE_REGISTRY_URL: {
    group: 'Registry and sealed database URLs',
    unset: 'unset: the embedded demo',
    meaning:
      'registry database: `mysql://user:pass@host:3306/db`, `mariadb://...` or `sqlite:/path/registry.db`; never logged',
  },
  FHIRGATE_ENCRYPTION_KEY: {
    group: 'Registry and sealed database URLs',
    unset: 'required outside the demo',
    meaning:
      '32 random bytes in base64 (`openssl rand -base64 32`): seals and opens tenant database URLs',
  },
  FHIRGATE_ENCRYPTION_KEY_ID: {
    group: 'Registry and sealed database URLs',
    meaning: 'key id written into new sealed values',
  },
  FHIRGATE_ENCRYPTION_OLD_KEYS: {
    group: 'Registry and sealed database URLs',
    unset: 'unset',
    meaning: 'decrypt-only keys during a rotation, `kid:base64,kid:base64`',
  },
  FHIRGATE_DB_TLS_POLICY: {
    group: 'Registry and sealed database URLs',
    meaning:
      'deployment-wide TLS rule for tenant and registry connections: `allow-plain`, `require-tls` (refuses `disable`) or `require-verified` (also refuses `require`); see docs/tenants.md',
  },
  FHIRGATE_REGISTRY_TLS_MODE: {
    group: 'Registry and sealed database URLs',
    unset: '`verify-full`, or `disable` for a registry on this machine',
    meaning: 'TLS to the registry and the audit database',
  },
  FHIRGATE_REGISTRY_TLS_CA_FILE: {
    group: 'Registry and sealed database URLs',
    unset: 'unset',
    meaning: "PEM file of the CA that signed the registry's certificate (read at start)",
  },
  FHIRGATE_REGISTRY_TLS_CERT_FILE: {
    group: 'Registry and sealed database URLs',
    unset: 'unset',
    meaning: 'PEM client certificate for the registry',
  },
  FHIRGATE_REGISTRY_TLS_KEY_FILE: {
    group: 'Registry and sealed database URLs',
    unset: 'unset',
    meaning: 'PEM key of that client certificate',
  },
  FHIRGATE_REGISTRY_TLS_MIN_VERSION: {
    group: 'Registry and sealed database URLs',
    unset: '`TLSv1.2`',
    meaning: 'lowest TLS version accepted from the registry',
  },
  FHIRGATE_OIDC_ISSUER: {
    group: 'Tokens (OIDC)',
    unset: 'required outside the demo',
    meaning: 'exact `iss`, e.g. `https://sso.example.org/realms/hospitals`',
  },
  FHIRGATE_OIDC_JWKS_URL: {
    group: 'Tokens (OIDC)',
    unset: '`<issuer>/protocol/openid-connect/certs`',
    meaning: "where the realm's keys are fetched (never taken from a token)",
  },
  FHIRGATE_OIDC_AUDIENCE: { group: 'Tokens (OIDC)', meaning: 'required `aud`' },
  FHIRGATE_OIDC_ALGORITHMS: {
    group: 'Tokens (OIDC)',
    meaning: 'comma-separated allowlist of asymmetric JWS algorithms',
  },
  FHIRGATE_OIDC_CLOCK_TOLERANCE_S: {
    group: 'Tokens (OIDC)',
    meaning: 'leeway in seconds for `exp`, `nbf`, `iat`',
  },
  FHIRGATE_OIDC_MAX_TOKEN_AGE: {
    group: 'Tokens (OIDC)',
    meaning: 'oldest accepted `iat` (`s`, `m`, `h`)',
  },
  FHIRGATE_TENANT_CLAIM: {
    group: 'Tokens (OIDC)',
    meaning: 'claim that names the tenant; must equal `azp`',
  },
  FHIRGATE_ROLE_SOURCE: {
    group: 'Tokens (OIDC)',
    meaning:
      '`client` (`resource_access[<client>].roles`) or `realm` (`realm_access.roles`, realm-wide; see docs/security.md)',
  },
  FHIRGATE_RESOURCE_TYPES: {
    group: 'GraphQL and REST',
    meaning:
      'resource types in the schema, comma-separated; a tenant maps a subset and answers `RESOURCE_NOT_SUPPORTED` for the rest',
  },
  FHIRGATE_FHIR_BASE: {
    group: 'GraphQL and REST',
    meaning: 'the path of the FHIR R4 REST API (for example `/api/fhir/r4`); see docs/api.md',
  },
  FHIRGATE_PUBLIC_BASE_URL: {
    group: 'GraphQL and REST',
    unset: 'unset: from each request',
    meaning:
      'the absolute http(s) URL clients reach the gateway at behind a proxy or ingress (for example `https://fhir.example.org` or `https://api.example.org/hospital`; no query, no fragment): Bundle `fullUrl`s, paging links, `Location`, the CapabilityStatement `implementation.url` and SMART discovery are written under it, followed by the FHIR base; see docs/operations.md',
  },
  FHIRGATE_MAX_COUNT: { group: 'GraphQL and REST', meaning: 'largest `_count`' },
  FHIRGATE_DEFAULT_COUNT: { group: 'GraphQL and REST', meaning: '`_count` when none is given' },
  FHIRGATE_MAX_RESOURCES_PER_REQUEST: {
    group: 'GraphQL and REST',
    meaning:
      'the most resources one operation may return in the worst case (a list or connection multiplies what is below it by its `_count`); above it the operation is refused before any statement with 400 `QUERY_TOO_COSTLY`',
  },
  FHIRGATE_MAX_RESPONSE_BYTES: {
    group: 'GraphQL and REST',
    meaning:
      'the most bytes of JSON one answer may be, counted while it is written (answers are also capped at `FHIRGATE_MAX_RESOURCES_PER_REQUEST` resources built); past either cap the request ends with 400 `RESPONSE_TOO_LARGE` and no data. See docs/security.md',
  },
  FHIRGATE_CORS_ORIGINS: {
    group: 'GraphQL and REST',
    unset: 'unset: CORS closed',
    meaning:
      'comma-separated browser origins (scheme, host, optional port; no path, no `*`) allowed to call `/graphql` cross-origin, with `Authorization` and without credentials',
  },
  FHIRGATE_GRAPHIQL: {
    group: 'GraphQL and REST',
    meaning:
      'serve GraphiQL to browsers at `/graphql` (its files come from the gateway; it holds no data, every operation needs a token)',
  },
  FHIRGATE_CONFIG_TTL_MS: {
    group: 'Tenant configuration cache',
    meaning: "how long a tenant's registry entry and mapping are cached",
  },
  FHIRGATE_CONFIG_MAX_STALE_MS: {
    group: 'Tenant configuration cache',
    meaning:
      'while the registry cannot be read, how long after its last good read a tenant keeps being served (with a warning per tenant at most once a minute); after a failed read none is tried for 5 s; past it the tenant fails closed with 503 `REGISTRY_UNAVAILABLE`',
  },
  FHIRGATE_POOL_MAX_TENANTS: {
    group: 'Connection pools and statements',
    meaning: 'tenant pools kept at once',
  },
  FHIRGATE_POOL_IDLE_EVICT_MS: {
    group: 'Connection pools and statements',
    meaning: 'an unused pool is closed after this long',
  },
  FHIRGATE_POOL_MAX_CONNECTIONS: {
    group: 'Connection pools and statements',
    meaning: 'open connections summed over all tenants',
  },
  FHIRGATE_POOL_TENANT_CONNECTIONS: {
    group: 'Connection pools and statements',
    meaning: 'connections per tenant',
  },
  FHIRGATE_POOL_QUEUE_LIMIT: {
    group: 'Connection pools and statements',
    meaning: 'statements waiting per tenant',
  },
  FHIRGATE_POOL_CONNECTION_IDLE_MS: {
    group: 'Connection pools and statements',
    meaning: 'idle connections close after this long',
  },
  FHIRGATE_POOL_VALIDATE_AFTER_MS: {
    group: 'Connection pools and statements',
    meaning: 'idle connections older than this are pinged before use',
  },
  FHIRGATE_DB_CONNECT_TIMEOUT_MS: {
    group: 'Connection pools and statements',
    meaning: 'handshake budget',
  },
  FHIRGATE_DB_QUERY_TIMEOUT_MS: {
    group: 'Connection pools and statements',
    meaning:
      "statement budget (cockatiel timeout and the driver's own); the connection is destroyed when it fires",
  },
  FHIRGATE_DB_STATEMENT_LIMIT_MS: {
    group: 'Connection pools and statements',
    meaning:
      'server-side limit per statement (MariaDB `max_statement_time`, MySQL `max_execution_time`, PostgreSQL `statement_timeout`); must be below the statement budget',
  },
  FHIRGATE_TENANT_CONCURRENCY: {
    group: 'Isolation between tenants',
    meaning: 'statements one tenant may run at once (bulkhead)',
  },
  FHIRGATE_TENANT_QUEUE: {
    group: 'Isolation between tenants',
    meaning: 'statements one tenant may queue; more get `TENANT_BUSY` with `Retry-After` at once',
  },
  FHIRGATE_BREAKER_THRESHOLD: {
    group: 'Isolation between tenants',
    meaning: "consecutive infrastructure failures that open a tenant's breaker",
  },
  FHIRGATE_BREAKER_HALF_OPEN_MS: {
    group: 'Isolation between tenants',
    meaning: 'how long an open breaker waits before one probe',
  },
  FHIRGATE_AUTH_FAILURES_PER_S: {
    group: 'Isolation between tenants',
    meaning:
      'failed token checks per client address and second; past them (and the burst) the address gets 429 `RATE_LIMITED` before its tokens are verified. The address is the TCP peer, or the forwarded client when the peer is one of `FHIRGATE_TRUSTED_PROXIES`',
  },
  FHIRGATE_TRUSTED_PROXIES: {
    group: 'Isolation between tenants',
    unset: 'unset: none (the TCP peer is the client)',
    meaning:
      'comma-separated addresses and CIDR ranges of your proxies (for example `10.0.0.0/8,fd00::/8`): for a request from one of them, the right-most `X-Forwarded-For` hop that is not a trusted proxy is the client address of per-address limits and denial audit rows; from anyone else the header is ignored. See docs/security.md',
  },
  FHIRGATE_AUTH_FAILURES_BURST: {
    group: 'Isolation between tenants',
    meaning: 'failed token checks an address may make at once above that rate',
  },
  FHIRGATE_RATE_USER_PER_S: {
    group: 'Isolation between tenants',
    meaning:
      'token bucket refill per user (`iss` + `sub`); beyond it 429 `RATE_LIMITED` with `Retry-After`; `0` turns it off',
  },
  FHIRGATE_RATE_USER_BURST: {
    group: 'Isolation between tenants',
    meaning: 'token bucket size per user',
  },
  FHIRGATE_RATE_TENANT_PER_S: {
    group: 'Isolation between tenants',
    meaning: 'token bucket refill per tenant (client id); `0` turns it off',
  },
  FHIRGATE_RATE_TENANT_BURST: {
    group: 'Isolation between tenants',
    meaning: 'token bucket size per tenant',
  },
  FHIRGATE_HEAVY_REQUEST_RESOURCES: {
    group: 'Isolation between tenants',
    meaning:
      "a request whose worst case is above this many resources (as `FHIRGATE_MAX_RESOURCES_PER_REQUEST` counts it, for GraphQL and REST) is heavy: it waits for a slot of its tenant's heavy-request bulkhead before it runs",
  },
  FHIRGATE_HEAVY_CONCURRENCY: {
    group: 'Isolation between tenants',
    meaning: 'heavy requests of one tenant running at once (per gateway process)',
  },
  FHIRGATE_HEAVY_QUEUE: {
    group: 'Isolation between tenants',
    meaning:
      'heavy requests of one tenant waiting for a slot; past them 503 `TENANT_BUSY` with `Retry-After: 1` (held like other refusals)',
  },
  FHIRGATE_HEAVY_MAX_WAIT_MS: {
    group: 'Isolation between tenants',
    meaning:
      'the longest a slice of heavy work waits while light requests are in flight (light requests first; heavy work still gets a slice at least this often), and the longest pause after a slice',
  },
  FHIRGATE_HEAVY_SHARE: {
    group: 'Isolation between tenants',
    meaning:
      "percent of the event loop heavy work may take while other requests are about (one in flight or one ended within FHIRGATE_HEAVY_MAX_WAIT_MS), the garbage collector's pauses between its slices included; alone, heavy work runs at full speed",
  },
  FHIRGATE_REFUSAL_HOLD_MS: {
    group: 'Isolation between tenants',
    meaning:
      '429 and 503 `TENANT_BUSY`/`TENANT_UNAVAILABLE` answers are held for a random half to all of their `Retry-After`, at most this long, so a client that re-sends at once cannot loop on refusals; `0` answers at once',
  },
  FHIRGATE_REFUSAL_HOLD_MAX: {
    group: 'Isolation between tenants',
    meaning: 'refusals held at the same time, at most; past it they are answered at once',
  },
  FHIRGATE_METRICS: {
    group: 'Observability and shutdown',
    meaning: 'serve Prometheus metrics at `/metrics`',
  },
  FHIRGATE_METRICS_PORT: {
    group: 'Observability and shutdown',
    unset: 'unset: the same port as GraphQL',
    meaning: 'serve `/metrics` on this port of `HOST` instead, and not on `PORT`',
  },
  FHIRGATE_METRICS_TOKEN: {
    group: 'Observability and shutdown',
    unset: 'unset: no token',
    meaning: 'scrapes must send `Authorization: Bearer <token>`',
  },
  FHIRGATE_READY_TIMEOUT_MS: {
    group: 'Observability and shutdown',
    meaning: 'budget of the registry ping behind `/readyz`',
  },
  FHIRGATE_SHUTDOWN_DELAY_MS: {
    group: 'Observability and shutdown',
    meaning:
      'after SIGTERM, `/readyz` answers 503 this long while requests are still accepted, before the listener closes',
  },
  FHIRGATE_SHUTDOWN_TIMEOUT_MS: {
    group: 'Observability and shutdown',
    meaning:
      'once the listener is closed, in-flight requests get this long; then their connections are cut and the exit code is 1',
  },
  REDIS_URL: {
    group: 'Administration and reloads',
    unset: 'unset: reloads stay on the replica; others follow within `FHIRGATE_CONFIG_TTL_MS`',
    meaning:
      '`redis://[:password@]host:port[/db]` or `rediss://...`: admin reloads reach every replica through Redis pub/sub; never logged',
  },
  FHIRGATE_RELOAD_CHANNEL: {
    group: 'Administration and reloads',
    meaning:
      'the pub/sub channel; replicas of one deployment share it, deployments sharing a Redis use different ones',
  },
  FHIRGATE_RELOAD_COOLDOWN_MS: {
    group: 'Administration and reloads',
    meaning:
      'one effective `reloadTenantConfig` or `activateTenantMapping` (not dry runs) per tenant (per replica) in this window; the others get 429 `RATE_LIMITED` and are audited',
  },
  FHIRGATE_PLATFORM_ADMIN_CLIENTS: {
    group: 'Administration and reloads',
    unset: 'unset: nobody is a platform admin',
    meaning:
      'comma-separated client ids (`azp`) of the operations clients whose tokens may carry the platform-admin role; from any other client that role is ignored',
  },
  FHIRGATE_PLATFORM_ADMIN_ROLE: {
    group: 'Administration and reloads',
    meaning:
      "role that lets a `fhir-admin` administer every tenant, not only the token's own (read like the other roles, see `FHIRGATE_ROLE_SOURCE`)",
  },
  FHIRGATE_AUDIT_DATABASE_URL: {
    group: 'Audit',
    unset: 'unset: the registry database',
    meaning:
      'audit store: `mysql://`, `mariadb://` or `sqlite:`; the `fhirgate_audit_events` table of `schema/registry.sql`',
  },
  FHIRGATE_AUDIT_SOURCE_ID: {
    group: 'Audit',
    meaning: 'the observer named in every AuditEvent (`source.observer`)',
  },
  FHIRGATE_AUDIT_BATCH_MAX: {
    group: 'Audit',
    meaning: 'most audit events per INSERT (group commit)',
  },
  FHIRGATE_AUDIT_BACKLOG: {
    group: 'Audit',
    meaning: 'audit events waiting at most; beyond it PHI reads get `AUDIT_UNAVAILABLE` at once',
  },
  FHIRGATE_AUDIT_MAX_IN_FLIGHT: {
    group: 'Audit',
    meaning:
      'audit INSERT batches written at the same time, each on its own connection; raise it (4) when the audit database is remote (see docs/audit.md)',
  },
  FHIRGATE_AUDIT_WRITE_TIMEOUT_MS: {
    group: 'Audit',
    meaning:
      'budget of one audit INSERT; a write that fails or times out fails its requests with `AUDIT_UNAVAILABLE`',
  },
  FHIRGATE_AUDIT_DENIAL_INTERVAL_MS: {
    group: 'Audit',
    meaning:
      'anonymous denials (no verified token) are counted per client address over this interval: the first gets an audit row of its own, the rest one row with their count at its end',
  },
  FHIRGATE_MAX_DISTINCT_PATIENTS: {
    group: 'Audit',
    meaning:
      'distinct patients one user may read per window on a replica; beyond, 429 `RATE_LIMITED`, no data, a security alert in the log; `0` turns it off',
  },
  FHIRGATE_DISTINCT_PATIENTS_WINDOW_MS: {
    group: 'Audit',
    meaning: 'the window of that limit',
  },
};

interface JsonProperty {
  readonly type?: string;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly format?: string;
}

function shownDefault(value: unknown): string | undefined {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) {
    return undefined;
  }
  return `\`${Array.isArray(value) ? value.join(',') : String(value)}\``;
}

function accepted(property: JsonProperty | undefined): string {
  if (property === undefined) {
    return '';
  }
  if (property.enum !== undefined) {
    return property.enum.map((v) => `\`${v}\``).join(' ');
  }
  const parts: string[] = [];
  if (property.type === 'integer' || property.type === 'number') {
    const unit = property.type === 'integer' ? 'integer' : 'number';
    const max =
      property.maximum !== undefined && property.maximum < Number.MAX_SAFE_INTEGER
        ? property.maximum
        : undefined;
    parts.push(
      max === undefined
        ? `${unit} ≥ ${property.minimum ?? 0}`
        : `${unit} ${property.minimum ?? 0}–${max}`,
    );
  } else if (property.format === 'uri') {
    parts.push('URL');
  } else if (property.maxLength !== undefined) {
    parts.push(`${property.minLength ?? 0}–${property.maxLength} characters`);
  } else if (property.minLength !== undefined && property.minLength > 0) {
    parts.push('non-empty');
  }
  return parts.join(', ');
}

/** The whole of docs/configuration.md. */
export function renderConfigurationDoc(): string {
  const defaults = EnvSchema.parse({}) as Record<string, unknown>;
  const schema = z.toJSONSchema(EnvSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, JsonProperty>;
  };
  const names = Object.keys(EnvSchema.shape) as EnvName[];
  const out: string[] = [
    '# Configuration',
    '',
    '<!-- Generated by `npm run docs:config` from the schema in src/config.ts; do not edit. -->',
    '',
    'fhirgate reads its settings from the environment, in one place (`src/config.ts`). A bad value',
    'stops the process at boot with every problem listed: the variable and the rule, never the value.',
    'With `FHIRGATE_REGISTRY_URL` unset, fhirgate runs the embedded demo and needs nothing else.',
    'Durations are in milliseconds unless the name ends in `_S`.',
    '',
  ];
  for (const group of GROUPS) {
    out.push(
      `## ${group}`,
      '',
      '| variable | default | accepted | meaning |',
      '| --- | --- | --- | --- |',
    );
    for (const name of names) {
      const doc = MEANINGS[name];
      if (doc.group !== group) {
        continue;
      }
      const shown = shownDefault(defaults[name]) ?? doc.unset ?? 'unset';
      out.push(
        `| \`${name}\` | ${shown} | ${accepted(schema.properties[name])} | ${doc.meaning} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

export const CONFIGURATION_DOC = fileURLToPath(
  new URL('../docs/configuration.md', import.meta.url),
);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIGURATION_DOC, renderConfigurationDoc());
}
