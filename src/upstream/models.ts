/**
 * Upstream payloads are parsed here, at the boundary, and leave as the normalised types below: GraphQL never sees a
 * raw payload. The schemas are tolerant of the documented quirks (numbers as strings, typo'd `meta.message`, extra
 * fields such as `pricing`/`prices`, two package-history envelopes) and strict about what the gateway relies on.
 */
import { z } from 'zod';

export type SimStatus = 'NOT_ACTIVE' | 'ACTIVE' | 'FINISHED' | 'EXPIRED' | 'RECYCLED' | 'UNKNOWN';
export interface Balance { amount: string; currency: string }
export interface InitialOrder {
  id: string; code: string | null; packageId: string | null; packageTitle: string | null; validityDays: number | null;
  price: string | null; currency: string | null; dataLabel: string | null; status: string | null;
}
export interface SimDetails {
  id: string; iccid: string; createdAt: string | null; lpa: string | null; matchingId: string | null; qrCode: string | null;
  qrCodeUrl: string | null; appleInstallUrl: string | null; apnType: string | null; apnValue: string | null;
  isRoaming: boolean | null; recycled: boolean; recycledAt: string | null; voucherCode: string | null;
  confirmationCode: string | null; brandSettingsName: string | null;
  /** The order that created the eSIM (`simable` upstream). */
  initialOrder: InitialOrder | null;
}
export interface Usage {
  status: SimStatus;
  /** null when the package is unlimited (the upstream then sends 0s that mean nothing). */
  remainingMb: number | null; totalMb: number | null; isUnlimited: boolean | null; expiresAt: string | null;
  remainingVoiceMinutes: number | null; totalVoiceMinutes: number | null; remainingTexts: number | null; totalTexts: number | null;
}
export interface TopupPackage {
  id: string; type: string; title: string; price: string; netPrice: string | null; currency: string; amountMb: number | null;
  validityDays: number | null; isUnlimited: boolean; dataLabel: string | null; shortInfo: string | null;
  voiceMinutes: number | null; texts: number | null;
}
export type HistoryStatus = string;
export interface HistoryPackage {
  id: string; type: 'INITIAL' | 'TOPUP' | 'SIM'; title: string; price: string | null; netPrice: string | null; currency: string;
  amountMb: number | null; validityDays: number | null; isUnlimited: boolean | null; dataLabel: string | null;
}
export interface HistoryEntry {
  id: string; status: HistoryStatus; remainingMb: number | null; activatedAt: string | null; expiresAt: string | null;
  finishedAt: string | null; package: HistoryPackage;
}
export interface TopupOrder {
  id: string; code: string; packageId: string; title: string | null; price: string; netPrice: string | null; currency: string;
  createdAt: string; description: string | null; iccid: string | null; validityDays: number | null; dataLabel: string | null;
}
export interface Page { currentPage: number; lastPage: number; perPage: number; total: number }

// ---------------------------------------------------------------------------------------------------------------
// Scalar conversions

/** Expands `1e-7` / `1.5e+21` into positional notation without going through floating-point arithmetic. */
function expandExponent(text: string): string {
  const m = /^([+-]?)(\d+)(?:\.(\d*))?e([+-]?\d+)$/i.exec(text);
  if (!m) return text;
  const [, sign = '', int = '', frac = '', exp = '0'] = m;
  const digits = int + frac;
  const point = int.length + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * A decimal string with at least two fraction digits, from a JSON number or a numeric string, without float
 * artefacts: 10 → "10.00", 22.5 → "22.50", "9.50" → "9.50", 4.125 → "4.125". Throws RangeError on anything else.
 */
export function toDecimalString(value: number | string): string {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError('not a finite number');
    text = expandExponent(String(value)); // String() yields the shortest round-trip representation
  } else {
    text = expandExponent(value.trim());
  }
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || ((m[2] ?? '') === '' && (m[3] ?? '') === '')) throw new RangeError('not a decimal');
  const int = (m[2] || '0').replace(/^0+(?=\d)/, '');
  const frac = (m[3] ?? '').padEnd(2, '0');
  const unsigned = `${int}.${frac}`;
  return m[1] === '-' && /[1-9]/.test(unsigned) ? `-${unsigned}` : unsigned;
}

/**
 * ISO-8601 UTC (`…Z`) from the upstream's `YYYY-MM-DD HH:MM:SS` (UTC by contract), an ISO string with or without
 * offset, or a bare date. Empty and MySQL zero dates become null. Throws RangeError on anything else.
 */
export function toIsoUtc(value: string): string | null {
  const text = value.trim();
  if (text === '' || text.startsWith('0000-00-00')) return null;
  let iso: string;
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) iso = `${text}T00:00:00Z`;
  else if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) iso = `${text.replace(' ', 'T')}Z`;
  else if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s?(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text)) {
    iso = text
      .replace(' ', 'T')
      .replace(/\s(?=[Zz+-])/, '')
      .replace(/([+-]\d{2})(\d{2})$/, '$1:$2')
      .replace(/([+-]\d{2})$/, '$1:00');
  } else throw new RangeError('not an ISO-8601 date');
  const epoch = Date.parse(iso);
  if (Number.isNaN(epoch)) throw new RangeError('not a valid date');
  return new Date(epoch).toISOString();
}

