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
  return commonIsoUtc(value) ?? generalIsoUtc(value);
}

/** `toIsoUtc` for every spelling (exported for the test of its fast path, `commonIsoUtc`). */
export function generalIsoUtc(value: string): string | null {
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

const digit = (text: string, at: number) => {
  const c = text.charCodeAt(at) - 48;
  return c >= 0 && c <= 9 ? c : -100;
};
const pair = (text: string, at: number) => digit(text, at) * 10 + digit(text, at + 1);

/**
 * `toIsoUtc` of the upstream's usual spellings — `YYYY-MM-DD HH:MM:SS`, or with `T`, with or without a trailing `Z` —
 * without regular expressions or parsing, for a date no calendar rule can move (day ≤ 28, hours ≤ 23, years ≥ 1000):
 * exactly what the general path returns for it. Undefined for anything else (the general path decides).
 */
function commonIsoUtc(text: string): string | undefined {
  const length = text.length;
  if (length !== 19 && !(length === 20 && text.charCodeAt(19) === 90)) return undefined; // Z
  const separator = text.charCodeAt(10);
  if (separator !== 32 && separator !== 84) return undefined; // ' ' or T
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return undefined; // -
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined; // :
  const year = pair(text, 0) * 100 + pair(text, 2);
  const month = pair(text, 5);
  const day = pair(text, 8);
  const hours = pair(text, 11);
  const minutes = pair(text, 14);
  const seconds = pair(text, 17);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 28) return undefined;
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59 || seconds < 0 || seconds > 59) return undefined;
  // Every digit checked and no field a calendar rule could move: the ISO form is the same digits, rearranged. Built as
  // one flat string (concatenated slices would keep the upstream's text and rope nodes alive in every cached value),
  // without a Date: this runs for every date of every upstream answer.
  const c = (at: number) => text.charCodeAt(at);
  // biome-ignore format: the 24 characters of YYYY-MM-DDTHH:MM:SS.000Z, one line per half
  return String.fromCharCode(
    c(0), c(1), c(2), c(3), 45, c(5), c(6), 45, c(8), c(9), 84, c(11),
    c(12), 58, c(14), c(15), 58, c(17), c(18), 46, 48, 48, 48, 90,
  );
}

export function fail(ctx: z.RefinementCtx, input: unknown, message: string): never {
  ctx.issues.push({ code: 'custom', message, input });
  return z.NEVER as never;
}

// ---------------------------------------------------------------------------------------------------------------
// Readers: each scalar conversion once, as a plain function. The zod schemas below apply them after their own type
// checks; the fast readers of the hot models (usage, details, top-ups, history) apply them directly, type checks
// included, and answer MISMATCH for anything outside what they accept — zod then decides, and reports the issue.

/** A fast reader's answer for input it does not accept as is: let the zod schema decide. */
export const MISMATCH: unique symbol = Symbol('mismatch');
export type Read<T> = T | typeof MISMATCH;

/** What `z.object` accepts. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON number as `z.number()` accepts it (finite). */
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function readString(v: unknown): Read<string> {
  return typeof v === 'string' ? v : MISMATCH;
}

export function readIdString(v: unknown): Read<string> {
  if (typeof v === 'string') return v.length >= 1 ? v : MISMATCH;
  return isNumber(v) ? String(v) : MISMATCH;
}

export function readOptString(v: unknown): Read<string | null> {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  return isNumber(v) ? String(v) : MISMATCH;
}

