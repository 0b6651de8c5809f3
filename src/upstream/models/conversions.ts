/**
 * What every upstream model shares (README "Architecture": payloads are parsed at the boundary): scalar conversions
 * tolerant of the documented quirks (numbers and booleans as strings, `YYYY-MM-DD HH:MM:SS` dates, MySQL zero dates),
 * the `{data: …}` envelope, the 200-with-not-found-body quirk, pagination meta, and a body-free summary of what did not
 * match. Each helper throws RangeError or adds a zod issue; none echoes upstream text beyond the offending value.
 */
import { z } from 'zod';

export interface Page {
  currentPage: number;
  lastPage: number;
  perPage: number;
  total: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Scalars

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

export function fail(ctx: z.RefinementCtx, input: unknown, message: string): never {
  ctx.issues.push({ code: 'custom', message, input });
  return z.NEVER as never;
}

export const idString = z.union([z.string().min(1), z.number()]).transform(String);
export const optString = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v) => (v === undefined || v === null ? null : String(v)));

export const optNumber = z
  .union([z.number(), z.string(), z.null()])
  .optional()
  .transform((v, ctx): number | null => {
    if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return null;
    const n = typeof v === 'number' ? v : Number(v.trim());
    return Number.isFinite(n) ? n : fail(ctx, v, 'expected a number');
  });

export const optBoolean = z
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

export const decimal = z.union([z.number(), z.string()]).transform((v, ctx): string => {
  try {
    return toDecimalString(v);
  } catch {
    return fail(ctx, v, 'expected a decimal');
  }
});
export const optDecimal = z
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

export const optDate = z
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
export const date = optDate.transform((v, ctx): string => (v === null ? fail(ctx, v, 'expected a date') : v));

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

/** Fields every package object of the upstream carries alike (the top-up list's and the package history's). */
export const packageFields = {
  net_price: optDecimal,
  currency: optString,
  amount: optNumber,
  day: optNumber,
  is_unlimited: optBoolean,
  data: optString,
};

/** `{data: item}` → the item. */
export function dataOf<S extends z.ZodType>(item: S) {
  // The cast only restates what z.object infers for a concrete S; TypeScript cannot resolve it for a generic one.
  return z.object({ data: item }).transform((envelope) => (envelope as { data: z.output<S> }).data);
}

/** `{data: [item…], meta: {current_page, …}}` → items and a Page (meta fields missing are inferred from the request). */
export function pageOf<S extends z.ZodType>(item: S, requested: { limit: number; page: number }) {
  return z
    .object({ data: z.array(item), meta: pageMeta })
    .transform(({ data, meta }) => ({ items: data, page: toPage(meta, requested, data.length) }));
}

/** A short, body-free summary of what did not match, for UpstreamBadResponseError. */
export function summariseIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  if (error.issues.length > 3) parts.push(`… ${error.issues.length - 3} more`);
  return parts.join('; ');
}
