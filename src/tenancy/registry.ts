import { readFileSync } from 'node:fs';
import mysql from 'mysql2/promise';
import type { Row, SqlStatement, SqlValue } from '../db/dialect.js';
import { createMysqlDatabase, mysqlConnectionOptions } from '../db/mysql-database.js';
import { createSqliteDatabase } from '../db/sqlite-database.js';
import { type TenantDatabase, toDatabaseError } from '../db/tenant-database.js';
import { type Keyring, openSecret, SealedSecretError, sealedKeyId, sealSecret } from './crypto.js';
import { CONTROL_PLANE_SCHEMES, type DatabaseTarget, DatabaseUrlError } from './database-url.js';

/** A tenant as the registry stores it. The database URL stays sealed here. */
export interface TenantRecord {
  readonly clientId: string;
  readonly displayName: string;
  readonly dbType: DatabaseTarget['kind'];
  readonly sealedUrl: string;
  readonly status: 'active' | 'disabled';
}

/** The active mapping version of a tenant, its document still raw JSON text. */
export interface MappingRecord {
  readonly version: number;
  readonly document: string;
}

/** One stored mapping version, without its document: who stored it and when. */
export interface MappingVersionInfo {
  readonly version: number;
  readonly active: boolean;
  /** ISO 8601 (UTC on SQLite; the server's time zone on MySQL/MariaDB). */
  readonly createdAt: string;
  readonly createdBy: string | null;
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
  /**
   * Creates the tenant; false when its client id is taken (nothing is changed then). Prefer it
   * to {@link TenantRegistry.upsertTenant} wherever an existing tenant must not be overwritten.
   */
  createTenant(tenant: TenantRecord): Promise<boolean>;
  /**
   * Replaces a tenant's sealed URL only if it still is `expected` (compare and set, for key
   * rotation running beside other writers); true when the row now holds `next`.
   */
  replaceSealedUrl(clientId: string, expected: string, next: string): Promise<boolean>;
  /**
   * Stores `document` as the next version; with `activate` it becomes the active one atomically.
   * Safe under concurrency: on MySQL/MariaDB one transaction locks the tenant row first, so
   * concurrent calls for one tenant get consecutive versions and exactly one stays active.
   *
   * @throws UnknownTenantError when no tenant has this client id.
   */
  addMapping(
    clientId: string,
    document: string,
    options: { activate: boolean; createdBy?: string },
  ): Promise<number>;
  /** Every mapping version of a tenant, oldest first; empty for an unknown tenant. */
  listMappings(clientId: string): Promise<MappingVersionInfo[]>;
  /** One version's document (raw JSON text), or undefined. */
  findMapping(clientId: string, version: number): Promise<string | undefined>;
  /** Changes the display name; false for an unknown tenant. */
  setDisplayName(clientId: string, displayName: string): Promise<boolean>;
  /**
   * Deletes the tenant and its mapping versions (offboarding); false when it did not exist.
   * Audit rows are keyed by client id, not by the tenant row, so they stay.
   */
  removeTenant(clientId: string): Promise<boolean>;
  /** Creates the registry tables when they are missing. */
  applySchema(): Promise<void>;
  /** Whether the registry tables exist (false for a new, empty database). */
  hasSchema(): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The registry has no tenant with this client id. Fixed message: it never echoes the id. */
export class UnknownTenantError extends Error {
  override readonly name = 'UnknownTenantError';
  readonly code = 'UNKNOWN_TENANT';
  readonly safeMessage = true;
  constructor() {
    super('unknown tenant');
  }
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
    dbType: dbType === 'sqlite' || dbType === 'postgres' ? dbType : 'mysql',
    sealedUrl: String(row['db_url_sealed']),
    status: status === 'active' ? 'active' : 'disabled',
  };
}

/** `created_at` as ISO 8601: MySQL returns `YYYY-MM-DD hh:mm:ss.fff` text (dateStrings). */
function isoTime(value: unknown): string {
  if (value instanceof Date) {
    return value.toISOString();
  }
  const text = String(value ?? '');
  return /^\d{4}-\d{2}-\d{2} /.test(text) ? text.replace(' ', 'T') : text;
}

const TENANT_COLUMNS = 't.client_id, t.display_name, t.db_type, t.db_url_sealed, t.status';

/**
 * @param options.create - for a `sqlite:` registry, create the file when it is missing (the demo,
 *   `fhirgate tenant add`). Otherwise a missing file is `DB_UNAVAILABLE` (`SQLITE_CANTOPEN`) and
 *   nothing is written: a mistyped path must not leave an empty registry behind.
 */
