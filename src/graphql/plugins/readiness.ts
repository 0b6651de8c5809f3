/**
 * `GET /ready`: 200 once an upstream token can be obtained and used (the balance read), else 503. Anyone may ask, so
 * asking is cheap: every caller gets the result of the last check, and a check (one balance read, itself cached) runs
 * at most once per `intervalMs`, single-flight; only the very first `/ready` waits for one.
 * See README.md, "HTTP endpoints and authentication".
 */
import type { Plugin } from 'graphql-yoga';
import { BALANCE_KEY } from '../../domain/cache/index.ts';
import type { Clock } from '../../platform/clock.ts';
import type { GatewayServices } from '../context.ts';

export function useReadiness(services: GatewayServices, clock: Clock, intervalMs: number): Plugin {
  let last: { ready: boolean; at: number } | undefined;
  let running: Promise<boolean> | undefined;
  const check = () =>
    (running ??= services.caches.balance
      .get(BALANCE_KEY)
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
      endResponse(
        ready
          ? fetchAPI.Response.json({ status: 'ready' })
          : fetchAPI.Response.json({ status: 'not ready' }, { status: 503 }),
      );
    },
  };
}
