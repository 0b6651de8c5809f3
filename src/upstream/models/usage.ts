/**
 * `GET sims/{iccid}/usage` → Usage. SIM_STATUSES is the one list of SIM states (the GraphQL `SimStatus` enum is built
 * from it); the upstream's spellings (`not active`, `Not-Active`, …) are normalised, anything else is `UNKNOWN`.
 */
import { z } from 'zod';
import {
  isRecord,
  MISMATCH,
  optBoolean,
  optDate,
  optNumber,
  optString,
  type Read,
  readOptBoolean,
  readOptDate,
  readOptNumber,
  readOptString,
  withFastPath,
} from './conversions.ts';

export const SIM_STATUSES = ['NOT_ACTIVE', 'ACTIVE', 'FINISHED', 'EXPIRED', 'RECYCLED', 'UNKNOWN'] as const;
export type SimStatus = (typeof SIM_STATUSES)[number];

export interface Usage {
  status: SimStatus;
  /** null when the package is unlimited (the upstream then sends 0s that mean nothing). */
  remainingMb: number | null;
  totalMb: number | null;
  isUnlimited: boolean | null;
  expiresAt: string | null;
  remainingVoiceMinutes: number | null;
  totalVoiceMinutes: number | null;
  remainingTexts: number | null;
  totalTexts: number | null;
}

/** Each status's one string: a usage holds the constant, not the copy each payload's normalisation makes. */
const simStatuses: ReadonlyMap<string, SimStatus> = new Map(SIM_STATUSES.map((s) => [s, s]));

/** The usage fields once each is converted (the zod schema's output, the fast reader's intermediate). */
interface UsageFields {
  remaining: number | null;
  total: number | null;
  expired_at: string | null;
  is_unlimited: boolean | null;
  status: string | null;
  remaining_voice: number | null;
  remaining_text: number | null;
  total_voice: number | null;
  total_text: number | null;
}

function toUsage(u: UsageFields): Usage {
  const status = (u.status ?? '')
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
  return {
    status: simStatuses.get(status) ?? 'UNKNOWN',
    remainingMb: u.is_unlimited ? null : u.remaining,
    totalMb: u.is_unlimited ? null : u.total,
    isUnlimited: u.is_unlimited,
    expiresAt: u.expired_at,
    remainingVoiceMinutes: u.remaining_voice,
    totalVoiceMinutes: u.total_voice,
    remainingTexts: u.remaining_text,
    totalTexts: u.total_text,
  };
}

/** The fast path of `usageResponseSchema` (see `withFastPath`). */
function readUsage(json: unknown): Read<Usage> {
  if (!isRecord(json) || !isRecord(json.data)) return MISMATCH;
  const d = json.data;
  const remaining = readOptNumber(d.remaining);
  const total = readOptNumber(d.total);
  const expired_at = readOptDate(d.expired_at);
  const is_unlimited = readOptBoolean(d.is_unlimited);
  const status = readOptString(d.status);
  const remaining_voice = readOptNumber(d.remaining_voice);
  const remaining_text = readOptNumber(d.remaining_text);
  const total_voice = readOptNumber(d.total_voice);
  const total_text = readOptNumber(d.total_text);
  if (
    remaining === MISMATCH ||
    total === MISMATCH ||
    expired_at === MISMATCH ||
    is_unlimited === MISMATCH ||
    status === MISMATCH ||
    remaining_voice === MISMATCH ||
    remaining_text === MISMATCH ||
    total_voice === MISMATCH ||
    total_text === MISMATCH
  )
    return MISMATCH;
  return toUsage({
    remaining,
    total,
    expired_at,
    is_unlimited,
    status,
    remaining_voice,
    remaining_text,
    total_voice,
    total_text,
  });
}

export const usageResponseSchema = withFastPath(
  z
    .object({
      data: z.object({
        remaining: optNumber,
        total: optNumber,
        expired_at: optDate,
        is_unlimited: optBoolean,
        status: optString,
        remaining_voice: optNumber,
        remaining_text: optNumber,
        total_voice: optNumber,
        total_text: optNumber,
      }),
    })
    .transform(({ data }): Usage => toUsage(data)),
  readUsage,
);
