import { describe, expect, it } from 'vitest';
import {
  clientAddress,
  isTrustedProxyEntry,
  NO_TRUSTED_PROXIES,
  parseTrustedProxies,
  TrustedProxyError,
} from '../../../src/security/client-address.js';

describe('clientAddress', () => {
  const trusted = parseTrustedProxies(['10.0.0.0/8', '192.0.2.1', 'fd00::/8']);

  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientAddress('198.51.100.7', '203.0.113.9', NO_TRUSTED_PROXIES)).toBe('198.51.100.7');
    expect(clientAddress('10.0.0.5', '203.0.113.9', NO_TRUSTED_PROXIES)).toBe('10.0.0.5');
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', () => {
    expect(clientAddress('198.51.100.7', '203.0.113.9', trusted)).toBe('198.51.100.7');
  });

  it('takes the right-most hop that is not a trusted proxy', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.9', trusted)).toBe('203.0.113.9');
    // The left hop was written by the client: only the hop our proxy appended counts.
    expect(clientAddress('10.0.0.5', '1.2.3.4, 203.0.113.9', trusted)).toBe('203.0.113.9');
    // A chain of trusted proxies is walked through.
    expect(clientAddress('10.0.0.5', '203.0.113.9, 192.0.2.1, 10.9.9.9', trusted)).toBe(
      '203.0.113.9',
    );
    expect(clientAddress('::ffff:10.0.0.5', '2001:db8::1', trusted)).toBe('2001:db8::1');
    expect(clientAddress('fd12::1', '203.0.113.9', trusted)).toBe('203.0.113.9');
  });

  it('stops at a hop that is not an address, at the proxy that forwarded it', () => {
    expect(clientAddress('10.0.0.5', 'unknown', trusted)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', '203.0.113.9, garbage, 10.1.1.1', trusted)).toBe('10.1.1.1');
  });

  it('is the left-most hop when every hop is a trusted proxy, and the peer without the header', () => {
    expect(clientAddress('10.0.0.5', '10.0.0.6, 10.0.0.7', trusted)).toBe('10.0.0.6');
    expect(clientAddress('10.0.0.5', null, trusted)).toBe('10.0.0.5');
    expect(clientAddress(undefined, '203.0.113.9', trusted)).toBeUndefined();
  });
});

describe('trusted proxy entries', () => {
  it('accepts addresses and CIDR ranges of both families', () => {
    for (const entry of ['10.0.0.5', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '::/128']) {
      expect(isTrustedProxyEntry(entry)).toBe(true);
    }
  });

  it('refuses anything else, naming the entry', () => {
    for (const entry of ['10.0.0.0/33', 'fd00::/129', 'proxy.local', '10.0.0.0/8/1', '10.0.0/8']) {
      expect(isTrustedProxyEntry(entry)).toBe(false);
    }
    expect(() => parseTrustedProxies(['10.0.0.0/33'])).toThrow(TrustedProxyError);
    expect(() => parseTrustedProxies(['proxy.local'])).toThrow(/"proxy\.local"/);
  });
});
