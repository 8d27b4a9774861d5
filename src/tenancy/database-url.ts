/**
 * Our own parser for decrypted tenant database URLs. No driver sees a URL string: mysql2's
 * `parseUrl` turns every query parameter into a connection option (`multipleStatements`, `debug`,
 * `ssl`, ...), and an explicit `false` does not override it; pg's connection strings do the same
 * (`sslmode`, `options`, `host=/socket`). `new URL` is not used either, because its errors carry
 * the whole URL, password included, in `err.input`.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { basename } from 'node:path';
import type { DatabaseTls } from '../db/database-tls.js';

/** A database server reached over TCP, as explicit connection fields. */
export interface ServerFields {
  /** Lower-case hostname, dotted IPv4, or IPv6 without brackets. */
  host: string;
  /** Default 3306 (MySQL/MariaDB) or 5432 (PostgreSQL). */
  port: number;
  user: string;
  /** Percent-decoded; `''` when the URL has none. */
  password: string;
  database: string;
  /**
   * TLS to the server. The URL never sets it (no query options): it is added from the
   * tenant's sealed settings or the registry's environment; absent means plain TCP.
   */
  tls?: DatabaseTls | undefined;
}

/** Where a tenant's data lives, as explicit connection fields. */
export type DatabaseTarget =
  | ({ kind: 'mysql' } & ServerFields)
  | ({ kind: 'postgres' } & ServerFields)
  | { kind: 'sqlite'; path: string };

/** The targets reached over TCP. */
export type ServerTarget = Exclude<DatabaseTarget, { kind: 'sqlite' }>;

/** The part of a database URL that made it unacceptable. */
export type DatabaseUrlPart =
  | 'scheme'
  | 'userinfo'
  | 'host'
  | 'port'
  | 'database'
  | 'query'
  | 'fragment'
  | 'path'
  | 'format';

/**
 * A tenant database URL was rejected. The message is fixed text per reason and never holds the
 * URL or any part of it (user, password, host), and there is no `cause` or `input` to leak one.
 */
export class DatabaseUrlError extends Error {
  readonly code = 'DB_URL_INVALID';
  readonly part: DatabaseUrlPart;

  constructor(part: DatabaseUrlPart, reason: string) {
    super(`database URL rejected: ${reason}.`);
    this.name = 'DatabaseUrlError';
    this.part = part;
  }
}

/** MySQL's default port. */
export const DEFAULT_MYSQL_PORT = 3306;

/** PostgreSQL's default port. */
export const DEFAULT_POSTGRES_PORT = 5432;

/** Why a PostgreSQL URL is refused for the registry and the audit store. */
export const CONTROL_PLANE_SCHEMES =
  'the registry and the audit store run on MySQL/MariaDB (mysql://, mariadb://) or SQLite (sqlite:); PostgreSQL serves tenants only';

/** Longer than any sane DSN; bounds the regex work on corrupt input. */
const MAX_URL_LENGTH = 2048;

const DATABASE_PATTERN = /^[A-Za-z0-9_$-]{1,64}$/;
/** RFC 3986 userinfo characters, `%` escapes checked separately; `:` only in the password. */
const USER_PATTERN = /^[A-Za-z0-9._~!$&'()*+,;=%-]+$/;
const PASSWORD_PATTERN = /^[A-Za-z0-9._~!$&'()*+,;=%:-]*$/;
const LABEL_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** A last label the WHATWG URL parser and inet_aton read as a number, e.g. `1.2.3` or `0x7f`. */
const NUMERIC_LABEL_PATTERN = /^(?:0x[0-9a-f]*|[0-9]+)$/i;
// Decoded user names and passwords may hold any character except controls
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL_PATTERN = /[\u0000-\u001f\u007f]/;

function reject(part: DatabaseUrlPart, reason: string): never {
  throw new DatabaseUrlError(part, reason);
}

function percentDecode(text: string, part: DatabaseUrlPart): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) {
    reject(part, 'malformed percent-escape in the credentials');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    // Valid escapes that are not UTF-8
    return reject(part, 'malformed percent-escape in the credentials');
  }
  if (CONTROL_PATTERN.test(decoded)) {
    reject(part, 'control characters are not allowed in the credentials');
  }
  return decoded;
}

function parseHost(text: string): { host: string; portText: string | undefined } {
  if (text.startsWith('[')) {
    const match = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(text);
    if (match === null || !isIPv6(match[1] ?? '')) {
      return reject('host', 'the host is not a valid bracketed IPv6 address');
    }
    return { host: (match[1] ?? '').toLowerCase(), portText: match[2] };
  }
  const colon = text.indexOf(':');
  const host = colon < 0 ? text : text.slice(0, colon);
  const portText = colon < 0 ? undefined : text.slice(colon + 1);
  if (host === '') {
    reject('host', 'the host is empty');
  }
  if (isIPv4(host)) {
    return { host, portText };
  }
  const labels = host.split('.');
  const last = labels[labels.length - 1] ?? '';
  if (
    host.length > 253 ||
    !labels.every((label) => LABEL_PATTERN.test(label)) ||
    // `10.1` or `0x7f.1` would be resolved as an IPv4 number, bypassing any host allowlist
    NUMERIC_LABEL_PATTERN.test(last)
  ) {
    reject('host', 'the host is not a valid hostname or IP address');
  }
  return { host: host.toLowerCase(), portText };
}

