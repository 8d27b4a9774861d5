import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

/**
 * Suite-wide log hygiene (issue 5 item 4, SECURITY-TESTS 70h). The integration run's global setup
 * creates one capture directory and names it in `FHIRGATE_TEST_CAPTURE_DIR`; every test gateway
 * appends its pino output (Yoga's logger included, it goes through pino) there, the console of
 * every test worker is copied there (`capture-console.ts`), and test gateways record the secrets
 * the scan must look for. The global teardown scans everything and fails the run on any hit.
 *
 * Canaries are recognised by shape, so fixtures made anywhere in the suite are covered without
 * registering them: PHI canaries start with `ZZPHI-`, password canaries with `ZZPW-`, and any
 * compact JWT (`eyJ…​.eyJ…​.…`) is a token. Keys are random per gateway, so each test gateway
 * writes its key (base64, base64url and hex) to the secrets manifest.
 */
export const CAPTURE_DIR_ENV = 'FHIRGATE_TEST_CAPTURE_DIR';

/** The prefix of every PHI canary planted in patient rows. */
export const PHI_CANARY_PREFIX = 'ZZPHI-';
/** The prefix of every password canary planted in tenant database URLs. */
export const PASSWORD_CANARY_PREFIX = 'ZZPW-';

/** A new PHI canary: `ZZPHI-<label>-<uuid>`. */
export function phiCanary(label = 'X'): string {
  return `${PHI_CANARY_PREFIX}${label}-${randomUUID()}`;
}

/** A new password canary: `ZZPW-<uuid>` (URL-safe, 41 characters). */
export function passwordCanary(): string {
  return `${PASSWORD_CANARY_PREFIX}${randomUUID()}`;
}

const PATTERNS: ReadonlyArray<{ readonly kind: string; readonly re: RegExp }> = [
  { kind: 'phi', re: /ZZPHI-[A-Za-z0-9-]+/g },
  { kind: 'password', re: /ZZPW-[A-Za-z0-9-]+/g },
  { kind: 'jwt', re: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g },
];

/** One finding; the value itself is never reported, only where and what kind. */
export interface CanaryHit {
  readonly kind: string;
  readonly source: string;
  readonly line: number;
}

/** The forms of a 32-byte key a leak could take. */
export function keyForms(base64Key: string): string[] {
  const raw = Buffer.from(base64Key, 'base64');
  return [raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')];
}

/**
 * Finds canaries in `text`: the shape patterns above plus each exact secret (at least 16
 * characters, to keep short strings from matching by chance).
 */
export function scanText(text: string, source: string, secrets: readonly string[]): CanaryHit[] {
  const hits: CanaryHit[] = [];
  const lines = text.split('\n');
  const exact = secrets.filter((s) => s.length >= 16);
  lines.forEach((line, index) => {
    for (const { kind, re } of PATTERNS) {
      re.lastIndex = 0;
      if (re.test(line)) {
        hits.push({ kind, source, line: index + 1 });
      }
    }
    for (const secret of exact) {
      if (line.includes(secret) || line.toLowerCase().includes(secret.toLowerCase())) {
        hits.push({ kind: 'key', source, line: index + 1 });
        break;
      }
    }
  });
  return hits;
}

function captureDir(): string | undefined {
  const dir = process.env[CAPTURE_DIR_ENV];
  return dir === undefined || dir === '' ? undefined : dir;
}

function appendTo(sub: string, file: string, text: string): void {
  const dir = captureDir();
  if (dir === undefined) {
    return;
  }
  mkdirSync(join(dir, sub), { recursive: true });
  appendFileSync(join(dir, sub, file), text);
}

/**
 * A line sink for one component (a test gateway's logger, a child process): every line is also
 * appended to the run's capture directory. Without a capture directory (unit runs, benches) it
 * only hands lines back.
 */
export function captureSink(label: string): { write(line: string): void } {
  const file = `${label.replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}-${randomUUID()}.log`;
  return {
    write(line: string) {
      appendTo('logs', file, line.endsWith('\n') ? line : `${line}\n`);
    },
  };
}

/** Records output captured elsewhere (a child process's stdout and stderr) for the final scan. */
export function recordOutput(label: string, text: string): void {
  captureSink(label).write(text);
}

/** Registers exact secrets (keys) the final scan looks for. */
export function recordSecrets(secrets: readonly string[]): void {
  appendTo('secrets', `${process.pid}.txt`, `${secrets.join('\n')}\n`);
}

/**
 * Records a cross-tenant response leak found by a test gateway: which tenant's canary showed up
 * in whose response (tenant ids only, never the response).
 */
export function recordCrossTenantHit(requestedBy: string, canaryOf: string): void {
  appendTo('cross-tenant', `${process.pid}.txt`, `${requestedBy} got ${canaryOf}\n`);
}

function listFiles(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    out = statSync(path).isDirectory() ? [...out, ...listFiles(path)] : [...out, path];
  }
  return out;
}

/** What the final scan found. */
export interface CaptureReport {
  readonly files: number;
  readonly bytes: number;
  readonly hits: readonly CanaryHit[];
}

/** Scans a capture directory: logs and console output for canaries, plus recorded leaks. */
export function scanCaptureDir(dir: string): CaptureReport {
  const files = listFiles(dir);
  const secrets = files
    .filter((f) => relative(dir, f).startsWith('secrets'))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
    .filter((s) => s.length > 0);
  let bytes = 0;
  const hits: CanaryHit[] = [];
  for (const file of files) {
    const rel = relative(dir, file);
    if (rel.startsWith('secrets')) {
      continue;
    }
    const text = readFileSync(file, 'utf8');
    bytes += text.length;
    if (rel.startsWith('cross-tenant')) {
      text
        .split('\n')
        .filter((l) => l.length > 0)
        .forEach((_, i) => {
          hits.push({ kind: 'cross-tenant response', source: rel, line: i + 1 });
        });
      continue;
    }
    hits.push(...scanText(text, rel, secrets));
  }
  return { files: files.length, bytes, hits };
}

/**
 * Global-setup side: makes the capture directory, exports it to the test workers, and returns
 * the teardown that scans it. A hit sets `process.exitCode = 1`: vitest 4 prints an error thrown
 * from a global teardown but still exits 0 (checked with vitest 4.1.12), so throwing is not enough.
 */
export async function startLogCapture(): Promise<{ dir: string; finish(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fhirgate-capture-'));
  process.env[CAPTURE_DIR_ENV] = dir;
  return {
    dir,
    async finish() {
      const report = scanCaptureDir(dir);
      const summary = `${report.files} files, ${report.bytes} bytes`;
      if (report.hits.length === 0) {
        process.stderr.write(`[log-hygiene] canary scan of ${summary}: 0 hits\n`);
        await rm(dir, { recursive: true, force: true });
        return;
      }
      const listing = report.hits
        .slice(0, 50)
        .map((h) => `  ${h.kind} in ${h.source}:${h.line}`)
        .join('\n');
      process.stderr.write(
        `[log-hygiene] canary scan of ${summary}: ${report.hits.length} hits (kept in ${dir})\n${listing}\n`,
      );
      process.exitCode = 1;
    },
  };
}
