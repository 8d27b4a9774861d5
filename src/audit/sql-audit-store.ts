import type { Row, SqlValue } from '../db/dialect.js';
import { createMysqlDatabase } from '../db/mysql-database.js';
import { createSqliteDatabase } from '../db/sqlite-database.js';
import type { TenantDatabase } from '../db/tenant-database.js';
import {
  CONTROL_PLANE_SCHEMES,
  type DatabaseTarget,
  DatabaseUrlError,
} from '../tenancy/database-url.js';
import { registryDdl } from '../tenancy/registry.js';
import { type ChainVerification, verifyAuditChain } from './audit-chain.js';
import type { AuditStore } from './audit-trail.js';

/** The audit table, created by `schema/registry.sql` (and `registry.sqlite.sql`). */
export const AUDIT_TABLE = 'fhirgate_audit_events';

const COLUMNS =
  '(recorded_at, request_id, client_id, kind, outcome, event, chain_id, chain_seq, prev_hash, row_hash)';

export interface SqlAuditStore extends AuditStore {
  /**
   * Creates the audit table when it is missing (the audit DDL of the registry schema only).
   * The gateway's database user needs CREATE for this; a deployment whose gateway may only
   * INSERT gets the table from `schema/registry.sql` (which `fhirgate tenant add` applies), and
   * this fails harmlessly.
   */
  ensureTable(): Promise<void>;
  /** Rows newest last, for tests and operators: never called on the request path. */
  readEvents(filter?: { requestId?: string; clientId?: string }): Promise<AuditRecord[]>;
  /** Recomputes every row's hash chain link (tamper evidence; see `audit-chain.ts`). */
  verifyChain(): Promise<ChainVerification>;
}

/** A stored audit row as read back. */
export interface AuditRecord {
  readonly id: number;
  readonly requestId: string;
  readonly clientId: string | null;
  readonly kind: string;
  readonly outcome: number;
  readonly event: Record<string, unknown>;
}

export interface SqlAuditStoreOptions {
  /** Client-side budget of one INSERT. @default 5000 */
  readonly writeTimeoutMs?: number;
  /** Handshake budget. @default 3000 */
  readonly connectTimeoutMs?: number;
  /**
   * INSERTs the trail writes at the same time (its `maxInFlight`): the MySQL pool gets one
   * connection for each, plus one for `ensureTable` and `readEvents`. @default 1
   */
  readonly maxConcurrentWrites?: number;
}

function clip(value: string | null, max: number): string | null {
  return value === null || value.length <= max ? value : value.slice(0, max);
}

/** `2026-01-02T03:04:05.678Z` as MySQL DATETIME(3) text, in UTC. */
function mysqlDateTime(iso: string): string {
  return iso.replace('T', ' ').replace('Z', '');
}

/**
 * The audit store in a SQL database: the registry database by default (MySQL/MariaDB or the
 * demo's SQLite), through a connection pool of its own so audit writes never queue behind
 * registry reads. Each batch is one multi-row `INSERT ... VALUES (...), (...)` with bound
 * values: atomic on InnoDB and in SQLite.
 */
export function createSqlAuditStore(
  target: DatabaseTarget,
  options: SqlAuditStoreOptions = {},
): SqlAuditStore {
  if (target.kind === 'postgres') {
    throw new DatabaseUrlError('scheme', CONTROL_PLANE_SCHEMES);
  }
  const kind = target.kind;
  const db: TenantDatabase =
    target.kind === 'sqlite'
      ? createSqliteDatabase(target.path, { readonly: false })
      : createMysqlDatabase(target, {
          // One connection per INSERT in flight (the trail's pipelining); the extra one serves
          // ensureTable and readEvents.
          connectionLimit: Math.max(1, options.maxConcurrentWrites ?? 1) + 1,
          queueLimit: 50,
          connectTimeoutMs: options.connectTimeoutMs ?? 3000,
          queryTimeoutMs: options.writeTimeoutMs ?? 5000,
          connectionIdleMs: 60_000,
          validateAfterIdleMs: 30_000,
        });

  return {
    async insert(rows) {
      if (rows.length === 0) {
        return;
      }
      const params: SqlValue[] = [];
      for (const r of rows) {
        params.push(
          kind === 'mysql' ? mysqlDateTime(r.recordedAt) : r.recordedAt,
          clip(r.requestId, 64),
          clip(r.clientId, 255),
          r.kind,
          r.outcome,
          r.event,
          r.chain.chainId,
          r.chain.seq,
          r.chain.prevHash,
          r.chain.rowHash,
        );
      }
      const values = new Array<string>(rows.length)
        .fill('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .join(', ');
      await db.query({ sql: `INSERT INTO ${AUDIT_TABLE} ${COLUMNS} VALUES ${values}`, params });
    },
    async ensureTable() {
      for (const ddl of registryDdl(kind).filter((s) => s.includes(AUDIT_TABLE))) {
        await db.query({ sql: ddl, params: [] });
      }
    },
    async readEvents(filter = {}) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.requestId !== undefined) {
        where.push('request_id = ?');
        params.push(filter.requestId);
      }
      if (filter.clientId !== undefined) {
        where.push('client_id = ?');
        params.push(filter.clientId);
      }
      const rows: Row[] = await db.query({
        sql:
          `SELECT id, request_id, client_id, kind, outcome, event FROM ${AUDIT_TABLE}` +
          `${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`} ORDER BY id`,
        params,
      });
      return rows.map((r) => ({
        id: Number(r['id']),
        requestId: String(r['request_id']),
        clientId: r['client_id'] === null ? null : String(r['client_id']),
        kind: String(r['kind']),
        outcome: Number(r['outcome']),
        event: JSON.parse(String(r['event'])) as Record<string, unknown>,
      }));
    },
    async verifyChain() {
      const rows: Row[] = await db.query({
        sql:
          'SELECT id, request_id, client_id, kind, outcome, event, chain_id, chain_seq, ' +
          `prev_hash, row_hash FROM ${AUDIT_TABLE}`,
        params: [],
      });
      return verifyAuditChain(
        rows.map((r) => ({
          id: Number(r['id']),
          requestId: String(r['request_id']),
          clientId: r['client_id'] === null ? null : String(r['client_id']),
          kind: String(r['kind']),
          outcome: Number(r['outcome']),
          event: String(r['event']),
          chainId: String(r['chain_id']),
          seq: Number(r['chain_seq']),
          prevHash: String(r['prev_hash']),
          rowHash: String(r['row_hash']),
        })),
      );
    },
    close() {
      return db.close();
    },
  };
}
