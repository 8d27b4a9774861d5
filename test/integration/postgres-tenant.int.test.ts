import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantHash } from '../../src/logger.js';
import { sealSecret } from '../../src/tenancy/crypto.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { createPgTenantUser } from '../helpers/pg-tenant-user.js';
import type { TenantUser } from '../helpers/tenant-user.js';
import { createTestPgDatabase, type TestPgDatabase } from '../helpers/test-pg-database.js';

/**
 * A PostgreSQL tenant served through the real gateway (GraphQL and FHIR REST over real HTTP) from
 * a database on the local PostgreSQL server: mixed-case names kept by quoting, a join named with
 * 30 characters whose column has 63 (a result key longer than PostgreSQL's names), dates, bigint,
 * boolean, case-insensitive search and paging.
 */
const JOIN = 'demographic_details_by_visit_x'; // 30 characters
const LONG_COLUMN = 'city_of_residence_as_recorded_at_the_first_registration_visit_x'; // 63
const PATIENTS = 12;

let db: TestPgDatabase;
let user: TenantUser;
let gw: TestGateway;
let token: string;

const MAPPING = {
  formatVersion: 2,
  resources: {
    Patient: {
      table: 'PatientRecords',
      id: { column: 'PatientID', type: 'integer' },
      joins: [{ as: JOIN, table: 'patient_details', on: { DetailPatientID: 'PatientID' } }],
      where: [{ column: 'IsDeleted', op: 'eq', value: false }],
      elements: {
        'identifier[0].system': { constant: 'urn:example:mrn' },
        'identifier[0].value': 'MRN',
        'name[0].family': 'FamilyName',
        'name[0].given[0]': 'given_name',
        gender: {
          column: 'sex',
          transform: [{ fn: 'valueMap', map: { M: 'male', F: 'female' } }],
        },
        birthDate: 'birth',
        active: 'active',
        deceasedDateTime: 'updated_at',
        'address[0].city': `${JOIN}.${LONG_COLUMN}`,
      },
      search: {
        _id: {},
        family: { column: 'FamilyName' },
        name: { columns: ['FamilyName', 'given_name'], match: 'word' },
        gender: { column: 'sex', map: { male: ['M'], female: ['F'] } },
        birthdate: { column: 'birth' },
        'address-city': { column: `${JOIN}.${LONG_COLUMN}` },
        // A string search over a bigint column: its text, as MariaDB compares it.
        'address-postalcode': { column: 'MRN' },
        // A token search over the same bigint column: compared as a number.
        identifier: { column: 'MRN' },
      },
    },
  },
};

beforeAll(async () => {
  db = await createTestPgDatabase('pgten');
  await db.exec(`
    CREATE TABLE "PatientRecords" (
      "PatientID" integer PRIMARY KEY, "MRN" bigint NOT NULL, "FamilyName" varchar(80),
      given_name varchar(80), sex char(1), birth date, active boolean,
      updated_at timestamptz, "IsDeleted" boolean NOT NULL DEFAULT false);
    CREATE TABLE patient_details (
      "DetailPatientID" integer PRIMARY KEY, ${LONG_COLUMN} varchar(80));`);
  for (let i = 1; i <= PATIENTS; i++) {
    await db.exec('INSERT INTO "PatientRecords" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      i,
      // Above 2^53: exact only as text.
      `90071992547409${String(90 + i)}`,
      i % 2 === 0 ? `Gonzalez${i}` : `Muñoz${i}`,
      i === 3 ? 'Ana María' : 'Pedro',
      i % 2 === 0 ? 'F' : 'M',
      `1980-02-${String(i).padStart(2, '0')}`,
      i !== 5,
      `2024-05-0${1 + (i % 9)} 23:30:00.25-03`,
      i === 12,
    ]);
    await db.exec('INSERT INTO patient_details VALUES ($1, $2)', [
      i,
      i <= 4 ? 'Valparaíso' : 'Temuco',
    ]);
  }
  // Every read of this view waits 30 s: the server's statement_timeout stops it.
  await db.exec(
    'CREATE VIEW slow_patients AS SELECT * FROM "PatientRecords" WHERE (SELECT true FROM pg_sleep(30))',
  );
  user = await createPgTenantUser(db);
  gw = await createTestGateway({ tenants: [], pools: { statementTimeLimitMs: 1000 } });
  await gw.registry.upsertTenant({
    clientId: 'pg-hospital',
    displayName: 'pg-hospital',
    dbType: 'postgres',
    sealedUrl: sealSecret(gw.keyring, 'pg-hospital', user.url),
    status: 'active',
  });
  await gw.registry.addMapping('pg-hospital', JSON.stringify(MAPPING), { activate: true });
  token = await gw.tokenFor('pg-hospital');
  await gw.registry.upsertTenant({
    clientId: 'pg-slow',
    displayName: 'pg-slow',
    dbType: 'postgres',
    sealedUrl: sealSecret(gw.keyring, 'pg-slow', user.url),
    status: 'active',
  });
  const slow = {
    table: 'slow_patients',
    id: { column: 'PatientID', type: 'integer' },
    elements: { 'name[0].family': 'FamilyName' },
  };
  await gw.registry.addMapping(
    'pg-slow',
    JSON.stringify({ formatVersion: 2, resources: { Patient: slow } }),
    { activate: true },
  );
});

