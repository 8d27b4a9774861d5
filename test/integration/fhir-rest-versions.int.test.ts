import type { Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestGateway,
  type TenantFixture,
  type TestGateway,
} from '../helpers/create-test-gateway.js';
import { loadR4Definitions, validateR4 } from '../unit/conformance/r4-validator.js';

/**
 * A tenant whose rows carry a version and an updated-at column, mapped to `meta.versionId` and
 * `meta.lastUpdated`: a REST read answers with `ETag: W/"<version>"` and `Last-Modified`, and
 * the same `meta` appears in reads, searches and under `_elements`; `If-None-Match` with that
 * version is 304. A DATETIME without a zone is read as UTC. A row without them has none.
 */
const versioned: TenantFixture = {
  clientId: 'versioned',
  ddl: [
    `CREATE TABLE personas (
      id INT PRIMARY KEY, apellido VARCHAR(80), version INT NULL, modificado DATETIME NULL)`,
  ],
  async seed(db) {
    await db.exec('INSERT INTO personas (id, apellido, version, modificado) VALUES ?', [
      [
        [1, 'ROJAS', 3, '2024-05-06 07:08:09'],
        [2, 'TAPIA', null, null],
      ],
    ]);
  },
  mapping: {
    formatVersion: 1,
    resources: {
      Patient: {
        table: 'personas',
        id: { column: 'id', type: 'integer' },
        elements: {
          'name[0].family': 'apellido',
          'meta.versionId': 'version',
          'meta.lastUpdated': 'modificado',
        },
      },
    },
  },
};

let gw: TestGateway;
let token: string;

beforeAll(async () => {
  gw = await createTestGateway({ tenants: [versioned], resourceTypes: ['Patient'] });
  token = await gw.tokenFor('versioned');
});

afterAll(async () => {
  await gw?.close();
});

type Json = Record<string, unknown>;

async function get(path: string) {
  const res = await fetch(`${gw.fhirUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Json };
}

describe('versions and update times', () => {
  it('answers a read with ETag and Last-Modified matching meta', async () => {
    const res = await get('/Patient/1');
    expect(res.status).toBe(200);
    const meta = res.json['meta'] as { versionId: string; lastUpdated: string };
    expect(meta.versionId).toBe('3');
    expect(meta.lastUpdated).toBe('2024-05-06T07:08:09Z');
    expect(res.headers.get('etag')).toBe('W/"3"');
    expect(res.headers.get('last-modified')).toBe(new Date(meta.lastUpdated).toUTCString());
  });

  it('gives a search the same meta as the read', async () => {
    const read = await get('/Patient/1');
    const bundle = await get('/Patient?_id=1');
    const entries = bundle.json['entry'] as Array<{ resource: Json }>;
    expect(entries[0]?.resource['meta']).toEqual(read.json['meta']);
  });

  it('keeps meta and the validators under _elements', async () => {
    const res = await get('/Patient/1?_elements=name');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('W/"3"');
    expect(res.json['meta']).toMatchObject({
      versionId: '3',
      tag: [expect.objectContaining({ code: 'SUBSETTED' })],
    });
  });

  it('sends no validators for a row without a version or update time', async () => {
    const res = await get('/Patient/2');
    expect(res.status).toBe(200);
    expect(res.json['meta']).toBeUndefined();
    expect(res.headers.get('etag')).toBeNull();
    expect(res.headers.get('last-modified')).toBeNull();
  });

  it('answers 304 with the validators and no body when If-None-Match names the version', async () => {
    for (const tag of ['W/"3"', '"3"', 'W/"1", W/"3"', '*']) {
      const res = await fetch(`${gw.fhirUrl}/Patient/1`, {
        headers: { authorization: `Bearer ${token}`, 'if-none-match': tag },
      });
      expect(res.status, tag).toBe(304);
      expect(res.headers.get('etag')).toBe('W/"3"');
      expect(res.headers.get('last-modified')).toMatch(/GMT$/);
      expect(await res.text()).toBe('');
    }
    const changed = await fetch(`${gw.fhirUrl}/Patient/1`, {
      headers: { authorization: `Bearer ${token}`, 'if-none-match': 'W/"2"' },
    });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as Json)['id']).toBe('1');
  });

  it('advertises versioning and conditional read in the CapabilityStatement, valid R4', async () => {
    const { status, json } = await get('/metadata');
    expect(status).toBe(200);
    const [patient] = (json['rest'] as Json[])[0]!['resource'] as Json[];
    expect(patient).toMatchObject({
      type: 'Patient',
      versioning: 'versioned',
      conditionalRead: 'not-match',
    });
    loadR4Definitions();
    expect(validateR4(json as unknown as Resource)).toEqual([]);
  });
});
