/**
 * The Redis state where operators look: `/ready` (200 `degraded` with `redis: down` — reads still work, purchases do
 * not — never a 503 that would pull the whole fleet out of the load balancer at once) and `/metrics`
 * (`gateway_redis_up`, `gateway_redis_command_errors_total` by kind), against a real redis-server of the test's own
 * that is stopped, restarted and frozen. In-process: one gateway built with `REDIS_URL`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsHandler } from '../../src/app/metrics.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

let h: Harness | undefined;
let redis: RedisServer | undefined;
afterEach(async () => {
  await h?.close();
  await redis?.stop();
  h = undefined;
  redis = undefined;
});

async function scrape(harness: Harness): Promise<string> {
  const server = createServer(createMetricsHandler(harness.gateway.metrics));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`)).text();
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const ready = async (harness: Harness) => {
  const response = await harness.fetch('/ready');
  return { status: response.status, body: await response.json() };
};

describe('Redis state in /ready and /metrics', () => {
  it('follows Redis down and back up: /ready stays 200 but says degraded, the gauge and the failure counter move', async () => {
    redis = await startRedisServer();
    h = await startHarness({ env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '200' } });
    const connections = h.gateway.stores.redis!;
    await until(() => connections.state === 'up');
    expect(await ready(h)).toEqual({ status: 200, body: { status: 'ready', redis: 'up' } });
    let metrics = await scrape(h);
    expect(metrics).toMatch(/^gateway_redis_up 1$/m);
    expect(metrics).toMatch(/^gateway_redis_command_errors_total\{kind="unavailable"\} 0$/m);

    await redis.stop();
    await until(() => connections.state === 'down');
    expect(await ready(h)).toEqual({ status: 200, body: { status: 'degraded', redis: 'down' } });
    await expect(connections.command.get('any')).rejects.toThrow();
    metrics = await scrape(h);
    expect(metrics).toMatch(/^gateway_redis_up 0$/m);
    expect(metrics).toMatch(/^gateway_redis_command_errors_total\{kind="unavailable"\} 1$/m);

    await redis.restart();
    await until(() => connections.state === 'up');
    expect(await ready(h)).toEqual({ status: 200, body: { status: 'ready', redis: 'up' } });
    expect(await scrape(h)).toMatch(/^gateway_redis_up 1$/m);
  });

  it('counts a command that Redis does not answer in time as a timeout', async () => {
    redis = await startRedisServer();
    h = await startHarness({ env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '100' } });
    const connections = h.gateway.stores.redis!;
    await until(() => connections.state === 'up');
    redis.pause();
    try {
      await expect(connections.command.get('any')).rejects.toThrow(/timed out/i);
    } finally {
      redis.resume();
    }
    expect(await scrape(h)).toMatch(/^gateway_redis_command_errors_total\{kind="timeout"\} 1$/m);
  });

  it('503 when the upstream is not usable carries the Redis state too; without REDIS_URL there is no redis field or gauge', async () => {
    redis = await startRedisServer();
    h = await startHarness({
      env: { REDIS_URL: redis.url },
      sandbox: { credentials: { clientId: 'sandbox-client-id', clientSecret: 'not-the-secret-the-gateway-has' } },
    });
    await until(() => h!.gateway.stores.redis!.state === 'up');
    expect(await ready(h)).toEqual({ status: 503, body: { status: 'not ready', redis: 'up' } });
    await h.close();

    h = await startHarness();
    expect(await ready(h)).toEqual({ status: 200, body: { status: 'ready' } });
    expect(await scrape(h)).not.toMatch(/gateway_redis/);
  });
});
