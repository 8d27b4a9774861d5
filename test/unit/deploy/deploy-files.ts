/**
 * Readers for the deployment files the deploy tests check: `docker-compose.yml` (parsed with
 * YAML merge keys, as Compose reads it), compose-style `${VAR...}` interpolation, the environment
 * names `src/config.ts` reads, the Keycloak realm file and the Dockerfile's instructions.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function readRepoFile(path: string): string {
  return readFileSync(new URL(path, `file://${ROOT}`), 'utf8');
}

/** The parts of a compose service the tests look at. */
export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string } | string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  volumes?: (string | { type: string; source?: string; target: string })[];
  ports?: (string | number)[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string; disable?: boolean };
  restart?: string;
  stop_grace_period?: string;
  read_only?: boolean;
  cap_drop?: string[];
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function loadCompose(text = readRepoFile('docker-compose.yml')): ComposeFile {
  return parse(text, { merge: true }) as ComposeFile;
}

/**
 * Compose's interpolation (`$$`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}`,
 * `${VAR?err}`) against `vars`. A required variable that is missing throws, as Compose refuses
 * to start.
 */
export function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (whole, name: string | undefined, colon: string, op: string, arg: string) => {
      if (whole === '$$') {
        return '$';
      }
      const set = name !== undefined && vars[name] !== undefined;
      const current = set ? (vars[name as string] as string) : undefined;
      const usable = colon === ':' ? current !== undefined && current !== '' : set;
      if (op === undefined) {
        return current ?? '';
      }
      if (usable) {
        return current as string;
      }
      if (op === '-') {
        return arg;
      }
      throw new Error(`${name} is required: ${arg}`);
    },
  );
}

/** A service's environment with every value interpolated. */
export function resolvedEnvironment(
  service: ComposeService,
  vars: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]),
  );
}

/** The names of `EnvSchema` in `src/config.ts`: every environment variable the gateway reads. */
export function configEnvNames(): Set<string> {
  const source = readRepoFile('src/config.ts');
  const start = source.indexOf('const EnvSchema = z.object({');
  const end = source.indexOf('\n});', start);
  if (start < 0 || end < 0) {
    throw new Error('src/config.ts: EnvSchema = z.object({...}) not found');
  }
  const body = source.slice(start, end);
  return new Set([...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] as string));
}

/** One Dockerfile instruction, continuation lines joined. */
export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export function parseDockerfile(text = readRepoFile('Dockerfile')): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  let pending: { text: string; line: number } | undefined;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (pending === undefined && (line === '' || line.startsWith('#'))) {
      continue;
    }
    if (pending !== undefined && line.startsWith('#')) {
      continue;
    }
    const joined = pending === undefined ? line : `${pending.text} ${line}`;
    const startLine = pending?.line ?? index + 1;
    if (joined.endsWith('\\')) {
      pending = { text: joined.slice(0, -1).trim(), line: startLine };
      continue;
    }
    pending = undefined;
    const match = /^(\S+)\s*(.*)$/.exec(joined);
    if (match !== null) {
      out.push({
        keyword: (match[1] as string).toUpperCase(),
        args: match[2] ?? '',
        line: startLine,
      });
    }
  }
  return out;
}

/** The parts of Keycloak's RealmRepresentation the realm test reads. */
export interface ProtocolMapper {
  name: string;
  protocol: string;
  protocolMapper: string;
  config: Record<string, string>;
}

export interface RealmClient {
  clientId: string;
  enabled?: boolean;
  publicClient?: boolean;
  secret?: string;
  fullScopeAllowed?: boolean;
  serviceAccountsEnabled?: boolean;
  implicitFlowEnabled?: boolean;
  protocolMappers?: ProtocolMapper[];
}

export interface RealmUser {
  username: string;
  enabled?: boolean;
  credentials?: { type: string; value: string; temporary?: boolean }[];
  realmRoles?: string[];
  clientRoles?: Record<string, string[]>;
}

export interface Realm {
  realm: string;
  enabled: boolean;
  roles?: {
    realm?: { name: string }[];
    client?: Record<string, { name: string; clientRole?: boolean }[]>;
  };
  clients: RealmClient[];
  users: RealmUser[];
}

export const REALM_FILE = 'deploy/keycloak/fhirgate-realm.json';

export function loadRealm(): Realm {
  return JSON.parse(readRepoFile(REALM_FILE)) as Realm;
}
