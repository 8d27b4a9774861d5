import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findExecutable, type ResolvedMysqlServer, startThrowawayMariadb } from './global-setup.js';

const execFileAsync = promisify(execFile);

/** Certificates made at test time, as PEM text and as files (the server reads files). */
export interface TestCertificates {
  readonly dir: string;
  /** The CA the tenant trusts; it signed every certificate below. */
  readonly caPem: string;
  /** A CA nobody here used: trusting only it must fail. */
  readonly otherCaPem: string;
  /** Server certificate for `db.hospital.test` and 127.0.0.1 (not `localhost`). */
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  /** The same names, but already expired. */
  readonly expiredCertFile: string;
  readonly caFile: string;
  /** Client certificate for mutual TLS, signed by the CA. */
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** Its files, for the CLI's `--tls-*-file` options. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly otherCaFile: string;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  await execFileAsync('openssl', [...args], { cwd: dir, timeout: 30_000 });
}

/** Whether the openssl CLI can be run (the TLS tests need it to make certificates). */
export async function hasOpenssl(): Promise<boolean> {
  try {
    await execFileAsync('openssl', ['version'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** A CA key pair, a server certificate (valid and expired) and a client certificate. */
export async function makeCertificates(dir: string): Promise<TestCertificates> {
  const ca = (name: string) =>
    openssl(dir, [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=fhirgate test ${name}`,
    ]);
  await Promise.all([ca('ca'), ca('other-ca')]);
  await writeFile(
    join(dir, 'server.ext'),
    'subjectAltName=DNS:db.hospital.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
  );
  await writeFile(
    join(dir, 'client.ext'),
    'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n',
  );
  const leaf = async (name: string, subject: string, ext: string, days: string[]) => {
    await openssl(dir, [
      'req',
      ...EC_KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ]);
    await openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(Date.now() + name.length),
      '-out',
      `${name}.pem`,
      ...days,
      '-extfile',
      ext,
    ]);
  };
  // `-days -1` ends the validity a day before it starts: expired as soon as it exists.
  await Promise.all([
    leaf('server', '/CN=db.hospital.test', 'server.ext', ['-days', '2']),
    leaf('expired', '/CN=db.hospital.test', 'server.ext', ['-days', '-1']),
    leaf('client', '/CN=fhirgate-gateway', 'client.ext', ['-days', '2']),
  ]);
  // The expired certificate reuses its own key; the server needs both files.
  const file = (name: string) => join(dir, name);
  return {
    dir,
    caPem: await readFile(file('ca.pem'), 'utf8'),
    otherCaPem: await readFile(file('other-ca.pem'), 'utf8'),
    caFile: file('ca.pem'),
    otherCaFile: file('other-ca.pem'),
    serverCertFile: file('server.pem'),
    serverKeyFile: file('server.key'),
    expiredCertFile: file('expired.pem'),
    clientCertPem: await readFile(file('client.pem'), 'utf8'),
    clientKeyPem: await readFile(file('client.key'), 'utf8'),
    clientCertFile: file('client.pem'),
    clientKeyFile: file('client.key'),
  };
}

/** The mariadbd binaries, or undefined when they are not installed. */
export async function mariadbBinaries(): Promise<
  { mariadbd: string; installDb: string } | undefined
> {
  const mariadbd = await findExecutable('mariadbd', process.env);
  const installDb = await findExecutable('mariadb-install-db', process.env);
  return mariadbd === undefined || installDb === undefined ? undefined : { mariadbd, installDb };
}

/**
 * A throwaway mariadbd serving `certFile` (signed by the test CA, which it also trusts for client
 * certificates), or with TLS switched off when `certFile` is undefined.
 */
export async function startTlsMariadb(
  certs: TestCertificates,
  certFile: string | undefined,
): Promise<ResolvedMysqlServer> {
  const binaries = await mariadbBinaries();
  if (binaries === undefined) {
    throw new Error('mariadbd and mariadb-install-db are needed for the TLS tests');
  }
  const keyFile =
    certFile === certs.expiredCertFile ? join(certs.dir, 'expired.key') : certs.serverKeyFile;
  const args =
    certFile === undefined
      ? ['--skip-ssl']
      : [`--ssl-ca=${certs.caFile}`, `--ssl-cert=${certFile}`, `--ssl-key=${keyFile}`];
  return startThrowawayMariadb(binaries.mariadbd, binaries.installDb, args);
}
