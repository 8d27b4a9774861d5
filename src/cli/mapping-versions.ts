/**
 * `fhirgate mapping activate|list|show|diff|rollback`: a tenant's stored mapping versions. A
 * version is activated only after the checker passed against the tenant's live database; every
 * activation (a rollback is one) is a new immutable version naming who stored it, is audited,
 * and is published to running gateways.
 */
import { openSecret } from '../tenancy/crypto.js';
import { decodeTenantConnection } from '../tenancy/tenant-connection.js';
import { audited, operatorName } from './cli-audit.js';
import {
  CliFailure,
  clientIdArg,
  keysOf,
  openRegistry,
  parseCommandArgs,
  type RegistrySession,
  readJsonFile,
  runReporting,
  shown,
  tenantTarget,
} from './cli-support.js';
import type { CliIo } from './main.js';
import { announceChange, checkTenantDatabase } from './tenant-check.js';

export const MAPPING_VERSIONS_USAGE = `  fhirgate mapping activate <client-id> <file> [--dry-run]
  fhirgate mapping list <client-id>
  fhirgate mapping show <client-id> [--version <n>]
  fhirgate mapping diff <client-id> <from-version> [<to-version>]
  fhirgate mapping rollback <client-id> [--to <n>]

activate  checks the document against the tenant's live database (as "check" does) and, if it
          passes, stores it as the next version and makes it active; running gateways are told
          through REDIS_URL. --dry-run checks only.
list      every version: number, active mark, when and by whom it was stored.
show      a version's document (default: the active one) as JSON.
diff      what changed between two versions (default to: the active one), one line per JSON
          path: "- path: old" and "+ path: new".
rollback  activates an earlier version again (default: the one before the active one) after
          checking it against the live database; it is stored as a new version, so the history
          says who rolled back and when.

Every activation and rollback is audited. Environment: FHIRGATE_REGISTRY_URL,
FHIRGATE_ENCRYPTION_KEY (activate, rollback: the tenant's database is opened), REDIS_URL.
`;

function versionArg(text: string | true | undefined, what: string): number | undefined {
  if (text === undefined) {
    return undefined;
  }
  if (typeof text !== 'string' || !/^[1-9]\d{0,8}$/.test(text)) {
    throw new CliFailure(`${what} must be a version number (1, 2, ...).`);
  }
  return Number(text);
}

/** Who stored a version, in `created_by`: `fhirgate-cli:<login>`, plus a note for a rollback. */
function createdBy(note?: string): string {
  const who = `fhirgate-cli:${operatorName()}`;
  return (note === undefined ? who : `${who} (${note})`).slice(0, 255);
}

/** Checks `document` against the tenant's database and activates it as the next version. */
async function checkAndActivate(
  session: RegistrySession,
  clientId: string,
  document: unknown,
  io: CliIo,
  options: { readonly dryRun: boolean; readonly note?: string },
): Promise<number | null> {
  const { registry, config } = session;
  const found = await registry.findTenant(clientId);
  if (found === undefined) {
    throw new CliFailure(`unknown tenant ${shown(clientId)}.`, 1);
  }
  let connection: ReturnType<typeof decodeTenantConnection>;
  try {
    connection = decodeTenantConnection(
      openSecret(keysOf(session), clientId, found.tenant.sealedUrl),
    );
  } catch (err) {
    if (err instanceof CliFailure) {
      throw err;
    }
    throw new CliFailure(
      "the tenant's sealed URL cannot be opened with the configured keys; nothing was activated.",
      1,
    );
  }
  const target = tenantTarget(connection.url, connection.tls, config.dbTlsPolicy);
  await checkTenantDatabase(target, document, io, 'nothing was activated');
  if (options.dryRun) {
    return null;
  }
  return registry.addMapping(clientId, JSON.stringify(document), {
    activate: true,
    createdBy: createdBy(options.note),
  });
}

async function activate(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, { 'dry-run': 'boolean' });
  if (parsed.options.has('help')) {
    io.out(MAPPING_VERSIONS_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 2) {
    throw new CliFailure('expected <client-id> <file>.');
  }
  const clientId = clientIdArg([parsed.positionals[0] as string]);
  const document = await readJsonFile(parsed.positionals[1] as string, 'mapping file');
  const dryRun = parsed.options.has('dry-run');
  const session = openRegistry(true);
  try {
    await audited(
      session,
      { action: 'activateTenantMapping', target: clientId, crud: 'U' },
      async () => {
        const version = await checkAndActivate(session, clientId, document, io, { dryRun });
        if (version === null) {
          io.out(
            `OK: the mapping passes against ${shown(clientId)}'s database; nothing stored (--dry-run).\n`,
          );
          return { dryRun, version: null, published: false };
        }
        const { published, when } = await announceChange(session.config, clientId);
        io.out(`Activated mapping version ${version} of ${shown(clientId)}; ${when}.\n`);
        return { dryRun, version, published };
      },
    );
    return 0;
  } finally {
    await session.registry.close();
  }
}

