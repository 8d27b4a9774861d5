import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { constants, rmSync } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import type { TestProject } from 'vitest/node';
import { HANG_BACKSTOP_MS } from './backstop.js';
import { startLogCapture } from './log-capture.js';
import { resolvePgServer } from './pg-server.js';
import type { MysqlServer } from './test-database.js';

const execFileAsync = promisify(execFile);

/** Where the server came from, for the setup's one-line report. */
export type MysqlServerSource = 'MYSQL_URL' | 'local' | 'throwaway';

/** A resolved test server and how to let go of it. */
export interface ResolvedMysqlServer {
  readonly server: MysqlServer;
  readonly source: MysqlServerSource;
  /** Stops a throwaway server and removes its datadir; a no-op for the other sources. */
  stop(): Promise<void>;
}

const LOCAL_PROBE_TIMEOUT_MS = 2000;
const THROWAWAY_START_TIMEOUT_MS = 30_000;

/**
 * Vitest global setup of the integration project: resolves the MariaDB/MySQL and PostgreSQL
 * servers once per run and hands their coordinates to the test workers (`inject('mysqlServer')`,
 * see `test-database.ts`; `inject('pgServer')`, see `test-pg-database.ts`).
 */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const resolved = await resolveMysqlServer(process.env);
  project.provide('mysqlServer', resolved.server);
  try {
    project.provide('pgServer', await resolvePgServer(process.env));
  } catch (err) {
    await resolved.stop();
    throw err;
  }
  // Every test gateway's logs and every worker's console land here; teardown scans for canaries.
  const capture = await startLogCapture();
  return async () => {
    await resolved.stop();
    await capture.finish();
  };
}

/**
 * Finds a MariaDB/MySQL server for the tests, in this order:
 * 1. `MYSQL_URL` (`mysql://user:pass@host:port`), which must answer;
 * 2. root with an empty password on 127.0.0.1:3306 (`FHIRGATE_TEST_LOCAL_MYSQL_PORT` overrides
 *    the port, to exercise the fallback), probed with a 2 s connect timeout;
 * 3. a throwaway `mariadbd` on a temp datadir and a free port, when the binaries are installed.
 * Otherwise it throws an Error that says how to get a server.
 */
export async function resolveMysqlServer(env: NodeJS.ProcessEnv): Promise<ResolvedMysqlServer> {
  // Destructured: ProcessEnv is an index signature.
  const { MYSQL_URL: fromEnv, FHIRGATE_TEST_LOCAL_MYSQL_PORT: localPort } = env;
  if (fromEnv !== undefined && fromEnv !== '') {
    const server = parseMysqlUrl(fromEnv);
    const failure = await probe(server, 5000);
    if (failure !== undefined) {
      // The URL holds a password: name the host only.
      throw new Error(
        `MYSQL_URL is set but ${server.host}:${server.port} did not accept a connection (${failure}).`,
      );
    }
    return { server, source: 'MYSQL_URL', stop: async () => {} };
  }

  const local: MysqlServer = {
    host: '127.0.0.1',
    port: parsePort(localPort ?? '3306'),
    user: 'root',
    password: '',
  };
  const localFailure = await probe(local, LOCAL_PROBE_TIMEOUT_MS);
  if (localFailure === undefined) {
    return { server: local, source: 'local', stop: async () => {} };
  }

  const mariadbd = await findExecutable('mariadbd', env);
  const installDb = await findExecutable('mariadb-install-db', env);
  if (mariadbd !== undefined && installDb !== undefined) {
    return startThrowawayMariadb(mariadbd, installDb);
  }

  throw new Error(
    `No MariaDB/MySQL server for the integration tests: MYSQL_URL is not set, ` +
      `root@127.0.0.1:${local.port} did not answer (${localFailure}), and mariadbd plus ` +
      'mariadb-install-db were not both found (PATH, /usr/sbin). Do one of: set MYSQL_URL=mysql://user:pass@host:port; ' +
      '`apt-get install mariadb-server` (the tests then start a private mariadbd); ' +
      'or start the local server (`service mariadb start`) with root usable over TCP.',
  );
}

/**
 * Parses `mysql://user:pass@host:port`. A query string is refused (mysql2 would turn it into
 * connection options); a database path is ignored, since every test creates its own database.
 */
