/**
 * Readings of the machine and the database server that frame a run: the commit time of a bare
 * INSERT (the floor of every audit write) and what the run ran on.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import type { Connection } from 'mysql2/promise';
import { percentile } from './load.js';
import { BASELINE_AUDIT, GATEWAY_ENV, QUICK } from './options.js';

/** What one autocommit INSERT costs on this MariaDB: the floor of every audit write. */
export interface CommitTimes {
  readonly samples: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

/**
 * Sequential autocommit INSERTs of a 1.6 KB text row (the size of an S1 audit event) into a
 * scratch InnoDB table for `durationMs`: the commit latency, log flush included
 * (`innodb_flush_log_at_trx_commit` as the server has it), that an audit INSERT cannot beat.
 */
export async function timeCommits(conn: Connection, durationMs: number): Promise<CommitTimes> {
  await conn.query(
    'CREATE TABLE IF NOT EXISTS bench_commit_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, event TEXT NOT NULL) ENGINE=InnoDB',
  );
  const row = 'x'.repeat(1600);
  const times: number[] = [];
  const until = performance.now() + durationMs;
  while (performance.now() < until) {
    const t0 = performance.now();
    await conn.execute('INSERT INTO bench_commit_probe (event) VALUES (?)', [row]);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    samples: times.length,
    p50: percentile(times, 50),
    p90: percentile(times, 90),
    p99: percentile(times, 99),
  };
}

export function machineInfo(mariadbVersion: string): Record<string, string | number> {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      encoding: 'utf8',
    }).trim();
    if (dirty !== '') {
      commit += ' (src/ has uncommitted changes)';
    }
  } catch {
    // Not a git checkout.
  }
  return {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    mariadb: mariadbVersion,
    commit,
    mode: QUICK ? 'quick' : 'full',
    gatewayEnv:
      Object.entries(GATEWAY_ENV)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || 'defaults',
    baseline: BASELINE_AUDIT ? 'with the gateway audit trail (--baseline-audit)' : 'no audit',
    loadStart: loadavg()[0]?.toFixed(2) ?? 'n/a',
  };
}