export function createTenantRegistry(
  target: DatabaseTarget,
  options: { readonly create?: boolean } = {},
): TenantRegistry {
  if (target.kind === 'postgres') {
    throw new DatabaseUrlError('scheme', CONTROL_PLANE_SCHEMES);
  }
  const kind = target.kind;
  const db: TenantDatabase =
    target.kind === 'sqlite'
      ? createSqliteDatabase(target.path, { readonly: false, create: options.create === true })
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
      if (kind === 'mysql') {
        return addMappingMysql(target as Extract<DatabaseTarget, { kind: 'mysql' }>, {
          clientId,
          document,
          activate: options.activate,
          createdBy: options.createdBy ?? null,
        });
      }
      // better-sqlite3 runs each statement when it is called: the statements below are issued
      // in one tick with no await between them, so no other statement of this process runs in
      // between. A failed INSERT leaves MAX(version) at the old active version, which the
      // activation re-activates: nothing changes.
      const tenantId = '(SELECT id FROM fhirgate_tenants WHERE client_id = ?)';
      const pending: Promise<Row[]>[] = [
        db.query(
          stmt(
            'INSERT INTO fhirgate_mappings (tenant_id, version, document, created_by) ' +
              'SELECT t.id, COALESCE(MAX(m.version), 0) + 1, ?, ? FROM fhirgate_tenants t ' +
              'LEFT JOIN fhirgate_mappings m ON m.tenant_id = t.id WHERE t.client_id = ? GROUP BY t.id',
            document,
            options.createdBy ?? null,
            clientId,
          ),
        ),
      ];
      if (options.activate) {
        pending.push(
          db.query(
            stmt(
              `UPDATE fhirgate_mappings SET is_active = NULL WHERE tenant_id = ${tenantId}`,
              clientId,
            ),
          ),
          db.query(
            stmt(
              `UPDATE fhirgate_mappings SET is_active = 1 WHERE tenant_id = ${tenantId} AND version = ` +
                `(SELECT MAX(version) FROM fhirgate_mappings WHERE tenant_id = ${tenantId})`,
              clientId,
              clientId,
            ),
          ),
        );
      }
      const versionRows = db.query(
        stmt(
          `SELECT MAX(version) AS version FROM fhirgate_mappings WHERE tenant_id = ${tenantId}`,
          clientId,
        ),
      );
      await Promise.all(pending);
      const version = (await versionRows)[0]?.['version'];
      if (version === null || version === undefined) {
        throw new UnknownTenantError();
      }
      return Number(version);
    },
    async createTenant(t) {
      const insert =
        kind === 'mysql'
          ? 'INSERT IGNORE INTO fhirgate_tenants (client_id, display_name, db_type, db_url_sealed, status) VALUES (?, ?, ?, ?, ?)'
          : 'INSERT INTO fhirgate_tenants (client_id, display_name, db_type, db_url_sealed, status) ' +
            'VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id) DO NOTHING';
      await db.query(stmt(insert, t.clientId, t.displayName, t.dbType, t.sealedUrl, t.status));
      // Sealed values carry a random nonce: finding ours proves this call created the row.
      return (await this.findTenant(t.clientId))?.tenant.sealedUrl === t.sealedUrl;
    },
    async replaceSealedUrl(clientId, expected, next) {
      await db.query(
        stmt(
          'UPDATE fhirgate_tenants SET db_url_sealed = ? WHERE client_id = ? AND db_url_sealed = ?',
          next,
          clientId,
          expected,
        ),
      );
      return (await this.findTenant(clientId))?.tenant.sealedUrl === next;
    },
    async listMappings(clientId) {
      const rows = await db.query(
        stmt(
          'SELECT m.version, m.is_active, m.created_at, m.created_by FROM fhirgate_mappings m ' +
            'JOIN fhirgate_tenants t ON t.id = m.tenant_id WHERE t.client_id = ? ORDER BY m.version',
          clientId,
        ),
      );
      return rows.map((row) => ({
        version: Number(row['version']),
        active: Number(row['is_active']) === 1,
        createdAt: isoTime(row['created_at']),
        createdBy: row['created_by'] === null ? null : String(row['created_by']),
      }));
    },
    async findMapping(clientId, version) {
      const rows = await db.query(
        stmt(
          'SELECT m.document FROM fhirgate_mappings m JOIN fhirgate_tenants t ON t.id = m.tenant_id ' +
            'WHERE t.client_id = ? AND m.version = ?',
          clientId,
          version,
        ),
      );
      const document = rows[0]?.['document'];
      return document === undefined || document === null ? undefined : String(document);
    },
    async setDisplayName(clientId, displayName) {
      await db.query(
        stmt(
          'UPDATE fhirgate_tenants SET display_name = ? WHERE client_id = ?',
          displayName,
          clientId,
        ),
      );
      return (await this.findTenant(clientId))?.tenant.displayName === displayName;
    },
    async removeTenant(clientId) {
      if ((await this.findTenant(clientId)) === undefined) {
        return false;
      }
      // SQLite enforces ON DELETE CASCADE only with PRAGMA foreign_keys: delete versions first.
      await db.query(
        stmt(
          'DELETE FROM fhirgate_mappings WHERE tenant_id IN ' +
            '(SELECT id FROM fhirgate_tenants WHERE client_id = ?)',
          clientId,
        ),
      );
      await db.query(stmt('DELETE FROM fhirgate_tenants WHERE client_id = ?', clientId));
      return (await this.findTenant(clientId)) === undefined;
    },
    async applySchema() {
      for (const ddl of registryDdl(kind)) {
        await db.query(stmt(ddl));
      }
    },
    async hasSchema() {
      const rows = await db.query(
        kind === 'sqlite'
          ? stmt(
              "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
              'fhirgate_tenants',
            )
          : stmt(
              'SELECT COUNT(*) AS n FROM information_schema.tables ' +
                'WHERE table_schema = DATABASE() AND table_name = ?',
              'fhirgate_tenants',
            ),
      );
      return Number(rows[0]?.['n'] ?? 0) > 0;
    },
    async ping() {
      await db.query(stmt('SELECT 1 AS ok'));
    },
    close() {
      return db.close();
    },
  };
}