async function list(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {});
  if (parsed.options.has('help')) {
    io.out(MAPPING_VERSIONS_USAGE);
    return 0;
  }
  const clientId = clientIdArg(parsed.positionals);
  const { registry } = openRegistry(false);
  try {
    if ((await registry.findTenant(clientId)) === undefined) {
      throw new CliFailure(`unknown tenant ${shown(clientId)}.`, 1);
    }
    const versions = await registry.listMappings(clientId);
    const rows = [['VERSION', 'ACTIVE', 'CREATED_AT', 'CREATED_BY']];
    for (const v of versions) {
      rows.push([`v${v.version}`, v.active ? '*' : '', v.createdAt, v.createdBy ?? '-']);
    }
    const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
    for (const row of rows) {
      io.out(
        `${row
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
    io.out(`${versions.length} version${versions.length === 1 ? '' : 's'}.\n`);
    return 0;
  } finally {
    await registry.close();
  }
}

/** The document of `version`, or of the active version; a CliFailure when there is none. */
async function documentOf(
  session: RegistrySession,
  clientId: string,
  version: number | undefined,
): Promise<{ readonly version: number; readonly document: unknown }> {
  const found = await session.registry.findTenant(clientId);
  if (found === undefined) {
    throw new CliFailure(`unknown tenant ${shown(clientId)}.`, 1);
  }
  if (version === undefined) {
    if (found.mapping === undefined) {
      throw new CliFailure(`tenant ${shown(clientId)} has no active mapping.`, 1);
    }
    return { version: found.mapping.version, document: JSON.parse(found.mapping.document) };
  }
  const text = await session.registry.findMapping(clientId, version);
  if (text === undefined) {
    throw new CliFailure(`tenant ${shown(clientId)} has no mapping version ${version}.`, 1);
  }
  return { version, document: JSON.parse(text) };
}

async function show(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, { version: 'string' });
  if (parsed.options.has('help')) {
    io.out(MAPPING_VERSIONS_USAGE);
    return 0;
  }
  const clientId = clientIdArg(parsed.positionals);
  const version = versionArg(parsed.options.get('version'), '--version');
  const session = openRegistry(false);
  try {
    const { document } = await documentOf(session, clientId, version);
    io.out(`${JSON.stringify(document, null, 2)}\n`);
    return 0;
  } finally {
    await session.registry.close();
  }
}

/** Leaf values by JSON path (`$.resources.Patient.table`), arrays by index. */
function flatten(value: unknown, path: string, out: Map<string, string>): void {
  if (Array.isArray(value)) {
    if (value.length === 0) {
      out.set(path, '[]');
    }
    for (const [i, item] of value.entries()) {
      flatten(item, `${path}[${i}]`, out);
    }
    return;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) {
      out.set(path, '{}');
    }
    for (const [key, item] of entries) {
      flatten(
        item,
        /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`,
        out,
      );
    }
    return;
  }
  out.set(path, JSON.stringify(value));
}

/** `- path: old` / `+ path: new` lines for every leaf that differs, in path order. */
export function diffDocuments(from: unknown, to: unknown): string[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(from, '$', a);
  flatten(to, '$', b);
  const lines: string[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const before = a.get(path);
    const after = b.get(path);
    if (before === after) {
      continue;
    }
    if (before !== undefined) {
      lines.push(`- ${path}: ${before}`);
    }
    if (after !== undefined) {
      lines.push(`+ ${path}: ${after}`);
    }
  }
  return lines;
}

async function diff(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {});
  if (parsed.options.has('help')) {
    io.out(MAPPING_VERSIONS_USAGE);
    return 0;
  }
  const [id, fromText, toText, ...extra] = parsed.positionals;
  if (id === undefined || fromText === undefined || extra.length > 0) {
    throw new CliFailure('expected <client-id> <from-version> [<to-version>].');
  }
  const clientId = clientIdArg([id]);
  const fromVersion = versionArg(fromText, 'from-version') as number;
  const toVersion = versionArg(toText, 'to-version');
  const session = openRegistry(false);
  try {
    const from = await documentOf(session, clientId, fromVersion);
    const to = await documentOf(session, clientId, toVersion);
    const lines = diffDocuments(from.document, to.document);
    for (const line of lines) {
      io.out(`${line}\n`);
    }
    io.out(
      `${lines.length === 0 ? 'No differences' : `${lines.length} line${lines.length === 1 ? '' : 's'}`} from v${from.version} to v${to.version}.\n`,
    );
    return 0;
  } finally {
    await session.registry.close();
  }
}

async function rollback(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, { to: 'string' });
  if (parsed.options.has('help')) {
    io.out(MAPPING_VERSIONS_USAGE);
    return 0;
  }
  const clientId = clientIdArg(parsed.positionals);
  const wanted = versionArg(parsed.options.get('to'), '--to');
  const session = openRegistry(true);
  try {
    await audited(
      session,
      { action: 'rollbackTenantMapping', target: clientId, crud: 'U' },
      async () => {
        const versions = await session.registry.listMappings(clientId);
        const active = versions.find((v) => v.active)?.version;
        const to =
          wanted ??
          versions
            .map((v) => v.version)
            .filter((v) => active === undefined || v < active)
            .pop();
        if (to === undefined) {
          throw new CliFailure(`tenant ${shown(clientId)} has no earlier mapping version.`, 1);
        }
        if (to === active) {
          throw new CliFailure(`version ${to} is already active; nothing was changed.`, 1);
        }
        const { document } = await documentOf(session, clientId, to);
        const version = await checkAndActivate(session, clientId, document, io, {
          dryRun: false,
          note: `rollback to v${to}`,
        });
        const { published, when } = await announceChange(session.config, clientId);
        io.out(
          `Rolled ${shown(clientId)} back to the mapping of v${to}, now active as v${version}; ${when}.\n`,
        );
        return { from: active ?? null, to, version, published };
      },
    );
    return 0;
  } finally {
    await session.registry.close();
  }
}

/** Runs a version subcommand; undefined when `sub` is not one. */
export function runMappingVersions(
  sub: string,
  args: readonly string[],
  io: CliIo,
): Promise<number> | undefined {
  const run = { activate, list, show, diff, rollback }[sub];
  if (run === undefined) {
    return undefined;
  }
  return runReporting(`mapping ${sub}`, io.err, () => run(args, io));
}
