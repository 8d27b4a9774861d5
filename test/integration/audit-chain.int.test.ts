import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditChain } from '../../src/audit/audit-chain.js';
import { createSqlAuditStore } from '../../src/audit/sql-audit-store.js';
import { parseDatabaseUrl } from '../../src/tenancy/database-url.js';
import { hospitalA } from '../fixtures/tenants.js';
import { createTestGateway, type TestGateway } from '../helpers/create-test-gateway.js';
import { passwordCanary } from '../helpers/log-capture.js';
import { connectionOptions } from '../helpers/test-database.js';

/**
 * SECURITY-TESTS 76, tamper resistance of the audit table on real MariaDB: the hash chain links
 * every row the gateway wrote; an edited row and a deleted row are both found; and a gateway
 * database user granted only INSERT (and SELECT) on the table cannot UPDATE or DELETE it, while
 * it can still write events.
 */
let gw: TestGateway;

beforeAll(async () => {
  gw = await createTestGateway({ tenants: [hospitalA()] });
});

afterAll(async () => {
  await gw?.close();
});

async function settled(count: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const rows = await gw.registryDb.exec<Record<string, unknown>[]>(
      'SELECT COUNT(*) AS n FROM fhirgate_audit_events',
    );
    if (Number(rows[0]?.['n']) >= count) {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('audit rows did not arrive');
}

describe('audit hash chain', () => {
  it('links every row, and finds an edited row and a deleted one', async () => {
    const token = await gw.tokenFor('hospital-a');
    for (const id of ['1', '2', '3', '4']) {
      const res = await gw.post(`{ Patient(id: "${id}") { id } }`, { token });
      expect(res.json.errors).toBeUndefined();
    }
    await gw.post('{ Patient(id: "1") { id } }', {}); // a denial (401), chained too
    await settled(5);

    const clean = await gw.auditStore.verifyChain();
    expect(clean.rows).toBeGreaterThanOrEqual(5);
    expect(clean.chains).toBe(1);
    expect(clean.altered).toEqual([]);
    expect(clean.gaps).toEqual([]);

    const rows = await gw.registryDb.exec<Record<string, unknown>[]>(
      'SELECT id, chain_seq FROM fhirgate_audit_events ORDER BY chain_seq',
    );
    const [, second, third] = rows;
    // Someone rewrites which patient was read.
    await gw.registryDb.exec(
      `UPDATE fhirgate_audit_events SET event = REPLACE(event, 'Patient/2', 'Patient/9') WHERE id = ${Number(second?.['id'])}`,
    );
    const edited = await gw.auditStore.verifyChain();
    expect(edited.altered).toEqual([Number(second?.['id'])]);

    // Someone deletes a row.
    await gw.registryDb.exec(
      `DELETE FROM fhirgate_audit_events WHERE id = ${Number(third?.['id'])}`,
    );
    const deleted = await gw.auditStore.verifyChain();
    expect(deleted.gaps).toEqual([
      expect.objectContaining({ afterSeq: Number(second?.['chain_seq']), missing: 1 }),
    ]);
  });

  it('stores byte for byte the event text it hashed, non-ASCII text included', async () => {
    const recorded = new Date().toISOString();
    const requestId = `bytes-${randomBytes(6).toString('hex')}`;
    const event = JSON.stringify({
      resourceType: 'AuditEvent',
      recorded,
      source: { observer: { display: 'Hôpital Saint-Éloi, 北京 \u{1f3e5}' } },
    });
    const content = {
      requestId,
      clientId: 'hospital-ä',
      kind: 'admin' as const,
      outcome: 0,
      event,
    };
    await gw.auditStore.insert([
      { ...content, recordedAt: recorded, chain: createAuditChain().link(content) },
    ]);
    const rows = await gw.registryDb.exec<Record<string, unknown>[]>(
      `SELECT id, HEX(event) AS hex FROM fhirgate_audit_events WHERE request_id = '${requestId}'`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.['hex']).toBe(Buffer.from(event).toString('hex').toUpperCase());
    const verified = await gw.auditStore.verifyChain();
    expect(verified.altered).not.toContain(Number(rows[0]?.['id']));
    expect(verified.chains).toBeGreaterThanOrEqual(2);
  });

  it('an INSERT-only gateway user writes events but cannot UPDATE or DELETE them', async () => {
    const db = gw.registryDb;
    const user = `fga_${randomBytes(6).toString('hex')}`;
    const password = passwordCanary();
    const admin = await mysql.createConnection(connectionOptions(db));
    try {
      try {
        await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
      } catch {
        // A restricted MYSQL_URL account may not create users: nothing to prove here then.
        return;
      }
      await admin.query(`GRANT INSERT, SELECT ON \`${db.name}\`.fhirgate_audit_events TO ?@?`, [
        user,
        '%',
      ]);
      const url = `mysql://${user}:${encodeURIComponent(password)}@${db.host}:${db.port}/${db.name}`;
      const store = createSqlAuditStore(parseDatabaseUrl(url));
      try {
        const recorded = new Date().toISOString();
        await store.insert([
          {
            recordedAt: recorded,
            requestId: 'insert-only-check',
            clientId: 'hospital-a',
            kind: 'admin',
            outcome: 0,
            event: JSON.stringify({ resourceType: 'AuditEvent', recorded }),
            chain: {
              chainId: 'f'.repeat(32),
              seq: 1,
              prevHash: '0'.repeat(64),
              rowHash: 'a'.repeat(64),
            },
          },
        ]);
      } finally {
        await store.close();
      }
      const conn = await mysql.createConnection({
        ...connectionOptions(db),
        user,
        password,
        database: db.name,
      });
      try {
        await expect(
          conn.query(
            "UPDATE fhirgate_audit_events SET kind = 'read' WHERE request_id = 'insert-only-check'",
          ),
        ).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
        await expect(
          conn.query("DELETE FROM fhirgate_audit_events WHERE request_id = 'insert-only-check'"),
        ).rejects.toMatchObject({ code: 'ER_TABLEACCESS_DENIED_ERROR' });
      } finally {
        await conn.end();
      }
    } finally {
      await admin.query('DROP USER IF EXISTS ?@?', [user, '%']).catch(() => undefined);
      await admin.end();
    }
  });
});
