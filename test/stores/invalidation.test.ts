/**
 * The invalidation bus: on Redis, a message reaches every other gateway (never its sender) and carries only a
 * resource, a key and a kind; after the subscriber lost Redis and got it back, `onResync` fires. In-process, gateways
 * sharing an emitter hear each other the same way.
 */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnections, type RedisConnections } from '../../src/platform/redis.ts';
import { MemoryInvalidationBus } from '../../src/stores/invalidation/memory.ts';
import { RedisInvalidationBus } from '../../src/stores/invalidation/redis.ts';
import type { Invalidation } from '../../src/stores/invalidation/types.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

let server: RedisServer;
const connections: RedisConnections[] = [];

function bus(prefix = 'gw-bus:') {
  const redis = createRedisConnections(
    { url: server.url, keyPrefix: prefix, commandTimeoutMs: 200 },
    pino({ level: 'silent' }),
  );
  connections.push(redis);
  const b = new RedisInvalidationBus(redis, pino({ level: 'silent' }));
  const received: Invalidation[] = [];
  b.onMessage((m) => received.push(m));
  let resyncs = 0;
  b.onResync(() => resyncs++);
  return { redis, bus: b, received, resyncs: () => resyncs };
}

beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
});

describe('RedisInvalidationBus', () => {
  it('delivers to every other replica, not back to the sender, on the prefixed channel, without values', async () => {
    const [a, b, c] = [bus(), bus(), bus()];
    const other = bus('other-env:');
    await until(() => [a, b, c, other].every((x) => x.redis.state === 'up'));
    await until(() => Number(server.cli('PUBSUB', 'NUMSUB', 'gw-bus:invalidation').split('\n')[1]) === 3);
    const started = performance.now();
    a.bus.publish({ resource: 'usage', key: '8944000000000000001', kind: 'drop' });
    await until(() => b.received.length === 1 && c.received.length === 1);
    expect(performance.now() - started).toBeLessThan(100);
    expect(b.received).toEqual([{ resource: 'usage', key: '8944000000000000001', kind: 'drop' }]);
    expect(c.received).toEqual(b.received);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(a.received).toEqual([]);
    expect(other.received).toEqual([]); // another prefix, another fleet
  });

  it('ignores malformed messages on its channel', async () => {
    const a = bus('gw-bad:');
    await until(() => a.redis.state === 'up');
    await until(() => Number(server.cli('PUBSUB', 'NUMSUB', 'gw-bad:invalidation').split('\n')[1]) === 1);
    server.cli('PUBLISH', 'gw-bad:invalidation', 'not json');
    server.cli('PUBLISH', 'gw-bad:invalidation', '{"o":"x","r":"usage","k":"1","t":"explode"}');
    server.cli('PUBLISH', 'gw-bad:invalidation', '{"o":"x","r":"usage","k":"1","t":"changed"}');
    await until(() => a.received.length === 1);
    expect(a.received).toEqual([{ resource: 'usage', key: '1', kind: 'changed' }]);
  });

  it('never throws while Redis is down, and resyncs then delivers again once Redis is back', async () => {
    const [a, b] = [bus('gw-rs:'), bus('gw-rs:')];
    await until(() => [a, b].every((x) => x.redis.state === 'up'));
    await until(() => Number(server.cli('PUBSUB', 'NUMSUB', 'gw-rs:invalidation').split('\n')[1]) === 2);
    await server.stop();
    await until(() => a.redis.state === 'down');
    a.bus.publish({ resource: 'usage', key: 'lost', kind: 'drop' }); // fails quietly
    await server.restart();
    await until(() => a.resyncs() >= 1 && b.resyncs() >= 1);
    // Delivery resumes (a loaded machine may take another reconnect or two; each one resyncs again).
    await until(() => {
      if (b.received.length === 0 && a.redis.state === 'up')
        a.bus.publish({ resource: 'history', key: '1', kind: 'changed' });
      return b.received.length > 0;
    });
    expect(b.received[0]).toEqual({ resource: 'history', key: '1', kind: 'changed' });
    expect(b.received.some((m) => m.key === 'lost')).toBe(false);
  });
});

describe('MemoryInvalidationBus (no REDIS_URL)', () => {
  it('reaches other buses on the same emitter, never its sender; alone it has nobody to tell', () => {
    const emitter = new EventEmitter();
    const [a, b] = [new MemoryInvalidationBus(emitter), new MemoryInvalidationBus(emitter)];
    const atA: Invalidation[] = [];
    const atB: Invalidation[] = [];
    a.onMessage((m) => atA.push(m));
    b.onMessage((m) => atB.push(m));
    a.publish({ resource: 'balance', key: 'partner', kind: 'drop' });
    expect(atB).toEqual([{ resource: 'balance', key: 'partner', kind: 'drop' }]);
    expect(atA).toEqual([]);
  });
});
