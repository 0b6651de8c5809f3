/**
 * Notification opt-in (`POST /notifications/opt-in`), opt-out (`POST /notifications/opt-out`, 204) and the current
 * setting (`GET /notifications/opt-in`): `{data: {notification: {type, contact_point, levels?}}, meta}`.
 * The GET is documented for the low-data type only; the gateway asks per type (`?type=`) and trusts an answer only
 * for the type it names.
 */
import { z } from 'zod';

/** The webhook types the gateway manages (the `email_*` types are the partner's business, not ours). */
export const NOTIFICATION_TYPES = ['webhook_low_data', 'webhook_credit_limit', 'async_orders'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export interface NotificationSetting {
  type: string;
  /** The webhook URL (or e-mail address) the upstream delivers to. */
  contactPoint: string | null;
  /** Credit-limit thresholds in percent; null when the type has none. */
  levels: number[] | null;
}

const notification = z.object({
  type: z.string().min(1),
  contact_point: z.string().nullish(),
  levels: z.array(z.coerce.number().int()).nullish(),
});

/** One setting, or null when the upstream reports none (empty `data`, or `notification: null`). */
export const notificationResponseSchema = z
  .object({
    data: z.union([z.object({ notification: notification.nullish() }), z.array(z.unknown()).max(0)]).nullish(),
  })
  .transform(({ data }): NotificationSetting | null => {
    const n = data && !Array.isArray(data) ? data.notification : undefined;
    if (!n) return null;
    return { type: n.type, contactPoint: n.contact_point ?? null, levels: n.levels ?? null };
  });

/** 204 without a body (null here), or any JSON a tolerant reading accepts. */
export const optOutResponseSchema = z.unknown().transform(() => undefined);
