/** limit/page pagination with Laravel's `links` + `meta`. */
import { invalid } from '../http-io.ts';
import type { SandboxResponse } from '../types.ts';
import type { RequestContext } from './context.ts';

const DEFAULT_LIMIT = 15;

export interface Page<T> {
  items: T[];
  links: Record<string, string | null>;
  meta: Record<string, unknown>;
}

function positiveInt(raw: string | null, fallback: number): number | null {
  if (raw === null || raw === '') return fallback;
  return /^\d+$/.test(raw) && Number(raw) >= 1 ? Number(raw) : null;
}

/** The page of `all`, or a 422 when `limit` / `page` are not integers. */
export function paginate<T>(ctx: RequestContext, all: T[]): Page<T> | SandboxResponse {
  const limit = positiveInt(ctx.query.get('limit'), DEFAULT_LIMIT);
  const page = positiveInt(ctx.query.get('page'), 1);
  if (limit === null) return invalid({ limit: 'The limit must be an integer.' });
  if (page === null) return invalid({ page: 'The page must be an integer.' });
  const total = all.length;
  const lastPage = Math.max(1, Math.ceil(total / limit));
  const offset = (page - 1) * limit;
  const items = all.slice(offset, offset + limit);
  const path = `${ctx.origin}${ctx.path}`;
  const pageUrl = (n: number): string => {
    const params = new URLSearchParams(ctx.query);
    params.delete('page');
    params.set('page', String(n));
    return `${path}?${params.toString()}`;
  };
  return {
    items,
    links: {
      first: pageUrl(1),
      last: pageUrl(lastPage),
      prev: page > 1 ? pageUrl(page - 1) : null,
      next: page < lastPage ? pageUrl(page + 1) : null,
    },
    meta: {
      message: 'success',
      current_page: page,
      from: items.length > 0 ? offset + 1 : null,
      last_page: lastPage,
      path,
      per_page: String(limit),
      to: items.length > 0 ? offset + items.length : null,
      total,
    },
  };
}

export function includes(ctx: RequestContext): Set<string> {
  const raw = ctx.query.get('include');
  return new Set(raw ? raw.split(',').map((s) => s.trim()) : []);
}

/** `filter[created_at]` = "Y-m-d - Y-m-d" → [start, end] epoch ms, or null when absent / unreadable. */
export function createdAtRange(ctx: RequestContext): [number, number] | null {
  const raw = ctx.query.get('filter[created_at]');
  if (!raw) return null;
  const [from, to] = raw.split(' - ').map((s) => s.trim());
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to ?? from}T23:59:59Z`);
  return Number.isNaN(start) || Number.isNaN(end) ? null : [start, end + 999];
}
