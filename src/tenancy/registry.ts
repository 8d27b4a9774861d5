import { readFileSync } from 'node:fs';
import type { Row, SqlStatement, SqlValue } from '../db/dialect.js';
import { createMysqlDatabase } from '../db/mysql-database.js';
import { createSqliteDatabase } from '../db/sqlite-database.js';
import type { TenantDatabase } from '../db/tenant-database.js';
import type { DatabaseTarget } from './database-url.js';

/** A tenant as the registry stores it. The database URL stays sealed here. */
export interface TenantRecord {
  readonly clientId: string;
  readonly displayName: string;
  readonly dbType: 'mysql' | 'sqlite';
  readonly sealedUrl: string;
  readonly status: 'active' | 'disabled';
}

/** The active mapping version of a tenant, its document still raw JSON text. */
export interface MappingRecord {
  readonly version: number;
  readonly document: string;
}

export interface TenantWithMapping {
  readonly tenant: TenantRecord;
  readonly mapping: MappingRecord | undefined;
}

/**
 * The control plane: tenants and their versioned mapping documents, in MySQL/MariaDB (production)
 * or SQLite (the embedded demo). Reads are what the request path needs; writes serve the CLI, the
 * demo and tests.
 */
export interface TenantRegistry {
  findTenant(clientId: string): Promise<TenantWithMapping | undefined>;
  listTenants(): Promise<TenantRecord[]>;
  /** Creates the tenant or replaces its name, type, sealed URL and status. */
  upsertTenant(tenant: TenantRecord): Promise<void>;
  setStatus(clientId: string, status: TenantRecord['status']): Promise<boolean>;
  /** Stores `document` as the next version; with `activate` it becomes the active one atomically. */
  addMapping(
    clientId: string,
    document: string,
    options: { activate: boolean; createdBy?: string },
  ): Promise<number>;
  /** Creates the registry tables when they are missing. */
  applySchema(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const SCHEMA_FILES = {
  mysql: new URL('../../schema/registry.sql', import.meta.url),
  sqlite: new URL('../../schema/registry.sqlite.sql', import.meta.url),
} as const;

/** The DDL statements of `schema/registry*.sql`, comments removed. */
export function registryDdl(kind: 'mysql' | 'sqlite'): string[] {
  return readFileSync(SCHEMA_FILES[kind], 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function stmt(sql: string, ...params: SqlValue[]): SqlStatement {
  return { sql, params };
}

function toTenant(row: Row): TenantRecord {
  const dbType = String(row['db_type']);
  const status = String(row['status']);
  return {
    clientId: String(row['client_id']),
    displayName: String(row['display_name'] ?? ''),
    dbType: dbType === 'sqlite' ? 'sqlite' : 'mysql',
    sealedUrl: String(row['db_url_sealed']),
    status: status === 'active' ? 'active' : 'disabled',
  };
}

const TENANT_COLUMNS = 't.client_id, t.display_name, t.db_type, t.db_url_sealed, t.status';

export function createTenantRegistry(target: DatabaseTarget): TenantRegistry {
  const kind = target.kind;
  const db: TenantDatabase =
    target.kind === 'sqlite'
      ? createSqliteDatabase(target.path, { readonly: false })
      : createMysqlDatabase(target, {
          connectionLimit: 4,
          queueLimit: 200,
          connectTimeoutMs: 3000,
          queryTimeoutMs: 5000,
          connectionIdleMs: 60_000,
          validateAfterIdleMs: 30_000,
        });

  return {
    async findTenant(clientId) {
      const rows = await db.query(
        stmt(
          `SELECT ${TENANT_COLUMNS}, m.version, m.document FROM fhirgate_tenants t ` +
            'LEFT JOIN fhirgate_mappings m ON m.tenant_id = t.id AND m.is_active = 1 ' +
            'WHERE t.client_id = ?',
          clientId,
        ),
      );
      const row = rows[0];
      // The registry compares exactly; this guards a server whose collation folds case.
      if (row === undefined || String(row['client_id']) !== clientId) {
        return undefined;
      }
      const version = row['version'];
      return {
        tenant: toTenant(row),
        mapping:
          version === null || version === undefined
            ? undefined
            : { version: Number(version), document: String(row['document']) },
      };
    },
    async listTenants() {
      const rows = await db.query(
        stmt(`SELECT ${TENANT_COLUMNS} FROM fhirgate_tenants t ORDER BY t.client_id`),
      );
      return rows.map(toTenant);
    },
    async upsertTenant(t) {
      const upsert =
        kind === 'mysql'
          ? 'INSERT INTO fhirgate_tenants (client_id, display_name, db_type, db_url_sealed, status) ' +
            'VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE display_name = VALUES(display_name), ' +
            'db_type = VALUES(db_type), db_url_sealed = VALUES(db_url_sealed), status = VALUES(status)'
          : 'INSERT INTO fhirgate_tenants (client_id, display_name, db_type, db_url_sealed, status) ' +
            'VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET ' +
            'display_name = excluded.display_name, db_type = excluded.db_type, ' +
            "db_url_sealed = excluded.db_url_sealed, status = excluded.status, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
      await db.query(stmt(upsert, t.clientId, t.displayName, t.dbType, t.sealedUrl, t.status));
    },
    async setStatus(clientId, status) {
      await db.query(
        stmt('UPDATE fhirgate_tenants SET status = ? WHERE client_id = ?', status, clientId),
      );
      return (await this.findTenant(clientId))?.tenant.status === status;
    },
    async addMapping(clientId, document, options) {
      JSON.parse(document);
      await db.query(
        stmt(
          'INSERT INTO fhirgate_mappings (tenant_id, version, document, created_by) ' +
            'SELECT t.id, COALESCE(MAX(m.version), 0) + 1, ?, ? FROM fhirgate_tenants t ' +
            'LEFT JOIN fhirgate_mappings m ON m.tenant_id = t.id WHERE t.client_id = ? GROUP BY t.id',
          document,
          options.createdBy ?? null,
          clientId,
        ),
      );
      const rows = await db.query(
        stmt(
          'SELECT MAX(m.version) AS version FROM fhirgate_mappings m ' +
            'JOIN fhirgate_tenants t ON t.id = m.tenant_id WHERE t.client_id = ?',
          clientId,
        ),
      );
      const version = rows[0]?.['version'];
      if (version === null || version === undefined) {
        throw new Error('addMapping: unknown tenant');
      }
      if (options.activate) {
        if (kind === 'mysql') {
          // One statement, the old active row first, so the unique (tenant, is_active) key holds
          // row by row and no reader ever sees zero or two active versions.
          await db.query(
            stmt(
              'UPDATE fhirgate_mappings SET is_active = IF(version = ?, 1, NULL) ' +
                'WHERE tenant_id = (SELECT id FROM fhirgate_tenants WHERE client_id = ?) ' +
                'ORDER BY is_active IS NULL',
              Number(version),
              clientId,
            ),
          );
        } else {
          // better-sqlite3 is synchronous: no reader runs between these two statements.
          await db.query(
            stmt(
              'UPDATE fhirgate_mappings SET is_active = NULL WHERE tenant_id = ' +
                '(SELECT id FROM fhirgate_tenants WHERE client_id = ?)',
              clientId,
            ),
          );
          await db.query(
            stmt(
              'UPDATE fhirgate_mappings SET is_active = 1 WHERE version = ? AND tenant_id = ' +
                '(SELECT id FROM fhirgate_tenants WHERE client_id = ?)',
              Number(version),
              clientId,
            ),
          );
        }
      }
      return Number(version);
    },
    async applySchema() {
      for (const ddl of registryDdl(kind)) {
        await db.query(stmt(ddl));
      }
    },
    async ping() {
      await db.query(stmt('SELECT 1 AS ok'));
    },
    close() {
      return db.close();
    },
  };
}
