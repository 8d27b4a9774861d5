/**
 * Shared pieces of the registry commands (`tenant`, `keys`): argument parsing that never echoes a
 * value, the registry and keyring from the environment, and failures with exit codes.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type CliConfig, ConfigError, loadCliConfig } from '../config.js';
import { TLS_MODES, TLS_VERSIONS, type TlsMode, type TlsVersion } from '../db/database-tls.js';
import { DatabaseError } from '../db/tenant-database.js';
import type { Keyring } from '../tenancy/crypto.js';
import { GENERATE_KEY_HINT, KeyConfigError, parseKeyring } from '../tenancy/crypto.js';
import {
  type DatabaseTarget,
  DatabaseUrlError,
  parseDatabaseUrl,
} from '../tenancy/database-url.js';
import { unopenableTenants } from '../tenancy/key-check.js';
import { createTenantRegistry, type TenantRegistry } from '../tenancy/registry.js';
import { registryTarget } from '../tenancy/registry-target.js';
import {
  checkTlsMaterial,
  connectionTarget,
  TenantConnectionError,
  type TlsPolicy,
  type TlsSettings,
} from '../tenancy/tenant-connection.js';

/**
 * A failure that ends a command with one line on stderr: exit 2 for bad usage or an environment
 * failure, 1 for a well-formed request the registry cannot satisfy (unknown or existing tenant).
 * Messages are fixed text plus client ids that passed {@link CLIENT_ID}: never a URL or a key.
 */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
  readonly exitCode: 1 | 2;
  constructor(message: string, exitCode: 1 | 2 = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Client ids the registry accepts: printable ASCII without spaces, as Keycloak client ids are. */
export const CLIENT_ID = /^[\x21-\x7e]{1,255}$/;

const SAFE_WORD = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;

/**
 * A client id as messages show it: quoted when it looks like a plain name, else a placeholder
 * (a URL pasted where the client id goes must not be echoed).
 */
export function shown(clientId: string): string {
  return /^[A-Za-z0-9._-]{1,64}$/.test(clientId) ? `"${clientId}"` : '(client id not shown)';
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  readonly options: ReadonlyMap<string, string | true>;
}

/**
 * Parses `args` against the allowed option names (`string` takes a value, `boolean` none).
 * Unknown options, a missing value and a repeated option are {@link CliFailure}s; no value is
 * ever quoted back, since a URL pasted in the wrong place must not reach the terminal log.
 */
export function parseCommandArgs(
  args: readonly string[],
  allowed: Readonly<Record<string, 'string' | 'boolean'>>,
): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, type] of Object.entries(allowed)) {
    options[name] = { type };
  }
  const { tokens } = parseArgs({
    args: [...args],
    strict: false,
    allowPositionals: true,
    tokens: true,
    options,
  });
  const positionals: string[] = [];
  const found = new Map<string, string | true>();
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') {
      continue;
    }
    const type = token.name === 'help' ? 'boolean' : allowed[token.name];
    if (type === undefined) {
      throw new CliFailure(
        SAFE_WORD.test(token.name) ? `unknown option "${token.rawName}".` : 'unknown option.',
      );
    }
    if (found.has(token.name)) {
      throw new CliFailure(`--${token.name} is given twice.`);
    }
    if (type === 'boolean') {
      if (token.value !== undefined) {
        throw new CliFailure(`--${token.name} takes no value.`);
      }
      found.set(token.name, true);
    } else {
      if (token.value === undefined || token.value === '') {
        throw new CliFailure(`--${token.name} needs a value.`);
      }
      found.set(token.name, token.value);
    }
  }
  return { positionals, options: found };
}

/** The one client id argument, checked. */
export function clientIdArg(positionals: readonly string[]): string {
  if (positionals.length === 0) {
    throw new CliFailure('the client id is required.');
  }
  if (positionals.length > 1) {
    throw new CliFailure('expected one client id (is an option name missing?).');
  }
  const clientId = positionals[0] as string;
  if (!CLIENT_ID.test(clientId)) {
    throw new CliFailure('a client id is 1 to 255 printable characters without spaces.');
  }
  return clientId;
}

/** `code` of a Node fs error, for a message that names the failure without guessing. */
export function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}

