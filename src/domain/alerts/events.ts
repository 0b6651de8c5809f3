/**
 * The documented webhook payloads (Airalo "Webhook definition"), parsed with zod into a typed `AlertEvent`.
 *
 * - low data: `{"level": "75%"|"90%"|"3days"|"1days", "package_name", "remaining_percentage", "iccid"}` → a SIM alert
 *   (`LOW_DATA` for the percentages, `EXPIRING` for the days);
 * - credit limit: `{"message": "Surpassed 80% of the credit limit balance", "remaining": 225.35}` → a balance alert;
 * - anything else (async-order results, future types) → `unknown`: logged and acknowledged, never published.
 *
 * `dedupeKey` names "the same event" for redelivery detection (the docs give no event id): a SIM level is reached
 * once per package (`sim:<iccid>:<package>:<level>`); any other delivery is identified by its body's SHA-256, since a
 * redelivery resends the same bytes.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const SIM_ALERT_KINDS = ['LOW_DATA', 'EXPIRING'] as const;
export type SimAlertKind = (typeof SIM_ALERT_KINDS)[number];

export interface SimAlertEvent {
  type: 'sim';
  kind: SimAlertKind;
  /** As the upstream sent it: `75%`, `90%`, `3days`, `1days`. */
  level: string;
  iccid: string;
  packageName: string | null;
  remainingPercentage: number | null;
  /** Epoch ms when the gateway accepted the delivery. */
  receivedAt: number;
  dedupeKey: string;
}

export interface BalanceAlertEvent {
  type: 'balance';
  message: string;
  /** Decimal string, as the upstream's number. */
  remaining: string | null;
  /** The threshold named in the message ("Surpassed 80% …"), when it names one. */
  thresholdPercent: number | null;
  receivedAt: number;
  dedupeKey: string;
}

export interface UnknownEvent {
  type: 'unknown';
  /** The payload's top-level keys, for the log (never the values). */
  keys: string[];
  receivedAt: number;
  dedupeKey: string;
}

export type AlertEvent = SimAlertEvent | BalanceAlertEvent | UnknownEvent;
/** What travels on the event bus: everything but unknown deliveries. */
export type PublishedAlert = SimAlertEvent | BalanceAlertEvent;

const LEVELS: Readonly<Record<string, SimAlertKind>> = {
  '75%': 'LOW_DATA',
  '90%': 'LOW_DATA',
  '3days': 'EXPIRING',
  '1days': 'EXPIRING',
};

const numberish = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

const lowData = z.object({
  level: z.string().refine((l) => l in LEVELS),
  iccid: z.union([z.string().regex(/^\d{10,22}$/), z.number().int().transform(String)]),
  package_name: z.string().max(200).nullish(),
  remaining_percentage: numberish.nullish(),
});

const creditLimit = z.object({ message: z.string().min(1).max(500), remaining: numberish.nullish() });

const sha256 = (raw: Uint8Array) => createHash('sha256').update(raw).digest('hex');

/** Parses a verified delivery. Throws `SyntaxError` for a body that is not a JSON object. */
export function parseAlert(raw: Uint8Array, receivedAt: number): AlertEvent {
  const json: unknown = JSON.parse(Buffer.from(raw).toString('utf8'));
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new SyntaxError('not a JSON object');
  const low = lowData.safeParse(json);
  if (low.success) {
    const { level, iccid, package_name, remaining_percentage } = low.data;
    return {
      type: 'sim',
      kind: LEVELS[level]!,
      level,
      iccid,
      packageName: package_name ?? null,
      remainingPercentage: remaining_percentage ?? null,
      receivedAt,
      dedupeKey: `sim:${iccid}:${package_name ?? ''}:${level}`,
    };
  }
  const credit = creditLimit.safeParse(json);
  if (credit.success) {
    const threshold = credit.data.message.match(/(\d{1,3})\s*%/)?.[1];
    const remaining = credit.data.remaining;
    return {
      type: 'balance',
      message: credit.data.message,
      remaining: remaining === null || remaining === undefined ? null : remaining.toFixed(2),
      thresholdPercent: threshold === undefined ? null : Number(threshold),
      receivedAt,
      dedupeKey: `body:${sha256(raw)}`,
    };
  }
  return { type: 'unknown', keys: Object.keys(json).slice(0, 20), receivedAt, dedupeKey: `body:${sha256(raw)}` };
}
