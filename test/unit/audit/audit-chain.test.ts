import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAuditChain, rowHash, verifyAuditChain } from '../../../src/audit/audit-chain.js';
import { createSqlAuditStore } from '../../../src/audit/sql-audit-store.js';
import { createSqliteDatabase } from '../../../src/db/sqlite-database.js';

const event =
  '{"resourceType":"AuditEvent","source":{"observer":{"display":"Hôpital 北京 \u{1f3e5}"}}}';
const row = { requestId: 'r-1', clientId: null, kind: 'read', outcome: 0, event };

describe('audit chain row hash', () => {
  it('is SHA-256 over the fields joined by U+001F', () => {
    const joined = ['0'.repeat(64), 'c'.repeat(32), '7', 'r-1', '\u0000', 'read', '0', event].join(
      '\u001f',
    );
    const expected = createHash('sha256').update(joined).digest('hex');
    expect(rowHash('0'.repeat(64), 'c'.repeat(32), 7, row)).toBe(expected);
  });

  it('verifies the rows it linked, and finds an edited event', () => {
    const chain = createAuditChain('c'.repeat(32));
    const first = chain.link(row);
    const second = chain.link({ ...row, requestId: 'r-2' });
    const stored = [first, second].map((link, i) => ({
      ...row,
      requestId: `r-${i + 1}`,
      id: i + 1,
      ...link,
    }));
    expect(verifyAuditChain(stored)).toEqual({ rows: 2, chains: 1, altered: [], gaps: [] });
    const edited = stored.map((r) =>
      r.id === 2 ? { ...r, event: event.replace('北京', 'X') } : r,
    );
    expect(verifyAuditChain(edited).altered).toEqual([2]);
  });
});

describe('SQLite audit store', () => {
  it('stores the hashed event text as TEXT, byte for byte, and verifies the chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fhirgate-audit-'));
    const path = join(dir, 'registry.db');
    const store = createSqlAuditStore({ kind: 'sqlite', path });
    const raw = createSqliteDatabase(path, { readonly: true });
    try {
      await store.ensureTable();
      const content = { ...row, kind: 'read' as const };
      await store.insert([
        {
          ...content,
          recordedAt: '2026-12-07T11:00:00.000Z',
          chain: createAuditChain().link(content),
        },
      ]);
      const stored = await raw.query({
        sql: 'SELECT typeof(event) AS type, hex(event) AS hex FROM fhirgate_audit_events',
        params: [],
      });
      expect(stored).toEqual([
        { type: 'text', hex: Buffer.from(event).toString('hex').toUpperCase() },
      ]);
      expect(await store.verifyChain()).toEqual({ rows: 1, chains: 1, altered: [], gaps: [] });
    } finally {
      await raw.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
