import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { createAccessTokenVerifier } from '../../../src/auth/verify-access-token.js';
import {
  DEMO_ISSUER,
  DEMO_ISSUER_KEY_FILE,
  DEMO_JWKS_PATH,
  loadOrCreateDemoIssuer,
  mintDemoToken,
} from '../../../src/demo/demo-issuer.js';

const dirs: string[] = [];

function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fhirgate-issuer-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) {
    rmSync(dir, { recursive: true, force: true });
  }
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('loadOrCreateDemoIssuer', () => {
  it('writes one private JWK, owner-only, and publishes only its public half', async () => {
    const dir = join(freshDir(), 'nested', 'data');
    const issuer = await loadOrCreateDemoIssuer(dir);

    const path = join(dir, DEMO_ISSUER_KEY_FILE);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(stored).toMatchObject({ kty: 'RSA', kid: issuer.kid, alg: 'RS256', use: 'sig' });
    expect(typeof stored['d']).toBe('string');

    expect(issuer.jwks.keys).toHaveLength(1);
    const [publicKey] = issuer.jwks.keys;
    expect(Object.keys(publicKey!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    expect(publicKey!.kid).toBe(issuer.kid);
  });

  it('reuses the key on the next call', async () => {
    const dir = freshDir();
    const first = await loadOrCreateDemoIssuer(dir);
    const second = await loadOrCreateDemoIssuer(dir);
    expect(second.kid).toBe(first.kid);
    expect(second.jwks).toEqual(first.jwks);
  });

  it('ends concurrent first calls on one key and leaves no temp file', async () => {
    const dir = freshDir();
    const issuers = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateDemoIssuer(dir)));
    expect(new Set(issuers.map((i) => i.kid)).size).toBe(1);
    expect(readdirSync(dir)).toEqual([DEMO_ISSUER_KEY_FILE]);
  });

  it.each([
    ['not JSON', '{"kty": "RSA", '],
    ['a public key only', '{"kty":"RSA","kid":"x","n":"AQAB","e":"AQAB"}'],
    ['an EC key', '{"kty":"EC","kid":"x","crv":"P-256","x":"a","y":"b","d":"c"}'],
  ])('refuses a key file that is %s, naming the file', async (_name, content) => {
    const dir = freshDir();
    writeFileSync(join(dir, DEMO_ISSUER_KEY_FILE), content);
    await expect(loadOrCreateDemoIssuer(dir)).rejects.toMatchObject({
      code: 'DEMO_ISSUER_KEY_INVALID',
      message: expect.stringMatching(new RegExp(`${DEMO_ISSUER_KEY_FILE}.*delete it`)),
    });
  });
});

describe('mintDemoToken', () => {
  it('signs a Keycloak-shaped access token with the published key', async () => {
    const dir = freshDir();
    const token = await mintDemoToken({
      dataDir: dir,
      tenant: 'hospital-b',
      roles: ['fhir-read', 'fhir-write', 'fhir-read'],
      subject: 'dr-soto',
      lifetimeSec: 600,
    });
    const { jwks, kid } = await loadOrCreateDemoIssuer(dir);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid });

    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: DEMO_ISSUER,
      audience: 'fhir-gateway',
      algorithms: ['RS256'],
    });
    expect(payload).toMatchObject({
      iss: DEMO_ISSUER,
      sub: 'dr-soto',
      aud: ['fhir-gateway', 'account'],
      azp: 'hospital-b',
      client_id: 'hospital-b',
      typ: 'Bearer',
      preferred_username: 'dr-soto',
      resource_access: { 'hospital-b': { roles: ['fhir-read', 'fhir-write'] } },
      realm_access: { roles: ['fhir-read', 'fhir-write'] },
    });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('defaults to demo-user and one hour', async () => {
    const dir = freshDir();
    const token = await mintDemoToken({ dataDir: dir, tenant: 'hospital-a', roles: ['fhir-read'] });
    const { jwks } = await loadOrCreateDemoIssuer(dir);
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks));
    expect(payload.sub).toBe('demo-user');
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it.each([0, -1, 3601, 1.5, Number.NaN])(
    'refuses a lifetime of %s seconds',
    async (lifetimeSec) => {
      await expect(
        mintDemoToken({ dataDir: freshDir(), tenant: 'hospital-a', roles: [], lifetimeSec }),
      ).rejects.toThrow(RangeError);
    },
  );

  it('passes the gateway verifier configured as main.ts configures the demo', async () => {
    const dir = freshDir();
    const { jwks } = await loadOrCreateDemoIssuer(dir);
    const jwksUrl = new URL(`http://127.0.0.1:4000${DEMO_JWKS_PATH}`);
    // jose fetches the JWKS with the global fetch: answer it here instead of opening a port.
    vi.stubGlobal('fetch', async (input: string | URL | Request) => {
      expect(String(input instanceof Request ? input.url : input)).toBe(jwksUrl.href);
      return new Response(JSON.stringify(jwks), {
        headers: { 'content-type': 'application/json' },
      });
    });
    const verifier = createAccessTokenVerifier({
      issuer: DEMO_ISSUER,
      jwksUrl,
      audience: 'fhir-gateway',
      algorithms: ['RS256'],
      clockToleranceSec: 30,
      maxTokenAge: '65m',
      tenantClaim: 'client_id',
      roleSource: 'client',
    });
    const token = await mintDemoToken({
      dataDir: dir,
      tenant: 'hospital-a',
      roles: ['fhir-read', 'fhir-admin'],
    });
    const principal = await verifier.verify(token);
    expect(principal).toMatchObject({
      issuer: DEMO_ISSUER,
      subject: 'demo-user',
      clientId: 'hospital-a',
    });
    expect([...principal.roles].sort()).toEqual(['fhir-admin', 'fhir-read']);

    // A full-lifetime token is still accepted just before it expires (maxTokenAge 65m > 60m).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3590_000 });
    await expect(verifier.verify(token)).resolves.toMatchObject({ clientId: 'hospital-a' });
  });
});
