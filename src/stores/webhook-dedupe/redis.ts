/**
 * Fleet-wide redelivery detection: `SET <prefix>webhook:<key> 1 NX PX <24 h>`. When Redis cannot answer, the
 * replica's own memory decides (fail open: an alert delivered twice is better than one lost).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { RedisConnections } from '../../platform/redis.ts';
import { createMemoryWebhookDedupe } from './memory.ts';
import { WEBHOOK_DEDUPE_TTL_MS, type WebhookDedupe } from './types.ts';

export function createRedisWebhookDedupe(
  redis: RedisConnections,
  clock: Clock,
  logger: Logger,
  ttlMs = WEBHOOK_DEDUPE_TTL_MS,
): WebhookDedupe {
  const fallback = createMemoryWebhookDedupe(clock, 100_000, ttlMs);
  return {
    async firstSeen(key) {
      try {
        // ioredis prefixes the key with REDIS_KEY_PREFIX.
        return (await redis.command.set(`webhook:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
      } catch (error) {
        logger.warn(
          { err: { name: (error as Error).name, message: (error as Error).message } },
          'webhook dedupe: redis unavailable; deduplicating in this replica only',
        );
        return fallback.firstSeen(key);
      }
    },
  };
}
