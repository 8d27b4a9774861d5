import Database from 'better-sqlite3';
import { type Row, SQLITE_DIALECT, type SqlValue } from './dialect.js';
import { installUnicodeLike } from './sqlite-like.js';
import { type TenantDatabase, toDatabaseError } from './tenant-database.js';

/**
 * A SQLite database (the embedded demo, small tenants). better-sqlite3 is synchronous, so one
 * handle serves every statement in turn; statements are prepared once per SQL text.
 */
export function createSqliteDatabase(
  path: string,
  options: {
    readonly: boolean;
    /** Create the file when it is missing (never when read-only). @default !readonly */
    create?: boolean;
  } = { readonly: true },
): TenantDatabase {
  let db: Database.Database;
  try {
    const create = !options.readonly && options.create !== false;
    db = new Database(path, { readonly: options.readonly, fileMustExist: !create });
    installUnicodeLike(db);
  } catch (err) {
    throw toDatabaseError(err);
  }
  const statements = new Map<string, Database.Statement>();
  let lastActive = Date.now();
  let closed = false;

  function prepared(sql: string): Database.Statement {
    let stmt = statements.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  }

  return {
    dialect: SQLITE_DIALECT,
    query(statement) {
      lastActive = Date.now();
      try {
        const stmt = prepared(statement.sql);
        // SQLite has no boolean type: bind 1/0 as the column stores them.
        const params = statement.params.map((v: SqlValue) =>
          typeof v === 'boolean' ? (v ? 1 : 0) : v,
        );
        if (!stmt.reader) {
          stmt.run(...params);
          return Promise.resolve([]);
        }
        return Promise.resolve(stmt.all(...params) as Row[]);
      } catch (err) {
        return Promise.reject(toDatabaseError(err));
      }
    },
    stats() {
      return { open: closed ? 0 : 1, inUse: 0, idle: closed ? 0 : 1, queued: 0, inFlight: 0 };
    },
    lastActiveAt() {
      return lastActive;
    },
    close() {
      if (!closed) {
        closed = true;
        db.close();
      }
      return Promise.resolve();
    },
  };
}
