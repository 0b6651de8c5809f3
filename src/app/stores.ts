/**
 * The one place that chooses where shared state lives (README "Running several replicas"): without `config.redis`,
 * every store is in-process (the embedded default, one replica only); with it, the stores that make a fleet behave
 * like one gateway use Redis. Domain code and resolvers see only the store interfaces (src/stores/<concern>/types.ts).
 */
import type { Logger } from 'pino';
import type { GatewayConfig } from '../platform/config.ts';
import { createRedisConnections, type RedisConnections } from '../platform/redis.ts';
import { MemoryCacheL2 } from '../stores/cache-l2/memory.ts';
import { RedisCacheL2 } from '../stores/cache-l2/redis.ts';
import type { CacheL2 } from '../stores/cache-l2/types.ts';
import { MemoryInvalidationBus } from '../stores/invalidation/memory.ts';
import { RedisInvalidationBus } from '../stores/invalidation/redis.ts';
import type { InvalidationBus } from '../stores/invalidation/types.ts';

export interface SharedStores {
  /** The Redis connections when `REDIS_URL` is set (state for /ready, /metrics and logs); undefined in-process. */
  redis: RedisConnections | undefined;
  /** Second level of the resource caches (no-op in-process: the L1 is the only level). */
  cacheL2: CacheL2;
  /** Changes to cached resources, announced to the other replicas. */
  invalidation: InvalidationBus;
  close(): Promise<void>;
}

export function createStores(config: GatewayConfig, logger: Logger): SharedStores {
  const redis = config.redis
    ? createRedisConnections(
        { url: config.redis.url, keyPrefix: config.redis.keyPrefix, commandTimeoutMs: config.redis.commandTimeoutMs },
        logger,
      )
    : undefined;
  const cacheL2 = redis ? new RedisCacheL2(redis, logger) : new MemoryCacheL2();
  const invalidation = redis ? new RedisInvalidationBus(redis, logger) : new MemoryInvalidationBus();
  return {
    redis,
    cacheL2,
    invalidation,
    async close() {
      await invalidation.close();
      await redis?.close();
    },
  };
}
