import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { parseKeyring, sealSecret } from '../../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { createTenantRegistry } from '../../src/tenancy/registry.js';
import { HANG_BACKSTOP_MS } from './backstop.js';
import type { TenantFixture } from './create-test-gateway.js';
import { compiledEntry } from './test-build.js';

/** A free TCP port on 127.0.0.1 (closed again, so a child process can take it). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => resolve());
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error('freePort: no TCP address');
  }
  return address.port;
}

export interface MainProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Its exit code (null when a signal ended it) and when it exited (`performance.now()`). */
  readonly exited: Promise<{ readonly code: number | null; readonly at: number }>;
}

/**
 * Runs the gateway, compiled as in the image (test-build.ts), as a real process with exactly `env`
 * (plus PATH), so a test sees what an operator sees: the boot path, the logs and the exit code.
 */
export function startMain(env: Record<string, string>): MainProcess {
  let output = '';
  const child = spawn(process.execPath, [compiledEntry('main')], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, at: performance.now() })),
  );
  return { child, output: () => output, exited };
}

/**
 * Registers one tenant the way an operator does: registry schema applied, the tenant's URL sealed
 * under `key` with its client id bound, the mapping stored and activated.
 */
export async function registerTenant(options: {
  readonly registryUrl: string;
  readonly key: Buffer;
  readonly tenant: TenantFixture;
  readonly tenantUrl: string;
  readonly displayName?: string;
}): Promise<void> {
  const { tenant } = options;
  const registry = createTenantRegistry(parseDatabaseUrl(options.registryUrl));
  try {
    await registry.applySchema();
    const keyring = parseKeyring({ primaryKey: options.key.toString('base64') });
    await registry.upsertTenant({
      clientId: tenant.clientId,
      displayName: options.displayName ?? tenant.clientId,
      dbType: 'mysql',
      sealedUrl: sealSecret(keyring, tenant.clientId, options.tenantUrl),
      status: 'active',
    });
    await registry.addMapping(tenant.clientId, JSON.stringify(tenant.mapping), { activate: true });
  } finally {
    await registry.close();
  }
}

/**
 * Polls `probe` (errors count as "not yet") until it gives a value, or fails after `ms`: by default
 * the hang backstop, since a gateway process can take many seconds to boot on a loaded machine.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = HANG_BACKSTOP_MS,
): Promise<T> {
  const until = performance.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) {
      return value;
    }
    if (performance.now() > until) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
