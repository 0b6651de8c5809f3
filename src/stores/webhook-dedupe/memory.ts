/** In-process redelivery detection: a bounded TTL map (oldest keys evicted first past `max`). */
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../platform/clock.ts';
import { WEBHOOK_DEDUPE_TTL_MS, type WebhookDedupe } from './types.ts';

export function createMemoryWebhookDedupe(clock: Clock, max = 100_000, ttlMs = WEBHOOK_DEDUPE_TTL_MS): WebhookDedupe {
  const seen = new LRUCache<string, true>({ max, ttl: ttlMs, ttlResolution: 0, perf: { now: () => clock.now() } });
  return {
    async firstSeen(key) {
      if (seen.has(key)) return false;
      seen.set(key, true);
      return true;
    },
  };
}
