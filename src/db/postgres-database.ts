import type { Socket } from 'node:net';
import pg from 'pg';
import {
  type BoundedPool,
  createBoundedPool,
  type PoolDriver,
  type ServerDatabaseOptions,
  type ServerTarget,
} from './bounded-pool.js';
import { postgresSslOptions } from './database-tls.js';
import { POSTGRES_DIALECT, type Row, type SqlStatement, type SqlValue } from './dialect.js';
import { DatabaseError, type RowPace, rowPacer, toDatabaseError } from './tenant-database.js';

/** Where to connect: a server target (see `ServerTarget`). */
export type PostgresTarget = ServerTarget;

export type PostgresDatabaseOptions = ServerDatabaseOptions;

/** A PostgreSQL pool with the same bounds as MySQL's; see {@link ServerDatabaseOptions}. */
export type PostgresDatabase = BoundedPool;

const DATE = 1082;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const INTERVAL = 1186;

/**
 * The type parsers of fhirgate's clients (given to each client, so pg's process-wide defaults stay
 * untouched). `date` and `timestamp` arrive as text, as mysql2's `dateStrings` gives them: pg
 * would build a JS Date in the process time zone. `timestamptz` arrives as UTC text without its
 * `+00` (each session's time zone is UTC), which the date transforms read with their default
 * offset `Z`. bigint and numeric stay text, as on MySQL.
 */
const TEXT_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === DATE || oid === TIMESTAMP || oid === INTERVAL) {
      return (text: string) => text;
    }
    if (oid === TIMESTAMPTZ) {
      return (text: string) => (text.endsWith('+00') ? text.slice(0, -3) : text);
    }
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** What pg reports when the server answers an SSL request with "no". */
const NO_SSL_MESSAGE = 'The server does not support SSL connections';

/**
 * SQLSTATEs (and their classes) that are the server's or the network's fault, not the
 * statement's: connection exceptions (08), insufficient resources (53, 53300 too many
 * connections), operator intervention (57P01 admin shutdown, 57P02 crash, 57P03 cannot connect
 * now), invalid authorization (28: password or client certificate), unknown database (3D000).
 */
function isInfrastructureState(state: string): boolean {
  return /^(08|53|28)/.test(state) || /^57P0[1-4]$/.test(state) || state === '3D000';
}

/**
 * SQLSTATEs of a bound value the column's type cannot hold: `abc` compared with an integer
 * column (22P02), a number past the column's range (22003), a date the server cannot read or
 * place (22007, 22008). MariaDB converts such a value and matches nothing; PostgreSQL refuses the
 * statement. The value is the client's (a search value), not the mapping's.
 */
const VALUE_REJECTED_STATES: ReadonlySet<string> = new Set(['22P02', '22003', '22007', '22008']);

/**
 * Turns a pg error into a {@link DatabaseError} that keeps only its code (the SQLSTATE, or Node's
 * network or TLS code): pg's messages quote values, names and hosts. A failure while connecting
 * is always the database's unavailability.
 */
export function toPostgresError(err: unknown, connecting = false): DatabaseError {
  if (err instanceof DatabaseError) {
    return err;
  }
  if (err instanceof pg.DatabaseError && typeof err.code === 'string') {
    const state = err.code;
    if (state === '57014') {
      return new DatabaseError('DB_TIMEOUT', 'statement exceeded the server time limit', {
        driverCode: state,
        infrastructure: true,
      });
    }
    if (!connecting && VALUE_REJECTED_STATES.has(state)) {
      return new DatabaseError('DB_VALUE_REJECTED', 'a bound value does not fit its column', {
        driverCode: state,
        infrastructure: false,
      });
    }
    if (connecting || isInfrastructureState(state)) {
      return new DatabaseError('DB_UNAVAILABLE', 'database unavailable', {
        driverCode: state,
        infrastructure: true,
      });
    }
    return new DatabaseError('DB_STATEMENT_FAILED', 'statement failed', {
      driverCode: state,
      infrastructure: false,
    });
  }
  if (err instanceof Error && err.message === NO_SSL_MESSAGE) {
    return toDatabaseError({ code: 'HANDSHAKE_NO_SSL_SUPPORT' });
  }
  const known = toDatabaseError(err);
  if (known.infrastructure) {
    return known;
  }
  // Without a SQLSTATE the failure is the connection's: pg reports a dropped connection, a
  // handshake timeout and a protocol error as plain Errors.
  return new DatabaseError('DB_UNAVAILABLE', 'database unavailable', {
    ...(known.driverCode === undefined ? {} : { driverCode: known.driverCode }),
    infrastructure: true,
  });
}

/** pg's connection object, which its types do not declare: its socket. */
function socketOf(client: pg.Client): Socket | undefined {
  return (client as unknown as { connection?: { stream?: Socket } }).connection?.stream;
}

/** The row names of a result's fields: result keys (a shortened name mapped back). */
function rowNames(
  fields: readonly { readonly name: string }[],
  resultKeys: SqlStatement['resultKeys'],
): string[] {
  return fields.map((f) => resultKeys?.get(f.name) ?? f.name);
}

function toRow(names: readonly string[], values: readonly unknown[]): Row {
  const row: Row = {};
  for (let i = 0; i < names.length; i++) {
    row[names[i] as string] = values[i] as Row[string];
  }
  return row;
}

