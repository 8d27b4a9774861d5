/**
 * Client-side CPU of one statement through mysql2, by protocol and row shape: `execute` (binary
 * protocol, prepared, what the gateway and the baseline use) against `query` (text protocol,
 * client-side escaping), with `rowsAsArray`, and with `typeCast: false`. Runs the S1 and S2
 * statements the engine compiles for the bench mapping, sequentially on one connection, and
 * reports the process CPU per statement (client side only; the server's parse cost for `query`
 * is not in it). `npx tsx bench/mysql-protocol-probe.ts` (about 20 s).
 */
import mysql from 'mysql2/promise';
import { MYSQL_DIALECT, type QueryExecutor, type SqlStatement } from '../src/db/dialect.js';
import { loadDefinitions } from '../src/fhir/definitions.js';
import { compileMapping } from '../src/mapping/compile-mapping.js';
import { resolveMysqlServer } from '../test/helpers/global-setup.js';
import { connectionOptions, createTestDatabase } from '../test/helpers/test-database.js';
import { BENCH_MAPPING, QUICK_SEED, seedTenant, TENANT_DDL } from './fixtures.js';

async function statements(): Promise<{ s1: SqlStatement; s2: SqlStatement }> {
  const compiled = compileMapping(BENCH_MAPPING, {
    defs: loadDefinitions(),
    dialect: MYSQL_DIALECT,
  });
  if (!compiled.ok) {
    throw new Error('bench mapping does not compile');
  }
  const patient = compiled.mapping.resource('Patient');
  const seen: SqlStatement[] = [];
  const recorder: QueryExecutor = {
    dialect: MYSQL_DIALECT,
    query: async (statement) => {
      seen.push(statement);
      return [];
    },
  };
  await patient?.loadByIds(recorder, ['1']);
  await patient?.search(recorder, [], { count: 50, offset: 0 });
  const [s1, s2] = seen;
  if (s1 === undefined || s2 === undefined) {
    throw new Error('no statements captured');
  }
  return { s1, s2 };
}

const resolved = await resolveMysqlServer(process.env);
const db = await createTestDatabase('fgproto', resolved.server);
try {
  for (const ddl of TENANT_DDL) {
    await db.exec(ddl);
  }
  const seed = await db.connection();
  await seedTenant(seed, QUICK_SEED);
  await seed.end();
  const { s1, s2 } = await statements();
  const base = {
    ...connectionOptions(resolved.server),
    database: db.name,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'UTF8MB4_UNICODE_CI',
  } as const;
  const variants: Array<[string, Record<string, unknown>, 'execute' | 'query']> = [
    ['execute', {}, 'execute'],
    ['execute, rowsAsArray', { rowsAsArray: true }, 'execute'],
    ['query', {}, 'query'],
    ['query, rowsAsArray', { rowsAsArray: true }, 'query'],
    ['query, typeCast: false', { typeCast: false }, 'query'],
  ];
  const conn = await mysql.createConnection(base);
  // Interleaved rounds, least CPU per statement over the rounds: the machine is shared, and the
  // least is the cost with the fewest interruptions. Round 0 only warms up.
  const best = new Map<string, { cpu: number; wall: number }>();
  for (let round = 0; round < 6; round++) {
    for (const [label, statement, n] of [
      ['S1 by id', s1, 600],
      ['S2 page of 50', s2, 300],
    ] as const) {
      for (const [name, extra, method] of variants) {
        const run = (i: number) => {
          const params = statement.params.map((p, k) =>
            label.startsWith('S1') && k === statement.params.length - 1 ? (i % 2000) + 1 : p,
          );
          return method === 'execute'
            ? conn.execute({ sql: statement.sql, ...extra }, params as never)
            : conn.query({ sql: statement.sql, ...extra }, params as never);
        };
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          await run(i);
        }
        const cpu = process.cpuUsage(cpu0);
        const wall = ((performance.now() - t0) * 1000) / n;
        const key = `${label.padEnd(14)} ${name.padEnd(24)}`;
        const perStatement = (cpu.user + cpu.system) / n;
        const seen = best.get(key);
        if (round > 0 && (seen === undefined || perStatement < seen.cpu)) {
          best.set(key, { cpu: perStatement, wall });
        }
      }
    }
  }
  for (const [key, { cpu, wall }] of best) {
    console.log(
      `${key} ${cpu.toFixed(1).padStart(6)} µs CPU, ${wall.toFixed(0).padStart(5)} µs wall per statement (least of 5 rounds)`,
    );
  }
  await conn.end();
} finally {
  await db.drop();
  await resolved.stop();
}