function parsePort(text: string | undefined, defaultPort: number): number {
  if (text === undefined) {
    return defaultPort;
  }
  const port = /^[1-9][0-9]{0,4}$/.test(text) ? Number(text) : 0;
  if (port < 1 || port > 65535) {
    reject('port', 'the port must be an integer from 1 to 65535');
  }
  return port;
}

function parseServer(rest: string, kind: ServerTarget['kind']): ServerTarget {
  if (!rest.startsWith('//')) {
    reject('format', 'expected scheme://user:password@host:port/database');
  }
  const afterSlashes = rest.slice(2);
  const slash = afterSlashes.indexOf('/');
  const authority = slash < 0 ? afterSlashes : afterSlashes.slice(0, slash);
  const path = slash < 0 ? '' : afterSlashes.slice(slash + 1);

  const at = authority.indexOf('@');
  if (at < 0) {
    reject('userinfo', 'a user name is required');
  }
  if (authority.indexOf('@', at + 1) >= 0) {
    reject('userinfo', 'an "@" in the credentials must be percent-encoded');
  }
  const userinfo = authority.slice(0, at);
  const colon = userinfo.indexOf(':');
  const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const rawPassword = colon < 0 ? '' : userinfo.slice(colon + 1);
  if (rawUser === '') {
    reject('userinfo', 'a user name is required');
  }
  if (!USER_PATTERN.test(rawUser) || !PASSWORD_PATTERN.test(rawPassword)) {
    reject('userinfo', 'the credentials contain characters that must be percent-encoded');
  }
  const user = percentDecode(rawUser, 'userinfo');
  const password = percentDecode(rawPassword, 'userinfo');

  const { host, portText } = parseHost(authority.slice(at + 1));
  const port = parsePort(
    portText,
    kind === 'postgres' ? DEFAULT_POSTGRES_PORT : DEFAULT_MYSQL_PORT,
  );

  if (path === '') {
    reject('database', 'a database name is required');
  }
  if (path.includes('/')) {
    reject('path', 'only one path segment, the database name, is allowed');
  }
  if (!DATABASE_PATTERN.test(path)) {
    reject('database', 'the database name must be 1 to 64 characters of A-Z, a-z, 0-9, _, $ or -');
  }
  return { kind, host, port, user, password, database: path };
}

function parseSqlite(rest: string): DatabaseTarget {
  if (rest === ':memory:') {
    return { kind: 'sqlite', path: ':memory:' };
  }
  let path = rest;
  if (rest.startsWith('//')) {
    // `sqlite:///abs/path.db`: an empty authority followed by an absolute path
    path = rest.slice(2);
    if (path !== '' && !path.startsWith('/')) {
      reject('host', 'sqlite URLs take no host');
    }
  }
  if (path === '') {
    reject('path', 'the sqlite path is empty');
  }
  // `:` would admit `file:` URIs and `:memory:` variants; `%` would suggest escapes we do not decode
  if (/[:%]/.test(path)) {
    reject('path', 'the sqlite path contains ":" or "%"');
  }
  if (path.endsWith('/')) {
    reject('path', 'the sqlite path names a directory');
  }
  return { kind: 'sqlite', path };
}

/**
 * Parses a decrypted tenant database URL into explicit connection fields.
 *
 * Accepts `mysql://` and `mariadb://` (port default 3306) and `postgres://` and `postgresql://`
 * (port default 5432) as `scheme://user[:password]@host[:port]/database` (user and password
 * percent-decoded; IPv6 hosts in brackets), and `sqlite:path`,
 * `sqlite:///abs/path` or `sqlite::memory:`. Rejects any query string or fragment, since every
 * option the gateway sets is fixed in code, and anything else it does not recognise.
 *
 * @throws DatabaseUrlError whose `part` says what is wrong and whose message holds no part of
 *   the URL.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (typeof url !== 'string' || url === '') {
    reject('format', 'the URL is empty');
  }
  if (url.length > MAX_URL_LENGTH) {
    reject('format', 'the URL is too long');
  }
  // Printable ASCII only: no whitespace, controls, or look-alike Unicode hosts
  if (!/^[\x21-\x7e]+$/.test(url)) {
    reject('format', 'whitespace, control and non-ASCII characters are not allowed');
  }
  const query = url.indexOf('?');
  const fragment = url.indexOf('#');
  if (query >= 0 && (fragment < 0 || query < fragment)) {
    reject('query', 'query parameters are not allowed');
  }
  if (fragment >= 0) {
    reject('fragment', 'a fragment is not allowed');
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  if (scheme === null) {
    return reject('scheme', 'the URL has no scheme');
  }
  const rest = url.slice(scheme[0].length);
  switch (scheme[1]?.toLowerCase()) {
    case 'mysql':
    case 'mariadb':
      return parseServer(rest, 'mysql');
    case 'postgres':
    case 'postgresql':
      return parseServer(rest, 'postgres');
    case 'sqlite':
      return parseSqlite(rest);
    default:
      return reject('scheme', 'the scheme must be mysql, mariadb, postgres, postgresql or sqlite');
  }
}

/**
 * A description of a target that is safe to log: kind, host, port and database for a server, and the
 * file's basename for SQLite. It never includes the user or the password.
 */
export function describeDatabaseTarget(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') {
    return `sqlite ${target.path === ':memory:' ? ':memory:' : basename(target.path)}`;
  }
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.kind} ${host}:${target.port}/${target.database}`;
}
