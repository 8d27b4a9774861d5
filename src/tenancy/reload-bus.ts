import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { tenantHash } from '../logger.js';

/** What a replica's reload bus is doing. */
export type ReloadBusState = 'disabled' | 'connecting' | 'connected' | 'degraded' | 'closed';

/**
 * Carries "tenant X changed, reload it" between gateway replicas. A replica that changes a
 * tenant (an admin mutation) invalidates its own cache and publishes the client id; every other
 * replica's subscriber invalidates its cache on receipt. The message is the client id and
 * nothing else. The config TTL (`FHIRGATE_CONFIG_TTL_MS`) stays the backstop for any message
 * that is lost.
 */
export interface ReloadBus {
  /**
   * Tells the other replicas to reload `clientId`. Resolves to false, never rejects, when Redis
   * is unreachable: the other replicas then pick the change up at their TTL.
   */
  publish(clientId: string): Promise<boolean>;
  state(): ReloadBusState;
  close(): Promise<void>;
}

export interface ReloadBusOptions {
  /** `REDIS_URL` (`redis://` or `rediss://`). Never logged. */
  readonly url: string;
  /** `FHIRGATE_RELOAD_CHANNEL`; replicas of one deployment share it. */
  readonly channel: string;
  readonly log: Logger;
  /** Called for every client id another replica (or this one) published. */
  readonly onReload: (clientId: string) => void;
  /**
   * Called when the subscription comes back after an outage: messages sent meanwhile are lost,
   * so the replica should forget every cached tenant. @default undefined
   */
  readonly onResync?: () => void;
  /** Longest wait between reconnect attempts. @default 1000 */
  readonly maxReconnectDelayMs?: number;
}

/** Client ids are short printable strings; anything else on the channel is ignored. */
const CLIENT_ID = /^[\x21-\x7e]{1,255}$/;

/** Resolves when `client` is ready, or after `ms` (the command that follows then fails fast). */
function readyWithin(client: Redis, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    client.once('ready', done);
  });
}

/** A bus that does nothing: `REDIS_URL` is unset, reloads stay local and the TTL does the rest. */
export function createLocalReloadBus(): ReloadBus {
  return {
    publish: () => Promise.resolve(false),
    state: () => 'disabled',
    close: () => Promise.resolve(),
  };
}

/**
 * Two ioredis connections (a subscribed connection cannot publish). Both reconnect forever with
 * a capped backoff; the subscriber resubscribes by itself. The first failure after being
 * connected logs one warning (error class and code only: ioredis messages can name the host,
 * and the URL may hold a password), the recovery one info line.
 */
export function createReloadBus(options: ReloadBusOptions): ReloadBus {
  const { channel, log } = options;
  const maxDelay = options.maxReconnectDelayMs ?? 1000;
  const common: RedisOptions = {
    lazyConnect: true,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), maxDelay),
    // Never `OK`-wait forever: a publish while Redis is down fails at once.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  };
  // Subscribed again on every `ready` below, so ioredis's own resubscription is not needed.
  const subscriber = new Redis(options.url, { ...common, autoResubscribe: false });
  const publisher = new Redis(options.url, common);
  let state: ReloadBusState = 'connecting';
  let everConnected = false;
  let closing = false;

  const degrade = (err?: unknown) => {
    if (closing || state === 'degraded') {
      return;
    }
    state = 'degraded';
    log.warn(
      { ...(err === undefined ? {} : { err }), channel },
      'reload bus lost Redis: reloads reach other replicas only at the config TTL until it reconnects',
    );
  };

  subscriber.on('error', (err: unknown) => degrade(err));
  subscriber.on('close', () => degrade());
  // Publisher failures show in `publish`; the listener keeps ioredis from printing them.
  publisher.on('error', () => undefined);
  subscriber.on('ready', () => {
    if (closing) {
      return;
    }
    subscriber.subscribe(channel).then(
      () => {
        // After any failure (at boot too) reloads may have been missed: resync.
        const recovered = everConnected || state === 'degraded';
        state = 'connected';
        everConnected = true;
        if (recovered) {
          log.info({ channel }, 'reload bus reconnected to Redis');
          options.onResync?.();
        } else {
          log.info({ channel }, 'reload bus connected to Redis');
        }
      },
      (err: unknown) => degrade(err),
    );
  });
  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel || !CLIENT_ID.test(message)) {
      return;
    }
    log.debug({ tenant: tenantHash(message) }, 'tenant reload received');
    options.onReload(message);
  });

  // A first connection that fails keeps retrying in the background: boot does not wait for Redis.
  subscriber.connect().catch((err: unknown) => degrade(err));
  publisher.connect().catch(() => undefined);

  return {
    async publish(clientId) {
      if (closing) {
        return false;
      }
      try {
        if (publisher.status !== 'ready' && state === 'connected') {
          // Redis is reachable (the subscriber is up); the publisher's own reconnect is at most
          // one backoff step behind.
          await readyWithin(publisher, maxDelay + 1000);
        }
        log.debug({ tenant: tenantHash(clientId) }, 'tenant reload publishing');
        await publisher.publish(channel, clientId);
        return true;
      } catch (err) {
        log.warn({ err, channel }, 'reload not published: other replicas reload at the config TTL');
        return false;
      }
    },
    state: () => state,
    async close() {
      closing = true;
      state = 'closed';
      await Promise.allSettled([subscriber.quit(), publisher.quit()]);
      subscriber.disconnect();
      publisher.disconnect();
    },
  };
}

/**
 * Publishes one reload from a short-lived process (the CLI): connect, publish, quit. Resolves to
 * false when Redis cannot be reached within `timeoutMs`; never rejects, never logs the URL.
 */
export async function publishReloadOnce(
  url: string,
  channel: string,
  clientId: string,
  timeoutMs = 3000,
): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.publish(channel, clientId);
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
