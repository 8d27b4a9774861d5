import { describe, expect, it } from 'vitest';
import { parseKeyring, sealSecret } from '../../../src/tenancy/crypto.js';
import {
  connectionTarget,
  decodeTenantConnection,
  defaultTlsMode,
  effectiveTls,
  encodeTenantConnection,
  openTenantTarget,
  TenantConnectionError,
  tlsPolicyViolation,
} from '../../../src/tenancy/tenant-connection.js';

const REMOTE = 'mysql://reader:pw@db.hospital.example:3306/his';
const LOCAL = 'mysql://reader:pw@127.0.0.1:3306/his';

describe('the sealed connection envelope', () => {
  it('stays a bare URL without TLS settings, so rows sealed before TLS settings read the same', () => {
    expect(encodeTenantConnection({ url: REMOTE })).toBe(REMOTE);
    expect(encodeTenantConnection({ url: REMOTE, tls: { mode: undefined } })).toBe(REMOTE);
    expect(decodeTenantConnection(REMOTE)).toEqual({ url: REMOTE });
  });

  it('round-trips TLS settings, PEM included', () => {
    const tls = {
      mode: 'verify-ca' as const,
      ca: '-----BEGIN CERTIFICATE-----\nx\n',
      minVersion: 'TLSv1.3' as const,
    };
    const text = encodeTenantConnection({ url: REMOTE, tls });
    expect(JSON.parse(text)).toEqual({ url: REMOTE, tls });
    expect(decodeTenantConnection(text)).toEqual({ url: REMOTE, tls });
  });

  it('refuses malformed JSON and unknown fields with a fixed message that quotes nothing', () => {
    for (const bad of [
      '{"url":',
      '{"url":"x","tls":{"mode":"sometimes"}}',
      '{"url":"x","ssl":{}}',
    ]) {
      const err = (() => {
        try {
          decodeTenantConnection(bad);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err).toBeInstanceOf(TenantConnectionError);
      expect((err as Error).message).toBe('the sealed TLS settings are malformed');
    }
  });
});

describe('TLS defaults and policy', () => {
  it('defaults to verify-full off this machine and to disable on it', () => {
    expect(defaultTlsMode('db.hospital.example')).toBe('verify-full');
    expect(defaultTlsMode('10.1.2.3')).toBe('verify-full');
    expect(defaultTlsMode('127.0.0.1')).toBe('disable');
    expect(defaultTlsMode('127.9.9.9')).toBe('disable');
    expect(defaultTlsMode('localhost')).toBe('disable');
    expect(defaultTlsMode('::1')).toBe('disable');
    const target = connectionTarget({ url: REMOTE }, 'allow-plain');
    expect(target.kind === 'mysql' && target.tls).toEqual({
      mode: 'verify-full',
      ca: undefined,
      cert: undefined,
      key: undefined,
      minVersion: 'TLSv1.2',
    });
  });

  it('require-tls forbids plain connections, require-verified also unverified TLS', () => {
    expect(tlsPolicyViolation('disable', 'allow-plain')).toBeUndefined();
    expect(tlsPolicyViolation('disable', 'require-tls')).toMatch(/plain connections are forbidden/);
    expect(tlsPolicyViolation('require', 'require-tls')).toBeUndefined();
    expect(tlsPolicyViolation('require', 'require-verified')).toMatch(/unverified TLS/);
    expect(tlsPolicyViolation('verify-ca', 'require-verified')).toBeUndefined();
    // A local URL's default (disable) is refused too: the policy has no local exception.
    expect(() => connectionTarget({ url: LOCAL }, 'require-tls')).toThrow(TenantConnectionError);
    expect(() => connectionTarget({ url: REMOTE }, 'require-verified')).not.toThrow();
  });

  it('refuses contradictory settings', () => {
    expect(() => effectiveTls('h', { mode: 'disable', ca: 'x' }, 'allow-plain')).toThrow(
      /disable takes no CA/,
    );
    expect(() => effectiveTls('h', { cert: 'x' }, 'allow-plain')).toThrow(/needs its key/);
    expect(() => effectiveTls('h', { key: 'x' }, 'allow-plain')).toThrow(/needs its key/);
    expect(() =>
      connectionTarget({ url: 'sqlite::memory:', tls: { mode: 'require' } }, 'allow-plain'),
    ).toThrow(/SQLite/);
    // SQLite files take no TLS and the policy does not apply to them.
    expect(connectionTarget({ url: 'sqlite::memory:' }, 'require-verified').kind).toBe('sqlite');
  });

  it('opens a sealed envelope bound to its tenant', () => {
    const keyring = parseKeyring({ primaryKey: Buffer.alloc(32, 3).toString('base64') });
    const sealed = sealSecret(
      keyring,
      'hospital-a',
      encodeTenantConnection({ url: REMOTE, tls: { mode: 'require' } }),
    );
    const target = openTenantTarget(keyring, 'hospital-a', sealed, 'require-tls');
    expect(target.kind === 'mysql' && target.tls?.mode).toBe('require');
    expect(() => openTenantTarget(keyring, 'hospital-b', sealed, 'allow-plain')).toThrow();
  });
});
