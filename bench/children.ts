/**
 * Server children of the benchmark: spawned with the probe preloaded, polled until healthy, asked
 * for heap readings and profiles over IPC, and read from `/proc` (RSS, sockets to MariaDB).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transpileFile, transpileTree } from '../scripts/transpile-sources.js';
import type { ProbeCommand, ProbeReply, ProbeRequest } from './child-probe.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** The bench files that run in a child process. */
const CHILD_FILES = ['child-probe', 'baseline-server', 'naive-gateway'];

let compiledRoot: string | undefined;

/**
 * This checkout's `src/` and the bench's child files, transpiled once per run into a temporary
 * tree laid out like the checkout (links to `package.json`, `schema/`, `node_modules/`): the
 * servers run as plain `node` on JavaScript, as the image runs the build, not under tsx (whose
 * esbuild wraps every closure in a `__name` call: 4 % of the gateway's S1 profile under tsx).
 */
function compiled(): string {
  if (compiledRoot === undefined) {
    const root = mkdtempSync(join(tmpdir(), 'fhirgate-bench-build-'));
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
    transpileTree(join(ROOT, 'src'), join(root, 'src'));
    for (const file of CHILD_FILES) {
      transpileFile(join(ROOT, 'bench', `${file}.ts`), join(root, 'bench', `${file}.js`));
    }
    for (const link of ['package.json', 'schema', 'node_modules']) {
      symlinkSync(join(ROOT, link), join(root, link));
    }
    compiledRoot = root;
  }
  return compiledRoot;
}

/**
 * The node arguments that run `entry` with the probe preloaded: this checkout's files from the
 * compiled tree; another checkout's (`--gateway-entry`) under tsx, as it is.
 */
function entryArgs(entry: string): string[] {
  if (isAbsolute(entry) || !entry.endsWith('.ts')) {
    return ['--import', 'tsx', '--import', './bench/child-probe.ts', entry];
  }
  const root = compiled();
  return [
    '--import',
    pathToFileURL(join(root, 'bench', 'child-probe.js')).href,
    join(root, entry.replace(/\.ts$/, '.js')),
  ];
}

/** Env names the children never inherit: a bench run must not pick up a developer's settings. */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG'];

/**
 * `--gateway-env=NAME=value` arguments (repeatable) as an environment for gateway children, to A/B
 * a setting in two runs (`--gateway-env=FHIRGATE_AUDIT_MAX_IN_FLIGHT=4`). Only FHIRGATE_ names.
 */
export function gatewayEnvFromArgs(argv: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    argv
      .filter((a) => a.startsWith('--gateway-env='))
      .map((a) => a.slice('--gateway-env='.length))
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])
      .filter(([k]) => /^FHIRGATE_[A-Z0-9_]+$/.test(k ?? '')),
  );
}

/**
 * `--gateway-node-arg=--max-semi-space-size=4` arguments (repeatable): V8 or Node flags for the
 * gateway child, to A/B one. Only `--` flags.
 */
export function gatewayNodeArgsFromArgs(argv: readonly string[]): string[] {
  return nodeArgsFromArgs(argv, '--gateway-node-arg=');
}

/** The values of `<prefix>--flag[=value]` arguments that look like a Node or V8 flag. */
export function nodeArgsFromArgs(argv: readonly string[], prefix = '--node-arg='): string[] {
  return argv
    .filter((a) => a.startsWith(prefix))
    .map((a) => a.slice(prefix.length))
    .filter((a) => /^--[a-z0-9-]+(=[\w.-]+)?$/.test(a));
}

export interface ServerChild {
  readonly name: string;
  readonly pid: number;
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** The last 20,000 characters the child printed (shown when it fails). */
  output(): string;
  /** Bytes the child has printed since it started (its log volume). */
  outputBytes(): number;
  /** Sends a probe request and waits for its answer. */
  probe(request: ProbeCommand): Promise<ProbeReply>;
  /** Resident set size now, in bytes (from `/proc/<pid>/status`). */
  rss(): Promise<number>;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the child has exited. */
  stop(): Promise<void>;
}

const live = new Set<ServerChild>();

/** Every child still running (for the cleanup on Ctrl-C or errors). */
export function liveChildren(): ServerChild[] {
  return [...live];
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts `node [nodeArgs] --import <child-probe> <entry>` (see {@link entryArgs}) on a free port
 * and resolves once `GET /healthz` answers 200.
 */
export async function startServer(options: {
  readonly name: string;
  readonly entry: string;
  readonly env: Record<string, string>;
  readonly nodeArgs?: readonly string[];
}): Promise<ServerChild> {
  const port = await freePort();
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = process.env[key];
    if (value !== undefined) {
      env[key] = value;
    }
  }
  const child: ChildProcess = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), ...entryArgs(options.entry)],
    {
      env: { ...env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  let output = '';
  let outputBytes = 0;
  const collect = (d: Buffer) => {
    outputBytes += d.length;
    output = (output + d.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, (reply: ProbeReply) => void>();
  child.on('message', (reply: ProbeReply) => {
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  let nextId = 1;
  const pid = child.pid ?? -1;

  const handle: ServerChild = {
    name: options.name,
    pid,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    outputBytes: () => outputBytes,
    probe(request) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${options.name}: probe ${request.type} timed out`));
        }, 60_000);
        pending.set(id, (reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
        child.send({ ...request, id } as ProbeRequest);
      });
    },
    rss: () => processRss(pid),
    async stop() {
      live.delete(handle);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  live.add(handle);

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      live.delete(handle);
      throw new Error(`${options.name} exited during startup:\n${output.slice(-4000)}`);
    }
    const ok = await fetch(`${handle.baseUrl}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) {
      return handle;
    }
    if (Date.now() > deadline) {
      await handle.stop();
      throw new Error(`${options.name} did not become healthy in 60 s:\n${output.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** VmRSS of a process, in bytes; 0 when it is gone. */
export async function processRss(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

/**
 * Established TCP connections from `pid` to `port`: the client's own view of its database
 * connections, which the server's `Threads_connected` only reaches after its thread teardown.
 */
export async function processSocketsTo(pid: number, port: number): Promise<number> {
  try {
    const inodes = new Set<string>();
    const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
    for (const table of ['tcp', 'tcp6']) {
      const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        // cols: sl local rem st ... inode(9)
        if (cols[2]?.endsWith(`:${hexPort}`) && cols[3] === '01' && cols[9] !== undefined) {
          inodes.add(cols[9]);
        }
      }
    }
    let count = 0;
    const fds = await readdir(`/proc/${pid}/fd`);
    await Promise.all(
      fds.map(async (fd) => {
        const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode !== undefined && inodes.has(inode)) {
          count++;
        }
      }),
    );
    return count;
  } catch {
    return 0;
  }
}
