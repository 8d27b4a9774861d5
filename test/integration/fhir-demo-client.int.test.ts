import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MedplumClient } from '@medplum/core';
import type { Bundle, CapabilityStatement, Resource, ResourceType } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type MainProcess, startMain } from '../helpers/main-process.js';

/**
 * A FHIR client that knows only the specification (`@medplum/core`'s MedplumClient pointed at
 * `/fhir`) against the embedded demo started as `npm start` starts it: for both hospitals it
 * reads the CapabilityStatement, then searches and pages every mapped type to its end and reads
 * each first resource back by id.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let dataDir: string;
let main: MainProcess;
let base: string;

function mintToken(tenant: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/token.ts', '--tenant', tenant, '--roles', 'fhir-read'],
      { cwd: ROOT, env: { FHIRGATE_DATA_DIR: dataDir }, timeout: 30_000 },
      (err, stdout, stderr) => (err === null ? resolve(stdout.trim()) : reject(new Error(stderr))),
    );
  });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-rest-demo-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  main = startMain({
    FHIRGATE_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (main.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the demo did not start:\n${main.output()}`);
    }
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) {
        break;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 90_000);

afterAll(async () => {
  if (main !== undefined && main.child.exitCode === null) {
    main.child.kill('SIGTERM');
    await main.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe.each(['hospital-a', 'hospital-b'])('MedplumClient against the demo, %s', (tenant) => {
  let client: MedplumClient;

  beforeAll(async () => {
    client = new MedplumClient({ baseUrl: `${base}/`, fhirUrlPath: 'fhir', cacheTime: 0 });
    client.setAccessToken(await mintToken(tenant));
  }, 40_000);

  it('reads, searches and pages every mapped type', async () => {
    const statement = (await client.get(client.fhirUrl('metadata'))) as CapabilityStatement;
    const types = (statement.rest?.[0]?.resource ?? []).map((r) => r.type as ResourceType);
    expect(types.length).toBeGreaterThanOrEqual(5);
    for (const type of types) {
      const counted = (await client.search(type, '_summary=count')) as Bundle;
      const seen: Resource[] = [];
      // Pages of 50: several for most types of the generated demo, in a few dozen requests.
      for await (const page of client.searchResourcePages(type, '_count=50&_sort=_id')) {
        seen.push(...page);
      }
      expect(seen.length, type).toBe(counted.total);
      expect(new Set(seen.map((r) => r.id)).size, type).toBe(seen.length);
      const first = seen[0];
      if (first?.id !== undefined) {
        const read = await client.readResource(type, first.id);
        expect(read, type).toEqual(first);
      }
    }
  });
});
