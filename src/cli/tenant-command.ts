import { tenantHash } from '../logger.js';
import { openSecret, SealedSecretError, sealedKeyId, sealSecret } from '../tenancy/crypto.js';
import {
  decodeTenantConnection,
  encodeTenantConnection,
  TenantConnectionError,
  type TlsSettings,
} from '../tenancy/tenant-connection.js';
import { audited, operatorName } from './cli-audit.js';
import {
  CliFailure,
  clientIdArg,
  describeKind,
  keysOf,
  openRegistry,
  parseCommandArgs,
  type RegistrySession,
  readDatabaseUrl,
  readJsonFile,
  readTlsSettings,
  refuseForeignKeys,
  requireRegistrySchema,
  runReporting,
  shown,
  TLS_OPTIONS,
  TLS_USAGE,
  tenantTarget,
} from './cli-support.js';
import type { CliCommand, CliIo } from './main.js';
import { replicaStatus } from './replica-status.js';
import { announceChange, checkTenantDatabase } from './tenant-check.js';

export const TENANT_USAGE = `Usage:
  fhirgate tenant add <client-id> (--database-url <url> | --database-url-file <path>)
                      [--mapping <file>] [--name <text>] [TLS options]
  fhirgate tenant update <client-id> [--database-url <url> | --database-url-file <path>]
                      [--name <text>] [TLS options]
  fhirgate tenant remove <client-id> --yes
  fhirgate tenant list
  fhirgate tenant show <client-id> [--gateway <graphql-url> --token-file <path>]
  fhirgate tenant disable <client-id>
  fhirgate tenant enable <client-id>

add      registers a tenant: the URL is checked by fhirgate's parser (mysql://, mariadb://,
         postgres://, postgresql://, sqlite:), sealed with its TLS settings under
         FHIRGATE_ENCRYPTION_KEY and stored; the
         registry tables are created when missing. The key must open every row already sealed
         (else the tenants it cannot open are named and nothing is added). With --mapping the
         document is first checked against the tenant's live database (as "mapping check"
         does) and stored as version 1, active. Without it the tenant answers
         TENANT_CONFIG_INVALID until one is activated ("fhirgate mapping activate", or its own
         admin through the activateTenantMapping admin field).
update   changes the URL, the TLS settings (given options replace those fields; --tls-mode
         disable drops the rest) and/or the display name. A new URL or TLS setting is tried
         first: the database must answer and the active mapping must pass the checker there.
remove   offboards a tenant: its row and mapping versions are deleted, its audit rows kept;
         every gateway told through REDIS_URL closes its pool and drops its cache and breaker.
list     one line per tenant: client id, log hash, status, database type, key id, active
         mapping version. URLs are never printed.
show     one tenant: name, status, log hash, database type and TLS mode, key id, mapping
         versions; never the URL, a password or a key. With --gateway and --token-file (an
         access token with fhir-admin, e.g. from "fhirgate token --issuer ..."), also that
         replica's view: status, served mapping version, pool, breaker and last error.
disable  refuses the tenant's requests (UNKNOWN_TENANT) from the next config load; with
enable   REDIS_URL set, running gateways are told at once, otherwise within FHIRGATE_CONFIG_TTL_MS.

The log hash is what gateway log lines and metrics carry as "tenant" (see docs/tenants.md).
Every change is audited (an admin AuditEvent naming the operator's login) in the audit table.

${TLS_USAGE}

Environment: FHIRGATE_REGISTRY_URL (required), FHIRGATE_ENCRYPTION_KEY (add, update, show),
FHIRGATE_ENCRYPTION_KEY_ID, FHIRGATE_ENCRYPTION_OLD_KEYS, FHIRGATE_DB_TLS_POLICY,
FHIRGATE_REGISTRY_TLS_*, REDIS_URL and FHIRGATE_RELOAD_CHANNEL (optional).

Exit codes: 0 done, 1 the registry refused (unknown tenant, client id taken, mapping problems,
a key that cannot open existing rows), 2 bad usage, an invalid URL or file, or an unreachable
database.
`;

