import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdministration } from './admin/create-administration.js';
import { createAuditTrail } from './audit/audit-trail.js';
import { createSqlAuditStore } from './audit/sql-audit-store.js';
import { createAccessTokenVerifier } from './auth/verify-access-token.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { DatabaseError } from './db/tenant-database.js';
import { demoGraphiQLOptions } from './demo/demo-graphiql.js';
import { DEMO_ISSUER, DEMO_JWKS_PATH } from './demo/demo-issuer.js';
import { DemoSetupError } from './demo/demo-setup-error.js';
import { prepareDemo } from './demo/prepare-demo.js';
import { loadDefinitions } from './fhir/definitions.js';
import { createGateway, GRAPHQL_ENDPOINT, type Route } from './gateway.js';
import { buildGatewaySchema } from './graphql/schema.js';
import { createLogger } from './logger.js';
import { createGatewayMetrics } from './observability/metrics.js';
import { createMetricsServer } from './observability/metrics-server.js';
import { createReadiness } from './observability/readiness.js';
import { metricsRoute, readinessRoute } from './observability/routes.js';
import { createShutdown } from './observability/shutdown.js';
import { parseTrustedProxies } from './security/client-address.js';
import { createRateLimiter } from './security/rate-limiter.js';
import { createTenantPolicies } from './tenancy/breakers.js';
import { createConfigResolver } from './tenancy/config-resolver.js';
import { KeyConfigError, parseKeyring } from './tenancy/crypto.js';
import type { DatabaseTarget } from './tenancy/database-url.js';
import { describeRetiredKeyUse, retiredKeyUse } from './tenancy/key-check.js';
import { createPoolManager } from './tenancy/pool-manager.js';
import { createTenantRegistry, type TenantRegistry } from './tenancy/registry.js';
import { registryTarget as controlPlaneTarget } from './tenancy/registry-target.js';
import { TenantConnectionError } from './tenancy/tenant-connection.js';
import { GraphiQLAssetsMissingError } from './web/graphiql-assets.js';
import { homeRoute } from './web/home-page.js';

/** Settings that stop the process at boot print their problem and exit 1, with no secret in it. */
function fail(message: string): never {
  console.error(`fhirgate: ${message}`);
  process.exit(1);
}

/**
 * Idle client connections stay open `keepAliveMs`, above the idle timeout of the proxy in front,
 * so the proxy closes an idle connection, never the gateway just as the proxy reuses it: Node's
 * default of 5 s is below the 60 s of common proxies, and that race shows as sporadic 502s. The
 * header timeout is raised with it, so it stays the longer of the two.
 */
function keepConnectionsFor(server: Server, keepAliveMs: number): void {
  server.keepAliveTimeout = keepAliveMs;
  server.headersTimeout = Math.max(server.headersTimeout, keepAliveMs + 1000);
}

/**
 * Listens on `port`, or fails with what to do when the port cannot be had: the raw error would
 * read "startup failed (Error EADDRINUSE)" and leave the user to guess which port.
 */
async function listenOn(
  server: Server,
  port: number,
  host: string,
  setting: 'PORT' | 'FHIRGATE_METRICS_PORT',
): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'EADDRINUSE') {
      fail(
        `port ${port} on ${host} is already in use (EADDRINUSE): stop the process that holds it ` +
          `(another fhirgate?) or set ${setting} to a free port.`,
      );
    }
    if (code === 'EACCES') {
      fail(`not allowed to listen on port ${port} (EACCES): set ${setting} to a port above 1023.`);
    }
    if (code === 'EADDRNOTAVAIL') {
      fail(`HOST ${host} is not an address of this machine (EADDRNOTAVAIL); try 127.0.0.1.`);
    }
    throw err;
  }
}

/** What a caller other than the entry point may change; the rest comes from the environment. */
export interface StartOptions {
  /**
   * DataLoader batching and caching (@default true). Off, every load is its own statement: only
   * the benchmark's naive variant (`bench/naive-gateway.ts`) turns it off, so it is no setting.
   */
  readonly batchLoads?: boolean;
}

