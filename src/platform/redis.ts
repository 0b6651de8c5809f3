/**
 * The gateway's Redis connections (REDIS_URL), shared by every Redis-backed store. See README "Running several
 * replicas".
 *
 * Contract: nothing ever waits on Redis unboundedly. Commands fail at once while the connection is down (no offline
 * queue, no per-command retries) and after `commandTimeoutMs` when Redis is slow; the connection itself reconnects in
 * the background with a capped backoff, and `state` says whether Redis is usable now. Callers decide what a failure
 * means (reads fall back to the process, purchases fail closed). Keys are prefixed with `keyPrefix`.
 */
import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisSettings {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string;
  /** Prepended to every key and channel name, so several gateways (or environments) can share one Redis. */
  keyPrefix: string;
  /** Upper bound for any one command, connection included. */
  commandTimeoutMs: number;
}

export type RedisState = 'connecting' | 'up' | 'down';

export interface RedisConnections {
  /** Commands (and Lua scripts). */
  readonly command: Redis;
  /** Subscriptions only: a connection in subscriber mode cannot run other commands. Created on first use. */
  subscriber(): Redis;
  readonly keyPrefix: string;
  /** `up` once the command connection is ready; `down` after an error or a close until it is ready again. */
  readonly state: RedisState;
  /** Fires with the new state on every change. */
  onState(listener: (state: RedisState) => void): void;
  /** Resolves true once the connection is up, false after `timeoutMs` without it (never rejects). */
  whenUp(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** A Redis that cannot be reached or answer in time: callers map it to their own failure mode. */
export class RedisUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnavailableError';
  }
}

/** The URL without its password, for logs. */
export function redactRedisUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.href;
}

function options(settings: RedisSettings): RedisOptions {
  return {
    keyPrefix: settings.keyPrefix,
    connectTimeout: settings.commandTimeoutMs,
    commandTimeout: settings.commandTimeoutMs,
    // Fail fast instead of queueing while disconnected, and never retry a command: the caller's fallback decides.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Reconnect forever in the background, at most once a second.
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1_000),
    lazyConnect: false,
  };
}

export function createRedisConnections(settings: RedisSettings, logger: Logger): RedisConnections {
  const events = new EventEmitter();
  let state: RedisState = 'connecting';
  const setState = (next: RedisState) => {
    if (next === state) return;
    state = next;
    (next === 'up' ? logger.info.bind(logger) : logger.warn.bind(logger))(
      { redis: next, redisUrl: redactRedisUrl(settings.url) },
      `redis ${next}`,
    );
    events.emit('state', next);
  };
  const command = new Redis(settings.url, options(settings));
  command.on('ready', () => setState('up'));
  command.on('error', (error: Error) => {
    logger.debug({ err: { name: error.name, message: error.message } }, 'redis connection error');
    setState('down');
  });
  command.on('close', () => setState('down'));

  let sub: Redis | undefined;
  return {
    command,
    subscriber() {
      if (!sub) {
        // A subscriber must keep its subscriptions across reconnects: ioredis resubscribes on ready.
        sub = new Redis(settings.url, { ...options(settings), commandTimeout: undefined, autoResubscribe: true });
        sub.on('error', (error: Error) =>
          logger.debug({ err: { name: error.name, message: error.message } }, 'redis subscriber error'),
        );
      }
      return sub;
    },
    keyPrefix: settings.keyPrefix,
    get state() {
      return state;
    },
    onState(listener) {
      events.on('state', listener);
    },
    whenUp(timeoutMs) {
      if (state === 'up') return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (up: boolean) => {
          clearTimeout(timer);
          events.off('state', onChange);
          resolve(up);
        };
        const onChange = (next: RedisState) => next === 'up' && done(true);
        const timer = setTimeout(() => done(false), timeoutMs);
        events.on('state', onChange);
      });
    },
    async close() {
      await Promise.allSettled([command.quit(), sub?.quit()]);
      command.disconnect();
      sub?.disconnect();
    },
  };
}
