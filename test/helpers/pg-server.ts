import pg from 'pg';
import type { PgServer } from './test-pg-database.js';

const LOCAL_PROBE_TIMEOUT_MS = 2000;

/**
 * Finds the PostgreSQL server for the tests, in this order:
 * 1. `POSTGRES_TEST_URL` (`postgres://user:pass@host:port`), which must answer;
 * 2. user `postgres` without a password on 127.0.0.1:5432 (`FHIRGATE_TEST_LOCAL_PG_PORT`
 *    overrides the port), probed with a 2 s connect timeout.
 * Otherwise it throws an Error that says how to get a server.
 */
export async function resolvePgServer(env: NodeJS.ProcessEnv): Promise<PgServer> {
  // Destructured: ProcessEnv is an index signature.
  const { POSTGRES_TEST_URL: fromEnv, FHIRGATE_TEST_LOCAL_PG_PORT: localPort } = env;
  if (fromEnv !== undefined && fromEnv !== '') {
    const server = parsePgUrl(fromEnv);
    const failure = await probe(server, 5000);
    if (failure !== undefined) {
      // The URL may hold a password: name the host only.
      throw new Error(
        `POSTGRES_TEST_URL is set but ${server.host}:${server.port} did not accept a connection (${failure}).`,
      );
    }
    return server;
  }
  const local: PgServer = {
    host: '127.0.0.1',
    port: parsePort(localPort ?? '5432'),
    user: 'postgres',
    password: '',
  };
  const failure = await probe(local, LOCAL_PROBE_TIMEOUT_MS);
  if (failure === undefined) {
    return local;
  }
  throw new Error(
    `No PostgreSQL server for the integration tests: POSTGRES_TEST_URL is not set and ` +
      `postgres@127.0.0.1:${local.port} did not answer (${failure}). Do one of: set ` +
      'POSTGRES_TEST_URL=postgres://user:pass@host:port (a user that may create databases and roles); or ' +
      'install and start PostgreSQL (`apt-get install postgresql`, then `pg_ctlcluster <version> ' +
      'main start`) with `host all all 127.0.0.1/32 trust` in pg_hba.conf.',
  );
}

/**
 * Parses `postgres://user:pass@host:port`. A query string is refused (it would become connection
 * options); a database path is ignored, since every test creates its own database.
 */
export function parsePgUrl(text: string): PgServer {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Never echo the value: it may hold a password.
    throw new Error('POSTGRES_TEST_URL is not a URL; expected postgres://user:pass@host:port.');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error('POSTGRES_TEST_URL must start with postgres://.');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new Error('POSTGRES_TEST_URL must not have a query string or fragment.');
  }
  if (url.hostname === '') {
    throw new Error('POSTGRES_TEST_URL has no host.');
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsePort(url.port === '' ? '5432' : url.port),
    user: url.username === '' ? 'postgres' : decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`Not a TCP port: "${text}".`);
  }
  return port;
}

// Resolves with undefined when the server accepts the login, else with a short reason.
async function probe(server: PgServer, timeoutMs: number): Promise<string | undefined> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'postgres',
    connectionTimeoutMillis: timeoutMs,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    // A server error's SQLSTATE (28P01: bad password) or a socket code; never its message.
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown error';
  } finally {
    await client.end().catch(() => {});
  }
}
