import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type DestinationStream, type Logger, pino } from 'pino';

/**
 * The one pino root. Logs carry ids, counts, codes and durations, never rows, resources,
 * variables, tokens, SQL values or database URLs. Redaction only matches keys, so the allowlist
 * serializers below do the real work: an error keeps its class, code and errno, never `message`
 * (mysql2 messages quote values), `sql`, `sqlMessage` or Node's `input` (a whole URL).
 */
export function createLogger(options: { level: string }, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: {
        remove: true,
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'token',
          'password',
          'url',
          'dbUrl',
          'variables',
          'row',
          'resource',
          '*.password',
          '*.url',
          '*.dbUrl',
          '*.variables',
          '*.token',
        ],
      },
      serializers: { err: safeError, error: safeError },
    },
    destination,
  );
}

const LEVELS: ReadonlySet<string> = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

/**
 * `log.child(bindings)`, made only when something logs through it: every request gets a logger
 * naming it, most never write a line, and a pino child costs its bindings' JSON and redaction
 * set-up each time. A call at a level that is off goes to the parent's no-op.
 */
export function lazyChild(log: Logger, bindings: Record<string, unknown>): Logger {
  let child: Logger | undefined;
  return new Proxy(log, {
    get(parent, prop) {
      if (
        child === undefined &&
        typeof prop === 'string' &&
        LEVELS.has(prop) &&
        !parent.isLevelEnabled(prop)
      ) {
        return Reflect.get(parent, prop, parent);
      }
      child ??= parent.child(bindings);
      const value: unknown = Reflect.get(child, prop, child);
      return typeof value === 'function' ? value.bind(child) : value;
    },
  });
}

/** Error fields that never hold data: the class name, library codes and our own reason. */
export function safeError(err: unknown): Record<string, unknown> {
  if (typeof err !== 'object' || err === null) {
    return { type: typeof err };
  }
  const e = err as Record<string, unknown>;
  const out: Record<string, unknown> = { type: err.constructor?.name ?? 'Object' };
  for (const key of ['code', 'errno', 'sqlState', 'fatal', 'reason', 'part', 'syscall']) {
    const v = e[key];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      out[key] = v;
    }
  }
  // Our own invariant errors have fixed messages with no data; library messages may quote values.
  if (e['safeMessage'] === true && typeof e['message'] === 'string') {
    out['message'] = e['message'];
  }
  return out;
}

/** A stable, non-reversible label for a tenant in logs and metrics. */
export function tenantHash(clientId: string): string {
  return createHash('sha256').update(`fhirgate-tenant|${clientId}`).digest('hex').slice(0, 12);
}

/**
 * At most one log line per key (a tenant) per `intervalMs`, for events that can come in floods
 * (refusals, stale-config answers). `due` answers how many events went unlogged since the last
 * line when one is due now (log it with that count), or `undefined` when this one is only counted.
 * Keys live in an LRU of `maxKeys`, so cycling keys cannot grow memory.
 */
export function createLogThrottle(
  intervalMs: number,
  maxKeys = 10_000,
): { due(key: string, now?: number): number | undefined } {
  const seen = new LRUCache<string, { loggedAt: number; suppressed: number }>({ max: maxKeys });
  return {
    due(key, now = Date.now()) {
      const last = seen.get(key);
      if (last !== undefined && now - last.loggedAt < intervalMs) {
        last.suppressed++;
        return undefined;
      }
      seen.set(key, { loggedAt: now, suppressed: 0 });
      return last?.suppressed ?? 0;
    },
  };
}
