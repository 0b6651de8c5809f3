/**
 * Fixed-window rate limits on the injected clock, Laravel style: the window starts at the first hit
 * and lasts `windowMs`; a refused request does not consume the budget.
 */
import type { Clock } from '../platform/clock.ts';
import type { SandboxResponse } from './types.ts';

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

  hit(key: string): LimitDecision {
    const now = this.clock.now();
    let window = this.windows.get(key);
    if (window === undefined || now >= window.resetAt) {
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((window.resetAt - now) / 1000));
    if (window.count >= this.limit) {
      return { allowed: false, limit: this.limit, remaining: 0, resetAt: window.resetAt, retryAfterSeconds };
    }
    window.count++;
    return {
      allowed: true,
      limit: this.limit,
      remaining: this.limit - window.count,
      resetAt: window.resetAt,
      retryAfterSeconds,
    };
  }

  clear(): void {
    this.windows.clear();
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
