import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_ISSUER_KEY_FILE, loadOrCreateDemoIssuer } from '../../../src/demo/demo-issuer.js';
import {
  GENERATED_PATIENTS,
  HOSPITAL_A,
  HOSPITAL_B,
  loadDemoMapping,
} from '../../../src/demo/hospitals.js';
import {
  DEMO_ENCRYPTION_KEY_FILE,
  DEMO_REGISTRY_FILE,
  prepareDemo,
} from '../../../src/demo/prepare-demo.js';
import { openSecret, parseKeyring } from '../../../src/tenancy/crypto.js';
import { parseDatabaseUrl } from '../../../src/tenancy/database-url.js';
import { createTenantRegistry, type TenantRegistry } from '../../../src/tenancy/registry.js';

const dirs: string[] = [];

function freshDir(prefix = 'fhirgate-demo-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of dirs) {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function withRegistry<T>(url: string, work: (r: TenantRegistry) => Promise<T>): Promise<T> {
  const registry = createTenantRegistry(parseDatabaseUrl(url));
  try {
    return await work(registry);
  } finally {
    await registry.close();
  }
}

function count(path: string, table: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('prepareDemo', () => {
  it('creates the key, the issuer, both hospitals and the registry on a fresh data dir', async () => {
    const dir = join(freshDir(), 'data');
    const demo = await prepareDemo({ dataDir: dir });

    expect(readdirSync(dir).sort()).toEqual(
      [
        DEMO_ENCRYPTION_KEY_FILE,
        DEMO_ISSUER_KEY_FILE,
        DEMO_REGISTRY_FILE,
        HOSPITAL_A.fileName,
        HOSPITAL_B.fileName,
      ].sort(),
    );
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const file of [DEMO_ENCRYPTION_KEY_FILE, DEMO_ISSUER_KEY_FILE, HOSPITAL_A.fileName]) {
      expect(statSync(join(dir, file)).mode & 0o777, file).toBe(0o600);
    }
    expect(readFileSync(join(dir, DEMO_ENCRYPTION_KEY_FILE), 'utf8')).toBe(
      `${demo.encryptionKey}\n`,
    );
    expect(Buffer.from(demo.encryptionKey, 'base64')).toHaveLength(32);
    expect(demo.registryUrl).toBe(`sqlite:${join(dir, DEMO_REGISTRY_FILE)}`);
    expect(demo.jwks).toEqual((await loadOrCreateDemoIssuer(dir)).jwks);

    // The hand-written patients and the generated ones, every table as in the seed.
    for (const hospital of [HOSPITAL_A, HOSPITAL_B]) {
      for (const { table, rows } of hospital.seed) {
        expect(count(join(dir, hospital.fileName), table), table).toBe(rows.length);
      }
    }
    expect(count(join(dir, HOSPITAL_A.fileName), 'pacientes')).toBe(25 + GENERATED_PATIENTS);

    const keyring = parseKeyring({ primaryKey: demo.encryptionKey });
    await withRegistry(demo.registryUrl, async (registry) => {
      expect((await registry.listTenants()).map((t) => t.clientId)).toEqual([
        'hospital-a',
        'hospital-b',
      ]);
      for (const hospital of [HOSPITAL_A, HOSPITAL_B]) {
        const found = await registry.findTenant(hospital.clientId);
        expect(found?.tenant).toMatchObject({
          displayName: hospital.displayName,
          dbType: 'sqlite',
          status: 'active',
        });
        // Sealed for this tenant: the URL opens only under its own client id.
        expect(openSecret(keyring, hospital.clientId, found!.tenant.sealedUrl)).toBe(
          `sqlite:${join(dir, hospital.fileName)}`,
        );
        expect(found?.tenant.sealedUrl).not.toContain(hospital.fileName);
        expect(found?.mapping?.version).toBe(1);
        expect(JSON.parse(found!.mapping!.document)).toEqual(loadDemoMapping(hospital));
      }
    });
  });

  it('reuses everything on a second start: same key, same rows, no new mapping version', async () => {
    const dir = freshDir();
    const first = await prepareDemo({ dataDir: dir });
    const sealedBefore = await withRegistry(first.registryUrl, (r) => r.listTenants());
    // A hospital database that exists is never reseeded, whatever it holds now.
    const pathA = join(dir, HOSPITAL_A.fileName);
    const db = new Database(pathA);
    db.prepare('DELETE FROM pacientes WHERE id_paciente = 25').run();
    db.close();

    const second = await prepareDemo({ dataDir: dir });
    expect(second).toEqual(first);
    expect(count(pathA, 'pacientes')).toBe(24 + GENERATED_PATIENTS);
    await withRegistry(second.registryUrl, async (registry) => {
      expect(await registry.listTenants()).toEqual(sealedBefore);
      expect((await registry.findTenant('hospital-b'))?.mapping?.version).toBe(1);
    });
  });

  it('activates the demo mapping again when the active version differs from it', async () => {
    const dir = freshDir();
    const { registryUrl } = await prepareDemo({ dataDir: dir });
    await withRegistry(registryUrl, async (registry) => {
      const edited = { formatVersion: 1, resources: {} };
      expect(
        await registry.addMapping('hospital-a', JSON.stringify(edited), { activate: true }),
      ).toBe(2);
    });

    await prepareDemo({ dataDir: dir });
    await withRegistry(registryUrl, async (registry) => {
      const a = await registry.findTenant('hospital-a');
      expect(a?.mapping?.version).toBe(3);
      expect(JSON.parse(a!.mapping!.document)).toEqual(loadDemoMapping(HOSPITAL_A));
      expect((await registry.findTenant('hospital-b'))?.mapping?.version).toBe(1);
    });
  });

  it('keeps a tenant an operator disabled disabled', async () => {
    const dir = freshDir();
    const { registryUrl } = await prepareDemo({ dataDir: dir });
    await withRegistry(registryUrl, (r) => r.setStatus('hospital-b', 'disabled'));
    await prepareDemo({ dataDir: dir });
    await withRegistry(registryUrl, async (registry) => {
      expect((await registry.findTenant('hospital-b'))?.tenant.status).toBe('disabled');
      expect((await registry.findTenant('hospital-a'))?.tenant.status).toBe('active');
    });
  });

  it('reseals the URLs when the demo key was replaced', async () => {
    const dir = freshDir();
    await prepareDemo({ dataDir: dir });
    rmSync(join(dir, DEMO_ENCRYPTION_KEY_FILE));
    const second = await prepareDemo({ dataDir: dir });
    const keyring = parseKeyring({ primaryKey: second.encryptionKey });
    await withRegistry(second.registryUrl, async (registry) => {
      const found = await registry.findTenant('hospital-a');
      expect(openSecret(keyring, 'hospital-a', found!.tenant.sealedUrl)).toBe(
        `sqlite:${join(dir, HOSPITAL_A.fileName)}`,
      );
    });
  });

  it('seals under the key id the server will use', async () => {
    const dir = freshDir();
    const demo = await prepareDemo({ dataDir: dir, keyId: 'demo2' });
    const keyring = parseKeyring({ primaryKey: demo.encryptionKey, primaryKeyId: 'demo2' });
    await withRegistry(demo.registryUrl, async (registry) => {
      const found = await registry.findTenant('hospital-b');
      expect(found!.tenant.sealedUrl.startsWith('v1.demo2.')).toBe(true);
      expect(openSecret(keyring, 'hospital-b', found!.tenant.sealedUrl)).toContain(
        HOSPITAL_B.fileName,
      );
    });
  });

  it('refuses a data dir a sqlite: URL cannot name, before writing anything', async () => {
    const dir = join(freshDir('fhirgate demo '), 'data');
    await expect(prepareDemo({ dataDir: dir })).rejects.toMatchObject({
      name: 'DemoSetupError',
      code: 'DEMO_DATA_DIR_UNUSABLE',
      message: expect.stringMatching(/FHIRGATE_DATA_DIR/),
    });
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses an encryption key file that is not 32 bytes of base64, naming the file', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, DEMO_ENCRYPTION_KEY_FILE), 'c2hvcnQ=\n');
    await expect(prepareDemo({ dataDir: dir })).rejects.toMatchObject({
      code: 'DEMO_ENCRYPTION_KEY_INVALID',
      message: expect.stringContaining(DEMO_ENCRYPTION_KEY_FILE),
    });
  });
});
