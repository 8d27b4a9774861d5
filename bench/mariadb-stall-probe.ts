/**
 * Does a stalled database hurt another database on the same MariaDB server, with no gateway in
 * between? `npx tsx bench/mariadb-stall-probe.ts [--mode sleep|lock] [--runs N]` (about 15 s a
 * run).
 *
 * Two fresh databases with the same 200-row table. Ten mysql2 connections run statements against
 * database A that cannot finish: `sleep` = a view that calls SLEEP(1) per row; `lock` = another
 * session holds `LOCK TABLES t WRITE`, so they wait on the metadata lock. Each session has
 * `max_statement_time = 4`, as the gateway sets, so the server ends each after 4 s and the
 * connection sends the next. Meanwhile two connections to database B read 10 rows by primary
 * key every 10 ms. Prints B's latency (p50, p95, max) and every B statement that took > 100 ms.
 *
 * Found on 2026-11-27 (MariaDB 10.11.19, 2 cores): `sleep` stalled B's statements for 2.0-6.0 s
 * in 3 of 6 runs (both B connections at the same moment, at a multiple of the 4 s limit: the
 * server killing the sleeping statements); `lock` never did in 6 runs (B max 8.5-71.6 ms). This
 * is why the noisy-neighbour bench breaks tenant A with a lock by default: with `--mode sleep`,
 * what B suffers includes the shared database server, which the gateway cannot isolate.
 */
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { resolveMysqlServer } from '../test/helpers/global-setup.js';
import { createTestDatabase } from '../test/helpers/test-database.js';

const { values } = parseArgs({
  options: { mode: { type: 'string', default: 'sleep' }, runs: { type: 'string', default: '1' } },
});
const mode = values.mode;
if (mode !== 'sleep' && mode !== 'lock') {
  throw new Error('--mode must be sleep or lock');
}
const runs = Number(values.runs);
const SECONDS = 14;

async function run(server: Awaited<ReturnType<typeof resolveMysqlServer>>['server']) {
  const dbA = await createTestDatabase('fgstall_a', server);
  const dbB = await createTestDatabase('fgstall_b', server);
  const locker = await dbA.connection();
  try {
    for (const db of [dbA, dbB]) {
      await db.exec('CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(50))');
      await db.exec(`INSERT INTO t SELECT seq, CONCAT('n', seq) FROM seq_1_to_200`);
    }
    await dbA.exec('CREATE VIEW slow AS SELECT * FROM t WHERE SLEEP(1) = 0');
    const pool = (database: string) => {
      const p = mysql.createPool({ ...server, database, connectionLimit: 10 });
      p.on('connection', (c) => {
        c.query('SET SESSION max_statement_time = 4');
      });
      return p;
    };
    const a = pool(dbA.name);
    const b = pool(dbB.name);
    if (mode === 'lock') {
      await locker.query('LOCK TABLES t WRITE');
    }
    const started = Date.now();
    const end = started + SECONDS * 1000;
    let aEnded = 0;
    const loopA = async () => {
      while (Date.now() < end) {
        await a.execute(mode === 'sleep' ? 'SELECT * FROM slow' : 'SELECT * FROM t').catch(() => {
          aEnded++;
        });
      }
    };
    const latencies: { at: number; ms: number }[] = [];
    const loopB = async () => {
      await new Promise((r) => setTimeout(r, 200));
      while (Date.now() < end - 500) {
        const t0 = performance.now();
        await b.execute(
          'SELECT * FROM t WHERE id IN (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        );
        latencies.push({ at: (Date.now() - started) / 1000, ms: performance.now() - t0 });
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await Promise.all([...Array.from({ length: 10 }, loopA), loopB(), loopB()]);
    if (mode === 'lock') {
      await locker.query('UNLOCK TABLES');
    }
    await Promise.all([a.end(), b.end()]);
    const sorted = latencies.map((l) => l.ms).sort((x, y) => x - y);
    const at = (p: number) =>
      (sorted[Math.floor(p * (sorted.length - 1))] ?? Number.NaN).toFixed(1);
    const slow = latencies.filter((l) => l.ms > 100);
    console.log(
      `[stall-probe] ${mode}: A statements ended by the server ${aEnded}; B ${sorted.length} statements, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms; over 100 ms: ${
        slow.map((l) => `${l.ms.toFixed(0)} ms at ${l.at.toFixed(1)} s`).join(', ') || 'none'
      }`,
    );
  } finally {
    await locker.end().catch(() => undefined);
    await dbA.drop();
    await dbB.drop();
  }
}

const resolved = await resolveMysqlServer(process.env);
try {
  for (let i = 0; i < runs; i++) {
    await run(resolved.server);
  }
} finally {
  await resolved.stop();
}
