/**
 * One GraphQL request timed part by part: time to the first response byte, to each part of an incremental (`@defer`)
 * answer as it arrives, and to the end; and what the answer holds — per SIM, whether `usage` came (non-null) or not,
 * and the error codes. Works for a plain JSON answer (one part) and for `multipart/mixed` (Yoga's incremental
 * delivery: parts separated by `--<boundary>`, each a JSON payload with `data`/`incremental` and `hasNext`).
 */
import { request } from 'undici';
import { API_KEY } from './queries.ts';

export interface TimedAnswer {
  status: number;
  ttfbMs: number;
  /** ms from sending to the arrival of each JSON payload (one for a plain answer). */
  partsMs: number[];
  totalMs: number;
  /** SIMs whose `usage` arrived non-null, in the initial data or a deferred part. */
  usageAnswered: number;
  /** `extensions.code` of every error, in every part. */
  errorCodes: string[];
}

export async function timedQuery(url: string, body: string): Promise<TimedAnswer> {
  const started = performance.now();
  const res = await request(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'multipart/mixed, application/graphql-response+json, application/json',
      'x-api-key': API_KEY,
    },
    body,
  });
  const type = String(res.headers['content-type'] ?? '');
  const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
  let ttfbMs = Number.NaN;
  const partsMs: number[] = [];
  const payloads: unknown[] = [];
  let buffer = '';
  for await (const chunk of res.body) {
    const at = performance.now() - started;
    if (Number.isNaN(ttfbMs)) ttfbMs = at;
    buffer += chunk.toString();
    if (!boundary) continue;
    // Every complete part (its JSON ends before the next delimiter) is taken as soon as it is in the buffer.
    for (;;) {
      const start = buffer.indexOf(`--${boundary}`);
      if (start < 0) break;
      const next = buffer.indexOf(`--${boundary}`, start + boundary.length + 2);
      if (next < 0) break;
      const part = buffer.slice(start + boundary.length + 2, next);
      buffer = buffer.slice(next);
      const json = part.slice(part.indexOf('{'), part.lastIndexOf('}') + 1);
      if (json) {
        payloads.push(JSON.parse(json));
        partsMs.push(at);
      }
    }
  }
  const totalMs = performance.now() - started;
  if (!boundary) {
    payloads.push(JSON.parse(buffer));
    partsMs.push(totalMs);
  }
  const usage = new Map<string, boolean>();
  const errorCodes: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record.iccid === 'string' && 'usage' in record)
      usage.set(record.iccid, usage.get(record.iccid) === true || record.usage !== null);
    for (const child of Object.values(record)) if (child && typeof child === 'object') visit(child);
  };
  // A deferred part carries the SIM's fields without its iccid: its path names the SIM's index.
  const deferredUsage = new Set<string>();
  for (const payload of payloads as Array<Record<string, any>>) {
    visit(payload.data);
    for (const error of payload.errors ?? []) errorCodes.push(String(error.extensions?.code ?? 'UNKNOWN'));
    for (const inc of payload.incremental ?? []) {
      for (const error of inc.errors ?? []) errorCodes.push(String(error.extensions?.code ?? 'UNKNOWN'));
      if (inc.data && 'usage' in inc.data && inc.data.usage !== null) deferredUsage.add(JSON.stringify(inc.path));
    }
  }
  const usageAnswered = [...usage.values()].filter(Boolean).length + deferredUsage.size;
  return { status: res.statusCode, ttfbMs, partsMs, totalMs, usageAnswered, errorCodes };
}
