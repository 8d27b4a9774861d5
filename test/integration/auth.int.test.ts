// Access-token verification against a real local HTTP "Keycloak" (SECURITY-TESTS section A).
// HTTP status codes are the gateway's job; here each case pins the AuthError code and reason.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuthErrorCode } from '../../src/auth/auth-error.js';
import { AuthError } from '../../src/auth/auth-error.js';
import type {
  AccessTokenVerifier,
  AccessTokenVerifierOptions,
} from '../../src/auth/verify-access-token.js';
import { createAccessTokenVerifier } from '../../src/auth/verify-access-token.js';
import type { KeycloakStub } from '../helpers/jwks-server.js';
import { encodeJwt, nowSec, startKeycloakStub } from '../helpers/jwks-server.js';

let idp: KeycloakStub;

beforeAll(async () => {
  idp = await startKeycloakStub({ realms: ['test', 'other'] });
});

afterAll(async () => {
  await idp.close();
});

afterEach(() => {
  vi.useRealTimers();
  idp.setMode('test', 'up');
  idp.setMode('other', 'up');
});

function verifierFor(
  stub: KeycloakStub,
  overrides: Partial<AccessTokenVerifierOptions> = {},
): AccessTokenVerifier {
  return createAccessTokenVerifier({
    issuer: stub.issuer('test'),
    jwksUrl: stub.jwksUrl('test'),
    audience: 'fhir-gateway',
    algorithms: ['RS256'],
    clockToleranceSec: 30,
    maxTokenAge: '15m',
    tenantClaim: 'client_id',
    roleSource: 'client',
    ...overrides,
  });
}

/** Fresh verifier (cold JWKS cache) on the shared stub. */
function verifier(overrides: Partial<AccessTokenVerifierOptions> = {}) {
  return verifierFor(idp, overrides);
}

interface Expected {
  code: AuthErrorCode;
  reason: string;
  claim?: string;
}

/** Runs `verify`, expects an AuthError, and checks the token never shows up in it. */
async function expectRejected(
  v: AccessTokenVerifier,
  token: string,
  expected: Expected,
): Promise<AuthError> {
  let caught: unknown;
  try {
    await v.verify(token);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(AuthError);
  const err = caught as AuthError;
  expect({ code: err.code, reason: err.reason, claim: err.claim }).toEqual({
    claim: undefined,
    ...expected,
  });
  if (token !== '') {
    expect(err.message).not.toContain(token);
    expect(JSON.stringify(err)).not.toContain(token);
  }
  return err;
}

/** JWKS requests `work` causes on a realm of `stub`. */
async function jwksFetches(
  work: () => Promise<unknown>,
  realm = 'test',
  stub: KeycloakStub = idp,
): Promise<number> {
  const before = stub.requestCount(realm);
  await work();
  return stub.requestCount(realm) - before;
}

function freezeClock(): number {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date());
  return nowSec();
}

function advanceClock(ms: number): void {
  vi.setSystemTime(new Date(Date.now() + ms));
}

describe('A valid Keycloak access token', () => {
  it('verifies into a Principal with the tenant client roles', async () => {
    const v = verifier();
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      roles: ['fhir-read', 'uma_protection'],
      overrides: { sub: 'user-1', jti: 'jti-1', exp: nowSec() + 120 },
    });
    const principal = await v.verify(token);
    expect(principal).toEqual({
      issuer: idp.issuer('test'),
      subject: 'user-1',
      clientId: 'hospital-a',
      roles: new Set(['fhir-read']),
      tokenId: 'jti-1',
      expiresAt: expect.any(Number),
    });
    expect(principal.expiresAt).toBeGreaterThan(nowSec());
  });

  it('fetches the JWKS once and then serves known kids from the cache', async () => {
    const v = verifier();
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () =>
        idp.tokenFor({ clientId: 'hospital-a', roles: ['fhir-read'] }),
      ),
    );
    const fetched = await jwksFetches(async () => {
      await Promise.all(tokens.map((t) => v.verify(t)));
      await v.verify(tokens[0]!);
    });
    expect(fetched).toBe(1);
  });

  it('accepts a token without a payload typ (only a present typ must be Bearer)', async () => {
    const token = await idp.tokenFor({ clientId: 'hospital-a', overrides: { typ: undefined } });
    await expect(verifier().verify(token)).resolves.toMatchObject({ clientId: 'hospital-a' });
  });
});