/**
 * `addMapping` on MySQL/MariaDB: one transaction on a connection of its own. `SELECT ... FOR
 * UPDATE` on the tenant row serializes writers of one tenant before the next version number is
 * read, and the row goes in with a plain `INSERT ... VALUES`. The former single
 * `INSERT ... SELECT MAX(version) + 1` raced: concurrent callers computed the same version (a
 * duplicate key) or failed with `ER_AUTOINC_READ_FAILED`.
 */
async function addMappingMysql(
  target: Extract<DatabaseTarget, { kind: 'mysql' }>,
  input: { clientId: string; document: string; activate: boolean; createdBy: string | null },
): Promise<number> {
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection(mysqlConnectionOptions(target, 3000));
  } catch (err) {
    throw toDatabaseError(err);
  }
  // An error on the socket after a failure must not crash the process.
  conn.on('error', () => undefined);
  try {
    await conn.beginTransaction();
    const [tenants] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT id FROM fhirgate_tenants WHERE client_id = ? FOR UPDATE',
      [input.clientId],
    );
    const tenantId = tenants[0]?.['id'] as number | string | undefined;
    if (tenantId === undefined) {
      await conn.rollback();
      throw new UnknownTenantError();
    }
    const [maxRows] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT COALESCE(MAX(version), 0) + 1 AS next FROM fhirgate_mappings WHERE tenant_id = ?',
      [tenantId],
    );
    const version = Number(maxRows[0]?.['next'] ?? 1);
    await conn.query(
      'INSERT INTO fhirgate_mappings (tenant_id, version, document, created_by) VALUES (?, ?, ?, ?)',
      [tenantId, version, input.document, input.createdBy],
    );
    if (input.activate) {
      // The old active row first, so the unique (tenant, is_active) key holds row by row.
      await conn.query(
        'UPDATE fhirgate_mappings SET is_active = IF(version = ?, 1, NULL) WHERE tenant_id = ? ' +
          'ORDER BY is_active IS NULL',
        [version, tenantId],
      );
    }
    await conn.commit();
    return version;
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    throw err instanceof UnknownTenantError ? err : toDatabaseError(err);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/** What {@link rotateSealedUrls} did, in counts only: never a URL. */
export interface RotationReport {
  /** Rows examined. */
  readonly total: number;
  /** Rows re-sealed under the primary key by this run. */
  readonly rotated: number;
  /** Rows already under the primary key. */
  readonly alreadyCurrent: number;
  /** Rows whose sealed URL could not be opened with any key of the keyring (left as they are). */
  readonly failed: number;
  /** Rows changed by someone else between read and write (left as they are; run again). */
  readonly conflicts: number;
  /** Rows per key id before the run. */
  readonly byKeyIdBefore: Readonly<Record<string, number>>;
}

/**
 * Re-seals every tenant's database URL under the keyring's primary key. Old keys in the keyring
 * keep opening rows not yet rotated, so the gateway serves throughout; a row is written with a
 * compare-and-set, so a concurrent `tenant add` or rotation is never overwritten. Plaintext URLs
 * live only in this function's locals.
 */
export async function rotateSealedUrls(
  registry: Pick<TenantRegistry, 'listTenants' | 'replaceSealedUrl'>,
  keyring: Keyring,
): Promise<RotationReport> {
  const tenants = await registry.listTenants();
  const byKeyIdBefore: Record<string, number> = {};
  let rotated = 0;
  let alreadyCurrent = 0;
  let failed = 0;
  let conflicts = 0;
  for (const tenant of tenants) {
    const kid = sealedKeyId(tenant.sealedUrl) ?? '(malformed)';
    byKeyIdBefore[kid] = (byKeyIdBefore[kid] ?? 0) + 1;
    if (kid === keyring.primary.kid) {
      alreadyCurrent++;
      continue;
    }
    let plaintext: string;
    try {
      plaintext = openSecret(keyring, tenant.clientId, tenant.sealedUrl);
    } catch (err) {
      if (err instanceof SealedSecretError) {
        failed++;
        continue;
      }
      throw err;
    }
    const next = sealSecret(keyring, tenant.clientId, plaintext);
    if (await registry.replaceSealedUrl(tenant.clientId, tenant.sealedUrl, next)) {
      rotated++;
    } else {
      conflicts++;
    }
  }
  return { total: tenants.length, rotated, alreadyCurrent, failed, conflicts, byKeyIdBefore };
}
