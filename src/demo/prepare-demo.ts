/**
 * The embedded demo's state: everything `npm start` needs when nothing is configured, kept in one
 * data dir so a restart reuses it. Nothing here prints or logs the encryption key, the sealed
 * URLs or the issuer key.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { JWK } from 'jose';
import {
  DEFAULT_KEY_ID,
  KeyConfigError,
  type Keyring,
  openSecret,
  parseKeyring,
  sealSecret,
} from '../tenancy/crypto.js';
import { type DatabaseTarget, parseDatabaseUrl } from '../tenancy/database-url.js';
import { createTenantRegistry, type TenantRegistry } from '../tenancy/registry.js';
import { publishIfAbsent, tempPathFor, writeFileIfAbsent } from './atomic-file.js';
import type { DemoHospital } from './demo-hospital.js';
import { loadOrCreateDemoIssuer } from './demo-issuer.js';
import { DemoSetupError } from './demo-setup-error.js';
import { DEMO_HOSPITALS, loadDemoMapping, seedHospital } from './hospitals.js';

/** The demo's AES-256 key for sealing tenant URLs: 32 random bytes, base64, mode 0600. */
export const DEMO_ENCRYPTION_KEY_FILE = 'demo-encryption-key';

/** The demo's SQLite registry inside the data dir. */
export const DEMO_REGISTRY_FILE = 'registry.db';

/** Who the registry records as the author of the demo's mapping versions. */
export const DEMO_MAPPING_AUTHOR = 'fhirgate-demo';

export interface PrepareDemoOptions {
  /** Where the demo keeps its files; relative paths resolve against the cwd. Created when missing. */
  readonly dataDir: string;
  /**
   * The key id the server's keyring gives the demo key (`FHIRGATE_ENCRYPTION_KEY_ID`): URLs
   * sealed under another id would not open. @default 'k1'
   */
  readonly keyId?: string;
}

/** What `main.ts` needs to run the demo in place of a configured deployment. */
export interface DemoSetup {
  /** `sqlite:<path>` of the demo registry. Holds no secret, but keep it out of logs anyway. */
  readonly registryUrl: string;
  /** The demo encryption key (base64). Never log it. */
  readonly encryptionKey: string;
  /** The demo issuer's public keys, served at `DEMO_JWKS_PATH`. */
  readonly jwks: { readonly keys: JWK[] };
}

/**
 * Creates or reuses the demo's state in `dataDir`: the encryption key, the issuer key, the two
 * hospital databases (created and seeded only when missing), and the SQLite registry with both
 * tenants. A hospital's mapping document becomes a new active version only when it differs from
 * the active one, so an edited demo mapping takes effect on restart and plain restarts add no
 * versions. A tenant an operator disabled stays disabled.
 *
 * Every file is created atomically (temp file, then link), so a concurrent `npm run token` or a
 * second server on the same data dir never reads half a file.
 *
 * @throws DemoSetupError when the data dir's path cannot be a `sqlite:` URL (checked before
 *   anything is written) or a key file in it is unusable; the message names the file and the fix.
 */
export async function prepareDemo(options: PrepareDemoOptions): Promise<DemoSetup> {
  const dataDir = resolve(options.dataDir);
  // URLs first: a data dir they cannot name fails before anything is written.
  const registryUrl = toSqliteUrl(join(dataDir, DEMO_REGISTRY_FILE));
  const hospitals = DEMO_HOSPITALS.map((hospital) => {
    const path = join(dataDir, hospital.fileName);
    return { hospital, path, url: toSqliteUrl(path) };
  });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const keyPath = join(dataDir, DEMO_ENCRYPTION_KEY_FILE);
  const encryptionKey = loadOrCreateEncryptionKey(keyPath);
  let keyring: Keyring;
  try {
    keyring = parseKeyring({
      primaryKey: encryptionKey,
      primaryKeyId: options.keyId ?? DEFAULT_KEY_ID,
    });
  } catch (err) {
    if (err instanceof KeyConfigError && err.setting === 'FHIRGATE_ENCRYPTION_KEY') {
      // The message would name the environment variable, but the key came from the file.
      throw new DemoSetupError(
        'DEMO_ENCRYPTION_KEY_INVALID',
        `${keyPath} does not hold 32 bytes of base64; delete it to create a new demo key.`,
      );
    }
    throw err;
  }
  const issuer = await loadOrCreateDemoIssuer(dataDir);

  const registry = createTenantRegistry(parseDatabaseUrl(registryUrl), { create: true });
  try {
    await registry.applySchema();
    for (const { hospital, path, url } of hospitals) {
      await createHospitalDatabase(path, hospital);
      await registerHospital(registry, keyring, hospital, url);
    }
  } finally {
    await registry.close();
  }
  return { registryUrl, encryptionKey, jwks: issuer.jwks };
}

