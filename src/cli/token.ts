/**
 * `npm run -s token -- --tenant hospital-a --roles fhir-read`: mints an access token from the
 * embedded demo's local issuer and prints it as the only line on stdout, so
 * `TOKEN=$(npm run -s token -- --tenant hospital-a)` works. Everything else goes to stderr.
 * Any error exits 2 with one message on stderr.
 */
import { parseArgs } from 'node:util';
import { FHIR_ROLES, type FhirRole } from '../auth/principal.js';
import { ConfigError, loadConfig } from '../config.js';
import { MAX_DEMO_TOKEN_LIFETIME_SEC, mintDemoToken } from '../demo/demo-issuer.js';
import { DEMO_HOSPITALS, findDemoHospital } from '../demo/hospitals.js';

const USAGE = `Usage: npm run -s token -- --tenant <client-id> [options]

Mints an access token from the embedded demo's local issuer (the server must run in demo mode,
that is without FHIRGATE_REGISTRY_URL, on the same data dir) and prints it on stdout.

Options:
  --tenant <id>          the tenant's client id: ${DEMO_HOSPITALS.map((h) => h.clientId).join(' or ')} (required)
  --roles <a,b>          comma-separated, from ${FHIR_ROLES.join(', ')} (default: fhir-read)
  --platform-admin       also fhir-admin and the platform-admin role (FHIRGATE_PLATFORM_ADMIN_ROLE,
                         default fhirgate-platform-admin): administers every tenant. The server
                         honours it only for a client in FHIRGATE_PLATFORM_ADMIN_CLIENTS: start
                         the demo with FHIRGATE_PLATFORM_ADMIN_CLIENTS=fhirgate-ops and mint
                         with --tenant fhirgate-ops --platform-admin
  --subject <sub>        the user the token is for (default: demo-user)
  --lifetime <seconds>   1 to ${MAX_DEMO_TOKEN_LIFETIME_SEC} (default: ${MAX_DEMO_TOKEN_LIFETIME_SEC})
  --data-dir <path>      the demo's data dir (default: FHIRGATE_DATA_DIR, else .fhirgate)
  --help                 print this help

Example:
  TOKEN=$(npm run -s token -- --tenant hospital-a --roles fhir-read)
  curl -s http://127.0.0.1:4000/graphql -H "authorization: Bearer $TOKEN" \\
    -H 'content-type: application/json' -d '{"query":"{ PatientList(_count: 3) { id name { family given } } }"}'
`;

/** A usage problem: printed on stderr with a pointer to --help, exit code 2. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

// Printable ASCII without spaces: what a Keycloak client id looks like in practice.
const CLIENT_ID_PATTERN = /^[\x21-\x7e]{1,255}$/;
const FHIR_ROLE_SET: ReadonlySet<string> = new Set(FHIR_ROLES);

interface TokenRequest {
  readonly tenant: string;
  readonly roles: FhirRole[];
  readonly platformAdmin: boolean;
  readonly subject: string;
  readonly lifetimeSec: number;
  readonly dataDir: string | undefined;
}

function parse(argv: string[]): TokenRequest | 'help' {
  let values: ReturnType<typeof parseOptions>['values'];
  try {
    ({ values } = parseOptions(argv));
  } catch (err) {
    // parseArgs names the offending option; its messages hold no secret.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) {
    return 'help';
  }
  const tenant = values.tenant;
  if (tenant === undefined || tenant === '') {
    throw new UsageError('--tenant is required (for example --tenant hospital-a).');
  }
  if (!CLIENT_ID_PATTERN.test(tenant)) {
    throw new UsageError('--tenant must be 1 to 255 printable ASCII characters without spaces.');
  }
  const roles = (values.roles ?? 'fhir-read')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (roles.length === 0) {
    throw new UsageError(`--roles is empty; use one or more of ${FHIR_ROLES.join(', ')}.`);
  }
  const unknown = roles.filter((r) => !FHIR_ROLE_SET.has(r));
  if (unknown.length > 0) {
    throw new UsageError(
      `--roles: unknown role ${unknown.map((r) => `"${r}"`).join(', ')}; use ${FHIR_ROLES.join(', ')}.`,
    );
  }
  const subject = values.subject ?? 'demo-user';
  if (subject.trim() === '' || subject.length > 255) {
    throw new UsageError('--subject must be 1 to 255 characters and not blank.');
  }
  let lifetimeSec = MAX_DEMO_TOKEN_LIFETIME_SEC;
  if (values.lifetime !== undefined) {
    lifetimeSec = /^\d{1,6}$/.test(values.lifetime) ? Number(values.lifetime) : Number.NaN;
    if (!(lifetimeSec >= 1 && lifetimeSec <= MAX_DEMO_TOKEN_LIFETIME_SEC)) {
      throw new UsageError(
        `--lifetime must be a whole number of seconds from 1 to ${MAX_DEMO_TOKEN_LIFETIME_SEC} ` +
          '(the demo server refuses tokens issued more than 65 minutes ago).',
      );
    }
  }
  if (values['data-dir'] === '') {
    throw new UsageError('--data-dir is empty.');
  }
  return {
    tenant,
    roles: roles as FhirRole[],
    platformAdmin: values['platform-admin'] === true,
    subject,
    lifetimeSec,
    dataDir: values['data-dir'],
  };
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      tenant: { type: 'string' },
      roles: { type: 'string' },
      subject: { type: 'string' },
      lifetime: { type: 'string' },
      'data-dir': { type: 'string' },
      'platform-admin': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The data dir the server uses when `--data-dir` is not given: `FHIRGATE_DATA_DIR` or `.fhirgate`. */
function defaultDataDir(): string {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new UsageError(`${err.message}\n(pass --data-dir to skip reading the environment)`);
    }
    throw err;
  }
  if (!config.demo) {
    console.error(
      'token: warning: FHIRGATE_REGISTRY_URL is set, so a server started with this environment ' +
        'is not in demo mode and will not accept demo tokens.',
    );
  }
  return config.dataDir;
}

async function main(argv: string[]): Promise<number> {
  let request: TokenRequest | 'help';
  let dataDir: string;
  try {
    request = parse(argv);
    if (request === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    dataDir = request.dataDir ?? defaultDataDir();
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`token: ${err.message}\nRun with --help for usage.`);
      return 2;
    }
    throw err;
  }
  if (!request.platformAdmin && findDemoHospital(request.tenant) === undefined) {
    console.error(
      `token: warning: "${request.tenant}" is not a demo hospital ` +
        `(${DEMO_HOSPITALS.map((h) => h.clientId).join(', ')}); the demo server will answer ` +
        '403 UNKNOWN_TENANT.',
    );
  }
  let roles: string[] = request.roles;
  if (request.platformAdmin) {
    try {
      const { admin } = loadConfig();
      roles = [...roles, 'fhir-admin', admin.platformAdminRole];
      if (!admin.platformAdminClients.includes(request.tenant)) {
        console.error(
          `token: warning: "${request.tenant}" is not in FHIRGATE_PLATFORM_ADMIN_CLIENTS; a server ` +
            'started with this environment ignores the platform-admin role of its tokens.',
        );
      }
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(`token: ${err.message}`);
        return 2;
      }
      throw err;
    }
  }
  const token = await mintDemoToken({
    dataDir,
    tenant: request.tenant,
    roles,
    subject: request.subject,
    lifetimeSec: request.lifetimeSec,
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    // Key-file problems carry a message that names the file and the fix, never key material.
    console.error(`token: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  });
