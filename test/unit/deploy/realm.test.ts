/**
 * `deploy/keycloak/fhirgate-realm.json`: the realm compose imports must issue tokens the gateway
 * accepts and routes correctly. Per hospital client: a hardcoded `client_id` claim equal to the
 * client id (the gateway demands `client_id === azp`), the audience the gateway verifies, client
 * roles `fhir-read`/`fhir-write`/`fhir-admin` (never realm roles, which are realm-wide), and demo
 * users whose role mappings name only roles that exist.
 */
import { describe, expect, it } from 'vitest';
import { FHIR_ROLES } from '../../../src/auth/principal.js';
import { loadConfig } from '../../../src/config.js';
import { DEMO_HOSPITALS } from '../../../src/demo/hospitals.js';
import {
  loadCompose,
  loadRealm,
  type ProtocolMapper,
  REALM_FILE,
  type RealmClient,
  readRepoFile,
  resolvedEnvironment,
} from './deploy-files.js';

const realm = loadRealm();
const HOSPITALS = DEMO_HOSPITALS.map((h) => h.clientId);

/** What the gateway in docker-compose.yml verifies. */
const gatewayOidc = loadConfig(
  resolvedEnvironment(loadCompose().services['gateway'] ?? {}, {
    FHIRGATE_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
  }),
).oidc;

function client(clientId: string): RealmClient {
  const found = realm.clients.find((c) => c.clientId === clientId);
  if (found === undefined) {
    throw new Error(`${REALM_FILE} has no client ${clientId}`);
  }
  return found;
}

function mappers(clientId: string, type: string): ProtocolMapper[] {
  return (client(clientId).protocolMappers ?? []).filter((m) => m.protocolMapper === type);
}

describe('the fhirgate realm', () => {
  it('is the realm the gateway trusts', () => {
    expect(realm.enabled).toBe(true);
    expect(gatewayOidc.issuer).toBe(`http://localhost:8080/realms/${realm.realm}`);
    expect(gatewayOidc.jwksUrl).toContain(`/realms/${realm.realm}/protocol/openid-connect/certs`);
  });

  it('has one confidential client per hospital the compose stack registers', () => {
    expect(realm.clients.map((c) => c.clientId).sort()).toEqual([...HOSPITALS].sort());
    const registered = [
      ...readRepoFile('deploy/register-tenants.sh').matchAll(/^register (\S+) /gm),
    ].map((m) => m[1]);
    expect(registered.sort()).toEqual([...HOSPITALS].sort());
    for (const id of HOSPITALS) {
      expect(client(id)).toMatchObject({
        enabled: true,
        publicClient: false,
        implicitFlowEnabled: false,
        // Only this client's roles reach its tokens, not another hospital's.
        fullScopeAllowed: false,
      });
      // The secret comes from the environment at import, never from this file.
      expect(client(id).secret).toMatch(/^\$\{[A-Z_]+\}$/);
    }
  });

  it.each(HOSPITALS)(
    '%s: puts the tenant claim, equal to the client id, into access tokens',
    (clientId) => {
      const found = mappers(clientId, 'oidc-hardcoded-claim-mapper').filter(
        (m) => m.config['claim.name'] === gatewayOidc.tenantClaim,
      );
      expect(gatewayOidc.tenantClaim).toBe('client_id');
      expect(found).toHaveLength(1);
      expect(found[0]?.protocol).toBe('openid-connect');
      expect(found[0]?.config).toMatchObject({
        'claim.value': clientId,
        'jsonType.label': 'String',
        'access.token.claim': 'true',
      });
    },
  );

  it.each(HOSPITALS)('%s: adds the audience the gateway verifies to access tokens', (clientId) => {
    const found = mappers(clientId, 'oidc-audience-mapper');
    expect(found).toHaveLength(1);
    expect(found[0]?.config).toMatchObject({
      'included.custom.audience': gatewayOidc.audience,
      'access.token.claim': 'true',
    });
    expect(gatewayOidc.audience).toBe('fhir-gateway');
  });

  it.each(HOSPITALS)('%s: defines the three fhirgate roles as client roles', (clientId) => {
    const roles = realm.roles?.client?.[clientId] ?? [];
    expect(roles.map((r) => r.name).sort()).toEqual([...FHIR_ROLES].sort());
    expect(roles.every((r) => r.clientRole === true)).toBe(true);
  });

  it('grants no fhirgate role as a realm role (a realm role reaches every hospital)', () => {
    expect(gatewayOidc.roleSource).toBe('client');
    const realmRoles = (realm.roles?.realm ?? []).map((r) => r.name);
    expect(realmRoles.filter((r) => r.startsWith('fhir-'))).toEqual([]);
    for (const user of realm.users) {
      expect(user.realmRoles ?? [], user.username).toEqual([]);
    }
  });

  it('has demo users whose client roles exist, covering every role of every hospital', () => {
    const granted = new Map<string, Set<string>>(HOSPITALS.map((h) => [h, new Set()]));
    for (const user of realm.users) {
      expect(user.enabled, user.username).toBe(true);
      const entries = Object.entries(user.clientRoles ?? {});
      // One hospital per user: the demo shows tenants apart, not a user spanning two.
      expect(entries, user.username).toHaveLength(1);
      for (const [clientId, roles] of entries) {
        const defined = (realm.roles?.client?.[clientId] ?? []).map((r) => r.name);
        expect(roles.length, user.username).toBeGreaterThan(0);
        for (const role of roles) {
          expect(defined, `${user.username}: ${clientId}/${role}`).toContain(role);
          granted.get(clientId)?.add(role);
        }
      }
      // Passwords come from the environment at import.
      for (const credential of user.credentials ?? []) {
        expect(credential.value, user.username).toMatch(/^\$\{[A-Z_]+\}$/);
        expect(credential.temporary ?? false).toBe(false);
      }
    }
    for (const [clientId, roles] of granted) {
      expect([...roles].sort(), clientId).toEqual([...FHIR_ROLES].sort());
    }
  });

  it('resolves every placeholder from the Keycloak service environment', () => {
    const text = readRepoFile(REALM_FILE);
    const placeholders = new Set([...text.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]));
    const keycloakEnv = Object.keys(loadCompose().services['keycloak']?.environment ?? {});
    expect(placeholders.size).toBeGreaterThan(0);
    for (const name of placeholders) {
      expect(keycloakEnv, name).toContain(name);
    }
  });
});