/** Loads the configuration, opens the registry and the tenants' pools and listens. */
export async function startFhirgate(options: StartOptions = {}): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      fail(err.message);
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel });
  const demo = config.demo
    ? await prepareDemo({ dataDir: config.dataDir, keyId: config.encryption.primaryKeyId })
    : undefined;

  let keyring: ReturnType<typeof parseKeyring>;
  try {
    keyring = parseKeyring({
      primaryKey: demo?.encryptionKey ?? config.encryption.primaryKey,
      primaryKeyId: config.encryption.primaryKeyId,
      oldKeys: config.encryption.oldKeys,
    });
  } catch (err) {
    if (err instanceof KeyConfigError) {
      fail(err.message);
    }
    throw err;
  }
  const registryUrl = demo?.registryUrl ?? config.registryUrl;
  if (registryUrl === undefined) {
    fail('FHIRGATE_REGISTRY_URL is not set.');
  }
  let registryTarget: DatabaseTarget;
  try {
    registryTarget = controlPlaneTarget(registryUrl, config.registryTls, config.dbTlsPolicy);
  } catch (err) {
    if (err instanceof TenantConnectionError) {
      fail(`registry TLS: ${err.message}.`);
    }
    fail('FHIRGATE_REGISTRY_URL is not a valid mysql://, mariadb:// or sqlite: URL.');
  }
  let registry: TenantRegistry;
  try {
    registry = createTenantRegistry(registryTarget);
  } catch (err) {
    if (err instanceof DatabaseError && err.driverCode === 'SQLITE_CANTOPEN') {
      fail(
        'the registry file that FHIRGATE_REGISTRY_URL names does not exist (or cannot be opened). ' +
          '`fhirgate tenant add` creates it with the first tenant; otherwise correct the path.',
      );
    }
    throw err;
  }
  // An empty database (or the wrong one) would answer every request UNKNOWN_TENANT. A registry
  // that does not answer yet is left to /readyz.
  if ((await registry.hasSchema().catch(() => undefined)) === false) {
    fail(
      'the registry database has no fhirgate tables (a new or empty database, or the wrong one). ' +
        '`fhirgate tenant add` creates them with the first tenant; otherwise check FHIRGATE_REGISTRY_URL.',
    );
  }
  // A row sealed under a key that is no longer configured can never be opened: refuse to boot
  // (counts only), unless the registry cannot be read yet (/readyz reports that).
  let retired: Map<string, number> | undefined;
  try {
    retired = await retiredKeyUse(registry, keyring);
  } catch (err) {
    log.warn({ err }, 'registry unreadable at boot; sealed-URL key check skipped');
  }
  if (retired !== undefined && retired.size > 0) {
    fail(
      `${describeRetiredKeyUse(retired)}. Keep the old key in FHIRGATE_ENCRYPTION_OLD_KEYS ` +
        'until `fhirgate keys rotate` has re-sealed every row.',
    );
  }
  // The audit store: the registry database unless FHIRGATE_AUDIT_DATABASE_URL names another.
  let auditTarget = registryTarget;
  if (config.audit.databaseUrl !== undefined) {
    try {
      // The audit database is control plane too: the registry's TLS settings apply.
      auditTarget = controlPlaneTarget(
        config.audit.databaseUrl,
        config.registryTls,
        config.dbTlsPolicy,
      );
    } catch (err) {
      if (err instanceof TenantConnectionError) {
        fail(`audit database TLS: ${err.message}.`);
      }
      fail('FHIRGATE_AUDIT_DATABASE_URL is not a valid mysql://, mariadb:// or sqlite: URL.');
    }
  }
  const auditStore = createSqlAuditStore(auditTarget, {
    writeTimeoutMs: config.audit.writeTimeoutMs,
    maxConcurrentWrites: config.audit.maxInFlight,
    connectTimeoutMs: config.tenancy.connectTimeoutMs,
  });
  await auditStore.ensureTable().catch((err: unknown) => {
    log.warn(
      { err },
      'audit table not ensured; PHI reads answer AUDIT_UNAVAILABLE until it exists',
    );
  });
  const audit = createAuditTrail({
    store: auditStore,
    log,
    sourceId: config.audit.sourceId,
    batchMax: config.audit.batchMax,
    backlog: config.audit.backlog,
    maxInFlight: config.audit.maxInFlight,
    denialIntervalMs: config.audit.denialIntervalMs,
  });

  const defs = loadDefinitions();
  const pools = createPoolManager(config.tenancy, log);
  const policies = createTenantPolicies(config.resilience, log);
  const resolver = createConfigResolver(
    { registry, keyring, defs, log },
    {
      ttlMs: config.tenancy.configTtlMs,
      maxStaleMs: config.tenancy.configMaxStaleMs,
      tlsPolicy: config.dbTlsPolicy,
    },
  );
  // Kept here so `tenant remove` can drop the tenant's bucket on every replica (src/admin).
  const tenantLimiter = createRateLimiter(config.rateLimits.tenant);
  // Admin fields and cross-replica reloads (src/admin). The audit hook goes in `onAdminAction`.
  const admin = createAdministration({
    registry,
    resolver,
    pools,
    policies,
    keyring,
    defs,
    log,
    connectionsPerTenant: config.tenancy.connectionsPerTenant,
    tlsPolicy: config.dbTlsPolicy,
    tenantLimiter,
    redisUrl: config.admin.redisUrl,
    reloadChannel: config.admin.reloadChannel,
    reloadCooldownMs: config.admin.reloadCooldownMs,
    onAdminAction: (event) => audit.adminAction(event),
  });
  const limits = {
    maxCount: config.graphql.maxCount,
    defaultCount: config.graphql.defaultCount,
    maxOffset: 10_000,
  };
  const schema = buildGatewaySchema({
    defs,
    resourceTypes: config.graphql.resourceTypes,
    limits,
    admin: admin.service,
  });
  const { observability } = config;
  const metrics = observability.metrics
    ? createGatewayMetrics({ pools, policies, resolver })
    : undefined;
  // Readiness asks the registry only: one hospital's outage must not empty the load balancer.
  const readiness = createReadiness({
    ping: () => registry.ping(),
    timeoutMs: observability.readyTimeoutMs,
  });

  // The server listens before the gateway exists, so the demo's JWKS URL can name the real port.
  let gateway: ReturnType<typeof createGateway> | undefined;
  const server = createServer((req, res) => {
    if (gateway === undefined) {
      res.writeHead(503, { 'retry-after': '1' }).end();
      return;
    }
    void gateway(req, res);
  });
  keepConnectionsFor(server, config.keepAliveTimeoutMs);
  const shutdown = createShutdown({
    server,
    log,
    delayMs: observability.shutdownDelayMs,
    deadlineMs: observability.shutdownTimeoutMs,
    readiness,
  });
  await listenOn(server, config.port, config.host, 'PORT');
  const { port } = server.address() as AddressInfo;
  const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  const issuer = demo === undefined ? config.oidc.issuer : DEMO_ISSUER;
  const jwksUrl = demo === undefined ? config.oidc.jwksUrl : `${base}${DEMO_JWKS_PATH}`;
  if (issuer === undefined || jwksUrl === undefined) {
    fail('FHIRGATE_OIDC_ISSUER is not set.');
  }
  const verifier = createAccessTokenVerifier({
    issuer,
    jwksUrl: new URL(jwksUrl),
    audience: config.oidc.audience,
    algorithms: [...config.oidc.algorithms],
    clockToleranceSec: config.oidc.clockToleranceSec,
    // Demo tokens live an hour so an integrator can explore without minting one every 15 min.
    maxTokenAge: demo === undefined ? config.oidc.maxTokenAge : '65m',
    tenantClaim: config.oidc.tenantClaim,
    roleSource: config.oidc.roleSource,
    platformAdminRole: config.admin.platformAdminRole,
    platformAdminClients: config.admin.platformAdminClients,
  });
  const routes: Route[] =
    demo === undefined
      ? []
      : [
          {
            method: 'GET',
            path: DEMO_JWKS_PATH,
            handle: () =>
              new Response(JSON.stringify(demo.jwks), {
                headers: { 'content-type': 'application/json' },
              }),
          },
        ];
  routes.push(readinessRoute(readiness));
  routes.push(
    homeRoute({
      graphqlEndpoint: GRAPHQL_ENDPOINT,
      graphiql: config.graphql.graphiql,
      metrics: metrics !== undefined && observability.metricsPort === undefined,
      demo: demo !== undefined,
    }),
  );
  const metricsServer =
    metrics !== undefined && observability.metricsPort !== undefined
      ? createMetricsServer([metricsRoute(metrics, { token: observability.metricsToken })])
      : undefined;
  if (metrics !== undefined && metricsServer === undefined) {
    routes.push(metricsRoute(metrics, { token: observability.metricsToken }));
  }
  if (metricsServer !== undefined) {
    // metricsServer exists only when FHIRGATE_METRICS_PORT is set.
    const metricsPort = observability.metricsPort ?? 0;
    await listenOn(metricsServer, metricsPort, config.host, 'FHIRGATE_METRICS_PORT');
  }
  if (metrics !== undefined && observability.metricsToken === undefined && demo === undefined) {
    log.warn(
      { metricsPort: (metricsServer?.address() as AddressInfo | undefined)?.port ?? port },
      '/metrics has no token (FHIRGATE_METRICS_TOKEN): keep its port off public networks',
    );
  }
  gateway = createGateway({
    schema,
    log,
    verifier,
    resolver,
    pools,
    policies,
    graphiql: config.graphql.graphiql,
    corsOrigins: config.graphql.corsOrigins,
    ...(demo === undefined ? {} : { graphiqlOptions: demoGraphiQLOptions(config.dataDir) }),
    ...(options.batchLoads === undefined ? {} : { batchLoads: options.batchLoads }),
    rateLimits: config.rateLimits,
    authFailureLimit: config.authFailureLimit,
    trustedProxies: parseTrustedProxies(config.trustedProxies),
    resourceBudget: {
      maxResources: config.graphql.maxResourcesPerRequest,
      defaultCount: config.graphql.defaultCount,
      maxCount: config.graphql.maxCount,
    },
    maxResponseBytes: config.graphql.maxResponseBytes,
    heavyRequests: config.heavyRequests,
    tenantLimiter,
    refusalHold: config.refusalHold,
    patientLimit: config.audit.patientLimit,
    routes,
    ...(metrics === undefined ? {} : { metrics }),
    onStatement: admin.errors.onStatement,
    audit,
    fhir: {
      base: config.fhir.base,
      defs,
      resourceTypes: config.graphql.resourceTypes,
      limits,
      issuer,
      ...(config.fhir.publicBaseUrl === undefined
        ? {}
        : { publicBaseUrl: config.fhir.publicBaseUrl }),
    },
  });
  shutdown.setAuditFlush(() => audit.close());
  metrics?.setAuditBacklogSource(() => audit.stats().pending);

  log.info({ port, demo: demo !== undefined }, 'fhirgate listening');
  console.log(`fhirgate is listening on ${base}${GRAPHQL_ENDPOINT}`);
  if (demo !== undefined) {
    console.log('Demo mode: two invented hospitals (hospital-a, hospital-b) on SQLite.');
    if (config.graphql.graphiql) {
      console.log(`Open ${base}/ in a browser: GraphiQL, with a hospital-a token and examples.`);
    }
    console.log('A token for curl or another tenant:');
    console.log('  TOKEN=$(npm run -s token -- --tenant hospital-b --roles fhir-read)');
    console.log(
      '  (in GraphiQL\'s Headers tab: {"Authorization": "Bearer <token>"}; with curl: -H "authorization: Bearer $TOKEN")',
    );
  }

  // After HTTP drains: the audit flush (shutdown.setAuditFlush above), then these in order.
  shutdown.addStep('reload-bus', () => admin.close());
  shutdown.addStep('tenant-pools', () => pools.close());
  shutdown.addStep('registry', () => registry.close());
  if (metricsServer !== undefined) {
    shutdown.addStep('metrics-server', async () => {
      metricsServer.closeAllConnections();
      await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
    });
  }
  const stop = (signal: string) => {
    if (shutdown.started) {
      // A second signal (Ctrl-C twice): the operator does not want to wait.
      log.warn({ signal, inFlight: shutdown.inFlight }, 'second signal: exiting now');
      process.exit(1);
    }
    void shutdown.run(signal).then((code) => process.exit(code));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Prints why startup failed, with no secret in it, and exits 1. */
export function exitOnStartupFailure(err: unknown): never {
  // Only errors whose messages we wrote (fixed text, no values) are printed; anything else could
  // quote a URL or a key, so it shows its class and code alone.
  if (err instanceof DemoSetupError || err instanceof GraphiQLAssetsMissingError) {
    fail(`${err.message} (${err.code})`);
  }
  const code = (err as { code?: unknown }).code;
  fail(
    `startup failed (${err instanceof Error ? err.constructor.name : typeof err}${typeof code === 'string' ? ` ${code}` : ''}).`,
  );
}
