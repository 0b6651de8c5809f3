/**
 * The Redis connections against a real redis-server of the test's own: commands work with the key prefix, fail at
 * once (not after a queue or a retry loop) while Redis is down, the state follows the server, and the connection
 * recovers by itself when Redis comes back — empty.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnections, type RedisConnections, redactRedisUrl } from '../../src/platform/redis.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

let server: RedisServer;
let redis: RedisConnections;

beforeAll(async () => {
  server = await startRedisServer();
  redis = createRedisConnections(
    { url: server.url, keyPrefix: 'gw-test:', commandTimeoutMs: 200 },
    pino({ level: 'silent' }),
  );
  await until(() => redis.state === 'up');
});
afterAll(async () => {
  await redis?.close();
  await server?.stop();
});

describe('Redis connections', () => {
  it('prefix every key', async () => {
    await redis.command.set('k', 'v');
    expect(server.cli('GET', 'gw-test:k')).toBe('v');
    expect(await redis.command.get('k')).toBe('v');
  });

  it('fail fast while Redis is down, report the state, and recover by themselves when it returns empty', async () => {
    const states: string[] = [];
    redis.onState((s) => states.push(s));
    await server.stop();
    await until(() => redis.state === 'down');
    const started = performance.now();
    await expect(redis.command.get('k')).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(150);

    await server.restart();
    await until(() => redis.state === 'up');
    expect(await redis.command.get('k')).toBeNull(); // restarted empty
    expect(states).toEqual(['down', 'up']);
  });

  it('time out a command on a Redis that does not answer', async () => {
    server.pause();
    try {
      const started = performance.now();
      await expect(redis.command.get('k')).rejects.toThrow(/timed out/i);
      expect(performance.now() - started).toBeLessThan(500);
    } finally {
      server.resume();
    }
    await until(() => redis.state === 'up');
    expect(await redis.command.get('k')).toBeNull();
  });

  it('tell when they are up: at once when connected, after the reconnect when not, false after the bound', async () => {
    expect(await redis.whenUp(100)).toBe(true);
    await server.stop();
    await until(() => redis.state === 'down');
    expect(await redis.whenUp(50)).toBe(false);
    const up = redis.whenUp(5_000);
    await server.restart();
    expect(await up).toBe(true);
  });

  it('never log a password', () => {
    expect(redactRedisUrl('redis://user:s3cret@127.0.0.1:6379/0')).toBe('redis://user:***@127.0.0.1:6379/0');
  });
});
