/**
 * Fleet-wide call budgets and 429 blocks in Redis (README "Running several replicas"): every replica's upstream call
 * is one atomic decision of a Lua script — over all the budgets of its endpoint at once (ACQUIRE_ALL_SCRIPT) — so the
 * upstream's per-ICCID and partner-wide limits hold however many replicas run, and a 429's Retry-After seen by one
 * replica holds for all.
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
import type { BudgetRequest, BudgetState, BudgetStore } from './types.ts';

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
 * Several budgets, one decision (an endpoint's per-ICCID and partner-wide limits together): every budget is checked
 * as ACQUIRE_SCRIPT checks one, and the call is recorded in all of them only when all allow it. KEYS: the calls and
 * block key of each budget, in turn. ARGV: now, a member unique to this call (empty: only inspect, record nothing),
 * then limit (-1 = unlimited) and windowMs of each budget. Returns 0 when granted and recorded; otherwise the state:
 * the wait of each budget (ms, 0 = it has room), then per budget the number of calls in its window followed by their
 * times, oldest first. All keys in one script: a single Redis (or a Cluster slot), as the whole gateway assumes.
 */
export const ACQUIRE_ALL_SCRIPT = `
local now = tonumber(ARGV[1])
local member = ARGV[2]
local n = #KEYS / 2
local waits = {}
local denied = false
for i = 1, n do
  local calls = KEYS[2 * i - 1]
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  local wait = 0
  local blocked = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  if blocked > now then wait = blocked - now end
  if limit >= 0 then
    redis.call('ZREMRANGEBYSCORE', calls, '-inf', now - window)
    if limit < 1 then
      if window > wait then wait = window end
    else
      local count = redis.call('ZCARD', calls)
      if count >= limit then
        local edge = redis.call('ZRANGE', calls, count - limit, count - limit, 'WITHSCORES')
        local free = tonumber(edge[2]) + window - now
        if free > wait then wait = free end
      end
    end
  end
  waits[i] = math.ceil(wait)
  if wait > 0 then denied = true end
end
if member ~= '' and not denied then
  for i = 1, n do
    if tonumber(ARGV[1 + 2 * i]) >= 0 then
      redis.call('ZADD', KEYS[2 * i - 1], now, member)
      redis.call('PEXPIRE', KEYS[2 * i - 1], tonumber(ARGV[2 + 2 * i]))
    end
  end
  return 0
end
local out = {}
for i = 1, n do out[#out + 1] = waits[i] end
for i = 1, n do
  if tonumber(ARGV[1 + 2 * i]) >= 0 then
    local log = redis.call('ZRANGE', KEYS[2 * i - 1], 0, -1, 'WITHSCORES')
    out[#out + 1] = #log / 2
    for j = 2, #log, 2 do out[#out + 1] = tonumber(log[j]) end
  else
    out[#out + 1] = 0
  end
end
return out
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
  /** ACQUIRE_ALL_SCRIPT: the number of keys first (it varies with the budgets asked). */
  budgetAcquireAll(numberOfKeys: number, ...keysThenArgs: (string | number)[]): Promise<0 | number[]>;
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
      command.defineCommand('budgetAcquireAll', { lua: ACQUIRE_ALL_SCRIPT });
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

  acquireAll(requests: readonly BudgetRequest[], now: number): Promise<0 | BudgetState> {
    return this.decideAll(requests, now, `${now}:${this.memberPrefix}:${++this.sequence}`);
  }

  inspect(requests: readonly BudgetRequest[], now: number): Promise<BudgetState> {
    return this.decideAll(requests, now, '') as Promise<BudgetState>;
  }

  /** ACQUIRE_ALL_SCRIPT (`member` empty: inspect only); the local store on the cut share while Redis is unavailable. */
  private async decideAll(requests: readonly BudgetRequest[], now: number, member: string): Promise<0 | BudgetState> {
    if (this.redis.state === 'up') {
      const keys: string[] = [];
      const args: (string | number)[] = [now, member];
      for (const r of requests) {
        const k = budgetKeys(r.scope, r.key);
        keys.push(k.calls, k.block);
        args.push(Number.isFinite(r.limit) ? r.limit : -1, r.windowMs);
      }
      try {
        const result = await this.commands.budgetAcquireAll(keys.length, ...keys, ...args);
        this.recover();
        if (result === 0 || (result as unknown) === '0') {
          for (const r of requests) this.local.record(r.scope, r.key, r.limit, r.windowMs, now);
          return 0;
        }
        return parseState(result as number[], requests.length);
      } catch (error) {
        this.fallBack(error);
      }
    } else this.fallBack(undefined);
    this.fallbackDecisions++;
    const cut = requests.map((r) =>
      Number.isFinite(r.limit) ? { ...r, limit: Math.floor(r.limit * this.options.fallbackShare) } : r,
    );
    return member === '' ? this.local.inspect(cut, now) : this.local.acquireAll(cut, now);
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

/** ACQUIRE_ALL_SCRIPT's reply: n waits, then per budget a count followed by that many call times. */
function parseState(reply: readonly (number | string)[], n: number): BudgetState {
  const values = reply.map(Number);
  const waits = values.slice(0, n);
  const calls: number[][] = [];
  let at = n;
  for (let i = 0; i < n; i++) {
    const count = values[at++] ?? 0;
    calls.push(values.slice(at, at + count));
    at += count;
  }
  return { waits, calls };
}

function errorSummary(error: unknown): { name: string; message: string } | undefined {
  return error instanceof Error ? { name: error.name, message: error.message } : undefined;
}
