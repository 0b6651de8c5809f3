/** Shared by the in-process fleet tests of budgets and token: three gateways on one sandbox and one Redis. */

import type { SandboxOptions } from '../../src/sandbox/index.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import type { RedisServer } from '../support/redis-server.ts';
import { until } from '../support/until.ts';

export { until };

export type Fleet = Harness & { prefix: string };

let prefixSeq = 0;

/** Three gateways sharing `server` (a key prefix of their own, so tests never see each other's keys). */
export async function startFleet(
  server: RedisServer | undefined,
  env: Record<string, string> = {},
  sandbox: SandboxOptions = {},
): Promise<Fleet> {
  const prefix = `fleet${++prefixSeq}-${process.pid}:`;
  const h = await startHarness({
    replicas: 3,
    sandbox,
    env: { RESPONSE_CACHE: 'false', ...(server ? { REDIS_URL: server.url, REDIS_KEY_PREFIX: prefix } : {}), ...env },
  });
  if (server) await until(() => h.replicas.every((r) => r.gateway.stores.redis?.state === 'up'));
  return Object.assign(h, { prefix });
}
