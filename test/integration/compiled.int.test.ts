/**
 * `npm run build` and the image's layout, without Docker: the build context the Dockerfile copies
 * (package.json, tsconfig files, src/) is built in a temp dir, src/ is removed as the runtime stage
 * has none, and node_modules has every package but tsx. Then `node dist/main.js` serves the demo
 * and the `fhirgate` bin runs the compiled CLI: nothing at run time needs tsx or TypeScript.
 */
import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANG_BACKSTOP_MS } from '../helpers/backstop.js';
import { freePort } from '../helpers/main-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let app: string;

function run(file: string, args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      file,
      args,
      { cwd: app, env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: HANG_BACKSTOP_MS },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : Number(err.code ?? -1), stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'fhirgate-compiled-'));
  for (const path of [
    'package.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'src',
    'schema',
    'bin',
  ]) {
    cpSync(join(ROOT, path), join(app, path), { recursive: true });
  }
  // Every installed package but tsx, linked: anything that still needs tsx fails to load.
  mkdirSync(join(app, 'node_modules'));
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry !== 'tsx') {
      symlinkSync(join(ROOT, 'node_modules', entry), join(app, 'node_modules', entry));
    }
  }
  const build = await run('npm', ['run', '-s', 'build']);
  expect(build.code, build.stderr).toBe(0);
  rmSync(join(app, 'src'), { recursive: true });
});

afterAll(() => {
  if (app !== undefined) {
    rmSync(app, { recursive: true, force: true });
  }
});

describe('the compiled build', () => {
  it('emits JavaScript and the data files it reads beside it', () => {
    for (const file of [
      'dist/main.js',
      'dist/cli/main.js',
      'dist/cli/token.js',
      'dist/fhir/r4-extract.json',
      'dist/demo/mappings/hospital-a.json',
    ]) {
      expect(existsSync(join(app, file)), file).toBe(true);
    }
    expect(existsSync(join(app, 'node_modules', 'tsx'))).toBe(false);
  });

  it('runs the CLI through the bin with plain node', async () => {
    const help = await run(process.execPath, ['bin/fhirgate.js', 'help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: fhirgate <command>');
  });

  it('serves the demo from dist/main.js, tokens from the compiled token command included', async () => {
    const dataDir = join(app, 'data');
    const port = await freePort();
    const env = { FHIRGATE_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' };
    const server = spawn(process.execPath, ['dist/main.js'], {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    server.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    server.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      for (;;) {
        expect(server.exitCode, output).toBeNull();
        const up = await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const minted = await run(
        process.execPath,
        ['bin/fhirgate.js', 'token', '--tenant', 'hospital-a', '--data-dir', dataDir],
        env,
      );
      expect(minted.code, minted.stderr).toBe(0);
      const res = await fetch(`${base}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${minted.stdout.trim()}`,
        },
        body: JSON.stringify({ query: '{ PatientList(family: "Soto") { name { family } } }' }),
      });
      expect(await res.json()).toEqual({
        data: { PatientList: [{ name: [{ family: 'Soto' }] }] },
      });
      const page = await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).toContain('/graphiql/');
    } finally {
      server.kill('SIGTERM');
    }
  });
});