async function add(args: readonly string[], io: CliIo, open: () => RegistrySession) {
  const parsed = parseCommandArgs(args, {
    'database-url': 'string',
    'database-url-file': 'string',
    mapping: 'string',
    name: 'string',
    ...TLS_OPTIONS,
  });
  if (parsed.options.has('help')) {
    io.out(TENANT_USAGE);
    return 0;
  }
  const clientId = clientIdArg(parsed.positionals);
  const url = await readDatabaseUrl(
    parsed.options.get('database-url'),
    parsed.options.get('database-url-file'),
  );
  const tls = await readTlsSettings(parsed.options);
  const mappingFile = parsed.options.get('mapping');
  const document =
    typeof mappingFile === 'string' ? await readJsonFile(mappingFile, 'mapping file') : undefined;
  const name = parsed.options.get('name');
  const session = open();
  const { registry, config } = session;
  try {
    const keyring = keysOf(session);
    const target = tenantTarget(url.text, tls, config.dbTlsPolicy);
    await registry.applySchema();
    await audited(session, { action: 'tenantAdd', target: clientId, crud: 'C' }, async () => {
      await refuseForeignKeys(registry, keyring);
      await checkTenantDatabase(target, document, io, 'the tenant was not added');
      const sealedUrl = sealSecret(
        keyring,
        clientId,
        encodeTenantConnection({ url: url.text, tls }),
      );
      const created = await registry.createTenant({
        clientId,
        displayName: typeof name === 'string' ? name : clientId,
        dbType: target.kind,
        sealedUrl,
        status: 'active',
      });
      if (!created) {
        throw new CliFailure(`tenant ${shown(clientId)} already exists; nothing was changed.`, 1);
      }
      let mapping = 'no mapping yet (activate one before it can serve)';
      let version: number | null = null;
      if (document !== undefined) {
        version = await registry.addMapping(clientId, JSON.stringify(document), {
          activate: true,
          createdBy: `fhirgate-cli:${operatorName()}`,
        });
        mapping = `mapping version ${version} active`;
      }
      io.out(
        `Added tenant ${shown(clientId)} (${describeKind(target)}, URL sealed with key ${keyring.primary.kid}); ${mapping}.\n`,
      );
      return {
        tlsMode: target.kind === 'sqlite' ? null : (target.tls?.mode ?? 'disable'),
        version,
      };
    });
    return 0;
  } finally {
    await registry.close();
  }
}

/** Given TLS fields replace the stored ones; `disable` drops the rest (it takes none). */
export function mergeTls(
  stored: TlsSettings | undefined,
  given: TlsSettings | undefined,
): TlsSettings | undefined {
  if (given === undefined) {
    return stored;
  }
  if (given.mode === 'disable') {
    return { mode: 'disable' };
  }
  const merged: Record<string, unknown> = { ...stored };
  for (const [field, value] of Object.entries(given)) {
    if (value !== undefined) {
      merged[field] = value;
    }
  }
  return merged as TlsSettings;
}

async function update(args: readonly string[], io: CliIo, open: () => RegistrySession) {
  const parsed = parseCommandArgs(args, {
    'database-url': 'string',
    'database-url-file': 'string',
    name: 'string',
    ...TLS_OPTIONS,
  });
  if (parsed.options.has('help')) {
    io.out(TENANT_USAGE);
    return 0;
  }
  const clientId = clientIdArg(parsed.positionals);
  const inline = parsed.options.get('database-url');
  const file = parsed.options.get('database-url-file');
  const url =
    inline === undefined && file === undefined ? undefined : await readDatabaseUrl(inline, file);
  const tls = await readTlsSettings(parsed.options);
  const name = parsed.options.get('name');
  if (url === undefined && tls === undefined && name === undefined) {
    throw new CliFailure('nothing to change: give a URL, a TLS option or --name.');
  }
  const session = open();
  const { registry, config } = session;
  try {
    await audited(session, { action: 'tenantUpdate', target: clientId, crud: 'U' }, async () => {
      const found = await registry.findTenant(clientId);
      if (found === undefined) {
        throw new CliFailure(`unknown tenant ${shown(clientId)}.`, 1);
      }
      const changed: string[] = [];
      let tlsMode: string | null = null;
      if (url !== undefined || tls !== undefined) {
        const keyring = keysOf(session);
        let current: ReturnType<typeof decodeTenantConnection> | undefined;
        try {
          current = decodeTenantConnection(openSecret(keyring, clientId, found.tenant.sealedUrl));
        } catch (err) {
          if (!(err instanceof SealedSecretError || err instanceof TenantConnectionError)) {
            throw err;
          }
          // A new URL (with its TLS settings) can replace a row the keys cannot open.
          if (url === undefined) {
            throw new CliFailure(
              "the tenant's sealed URL cannot be opened with the configured keys; give the full " +
                'connection (--database-url and the TLS options) to replace it.',
              1,
            );
          }
        }
        const next = {
          url: url?.text ?? (current?.url as string),
          // A new URL keeps the stored TLS settings (often the same CA) unless options change them.
          tls: mergeTls(current?.tls, tls),
        };
        const target = tenantTarget(next.url, next.tls, config.dbTlsPolicy);
        if (target.kind !== found.tenant.dbType) {
          throw new CliFailure(
            `the database type cannot change (${found.tenant.dbType} to ${target.kind}); remove and add the tenant instead.`,
          );
        }
        const document =
          found.mapping === undefined ? undefined : (JSON.parse(found.mapping.document) as unknown);
        await checkTenantDatabase(target, document, io, 'the tenant was not changed');
        const sealed = sealSecret(keyring, clientId, encodeTenantConnection(next));
        if (!(await registry.replaceSealedUrl(clientId, found.tenant.sealedUrl, sealed))) {
          throw new CliFailure(
            'the tenant was changed concurrently; nothing was changed, run again.',
            1,
          );
        }
        if (url !== undefined) {
          changed.push('URL');
        }
        if (tls !== undefined) {
          changed.push('TLS settings');
        }
        tlsMode = target.kind === 'sqlite' ? null : (target.tls?.mode ?? 'disable');
      }
      if (typeof name === 'string') {
        await registry.setDisplayName(clientId, name);
        changed.push('display name');
      }
      const { published, when } = await announceChange(config, clientId);
      io.out(`Updated tenant ${shown(clientId)}: ${changed.join(', ')}; ${when}.\n`);
      return { changed: changed.join(', '), tlsMode, published };
    });
    return 0;
  } finally {
    await registry.close();
  }
}