afterAll(async () => {
  await gw?.close();
  await db?.drop();
  await user?.drop();
});

async function graphql(query: string): Promise<Record<string, unknown>> {
  const res = await gw.post(query, { token });
  expect(res.json.errors).toBeUndefined();
  expect(res.status).toBe(200);
  return res.json.data as Record<string, unknown>;
}

async function rest(path: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${gw.fhirUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

type Bundle = {
  total?: number;
  entry?: Array<{ resource: { id: string } }>;
  link: Array<{ relation: string; url: string }>;
};

describe('a PostgreSQL tenant through the gateway', () => {
  it('reads a Patient over GraphQL: quoted mixed-case names, dates, bigint, boolean, a long join key', async () => {
    const data = await graphql(`{ Patient(id: "3") {
      id identifier { system value } name { family given } gender birthDate active
      deceasedDateTime address { city } } }`);
    expect(data['Patient']).toEqual({
      id: '3',
      identifier: [{ system: 'urn:example:mrn', value: '9007199254740993' }],
      name: [{ family: 'Muñoz3', given: ['Ana María'] }],
      gender: 'male',
      birthDate: '1980-02-03',
      active: true,
      // 23:30 at -03:00 is 02:30 UTC the next day: timestamptz arrives as UTC.
      deceasedDateTime: '2024-05-05T02:30:00Z',
      address: [{ city: 'Valparaíso' }],
    });
    // The result key `<join>.<column>` (94 characters) went out under a shortened name.
    const main = gw.statements.find((s) => s.sql.includes('"PatientRecords"'));
    const alias = / AS "(demographic_details_by_visit_x\.city_of_[a-z_]+~[0-9a-f]{16})"/.exec(
      main?.sql ?? '',
    );
    expect(alias?.[1]).toHaveLength(63);
    expect(main?.sql).toContain('$1');
  });

  it('a filtered-out row (IsDeleted) and an unknown id are not found', async () => {
    expect(
      await graphql('{ deleted: Patient(id: "12") { id } unknown: Patient(id: "99") { id } }'),
    ).toEqual({ deleted: null, unknown: null });
    const missing = await rest('/Patient/12');
    expect(missing.status).toBe(404);
  });

  it('searches case-insensitively as on MariaDB, by word, by a joined 63-character column, and by date', async () => {
    const data = await graphql(`{
      lower: PatientList(family: "gonzalez", _count: 50) { id }
      prefix: PatientList(family: "UÑOZ", _count: 50) { id }
      contains: PatientList(family_contains: "UÑOZ", _count: 50) { id }
      word: PatientList(name: "maría") { id }
      city: PatientList(address_city: "valpa") { id }
      born: PatientList(birthdate: "ge1980-02-10", _count: 50) { id }
      female: PatientList(gender: "female", _count: 50) { id }
      number: PatientList(address_postalcode: "900719925474099", _count: 50) { id }
    }`);
    const ids = (key: string) => (data[key] as Array<{ id: string }>).map((p) => p.id);
    expect(ids('lower')).toEqual(['2', '4', '6', '8', '10']);
    expect(ids('prefix')).toEqual([]);
    expect(ids('contains')).toEqual(['1', '3', '5', '7', '9', '11']);
    expect(ids('word')).toEqual(['3']);
    expect(ids('city')).toEqual(['1', '2', '3', '4']);
    expect(ids('born')).toEqual(['10', '11']);
    expect(ids('female')).toEqual(['2', '4', '6', '8', '10']);
    expect(ids('number')).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('pages over GraphQL with a connection', async () => {
    const page = async (cursor: string | null) =>
      (
        await graphql(
          `{ PatientConnection(_count: 4, _sort: "-_id"${
            cursor === null ? '' : `, _cursor: "${cursor}"`
          }) { count offset next edges { resource { id } } } }`,
        )
      )['PatientConnection'] as {
        count: number;
        offset: number;
        next: string | null;
        edges: Array<{ resource: { id: string } }>;
      };
    const first = await page(null);
    expect(first.count).toBe(11);
    expect(first.edges.map((e) => e.resource.id)).toEqual(['11', '10', '9', '8']);
    const second = await page(first.next);
    expect(second.offset).toBe(4);
    expect(second.edges.map((e) => e.resource.id)).toEqual(['7', '6', '5', '4']);
    const third = await page(second.next);
    expect(third.edges.map((e) => e.resource.id)).toEqual(['3', '2', '1']);
    expect(third.next).toBeNull();
  });

  it('reads, searches and pages over FHIR REST', async () => {
    const read = await rest('/Patient/4');
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ resourceType: 'Patient', id: '4', gender: 'female' });

    const seen: string[] = [];
    let url: string | undefined = '/Patient?family:contains=ONZ&_count=2&_total=accurate';
    while (url !== undefined) {
      const res = await rest(url.startsWith('http') ? url.slice(gw.fhirUrl.length) : url);
      expect(res.status).toBe(200);
      const bundle = res.json as unknown as Bundle;
      expect(bundle.total).toBe(5);
      seen.push(...(bundle.entry ?? []).map((e) => e.resource.id));
      url = bundle.link.find((l) => l.relation === 'next')?.url;
    }
    expect(seen).toEqual(['2', '4', '6', '8', '10']);
  });

  it('a search value the column type cannot hold is 400 BAD_USER_INPUT, not a tenant fault', async () => {
    const mrn = `90071992547409${String(90 + 2)}`;
    const data = await graphql(`{ found: PatientList(identifier: "${mrn}") { id } }`);
    expect(data['found']).toEqual([{ id: '2' }]);
    // Text for a number (22P02) and a number past bigint (22003).
    for (const value of ['abc', '99999999999999999999999']) {
      const res = await gw.post(`{ PatientList(identifier: "${value}") { id } }`, { token });
      const error = res.json.errors?.[0];
      expect(error?.extensions?.['code']).toBe('BAD_USER_INPUT');
      expect(error?.message).toMatch(/does not fit the type/);
    }
    // Over REST: 400 with an OperationOutcome; the breaker stays closed, the tenant serves on.
    const refused = await rest('/Patient?identifier=abc');
    expect(refused.status).toBe(400);
    const outcome = refused.json as unknown as {
      resourceType: string;
      issue: Array<{ code: string }>;
    };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]?.code).toBe('invalid');
    expect(await graphql(`{ Patient(id: "2") { id } }`)).toEqual({ Patient: { id: '2' } });
    // Logged as the client's value at info level with the SQLSTATE, never as a tenant failure.
    const lines = gw.logLines.map(
      (line) => JSON.parse(line) as { msg?: string; driverCode?: string },
    );
    expect(
      lines.some(
        (l) => l.msg === 'tenant database rejected a search value' && l.driverCode === '22P02',
      ),
    ).toBe(true);
    expect(gw.logLines.join('\n')).not.toContain('invalid input syntax');
  });

  it('a statement past statement_timeout answers UPSTREAM_TIMEOUT; the log has the SQLSTATE, not the text', async () => {
    const res = await gw.post('{ Patient(id: "1") { id } }', {
      token: await gw.tokenFor('pg-slow'),
    });
    expect(res.json.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_TIMEOUT');
    expect(res.json.errors?.[0]?.message).toBe('The tenant database did not answer in time.');
    const logged = gw.logLines
      .map((line) => JSON.parse(line) as { msg?: string; tenant?: string; driverCode?: string })
      .find(
        (entry) =>
          entry.msg === 'tenant statement failed' && entry.tenant === tenantHash('pg-slow'),
      );
    expect(logged?.driverCode).toBe('57014');
    expect(gw.logLines.join('\n')).not.toContain('canceling statement');
  });
});
