/**
 * `GET /ready`: 200 once an upstream token can be obtained and used (the balance read), else 503. Anyone may ask, so
 * asking is cheap: every caller gets the result of the last check, and a check (one balance read, itself cached) runs
 * at most once per `intervalMs`, single-flight; only the very first `/ready` waits for one.
 *
 * With `REDIS_URL` the answer also carries the Redis state (`redis: up | connecting | down`, read from the connection,
 * no command sent). A replica whose Redis is not up still serves reads (from its own cache and the upstream, on a cut
 * budget) but refuses purchases, so it answers 200 `{"status":"degraded"}`, not 503: Redis is shared, and a 503 would
 * make the load balancer drop every replica at once — a Redis outage would become a full outage.
 * See README.md, "HTTP endpoints and authentication" and "Running several replicas".
 */
import type { Plugin } from 'graphql-yoga';
import { BALANCE_KEY } from '../../domain/cache/index.ts';
import type { Demand } from '../../domain/scheduler/index.ts';
import type { Clock } from '../../platform/clock.ts';
import type { RedisState } from '../../platform/redis.ts';
import type { GatewayServices } from '../context.ts';

/** A probe waits like a client (its load balancer does), under a principal of its own. */
const READINESS: Demand = Object.freeze({ priority: 'foreground', principal: 'readiness' });

export function useReadiness(
  services: GatewayServices,
  clock: Clock,
  intervalMs: number,
  /** The shared-state connection when `REDIS_URL` is set; undefined in-process (no `redis` field then). */
  redis?: { readonly state: RedisState },
): Plugin {
  let last: { ready: boolean; at: number } | undefined;
  let running: Promise<boolean> | undefined;
  const check = () =>
    (running ??= services.caches.balance
      .get(BALANCE_KEY, READINESS)
      .then(
        () => true,
        (error: unknown) => {
          services.logger.warn(
            { err: { name: (error as Error).name, message: (error as Error).message } },
            'readiness check failed',
          );
          return false;
        },
      )
      .then((ready) => {
        last = { ready, at: clock.now() };
        running = undefined;
        return ready;
      }));
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/ready') return;
      let ready: boolean;
      if (last === undefined) ready = await check();
      else {
        ready = last.ready;
        if (clock.now() - last.at >= intervalMs) void check(); // the next caller sees the fresh result
      }
      if (!ready) {
        endResponse(fetchAPI.Response.json({ status: 'not ready', ...redisField(redis) }, { status: 503 }));
        return;
      }
      const degraded = redis !== undefined && redis.state !== 'up';
      endResponse(fetchAPI.Response.json({ status: degraded ? 'degraded' : 'ready', ...redisField(redis) }));
    },
  };
}

function redisField(redis: { readonly state: RedisState } | undefined): { redis?: RedisState } {
  return redis ? { redis: redis.state } : {};
}
