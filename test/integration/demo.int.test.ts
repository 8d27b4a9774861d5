/**
 * The embedded demo as a user meets it: `src/main.ts` started as a child process with nothing
 * configured but a data dir and a port, tokens from `src/cli/token.ts`, GraphQL over HTTP. Also
 * loads the demo hospitals into MariaDB, to keep their DDL and seed portable.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlValue } from '../../src/db/dialect.js';
import { createSqliteDatabase } from '../../src/db/sqlite-database.js';
import type { TenantDatabase } from '../../src/db/tenant-database.js';
import type { DemoHospital } from '../../src/demo/demo-hospital.js';
import {
  DEMO_HOSPITALS,
  HOSPITAL_A,
  loadDemoMapping,
  seedHospital,
} from '../../src/demo/hospitals.js';
import { loadDefinitions } from '../../src/fhir/definitions.js';
import { type CompiledMapping, compileMapping } from '../../src/mapping/compile-mapping.js';
import { MAX_SEARCH_COUNT } from '../../src/mapping/compiled-resource.js';
import type { SearchQuery } from '../../src/mapping/search.js';
import { HANG_BACKSTOP_MS } from '../helpers/backstop.js';
import { freePort } from '../helpers/main-process.js';
import { openTenantDatabase } from '../helpers/tenant-database.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { loadR4Definitions, validateR4, withoutNulls } from '../unit/conformance/r4-validator.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const JWT_LINE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/;

interface RunningServer {
  readonly child: ChildProcess;
  readonly base: string;
  output(): string;
}

let dataDir: string;
let server: RunningServer | undefined;

function childEnv(extra: Record<string, string>): Record<string, string> {
  // Nothing from the shell: a FHIRGATE_REGISTRY_URL there would turn the demo off. The child is
  // started by absolute path (process.execPath), so it needs no PATH either.
  return { ...extra };
}

/** Starts `src/main.ts` on the data dir and resolves once `/healthz` answers 200. */
async function startServer(): Promise<RunningServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: childEnv({
      FHIRGATE_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + HANG_BACKSTOP_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`the demo server exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.status === 200) {
        return { child, base, output: () => output };
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`the demo server did not answer /healthz in time:\n${output}`);
}

async function stopServer(running: RunningServer | undefined): Promise<void> {
  const child = running?.child;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** `src/cli/token.ts`, as `npm run -s token` runs it. */
function mintToken(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/token.ts', ...args, '--data-dir', dataDir],
      { cwd: ROOT, env: childEnv({}), timeout: HANG_BACKSTOP_MS },
      (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : Number(err.code ?? -1), stdout, stderr });
      },
    );
  });
}

async function tokenFor(tenant: string, roles = 'fhir-read'): Promise<string> {
  const result = await mintToken(['--tenant', tenant, '--roles', roles]);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toMatch(JWT_LINE);
  return result.stdout.trim();
}

interface GraphqlAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

async function post(query: string, token?: string): Promise<GraphqlAnswer> {
  const res = await fetch(`${server!.base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query }),
  });
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as GraphqlAnswer['body'],
  };
}

type PatientJson = Record<string, unknown> & { id: string };

function patientsOf(answer: GraphqlAnswer): PatientJson[] {
  expect(answer.body.errors, JSON.stringify(answer.body.errors)).toBeUndefined();
  return answer.body.data?.['PatientList'] as PatientJson[];
}

function mappingVersions(): Record<string, number> {
  const db = new Database(join(dataDir, 'registry.db'), { readonly: true });
  try {
    const rows = db
      .prepare(
        'SELECT t.client_id AS clientId, COUNT(m.id) AS versions FROM fhirgate_tenants t ' +
          'LEFT JOIN fhirgate_mappings m ON m.tenant_id = t.id GROUP BY t.client_id ORDER BY 1',
      )
      .all() as { clientId: string; versions: number }[];
    return Object.fromEntries(rows.map((r) => [r.clientId, r.versions]));
  } finally {
    db.close();
  }
}

const defs = loadDefinitions();

/**
 * Ids of the served patients with `surname` as a surname: hospital A's surname columns, or a word
 * of hospital B's full-name column.
 */
function idsWithSurname(hospital: DemoHospital, surname: string): string[] {
  const { columns, rows } = hospital.seed[0]!;
  const cells = (hospital === HOSPITAL_A ? ['ap_pat_pac', 'ap_mat_pac'] : ['nombre_usr']).map((c) =>
    columns.indexOf(c),
  );
  const voided = columns.indexOf('voided');
  return rows
    .filter((row) => voided < 0 || row[voided] === 0)
    .filter((row) =>
      cells.some((i) =>
        String(row[i] ?? '')
          .split(/\s+/)
          .includes(surname),
      ),
    )
    .map((row) => String(row[0]));
}

