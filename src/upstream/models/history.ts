/**
 * `GET sims/{iccid}/packages` → the packages a SIM has had. Two envelopes, told apart by shape (Airalo `{data: […]}`,
 * PressOne `{success, code, message, data: {data: […]}, timestamp}`); statuses are kept as upper-case strings.
 */
import { z } from 'zod';
import {
  idString,
  isRecord,
  MISMATCH,
  optDate,
  optDecimal,
  optNumber,
  packageFields,
  type Read,
  readIdString,
  readOptBoolean,
  readOptDate,
  readOptDecimal,
  readOptNumber,
  readOptString,
  readString,
  withFastPath,
} from './conversions.ts';

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

const PACKAGE_TYPES = ['INITIAL', 'TOPUP', 'SIM'] as const;
const packageTypes: ReadonlySet<string> = new Set(PACKAGE_TYPES);

const historyPackageType = z
  .string()
  .transform((v) => v.trim().toUpperCase())
  .pipe(z.enum(PACKAGE_TYPES));

interface HistoryFields {
  id: string;
  status: string;
  remaining: number | null;
  activated_at: string | null;
  expired_at: string | null;
  finished_at: string | null;
  package: {
    id: string;
    type: HistoryPackage['type'];
    title: string;
    price: string | null;
    net_price: string | null;
    currency: string | null;
    amount: number | null;
    day: number | null;
    is_unlimited: boolean | null;
    data: string | null;
  };
}

const toHistoryEntry = (h: HistoryFields): HistoryEntry => ({
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
});

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
  .transform(toHistoryEntry);

// ---- the fast path (see `withFastPath`): the same readers and transform, without zod's allocations ----

function readPackage(v: unknown): Read<HistoryFields['package']> {
  if (!isRecord(v)) return MISMATCH;
  const rawType = v.type;
  const type = typeof rawType === 'string' ? rawType.trim().toUpperCase() : '';
  if (!packageTypes.has(type)) return MISMATCH;
  const fields = {
    id: readIdString(v.id),
    type: type as HistoryPackage['type'],
    title: readString(v.title),
    price: readOptDecimal(v.price),
    net_price: readOptDecimal(v.net_price),
    currency: readOptString(v.currency),
    amount: readOptNumber(v.amount),
    day: readOptNumber(v.day),
    is_unlimited: readOptBoolean(v.is_unlimited),
    data: readOptString(v.data),
  };
  for (const key in fields) if (fields[key as keyof typeof fields] === MISMATCH) return MISMATCH;
  return fields as HistoryFields['package'];
}

function readEntries(items: unknown[]): Read<HistoryEntry[]> {
  const entries: HistoryEntry[] = [];
  for (const item of items) {
    if (!isRecord(item)) return MISMATCH;
    const fields = {
      id: readIdString(item.id),
      status: readString(item.status),
      remaining: readOptNumber(item.remaining),
      activated_at: readOptDate(item.activated_at),
      expired_at: readOptDate(item.expired_at),
      finished_at: readOptDate(item.finished_at),
      package: readPackage(item.package),
    };
    for (const key in fields) if (fields[key as keyof typeof fields] === MISMATCH) return MISMATCH;
    entries.push(toHistoryEntry(fields as HistoryFields));
  }
  return entries;
}

function readHistory(json: unknown): Read<HistoryEntry[]> {
  if (!isRecord(json)) return MISMATCH;
  const data = json.data;
  if (Array.isArray(data)) return readEntries(data);
  return isRecord(data) && Array.isArray(data.data) ? readEntries(data.data) : MISMATCH;
}

/**
 * Both envelopes, told apart by shape: Airalo `{data: [...]}` and PressOne
 * `{success, code, message, data: {data: [...]}, timestamp}`.
 */
export const historyResponseSchema = withFastPath(
  z
    .object({ data: z.union([z.array(historyEntry), z.object({ data: z.array(historyEntry) })]) })
    .transform(({ data }) => (Array.isArray(data) ? data : data.data)),
  readHistory,
);
