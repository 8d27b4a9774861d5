import { describe, expect, it } from 'vitest';
import { AuthError, isAuthError } from '../../../src/auth/auth-error.js';
import type { AccessTokenVerifierOptions } from '../../../src/auth/verify-access-token.js';
import {
  createAccessTokenVerifier,
  parseBearer,
  resolveRoles,
} from '../../../src/auth/verify-access-token.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

function reasonOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (isAuthError(err, 'UNAUTHENTICATED')) {
      return err.reason;
    }
    throw err;
  }
  return undefined;
}

describe('parseBearer', () => {
  it.each([
    ['Bearer', `Bearer ${TOKEN}`],
    ['lower-case scheme', `bearer ${TOKEN}`],
    ['upper-case scheme', `BEARER ${TOKEN}`],
    ['base64 padding and token68 characters', 'Bearer abc-._~+/def=='],
  ])('accepts %s', (_name, header) => {
    expect(parseBearer(header)).toBe(header.slice('Bearer '.length));
  });

  it.each([
    ['no header', null],
    ['an empty header', ''],
    ['a blank header', '   '],
  ])('rejects %s as missing-token', (_name, header) => {
    expect(reasonOf(() => parseBearer(header))).toBe('missing-token');
  });

  it.each([
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['two spaces', `Bearer  ${TOKEN}`],
    ['a tab', `Bearer\t${TOKEN}`],
    ['a trailing space', `Bearer ${TOKEN} `],
    ['two tokens', `Bearer ${TOKEN} ${TOKEN}`],
    ['two tokens with a comma', `Bearer ${TOKEN},${TOKEN}`],
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a token without scheme', TOKEN],
    ['a quoted token', `Bearer "${TOKEN}"`],
    ['padding inside the token', 'Bearer ab=cd'],
    ['a prefixed scheme', `XBearer ${TOKEN}`],
    ['a newline', `Bearer ${TOKEN}\nX-Tenant: hospital-b`],
  ])('rejects %s as malformed-header', (_name, header) => {
    expect(reasonOf(() => parseBearer(header))).toBe('malformed-header');
  });

  it('never puts the header or token into the error', () => {
    try {
      parseBearer(`Bearer ${TOKEN} extra`);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AuthError);
      expect(
        JSON.stringify({ ...(err as AuthError), message: (err as AuthError).message }),
      ).not.toContain(TOKEN);
      expect(String(err)).not.toContain(TOKEN);
    }
  });
});