const LIST = '{ PatientList(_count: 5) { id name { family given } gender birthDate } }';

/** Searches whose SQL differs most between engines; both demo hospitals map these codes. */
const PORTABLE_SEARCHES: readonly [string, SearchQuery][] = [
  ['Encounter', [{ code: 'date', values: ['2024-12'] }]],
  ['Encounter', [{ code: 'date', values: ['lt2024'] }]],
  [
    'Observation',
    [
      { code: 'code', values: ['8867-4'] },
      { code: 'date', values: ['ge2025-01'] },
    ],
  ],
  ['Observation', [{ code: 'patient', values: ['Patient/1'] }]],
  ['Condition', [{ code: 'clinical-status', values: ['resolved'] }]],
  ['MedicationRequest', [{ code: 'status', values: ['active'] }]],
];

beforeAll(async () => {
  loadR4Definitions();
  dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-demo-int-'));
  server = await startServer();
});

afterAll(async () => {
  await stopServer(server);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the embedded demo (npm start with nothing configured)', () => {
  it('serves each hospital its own patients through its own mapping', async () => {
    const [tokenA, tokenB] = await Promise.all([tokenFor('hospital-a'), tokenFor('hospital-b')]);
    const a = patientsOf(await post(LIST, tokenA));
    const b = patientsOf(await post(LIST, tokenB));
    expect(a).toHaveLength(5);
    expect(b).toHaveLength(5);
    expect(a[0]).toEqual({
      id: '1',
      name: [{ family: 'Rojas', given: ['Camila'] }],
      gender: 'female',
      birthDate: '1987-03-14',
    });
    // One full-name column split into given names and two surnames, then the alias names.
    expect(b[0]).toEqual({
      id: '1',
      name: [
        { family: 'PEREZ GONZALEZ', given: ['JUAN', 'CARLOS'] },
        { family: null, given: ['JC'] },
      ],
      gender: 'male',
      birthDate: '1970-04-15',
    });
    // B's '00/00/0000' is an absent birth date, not an error.
    expect(b.find((p) => p.id === '3')?.['birthDate']).toBeNull();
    const familiesA = new Set(
      a.flatMap((p) => (p['name'] as { family: string }[]).map((n) => n.family)),
    );
    const familiesB = new Set(
      b.flatMap((p) => (p['name'] as { family: string }[]).map((n) => n.family)),
    );
    expect([...familiesA].filter((f) => familiesB.has(f))).toEqual([]);
  });

  it('answers the same id with each hospital’s own patient', async () => {
    const query = '{ Patient(id: "1") { id identifier { system value } name { text } } }';
    const a = await post(query, await tokenFor('hospital-a'));
    const b = await post(query, await tokenFor('hospital-b'));
    expect(a.body.data?.['Patient']).toEqual({
      id: '1',
      identifier: [{ system: 'https://demo.fhirgate.invalid/rut', value: '16234871-K' }],
      name: [{ text: 'Camila Rojas Araya' }],
    });
    expect(b.body.data?.['Patient']).toMatchObject({
      id: '1',
      identifier: [{ system: 'https://demo.fhirgate.invalid/rut', value: '10982345-7' }],
    });
    expect(JSON.stringify(b.body)).not.toContain('Camila');
  });

  it('applies each mapping’s row filters, transforms and child tables', async () => {
    const tokenA = await tokenFor('hospital-a');
    const voided = await post('{ Patient(id: "14") { id } }', tokenA);
    expect(voided.body.data?.['Patient']).toBeNull();
    const phones = await post('{ Patient(id: "1") { telecom { system value use } } }', tokenA);
    expect(phones.body.data?.['Patient']).toEqual({
      telecom: [
        { system: 'phone', value: '+56 9 8123 4567', use: 'mobile' },
        { system: 'phone', value: '+56 55 224 1180', use: 'home' },
      ],
    });
    const tokenB = await tokenFor('hospital-b');
    const inactive = await post('{ Patient(id: "5") { id active } }', tokenB);
    expect(inactive.body.data?.['Patient']).toEqual({ id: '5', active: false });
  });

  it('searches each hospital by name and gender over its own columns', async () => {
    const a = patientsOf(
      await post(
        '{ PatientList(family: "rojas") { id name { family } } }',
        await tokenFor('hospital-a'),
      ),
    );
    expect(a.map((p) => p.id)).toEqual(['1']);
    const b = patientsOf(
      await post(
        '{ PatientList(family: "rojas", gender: "female") { id } }',
        await tokenFor('hospital-b'),
      ),
    );
    // "VALENZUELA ROJAS" matches on a word inside the full-name column.
    expect(b.map((p) => p.id)).toEqual(['4']);
  });

  it.each<[string, string, string]>([
    ['hospital-a', "O'Brien", "O'Brien"],
    ['hospital-a', 'Nguyễn', 'Nguyễn'],
    ['hospital-a', 'Ólafsdóttir', 'Ólafsdóttir'],
    // Stored in upper case: search ignores case and accents beyond ASCII too.
    ['hospital-b', "O'Brien", "O'BRIEN"],
    ['hospital-b', 'Nguyễn', 'NGUYỄN'],
    ['hospital-b', 'olafsdottir', 'ÓLAFSDÓTTIR'],
  ])(
    '%s: family %s finds the generated patients named %s, over GraphQL and REST alike, valid R4',
    async (tenant, family, stored) => {
      const hospital = DEMO_HOSPITALS.find((h) => h.clientId === tenant)!;
      const expected = idsWithSurname(hospital, stored);
      expect(expected.length, `the generator made no ${stored}`).toBeGreaterThan(0);
      const token = await tokenFor(tenant);

      const graphql = patientsOf(
        await post(
          `{ PatientList(family: ${JSON.stringify(family)}, _count: 100) { resourceType id name { use family given text } identifier { use system value } gender birthDate } }`,
          token,
        ),
      );
      expect(graphql.map((p) => p.id)).toEqual(expected);

      const res = await fetch(
        `${server!.base}/fhir/Patient?family=${encodeURIComponent(family)}&_count=100`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(res.status).toBe(200);
      const bundle = (await res.json()) as { entry?: { resource: Resource }[] };
      const rest = (bundle.entry ?? []).map((e) => e.resource);
      expect(rest.map((p) => p.id)).toEqual(expected);

      for (const patient of [...graphql.map((p) => withoutNulls(p) as Resource), ...rest]) {
        expect(validateR4(patient), JSON.stringify(patient)).toEqual([]);
        expect(JSON.stringify(patient), 'the name arrives as stored').toContain(stored);
      }
    },
  );

  it('serves a patient’s vital signs, fanned out from each hospital’s wide rows', async () => {
    const query = `{ Patient(id: "1") { id ObservationList(_reference: subject) {
      id code { coding { code } } valueQuantity { value unit }
      component { code { coding { code } } valueQuantity { value } } } } }`;
    const vitals = async (tenant: string) => {
      const answer = await post(query, await tokenFor(tenant));
      expect(answer.body.errors, JSON.stringify(answer.body.errors)).toBeUndefined();
      const patient = answer.body.data?.['Patient'] as { ObservationList: PatientJson[] } | null;
      return patient?.ObservationList ?? [];
    };
    const heightAndWeight = (list: PatientJson[]) =>
      list.filter((o) => /-(8302-2|29463-7)$/.test(o.id)).map((o) => [o.id, o['valueQuantity']]);

    const a = await vitals('hospital-a');
    // Row 1: height, weight, blood pressure, pulse; row 2: no height (0 = not measured).
    expect(a.map((o) => o.id)).toEqual([
      '1-8302-2',
      '1-29463-7',
      '1-85354-9',
      '1-8867-4',
      '2-29463-7',
      '2-85354-9',
      '2-8867-4',
    ]);
    expect(heightAndWeight(a)).toEqual([
      ['1-8302-2', { value: 162, unit: 'cm' }],
      ['1-29463-7', { value: 61.5, unit: 'kg' }],
      ['2-29463-7', { value: 62.3, unit: 'kg' }],
    ]);
    expect(a.find((o) => o.id === '1-85354-9')).toMatchObject({
      code: { coding: [{ code: '85354-9' }] },
      valueQuantity: null,
      component: [
        { code: { coding: [{ code: '8480-6' }] }, valueQuantity: { value: 112 } },
        { code: { coding: [{ code: '8462-4' }] }, valueQuantity: { value: 72 } },
      ],
    });

    // Hospital B's patient 1 is someone else, measured in inches and pounds.
    const b = await vitals('hospital-b');
    expect(heightAndWeight(b)).toEqual([
      ['1-8302-2', { value: 174, unit: 'cm' }],
      ['1-29463-7', { value: 85, unit: 'kg' }],
      ['2-29463-7', { value: 83, unit: 'kg' }],
    ]);
  });

  it('answers 401 with a Bearer challenge without a token', async () => {
    const res = await post(LIST);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });

  it('answers 403 UNKNOWN_TENANT to a valid token for a tenant it does not serve', async () => {
    const minted = await mintToken(['--tenant', 'hospital-z']);
    expect(minted.code).toBe(0);
    expect(minted.stdout).toMatch(JWT_LINE);
    expect(minted.stderr).toMatch(/hospital-z/);
    const res = await post(LIST, minted.stdout.trim());
    expect(res.status).toBe(403);
    expect(res.body.errors?.[0]?.extensions?.['code']).toBe('UNKNOWN_TENANT');
  });

  it('serves GraphiQL to a browser', async () => {
    const res = await fetch(`${server!.base}/graphql`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/graphiql/i);
  });

  it('publishes the issuer JWKS without private key material', async () => {
    const res = await fetch(
      `${server!.base}/demo/realms/fhirgate-demo/protocol/openid-connect/certs`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).not.toHaveProperty('d');
  });

  it('never prints the demo keys or a tenant URL', () => {
    const output = server!.output();
    const encryptionKey = readFileSync(join(dataDir, 'demo-encryption-key'), 'utf8').trim();
    const issuerKey = JSON.parse(readFileSync(join(dataDir, 'demo-issuer-key.json'), 'utf8')) as {
      d: string;
    };
    expect(output).toContain('Demo mode');
    expect(output).not.toContain(encryptionKey);
    expect(output).not.toContain(issuerKey.d);
    expect(output).not.toMatch(/sqlite:|hospital-a\.db|registry\.db/);
  });

  it('reuses the data dir on a second start: same keys, same databases, no new mapping version', async () => {
    const token = await tokenFor('hospital-a');
    const versionsBefore = mappingVersions();
    expect(versionsBefore).toEqual({ 'hospital-a': 1, 'hospital-b': 1 });
    const dbMtime = statSync(join(dataDir, HOSPITAL_A.fileName)).mtimeMs;

    await stopServer(server);
    server = await startServer();

    expect(mappingVersions()).toEqual(versionsBefore);
    expect(statSync(join(dataDir, HOSPITAL_A.fileName)).mtimeMs).toBe(dbMtime);
    // A token minted before the restart still verifies: the issuer key was reused.
    expect(patientsOf(await post(LIST, token))).toHaveLength(5);
  });
});

describe('the demo hospitals in MariaDB', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('demo');
  });

  afterAll(async () => {
    await db?.drop();
  });

  function compiledFor(hospital: DemoHospital, executor: TenantDatabase): CompiledMapping {
    const compiled = compileMapping(loadDemoMapping(hospital), {
      defs,
      dialect: executor.dialect,
    });
    if (!compiled.ok) {
      throw new Error(JSON.stringify(compiled.problems));
    }
    return compiled.mapping;
  }

  /**
   * Every resource of every mapped type, by type, and the ids a few searches find: date search
   * through hospital B's views, fan-out code search, numeric maps.
   */
  async function servedResources(hospital: DemoHospital, executor: TenantDatabase) {
    const mapping = compiledFor(hospital, executor);
    const served: Record<string, unknown[]> = {};
    for (const type of mapping.resourceTypes) {
      served[type] = await mapping
        .resource(type)!
        .search(executor, [], { count: MAX_SEARCH_COUNT, offset: 0 });
    }
    for (const [i, [type, query]] of PORTABLE_SEARCHES.entries()) {
      const found = await mapping
        .resource(type)!
        .search(executor, query, { count: 100, offset: 0 });
      served[`search ${i}`] = found.map((r) => r['id']);
    }
    return served;
  }

  it('load with the same DDL and seed, and serve the same resources of every type as SQLite', async () => {
    const mysqlDb = openTenantDatabase(db);
    try {
      for (const hospital of DEMO_HOSPITALS) {
        // Batched: the server commits every statement.
        await seedHospital(
          async (sql, params) => {
            await db.exec(sql, params);
          },
          hospital,
          { rowsPerStatement: 100 },
        );
        for (const { table, rows } of hospital.seed) {
          const [row] = await db.exec<Record<string, unknown>[]>(
            `SELECT COUNT(*) AS n FROM ${table}`,
          );
          expect(Number(row?.['n']), table).toBe(rows.length);
        }

        const sqliteDb = createSqliteDatabase(':memory:', { readonly: false });
        await seedHospital(
          async (sql, params) => {
            await sqliteDb.query({ sql, params: params as SqlValue[] });
          },
          hospital,
          { rowsPerStatement: 100 },
        );
        const fromSqlite = await servedResources(hospital, sqliteDb);
        await sqliteDb.close();

        const fromMariadb = await servedResources(hospital, mysqlDb);
        expect(fromMariadb['Patient']?.length, hospital.clientId).toBeGreaterThanOrEqual(23);
        expect(fromMariadb['search 0']?.length, hospital.clientId).toBeGreaterThan(0);
        // DECIMAL comes back as text from mysql2 and as a number from SQLite, DATETIME as text from
        // both: the mappings must make the same FHIR of either.
        for (const [type, resources] of Object.entries(fromSqlite)) {
          expect(resources.length, `${hospital.clientId} ${type}`).toBeGreaterThan(0);
          expect(fromMariadb[type], `${hospital.clientId} ${type}`).toEqual(resources);
        }
      }
    } finally {
      await mysqlDb.close();
    }
  });
});
