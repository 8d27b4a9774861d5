import { BlockList, isIP } from 'node:net';

/** The proxies whose `X-Forwarded-For` is believed (`FHIRGATE_TRUSTED_PROXIES`). */
export interface TrustedProxies {
  has(address: string): boolean;
}

/** Why a trusted-proxy entry was refused: says which entry and what is expected. */
export class TrustedProxyError extends Error {
  override readonly name = 'TrustedProxyError';
}

function familyOf(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** An IP address or a CIDR range (`10.0.0.5`, `10.0.0.0/8`, `fd00::/8`). */
export function isTrustedProxyEntry(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = familyOf(address);
  return (
    family !== undefined &&
    extra === undefined &&
    (prefix === undefined ||
      (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 'ipv4' ? 32 : 128)))
  );
}

/**
 * The trusted proxies from a list of addresses and CIDR ranges (`FHIRGATE_TRUSTED_PROXIES`,
 * validated by the config with {@link isTrustedProxyEntry}). Node's `BlockList` matches
 * IPv4-mapped IPv6 peers (`::ffff:10.0.0.5`) against IPv4 ranges too.
 */
export function parseTrustedProxies(entries: readonly string[]): TrustedProxies {
  const list = new BlockList();
  for (const entry of entries) {
    if (!isTrustedProxyEntry(entry)) {
      throw new TrustedProxyError(
        `"${entry}" is not an IP address or CIDR range (expected e.g. 10.0.0.5, 10.0.0.0/8 or fd00::/8).`,
      );
    }
    const [address = '', prefix] = entry.split('/');
    const family = familyOf(address) ?? 'ipv4';
    if (prefix === undefined) {
      list.addAddress(address, family);
    } else {
      list.addSubnet(address, Number(prefix), family);
    }
  }
  return {
    has(address) {
      const family = familyOf(address);
      return family !== undefined && list.check(address, family);
    },
  };
}

/** No proxy is trusted: the socket peer is the client. */
export const NO_TRUSTED_PROXIES: TrustedProxies = { has: () => false };

/**
 * The client address of a request: the socket peer, unless the peer is a trusted proxy; then
 * the `X-Forwarded-For` hops are walked from the right (the hop the nearest proxy appended)
 * and the first one that is not a trusted proxy is the client. Hops left of it were written by
 * the client itself and prove nothing. A hop that is not an IP address ends the walk at the
 * proxy that forwarded it, so garbage never becomes an address. A client that spoofs the header
 * from an untrusted address is its own socket peer.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | null,
  trusted: TrustedProxies,
): string | undefined {
  if (peer === undefined || forwardedFor === null || !trusted.has(peer)) {
    return peer;
  }
  const hops = forwardedFor.split(',').map((hop) => hop.trim());
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    const hop = hops[i] ?? '';
    if (familyOf(hop) === undefined) {
      return client;
    }
    client = hop;
    if (!trusted.has(hop)) {
      return hop;
    }
  }
  return client;
}
