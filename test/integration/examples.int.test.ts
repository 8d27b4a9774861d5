/**
 * The typed example operations (`examples/operations/*.graphql`, generated into
 * `examples/generated/`) sent by the example client (`examples/fhirgate-client.ts`) over real
 * HTTP with fetch:
 * - to the embedded demo, `src/main.ts` started as a child process, with tokens from
 *   `src/cli/token.ts`, as a front-end developer meets it;
 * - to a gateway whose tenants are MariaDB databases loaded from the compose seed scripts
 *   (`deploy/hospital-*\/01-schema-and-rows.sql`) with the demo mappings, which must answer every
 *   operation exactly as the demo does.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { seedFile } from '../../deploy/render-seeds.js';
import { createFhirgateClient, type FhirgateResponse } from '../../examples/fhirgate-client.js';
import {
  PatientByIdDocument,
  type PatientByIdQuery,
  PatientSummaryDocument,
  type PatientSummaryQuery,
  SearchPatientsDocument,
  type SearchPatientsQuery,
} from '../../examples/generated/graphql.js';
import { loadConfig } from '../../src/config.js';
import { HOSPITAL_A, HOSPITAL_B, loadDemoMapping } from '../../src/demo/hospitals.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { freePort } from '../helpers/main-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOINC = 'http://loinc.org';

type Tenant = 'hospital-a' | 'hospital-b';

/** The three example operations, run for one tenant, with their typed results. */
interface ExampleResults {
  readonly byId: FhirgateResponse<PatientByIdQuery>;
  readonly missing: FhirgateResponse<PatientByIdQuery>;
  readonly search: FhirgateResponse<SearchPatientsQuery>;
  readonly summary: FhirgateResponse<PatientSummaryQuery>;
}

/** Patient 1 of each hospital; the summary runs for patients with encounters, vitals, diagnoses. */
const CASES = {
  'hospital-a': { summaryId: '5', family: 'Soto' },
  'hospital-b': { summaryId: '1', family: 'PEREZ' },
} as const;

async function runExamples(
  url: string,
  token: () => Promise<string>,
  tenant: Tenant,
): Promise<ExampleResults> {
  const client = createFhirgateClient({ url, token });
  const { summaryId, family } = CASES[tenant];
  const [byId, missing, search, summary] = await Promise.all([
    client.request(PatientByIdDocument, { id: '1' }),
    client.request(PatientByIdDocument, { id: '999999' }),
    client.request(SearchPatientsDocument, { family: [family], count: 5 }),
    client.request(PatientSummaryDocument, { id: summaryId }),
  ]);
  return { byId, missing, search, summary };
}

/** What every example answer must satisfy, whichever database serves it. */
function expectWellFormed(results: ExampleResults, tenant: Tenant): void {
  for (const [name, response] of Object.entries(results)) {
    expect(response.status, name).toBe(200);
    expect(response.errors, name).toBeUndefined();
  }
  expect(results.byId.data?.Patient?.resourceType).toBe('Patient');
  expect(results.byId.data?.Patient?.id).toBe('1');
  expect(results.missing.data).toEqual({ Patient: null });

  const found = results.search.data?.PatientList ?? [];
  expect(found.length).toBeGreaterThan(0);
  for (const patient of found) {
    expect(patient.resourceType).toBe('Patient');
    const families = (patient.name ?? []).map((n) => n.family?.toUpperCase() ?? '');
    expect(families.some((f) => f.includes(CASES[tenant].family.toUpperCase()))).toBe(true);
  }

  const chart = results.summary.data?.Patient;
  expect(chart?.id).toBe(CASES[tenant].summaryId);
  const encounters = chart?.EncounterList ?? [];
  const vitals = chart?.ObservationList ?? [];
  const conditions = chart?.ConditionList ?? [];
  expect(encounters.length).toBeGreaterThan(0);
  expect(vitals.length).toBeGreaterThan(0);
  expect(conditions.length).toBeGreaterThan(0);
  expect(new Set(encounters.map((e) => e.resourceType))).toEqual(new Set(['Encounter']));
  expect(new Set(conditions.map((c) => c.resourceType))).toEqual(new Set(['Condition']));
  for (const observation of vitals) {
    expect(observation.resourceType).toBe('Observation');
    expect(observation.code?.coding?.[0]?.system).toBe(LOINC);
    // A measurement carries its value; a blood pressure panel carries one per component.
    const values = [
      observation.valueQuantity,
      ...(observation.component ?? []).map((c) => c.valueQuantity),
    ]
      .filter((q) => q != null)
      .map((q) => q.value);
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) {
      expect(typeof value).toBe('number');
    }
    expect(observation.effectiveDateTime).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  }
}