describe('A2 malformed tokens are rejected before any key fetch', () => {
  const header = Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url');
  const payload = Buffer.from('{"sub":"x"}').toString('base64url');
  it.each([
    ['an empty string', ''],
    ['two segments', `${header}.${payload}`],
    ['four segments', `${header}.${payload}.c2ln.c2ln`],
    ['a JWE-shaped five-segment token', `${header}.a.b.c.d`],
    ['a header that is not base64url', `%%%.${payload}.c2ln`],
    ['a header that is not JSON', `${Buffer.from('nope').toString('base64url')}.${payload}.c2ln`],
    [
      'a header without alg',
      `${Buffer.from('{"typ":"JWT"}').toString('base64url')}.${payload}.c2ln`,
    ],
    ['random text', 'not-a-jwt'],
  ])('%s', async (_name, token) => {
    const v = verifier();
    const fetched = await jwksFetches(() =>
      expectRejected(v, token, { code: 'UNAUTHENTICATED', reason: 'ERR_JWS_INVALID' }),
    );
    expect(fetched).toBe(0);
  });
});

describe('A3–A5, A15, A16: hostile headers and signatures', () => {
  it.each(['none', 'None', 'NONE'])('A3 alg "%s" is refused with 0 JWKS fetches', async (alg) => {
    const v = verifier();
    const token = idp.unsecuredToken();
    const variant = alg === 'none' ? token : encodeJwt({ alg, typ: 'JWT' }, { sub: 'x' });
    const fetched = await jwksFetches(() =>
      expectRejected(v, variant, {
        code: 'UNAUTHENTICATED',
        reason: 'ERR_JOSE_ALG_NOT_ALLOWED',
      }),
    );
    expect(fetched).toBe(0);
  });

  it.each(['pem', 'jwk'] as const)(
    'A4 HS256 signed with the realm public key (%s) as secret is refused with 0 JWKS fetches',
    async (secret) => {
      const v = verifier();
      const token = await idp.hmacConfusionToken(secret);
      const fetched = await jwksFetches(() =>
        expectRejected(v, token, {
          code: 'UNAUTHENTICATED',
          reason: 'ERR_JOSE_ALG_NOT_ALLOWED',
        }),
      );
      expect(fetched).toBe(0);
    },
  );

  it('A5 an attacker signature under a published kid fails signature verification', async () => {
    const token = await idp.forgedToken();
    await expectRejected(verifier(), token, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  it('A5 a tampered payload under the real signature fails signature verification', async () => {
    const token = await idp.tokenFor({ clientId: 'hospital-a', roles: ['fhir-read'] });
    const [h, p, s] = token.split('.');
    const claims = {
      ...(JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>),
      resource_access: { 'hospital-a': { roles: ['fhir-admin'] } },
    };
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    await expectRejected(verifier(), tampered, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  it('A15 a Keycloak refresh token (HMAC, typ Refresh) is refused with 0 JWKS fetches', async () => {
    const v = verifier();
    const refresh = await new SignJWT({
      iss: idp.issuer('test'),
      aud: idp.issuer('test'),
      sub: 'user-1',
      typ: 'Refresh',
      azp: 'hospital-a',
      exp: nowSec() + 1800,
      iat: nowSec(),
    })
      .setProtectedHeader({ alg: 'HS512', typ: 'JWT', kid: 'hmac-kid' })
      .sign(randomBytes(64));
    const fetched = await jwksFetches(() =>
      expectRejected(v, refresh, {
        code: 'UNAUTHENTICATED',
        reason: 'ERR_JOSE_ALG_NOT_ALLOWED',
      }),
    );
    expect(fetched).toBe(0);
  });

  it('A16 an unknown critical header is refused with 0 JWKS fetches', async () => {
    const v = verifier();
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      header: { crit: ['x-foo'], 'x-foo': 1 },
    });
    // jose reports an unrecognised critical parameter as "not supported", not as invalid.
    const fetched = await jwksFetches(() =>
      expectRejected(v, token, { code: 'UNAUTHENTICATED', reason: 'ERR_JOSE_NOT_SUPPORTED' }),
    );
    expect(fetched).toBe(0);
  });

  it('A12 key material named in the token (jku, x5u, embedded jwk) is never used or fetched', async () => {
    const attacker = await generateKeyPair('RS256', { extractable: true });
    const attackerJwk = await exportJWK(attacker.publicKey);
    const v = verifier();
    const viaOther = await idp.sign(
      {},
      {
        realm: 'other',
        header: { jku: idp.jwksUrl('other').href, x5u: idp.jwksUrl('other').href },
      },
    );
    const embedded = await idp.sign({}, { key: attacker.privateKey, header: { jwk: attackerJwk } });
    const otherFetches = await jwksFetches(async () => {
      await expectRejected(v, viaOther, {
        code: 'UNAUTHENTICATED',
        reason: 'ERR_JWKS_NO_MATCHING_KEY',
      });
      await expectRejected(v, embedded, {
        code: 'UNAUTHENTICATED',
        reason: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      });
    }, 'other');
    expect(otherFetches).toBe(0);
  });
});

describe('A6 unknown kid flood', () => {
  async function randomKidTokens(count: number): Promise<string[]> {
    return Promise.all(
      Array.from({ length: count }, () =>
        idp.forgedToken({}, { kid: randomBytes(16).toString('base64url') }),
      ),
    );
  }

  it('100 random kids on a warm cache cause at most 1 refetch per cooldown', async () => {
    freezeClock();
    const v = verifier();
    await v.verify(await idp.tokenFor({ clientId: 'hospital-a' }));
    advanceClock(31_000); // past cooldownDuration, so one refetch is allowed
    const tokens = await randomKidTokens(100);
    const started = performance.now();
    const fetched = await jwksFetches(async () => {
      const results = await Promise.allSettled(tokens.map((t) => v.verify(t)));
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason as AuthError;
        expect(reason).toBeInstanceOf(AuthError);
        expect([reason.code, reason.reason]).toEqual([
          'UNAUTHENTICATED',
          'ERR_JWKS_NO_MATCHING_KEY',
        ]);
      }
      // A second wave inside the cooldown fetches nothing.
      for (const t of tokens.slice(0, 10)) {
        await expect(v.verify(t)).rejects.toBeInstanceOf(AuthError);
      }
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(fetched).toBe(1);
  });

  it('100 random kids on a cold cache collapse into the single initial fetch', async () => {
    const v = verifier();
    const tokens = await randomKidTokens(100);
    const fetched = await jwksFetches(() => Promise.allSettled(tokens.map((t) => v.verify(t))));
    expect(fetched).toBe(1);
  });
});

describe('A7–A9 time claims (clockTolerance 30 s, maxTokenAge 15m)', () => {
  it.each([
    ['exp now-31s', { exp: -31 }, { reason: 'ERR_JWT_EXPIRED', claim: 'exp' }],
    [
      'exp now-30s (jose rejects exp <= now - tolerance)',
      { exp: -30 },
      { reason: 'ERR_JWT_EXPIRED', claim: 'exp' },
    ],
    ['nbf now+31s', { nbf: 31 }, { reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'nbf' }],
    ['iat 16 min old', { iat: -16 * 60, exp: 60 }, { reason: 'ERR_JWT_EXPIRED', claim: 'iat' }],
    [
      'iat now+31s',
      { iat: 31, exp: 300 },
      { reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iat' },
    ],
  ])('%s fails', async (_name, offsets, expected) => {
    const now = freezeClock();
    const claims = { iat: now - 60, exp: now + 300 } as Record<string, number>;
    for (const [claim, offset] of Object.entries(offsets)) {
      claims[claim] = now + offset;
    }
    const token = await idp.tokenFor({ clientId: 'hospital-a', overrides: claims });
    await expectRejected(verifier(), token, { code: 'UNAUTHENTICATED', ...expected });
  });

  it.each([
    ['exp now-29s', { exp: -29 }],
    ['nbf now+29s', { nbf: 29 }],
    ['iat 14 min old', { iat: -14 * 60, exp: 60 }],
    ['iat 15 min + 29 s old (tolerance applies to maxTokenAge)', { iat: -15 * 60 - 29, exp: 60 }],
    ['iat now+29s', { iat: 29, exp: 300 }],
  ])('%s passes', async (_name, offsets) => {
    const now = freezeClock();
    const claims = { iat: now - 60, exp: now + 300 } as Record<string, number>;
    for (const [claim, offset] of Object.entries(offsets)) {
      claims[claim] = now + offset;
    }
    const token = await idp.tokenFor({ clientId: 'hospital-a', overrides: claims });
    await expect(verifier().verify(token)).resolves.toMatchObject({ clientId: 'hospital-a' });
  });

  it.each([
    ['exp as a string', { exp: '9999999999' }],
    ['iat as a string', { iat: String(nowSec()) }],
  ])('%s fails', async (_name, overrides) => {
    const token = await idp.tokenFor({ clientId: 'hospital-a', overrides });
    const err = await expectRejected(verifier(), token, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: Object.keys(overrides)[0]!,
    });
    expect(err.code).toBe('UNAUTHENTICATED');
  });
});

describe('A10, A11 issuer', () => {
  it('A10 a token of another realm (its own key) finds no key and never touches that realm', async () => {
    const v = verifier();
    const token = await idp.tokenFor({ clientId: 'hospital-a', realm: 'other' });
    const otherFetches = await jwksFetches(
      () =>
        expectRejected(v, token, {
          code: 'UNAUTHENTICATED',
          reason: 'ERR_JWKS_NO_MATCHING_KEY',
        }),
      'other',
    );
    expect(otherFetches).toBe(0);
  });

  it('A10 our key with the other realm as iss fails the iss check', async () => {
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      overrides: { iss: idp.issuer('other') },
    });
    await expectRejected(verifier(), token, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'iss',
    });
  });

  it.each([
    ['localhost for 127.0.0.1', (iss: string) => iss.replace('127.0.0.1', 'localhost')],
    ['https for http', (iss: string) => iss.replace('http://', 'https://')],
    ['a trailing slash', (iss: string) => `${iss}/`],
    ['upper-case realm', (iss: string) => iss.replace('/realms/test', '/realms/TEST')],
    ['a keycloak:8080 host', (iss: string) => iss.replace(/127\.0\.0\.1:\d+/, 'keycloak:8080')],
    ['missing', () => undefined],
  ])('A11 issuer spelled with %s fails', async (_name, spell) => {
    const iss = spell(idp.issuer('test'));
    const token = await idp.tokenFor({ clientId: 'hospital-a', overrides: { iss } });
    await expectRejected(verifier(), token, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'iss',
    });
  });
});

describe('A13, A14, A15 audience and token type', () => {
  it.each([
    ['missing (no Audience mapper, nothing resolved)', undefined],
    ["'account' only (Keycloak's default Audience Resolve)", 'account'],
    ["['account'] only", ['account']],
    ['the hospital client (an ID token)', 'hospital-a'],
    ['a look-alike', ['fhir-gateway-x', 'xfhir-gateway']],
  ])('A13 aud %s fails', async (_name, aud) => {
    const token = await idp.tokenFor({ clientId: 'hospital-a', overrides: { aud } });
    await expectRejected(verifier(), token, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'aud',
    });
  });

  it('A14 a Keycloak ID token (typ ID, aud = the client) fails on aud first', async () => {
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      overrides: { typ: 'ID', aud: 'hospital-a', at_hash: 'x', nonce: 'n' },
    });
    await expectRejected(verifier(), token, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim: 'aud',
    });
  });

  it.each(['ID', 'Refresh', 'Offline', 'Logout', 'bearer', 'Bearer '])(
    'A14/A15 payload typ %j fails even with aud fhir-gateway',
    async (typ) => {
      const token = await idp.tokenFor({ clientId: 'hospital-a', overrides: { typ } });
      await expectRejected(verifier(), token, {
        code: 'UNAUTHENTICATED',
        reason: 'typ',
        claim: 'typ',
      });
    },
  );
});

