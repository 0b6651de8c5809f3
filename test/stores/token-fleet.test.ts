/**
 * One upstream token for a fleet: three in-process gateways on one sandbox and one real Redis. Token calls are counted
 * at the sandbox; the token at rest in Redis is checked to be unusable without the client secret.
 */
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createManualClock } from '../../src/platform/clock.ts';
import { createRedisConnections } from '../../src/platform/redis.ts';
import { RedisTokenStore, tokenKeys } from '../../src/stores/token/redis.ts';
import { BASE_PATHS, SANDBOX_CREDENTIALS } from '../support/harness.ts';
import { type RedisServer, startRedisServer } from '../support/redis-server.ts';
import { type Fleet, startFleet, until } from './fleet-helpers.ts';

let server: RedisServer;
let h: Fleet | undefined;

beforeAll(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  await server?.stop();
});

const BALANCE_AND_USAGE = `query ($iccid: ID!) { balance { available { amount } } sim(iccid: $iccid) { usage { stale } } }`;
const DAY_MS = 86_400_000;

const tokenCalls = () => h!.sandbox.control.countCalls({ endpoint: 'token' });

/** 100 concurrent requests spread over the replicas, each needing upstream calls (and so a token). */
async function burst(iccids: string[]) {
  const results = await Promise.all(
    Array.from({ length: 100 }, (_, i) =>
      h!.replicas[i % 3]!.gql(BALANCE_AND_USAGE, { iccid: iccids[i % iccids.length] }),
    ),
  );
  expect(results.filter((r) => r.errors)).toEqual([]);
}

describe('one upstream token for the fleet', () => {
  it('100 concurrent requests over three gateways with an expired token → 1 token call (in memory: 3)', async () => {
    for (const redis of [server, undefined]) {
      h = await startFleet(redis);
      const iccids = h.sandbox.control.iccids().slice(0, 20);
      await burst(iccids);
      expect(tokenCalls()).toBe(redis ? 1 : 3);
      // A day later every replica's token has expired (UPSTREAM_TOKEN_REFRESH_SECONDS), and so has the fleet's.
      h.clock.advance(DAY_MS);
      h.sandbox.control.resetCalls();
      await burst(iccids);
      expect(tokenCalls()).toBe(redis ? 1 : 3);
      await h.close();
      h = undefined;
    }
  });

  it('keeps the token in Redis encrypted: no key holds an issued token, and the record decrypts only with the secret', async () => {
    h = await startFleet(server);
    await h.replicas[0]!.gql(BALANCE_AND_USAGE, { iccid: h.sandbox.control.iccids()[0] });
    const issued = h.sandbox.control.issuedTokens();
    expect(issued).toHaveLength(1);
    const keys = server.cli('--scan', '--pattern', `${h.prefix}*`).split('\n');
    const tokenKey = `${h.prefix}${tokenKeys({ url: `${h.sandbox.url}${BASE_PATHS.pressone}`, clientId: SANDBOX_CREDENTIALS.clientId }).token}`;
    expect(keys).toContain(tokenKey);
    for (const key of keys) {
      const type = server.cli('TYPE', key);
      const dump = type === 'string' ? server.cli('GET', key) : server.cli('DUMP', key);
      expect(dump).not.toContain(issued[0]);
      expect(dump).not.toContain(Buffer.from(issued[0]!).toString('base64url').slice(0, 20));
    }
    // Anyone with Redis but another secret reads nothing.
    const redis = createRedisConnections(
      { url: server.url, keyPrefix: h.prefix, commandTimeoutMs: 200 },
      pino({ level: 'silent' }),
    );
    try {
      await until(() => redis.state === 'up');
      const owner = { url: `${h.sandbox.url}${BASE_PATHS.pressone}`, clientId: SANDBOX_CREDENTIALS.clientId };
      const now = h.clock.now();
      expect(await new RedisTokenStore(redis, { ...owner, clientSecret: 'another-secret' }).read(now)).toBeUndefined();
      expect(
        (await new RedisTokenStore(redis, { ...owner, clientSecret: SANDBOX_CREDENTIALS.clientSecret }).read(now))
          ?.token,
      ).toBe(issued[0]);
    } finally {
      await redis.close();
    }
  });

  it('a replica that claimed the refresh and died: the others wait for its lease to lapse, then one fetches', async () => {
    h = await startFleet(server);
    const prefix = h.prefix;
    const keys = tokenKeys({ url: `${h.sandbox.url}${BASE_PATHS.pressone}`, clientId: SANDBOX_CREDENTIALS.clientId });
    server.cli('SET', `${prefix}${keys.claim}`, 'a-replica-that-died', 'PX', '400');
    const started = performance.now();
    await burst(h.sandbox.control.iccids().slice(0, 5));
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(tokenCalls()).toBe(1);
  });

  it('Redis down → each replica fetches its own token, as a single replica does; shared again once Redis is back', async () => {
    h = await startFleet(server);
    await server.stop();
    await until(() => h!.replicas.every((r) => r.gateway.stores.redis?.state === 'down'));
    await burst(h.sandbox.control.iccids().slice(0, 5));
    expect(tokenCalls()).toBe(3);

    await server.restart();
    await until(() => h!.replicas.every((r) => r.gateway.stores.redis?.state === 'up'));
    h.clock.advance(DAY_MS);
    h.sandbox.control.resetCalls();
    await burst(h.sandbox.control.iccids().slice(0, 5));
    expect(tokenCalls()).toBe(1);
  });
});

describe('token store unit', () => {
  it('discards only the token a 401 proved stale, never a newer one', async () => {
    const redis = createRedisConnections(
      { url: server.url, keyPrefix: 'tu:', commandTimeoutMs: 200 },
      pino({ level: 'silent' }),
    );
    try {
      await until(() => redis.state === 'up');
      const store = new RedisTokenStore(redis, { url: 'http://u', clientId: 'c', clientSecret: 's' });
      const now = createManualClock().now();
      expect(await store.claim(1_000)).toBe(true);
      expect(await store.claim(1_000)).toBe(false);
      await store.write({ token: 'new', validUntil: now + 60_000 }, now);
      expect(await store.claimed()).toBe(false);
      await store.discard('old');
      expect((await store.read(now))?.token).toBe('new');
      expect(await store.read(now + 60_000)).toBeUndefined(); // expired on the gateway clock
      await store.discard('new');
      expect(await store.read(now)).toBeUndefined();
    } finally {
      await redis.close();
    }
  });
});
