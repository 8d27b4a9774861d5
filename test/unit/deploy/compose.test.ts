/**
 * `docker-compose.yml`, checked without a Docker engine: against the compose-spec JSON schema
 * (the copy inside dclint), then for what the schema cannot see: services that exist, images that
 * are pinned, files that exist, health checks behind every `service_healthy`, and a gateway
 * environment that `src/config.ts` accepts as production mode.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { DEMO_HOSPITALS } from '../../../src/demo/hospitals.js';
import {
  type ComposeFile,
  type ComposeService,
  configEnvNames,
  interpolate,
  loadCompose,
  loadRealm,
  ROOT,
  readRepoFile,
  resolvedEnvironment,
} from './deploy-files.js';

// ajv-formats is CommonJS with `exports.default`; under NodeNext its default import is the module.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** What a `.env` beside the compose file would hold: the one required value, nothing else. */
const DOT_ENV = { FHIRGATE_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64') };

let validate: ValidateFunction;
let compose: ComposeFile;
let services: Record<string, ComposeService>;

function service(name: string): ComposeService {
  const found = services[name];
  if (found === undefined) {
    throw new Error(`docker-compose.yml has no service ${name}`);
  }
  return found;
}

function dependsOn(svc: ComposeService): Record<string, { condition: string }> {
  const deps = svc.depends_on ?? {};
  return Array.isArray(deps)
    ? Object.fromEntries(deps.map((d) => [d, { condition: 'service_started' }]))
    : deps;
}

/** `./host/path:/container/path[:ro]` bind mounts of a service. */
function bindMounts(svc: ComposeService): { source: string; target: string }[] {
  return (svc.volumes ?? []).flatMap((v) => {
    if (typeof v !== 'string' || !v.startsWith('./')) {
      return [];
    }
    const [source, target] = v.split(':') as [string, string];
    return [{ source, target }];
  });
}

beforeAll(() => {
  const schema = JSON.parse(
    readFileSync(join(ROOT, 'node_modules/dclint/schemas/compose.schema.json'), 'utf8'),
  ) as Record<string, unknown>;
  // Its $schema is https://json-schema.org/draft-07/schema, an id ajv does not know.
  delete schema['$schema'];
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  validate = ajv.compile(schema);
  compose = loadCompose();
  services = compose.services;
});

describe('docker-compose.yml', () => {
  it('is valid against the compose-spec JSON schema', () => {
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('is rejected by the same validator once broken (the check has teeth)', () => {
    const broken = loadCompose();
    (broken.services['gateway'] as Record<string, unknown>)['ports'] = '4000:4000';
    (broken.services['redis'] as Record<string, unknown>)['bogus_key'] = true;
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toContain('/services/gateway/ports');
    expect(paths).toContain('/services/redis');
  });

  it('has the whole stack: gateway, tenant registration, registry, two hospitals, Keycloak, Redis', () => {
    expect(Object.keys(services).sort()).toEqual([
      'gateway',
      'hospital-a-db',
      'hospital-b-db',
      'keycloak',
      'redis',
      'register-tenants',
      'registry-db',
    ]);
  });

  it('gives every service a pinned image or a build from a Dockerfile that exists', () => {
    for (const [name, svc] of Object.entries(services)) {
      expect(svc.image ?? svc.build, name).toBeDefined();
      if (svc.image !== undefined) {
        // name:tag, never implicit or explicit `latest`.
        expect(svc.image, name).toMatch(/^[a-z0-9./_-]+:[A-Za-z0-9._-]+$/);
        expect(svc.image, name).not.toMatch(/:latest$/);
      }
      if (svc.build !== undefined) {
        const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
        const dockerfile = join(ROOT, build.context, build.dockerfile ?? 'Dockerfile');
        expect(existsSync(dockerfile), `${name}: ${dockerfile}`).toBe(true);
      }
    }
    expect(service('gateway').build).toEqual(service('register-tenants').build);
    expect(service('gateway').image).toBe(service('register-tenants').image);
  });

  it('depends only on services that exist, with a health check behind every service_healthy', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(dependsOn(svc))) {
        const target = services[dep];
        expect(target, `${name} -> ${dep}`).toBeDefined();
        expect(
          ['service_started', 'service_healthy', 'service_completed_successfully'],
          `${name} -> ${dep}`,
        ).toContain(condition);
        if (condition === 'service_healthy') {
          expect(target?.healthcheck?.test, `${dep} health check`).toBeDefined();
          expect(target?.healthcheck?.disable ?? false).toBe(false);
        }
        if (condition === 'service_completed_successfully') {
          expect(target?.restart, `${dep} is a one-shot job`).toBe('no');
        }
      }
    }
    expect(Object.keys(dependsOn(service('gateway'))).sort()).toEqual([
      'keycloak',
      'redis',
      'register-tenants',
      'registry-db',
    ]);
    expect(dependsOn(service('gateway'))['register-tenants']?.condition).toBe(
      'service_completed_successfully',
    );
    expect(Object.keys(dependsOn(service('register-tenants'))).sort()).toEqual([
      'hospital-a-db',
      'hospital-b-db',
      'redis',
      'registry-db',
    ]);
  });

  it('mounts files that exist: the registry schema and each hospital seed as init scripts', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const { source } of bindMounts(svc)) {
        expect(existsSync(join(ROOT, source)), `${name}: ${source}`).toBe(true);
      }
    }
    const initScripts = (name: string) =>
      bindMounts(service(name))
        .filter((m) => m.target.startsWith('/docker-entrypoint-initdb.d/'))
        .map((m) => `${m.source} -> ${m.target.slice('/docker-entrypoint-initdb.d/'.length)}`);
    expect(initScripts('registry-db')).toEqual(['./schema/registry.sql -> 01-registry.sql']);
    for (const hospital of DEMO_HOSPITALS) {
      // Run in name order: the tables and rows first, then the read-only account.
      expect(initScripts(`${hospital.clientId}-db`)).toEqual([
        `./deploy/${hospital.clientId}/01-schema-and-rows.sql -> 01-schema-and-rows.sql`,
        './deploy/hospital-db-reader.sh -> 02-reader.sh',
      ]);
    }
    expect(bindMounts(service('keycloak'))).toEqual([
      {
        source: './deploy/keycloak/fhirgate-realm.json',
        target: '/opt/keycloak/data/import/fhirgate-realm.json',
      },
    ]);
    expect(service('keycloak').command).toEqual(['start-dev', '--import-realm']);
    expect(service('keycloak').image).toMatch(/^quay\.io\/keycloak\/keycloak:/);
  });

  it('sets only environment variables that src/config.ts reads on the gateway', () => {
    const known = configEnvNames();
    // The parser found the schema, not a handful of lookalikes.
    expect(known.size).toBeGreaterThan(30);
    expect(known).toContain('FHIRGATE_REGISTRY_URL');
    const unknown = Object.keys(service('gateway').environment ?? {}).filter((n) => !known.has(n));
    expect(unknown).toEqual([]);
  });

  it('starts the gateway in production mode: src/config.ts accepts its environment', () => {
    const env = resolvedEnvironment(service('gateway'), DOT_ENV);
    const config = loadConfig(env);
    expect(config.demo).toBe(false);
    expect(config.nodeEnv).toBe('production');
    expect(config.host).toBe('0.0.0.0');
    expect(config.encryption.primaryKey).toBe(DOT_ENV.FHIRGATE_ENCRYPTION_KEY);
    expect(new URL(config.registryUrl ?? '').host).toBe('registry-db:3306');
    expect(config.oidc.issuer).toBe(`http://localhost:8080/realms/${loadRealm().realm}`);
    expect(config.oidc.jwksUrl).toBe(
      'http://keycloak:8080/realms/fhirgate/protocol/openid-connect/certs',
    );
    expect(env['REDIS_URL']).toBe('redis://redis:6379');
    // Keycloak writes the issuer the gateway expects whoever asks for the token.
    expect(service('keycloak').environment?.['KC_HOSTNAME']).toBe('http://localhost:8080');
  });

  it('refuses to start without an encryption key, and bakes no key into the file', () => {
    expect(() => resolvedEnvironment(service('gateway'), {})).toThrow(
      /FHIRGATE_ENCRYPTION_KEY is required/,
    );
    const text = readRepoFile('docker-compose.yml');
    // No 32-byte base64 value anywhere (44 characters ending in '=').
    expect(text).not.toMatch(/[A-Za-z0-9+/]{43}=/);
  });

  it('gives the registration job the same registry and key as the gateway', () => {
    const gateway = resolvedEnvironment(service('gateway'), DOT_ENV);
    const job = resolvedEnvironment(service('register-tenants'), DOT_ENV);
    expect(job).toMatchObject(gateway);
    expect(service('register-tenants').entrypoint).toEqual(['/app/deploy/register-tenants.sh']);
  });

  it('registers each hospital with the database, account and password its container creates', () => {
    const script = readRepoFile('deploy/register-tenants.sh');
    const job = resolvedEnvironment(service('register-tenants'), DOT_ENV);
    for (const hospital of DEMO_HOSPITALS) {
      const db = resolvedEnvironment(service(`${hospital.clientId}-db`), DOT_ENV);
      const passwordVar = `${hospital.clientId.replace('-', '_').toUpperCase()}_READER_PASSWORD`;
      const url = new RegExp(
        `"mysql://fhirgate_reader:\\$\\{${passwordVar}\\}@${hospital.clientId}-db:3306/${db['MARIADB_DATABASE']}"`,
      );
      expect(script, hospital.clientId).toMatch(url);
      expect(script).toContain(`/app/src/demo/mappings/${hospital.clientId}.json`);
      expect(job[passwordVar]).toBe(db['FHIRGATE_READER_PASSWORD']);
      // What deploy/hospital-db-reader.sh accepts (and what a URL carries unescaped).
      expect(db['FHIRGATE_READER_PASSWORD']).toMatch(/^[A-Za-z0-9._~-]{16,}$/);
    }
    // The URL reaches the CLI through a file, never the command line.
    expect(script).toMatch(
      /fhirgate tenant add "\$\{client_id\}" --database-url-file "\$\{url_file\}"/,
    );
    expect(script).not.toMatch(/--database-url "/);
  });

  it('keeps each hospital database above the connections 4 gateway replicas may open', () => {
    const config = loadConfig(resolvedEnvironment(service('gateway'), DOT_ENV));
    const perTenant = config.tenancy.connectionsPerTenant;
    expect(perTenant).toBeLessThanOrEqual(config.tenancy.maxTotalConnections);
    for (const hospital of DEMO_HOSPITALS) {
      const command = service(`${hospital.clientId}-db`).command;
      const flag = (Array.isArray(command) ? command : []).find((c) =>
        c.startsWith('--max-connections='),
      );
      const maxConnections = Number(flag?.split('=')[1]);
      // The comment in docker-compose.yml and README "Deployment" promise 4 replicas.
      expect(4 * perTenant, hospital.clientId).toBeLessThan(maxConnections);
    }
  });

  it('publishes ports on the loopback interface only', () => {
    const published = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(published).toEqual(['127.0.0.1:4000:4000', '127.0.0.1:8080:8080']);
  });

  it('gives the gateway longer to stop than its own shutdown deadline', () => {
    const config = loadConfig(resolvedEnvironment(service('gateway'), DOT_ENV));
    const grace = /^(\d+)s$/.exec(service('gateway').stop_grace_period ?? '');
    expect(grace).not.toBeNull();
    // FHIRGATE_SHUTDOWN_TIMEOUT_MS: in-flight requests' budget after SIGTERM.
    const deadline = (config as unknown as { observability?: { shutdownTimeoutMs?: number } })
      .observability?.shutdownTimeoutMs;
    expect(deadline).toBeTypeOf('number');
    expect(Number(grace?.[1]) * 1000).toBeGreaterThan(deadline as number);
  });

  it('runs the gateway and the job hardened: read-only root, no capabilities', () => {
    for (const name of ['gateway', 'register-tenants']) {
      expect(service(name).read_only, name).toBe(true);
      expect(service(name).cap_drop, name).toEqual(['ALL']);
    }
  });
});

describe('interpolate (the test helper standing in for Compose)', () => {
  it('follows Compose for defaults, required values and $$', () => {
    // Compose's `${...}` syntax, assembled so no string literal looks like a template.
    const v = (body: string) => `$\{${body}}`;
    const withDefaults = [v('A:-x'), v('B-y'), v('C'), '$$HOME'].join('/');
    const required = v('A:?need A');
    expect(interpolate(withDefaults, { A: '', B: '' })).toBe('x///$HOME');
    expect(interpolate(required, { A: 'ok' })).toBe('ok');
    expect(() => interpolate(required, { A: '' })).toThrow('A is required: need A');
  });
});
