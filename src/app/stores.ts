/**
 * The one place that chooses where shared state lives (README "Running several replicas"): without `config.redis`,
 * every store is in-process (the embedded default, one replica only); with it, the stores that make a fleet behave
 * like one gateway use Redis. Domain code and resolvers see only the store interfaces (src/stores/<concern>/types.ts).
 */
import type { Logger } from 'pino';
import type { PublishedAlert } from '../domain/alerts/events.ts';
import type { PurchaseOutcome } from '../domain/purchase/index.ts';
import { type Clock, systemClock } from '../platform/clock.ts';
import type { GatewayConfig } from '../platform/config.ts';
import { createRedisConnections, type RedisConnections } from '../platform/redis.ts';
import { MemoryBudgetStore } from '../stores/budgets/memory.ts';
import { RedisBudgetStore } from '../stores/budgets/redis.ts';
import type { BudgetStore } from '../stores/budgets/types.ts';
import { MemoryCacheL2 } from '../stores/cache-l2/memory.ts';
import { RedisCacheL2 } from '../stores/cache-l2/redis.ts';
import type { CacheL2 } from '../stores/cache-l2/types.ts';
import { createMemoryEventBus } from '../stores/events/memory.ts';
import { createRedisEventBus } from '../stores/events/redis.ts';
import type { EventBus } from '../stores/events/types.ts';
import { MemoryInvalidationBus } from '../stores/invalidation/memory.ts';
import { RedisInvalidationBus } from '../stores/invalidation/redis.ts';
import type { InvalidationBus } from '../stores/invalidation/types.ts';
import { MemoryPurchaseRecords } from '../stores/purchase-records/memory.ts';
import { RedisPurchaseRecords } from '../stores/purchase-records/redis.ts';
import type { PurchaseRecordStore } from '../stores/purchase-records/types.ts';
import { MemoryTokenStore } from '../stores/token/memory.ts';
import { RedisTokenStore } from '../stores/token/redis.ts';
import type { TokenOwner, TokenStore } from '../stores/token/types.ts';
import { createMemoryWebhookDedupe } from '../stores/webhook-dedupe/memory.ts';
import { createRedisWebhookDedupe } from '../stores/webhook-dedupe/redis.ts';
import type { WebhookDedupe } from '../stores/webhook-dedupe/types.ts';

export interface SharedStores {
  /** The Redis connections when `REDIS_URL` is set (state for /ready, /metrics and logs); undefined in-process. */
  redis: RedisConnections | undefined;
  /** Upstream call budgets and 429 blocks. */
  budgets: BudgetStore;
  /** The upstream token of one account (the secret keys its encryption at rest). */
  token(owner: TokenOwner): TokenStore;
  /** Idempotency claims and records of purchases. */
  purchaseRecords: PurchaseRecordStore<PurchaseOutcome>;
  /** Second level of the resource caches (no-op in-process: the L1 is the only level). */
  cacheL2: CacheL2;
  /** Changes to cached resources, announced to the other replicas. */
  invalidation: InvalidationBus;
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
  const cacheL2 = redis ? new RedisCacheL2(redis, logger) : new MemoryCacheL2();
  const invalidation = redis ? new RedisInvalidationBus(redis, logger) : new MemoryInvalidationBus();
  const idempotencyTtlMs = config.idempotency.ttlHours * 3_600_000;
  return {
    redis,
    budgets: redis
      ? new RedisBudgetStore(redis, { fallbackShare: config.redis!.fallbackBudgetShare, logger })
      : new MemoryBudgetStore(),
    token: (owner) => (redis ? new RedisTokenStore(redis, owner) : new MemoryTokenStore()),
    purchaseRecords: redis
      ? new RedisPurchaseRecords({ redis, ttlMs: idempotencyTtlMs, leaseMs: config.idempotency.claimLeaseMs })
      : new MemoryPurchaseRecords({
          ttlMs: idempotencyTtlMs,
          maxKeys: config.idempotency.maxKeys,
          pinUnknownMs: config.idempotency.reconcileGraceSeconds * 1000,
          clock,
        }),
    cacheL2,
    invalidation,
    alertBus,
    webhookDedupe,
    async close() {
      await invalidation.close();
      await alertBus.close();
      await redis?.close();
    },
  };
}