export function readOptNumber(v: unknown): Read<number | null> {
  if (v === undefined || v === null) return null;
  if (isNumber(v)) return v;
  if (typeof v !== 'string') return MISMATCH;
  const text = v.trim();
  if (text === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : MISMATCH;
}

export function readOptBoolean(v: unknown): Read<boolean | null> {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v;
  if (!isNumber(v) && typeof v !== 'string') return MISMATCH;
  const s = String(v).trim().toLowerCase();
  if (s === '1' || s === 'true') return true;
  if (s === '0' || s === 'false') return false;
  return MISMATCH;
}

export function readDecimal(v: unknown): Read<string> {
  if (!isNumber(v) && typeof v !== 'string') return MISMATCH;
  try {
    return toDecimalString(v);
  } catch {
    return MISMATCH;
  }
}

export function readOptDecimal(v: unknown): Read<string | null> {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return null;
  return readDecimal(v);
}

/**
 * Dates read, by the upstream's text, each converted once and its ISO string kept once: cached values repeat them
 * (expiry and creation times shared by many SIMs) — with 100k SIMs cached, a copy per value is megabytes and a
 * conversion per value a regular-expression run. Bounded: past the bound new dates are converted and not shared.
 */
const DATES_MAX = 20_000;
const dates = new Map<string, string | null>();

export function readOptDate(v: unknown): Read<string | null> {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') return MISMATCH;
  const known = dates.get(v);
  if (known !== undefined) return known;
  let iso: string | null;
  try {
    iso = toIsoUtc(v);
  } catch {
    return MISMATCH;
  }
  if (dates.size < DATES_MAX) dates.set(v, iso);
  return iso;
}

/** `read` as a zod transform: MISMATCH becomes an issue with `message`. */
const orFail =
  <T>(read: (v: unknown) => Read<T>, message: string) =>
  (v: unknown, ctx: z.RefinementCtx): T => {
    const value = read(v);
    return value === MISMATCH ? fail(ctx, v, message) : value;
  };

// ---------------------------------------------------------------------------------------------------------------
// The zod schemas of the same conversions

export const idString = z.union([z.string().min(1), z.number()]).transform(String);
export const optString = z
  .union([z.string(), z.number(), z.null()])
  .optional()
  .transform((v) => (v === undefined || v === null ? null : String(v)));

export const optNumber = z
  .union([z.number(), z.string(), z.null()])
  .optional()
  .transform(orFail(readOptNumber, 'expected a number'));

export const optBoolean = z
  .union([z.boolean(), z.number(), z.string(), z.null()])
  .optional()
  .transform(orFail(readOptBoolean, 'expected a boolean'));

export const decimal = z.union([z.number(), z.string()]).transform(orFail(readDecimal, 'expected a decimal'));
export const optDecimal = z
  .union([z.number(), z.string(), z.null()])
  .optional()
  .transform(orFail(readOptDecimal, 'expected a decimal'));

export const optDate = z.string().nullish().transform(orFail(readOptDate, 'expected a date'));
export const date = optDate.transform((v, ctx): string => (v === null ? fail(ctx, v, 'expected a date') : v));

// ---------------------------------------------------------------------------------------------------------------
// Envelopes and quirks

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

const zodOnly = new WeakMap<z.ZodType, z.ZodType['safeParse']>();
const readers = new WeakMap<z.ZodType, (input: unknown) => unknown>();

/**
 * `schema` answering `safeParse` and `parse` through `read` first: a payload `read` accepts (the usual one) is
 * normalised without zod's allocations — the same output, by construction (the same readers and transforms) and by
 * test (test/upstream/models-fast.test.ts); anything else goes to zod, which gives the output or the issues.
 */
export function withFastPath<S extends z.ZodType>(schema: S, read: (input: unknown) => Read<z.output<S>>): S {
  const safeParse = schema.safeParse.bind(schema);
  const parse = schema.parse.bind(schema);
  zodOnly.set(schema, safeParse);
  readers.set(schema, read);
  return Object.assign(schema, {
    safeParse: ((input: unknown, params?: unknown) => {
      const value = read(input);
      return value === MISMATCH ? safeParse(input, params as never) : { success: true, data: value };
    }) as S['safeParse'],
    parse: ((input: unknown, params?: unknown) => {
      const value = read(input);
      return value === MISMATCH ? parse(input, params as never) : value;
    }) as S['parse'],
  });
}

/** Test-only: what zod alone answers for a schema given a fast path. */
export function zodSafeParse<S extends z.ZodType>(schema: S, input: unknown): ReturnType<S['safeParse']> {
  const safeParse = zodOnly.get(schema);
  if (!safeParse) throw new Error('no fast path on this schema');
  return safeParse(input) as ReturnType<S['safeParse']>;
}

/** Test-only: what a schema's fast path answers (MISMATCH when it leaves the input to zod). */
export function fastRead<S extends z.ZodType>(schema: S, input: unknown): Read<z.output<S>> {
  const read = readers.get(schema);
  if (!read) throw new Error('no fast path on this schema');
  return read(input) as Read<z.output<S>>;
}

/** A short, body-free summary of what did not match, for UpstreamBadResponseError. */
export function summariseIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  if (error.issues.length > 3) parts.push(`… ${error.issues.length - 3} more`);
  return parts.join('; ');
}
