/**
 * Fault injection: rules scoped by endpoint and ICCID, applied in the order they were added.
 * Latency adds up over all matching rules (before processing, or after it for `afterProcessing` rules); the first
 * matching rule with a terminal effect (hang, reset, 5xx, 429, 4xx, malformed JSON, incomplete body, oversize or
 * trickling body, empty balances) decides what happens to the response,
 * and whether that happens instead of processing the request or after it (its `afterProcessing`).
 */
import type { Clock } from '../platform/clock.ts';
import { TOO_MANY_ATTEMPTS } from './limits.ts';
import { createRandom, type Random } from './prng.ts';
import type { FaultRule, SandboxEndpoint, SandboxResponse } from './types.ts';

export type FaultAction =
  | { kind: 'hang' }
  | { kind: 'reset'; when: 'after-headers' | 'mid-body' }
  | { kind: 'respond'; response: SandboxResponse }
  | { kind: 'malformed' }
  | { kind: 'oversize'; bytes: number; chunked: boolean }
  | { kind: 'trickle'; intervalMs: number; bytesPerTick: number }
  | { kind: 'incomplete' };

export interface FaultPlan {
  /** Real time to wait before the request is processed. */
  delayMs: number;
  /** Real time to wait after the request was processed, before answering (from `afterProcessing` rules). */
  delayAfterMs: number;
  action: FaultAction | null;
  /**
   * The action replaces the processed answer: the handler runs first (an order is placed) and its answer is dropped
   * (hang, respond) or mangled (reset, malformed, incomplete). Always true for those three, which need that answer.
   */
  actionAfterProcessing: boolean;
}

const NO_FAULT: FaultPlan = { delayMs: 0, delayAfterMs: 0, action: null, actionAfterProcessing: false };

interface ActiveRule {
  id: string;
  rule: FaultRule;
  remaining: number | undefined;
}

export function validateFaultRule(rule: unknown): FaultRule {
  if (rule === null || typeof rule !== 'object' || Array.isArray(rule))
    throw new TypeError('a fault rule is an object');
  const r = rule as FaultRule;
  const statuses = [500, 502, 503, 504];
  if (r.errorStatus !== undefined && !statuses.includes(r.errorStatus))
    throw new TypeError('errorStatus must be 500, 502, 503 or 504');
  if (r.errorRate !== undefined && !(r.errorRate >= 0 && r.errorRate <= 1))
    throw new TypeError('errorRate must be within 0..1');
  if (r.reset !== undefined && r.reset !== 'after-headers' && r.reset !== 'mid-body')
    throw new TypeError('reset must be after-headers or mid-body');
  if (
    r.rateLimit !== undefined &&
    !(typeof r.rateLimit.retryAfterSeconds === 'number' && r.rateLimit.retryAfterSeconds >= 0)
  ) {
    throw new TypeError('rateLimit.retryAfterSeconds must be a number ≥ 0');
  }
  if (r.times !== undefined && !(Number.isInteger(r.times) && r.times > 0))
    throw new TypeError('times must be a positive integer');
  if (r.afterProcessing !== undefined && typeof r.afterProcessing !== 'boolean')
    throw new TypeError('afterProcessing must be a boolean');
  if (r.oversizeBody !== undefined && !(Number.isInteger(r.oversizeBody?.bytes) && r.oversizeBody.bytes > 0)) {
    throw new TypeError('oversizeBody.bytes must be a positive integer');
  }
  if (r.trickleBody !== undefined) {
    const { intervalMs, bytesPerTick = 1 } = r.trickleBody ?? ({} as { intervalMs?: number; bytesPerTick?: number });
    if (!(typeof intervalMs === 'number' && intervalMs > 0) || !(Number.isInteger(bytesPerTick) && bytesPerTick > 0)) {
      throw new TypeError('trickleBody needs intervalMs > 0 and an integer bytesPerTick > 0');
    }
  }
  if (r.emptyBalances !== undefined && typeof r.emptyBalances !== 'boolean')
    throw new TypeError('emptyBalances must be a boolean');
  if (
    r.rejectWith !== undefined &&
    !(Number.isInteger(r.rejectWith?.status) && r.rejectWith.status >= 400 && r.rejectWith.status <= 499)
  ) {
    throw new TypeError('rejectWith.status must be a 4xx status');
  }
  if (r.incompleteBody !== undefined && typeof r.incompleteBody !== 'boolean')
    throw new TypeError('incompleteBody must be a boolean');
  return { ...r };
}

