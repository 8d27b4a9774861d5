import { describe, expect, it } from 'vitest';
import { classifyTlsFailure, mysqlSslOptions } from '../../../src/db/database-tls.js';
import { toDatabaseError } from '../../../src/db/tenant-database.js';

describe('mysql2 ssl options per mode', () => {
  it('maps each mode', () => {
    expect(mysqlSslOptions(undefined)).toBeUndefined();
    expect(mysqlSslOptions({ mode: 'disable' })).toBeUndefined();
    expect(mysqlSslOptions({ mode: 'require' })).toEqual({
      minVersion: 'TLSv1.2',
      rejectUnauthorized: false,
      verifyIdentity: false,
    });
    expect(mysqlSslOptions({ mode: 'verify-ca', ca: 'CA' })).toMatchObject({
      ca: 'CA',
      rejectUnauthorized: true,
      verifyIdentity: false,
    });
    expect(
      mysqlSslOptions({ mode: 'verify-full', cert: 'C', key: 'K', minVersion: 'TLSv1.3' }),
    ).toEqual({
      cert: 'C',
      key: 'K',
      minVersion: 'TLSv1.3',
      rejectUnauthorized: true,
      verifyIdentity: true,
    });
  });
});

describe('TLS failures', () => {
  /** mysql2 rewrites every TLS error's code to HANDSHAKE_SSL_ERROR, keeping Node's message. */
  const handshake = (message: string) =>
    Object.assign(new Error(message), { code: 'HANDSHAKE_SSL_ERROR' });

  it.each([
    ['certificate has expired', 'CERT_HAS_EXPIRED', 'the server certificate has expired'],
    [
      'self-signed certificate in certificate chain',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'the server certificate is not signed by a trusted CA',
    ],
    [
      'unable to verify the first certificate',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'the server certificate is not signed by a trusted CA',
    ],
    [
      "Hostname/IP does not match certificate's altnames: Host: db.secret. is not in the cert's altnames: DNS:x",
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'the server certificate does not name the database host',
    ],
    [
      'C0:error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      'the server does not trust the client certificate',
    ],
    ['something new', 'ERR_TLS_HANDSHAKE_FAILED', 'the TLS handshake failed'],
  ])('%s -> %s', (message, code, reason) => {
    expect(classifyTlsFailure(handshake(message))).toEqual({ code, reason });
    const dbErr = toDatabaseError(handshake(message));
    expect(dbErr).toMatchObject({ code: 'DB_UNAVAILABLE', driverCode: code, infrastructure: true });
    expect(dbErr.message).toBe(`database unavailable: ${reason}`);
    // The host names in Node's message never reach ours.
    expect(dbErr.message).not.toContain('db.secret');
  });

  it('knows the no-TLS server and leaves other errors alone', () => {
    expect(classifyTlsFailure({ code: 'HANDSHAKE_NO_SSL_SUPPORT' })?.reason).toBe(
      'TLS is required but the server does not offer it',
    );
    expect(
      classifyTlsFailure({ code: 'ECONNREFUSED', message: 'certificate has expired' }),
    ).toBeUndefined();
    expect(classifyTlsFailure(new Error('x'))).toBeUndefined();
  });
});