describe('the example operations against the embedded demo', () => {
  let dataDir: string;
  let child: ChildProcess | undefined;
  let url: string;
  const results = new Map<Tenant, ExampleResults>();

  function mintToken(tenant: Tenant): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/token.ts', '--tenant', tenant, '--data-dir', dataDir],
        { cwd: ROOT, env: {} },
        (err, stdout) => (err === null ? resolve(stdout.trim()) : reject(err)),
      );
    });
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'fhirgate-examples-'));
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    url = `${base}/graphql`;
    // Nothing from the shell: a FHIRGATE_REGISTRY_URL there would turn the demo off.
    const env = { FHIRGATE_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' };
    const started = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env,
      stdio: 'ignore',
    });
    child = started;
    const deadline = Date.now() + 45_000;
    for (;;) {
      if (started.exitCode !== null) {
        throw new Error(`the demo server exited with ${started.exitCode}`);
      }
      const up = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (up) {
        break;
      }
      if (Date.now() > deadline) {
        throw new Error('the demo server did not answer /healthz in 45 s');
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const tenant of ['hospital-a', 'hospital-b'] as const) {
      const token = await mintToken(tenant);
      results.set(tenant, await runExamples(url, async () => token, tenant));
    }
  });

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child?.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(['hospital-a', 'hospital-b'] as const)(
    'answers every example operation for %s with typed, error-free data',
    (tenant) => {
      expectWellFormed(results.get(tenant)!, tenant);
    },
  );

  it('gives each tenant its own patient 1 (same id, different hospital)', () => {
    const a = results.get('hospital-a')!.byId.data?.Patient;
    const b = results.get('hospital-b')!.byId.data?.Patient;
    expect(a).toMatchObject({ birthDate: '1987-03-14', gender: 'female' });
    expect(a?.name?.[0]).toMatchObject({ use: 'official', family: 'Rojas', given: ['Camila'] });
    expect(b).toMatchObject({ birthDate: '1970-04-15', gender: 'male' });
    expect(b?.name?.[0]).toMatchObject({
      use: 'official',
      family: 'PEREZ GONZALEZ',
      given: ['JUAN', 'CARLOS'],
    });
  });

  it('types variables and results from the gateway schema (checked by tsc)', () => {
    expectTypeOf<VariablesOf<typeof PatientByIdDocument>>().toEqualTypeOf<{ id: string }>();
    // Optional variables (they have defaults or may be null), required ones required.
    expectTypeOf<VariablesOf<typeof SearchPatientsDocument>>().toHaveProperty('family');
    expectTypeOf<{ family: ['Soto'] }>().toMatchTypeOf<
      VariablesOf<typeof SearchPatientsDocument>
    >();
    expectTypeOf<{ count: 5 }>().not.toMatchTypeOf<VariablesOf<typeof PatientByIdDocument>>();
    type Chart = NonNullable<ResultOf<typeof PatientSummaryDocument>['Patient']>;
    type Vital = NonNullable<Chart['ObservationList']>[number];
    expectTypeOf<Vital['resourceType']>().toEqualTypeOf<string>();
    expectTypeOf<NonNullable<Vital['valueQuantity']>['value']>().toEqualTypeOf<
      number | null | undefined
    >();
    const patientOne = results.get('hospital-a')!.byId;
    expectTypeOf(patientOne).toEqualTypeOf<FhirgateResponse<PatientByIdQuery>>();
    expect(patientOne.data?.Patient?.id).toBe('1');
  });

  it('reports an error with a stable code, not data, for a request without a valid token', async () => {
    const client = createFhirgateClient({ url, token: () => 'not-a-token' });
    const response = await client.request(PatientByIdDocument, { id: '1' });
    expect(response.status).toBe(401);
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  describe('and against MariaDB loaded from the compose seed scripts', () => {
    let gateway: TestGateway;

    beforeAll(async () => {
      gateway = await createTestGateway({
        resourceTypes: loadConfig({}).graphql.resourceTypes,
        tenants: [HOSPITAL_A, HOSPITAL_B].map((hospital) => ({
          clientId: hospital.clientId,
          ddl: [],
          // The very file compose mounts into the hospital's /docker-entrypoint-initdb.d.
          seed: async (db) => {
            await db.exec(readFileSync(seedFile(hospital), 'utf8'));
          },
          mapping: loadDemoMapping(hospital),
        })),
      });
    });

    afterAll(async () => {
      await gateway?.close();
    });

    it.each(['hospital-a', 'hospital-b'] as const)(
      'answers every example operation for %s exactly as the embedded demo does',
      async (tenant) => {
        const fromSeeds = await runExamples(
          gateway.url,
          () => gateway.tokenFor(tenant, ['fhir-read']),
          tenant,
        );
        expectWellFormed(fromSeeds, tenant);
        expect(fromSeeds).toEqual(results.get(tenant));
      },
    );
  });
});