export function parseMysqlUrl(text: string): MysqlServer {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Never echo the value: it holds a password.
    throw new Error('MYSQL_URL is not a URL; expected mysql://user:pass@host:port.');
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new Error('MYSQL_URL must start with mysql://.');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new Error('MYSQL_URL must not have a query string or fragment.');
  }
  if (url.hostname === '') {
    throw new Error('MYSQL_URL has no host.');
  }
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsePort(url.port === '' ? '3306' : url.port),
    user: url.username === '' ? 'root' : decodeURIComponent(url.username),
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

// Resolves with undefined when the server accepts root's login, else with a short reason.
async function probe(server: MysqlServer, connectTimeout: number): Promise<string | undefined> {
  try {
    const conn = await mysql.createConnection({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      connectTimeout,
    });
    await conn.end();
    return undefined;
  } catch (err) {
    return errorCode(err);
  }
}

function errorCode(err: unknown): string {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') {
    return err.code;
  }
  return err instanceof Error ? err.name : 'unknown error';
}

export async function findExecutable(
  name: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const { PATH: path = '' } = env;
  const dirs = [...path.split(delimiter).filter(Boolean), '/usr/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts a private mariadbd on a temp datadir and a free port (root, empty password, over
 * 127.0.0.1). `extraArgs` are added to the server's command line (TLS tests pass `--ssl-*`).
 */
export async function startThrowawayMariadb(
  mariadbd: string,
  installDb: string,
  extraArgs: readonly string[] = [],
): Promise<ResolvedMysqlServer> {
  const startedAt = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'fhirgate-mariadb-'));
  const dataDir = join(dir, 'data');
  const errorLog = join(dir, 'error.log');
  // mariadbd refuses to run as root unless --user=root is explicit.
  const runUser = userInfo().username;
  let child: ChildProcess | undefined;
  // A run killed with Ctrl-C or a crash must not leave a server behind.
  const killOnExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  const cleanUp = async () => {
    process.removeListener('exit', killOnExit);
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const running = child;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    try {
      await execFileAsync(
        installDb,
        [
          '--no-defaults',
          `--datadir=${dataDir}`,
          `--user=${runUser}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          '--skip-name-resolve',
        ],
        { timeout: HANG_BACKSTOP_MS },
      );
    } catch (err) {
      const output = err instanceof Error && 'stderr' in err ? String(err.stderr) : '';
      throw new Error(`mariadb-install-db failed: ${output.trim().slice(-2000)}`);
    }

    const port = await freePort();
    const spawned = spawn(
      mariadbd,
      [
        '--no-defaults',
        `--user=${runUser}`,
        `--datadir=${dataDir}`,
        '--bind-address=127.0.0.1',
        `--port=${port}`,
        `--socket=${join(dir, 'mysqld.sock')}`,
        `--pid-file=${join(dir, 'mysqld.pid')}`,
        `--log-error=${errorLog}`,
        '--skip-name-resolve',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=64M',
        '--innodb-log-file-size=16M',
        '--innodb-flush-log-at-trx-commit=0',
        '--innodb-doublewrite=0',
        '--character-set-server=utf8mb4',
        '--collation-server=utf8mb4_unicode_ci',
        ...extraArgs,
      ],
      { stdio: 'ignore' },
    );
    child = spawned;
    const spawnError = new Promise<never>((_, reject) => spawned.once('error', reject));
    spawnError.catch(() => {});

    const server: MysqlServer = { host: '127.0.0.1', port, user: 'root', password: '' };
    const deadline = Date.now() + THROWAWAY_START_TIMEOUT_MS;
    for (;;) {
      if (spawned.exitCode !== null || spawned.signalCode !== null) {
        const log = await readFile(errorLog, 'utf8').catch(() => '');
        throw new Error(`mariadbd exited during startup:\n${log.trim().slice(-2000)}`);
      }
      const failure = await Promise.race([probe(server, 1000), spawnError]);
      if (failure === undefined) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error(`mariadbd did not answer on 127.0.0.1:${port} within 30 s (${failure}).`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const ms = Math.round(performance.now() - startedAt);
    process.stderr.write(
      `[global-setup] throwaway mariadbd on 127.0.0.1:${port} ready in ${ms} ms (${dir})\n`,
    );
    return { server, source: 'throwaway', stop: cleanUp };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}
