import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  KeyConfigError,
  type Keyring,
  openSecret,
  parseKeyring,
  SealedSecretError,
  sealCount,
  sealedKeyId,
  sealSecret,
} from '../../../src/tenancy/crypto.js';

const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const KEY_1 = randomBytes(32);
const KEY_2 = randomBytes(32);
const URL_A = `mysql://gw:ZZPW-${randomUUID()}@db-a.example.org/his`;

function keyring(primaryKeyId = 'k1', key = KEY_1): Keyring {
  return parseKeyring({ primaryKey: key.toString('base64'), primaryKeyId });
}

function payloadOf(sealed: string): Buffer {
  return Buffer.from(sealed.split('.')[2]!, 'base64url');
}

function withPayload(sealed: string, payload: Buffer): string {
  const [version, kid] = sealed.split('.');
  return `${version}.${kid}.${payload.toString('base64url')}`;
}

function flipBit(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

function openError(ring: Keyring, clientId: string, sealed: string): SealedSecretError {
  try {
    openSecret(ring, clientId, sealed);
  } catch (err) {
    expect(err).toBeInstanceOf(SealedSecretError);
    return err as SealedSecretError;
  }
  throw new Error('expected openSecret to throw');
}

function keyringError(input: Parameters<typeof parseKeyring>[0]): KeyConfigError {
  try {
    parseKeyring(input);
  } catch (err) {
    expect(err).toBeInstanceOf(KeyConfigError);
    return err as KeyConfigError;
  }
  throw new Error('expected parseKeyring to throw');
}

/** Every rendering of an error a log line or a crash report could show. */
function renderings(err: Error): string {
  return [err.message, err.stack ?? '', String(err), JSON.stringify(err)].join('\n');
}

describe('sealSecret / openSecret', () => {
  it('round trips (71a)', () => {
    const ring = keyring();
    const sealed = sealSecret(ring, 'tenant-a', URL_A);
    expect(sealed).toMatch(/^v1\.k1\.[A-Za-z0-9_-]+$/);
    expect(openSecret(ring, 'tenant-a', sealed)).toBe(URL_A);
    // iv + ciphertext + tag
    expect(payloadOf(sealed)).toHaveLength(12 + Buffer.byteLength(URL_A) + 16);
  });

  it('round trips empty and non-ASCII plaintext', () => {
    const ring = keyring();
    expect(openSecret(ring, 'a', sealSecret(ring, 'a', ''))).toBe('');
    expect(openSecret(ring, 'a', sealSecret(ring, 'a', 'pässwörd🔑'))).toBe('pässwörd🔑');
  });

  it('gives different text for the same plaintext sealed twice (71a)', () => {
    const ring = keyring();
    const first = sealSecret(ring, 'tenant-a', URL_A);
    const second = sealSecret(ring, 'tenant-a', URL_A);
    expect(first).not.toBe(second);
    expect(payloadOf(first).subarray(0, 12)).not.toEqual(payloadOf(second).subarray(0, 12));
  });

  it('fails when a sealed value is moved to another tenant (71b)', () => {
    const ring = keyring();
    const sealedForB = sealSecret(ring, 'tenant-b', 'mysql://b:pw@db-b.example.org/his');
    const err = openError(ring, 'tenant-a', sealedForB);
    expect(err.reason).toBe('auth-failed');
    expect(err.code).toBe('SEALED_SECRET_INVALID');
    // B is unaffected
    expect(openSecret(ring, 'tenant-b', sealedForB)).toBe('mysql://b:pw@db-b.example.org/his');
  });

  it('binds the key id into the AAD', () => {
    // Same key bytes under another id: rewriting the header must not open the value
    const ring = parseKeyring({
      primaryKey: KEY_1.toString('base64'),
      primaryKeyId: 'k1',
      oldKeys: `k9:${KEY_1.toString('base64')}`,
    });
    const sealed = sealSecret(ring, 'tenant-a', URL_A);
    expect(openError(ring, 'tenant-a', sealed.replace(/^v1\.k1\./, 'v1.k9.')).reason).toBe(
      'auth-failed',
    );
  });

  it.each([
    ['the IV', 0],
    ['the IV (last byte)', 11],
    ['the ciphertext', 12],
    ['the tag', -16],
    ['the tag (last byte)', -1],
  ])('fails on a single bit flip in %s (71c)', (_name, offset) => {
    const ring = keyring();
    const sealed = sealSecret(ring, 'tenant-a', URL_A);
    const payload = payloadOf(sealed);
    const index = offset < 0 ? payload.length + offset : offset;
    const err = openError(ring, 'tenant-a', withPayload(sealed, flipBit(payload, index)));
    expect(err.reason).toBe('auth-failed');
  });

  it('fails on every single bit flip across a short payload (71c)', () => {
    const ring = keyring();
    const sealed = sealSecret(ring, 'tenant-a', 'x');
    const payload = payloadOf(sealed);
    for (let byte = 0; byte < payload.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const copy = Buffer.from(payload);
        copy[byte] = copy[byte]! ^ (1 << bit);
        expect(() => openSecret(ring, 'tenant-a', withPayload(sealed, copy))).toThrow(
          SealedSecretError,
        );
      }
    }
  });

  it.each([4, 12])('fails with a tag truncated to %i bytes (71d)', (tagBytes) => {
    const ring = keyring();
    const sealed = sealSecret(ring, 'tenant-a', URL_A);
    const payload = payloadOf(sealed);
    const truncated = payload.subarray(0, payload.length - 16 + tagBytes);
    expect(() => openSecret(ring, 'tenant-a', withPayload(sealed, truncated))).toThrow(
      SealedSecretError,
    );
  });

  it.each([4, 12])(
    'fails with a %i-byte tag on an empty plaintext as a format error (71d)',
    (tagBytes) => {
      const ring = keyring();
      const sealed = sealSecret(ring, 'tenant-a', '');
      const truncated = payloadOf(sealed).subarray(0, 12 + tagBytes);
      expect(openError(ring, 'tenant-a', withPayload(sealed, truncated)).reason).toBe('format');
    },
  );

  it('fails on an unknown key id without trying other keys (71e)', () => {
    const sealed = sealSecret(keyring('k9'), 'tenant-a', URL_A);
    const err = openError(keyring('k1'), 'tenant-a', sealed);
    expect(err.reason).toBe('unknown-kid');
    expect(err.message).toContain('unknown key id');
    expect(err.kid).toBe('k9');

    // Same bytes, different id: still refused by id, not by trial decryption
    const sameKeyOtherId = keyring('k2', KEY_1);
    expect(openError(sameKeyOtherId, 'tenant-a', sealed).reason).toBe('unknown-kid');
  });

  it('fails on an unknown version (71e)', () => {
    const ring = keyring();
    const sealed = sealSecret(ring, 'tenant-a', URL_A);
    for (const version of ['v2', 'v0', 'V1', 'x']) {
      const err = openError(ring, 'tenant-a', sealed.replace(/^v1/, version));
      expect(err.reason).toBe('version');
      expect(err.message).toContain('unsupported sealed format version');
    }
  });

  it.each([
    ['empty', ''],
    ['no separators', 'garbage'],
    ['too many parts', 'v1.k1.AAAA.AAAA'],
    ['bad kid', 'v1.k|1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['standard base64 payload', 'v1.k1.AAAAAAAAAAAAAAAAAAAA+AAAAAAAAAAAAAAAAAAA'],
    ['padded payload', 'v1.k1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=='],
    ['junk in payload', 'v1.k1.AAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAA'],
    ['short payload', `v1.k1.${Buffer.alloc(27).toString('base64url')}`],
  ])('fails on a malformed value (%s)', (_name, sealed) => {
    expect(openError(keyring(), 'tenant-a', sealed).reason).toBe('format');
  });

  it('opens old and new values during rotation and seals with the primary (71f)', () => {
    const before = keyring('k1', KEY_1);
    const oldValue = sealSecret(before, 'tenant-a', URL_A);

    const rotated = parseKeyring({
      primaryKey: KEY_2.toString('base64url'),
      primaryKeyId: 'k2',
      oldKeys: `k1:${KEY_1.toString('base64')}`,
    });
    expect(rotated.primary.kid).toBe('k2');
    expect(rotated.decryptOnly.map((k) => k.kid)).toEqual(['k1']);

    const newValue = sealSecret(rotated, 'tenant-a', URL_A);
    expect(sealedKeyId(newValue)).toBe('k2');
    expect(sealedKeyId(oldValue)).toBe('k1');
    expect(openSecret(rotated, 'tenant-a', oldValue)).toBe(URL_A);
    expect(openSecret(rotated, 'tenant-a', newValue)).toBe(URL_A);

    // Re-encrypt job: open with the ring, seal again under the primary
    const migrated = sealSecret(rotated, 'tenant-a', openSecret(rotated, 'tenant-a', oldValue));
    expect(sealedKeyId(migrated)).toBe('k2');

    // Retiring k1 too early: old rows fail by id, and can be counted
    const retired = parseKeyring({ primaryKey: KEY_2.toString('base64'), primaryKeyId: 'k2' });
    expect(openError(retired, 'tenant-a', oldValue).reason).toBe('unknown-kid');
    const rows = [oldValue, newValue, migrated, oldValue];
    expect(rows.filter((row) => sealedKeyId(row) === 'k1')).toHaveLength(2);
  });

  it('produces no duplicate IVs in 100,000 seals (71h)', () => {
    const ring = keyring('ivtest');
    const ivs = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      ivs.add(
        payloadOf(sealSecret(ring, 'tenant-a', 'x'))
          .subarray(0, 12)
          .toString('hex'),
      );
    }
    expect(ivs.size).toBe(100_000);
    expect(sealCount('ivtest')).toBe(100_000);
  });

  it('never puts the sealed value or the plaintext in an error', () => {
    const ring = keyring();
    const sealed = sealSecret(ring, 'tenant-b', URL_A);
    const payload = sealed.split('.')[2]!;
    const cases = [
      sealed,
      sealed.replace(/^v1/, 'v7'),
      withPayload(sealed, flipBit(payloadOf(sealed), 20)),
      `${sealed}.extra`,
    ];
    for (const value of cases) {
      const text = renderings(openError(ring, 'tenant-a', value));
      expect(text).not.toContain(payload.slice(0, 12));
      expect(text).not.toContain('ZZPW-');
      expect(text).not.toContain('db-a.example.org');
    }
  });

  it('rejects an empty clientId when sealing', () => {
    expect(() => sealSecret(keyring(), '', URL_A)).toThrow(TypeError);
  });
});

