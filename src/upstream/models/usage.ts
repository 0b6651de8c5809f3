/**
 * `GET sims/{iccid}/usage` → Usage. SIM_STATUSES is the one list of SIM states (the GraphQL `SimStatus` enum is built
 * from it); the upstream's spellings (`not active`, `Not-Active`, …) are normalised, anything else is `UNKNOWN`.
 */
import { z } from 'zod';
import { optBoolean, optDate, optNumber, optString } from './conversions.ts';

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

const simStatuses: ReadonlySet<string> = new Set<string>(SIM_STATUSES);

export const usageResponseSchema = z
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
  .transform(({ data: u }): Usage => {
    const status = (u.status ?? '')
      .trim()
      .toUpperCase()
      .replace(/[\s-]+/g, '_');
    return {
      status: simStatuses.has(status) ? (status as SimStatus) : 'UNKNOWN',
      remainingMb: u.is_unlimited ? null : u.remaining,
      totalMb: u.is_unlimited ? null : u.total,
      isUnlimited: u.is_unlimited,
      expiresAt: u.expired_at,
      remainingVoiceMinutes: u.remaining_voice,
      totalVoiceMinutes: u.total_voice,
      remainingTexts: u.remaining_text,
      totalTexts: u.total_text,
    };
  });
