/**
 * Redelivery detection for webhooks: `firstSeen(key)` is true for the first delivery of `key` within the TTL (24 h),
 * false for every later one — on any replica when shared through Redis.
 */
export interface WebhookDedupe {
  firstSeen(key: string): Promise<boolean>;
}

export const WEBHOOK_DEDUPE_TTL_MS = 24 * 3_600_000;
