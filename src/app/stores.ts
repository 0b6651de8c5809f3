/**
 * The one place that chooses where shared state lives (README "Running several replicas"): without `config.redis`,
 * every store is in-process (the embedded default, one replica only); with it, the stores that make a fleet behave
 * like one gateway use Redis. Domain code and resolvers see only the store interfaces (src/stores/<concern>/types.ts).
 */
import type { Logger } from 'pino';
import type { PublishedAlert } from '../domain/alerts/events.ts';
import { type Clock, systemClock } from '../platform/clock.ts';
import type { GatewayConfig } from '../platform/config.ts';
import { createRedisConnections, type RedisConnections } from '../platform/redis.ts';
import { createMemoryEventBus } from '../stores/events/memory.ts';
import { createRedisEventBus } from '../stores/events/redis.ts';
import type { EventBus } from '../stores/events/types.ts';
import { createMemoryWebhookDedupe } from '../stores/webhook-dedupe/memory.ts';
import { createRedisWebhookDedupe } from '../stores/webhook-dedupe/redis.ts';
import type { WebhookDedupe } from '../stores/webhook-dedupe/types.ts';

export interface SharedStores {
  /** The Redis connections when `REDIS_URL` is set (state for /ready, /metrics and logs); undefined in-process. */
  redis: RedisConnections | undefined;
  /** Alerts from webhooks, to the subscribers of every replica. */
  alertBus: EventBus<PublishedAlert>;
  /** Webhook redeliveries seen within 24 h. */
  webhookDedupe: WebhookDedupe;
  close(): Promise<void>;
}

export function createStores(config: GatewayConfig, logger: Logger, clock: Clock = systemClock): SharedStores {
  const redis = config.redis
    ? createRedisConnections(
        { url: config.redis.url, keyPrefix: config.redis.keyPrefix, commandTimeoutMs: config.redis.commandTimeoutMs },
        logger,
      )
    : undefined;
  const alertBus = redis
    ? createRedisEventBus<PublishedAlert>(redis, 'alerts', logger)
    : createMemoryEventBus<PublishedAlert>();
  const webhookDedupe = redis ? createRedisWebhookDedupe(redis, clock, logger) : createMemoryWebhookDedupe(clock);
  return {
    redis,
    alertBus,
    webhookDedupe,
    async close() {
      await alertBus.close();
      await redis?.close();
    },
  };
}