export function serverErrorResponse(status: 500 | 502 | 503 | 504): SandboxResponse {
  if (status === 502 || status === 504) {
    const title = status === 502 ? '502 Bad Gateway' : '504 Gateway Time-out';
    return {
      status,
      headers: { 'Content-Type': 'text/html' },
      body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
    };
  }
  const message = status === 500 ? 'Server Error' : 'Service Unavailable';
  return { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ message }) };
}

export class FaultRegistry {
  private rules: ActiveRule[] = [];
  private nextId = 1;
  private random: Random;

  constructor(
    private readonly clock: Clock,
    private readonly seed: number,
  ) {
    this.random = createRandom(seed ^ 0x5eed);
  }

  add(rule: FaultRule): string {
    const valid = validateFaultRule(rule);
    const id = `fault-${this.nextId++}`;
    this.rules.push({ id, rule: valid, remaining: valid.times });
    return id;
  }

  remove(id: string): void {
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  clear(): void {
    this.rules = [];
    this.random = createRandom(this.seed ^ 0x5eed);
  }

  list(): Array<{ id: string; rule: FaultRule; remaining: number | undefined }> {
    return this.rules.map((r) => ({ ...r, rule: { ...r.rule } }));
  }

  plan(endpoint: SandboxEndpoint, iccid: string | null): FaultPlan {
    if (this.rules.length === 0) return NO_FAULT;
    let delayMs = 0;
    let delayAfterMs = 0;
    let action: FaultAction | null = null;
    let actionAfterProcessing = false;
    let spent = false;
    for (const active of this.rules) {
      const { rule } = active;
      if (rule.endpoint !== undefined && rule.endpoint !== endpoint) continue;
      if (rule.iccid !== undefined && rule.iccid !== iccid) continue;
      if (active.remaining !== undefined) {
        active.remaining--;
        if (active.remaining <= 0) spent = true;
      }
      const latency = (rule.latencyMs ?? 0) + (rule.jitterMs ? Math.floor(this.random() * rule.jitterMs) : 0);
      if (rule.afterProcessing) delayAfterMs += latency;
      else delayMs += latency;
      if (action === null) {
        action = this.actionOf(rule);
        actionAfterProcessing =
          action !== null &&
          (rule.afterProcessing === true ||
            action.kind === 'reset' ||
            action.kind === 'malformed' ||
            action.kind === 'incomplete' ||
            action.kind === 'oversize' ||
            action.kind === 'trickle');
      }
    }
    if (spent) this.rules = this.rules.filter((r) => r.remaining === undefined || r.remaining > 0);
    return { delayMs, delayAfterMs, action, actionAfterProcessing };
  }

  private actionOf(rule: FaultRule): FaultAction | null {
    if (rule.hang) return { kind: 'hang' };
    if (rule.reset) return { kind: 'reset', when: rule.reset };
    if (rule.errorStatus !== undefined) {
      const rate = rule.errorRate ?? 1;
      if (rate >= 1 || this.random() < rate)
        return { kind: 'respond', response: serverErrorResponse(rule.errorStatus) };
    }
    if (rule.rateLimit) {
      const seconds = rule.rateLimit.retryAfterSeconds;
      const now = this.clock.now();
      return {
        kind: 'respond',
        response: {
          status: 429,
          headers: {
            'Content-Type': 'application/json',
            'Retry-After': rule.rateLimit.asHttpDate ? new Date(now + seconds * 1000).toUTCString() : seconds,
            'X-RateLimit-Limit': 60,
            'X-RateLimit-Remaining': 0,
            'X-RateLimit-Reset': Math.ceil((now + seconds * 1000) / 1000),
          },
          body: TOO_MANY_ATTEMPTS,
        },
      };
    }
    if (rule.rejectWith) {
      const { status, body } = rule.rejectWith;
      return {
        kind: 'respond',
        response: { status, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body ?? null) },
      };
    }
    if (rule.emptyBalances) {
      const body = JSON.stringify({ data: { balances: [] }, meta: { message: 'success' } });
      return { kind: 'respond', response: { status: 200, headers: { 'Content-Type': 'application/json' }, body } };
    }
    if (rule.malformedJson) return { kind: 'malformed' };
    if (rule.oversizeBody)
      return { kind: 'oversize', bytes: rule.oversizeBody.bytes, chunked: rule.oversizeBody.chunked === true };
    if (rule.trickleBody)
      return {
        kind: 'trickle',
        intervalMs: rule.trickleBody.intervalMs,
        bytesPerTick: rule.trickleBody.bytesPerTick ?? 1,
      };
    if (rule.incompleteBody) return { kind: 'incomplete' };
    return null;
  }
}
