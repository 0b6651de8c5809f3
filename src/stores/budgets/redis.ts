/**
 * Fleet-wide call budgets and 429 blocks in Redis (README "Running several replicas"): every replica's upstream call
 * is one atomic decision of a Lua script, so the upstream's per-ICCID limits hold however many replicas run, and a
 * 429's Retry-After seen by one replica holds for all.
 *
 * Time: scores and blocks are on the callers' clock (`now` argument; replicas' clocks are NTP-synchronised, and the
 * windows are a minute or more). Redis TTLs (PEXPIRE) only clean up: a window's key lives `windowMs` of real time after
 * its latest call, a block's key until the block ends.
 *
 * Redis unavailable (down, hung past the command timeout): each replica decides alone with every limit cut to
 * `fallbackShare` of itself (floor; a limit that cannot be shared, such as history's 1 per 15 min, grants nothing),
 * so `1 / fallbackShare` replicas together stay within the limit. Calls the fleet granted this replica are recorded
 * locally too, so the local decision also counts them; blocks are always recorded locally. Back to Redis at once when
 * it answers again. Known gap: calls other replicas made just before the outage are not counted locally.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { RedisConnections } from '../../platform/redis.ts';
import { MemoryBudgetStore } from './memory.ts';
import type { BudgetStore } from './types.ts';

/**
 * Sliding-window log, one decision. KEYS[1]: sorted set of granted calls (score = call time), KEYS[2]: block (epoch ms
 * string). ARGV: now, limit (-1 = unlimited, only the block applies), windowMs, a member unique to this call.
 * Returns 0 after recording the call at `now`, else the ms until a call may be granted; records nothing then.
 * A call at time t counts while t > now − windowMs (the same edge as the in-process store).
 */
export const ACQUIRE_SCRIPT = `
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local wait = 0
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then wait = blocked - now end
if limit >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  if redis.call('ZCARD', KEYS[1]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    local until_free = window
    if oldest[2] then until_free = tonumber(oldest[2]) + window - now end
    if until_free > wait then wait = until_free end
  end
end
if wait > 0 then return math.ceil(wait) end
if limit >= 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
end
return 0
`;

/**
 * Extends a block, never shortens it. KEYS[1]: block key. ARGV: until (epoch ms), now. The key expires when the
 * block ends (real-time TTL = until − now, at least 1 ms). Returns 1 when the block was extended.
 */
export const BLOCK_SCRIPT = `
local untilMs = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs <= current or untilMs <= now then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', math.max(1, math.ceil(untilMs - now)))
return 1
`;

type BudgetCommands = {
  budgetAcquire(
    calls: string,
    block: string,
    now: number,
    limit: number,
    windowMs: number,
    member: string,
  ): Promise<number>;
  budgetBlock(block: string, until: number, now: number): Promise<number>;
};

/** Key names; the `{…}` hash tag keeps a budget's two keys in one Redis Cluster slot. */
export const budgetKeys = (scope: string, key: string) => ({
  calls: `budget:{${scope}:${key}}:calls`,
  block: `budget:{${scope}:${key}}:block`,
});

export interface RedisBudgetStoreOptions {
  /** Share of each limit this replica may use alone while Redis is unavailable (REDIS_FALLBACK_BUDGET_SHARE). */
  fallbackShare: number;
  logger: Logger;
}

export class RedisBudgetStore implements BudgetStore {
  /** This replica's record: the fallback's decisions, and the calls and blocks the fleet decided for it. */
  readonly local = new MemoryBudgetStore();
  /** Decisions taken locally because Redis was unavailable; for tests and metrics. */
  fallbackDecisions = 0;
  private readonly commands: BudgetCommands;
  private readonly memberPrefix = randomBytes(6).toString('base64url');
  private sequence = 0;
  private fallingBack = false;

  constructor(
    private readonly redis: RedisConnections,
    private readonly options: RedisBudgetStoreOptions,
  ) {
    const command = redis.command as unknown as Partial<BudgetCommands> & typeof redis.command;
    if (typeof command.budgetAcquire !== 'function') {
      command.defineCommand('budgetAcquire', { numberOfKeys: 2, lua: ACQUIRE_SCRIPT });
      command.defineCommand('budgetBlock', { numberOfKeys: 1, lua: BLOCK_SCRIPT });
    }
    this.commands = command as unknown as BudgetCommands;
  }

  async acquire(scope: string, key: string, limit: number, windowMs: number, now: number): Promise<number> {
    if (this.redis.state === 'up') {
      const keys = budgetKeys(scope, key);
      try {
        const wait = await this.commands.budgetAcquire(
          keys.calls,
          keys.block,
          now,
          Number.isFinite(limit) ? limit : -1,
          windowMs,
          `${now}:${this.memberPrefix}:${++this.sequence}`,
        );
        this.recover();
        if (wait === 0) this.local.record(scope, key, limit, windowMs, now);
        return Number(wait);
      } catch (error) {
        this.fallBack(error);
      }
    } else this.fallBack(undefined);
    this.fallbackDecisions++;
    const share = Number.isFinite(limit) ? Math.floor(limit * this.options.fallbackShare) : limit;
    return this.local.acquire(scope, key, share, windowMs, now);
  }

  async block(scope: string, key: string, untilEpochMs: number, now: number): Promise<void> {
    this.local.block(scope, key, untilEpochMs, now);
    if (this.redis.state !== 'up') return this.fallBack(undefined);
    try {
      await this.commands.budgetBlock(budgetKeys(scope, key).block, untilEpochMs, now);
      this.recover();
    } catch (error) {
      this.fallBack(error);
    }
  }

  private fallBack(error: unknown): void {
    if (this.fallingBack) return;
    this.fallingBack = true;
    this.options.logger.warn(
      { redis: 'unavailable', fallbackShare: this.options.fallbackShare, err: errorSummary(error) },
      'call budgets decided locally on a cut share until Redis answers again',
    );
  }

  private recover(): void {
    if (!this.fallingBack) return;
    this.fallingBack = false;
    this.options.logger.info({ redis: 'up' }, 'call budgets decided fleet-wide again');
  }
}

function errorSummary(error: unknown): { name: string; message: string } | undefined {
  return error instanceof Error ? { name: error.name, message: error.message } : undefined;
}