describe('A21 required claims', () => {
  it.each(['sub', 'azp', 'iat', 'exp'])('missing %s fails', async (claim) => {
    const token = await idp.tokenFor({ clientId: 'hospital-a', overrides: { [claim]: undefined } });
    await expectRejected(verifier(), token, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED',
      claim,
    });
  });

  it.each([
    ['empty', ''],
    ['a number', 42],
    ['an object', { id: 'user-1' }],
  ])('a sub that is %s fails', async (_name, sub) => {
    const token = await idp.tokenFor({ clientId: 'hospital-a', overrides: { sub } });
    await expectRejected(verifier(), token, {
      code: 'UNAUTHENTICATED',
      reason: 'sub',
      claim: 'sub',
    });
  });
});

describe('A22, A23 tenant claim', () => {
  it('A22 client_id ≠ azp (forged client_id mapper) is TENANT_MISMATCH', async () => {
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      roles: ['fhir-read'],
      overrides: { client_id: 'hospital-b' },
    });
    await expectRejected(verifier(), token, {
      code: 'TENANT_MISMATCH',
      reason: 'azp',
      claim: 'client_id',
    });
  });

  it('A22 azp that is not a string never matches', async () => {
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      overrides: { azp: ['hospital-a'] },
    });
    await expectRejected(verifier(), token, {
      code: 'TENANT_MISMATCH',
      reason: 'azp',
      claim: 'client_id',
    });
  });

  it.each([
    ['missing (a user token without the hardcoded claim)', undefined],
    ['empty', ''],
    ['an array', ['hospital-a']],
    ['an object', { id: 'hospital-a' }],
    ['null', null],
  ])('A23 client_id %s is TENANT_UNRESOLVED (no default tenant)', async (_name, clientId) => {
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      overrides: { client_id: clientId },
    });
    await expectRejected(verifier(), token, {
      code: 'TENANT_UNRESOLVED',
      reason: 'tenant-claim',
      claim: 'client_id',
    });
  });

  it('reads the tenant from a configured claim name', async () => {
    const v = verifier({ tenantClaim: 'tenant' });
    const good = await idp.tokenFor({
      clientId: 'hospital-a',
      roles: ['fhir-write'],
      overrides: { tenant: 'hospital-a', client_id: undefined },
    });
    await expect(v.verify(good)).resolves.toMatchObject({
      clientId: 'hospital-a',
      roles: new Set(['fhir-write']),
    });
    const without = await idp.tokenFor({ clientId: 'hospital-a' });
    await expectRejected(v, without, {
      code: 'TENANT_UNRESOLVED',
      reason: 'tenant-claim',
      claim: 'tenant',
    });
  });
});

