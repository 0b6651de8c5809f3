/**
 * The upstream's rate limits, enforced on the injected clock. Fixed windows, Laravel style (the upstream is a Laravel
 * API): a window starts at the first hit of its key and lasts `windowMs`; a refused request consumes nothing.
 * `SandboxLimits` applies one flavour's `UpstreamLimits` (src/platform/upstream-limits.ts) to a request: every limit of
 * its endpoint and every `all` limit must allow it, else 429 for the limit that frees up last.
 */
import type { Clock } from '../platform/clock.ts';
import type { RateLimit, UpstreamLimits } from '../platform/upstream-limits.ts';
import type { SandboxEndpoint, SandboxFlavour, SandboxResponse } from './types.ts';

export interface LimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** epoch ms when the window ends */
  resetAt: number;
  retryAfterSeconds: number;
}

interface Window {
  count: number;
  resetAt: number;
}

export class FixedWindowLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    readonly limit: number,
    readonly windowMs: number,
  ) {}

  /** What a hit would decide now; records nothing. */
  check(key: string): LimitDecision {
    const now = this.clock.now();
    const window = this.windows.get(key);
    const current = window === undefined || now >= window.resetAt ? { count: 0, resetAt: now + this.windowMs } : window;
    const allowed = current.count < this.limit;
    return {
      allowed,
      limit: this.limit,
      remaining: allowed ? this.limit - current.count - 1 : 0,
      resetAt: current.resetAt,
      retryAfterSeconds: Math.max(1, Math.ceil((current.resetAt - now) / 1000)),
    };
  }

  /** Counts one call (after `check` allowed it). */
  take(key: string): void {
    const now = this.clock.now();
    let window = this.windows.get(key);
    if (window === undefined || now >= window.resetAt) {
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.count++;
  }

  /** check, and take when allowed. */
  hit(key: string): LimitDecision {
    const decision = this.check(key);
    if (decision.allowed) this.take(key);
    return decision;
  }

  clear(): void {
    this.windows.clear();
  }
}

/** Who a request is, for keying its limits. */
export interface LimitSubject {
  flavour: SandboxFlavour;
  endpoint: SandboxEndpoint;
  iccid: string | null;
  /** The partner: the token request's client_id, or the client the bearer token was issued to. */
  clientId: string;
}

interface Rule {
  rule: RateLimit;
  limiter: FixedWindowLimiter;
}

/** A request admitted (with the X-RateLimit-* headers to send) or refused (with the 429 to send). */
export type Admission =
  | { allowed: true; headers: Record<string, string | number> }
  | { allowed: false; response: SandboxResponse };

export class SandboxLimits {
  readonly #rules = new Map<string, Rule[]>();
  readonly #refusals = new Map<string, number>();

  constructor(
    clock: Clock,
    readonly limits: Readonly<Record<SandboxFlavour, UpstreamLimits>>,
  ) {
    const rules = (list: readonly RateLimit[] = []): Rule[] =>
      list.map((rule) => ({ rule, limiter: new FixedWindowLimiter(clock, rule.limit, rule.windowMs) }));
    for (const [flavour, flavourLimits] of Object.entries(limits) as [SandboxFlavour, UpstreamLimits][]) {
      for (const [endpoint, list] of Object.entries(flavourLimits.endpoints))
        this.#rules.set(`${flavour}:${endpoint}`, rules(list));
      this.#rules.set(`${flavour}:*`, rules(flavourLimits.all));
    }
  }

  /**
   * Every limit of the request's endpoint and every `all` limit of its flavour must allow it. Refused: nothing is
   * counted, and the 429 names the refusing limit whose window ends last (an earlier retry would be refused again).
   * Allowed: each limit counts it, and the headers show the limit with the fewest calls left. `null`: nothing limits it.
   */
  admit(subject: LimitSubject): Admission | null {
    const rules = [
      ...(this.#rules.get(`${subject.flavour}:${subject.endpoint}`) ?? []),
      ...(this.#rules.get(`${subject.flavour}:*`) ?? []),
    ];
    if (rules.length === 0) return null;
    const keyed = rules.map(({ rule, limiter }) => {
      const key = rule.scope === 'per-iccid' ? `iccid:${subject.iccid ?? ''}` : `partner:${subject.clientId}`;
      return { limiter, key, decision: limiter.check(key) };
    });
    const refused = keyed.filter((k) => !k.decision.allowed).map((k) => k.decision);
    if (refused.length > 0) {
      const binding = refused.reduce((a, b) => (b.resetAt > a.resetAt ? b : a));
      const counter = `${subject.flavour}:${subject.endpoint}`;
      this.#refusals.set(counter, (this.#refusals.get(counter) ?? 0) + 1);
      return { allowed: false, response: tooManyAttempts(binding) };
    }
    for (const { limiter, key } of keyed) limiter.take(key);
    const tightest = keyed.map((k) => k.decision).reduce((a, b) => (b.remaining < a.remaining ? b : a));
    return { allowed: true, headers: rateLimitHeaders(tightest) };
  }

  /** The 429s these limits answered (not those of `rateLimit` faults), per flavour and endpoint. */
  refusals(): { flavour: SandboxFlavour; endpoint: SandboxEndpoint; count: number }[] {
    return [...this.#refusals].map(([key, count]) => {
      const [flavour, endpoint] = key.split(':') as [SandboxFlavour, SandboxEndpoint];
      return { flavour, endpoint, count };
    });
  }

  clear(): void {
    for (const rules of this.#rules.values()) for (const { limiter } of rules) limiter.clear();
    this.#refusals.clear();
  }
}

export function rateLimitHeaders(decision: LimitDecision): Record<string, string | number> {
  return {
    'X-RateLimit-Limit': decision.limit,
    'X-RateLimit-Remaining': decision.remaining,
  };
}

export const TOO_MANY_ATTEMPTS = '{"message":"Too Many Attempts."}';

export function tooManyAttempts(decision: LimitDecision): SandboxResponse {
  return {
    status: 429,
    headers: {
      'Content-Type': 'application/json',
      'Retry-After': decision.retryAfterSeconds,
      'X-RateLimit-Limit': decision.limit,
      'X-RateLimit-Remaining': 0,
      'X-RateLimit-Reset': Math.ceil(decision.resetAt / 1000),
    },
    body: TOO_MANY_ATTEMPTS,
  };
}

/** Per-ICCID snapshots of the usage body, taken at most `maxAgeMs` ago (the upstream's own cache). */
export class UsageSnapshotCache {
  private readonly snapshots = new Map<string, { takenAt: number; body: string }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxAgeMs: number,
  ) {}

  get(iccid: string, take: () => string): string {
    const now = this.clock.now();
    const hit = this.snapshots.get(iccid);
    if (hit !== undefined && now - hit.takenAt < this.maxAgeMs) return hit.body;
    const body = take();
    this.snapshots.set(iccid, { takenAt: now, body });
    return body;
  }

  /** Drops one SIM's snapshot: its next read is measured afresh. */
  delete(iccid: string): void {
    this.snapshots.delete(iccid);
  }

  clear(): void {
    this.snapshots.clear();
  }
}