function fail(ctx: z.RefinementCtx, input: unknown, message: string): never {
  ctx.issues.push({ code: 'custom', message, input });
  return z.NEVER as never;
}

const idString = z.union([z.string().min(1), z.number()]).transform(String);
const optString = z.union([z.string(), z.number(), z.null()]).optional().transform((v) => (v === undefined || v === null ? null : String(v)));
const optUpper = optString.transform((v) => (v === null ? null : v.toUpperCase()));

const optNumber = z
  .union([z.number(), z.string(), z.null()])
  .optional()
  .transform((v, ctx): number | null => {
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return null;
    const n = typeof v === 'number' ? v : Number(v.trim());
    return Number.isFinite(n) ? n : fail(ctx, v, 'expected a number');
  });
const number = z.union([z.number(), z.string()]).transform((v, ctx): number => {
  const n = typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v.trim());
  return Number.isFinite(n) ? n : fail(ctx, v, 'expected a number');
});

const optBoolean = z
  .union([z.boolean(), z.number(), z.string(), z.null()])
  .optional()
  .transform((v, ctx): boolean | null => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'boolean') return v;
    const s = String(v).trim().toLowerCase();
    if (s === '1' || s === 'true') return true;
    if (s === '0' || s === 'false') return false;
    return fail(ctx, v, 'expected a boolean');
  });

const decimal = z.union([z.number(), z.string()]).transform((v, ctx): string => {
  try {
    return toDecimalString(v);
  } catch {
    return fail(ctx, v, 'expected a decimal');
  }
});
const optDecimal = z
  .union([z.number(), z.string(), z.null()])
  .optional()
  .transform((v, ctx): string | null => {
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return null;
    try {
      return toDecimalString(v);
    } catch {
      return fail(ctx, v, 'expected a decimal');
    }
  });

const optDate = z
  .string()
  .nullish()
  .transform((v, ctx): string | null => {
    if (v === undefined || v === null) return null;
    try {
      return toIsoUtc(v);
    } catch {
      return fail(ctx, v, 'expected a date');
    }
  });
const date = optDate.transform((v, ctx): string => (v === null ? fail(ctx, v, 'expected a date') : v));

// ---------------------------------------------------------------------------------------------------------------
// Envelopes and quirks

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The not-found body `{"data": [], "meta": {"message": "messages.resource_not_found"}}`, which the top-up list (and
 * package history) may send with status 200. Matched loosely: empty `data` plus a message mentioning "not found".
 */
export function isNotFoundBody(body: unknown): boolean {
  if (!isRecord(body) || !Array.isArray(body.data) || body.data.length !== 0 || !isRecord(body.meta)) return false;
  const message = body.meta.message;
  return typeof message === 'string' && /not[\s_.-]?found/i.test(message);
}

const pageMeta = z
  .object({ current_page: optNumber, last_page: optNumber, per_page: optNumber, total: optNumber })
  .partial()
  .nullish();

