/**
 * The database server's CPU time, read from `/proc` (Linux, the database on this machine): what
 * each request costs MariaDB, which on a small machine comes out of the same cores the servers
 * under test run on. NaN where it cannot be read (another OS, a remote database).
 */
import { readdirSync, readFileSync } from 'node:fs';

const NAMES = new Set(['mariadbd', 'mysqld']);
let pid: number | undefined | null;

function databasePid(): number | undefined {
  if (pid !== undefined) {
    return pid ?? undefined;
  }
  pid = null;
  try {
    for (const entry of readdirSync('/proc')) {
      if (/^\d+$/.test(entry)) {
        const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
        if (NAMES.has(comm)) {
          pid = Number(entry);
          break;
        }
      }
    }
  } catch {
    // No /proc: not Linux.
  }
  return pid ?? undefined;
}

// `/proc/<pid>/stat` counts in clock ticks; 100 per second on every Linux this runs on.
const US_PER_TICK = 10_000;

/** User + system CPU time of the database server process (all its threads) so far, µs. */
export function databaseCpuUs(): number {
  const id = databasePid();
  if (id === undefined) {
    return Number.NaN;
  }
  try {
    // Fields after the `(comm)`: state is the 3rd field, utime the 14th, stime the 15th.
    const stat = readFileSync(`/proc/${id}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * US_PER_TICK;
  } catch {
    return Number.NaN;
  }
}
