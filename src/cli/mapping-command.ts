/**
 * `fhirgate mapping check <file> --database-url <url>`: compiles a mapping document and holds it
 * against the tenant's live schema, the same check activation runs, without storing anything.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DatabaseError, type TenantDatabase } from '../db/tenant-database.js';
import { type FhirDefinitions, loadDefinitions } from '../fhir/definitions.js';
import { checkMapping } from '../mapping/check-mapping.js';
import {
  type DatabaseTarget,
  DatabaseUrlError,
  describeDatabaseTarget,
} from '../tenancy/database-url.js';
import {
  connectionTarget,
  TenantConnectionError,
  type TlsSettings,
} from '../tenancy/tenant-connection.js';
import {
  readTlsSettings,
  CliFailure as SupportFailure,
  TLS_OPTIONS,
  TLS_USAGE,
} from './cli-support.js';
import type { CliCommand, CliIo } from './main.js';
import { runMappingPreview } from './mapping-preview.js';
import {
  countProblems,
  databaseFailureText,
  formatProblem,
  openCheckDatabase,
} from './mapping-support.js';
import { MAPPING_VERSIONS_USAGE, runMappingVersions } from './mapping-versions.js';

export const MAPPING_USAGE = `Usage:
  fhirgate mapping check <file> --database-url <url>
  fhirgate mapping check <file> --database-url-file <path>
  fhirgate mapping preview --database-url <url> --mapping <file> --type <type> [--id <id> | --count <n>]
                               (see fhirgate mapping preview --help)
${MAPPING_VERSIONS_USAGE}
check:

Checks a tenant mapping document (JSON, format version 1 or 2) against the tenant's live
database without activating it, reporting every problem in one pass: the document must compile,
every table, view and column it reads (joins, exists and conditions included) must exist, column
types must suit the FHIR elements, ids and search parameters they feed, and the two columns of
each join, exists and child key must compare. Warnings flag what is almost certainly wrong but
does not block activation: a join whose columns are not a unique key, a key compared across text
and number, a text column whose sampled values (at most 50) do not read as the date, boolean or
number it feeds. Messages never quote a database value.

Options:
  --database-url <url>         mysql://user:password@host:port/database (or mariadb://),
                               sqlite:/path/to/file.db; a user with SELECT is enough
  --database-url-file <path>   read the URL from this file instead, so the password stays out
                               of the shell history and the process list
  -h, --help                   print this help

${TLS_USAGE}

Output: one line per problem, "<resource> <path> <column>: <message>" ("warning: ..." for a
warning), then a summary. The URL and its password are never printed.

Exit codes: 0 the mapping passes (warnings allowed), 1 it has errors, 2 bad usage, an unreadable
or invalid file, or a database that cannot be reached.
`;

/** What `mapping check` may be given instead of the defaults; tests use it. */
export interface MappingCheckDeps {
  /** @default loadDefinitions() */
  readonly defs?: FhirDefinitions;
}

/** A failure that ends the command with exit code 2 and one line on stderr. */
class CliFailure extends Error {
  override readonly name = 'CliFailure';
}

const SAFE_WORD = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;

/** Runs `fhirgate mapping <subcommand> ...`; resolves to the exit code. */
export async function runMappingCommand(
  args: readonly string[],
  io: CliIo,
  deps: MappingCheckDeps = {},
): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'check') {
    return runMappingCheck(rest, io, deps);
  }
  if (sub === 'preview') {
    return runMappingPreview(rest, io, deps);
  }
  const versions = sub === undefined ? undefined : runMappingVersions(sub, rest, io);
  if (versions !== undefined) {
    return versions;
  }
  if (sub === 'help' || sub === '--help' || sub === '-h') {
    io.out(MAPPING_USAGE);
    return 0;
  }
  const what =
    sub === undefined
      ? 'a subcommand is required'
      : SAFE_WORD.test(sub)
        ? `unknown subcommand "${sub}"`
        : 'unknown subcommand';
  io.err(`fhirgate mapping: ${what}.\n\n${MAPPING_USAGE}`);
  return 2;
}

export const MAPPING_COMMAND: CliCommand = {
  name: 'mapping',
  summary: 'check, preview, activate, list, show, diff or roll back tenant mapping versions',
  usage: MAPPING_USAGE,
  run: (args, io) => runMappingCommand(args, io),
};

interface CheckArgs {
  readonly file: string;
  readonly url:
    | { readonly kind: 'inline'; readonly value: string }
    | { kind: 'file'; path: string };
  /** The `--tls-*` options given, by name. */
  readonly tls: ReadonlyMap<string, string>;
}

/**
 * Parses the arguments of `mapping check` without ever quoting one back, except option names
 * that look like option names: a URL pasted in the wrong place must not reach the terminal log.
 */