function toPage(meta: z.output<typeof pageMeta>, requested: { limit: number; page: number }, itemCount: number): Page {
  const currentPage = meta?.current_page ?? requested.page;
  return {
    currentPage,
    lastPage: meta?.last_page ?? currentPage,
    perPage: meta?.per_page ?? requested.limit,
    total: meta?.total ?? (currentPage - 1) * requested.limit + itemCount,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Token and balance

export const tokenResponseSchema = z
  .object({ data: z.object({ access_token: z.string().min(1), expires_in: optNumber, token_type: optString }) })
  .transform(({ data }) => ({ accessToken: data.access_token, expiresInSeconds: data.expires_in }));

const balanceEntry = z.object({
  name: optString,
  availableBalance: z.object({ amount: decimal, currency: z.string().min(1) }),
});

/**
 * `balances` is one object in every example although the prose speaks of an array (empty when there is no account).
 * No entry is a contract violation, never a zero: reporting `0.00 USD` for a balance the upstream did not send would
 * tell a partner their account is empty.
 */
export const balanceResponseSchema = z
  .object({ data: z.object({ balances: z.union([balanceEntry, z.array(balanceEntry)]) }) })
  .transform(({ data }, ctx): Balance => {
    const entries = Array.isArray(data.balances) ? data.balances : [data.balances];
    const entry = entries.find((e) => e.name === 'balance') ?? entries[0];
    if (!entry) return fail(ctx, data.balances, 'no balance entry');
    return { amount: entry.availableBalance.amount, currency: entry.availableBalance.currency };
  });

// ---------------------------------------------------------------------------------------------------------------
// eSIMs

const orderStatus = z
  .union([z.string(), z.object({ slug: optString, name: optString }), z.null()])
  .optional()
  .transform((v) => {
    if (v === undefined || v === null) return null;
    const text = typeof v === 'string' ? v : (v.slug ?? v.name);
    return text ? text.toUpperCase() : null;
  });

const simable = z
  .object({
    id: idString,
    code: optString,
    package_id: optString,
    package: optString,
    validity: optNumber,
    price: optDecimal,
    currency: optString,
    data: optString,
    status: orderStatus,
  })
  .transform(
    (o): InitialOrder => ({
      id: o.id,
      code: o.code,
      packageId: o.package_id,
      packageTitle: o.package,
      validityDays: o.validity,
      price: o.price,
      currency: o.currency,
      dataLabel: o.data,
      status: o.status,
    }),
  );

export const simSchema = z
  .object({
    id: idString,
    iccid: idString,
    created_at: optDate,
    lpa: optString,
    matching_id: optString,
    qrcode: optString,
    qrcode_url: optString,
    direct_apple_installation_url: optString,
    apn_type: optString,
    apn_value: optString,
    is_roaming: optBoolean,
    recycled: optBoolean,
    recycled_at: optDate,
    voucher_code: optString,
    confirmation_code: optString,
    brand_settings_name: optString,
    simable: simable.nullish(),
  })
  .transform(
    (s): SimDetails => ({
      id: s.id,
      iccid: s.iccid,
      createdAt: s.created_at,
      lpa: s.lpa,
      matchingId: s.matching_id,
      qrCode: s.qrcode,
      qrCodeUrl: s.qrcode_url,
      appleInstallUrl: s.direct_apple_installation_url,
      apnType: s.apn_type,
      apnValue: s.apn_value,
      isRoaming: s.is_roaming,
      recycled: s.recycled ?? false,
      recycledAt: s.recycled_at,
      voucherCode: s.voucher_code,
      confirmationCode: s.confirmation_code,
      brandSettingsName: s.brand_settings_name,
      initialOrder: s.simable ?? null,
    }),
  );

export const simResponseSchema = z.object({ data: simSchema }).transform(({ data }) => data);

export function simListResponseSchema(requested: { limit: number; page: number }) {
  return z
    .object({ data: z.array(simSchema), meta: pageMeta })
    .transform(({ data, meta }) => ({ items: data, page: toPage(meta, requested, data.length) }));
}

// ---------------------------------------------------------------------------------------------------------------
// Usage

const simStatuses: ReadonlySet<string> = new Set<SimStatus>(['NOT_ACTIVE', 'ACTIVE', 'FINISHED', 'EXPIRED', 'RECYCLED', 'UNKNOWN']);

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
    const status = (u.status ?? '').trim().toUpperCase().replace(/[\s-]+/g, '_');
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

// ---------------------------------------------------------------------------------------------------------------
// Top-up packages and package history

const topupPackage = z
  .object({
    id: idString,
    type: optString,
    title: z.string(),
    price: decimal,
    net_price: optDecimal,
    currency: optString,
    amount: optNumber,
    day: optNumber,
    is_unlimited: optBoolean,
    data: optString,
    short_info: optString,
    voice: optNumber,
    text: optNumber,
  })
  .transform((p): TopupPackage => {
    const isUnlimited = p.is_unlimited ?? false;
    return {
      id: p.id,
      type: p.type ?? 'topup',
      title: p.title,
      price: p.price,
      netPrice: p.net_price,
      currency: p.currency ?? 'USD',
      amountMb: isUnlimited ? null : p.amount,
      validityDays: p.day,
      isUnlimited,
      dataLabel: p.data,
      shortInfo: p.short_info,
      voiceMinutes: p.voice,
      texts: p.text,
    };
  });

export const topupsResponseSchema = z.object({ data: z.array(topupPackage) }).transform(({ data }) => data);

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
      net_price: optDecimal,
      currency: optString,
      amount: optNumber,
      day: optNumber,
      is_unlimited: optBoolean,
      data: optString,
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

// ---------------------------------------------------------------------------------------------------------------
// Orders

const topupOrder = z
  .object({
    id: idString,
    code: idString,
    package_id: idString,
    package: optString,
    price: decimal,
    net_price: optDecimal,
    currency: optString,
    created_at: date,
    description: optString,
    iccid: optString,
    sims: z.array(z.object({ iccid: idString })).nullish(),
    validity: optNumber,
    data: optString,
  })
  .transform(
    (o): TopupOrder => ({
      id: o.id,
      code: o.code,
      packageId: o.package_id,
      title: o.package,
      price: o.price,
      netPrice: o.net_price,
      currency: o.currency ?? 'USD',
      createdAt: o.created_at,
      description: o.description,
      iccid: o.iccid ?? o.sims?.[0]?.iccid ?? null,
      validityDays: o.validity,
      dataLabel: o.data,
    }),
  );

export const orderResponseSchema = z.object({ data: topupOrder }).transform(({ data }) => data);

export function orderListResponseSchema(requested: { limit: number; page: number }) {
  return z
    .object({ data: z.array(topupOrder), meta: pageMeta })
    .transform(({ data, meta }) => ({ items: data, page: toPage(meta, requested, data.length) }));
}

/** A short, body-free summary of what did not match, for UpstreamBadResponseError. */
export function summariseIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  if (error.issues.length > 3) parts.push(`… ${error.issues.length - 3} more`);
  return parts.join('; ');
}
