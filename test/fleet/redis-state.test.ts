/**
 * The Redis state at the process edge, on one gateway process started as `npm start` runs it: the start log names the
 * Redis URL with its password redacted and the key prefix, every Redis state change is a log line, `/ready` and
 * `/metrics` follow Redis down and back up, and the password appears in no log line.
 */
import { expect, it } from 'vitest';
import { startFleet, until } from './fleet.ts';

const SECRET = 'hunter2-redis-password-value';

it('start log says redis (redacted URL, prefix); Redis stopped and restarted → log lines, /ready degraded then ready, gateway_redis_up 0 then 1; the password is never logged', async () => {
  // The test's redis-server has no password; its `default` user accepts any (ACL nopass), so the URL may carry one.
  const fleet = await startFleet({
    replicas: 1,
    redisUrl: (redis) => `redis://default:${SECRET}@127.0.0.1:${redis.port}/0`,
    env: { REDIS_KEY_PREFIX: 'fleet-test:' },
  });
  const gateway = fleet.replicas[0]!;
  const start = gateway.logs.find((line) => line.includes('gateway listening'))!;
  expect(JSON.parse(start).msg).toContain(
    `cache: redis (redis://default:***@127.0.0.1:${fleet.redis.port}/0, prefix fleet-test:)`,
  );
  expect(await gateway.ready()).toEqual({ status: 200, body: { status: 'ready', redis: 'up' } });
  expect(await gateway.metrics()).toMatch(/^gateway_redis_up 1$/m);

  await fleet.redis.stop();
  await until(() => (gateway.logs.some((l) => l.includes('"msg":"redis down"')) ? true : undefined), 'redis down log');
  expect(await gateway.ready()).toEqual({ status: 200, body: { status: 'degraded', redis: 'down' } });
  expect(await gateway.metrics()).toMatch(/^gateway_redis_up 0$/m);

  await fleet.redis.restart();
  await fleet.untilRedisUp();
  expect(gateway.logs.filter((l) => /"msg":"redis (up|down)"/.test(l)).map((l) => JSON.parse(l).msg)).toEqual([
    'redis up',
    'redis down',
    'redis up',
  ]);
  expect(await gateway.metrics()).toMatch(/^gateway_redis_up 1$/m);
  expect(gateway.logs.filter((l) => l.includes(SECRET))).toEqual([]);
});

it('without REDIS_URL the start log says in-memory, one replica only, and /ready has no redis field', async () => {
  const fleet = await startFleet({ replicas: 1, env: { REDIS_URL: '' } });
  const gateway = fleet.replicas[0]!;
  expect(JSON.parse(gateway.logs.find((line) => line.includes('gateway listening'))!).msg).toContain(
    'cache: in-memory (one replica only)',
  );
  expect(await gateway.ready()).toEqual({ status: 200, body: { status: 'ready' } });
});