function parseCheckArgs(args: readonly string[]): CheckArgs | 'help' {
  const { tokens } = parseArgs({
    args: [...args],
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: {
      'database-url': { type: 'string' },
      'database-url-file': { type: 'string' },
      ...Object.fromEntries(Object.keys(TLS_OPTIONS).map((name) => [name, { type: 'string' }])),
      help: { type: 'boolean', short: 'h' },
    },
  });
  const positionals: string[] = [];
  let inline: string | undefined;
  let urlFile: string | undefined;
  const tls = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind !== 'option') {
      continue;
    }
    switch (token.name) {
      case 'help':
        if (token.value !== undefined) {
          throw new CliFailure('--help takes no value.');
        }
        return 'help';
      case 'database-url':
      case 'database-url-file':
        if (token.value === undefined || token.value === '') {
          throw new CliFailure(`--${token.name} needs a value.`);
        }
        if (inline !== undefined || urlFile !== undefined) {
          throw new CliFailure(
            'give the database URL once, with --database-url or --database-url-file.',
          );
        }
        if (token.name === 'database-url') {
          inline = token.value;
        } else {
          urlFile = token.value;
        }
        break;
      case 'tls-mode':
      case 'tls-ca-file':
      case 'tls-cert-file':
      case 'tls-key-file':
      case 'tls-min-version':
        if (token.value === undefined || token.value === '') {
          throw new CliFailure(`--${token.name} needs a value.`);
        }
        if (tls.has(token.name)) {
          throw new CliFailure(`--${token.name} is given twice.`);
        }
        tls.set(token.name, token.value);
        break;
      default:
        throw new CliFailure(
          SAFE_WORD.test(token.name) ? `unknown option "${token.rawName}".` : 'unknown option.',
        );
    }
  }
  if (positionals.length !== 1) {
    throw new CliFailure(
      positionals.length === 0
        ? 'the mapping file is required.'
        : 'expected exactly one mapping file (is an option name missing before a value?).',
    );
  }
  const file = positionals[0] as string;
  if (inline !== undefined) {
    return { file, url: { kind: 'inline', value: inline }, tls };
  }
  if (urlFile !== undefined) {
    return { file, url: { kind: 'file', path: urlFile }, tls };
  }
  throw new CliFailure('--database-url (or --database-url-file) is required.');
}

/** `code` of a Node fs error, for a message that names the failure without guessing. */
function errnoOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown error';
}

async function readDocument(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    // The path is not echoed: a URL pasted in its place must not reach the terminal log.
    throw new CliFailure(`cannot read the mapping file (${errnoOf(err)}).`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    // V8's message quotes a slice of the file; report only where the error is.
    const position = /position (\d+)/.exec(err instanceof Error ? err.message : '');
    let where = '';
    if (position !== null) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split('\n').length;
      const column = before.length - before.lastIndexOf('\n');
      where = ` (line ${line}, column ${column})`;
    }
    throw new CliFailure(`the mapping file is not valid JSON${where}.`);
  }
}

async function readUrl(
  url: CheckArgs['url'],
  tlsOptions: CheckArgs['tls'],
): Promise<DatabaseTarget> {
  let tls: TlsSettings | undefined;
  try {
    tls = await readTlsSettings(tlsOptions);
  } catch (err) {
    if (err instanceof SupportFailure) {
      throw new CliFailure(err.message);
    }
    throw err;
  }
  let text: string;
  if (url.kind === 'inline') {
    text = url.value;
  } else {
    try {
      text = (await readFile(url.path, 'utf8')).trim();
    } catch (err) {
      throw new CliFailure(`cannot read the database URL file (${errnoOf(err)}).`);
    }
  }
  try {
    // The same TLS options and default as a tenant's (verify-full off this machine).
    return connectionTarget({ url: text, tls }, 'allow-plain');
  } catch (err) {
    if (err instanceof TenantConnectionError) {
      throw new CliFailure(err.message);
    }
    if (err instanceof DatabaseUrlError) {
      // Its message is fixed text per reason and holds no part of the URL.
      throw new CliFailure(err.message);
    }
    throw err;
  }
}

async function runMappingCheck(
  args: readonly string[],
  io: CliIo,
  deps: MappingCheckDeps,
): Promise<number> {
  let database: TenantDatabase | undefined;
  try {
    const parsed = parseCheckArgs(args);
    if (parsed === 'help') {
      io.out(MAPPING_USAGE);
      return 0;
    }
    const document = await readDocument(parsed.file);
    const target = await readUrl(parsed.url, parsed.tls);
    try {
      database = openCheckDatabase(target);
      // Reach the database first, so an unreachable one is exit 2 whatever the document holds.
      await database.query({ sql: 'SELECT 1 AS ok', params: [] });
    } catch (err) {
      if (err instanceof DatabaseError) {
        throw new CliFailure(databaseFailureText(err, target, 'cannot connect to'));
      }
      throw err;
    }
    let result: Awaited<ReturnType<typeof checkMapping>>;
    try {
      result = await checkMapping(document, { defs: deps.defs ?? loadDefinitions(), database });
    } catch (err) {
      if (err instanceof DatabaseError) {
        throw new CliFailure(databaseFailureText(err, target, 'cannot read the catalogue of'));
      }
      throw err;
    }
    for (const problem of result.problems) {
      io.out(`${formatProblem(problem)}\n`);
    }
    const against = describeDatabaseTarget(target);
    if (result.ok && result.problems.length === 0) {
      io.out(`OK: ${parsed.file} passes against ${against}.\n`);
      return 0;
    }
    if (result.ok) {
      io.out(
        `OK with ${countProblems(result.problems)}: ${parsed.file} passes against ${against}; warnings do not block activation.\n`,
      );
      return 0;
    }
    io.out(
      `${countProblems(result.problems)} in ${parsed.file} against ${against}; it would not be activated.\n`,
    );
    return 1;
  } catch (err) {
    if (err instanceof CliFailure) {
      io.err(`fhirgate mapping check: ${err.message}\n`);
      return 2;
    }
    throw err;
  } finally {
    await database?.close();
  }
}