/** Rows from pg's array rows. */
function toRows(result: pg.QueryArrayResult, resultKeys: SqlStatement['resultKeys']): Row[] {
  const names = rowNames(result.fields, resultKeys);
  return result.rows.map((values) => toRow(names, values));
}

/**
 * One statement whose rows are handed over through its pace (`rowPacer`): when the pace asks to
 * wait, the socket is paused, so no more of the result is read and parsed until every wait has
 * ended. pg parses what one read of the socket brought in one go (at most 64 KiB, a few hundred
 * rows), so a pause takes effect at the end of that chunk; without it the whole result set is
 * parsed in the socket's data callbacks of one turn (1,600 rows: 6-10 ms, 5,000: 20-30 ms, in
 * front of every other request).
 */
function pacedRows(
  client: pg.Client,
  statement: SqlStatement,
  timeoutMs: number,
  pace: RowPace,
): Promise<Row[]> {
  return new Promise((resolve, reject) => {
    const rows: Row[] = [];
    let names: string[] | undefined;
    const nextRow = rowPacer(pace, timeoutMs);
    let waiting = 0;
    let ended = false;
    const socket = socketOf(client);
    const waited = () => {
      waiting--;
      if (waiting === 0 && !ended) {
        socket?.resume();
      }
    };
    // The chunk that paused the socket may also hold the statement's end: the connection goes
    // back to the pool reading, whatever waits are still running.
    const end = () => {
      ended = true;
      if (waiting > 0) {
        socket?.resume();
      }
    };
    // `rowMode` is pg's, missing from the Query constructor's types.
    const query = new pg.Query({
      text: statement.sql,
      values: statement.params.map(bindable),
      rowMode: 'array',
    } as pg.QueryConfig<SqlValue[]>);
    query.on('row', (values: unknown[], result?: pg.ResultBuilder) => {
      if (names === undefined) {
        // pg hands every row its result, whose fields name the values.
        if (result === undefined) {
          reject(new Error('pacedRows: a row came without its result'));
          return;
        }
        names = rowNames(result.fields, statement.resultKeys);
      }
      rows.push(toRow(names, values));
      const wait = nextRow();
      if (wait !== undefined) {
        waiting++;
        socket?.pause();
        wait.then(waited, waited);
      }
    });
    query.once('error', (err: Error) => {
      end();
      reject(err);
    });
    query.once('end', () => {
      end();
      resolve(rows);
    });
    client.query(query);
  });
}

/**
 * Booleans are bound as 1/0: pg would send `true`, which an integer column (a legacy flag) does
 * not accept, while a boolean column accepts `1` and `0` too.
 */
function bindable(value: SqlValue): SqlValue {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

function assertMilliseconds(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error('statementTimeLimitMs must be a non-negative integer');
  }
  return value;
}

export function createPostgresDatabase(
  target: PostgresTarget,
  options: PostgresDatabaseOptions,
): PostgresDatabase {
  const config: pg.ClientConfig = {
    host: target.host,
    port: target.port,
    user: target.user,
    // A function, so an empty password stays empty: pg would take PGPASSWORD or ~/.pgpass instead.
    password: () => target.password,
    database: target.database,
    ssl: postgresSslOptions(target.tls),
    connectionTimeoutMillis: options.connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'fhirgate',
    types: TEXT_TYPES,
  };
  // One round trip per new connection, in the simple protocol (no values): the statement limit,
  // UTC for timestamptz text, and ISO date output whatever the server's DateStyle.
  const limit =
    options.statementTimeLimitMs === undefined
      ? ''
      : `SET statement_timeout = ${assertMilliseconds(Math.round(options.statementTimeLimitMs))}; `;
  const sessionSetup = `${limit}SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'`;

  function withTimeout<T>(
    work: Promise<T>,
    ms: number,
    onTimeout: () => DatabaseError,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(onTimeout()), ms);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  const driver: PoolDriver<pg.Client> = {
    dialect: POSTGRES_DIALECT,
    async connect(onLost) {
      const client = new pg.Client(config);
      let ready = false;
      // Without a listener an error on an idle connection would crash the process.
      client.on('error', () => {
        if (ready) {
          onLost();
        }
      });
      try {
        await client.connect();
        // The handshake's timer is gone by now: a server that stops answering must not hold
        // this connection forever.
        await withTimeout(
          client.query(sessionSetup),
          options.connectTimeoutMs,
          () =>
            new DatabaseError('DB_UNAVAILABLE', 'database unavailable', { infrastructure: true }),
        );
      } catch (err) {
        socketOf(client)?.destroy();
        throw toPostgresError(err, true);
      }
      ready = true;
      return client;
    },
    run(client, statement, pace) {
      const rows =
        pace === undefined
          ? client
              .query({
                text: statement.sql,
                values: statement.params.map(bindable),
                rowMode: 'array',
              })
              .then((result) => toRows(result, statement.resultKeys))
          : pacedRows(client, statement, options.queryTimeoutMs, pace);
      return withTimeout(
        rows,
        options.queryTimeoutMs,
        () => new DatabaseError('DB_TIMEOUT', 'statement timed out', { infrastructure: true }),
      );
    },
    async ping(client) {
      await client.query('SELECT 1');
      return true;
    },
    socket: socketOf,
    end(client) {
      client.end().catch(() => undefined);
    },
    destroy(client) {
      socketOf(client)?.destroy();
    },
    toDatabaseError: (err) => toPostgresError(err),
  };
  return createBoundedPool(driver, options);
}