/** Reads a URL given inline or in a file; checks it with our parser. Returns text and target. */
export async function readDatabaseUrl(
  inline: string | true | undefined,
  file: string | true | undefined,
): Promise<{ readonly text: string; readonly target: DatabaseTarget }> {
  if (inline !== undefined && file !== undefined) {
    throw new CliFailure('give the database URL once, with --database-url or --database-url-file.');
  }
  let text: string;
  if (typeof inline === 'string') {
    text = inline;
  } else if (typeof file === 'string') {
    try {
      text = (await readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new CliFailure(`cannot read the database URL file (${errnoOf(err)}).`);
    }
  } else {
    throw new CliFailure('--database-url (or --database-url-file) is required.');
  }
  try {
    return { text, target: parseDatabaseUrl(text) };
  } catch (err) {
    if (err instanceof DatabaseUrlError) {
      // Fixed text per reason; holds no part of the URL.
      throw new CliFailure(`the database URL is invalid: ${err.message}`);
    }
    throw err;
  }
}

/** The options of the TLS settings, for {@link parseCommandArgs}. */
export const TLS_OPTIONS = {
  'tls-mode': 'string',
  'tls-ca-file': 'string',
  'tls-cert-file': 'string',
  'tls-key-file': 'string',
  'tls-min-version': 'string',
} as const;

export const TLS_USAGE = `TLS options (sealed with the URL; PEM files are read now, their content stored):
  --tls-mode <mode>          disable | require | verify-ca | verify-full; default verify-full,
                             or disable for a database on this machine (localhost, 127.x, ::1)
  --tls-ca-file <path>       PEM CA bundle the server certificate must chain to
                             (default: Node's bundled public roots)
  --tls-cert-file <path>     client certificate for mutual TLS (with --tls-key-file)
  --tls-key-file <path>      its unencrypted PEM private key
  --tls-min-version <v>      TLSv1.2 (default) or TLSv1.3
FHIRGATE_DB_TLS_POLICY=require-tls refuses mode disable; require-verified also refuses require.`;

async function readPem(file: string | true | undefined, what: string): Promise<string | undefined> {
  if (typeof file !== 'string') {
    return undefined;
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new CliFailure(`cannot read the ${what} (${errnoOf(err)}).`);
  }
}

/**
 * The TLS settings given with {@link TLS_OPTIONS}, files read and PEM checked; undefined when
 * none was given. Never echoes a path or a file's content.
 */
export async function readTlsSettings(
  options: ParsedArgs['options'],
): Promise<TlsSettings | undefined> {
  const mode = options.get('tls-mode');
  const minVersion = options.get('tls-min-version');
  if (mode !== undefined && !(TLS_MODES as readonly unknown[]).includes(mode)) {
    throw new CliFailure(`--tls-mode must be one of ${TLS_MODES.join(', ')}.`);
  }
  if (minVersion !== undefined && !(TLS_VERSIONS as readonly unknown[]).includes(minVersion)) {
    throw new CliFailure(`--tls-min-version must be ${TLS_VERSIONS.join(' or ')}.`);
  }
  const settings: TlsSettings = {
    mode: mode as TlsMode | undefined,
    ca: await readPem(options.get('tls-ca-file'), 'CA bundle file'),
    cert: await readPem(options.get('tls-cert-file'), 'client certificate file'),
    key: await readPem(options.get('tls-key-file'), 'client key file'),
    minVersion: minVersion as TlsVersion | undefined,
  };
  if (Object.values(settings).every((v) => v === undefined)) {
    return undefined;
  }
  try {
    checkTlsMaterial(settings);
  } catch (err) {
    if (err instanceof TenantConnectionError) {
      throw new CliFailure(`${err.message}.`);
    }
    throw err;
  }
  return settings;
}

/** The target of `url` with `tls`, checked against the policy; a CliFailure names the problem. */
export function tenantTarget(
  url: string,
  tls: TlsSettings | undefined,
  policy: TlsPolicy,
): DatabaseTarget {
  try {
    return connectionTarget({ url, tls }, policy);
  } catch (err) {
    if (err instanceof TenantConnectionError) {
      throw new CliFailure(`${err.message}.`);
    }
    if (err instanceof DatabaseUrlError) {
      throw new CliFailure(`the database URL is invalid: ${err.message}`);
    }
    throw err;
  }
}

/** Reads a JSON file; the path and the content are never echoed. */
export async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliFailure(`cannot read the ${what} (${errnoOf(err)}).`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliFailure(`the ${what} is not valid JSON.`);
  }
}

/** The environment, the keyring (when `withKeys`) and an open registry; close it when done. */
export interface RegistrySession {
  readonly config: CliConfig;
  readonly registry: TenantRegistry;
  readonly keyring: Keyring | undefined;
}

/** The keyring of a session opened with keys, or a CliFailure. */
export function keysOf(session: RegistrySession): Keyring {
  if (session.keyring === undefined) {
    throw new CliFailure(`FHIRGATE_ENCRYPTION_KEY is missing. ${GENERATE_KEY_HINT}`);
  }
  return session.keyring;
}