describe('resolveRoles', () => {
  const clientRoles = (roles: unknown) => ({
    resource_access: { 'hospital-a': { roles }, account: { roles: ['manage-account'] } },
  });

  it('reads client roles of the tenant client only', () => {
    const claims = {
      resource_access: {
        'hospital-a': { roles: ['fhir-read', 'fhir-write', 'uma_protection'] },
        'hospital-b': { roles: ['fhir-admin'] },
      },
      realm_access: { roles: ['fhir-admin'] },
    };
    expect([...resolveRoles(claims, 'hospital-a', 'client')].sort()).toEqual([
      'fhir-read',
      'fhir-write',
    ]);
  });

  it('reads realm roles only in realm mode', () => {
    const claims = {
      resource_access: { 'hospital-a': { roles: ['fhir-admin'] } },
      realm_access: { roles: ['offline_access', 'fhir-read'] },
    };
    expect([...resolveRoles(claims, 'hospital-a', 'realm')]).toEqual(['fhir-read']);
  });

  it.each([
    ['a string that contains a role', 'xfhir-adminx'],
    ['the exact role as a string, not an array', 'fhir-admin'],
    ['an object keyed by role', { 'fhir-admin': true }],
    ['an object with numeric keys', { 0: 'fhir-admin', length: 1 }],
    ['null', null],
    ['a number', 1],
  ])('grants nothing when roles is %s', (_name, roles) => {
    expect(resolveRoles(clientRoles(roles), 'hospital-a', 'client').size).toBe(0);
    expect(resolveRoles({ realm_access: { roles } }, 'hospital-a', 'realm').size).toBe(0);
  });

  it('keeps exact matches only and ignores non-strings inside the array', () => {
    const roles = [
      'xfhir-adminx',
      'FHIR-ADMIN',
      'fhir-admin ',
      ' fhir-write',
      ['fhir-admin'],
      { role: 'fhir-admin' },
      42,
      null,
      'fhir-read',
    ];
    expect([...resolveRoles(clientRoles(roles), 'hospital-a', 'client')]).toEqual(['fhir-read']);
  });

  it('grants nothing when the claim containers have the wrong type', () => {
    expect(resolveRoles({}, 'hospital-a', 'client').size).toBe(0);
    expect(resolveRoles({ resource_access: 'fhir-admin' }, 'hospital-a', 'client').size).toBe(0);
    expect(resolveRoles({ resource_access: [['fhir-admin']] }, 'hospital-a', 'client').size).toBe(
      0,
    );
    expect(
      resolveRoles({ resource_access: { 'hospital-a': ['fhir-admin'] } }, 'hospital-a', 'client')
        .size,
    ).toBe(0);
    expect(resolveRoles({ realm_access: ['fhir-admin'] }, 'hospital-a', 'realm').size).toBe(0);
  });

  describe('prototype keys', () => {
    it.each(['__proto__', 'constructor', 'hasOwnProperty', 'toString'])(
      'client id %s does not read Object.prototype',
      (clientId) => {
        const proto = Object.prototype as { roles?: unknown };
        proto.roles = ['fhir-admin'];
        try {
          expect(resolveRoles({ resource_access: {} }, clientId, 'client').size).toBe(0);
          expect(resolveRoles({ realm_access: {} }, clientId, 'realm').size).toBe(0);
          expect(resolveRoles({}, clientId, 'realm').size).toBe(0);
        } finally {
          delete proto.roles;
        }
      },
    );

    it('reads a JSON "__proto__" client entry as the own property it is', () => {
      // JSON.parse makes "__proto__" an own property, as in a real token payload.
      const claims = JSON.parse(
        '{"resource_access":{"__proto__":{"roles":["fhir-read"]}}}',
      ) as Record<string, unknown>;
      expect([...resolveRoles(claims, '__proto__', 'client')]).toEqual(['fhir-read']);
      expect(resolveRoles(claims, 'hospital-a', 'client').size).toBe(0);
    });

    it('ignores roles reachable only through a prototype', () => {
      const inherited = Object.create({ roles: ['fhir-admin'] }) as Record<string, unknown>;
      expect(resolveRoles({ realm_access: inherited }, 'hospital-a', 'realm').size).toBe(0);
      const access = Object.create({ 'hospital-a': { roles: ['fhir-admin'] } }) as object;
      expect(resolveRoles({ resource_access: access }, 'hospital-a', 'client').size).toBe(0);
    });

    it('does not run getters', () => {
      let called = false;
      const claims = {
        realm_access: {
          get roles() {
            called = true;
            return ['fhir-admin'];
          },
        },
      };
      expect(resolveRoles(claims, 'hospital-a', 'realm').size).toBe(0);
      expect(called).toBe(false);
    });
  });
});

describe('createAccessTokenVerifier options', () => {
  const valid: AccessTokenVerifierOptions = {
    issuer: 'https://sso.test/realms/test',
    jwksUrl: new URL('https://sso.test/realms/test/protocol/openid-connect/certs'),
    audience: 'fhir-gateway',
    algorithms: ['RS256'],
    clockToleranceSec: 30,
    maxTokenAge: '15m',
    tenantClaim: 'client_id',
    roleSource: 'client',
  };

  it('accepts the recommended options without fetching anything', () => {
    expect(() => createAccessTokenVerifier(valid)).not.toThrow();
  });

  it.each<[string, Partial<AccessTokenVerifierOptions>]>([
    ['an empty algorithm list', { algorithms: [] }],
    ['HS256 next to RS256', { algorithms: ['RS256', 'HS256'] }],
    ['alg none', { algorithms: ['none'] }],
    ['an empty issuer', { issuer: '' }],
    ['an empty audience', { audience: '' }],
    ['a negative clock tolerance', { clockToleranceSec: -1 }],
    ['a maxTokenAge typo', { maxTokenAge: '15 minutez' }],
    ['an empty tenant claim', { tenantClaim: '' }],
    ['an unknown role source', { roleSource: 'group' as 'client' }],
  ])('refuses %s at startup', (_name, change) => {
    expect(() => createAccessTokenVerifier({ ...valid, ...change })).toThrow(
      /^createAccessTokenVerifier: /,
    );
  });
});

describe('AuthError', () => {
  it('has a fixed message per code and carries reason and claim', () => {
    const err = new AuthError('TENANT_MISMATCH', { reason: 'azp', claim: 'client_id' });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('AuthError');
    expect({ code: err.code, reason: err.reason, claim: err.claim, message: err.message }).toEqual({
      code: 'TENANT_MISMATCH',
      reason: 'azp',
      claim: 'client_id',
      message: 'The access token names a tenant other than the client it was issued to.',
    });
    expect(isAuthError(err)).toBe(true);
    expect(isAuthError(err, 'UNAUTHENTICATED')).toBe(false);
    expect(isAuthError(new Error('x'))).toBe(false);
  });
});
