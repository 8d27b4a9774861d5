/**
 * `fhirgate keys rotate`: re-seals every tenant database URL under the primary key of
 * FHIRGATE_ENCRYPTION_KEY / FHIRGATE_ENCRYPTION_KEY_ID, opening old values with the keys in
 * FHIRGATE_ENCRYPTION_OLD_KEYS. Prints counts, never a URL.
 */
import { GENERATE_KEY_HINT } from '../tenancy/crypto.js';
import { rotateSealedUrls } from '../tenancy/registry.js';
import { audited } from './cli-audit.js';
import {
  CliFailure,
  openRegistry,
  parseCommandArgs,
  refuseForeignKeys,
  requireRegistrySchema,
  runReporting,
} from './cli-support.js';
import type { CliCommand, CliIo } from './main.js';

export const KEYS_USAGE = `Usage:
  fhirgate keys rotate

Re-seals every tenant's database URL under the primary key. Rotating a key:

  1. generate a new key:  openssl rand -base64 32
  2. set FHIRGATE_ENCRYPTION_KEY to it and FHIRGATE_ENCRYPTION_KEY_ID to a new id (k2), and
     move the old key to FHIRGATE_ENCRYPTION_OLD_KEYS (k1:<base64>) — on every gateway replica
     too: they keep opening k1 values and seal nothing themselves;
  3. run "fhirgate keys rotate" with the same environment;
  4. when it reports 0 rows under old keys, remove the old key everywhere.

Before anything is written, every row must open with the configured keys: otherwise the command
names the tenants (by client id) whose rows it cannot open, exits 1 and changes nothing (the
new key was probably set without moving the old one to FHIRGATE_ENCRYPTION_OLD_KEYS).
Each row is written with a compare-and-set, so a concurrent "tenant add" is never overwritten;
run the command again if it reports conflicts. Gateways keep serving throughout.

Exit codes: 0 every row is under the primary key, 1 some rows could not be opened or changed
concurrently, 2 bad usage, a bad key setting or an unreachable registry.
`;

async function rotate(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs(args, {});
  if (parsed.options.has('help')) {
    io.out(KEYS_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 0) {
    throw new CliFailure('keys rotate takes no arguments.');
  }
  const session = openRegistry(true);
  const { registry, keyring } = session;
  if (keyring === undefined) {
    throw new CliFailure(`FHIRGATE_ENCRYPTION_KEY is missing. ${GENERATE_KEY_HINT}`);
  }
  let exitCode = 0;
  try {
    await requireRegistrySchema(registry);
    await audited(session, { action: 'keysRotate', crud: 'U' }, async () => {
      await refuseForeignKeys(registry, keyring);
      const report = await rotateSealedUrls(registry, keyring);
      const before = Object.entries(report.byKeyIdBefore)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kid, n]) => `${kid}=${n}`)
        .join(', ');
      io.out(
        `Before: ${report.total} tenant URL${report.total === 1 ? '' : 's'}${before === '' ? '' : ` (${before})`}.\n`,
      );
      io.out(
        `Re-sealed ${report.rotated} under key ${keyring.primary.kid}; ${report.alreadyCurrent} already under it; ` +
          `${report.failed} could not be opened with any configured key; ${report.conflicts} changed concurrently.\n`,
      );
      if (report.failed > 0 || report.conflicts > 0) {
        io.err(
          'fhirgate keys rotate: not every row is under the primary key; keep the old keys configured.\n',
        );
        exitCode = 1;
      }
      return {
        primaryKey: keyring.primary.kid,
        rotated: report.rotated,
        failed: report.failed,
        conflicts: report.conflicts,
      };
    });
    return exitCode;
  } finally {
    await registry.close();
  }
}

/** Runs `fhirgate keys <subcommand> ...`; resolves to the exit code. */
export function runKeysCommand(args: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  return runReporting(`keys${sub === undefined ? '' : ` ${sub}`}`, io.err, async () => {
    switch (sub) {
      case 'rotate':
        return rotate(rest, io);
      case 'help':
      case '--help':
      case '-h':
        io.out(KEYS_USAGE);
        return 0;
      default:
        io.err(
          `fhirgate keys: ${sub === undefined ? 'a subcommand is required' : /^[a-z-]{1,32}$/.test(sub) ? `unknown subcommand "${sub}"` : 'unknown subcommand'}.\n\n${KEYS_USAGE}`,
        );
        return 2;
    }
  });
}

export const KEYS_COMMAND: CliCommand = {
  name: 'keys',
  summary: 're-seal every tenant database URL under the primary key',
  usage: KEYS_USAGE,
  run: (args, io) => runKeysCommand(args, io),
};