/**
 * `withKeys`: the keyring is required (`true`), not read (`false`), or read when set (`'optional'`).
 * `options.create`: create a missing `sqlite:` registry file (`tenant add` only); every other
 * command fails on a missing file rather than leave an empty one behind.
 */
export function openRegistry(
  withKeys: boolean | 'optional',
  options: { readonly create?: boolean } = {},
): RegistrySession {
  let config: CliConfig;
  try {
    config = loadCliConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new CliFailure(err.message);
    }
    throw err;
  }
  if (config.registryUrl === undefined) {
    throw new CliFailure('FHIRGATE_REGISTRY_URL is not set (the registry database).');
  }
  let keyring: Keyring | undefined;
  if (
    withKeys === true ||
    (withKeys === 'optional' && config.encryption.primaryKey !== undefined)
  ) {
    try {
      keyring = parseKeyring({
        primaryKey: config.encryption.primaryKey,
        primaryKeyId: config.encryption.primaryKeyId,
        oldKeys: config.encryption.oldKeys,
      });
    } catch (err) {
      if (err instanceof KeyConfigError) {
        // Names the setting and the reason, never key material.
        throw new CliFailure(err.message);
      }
      throw err;
    }
  }
  let target: DatabaseTarget;
  try {
    target = registryTarget(config.registryUrl, config.registryTls, config.dbTlsPolicy);
  } catch (err) {
    if (err instanceof TenantConnectionError) {
      throw new CliFailure(`registry TLS: ${err.message}.`);
    }
    throw new CliFailure(
      'FHIRGATE_REGISTRY_URL is not a valid mysql://, mariadb:// or sqlite: URL.',
    );
  }
  return {
    config,
    registry: createTenantRegistry(target, { create: options.create === true }),
    keyring,
  };
}

/** Fails with what to do when the registry database has no fhirgate tables yet. */
export async function requireRegistrySchema(registry: TenantRegistry): Promise<void> {
  if (!(await registry.hasSchema())) {
    throw new CliFailure(
      'the registry database has no fhirgate tables (a new or empty database, or the wrong one): ' +
        '`fhirgate tenant add` creates them with the first tenant; otherwise check FHIRGATE_REGISTRY_URL.',
    );
  }
}

/** Turns a registry failure into a one-line CliFailure (fixed text and the driver code only). */
export function registryFailure(err: unknown): unknown {
  if (err instanceof DatabaseError && err.driverCode === 'SQLITE_CANTOPEN') {
    return new CliFailure(
      'the registry file that FHIRGATE_REGISTRY_URL names does not exist (or cannot be opened): ' +
        '`fhirgate tenant add` creates it with the first tenant; otherwise correct the path.',
    );
  }
  if (err instanceof DatabaseError) {
    const driver = err.driverCode === undefined ? '' : ` (${err.driverCode})`;
    return new CliFailure(`the registry database failed: ${err.message}${driver}.`);
  }
  return err;
}

/** Runs a command body, printing a CliFailure as `fhirgate <command>: <message>`. */
export async function runReporting(
  command: string,
  err: (text: string) => void,
  body: () => Promise<number>,
): Promise<number> {
  try {
    return await body();
  } catch (e) {
    const failure = registryFailure(e);
    if (failure instanceof CliFailure) {
      err(`fhirgate ${command}: ${failure.message}\n`);
      return failure.exitCode;
    }
    throw failure;
  }
}

/**
 * Refuses (exit 1) a keyring that cannot open every row already sealed, naming those tenants by
 * client id: the key is most likely not the registry's, and anything sealed with it would fail
 * on the replicas that have the right one.
 */
export async function refuseForeignKeys(
  registry: Pick<TenantRegistry, 'listTenants'>,
  keyring: Keyring,
): Promise<void> {
  const failed = await unopenableTenants(registry, keyring);
  if (failed.length === 0) {
    return;
  }
  const names = failed.slice(0, 20).map(shown).join(', ');
  const more = failed.length > 20 ? ` and ${failed.length - 20} more` : '';
  throw new CliFailure(
    `the configured keys cannot open the sealed URL of ${failed.length} tenant${failed.length === 1 ? '' : 's'} ` +
      `(${names}${more}): FHIRGATE_ENCRYPTION_KEY or FHIRGATE_ENCRYPTION_OLD_KEYS is not the registry's; nothing was changed.`,
    1,
  );
}

/** `mysql, TLS verify-full`, `postgres, TLS disable` or `sqlite`: what a target is, never where. */
export function describeKind(target: DatabaseTarget): string {
  return target.kind === 'sqlite'
    ? 'sqlite'
    : `${target.kind}, TLS ${target.tls?.mode ?? 'disable'}`;
}
