import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAccessTokenVerifier } from './auth/verify-access-token.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { DEMO_ISSUER, DEMO_JWKS_PATH } from './demo/demo-issuer.js';
import { DemoSetupError } from './demo/demo-setup-error.js';
import { prepareDemo } from './demo/prepare-demo.js';
import { loadDefinitions } from './fhir/definitions.js';
import { createGateway, GRAPHQL_ENDPOINT, type Route } from './gateway.js';
import { buildGatewaySchema } from './graphql/schema.js';
import { createLogger } from './logger.js';
import { createTenantPolicies } from './tenancy/breakers.js';
import { createConfigResolver } from './tenancy/config-resolver.js';
import { KeyConfigError, parseKeyring } from './tenancy/crypto.js';
import { parseDatabaseUrl } from './tenancy/database-url.js';
import { createPoolManager } from './tenancy/pool-manager.js';
import { createTenantRegistry } from './tenancy/registry.js';

/** Settings that stop the process at boot print their problem and exit 1, with no secret in it. */
function fail(message: string): never {
  console.error(`fhirgate: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
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
  let registryTarget: ReturnType<typeof parseDatabaseUrl>;
  try {
    registryTarget = parseDatabaseUrl(registryUrl);
  } catch {
    fail('FHIRGATE_REGISTRY_URL is not a valid mysql://, mariadb:// or sqlite: URL.');
  }
  const registry = createTenantRegistry(registryTarget);

  const defs = loadDefinitions();
  const schema = buildGatewaySchema({
    defs,
    resourceTypes: config.graphql.resourceTypes,
    limits: {
      maxCount: config.graphql.maxCount,
      defaultCount: config.graphql.defaultCount,
      maxOffset: 10_000,
    },
  });
  const pools = createPoolManager(config.tenancy, log);
  const policies = createTenantPolicies(config.resilience, log);
  const resolver = createConfigResolver(
    { registry, keyring, defs, log },
    { ttlMs: config.tenancy.configTtlMs },
  );

  // The server listens before the gateway exists, so the demo's JWKS URL can name the real port.
  let gateway: ReturnType<typeof createGateway> | undefined;
  const server = createServer((req, res) => {
    if (gateway === undefined) {
      res.writeHead(503, { 'retry-after': '1' }).end();
      return;
    }
    void gateway(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
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
  gateway = createGateway({
    schema,
    log,
    verifier,
    resolver,
    pools,
    policies,
    graphiql: config.graphql.graphiql,
    rateLimits: config.rateLimits,
    routes,
  });

  log.info({ port, demo: demo !== undefined }, 'fhirgate listening');
  console.log(`fhirgate is listening on ${base}${GRAPHQL_ENDPOINT}`);
  if (demo !== undefined) {
    console.log('Demo mode: two hospitals (hospital-a, hospital-b) on SQLite.');
    console.log('Get a token:  npm run -s token -- --tenant hospital-a --roles fhir-read');
    console.log(
      `Then open ${base}${GRAPHQL_ENDPOINT} and send it as "Authorization: Bearer <token>".`,
    );
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    log.info({ signal }, 'fhirgate stopping');
    server.close();
    server.closeIdleConnections();
    Promise.allSettled([pools.close(), registry.close()])
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  // Only errors whose messages we wrote (fixed text, no values) are printed; anything else could
  // quote a URL or a key, so it shows its class and code alone.
  if (err instanceof DemoSetupError) {
    fail(`${err.message} (${err.code})`);
  }
  const code = (err as { code?: unknown }).code;
  fail(
    `startup failed (${err instanceof Error ? err.constructor.name : typeof err}${typeof code === 'string' ? ` ${code}` : ''}).`,
  );
});
