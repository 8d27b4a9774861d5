import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, copyFileSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HANG_BACKSTOP_MS } from './backstop.js';
import { freePort } from './global-setup.js';
import { type PgServer, pgClient } from './test-pg-database.js';
import type { TestCertificates } from './tls-mariadb.js';

const execFileAsync = promisify(execFile);

/** The role whose logins need a client certificate naming it (`clientcert=verify-full`). */
export const MTLS_ROLE = 'fhirgate-gateway';

/** A throwaway PostgreSQL server: `postgres` (trust) over 127.0.0.1 and ::1 on `port`. */
export interface ThrowawayPostgres {
  readonly server: PgServer;
  stop(): Promise<void>;
}

/** `initdb` and `postgres` of the newest PostgreSQL under /usr/lib/postgresql, if installed. */
export async function postgresBinaries(): Promise<
  { initdb: string; postgres: string } | undefined
> {
  const root = '/usr/lib/postgresql';
  const versions = (await readdir(root).catch(() => [] as string[]))
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  return newest === undefined
    ? undefined
    : {
        initdb: join(root, newest, 'bin', 'initdb'),
        postgres: join(root, newest, 'bin', 'postgres'),
      };
}

/** postgres refuses to run as root: as root, run it as the `postgres` OS user. */
function asServerUser(command: string, args: readonly string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? ['runuser', ['-u', 'postgres', '--', command, ...args]]
    : [command, [...args]];
}

/** The `postgres` OS user's ids when we run as root (the server runs as that user), else none. */
let serverIds: { uid: number; gid: number } | undefined;

async function resolveServerIds(): Promise<void> {
  if (process.getuid?.() !== 0 || serverIds !== undefined) {
    return;
  }
  const { stdout: uid } = await execFileAsync('id', ['-u', 'postgres']);
  const { stdout: gid } = await execFileAsync('id', ['-g', 'postgres']);
  serverIds = { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** Hands a path to the server's OS user: postgres wants its key files its own and 0600. */
function giveToServerUser(path: string, mode: number): void {
  if (serverIds !== undefined) {
    chownSync(path, serverIds.uid, serverIds.gid);
  }
  chmodSync(path, mode);
}

const HBA = `# Test server: trust over TCP, and a role that must present a client certificate naming it.
hostssl all ${MTLS_ROLE} 127.0.0.1/32 trust clientcert=verify-full
hostssl all ${MTLS_ROLE} ::1/128 trust clientcert=verify-full
host all ${MTLS_ROLE} all reject
host all all 127.0.0.1/32 trust
host all all ::1/128 trust
local all all trust
`;

/**
 * Starts a throwaway PostgreSQL on a fresh data directory and a free port, serving `certFile`
 * (signed by the test CA, which it also trusts for client certificates), or with TLS off when
 * `certFile` is undefined. Creates {@link MTLS_ROLE}. Stop it in `afterAll`.
 */
export async function startTlsPostgres(
  certs: TestCertificates,
  certFile: string | undefined,
): Promise<ThrowawayPostgres> {
  const binaries = await postgresBinaries();
  if (binaries === undefined) {
    throw new Error(
      'PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are needed for the TLS tests',
    );
  }
  await resolveServerIds();
  const dir = await mkdtemp(join(tmpdir(), 'fhirgate-pg-'));
  giveToServerUser(dir, 0o700);
  const dataDir = join(dir, 'data');
  const log = join(dir, 'server.log');
  let child: ChildProcess | undefined;
  // A run killed with Ctrl-C or a crash must not leave a server behind.
  const killOnExit = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    const running = child;
    if (running !== undefined && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      // The postmaster's own pid: runuser need not pass signals on. SIGINT is a fast shutdown.
      const pid = Number(
        (await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0],
      );
      if (Number.isSafeInteger(pid) && pid > 0) {
        process.kill(pid, 'SIGINT');
      } else {
        running.kill('SIGINT');
      }
      const timer = setTimeout(() => running.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const [initCommand, initArgs] = asServerUser(binaries.initdb, [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    try {
      await execFileAsync(initCommand, initArgs, { timeout: HANG_BACKSTOP_MS });
    } catch (err) {
      const output = err instanceof Error && 'stderr' in err ? String(err.stderr) : '';
      throw new Error(`initdb failed: ${output.trim().slice(-2000)}`);
    }
    const hba = join(dir, 'pg_hba.conf');
    await writeFile(hba, HBA);
    giveToServerUser(hba, 0o600);
    const tls: string[] = [];
    if (certFile !== undefined) {
      const keyFile =
        certFile === certs.expiredCertFile ? join(certs.dir, 'expired.key') : certs.serverKeyFile;
      for (const [from, to] of [
        [certFile, 'server.crt'],
        [keyFile, 'server.key'],
        [certs.caFile, 'ca.crt'],
      ] as const) {
        copyFileSync(from, join(dir, to));
        giveToServerUser(join(dir, to), 0o600);
      }
      tls.push(
        '-c',
        'ssl=on',
        '-c',
        `ssl_cert_file=${join(dir, 'server.crt')}`,
        '-c',
        `ssl_key_file=${join(dir, 'server.key')}`,
        '-c',
        `ssl_ca_file=${join(dir, 'ca.crt')}`,
      );
    }
    const port = await freePort();
    const [command, args] = asServerUser(binaries.postgres, [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-h',
      '127.0.0.1,::1',
      '-k',
      dir,
      '-c',
      `hba_file=${hba}`,
      '-c',
      'fsync=off',
      '-c',
      'logging_collector=off',
      ...tls,
    ]);
    const logFile = openSync(log, 'w');
    const spawned = spawn(command, args, { stdio: ['ignore', logFile, logFile] });
    child = spawned;
    closeSync(logFile);
    const server: PgServer = { host: '127.0.0.1', port, user: 'postgres', password: '' };
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (spawned.exitCode !== null || spawned.signalCode !== null) {
        const text = await readFile(log, 'utf8').catch(() => '');
        throw new Error(`postgres exited during startup:\n${text.trim().slice(-2000)}`);
      }
      const client = pgClient(server);
      const ready = await client.connect().then(
        async () => {
          await client.query(`CREATE ROLE "${MTLS_ROLE}" LOGIN`);
          return true;
        },
        () => false,
      );
      await client.end().catch(() => undefined);
      if (ready) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error('postgres did not accept connections within 60 s');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { server, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
