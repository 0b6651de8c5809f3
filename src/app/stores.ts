/**
 * The one place that chooses where shared state lives (README "Running several replicas"): without `config.redis`,
 * every store is in-process (the embedded default, one replica only); with it, the stores that make a fleet behave
 * like one gateway use Redis. Domain code and resolvers see only the store interfaces (src/stores/<concern>/types.ts).
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../platform/config.ts';
import { createRedisConnections, type RedisConnections } from '../platform/redis.ts';

export interface SharedStores {
  /** The Redis connections when `REDIS_URL` is set (state for /ready, /metrics and logs); undefined in-process. */
  redis: RedisConnections | undefined;
  close(): Promise<void>;
}

export function createStores(config: GatewayConfig, logger: Logger): SharedStores {
  const redis = config.redis
    ? createRedisConnections(
        { url: config.redis.url, keyPrefix: config.redis.keyPrefix, commandTimeoutMs: config.redis.commandTimeoutMs },
        logger,
      )
    : undefined;
  return {
    redis,
    async close() {
      await redis?.close();
    },
  };
}