async function remove(args: readonly string[], io: CliIo, open: () => RegistrySession) {
  const parsed = parseCommandArgs(args, { yes: 'boolean' });
  if (parsed.options.has('help')) {
    io.out(TENANT_USAGE);
    return 0;
  }
  const clientId = clientIdArg(parsed.positionals);
  if (!parsed.options.has('yes')) {
    throw new CliFailure(
      'removing a tenant deletes its registry row and every mapping version; add --yes to confirm.',
    );
  }
  const session = open();
  const { registry, config } = session;
  try {
    await audited(session, { action: 'tenantRemove', target: clientId, crud: 'D' }, async () => {
      const versions = (await registry.listMappings(clientId)).length;
      if (!(await registry.removeTenant(clientId))) {
        throw new CliFailure(`unknown tenant ${shown(clientId)}.`, 1);
      }
      const { published, when } = await announceChange(config, clientId);
      io.out(
        `Removed tenant ${shown(clientId)} and its ${versions} mapping version${versions === 1 ? '' : 's'}; ` +
          `its audit events are kept; ${when}.\n`,
      );
      return { mappingVersions: versions, published };
    });
    return 0;
  } finally {
    await registry.close();
  }
}

function table(rows: readonly (readonly string[])[], io: CliIo): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows) {
    io.out(
      `${row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

async function list(args: readonly string[], io: CliIo, open: () => RegistrySession) {
  const parsed = parseCommandArgs(args, {});
  if (parsed.options.has('help')) {
    io.out(TENANT_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    throw new CliFailure('tenant list takes no arguments.');
  }
  const { registry } = open();
  try {
    await requireRegistrySchema(registry);
    const tenants = await registry.listTenants();
    const rows = [['CLIENT_ID', 'LOG_HASH', 'STATUS', 'DB', 'KEY', 'MAPPING']];
    for (const tenant of tenants) {
      const found = await registry.findTenant(tenant.clientId);
      rows.push([
        tenant.clientId,
        tenantHash(tenant.clientId),
        tenant.status,
        tenant.dbType,
        sealedKeyId(tenant.sealedUrl) ?? '?',
        found?.mapping === undefined ? '-' : `v${found.mapping.version}`,
      ]);
    }
    table(rows, io);
    io.out(`${tenants.length} tenant${tenants.length === 1 ? '' : 's'}.\n`);
    return 0;
  } finally {
    await registry.close();
  }
}

async function show(args: readonly string[], io: CliIo, open: () => RegistrySession) {
  const parsed = parseCommandArgs(args, { gateway: 'string', 'token-file': 'string' });
  if (parsed.options.has('help')) {
    io.out(TENANT_USAGE);
    return 0;
  }
  const clientId = clientIdArg(parsed.positionals);
  const gateway = parsed.options.get('gateway');
  const tokenFile = parsed.options.get('token-file');
  if ((gateway === undefined) !== (tokenFile === undefined)) {
    throw new CliFailure('--gateway and --token-file go together.');
  }
  const session = open();
  const { registry, config } = session;
  try {
    const found = await registry.findTenant(clientId);
    if (found === undefined) {
      throw new CliFailure(`unknown tenant ${shown(clientId)}.`, 1);
    }
    const { tenant, mapping } = found;
    let connection = '(FHIRGATE_ENCRYPTION_KEY not set)';
    if (session.keyring !== undefined) {
      try {
        const stored = decodeTenantConnection(
          openSecret(session.keyring, clientId, tenant.sealedUrl),
        );
        connection = describeKind(tenantTarget(stored.url, stored.tls, config.dbTlsPolicy));
      } catch (err) {
        connection =
          err instanceof SealedSecretError
            ? `cannot be opened with the configured keys (${err.reason})`
            : err instanceof CliFailure
              ? `invalid: ${err.message}`
              : 'invalid';
      }
    }
    const versions = await registry.listMappings(clientId);
    const lines: Array<[string, string]> = [
      ['client id', tenant.clientId],
      ['name', tenant.displayName],
      ['status', tenant.status],
      ['log hash', tenantHash(clientId)],
      ['database', connection],
      ['sealed with key', sealedKeyId(tenant.sealedUrl) ?? '?'],
      ['active mapping', mapping === undefined ? 'none' : `v${mapping.version}`],
      ['mapping versions', String(versions.length)],
    ];
    if (typeof gateway === 'string' && typeof tokenFile === 'string') {
      lines.push(...(await replicaStatus(gateway, tokenFile, clientId)));
    }
    for (const [label, value] of lines) {
      io.out(`${`${label}:`.padEnd(18)}${value}\n`);
    }
    if (gateway === undefined) {
      io.out(
        'Pool, breaker and last error are per gateway replica: add --gateway and --token-file to ask one.\n',
      );
    }
    return 0;
  } finally {
    await registry.close();
  }
}

async function setStatus(
  status: 'active' | 'disabled',
  args: readonly string[],
  io: CliIo,
  open: () => RegistrySession,
) {
  const verb = status === 'active' ? 'enable' : 'disable';
  const parsed = parseCommandArgs(args, {});
  if (parsed.options.has('help')) {
    io.out(TENANT_USAGE);
    return 0;
  }
  const clientId = clientIdArg(parsed.positionals);
  const session = open();
  const { registry, config } = session;
  try {
    await requireRegistrySchema(registry);
    await audited(
      session,
      {
        action: status === 'active' ? 'tenantEnable' : 'tenantDisable',
        target: clientId,
        crud: 'U',
      },
      async () => {
        if ((await registry.findTenant(clientId)) === undefined) {
          throw new CliFailure(`unknown tenant ${shown(clientId)}.`, 1);
        }
        await registry.setStatus(clientId, status);
        const { published, when } = await announceChange(config, clientId);
        io.out(`Tenant ${shown(clientId)} ${verb}d; ${when}.\n`);
        return { published };
      },
    );
    return 0;
  } finally {
    await registry.close();
  }
}

/** Runs `fhirgate tenant <subcommand> ...`; resolves to the exit code. */
export function runTenantCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  return runReporting(`tenant${sub === undefined ? '' : ` ${sub}`}`, io.err, async () => {
    switch (sub) {
      case 'add':
        return add(rest, io, () => openRegistry(true, { create: true }));
      case 'update':
        return update(rest, io, () => openRegistry(true));
      case 'remove':
        return remove(rest, io, () => openRegistry(false));
      case 'list':
        return list(rest, io, () => openRegistry(false));
      case 'show':
        return show(rest, io, () => openRegistry('optional'));
      case 'disable':
        return setStatus('disabled', rest, io, () => openRegistry(false));
      case 'enable':
        return setStatus('active', rest, io, () => openRegistry(false));
      case 'help':
      case '--help':
      case '-h':
        io.out(TENANT_USAGE);
        return 0;
      default:
        io.err(
          `fhirgate tenant: ${sub === undefined ? 'a subcommand is required' : /^[a-z-]{1,32}$/.test(sub) ? `unknown subcommand "${sub}"` : 'unknown subcommand'}.\n\n${TENANT_USAGE}`,
        );
        return 2;
    }
  });
}

export const TENANT_COMMAND: CliCommand = {
  name: 'tenant',
  summary: 'add, update, remove, list, show, disable or enable tenants in the registry',
  usage: TENANT_USAGE,
  run: (args, io) => runTenantCommand(args, io),
};