describe('A28–A30 roles', () => {
  it('A28 client-role mode: fhir-admin in realm_access only grants nothing', async () => {
    const token = await idp.tokenFor({ clientId: 'hospital-a', realmRoles: ['fhir-admin'] });
    const principal = await verifier({ roleSource: 'client' }).verify(token);
    expect(principal.roles.size).toBe(0);
  });

  it("A28 client-role mode: fhir-admin under another client's resource_access grants nothing", async () => {
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      overrides: {
        resource_access: {
          account: { roles: ['fhir-admin'] },
          'hospital-b': { roles: ['fhir-admin'] },
        },
      },
    });
    const principal = await verifier({ roleSource: 'client' }).verify(token);
    expect(principal.roles.size).toBe(0);
  });

  it('A28 realm-role mode: fhir-admin in resource_access only grants nothing', async () => {
    const token = await idp.tokenFor({ clientId: 'hospital-a', roles: ['fhir-admin'] });
    const principal = await verifier({ roleSource: 'realm' }).verify(token);
    expect(principal.roles.size).toBe(0);
  });

  it.each([
    ['the string "xfhir-adminx"', 'xfhir-adminx'],
    ['the string "fhir-admin"', 'fhir-admin'],
    ['an object', { 'fhir-admin': true }],
  ])('A29 roles as %s grant nothing, in both modes', async (_name, roles) => {
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      overrides: {
        resource_access: { 'hospital-a': { roles } },
        realm_access: { roles },
      },
    });
    expect((await verifier({ roleSource: 'client' }).verify(token)).roles.size).toBe(0);
    expect((await verifier({ roleSource: 'realm' }).verify(token)).roles.size).toBe(0);
  });

  it.each(['__proto__', 'constructor'])(
    'A29 client id %s reads no inherited roles',
    async (clientId) => {
      const token = await idp.tokenFor({ clientId, overrides: { resource_access: {} } });
      const principal = await verifier().verify(token);
      expect(principal.clientId).toBe(clientId);
      expect(principal.roles.size).toBe(0);
    },
  );

  it("A30 realm-role mode (shared-realm pitfall): a hospital-A user signing in through hospital-B's client gets fhir-read for hospital-B", async () => {
    // Realm roles are realm-wide: nothing in the token ties fhir-read to hospital A.
    const token = await idp.tokenFor({ clientId: 'hospital-b', realmRoles: ['fhir-read'] });
    const principal = await verifier({ roleSource: 'realm' }).verify(token);
    expect(principal.clientId).toBe('hospital-b');
    expect([...principal.roles]).toEqual(['fhir-read']);
  });

  it("A30 client-role mode: the same hospital-A user signing in through hospital-B's client gets no role", async () => {
    const token = await idp.tokenFor({
      clientId: 'hospital-b',
      realmRoles: ['fhir-read'],
      overrides: {
        resource_access: {
          'hospital-a': { roles: ['fhir-read'] },
          account: { roles: ['view-profile'] },
        },
      },
    });
    const principal = await verifier({ roleSource: 'client' }).verify(token);
    expect(principal.clientId).toBe('hospital-b');
    expect(principal.roles.size).toBe(0);
  });
});

