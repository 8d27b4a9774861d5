import { DatabaseError, type TenantDatabase } from '../db/tenant-database.js';
import { loadDefinitions } from '../fhir/definitions.js';
import { checkMapping } from '../mapping/check-mapping.js';
import { isBlocking } from '../mapping/mapping-problem.js';
import { sealedKeyId, sealSecret } from '../tenancy/crypto.js';
import type { DatabaseTarget } from '../tenancy/database-url.js';
import { publishReloadOnce } from '../tenancy/reload-bus.js';
import { encodeTenantConnection } from '../tenancy/tenant-connection.js';
import {
  CliFailure,
  clientIdArg,
  describeKind,
  openRegistry,
  parseCommandArgs,
  type RegistrySession,
  readDatabaseUrl,
  readJsonFile,
  readTlsSettings,
  refuseForeignKeys,
  runReporting,
  shown,
  TLS_OPTIONS,
  tenantTarget,
} from './cli-support.js';
import type { CliCommand, CliIo } from './main.js';
import { formatProblem, openCheckDatabase } from './mapping-support.js';

export const TENANT_USAGE = `Usage:
  fhirgate tenant add <client-id> --database-url <url> [--mapping <file>] [--name <text>]
  fhirgate tenant add <client-id> --database-url-file <path> [--mapping <file>] [--name <text>]
  fhirgate tenant list
  fhirgate tenant disable <client-id>
  fhirgate tenant enable <client-id>

add      registers a tenant: the URL is checked by fhirgate's parser (mysql://, mariadb://,
         sqlite:), sealed under FHIRGATE_ENCRYPTION_KEY and stored; the registry tables are
         created when missing. With --mapping the document is first checked against the
         tenant's live database (as "mapping check" does) and stored as version 1, active.
         Without it the tenant answers TENANT_CONFIG_INVALID until a mapping is activated.
list     one line per tenant: client id, status, database type, key id, active mapping
         version. URLs are never printed.
disable  refuses the tenant's requests (UNKNOWN_TENANT) from the next config load; with
enable   REDIS_URL set, running gateways are told at once, otherwise within FHIRGATE_CONFIG_TTL_MS.

Environment: FHIRGATE_REGISTRY_URL (required), FHIRGATE_ENCRYPTION_KEY (add),
FHIRGATE_ENCRYPTION_KEY_ID, REDIS_URL and FHIRGATE_RELOAD_CHANNEL (optional).

Exit codes: 0 done, 1 the registry refused (unknown tenant, client id taken, mapping problems),
2 bad usage, an invalid URL or file, or an unreachable database.
`;

async function checkAgainstTenant(document: unknown, target: DatabaseTarget, io: CliIo) {
  let database: TenantDatabase | undefined;
  try {
    database = openCheckDatabase(target);
    const result = await checkMapping(document, { defs: loadDefinitions(), database });
    for (const problem of result.problems) {
      io.out(`${formatProblem(problem)}\n`);
    }
    if (!result.ok) {
      const n = result.problems.filter(isBlocking).length;
      throw new CliFailure(
        `the mapping has ${n} problem${n === 1 ? '' : 's'}; the tenant was not added.`,
        1,
      );
    }
  } catch (err) {
    if (err instanceof DatabaseError) {
      const driver = err.driverCode === undefined ? '' : ` (${err.driverCode})`;
      throw new CliFailure(`cannot check the mapping: the tenant database failed${driver}.`);
    }
    throw err;
  } finally {
    await database?.close();
  }
}

async function add(args: readonly string[], io: CliIo, session: () => RegistrySession) {
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
  const { registry, keyring, config } = session();
  try {
    if (keyring === undefined) {
      throw new CliFailure('FHIRGATE_ENCRYPTION_KEY is missing.');
    }
    const target = tenantTarget(url.text, tls, config.dbTlsPolicy);
    await registry.applySchema();
    await refuseForeignKeys(registry, keyring);
    if (document !== undefined) {
      await checkAgainstTenant(document, target, io);
    }
    const sealedUrl = sealSecret(keyring, clientId, encodeTenantConnection({ url: url.text, tls }));
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
    if (document !== undefined) {
      const version = await registry.addMapping(clientId, JSON.stringify(document), {
        activate: true,
        createdBy: 'fhirgate-cli',
      });
      mapping = `mapping version ${version} active`;
    }
    io.out(
      `Added tenant ${shown(clientId)} (${describeKind(target)}, URL sealed with key ${keyring.primary.kid}); ${mapping}.\n`,
    );
    return 0;
  } finally {
    await registry.close();
  }
}

async function list(args: readonly string[], io: CliIo, session: () => RegistrySession) {
  const parsed = parseCommandArgs(args, {});
  if (parsed.options.has('help')) {
    io.out(TENANT_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    throw new CliFailure('tenant list takes no arguments.');
  }
  const { registry } = session();
  try {
    const tenants = await registry.listTenants();
    const rows = [['CLIENT_ID', 'STATUS', 'DB', 'KEY', 'MAPPING']];
    for (const tenant of tenants) {
      const found = await registry.findTenant(tenant.clientId);
      rows.push([
        tenant.clientId,
        tenant.status,
        tenant.dbType,
        sealedKeyId(tenant.sealedUrl) ?? '?',
        found?.mapping === undefined ? '-' : `v${found.mapping.version}`,
      ]);
    }
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const row of rows) {
      io.out(
        `${row
          .map((cell, i) => cell.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
    io.out(`${tenants.length} tenant${tenants.length === 1 ? '' : 's'}.\n`);
    return 0;
  } finally {
    await registry.close();
  }
}

async function setStatus(
  status: 'active' | 'disabled',
  args: readonly string[],
  io: CliIo,
  session: () => RegistrySession,
) {
  const verb = status === 'active' ? 'enable' : 'disable';
  const parsed = parseCommandArgs(args, {});
  if (parsed.options.has('help')) {
    io.out(TENANT_USAGE);
    return 0;
  }
  const clientId = clientIdArg(parsed.positionals);
  const { registry, config } = session();
  try {
    if ((await registry.findTenant(clientId)) === undefined) {
      throw new CliFailure(`unknown tenant ${shown(clientId)}.`, 1);
    }
    await registry.setStatus(clientId, status);
  } finally {
    await registry.close();
  }
  let when = `running gateways apply it within FHIRGATE_CONFIG_TTL_MS (REDIS_URL is not set)`;
  if (config.redisUrl !== undefined) {
    when = (await publishReloadOnce(config.redisUrl, config.reloadChannel, clientId))
      ? 'running gateways were told through Redis'
      : 'Redis could not be reached: running gateways apply it within FHIRGATE_CONFIG_TTL_MS';
  }
  io.out(`Tenant ${shown(clientId)} ${verb}d; ${when}.\n`);
  return 0;
}

/** Runs `fhirgate tenant <subcommand> ...`; resolves to the exit code. */
export function runTenantCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  return runReporting(`tenant${sub === undefined ? '' : ` ${sub}`}`, io.err, async () => {
    switch (sub) {
      case 'add':
        return add(rest, io, () => openRegistry(true));
      case 'list':
        return list(rest, io, () => openRegistry(false));
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
  summary: 'add, list, disable or enable tenants in the registry',
  usage: TENANT_USAGE,
  run: (args, io) => runTenantCommand(args, io),
};
