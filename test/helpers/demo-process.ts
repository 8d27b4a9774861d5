import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HANG_BACKSTOP_MS } from './backstop.js';
import { freePort } from './main-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface DemoProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `npm start` as a newcomer runs it: `src/main.ts` in demo mode (nothing configured but a data dir
 * and a port), resolved once `/healthz` answers. Fails as soon as the process exits; the deadline
 * is a backstop for a hung start, far above what a loaded machine needs.
 */
export async function startDemo(
  dataDir: string,
  deadlineMs = HANG_BACKSTOP_MS,
): Promise<DemoProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Nothing from the shell: a FHIRGATE_REGISTRY_URL there would turn the demo off.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { FHIRGATE_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the demo exited with ${child.exitCode}:\n${output}`);
    }
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) {
        return { child, base, output: () => output, stop };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`the demo did not answer /healthz within ${deadlineMs} ms:\n${output}`);
}