describe('sealedKeyId', () => {
  it('reads the key id of a v1 value and nothing else', () => {
    expect(sealedKeyId('v1.k7.AAAA')).toBe('k7');
    expect(sealedKeyId('v2.k7.AAAA')).toBeUndefined();
    expect(sealedKeyId('v1.k.7.AAAA')).toBeUndefined();
    expect(sealedKeyId('v1.k|7.AAAA')).toBeUndefined();
    expect(sealedKeyId('plain mysql://u:p@h/db')).toBeUndefined();
  });
});

describe('parseKeyring', () => {
  it('accepts standard and url-safe base64, padded or not, and defaults the id to k1', () => {
    // Pick a key whose base64 differs between the two alphabets
    const key = Buffer.alloc(32, 0xfb);
    for (const text of [
      key.toString('base64'),
      key.toString('base64url'),
      key.toString('base64').replace(/=+$/, ''),
      `${key.toString('base64url')}=`,
    ]) {
      const ring = parseKeyring({ primaryKey: text });
      expect(ring.primary.kid).toBe('k1');
      expect(ring.primary.key.equals(key)).toBe(true);
      expect(ring.decryptOnly).toEqual([]);
    }
  });

  it('parses several old keys', () => {
    const k3 = randomBytes(32);
    const ring = parseKeyring({
      primaryKey: KEY_1.toString('base64'),
      primaryKeyId: 'k4',
      oldKeys: `k2:${KEY_2.toString('base64')}, k3:${k3.toString('base64url')}`,
    });
    expect(ring.decryptOnly.map((k) => k.kid)).toEqual(['k2', 'k3']);
    expect(ring.decryptOnly[1]!.key.equals(k3)).toBe(true);
    expect(parseKeyring({ primaryKey: KEY_1.toString('base64'), oldKeys: '' }).decryptOnly).toEqual(
      [],
    );
  });

  const bad32 = randomBytes(32);
  const b64 = bad32.toString('base64');
  const cases: [string, Parameters<typeof parseKeyring>[0], string, RegExp][] = [
    ['missing', {}, 'FHIRGATE_ENCRYPTION_KEY', /missing/],
    ['empty', { primaryKey: '' }, 'FHIRGATE_ENCRYPTION_KEY', /missing/],
    ['hex', { primaryKey: bad32.toString('hex') }, 'FHIRGATE_ENCRYPTION_KEY', /decodes to 48/],
    [
      'junk characters',
      { primaryKey: `${b64.slice(0, 20)}!${b64.slice(21)}` },
      'FHIRGATE_ENCRYPTION_KEY',
      /not valid base64/,
    ],
    [
      'embedded whitespace',
      { primaryKey: `${b64.slice(0, 20)} ${b64.slice(20)}` },
      'FHIRGATE_ENCRYPTION_KEY',
      /not valid base64/,
    ],
    ['trailing newline', { primaryKey: `${b64}\n` }, 'FHIRGATE_ENCRYPTION_KEY', /not valid base64/],
    [
      'mixed alphabets',
      { primaryKey: `${Buffer.alloc(32, 0xfb).toString('base64').slice(0, 40)}-_==` },
      'FHIRGATE_ENCRYPTION_KEY',
      /not valid base64/,
    ],
    [
      'non-canonical trailing bits',
      // The 43rd character carries 2 unused bits; setting one keeps the length but breaks canon
      { primaryKey: `${b64.slice(0, 42)}${B64_ALPHABET[B64_ALPHABET.indexOf(b64[42]!) + 1]}=` },
      'FHIRGATE_ENCRYPTION_KEY',
      /not valid base64/,
    ],
    [
      '31 bytes',
      { primaryKey: bad32.subarray(0, 31).toString('base64') },
      'FHIRGATE_ENCRYPTION_KEY',
      /decodes to 31 bytes, expected 32/,
    ],
    [
      '33 bytes',
      { primaryKey: Buffer.concat([bad32, Buffer.from([7])]).toString('base64') },
      'FHIRGATE_ENCRYPTION_KEY',
      /decodes to 33 bytes, expected 32/,
    ],
    [
      'bad key id',
      { primaryKey: b64, primaryKeyId: 'k.1' },
      'FHIRGATE_ENCRYPTION_KEY_ID',
      /FHIRGATE_ENCRYPTION_KEY_ID/,
    ],
    [
      'empty key id',
      { primaryKey: b64, primaryKeyId: '' },
      'FHIRGATE_ENCRYPTION_KEY_ID',
      /FHIRGATE_ENCRYPTION_KEY_ID/,
    ],
    [
      'old key without kid',
      { primaryKey: KEY_1.toString('base64'), oldKeys: b64 },
      'FHIRGATE_ENCRYPTION_OLD_KEYS',
      /entry 1 is not of the form kid:base64/,
    ],
    [
      'old key with a bad kid',
      { primaryKey: KEY_1.toString('base64'), oldKeys: `${b64.slice(0, 10)}!:${b64}` },
      'FHIRGATE_ENCRYPTION_OLD_KEYS',
      /entry 1 has a key id/,
    ],
    [
      'old key of 31 bytes',
      {
        primaryKey: KEY_1.toString('base64'),
        oldKeys: `k2:${KEY_2.toString('base64')},k3:${bad32.subarray(0, 31).toString('base64')}`,
      },
      'FHIRGATE_ENCRYPTION_OLD_KEYS',
      /entry 2 decodes to 31 bytes, expected 32/,
    ],
    [
      'old key not base64',
      { primaryKey: KEY_1.toString('base64'), oldKeys: `k2:${b64.slice(0, 43)}*` },
      'FHIRGATE_ENCRYPTION_OLD_KEYS',
      /entry 1 is not valid base64/,
    ],
    [
      'duplicate old kid',
      { primaryKey: KEY_1.toString('base64'), oldKeys: `k2:${b64},k2:${KEY_2.toString('base64')}` },
      'FHIRGATE_ENCRYPTION_OLD_KEYS',
      /entry 2 repeats key id "k2"/,
    ],
    [
      'old kid equal to the primary kid',
      { primaryKey: KEY_1.toString('base64'), oldKeys: `k1:${b64}` },
      'FHIRGATE_ENCRYPTION_OLD_KEYS',
      /repeats key id "k1"/,
    ],
    [
      'empty old entry',
      { primaryKey: KEY_1.toString('base64'), oldKeys: `k2:${b64},` },
      'FHIRGATE_ENCRYPTION_OLD_KEYS',
      /entry 2/,
    ],
  ];

  it('tells how to make a key when the primary key is missing or malformed', () => {
    for (const input of [{}, { primaryKey: bad32.toString('hex') }, { primaryKey: '!!!!' }]) {
      expect(keyringError(input).message).toContain('`openssl rand -base64 32`');
    }
    // What the hint makes (32 random bytes in base64) is a key parseKeyring takes.
    expect(parseKeyring({ primaryKey: randomBytes(32).toString('base64') }).primary.kid).toBe('k1');
  });

  it.each(cases)('rejects a key that is %s (71g)', (_name, input, setting, message) => {
    const err = keyringError(input);
    expect(err.code).toBe('KEY_CONFIG_INVALID');
    expect(err.setting).toBe(setting);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(setting);

    // No key material in any form: the valid keys, the bad one, or any 8-character slice
    const text = renderings(err);
    const material = [KEY_1, KEY_2, bad32].flatMap((key) => [
      key.toString('base64'),
      key.toString('base64url'),
      key.toString('hex'),
    ]);
    for (const raw of [input.primaryKey, input.oldKeys]) {
      if (raw !== undefined && raw !== '') {
        material.push(raw, Buffer.from(raw, 'utf8').toString('hex'));
      }
    }
    for (const form of material) {
      for (let i = 0; i + 8 <= form.length; i += 4) {
        expect(text).not.toContain(form.slice(i, i + 8));
      }
    }
  });
});
