import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';

describe('loadConfig', () => {
  it('starts the embedded demo when nothing is configured, with documented defaults', () => {
    const config = loadConfig({});
    expect(config.demo).toBe(true);
    expect(config).toMatchObject({
      port: 4000,
      host: '127.0.0.1',
      dataDir: '.fhirgate',
      oidc: {
        audience: 'fhir-gateway',
        algorithms: ['RS256'],
        clockToleranceSec: 30,
        maxTokenAge: '15m',
        tenantClaim: 'client_id',
        roleSource: 'client',
      },
      graphql: {
        maxCount: 100,
        defaultCount: 20,
        graphiql: true,
        corsOrigins: [],
        resourceTypes: [
          'Patient',
          'Practitioner',
          'Organization',
          'Location',
          'Encounter',
          'Observation',
          'Condition',
          'AllergyIntolerance',
          'MedicationRequest',
          'Procedure',
          'Immunization',
          'DiagnosticReport',
        ],
      },
      tenancy: {
        configTtlMs: 300_000,
        configMaxStaleMs: 900_000,
        maxTenantPools: 200,
        poolIdleEvictMs: 1_800_000,
        maxTotalConnections: 150,
        connectionsPerTenant: 10,
        queueLimit: 20,
        connectTimeoutMs: 3000,
      },
      refusalHold: { delayMs: 5000, maxHeld: 1000 },
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads the refusal hold, and refuses a hold above 10 s or a negative cap by name', () => {
    expect(
      loadConfig({ FHIRGATE_REFUSAL_HOLD_MS: '0', FHIRGATE_REFUSAL_HOLD_MAX: '0' }).refusalHold,
    ).toEqual({ delayMs: 0, maxHeld: 0 });
    let error: unknown;
    try {
      loadConfig({ FHIRGATE_REFUSAL_HOLD_MS: '20000', FHIRGATE_REFUSAL_HOLD_MAX: '-1' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain('FHIRGATE_REFUSAL_HOLD_MS');
    expect(String((error as Error).message)).toContain('FHIRGATE_REFUSAL_HOLD_MAX');
  });

  it('reads CORS origins and refuses a wildcard, a path or a bare host by name', () => {
    expect(
      loadConfig({ FHIRGATE_CORS_ORIGINS: 'https://app.example.org, http://localhost:5173' })
        .graphql.corsOrigins,
    ).toEqual(['https://app.example.org', 'http://localhost:5173']);
    for (const bad of [
      '*',
      'https://app.example.org/',
      'https://a.example.org/x',
      'app.example.org',
    ]) {
      expect(() => loadConfig({ FHIRGATE_CORS_ORIGINS: bad }), bad).toThrow(
        /FHIRGATE_CORS_ORIGINS/,
      );
    }
  });

  it('reads trusted proxies (none by default) and refuses an entry that is no address or range', () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
    expect(loadConfig({ FHIRGATE_TRUSTED_PROXIES: '10.0.0.0/8, ::1' }).trustedProxies).toEqual([
      '10.0.0.0/8',
      '::1',
    ]);
    for (const bad of ['proxy.local', '10.0.0.0/33', '*']) {
      expect(() => loadConfig({ FHIRGATE_TRUSTED_PROXIES: bad }), bad).toThrow(
        /FHIRGATE_TRUSTED_PROXIES/,
      );
    }
  });

  it('reads the public base URL (trailing slash dropped) and refuses one that is not absolute http(s) without query or fragment', () => {
    expect(loadConfig({}).fhir.publicBaseUrl).toBeUndefined();
    expect(
      loadConfig({ FHIRGATE_PUBLIC_BASE_URL: 'https://api.example.org/hospital/' }).fhir
        .publicBaseUrl,
    ).toBe('https://api.example.org/hospital');
    for (const bad of [
      '/fhir',
      'ftp://example.org',
      'https://example.org/?a=1',
      'https://example.org/#x',
      'https://example.org/?',
      'https://user:pw@example.org',
      'example.org',
    ]) {
      expect(() => loadConfig({ FHIRGATE_PUBLIC_BASE_URL: bad }), bad).toThrow(
        /FHIRGATE_PUBLIC_BASE_URL/,
      );
    }
  });

  it("keeps idle client connections 65 s by default, above a proxy's 60 s, and refuses under 1 s", () => {
    expect(loadConfig({}).keepAliveTimeoutMs).toBe(65_000);
    expect(loadConfig({ FHIRGATE_KEEP_ALIVE_TIMEOUT_MS: '125000' }).keepAliveTimeoutMs).toBe(
      125_000,
    );
    for (const bad of ['500', '700000', 'soon']) {
      expect(() => loadConfig({ FHIRGATE_KEEP_ALIVE_TIMEOUT_MS: bad }), bad).toThrow(
        /FHIRGATE_KEEP_ALIVE_TIMEOUT_MS/,
      );
    }
  });

  it('derives the JWKS URL from a Keycloak issuer', () => {
    const config = loadConfig({
      FHIRGATE_REGISTRY_URL: 'mysql://u:p@db:3306/registry',
      FHIRGATE_ENCRYPTION_KEY: 'x',
      FHIRGATE_OIDC_ISSUER: 'https://sso.example.org/realms/hospitals',
    });
    expect(config.demo).toBe(false);
    expect(config.oidc.jwksUrl).toBe(
      'https://sso.example.org/realms/hospitals/protocol/openid-connect/certs',
    );
  });

  it('lists every problem at once and never echoes a value', () => {
    const secret = 'ZZPW-not-a-port';
    let error: unknown;
    try {
      loadConfig({
        PORT: secret,
        FHIRGATE_ROLE_SOURCE: 'group',
        FHIRGATE_REGISTRY_URL: `mysql://u:${secret}@db/registry`,
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT');
    expect(message).toContain('FHIRGATE_ROLE_SOURCE');
    expect(message).not.toContain(secret);
  });

  it('requires an issuer and a key outside demo mode', () => {
    expect(() => loadConfig({ FHIRGATE_REGISTRY_URL: 'mysql://u:p@db/registry' })).toThrow(
      /FHIRGATE_OIDC_ISSUER[\s\S]*FHIRGATE_ENCRYPTION_KEY/,
    );
  });

  it('rejects symmetric algorithms and a default page size above the cap', () => {
    expect(() => loadConfig({ FHIRGATE_OIDC_ALGORITHMS: 'RS256,HS256' })).toThrow(
      /FHIRGATE_OIDC_ALGORITHMS/,
    );
    expect(() => loadConfig({ FHIRGATE_MAX_COUNT: '10', FHIRGATE_DEFAULT_COUNT: '20' })).toThrow(
      /FHIRGATE_DEFAULT_COUNT/,
    );
  });
});