function loadOrCreateEncryptionKey(path: string): string {
  if (!existsSync(path)) {
    writeFileIfAbsent(path, `${randomBytes(32).toString('base64')}\n`);
  }
  return readFileSync(path, 'utf8').trim();
}

/**
 * `sqlite:<absolute path>`, or `sqlite:<path relative to the cwd>` when the absolute path has
 * characters the database URL parser refuses (spaces, non-ASCII, `:` or `%`). The relative form
 * still works: the URLs are resealed from the current cwd on every start, and the same process
 * opens them.
 */
function toSqliteUrl(path: string): string {
  const candidates = [path, relative(process.cwd(), path)];
  for (const candidate of candidates) {
    const url = `sqlite:${candidate}`;
    if (isAcceptedUrl(url)) {
      return url;
    }
  }
  throw new DemoSetupError(
    'DEMO_DATA_DIR_UNUSABLE',
    'The data dir path has characters a sqlite: URL cannot hold (spaces, non-ASCII, ":" or "%"); ' +
      'set FHIRGATE_DATA_DIR to a plain path.',
  );
}

function isAcceptedUrl(url: string): boolean {
  let target: DatabaseTarget;
  try {
    target = parseDatabaseUrl(url);
  } catch {
    return false;
  }
  return target.kind === 'sqlite';
}

/** Builds the hospital's database in a temp file and publishes it only when `path` is missing. */
async function createHospitalDatabase(path: string, hospital: DemoHospital): Promise<void> {
  if (existsSync(path)) {
    return;
  }
  const temp = tempPathFor(path);
  const db = new Database(temp);
  try {
    // One transaction, one prepared statement per table: a few thousand rows load in a blink.
    const statements = new Map<string, Database.Statement>();
    const prepared = (sql: string) => {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = db.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    };
    db.exec('BEGIN');
    // better-sqlite3 is synchronous: every exec has finished when seedHospital awaits it.
    await seedHospital((sql, params) => {
      prepared(sql).run(...params);
    }, hospital);
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    rmSync(temp, { force: true });
    throw err;
  }
  db.close();
  chmodSync(temp, 0o600);
  publishIfAbsent(temp, path);
}

async function registerHospital(
  registry: TenantRegistry,
  keyring: Keyring,
  hospital: DemoHospital,
  url: string,
): Promise<void> {
  const { clientId } = hospital;
  const found = await registry.findTenant(clientId);
  const current = found?.tenant;
  if (
    current === undefined ||
    current.displayName !== hospital.displayName ||
    current.dbType !== 'sqlite' ||
    openOrUndefined(keyring, clientId, current.sealedUrl) !== url
  ) {
    await registry.upsertTenant({
      clientId,
      displayName: hospital.displayName,
      dbType: 'sqlite',
      sealedUrl: sealSecret(keyring, clientId, url),
      status: current?.status ?? 'active',
    });
  }
  const document = JSON.stringify(loadDemoMapping(hospital));
  if (found?.mapping === undefined || canonicalJson(found.mapping.document) !== document) {
    await registry.addMapping(clientId, document, {
      activate: true,
      createdBy: DEMO_MAPPING_AUTHOR,
    });
  }
}

// A lost or replaced demo key makes the old sealed URL unreadable: seal it again.
function openOrUndefined(keyring: Keyring, clientId: string, sealed: string): string | undefined {
  try {
    return openSecret(keyring, clientId, sealed);
  } catch {
    return undefined;
  }
}

function canonicalJson(text: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return undefined;
  }
}
