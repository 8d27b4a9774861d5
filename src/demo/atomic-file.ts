import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * A temp file beside `path`, unique per process and call, so two processes that build the same
 * file never write into each other's temp file.
 */
export function tempPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Moves a fully written `tempPath` to `path` unless `path` already exists, and removes the temp
 * file either way. Returns whether this call created `path`.
 *
 * `link` fails with EEXIST instead of replacing, so when `npm start` and `npm run token` race on
 * a fresh data dir exactly one of them wins and the other reads the winner's file: no reader ever
 * sees half a file, and no key is silently swapped under a running server. Filesystems without
 * hard links fall back to a check-then-rename, which can only lose that race, never tear a file.
 */
export function publishIfAbsent(tempPath: string, path: string): boolean {
  try {
    linkSync(tempPath, path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'EEXIST') {
      return false;
    }
    if (existsSync(path)) {
      return false;
    }
    renameSync(tempPath, path);
    return true;
  } finally {
    rmSync(tempPath, { force: true });
  }
}

/**
 * Writes `content` to `path` with `mode` (default 0600: owner only) when `path` does not exist
 * yet, atomically (temp file, then {@link publishIfAbsent}). Returns whether it wrote the file.
 */
export function writeFileIfAbsent(path: string, content: string, mode = 0o600): boolean {
  const temp = tempPathFor(path);
  writeFileSync(temp, content, { mode, flag: 'wx' });
  // `mode` on open is filtered by the umask; chmod makes it exact.
  chmodSync(temp, mode);
  return publishIfAbsent(temp, path);
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}
