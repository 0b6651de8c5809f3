/**
 * `GET sims/{iccid}/packages` → the packages a SIM has had. Two envelopes, told apart by shape (Airalo `{data: […]}`,
 * PressOne `{success, code, message, data: {data: […]}, timestamp}`); statuses are kept as upper-case strings.
 */
import { z } from 'zod';
import { idString, optDate, optDecimal, optNumber, packageFields } from './conversions.ts';

export type HistoryStatus = string;

export interface HistoryPackage {
  id: string;
  type: 'INITIAL' | 'TOPUP' | 'SIM';
  title: string;
  price: string | null;
  netPrice: string | null;
  currency: string;
  amountMb: number | null;
  validityDays: number | null;
  isUnlimited: boolean | null;
  dataLabel: string | null;
}

export interface HistoryEntry {
  id: string;
  status: HistoryStatus;
  remainingMb: number | null;
  activatedAt: string | null;
  expiresAt: string | null;
  finishedAt: string | null;
  package: HistoryPackage;
}

const historyPackageType = z
  .string()
  .transform((v) => v.trim().toUpperCase())
  .pipe(z.enum(['INITIAL', 'TOPUP', 'SIM']));

const historyEntry = z
  .object({
    id: idString,
    status: z.string(),
    remaining: optNumber,
    activated_at: optDate,
    expired_at: optDate,
    finished_at: optDate,
    package: z.object({
      id: idString,
      type: historyPackageType,
      title: z.string(),
      price: optDecimal,
      ...packageFields,
    }),
  })
  .transform(
    (h): HistoryEntry => ({
      id: h.id,
      status: h.status.trim().toUpperCase(),
      remainingMb: h.package.is_unlimited ? null : h.remaining,
      activatedAt: h.activated_at,
      expiresAt: h.expired_at,
      finishedAt: h.finished_at,
      package: {
        id: h.package.id,
        type: h.package.type,
        title: h.package.title,
        price: h.package.price,
        netPrice: h.package.net_price,
        currency: h.package.currency ?? 'USD',
        amountMb: h.package.is_unlimited ? null : h.package.amount,
        validityDays: h.package.day,
        isUnlimited: h.package.is_unlimited,
        dataLabel: h.package.data,
      },
    }),
  );

/**
 * Both envelopes, told apart by shape: Airalo `{data: [...]}` and PressOne
 * `{success, code, message, data: {data: [...]}, timestamp}`.
 */
export const historyResponseSchema = z
  .object({ data: z.union([z.array(historyEntry), z.object({ data: z.array(historyEntry) })]) })
  .transform(({ data }) => (Array.isArray(data) ? data : data.data));