describe('A17 key rotation', () => {
  let rotating: KeycloakStub;

  beforeAll(async () => {
    rotating = await startKeycloakStub({ realms: ['test'] });
  });

  afterAll(async () => {
    await rotating.close();
  });

  it('a new kid refetches once after the cooldown, and a removed kid fails after cacheMaxAge', async () => {
    freezeClock();
    const v = verifierFor(rotating);
    const k1 = rotating.currentKid('test');
    const fetches = () => rotating.requestCount('test');
    await v.verify(await rotating.tokenFor({ clientId: 'hospital-a' }));
    expect(fetches()).toBe(1);

    const k2 = await rotating.rotate('test');
    // Inside the 30 s cooldown a new kid is not fetched yet.
    await expectRejected(v, await rotating.tokenFor({ clientId: 'hospital-a' }), {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    expect(fetches()).toBe(1);

    advanceClock(31_000);
    const k2Token = await rotating.tokenFor({ clientId: 'hospital-a' });
    await expect(v.verify(k2Token)).resolves.toMatchObject({ clientId: 'hospital-a' });
    expect(fetches()).toBe(2);
    await expect(
      v.verify(await rotating.tokenFor({ clientId: 'hospital-a', kid: k1 })),
    ).resolves.toMatchObject({ clientId: 'hospital-a' });
    expect(fetches()).toBe(2);

    rotating.removeKey('test', k1);
    // Still cached: k1 keeps working until the cache is older than cacheMaxAge.
    advanceClock(60_000);
    await expect(
      v.verify(await rotating.tokenFor({ clientId: 'hospital-a', kid: k1 })),
    ).resolves.toMatchObject({ clientId: 'hospital-a' });
    expect(fetches()).toBe(2);

    advanceClock(600_000);
    await expectRejected(v, await rotating.tokenFor({ clientId: 'hospital-a', kid: k1 }), {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    expect(fetches()).toBe(3);
    expect(rotating.currentKid('test')).toBe(k2);
    await expect(
      v.verify(await rotating.tokenFor({ clientId: 'hospital-a' })),
    ).resolves.toMatchObject({ clientId: 'hospital-a' });
    expect(fetches()).toBe(3);
  });
});

describe('A18 JWKS unavailable', () => {
  it('down (HTTP 503) on a cold start is AUTH_UNAVAILABLE, and service recovers without a restart', async () => {
    const v = verifier();
    idp.setMode('test', 'down');
    const token = await idp.tokenFor({ clientId: 'hospital-a' });
    const started = performance.now();
    await expectRejected(v, token, {
      code: 'AUTH_UNAVAILABLE',
      reason: 'ERR_JOSE_GENERIC',
    });
    expect(performance.now() - started).toBeLessThan(1000);
    idp.setMode('test', 'up');
    await expect(v.verify(token)).resolves.toMatchObject({ clientId: 'hospital-a' });
  });

  it('stalled on a cold start is AUTH_UNAVAILABLE within 6 s (timeoutDuration 5 s)', async () => {
    const v = verifier();
    idp.setMode('test', 'stall');
    const token = await idp.tokenFor({ clientId: 'hospital-a' });
    const started = performance.now();
    await expectRejected(v, token, {
      code: 'AUTH_UNAVAILABLE',
      reason: 'ERR_JWKS_TIMEOUT',
    });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(4900);
    expect(elapsed).toBeLessThan(6000);
    idp.setMode('test', 'up');
    await expect(v.verify(token)).resolves.toMatchObject({ clientId: 'hospital-a' });
  });

  it('a refused connection is AUTH_UNAVAILABLE (fetch TypeError)', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const v = verifier({
      jwksUrl: new URL(`http://127.0.0.1:${port}/realms/test/protocol/openid-connect/certs`),
    });
    const err = await expectRejected(v, await idp.tokenFor({ clientId: 'hospital-a' }), {
      code: 'AUTH_UNAVAILABLE',
      reason: 'jwks-fetch-failed',
    });
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it('a JWKS that is not a key set is AUTH_UNAVAILABLE', async () => {
    const v = verifier({
      jwksUrl: new URL(`${idp.issuer('test')}/.well-known/openid-configuration`),
    });
    await expectRejected(v, await idp.tokenFor({ clientId: 'hospital-a' }), {
      code: 'AUTH_UNAVAILABLE',
      reason: 'ERR_JWKS_INVALID',
    });
  });

  it('a warm cache keeps known kids working through an outage', async () => {
    freezeClock();
    const v = verifier();
    await v.verify(await idp.tokenFor({ clientId: 'hospital-a' }));
    idp.setMode('test', 'down');
    advanceClock(5 * 60_000);
    const fetched = await jwksFetches(async () => {
      await expect(v.verify(await idp.tokenFor({ clientId: 'hospital-a' }))).resolves.toMatchObject(
        { clientId: 'hospital-a' },
      );
    });
    expect(fetched).toBe(0);
  });

  it('an unknown kid during an outage, after the cooldown, is AUTH_UNAVAILABLE rather than 401', async () => {
    freezeClock();
    const v = verifier();
    await v.verify(await idp.tokenFor({ clientId: 'hospital-a' }));
    idp.setMode('test', 'down');
    advanceClock(31_000);
    await expectRejected(v, await idp.forgedToken({}, { kid: randomBytes(8).toString('hex') }), {
      code: 'AUTH_UNAVAILABLE',
      reason: 'ERR_JOSE_GENERIC',
    });
  });

  it('a cache older than cacheMaxAge fails closed while the IdP is down', async () => {
    freezeClock();
    const v = verifier();
    await v.verify(await idp.tokenFor({ clientId: 'hospital-a' }));
    idp.setMode('test', 'down');
    advanceClock(600_001);
    await expectRejected(v, await idp.tokenFor({ clientId: 'hospital-a' }), {
      code: 'AUTH_UNAVAILABLE',
      reason: 'ERR_JOSE_GENERIC',
    });
  });
});

describe('verified-token cache (10,000 tokens, 30 s, never past exp or the maximum age)', () => {
  let keys: KeycloakStub;

  beforeAll(async () => {
    keys = await startKeycloakStub({ realms: ['test'] });
  });

  afterAll(async () => {
    await keys.close();
  });

  /**
   * t0: a first k1 token warms the JWKS; t0+10 s: `seen` verifies (cached until t0+40 s); k1 is
   * rotated out and unpublished; t0+31 s: a k2 token refetches the JWKS, which no longer has k1.
   */
  async function revokeAfterSeen(v: AccessTokenVerifier): Promise<{ seen: string }> {
    const k1 = keys.currentKid('test');
    await v.verify(await keys.tokenFor({ clientId: 'hospital-a', overrides: { sub: 'warm' } }));
    advanceClock(10_000);
    const seen = await keys.tokenFor({ clientId: 'hospital-a', overrides: { sub: 'seen' } });
    await expect(v.verify(seen)).resolves.toMatchObject({ subject: 'seen' });
    await keys.rotate('test');
    keys.removeKey('test', k1);
    advanceClock(21_000);
    const before = keys.requestCount('test');
    await expect(
      v.verify(await keys.tokenFor({ clientId: 'hospital-a', overrides: { sub: 'k2' } })),
    ).resolves.toMatchObject({ subject: 'k2' });
    expect(keys.requestCount('test') - before).toBe(1);
    // A k1 token never seen before is refused: jose no longer knows the key.
    await expectRejected(
      v,
      await keys.tokenFor({ clientId: 'hospital-a', kid: k1, overrides: { sub: 'unseen' } }),
      { code: 'UNAUTHENTICATED', reason: 'ERR_JWKS_NO_MATCHING_KEY' },
    );
    return { seen };
  }

  it('keeps accepting an already-verified token of an unpublished key for at most 30 s (the documented trade-off)', async () => {
    freezeClock();
    const v = verifierFor(keys);
    const { seen } = await revokeAfterSeen(v);
    // t0+31 s: verified 21 s ago, so the cache still answers.
    await expect(v.verify(seen)).resolves.toMatchObject({
      subject: 'seen',
      clientId: 'hospital-a',
    });
    advanceClock(9_000);
    // t0+40 s: the entry's 30 s are over; the full verification refuses the revoked key.
    await expectRejected(v, seen, { code: 'UNAUTHENTICATED', reason: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('with the cache off (max 0) the same token is refused as soon as the key is gone', async () => {
    freezeClock();
    const v = verifierFor(keys, { tokenCache: { max: 0, ttlMs: 30_000 } });
    const { seen } = await revokeAfterSeen(v);
    await expectRejected(v, seen, { code: 'UNAUTHENTICATED', reason: 'ERR_JWKS_NO_MATCHING_KEY' });
  });

  it('re-checks exp on every hit: a token inside the 30 s clock tolerance expires from the cache too', async () => {
    const now = freezeClock();
    const v = verifier();
    // exp 25 s ago: jose still accepts it (30 s tolerance) until exp + 30 s.
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      overrides: { iat: now - 120, exp: now - 25 },
    });
    await expect(v.verify(token)).resolves.toMatchObject({ clientId: 'hospital-a' });
    await expect(v.verify(token)).resolves.toMatchObject({ clientId: 'hospital-a' });
    advanceClock(6_000);
    await expectRejected(v, token, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWT_EXPIRED',
      claim: 'exp',
    });
  });

  it('re-checks the maximum token age (15 min) on every hit', async () => {
    const now = freezeClock();
    const v = verifier();
    const token = await idp.tokenFor({
      clientId: 'hospital-a',
      overrides: { iat: now - 15 * 60 - 25, exp: now + 60 },
    });
    await expect(v.verify(token)).resolves.toMatchObject({ clientId: 'hospital-a' });
    advanceClock(6_000);
    await expectRejected(v, token, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWT_EXPIRED',
      claim: 'iat',
    });
  });

  it('caches per token: a token differing only in its signature is verified on its own', async () => {
    const v = verifier();
    const token = await idp.tokenFor({ clientId: 'hospital-a', roles: ['fhir-read'] });
    await expect(v.verify(token)).resolves.toMatchObject({ clientId: 'hospital-a' });
    const [h, p, s] = token.split('.') as [string, string, string];
    // The first character's 6 bits all belong to the signature.
    const flipped = `${h}.${p}.${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`;
    await expectRejected(v, flipped, {
      code: 'UNAUTHENTICATED',
      reason: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });

  it('refuses a cache setting that is not a non-negative integer size', () => {
    expect(() => verifier({ tokenCache: { max: -1, ttlMs: 30_000 } })).toThrow(/tokenCache/);
    expect(() => verifier({ tokenCache: { max: 10, ttlMs: Number.NaN } })).toThrow(/tokenCache/);
  });
});
