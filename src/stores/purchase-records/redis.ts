/**
 * Purchase records in Redis, shared by every replica (README "Running several replicas"). The contract is types.ts;
 * how it is kept here:
 * - per key two Redis keys in one hash slot: `purchase:{<id>}:record` (the record as JSON, PX = the idempotency TTL)
 *   and `purchase:{<id>}:lease` (the holder's random token, PX = `leaseMs`, renewed by the running replica). `<id>` is
 *   a SHA-256 of principal + key, so neither is readable in Redis and key length is bounded;
 * - a record that is `running` or `unknown` with no lease key is claimable (its holder died, lost Redis, or settled
 *   it as unknown): the claimer gets it as `previous` and reconciles, never blindly re-submits;
 * - every decision is one Lua script (atomic on the server); every command is bounded by the connection's command
 *   timeout and fails at once while Redis is down (src/platform/redis.ts), surfacing as RedisUnavailableError.
 * Leases are Redis time (real time); `since` / `submittingSince` in records are the caller's clock.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type RedisConnections, RedisUnavailableError } from '../../platform/redis.ts';
import type { ClaimResult, PurchaseClaim, PurchaseRecord, PurchaseRecordStore, UnsettledRecord } from './types.ts';

/**
 * KEYS: record, lease. ARGV: token, fingerprint, new running record (JSON), lease ms, ttl ms.
 * No record → writes the running record and the lease: {'claimed'}. A record with another fingerprint → {'mismatch'}.
 * Settled → {'settled', record}. Running/unknown with a live lease → {'busy', record}; without one → takes the lease
 * and leaves the record as it is: {'takeover', record}.
 */
const CLAIM = `
local raw = redis.call('GET', KEYS[1])
if not raw then
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[5])
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[4])
  return {'claimed'}
end
local record = cjson.decode(raw)
if record.fingerprint ~= ARGV[2] then return {'mismatch'} end
if record.state == 'succeeded' or record.state == 'failed' then return {'settled', raw} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'busy', raw} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[4])
return {'takeover', raw}
`;

/** KEYS: record, lease. ARGV: token, lease ms. Extends the lease while it holds the token: 1, else 0. */
const RENEW = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`;

/**
 * KEYS: record, lease. ARGV: token, running record with submittingSince (JSON), lease ms, ttl ms.
 * Only while the lease holds the token and the key is not settled (an earlier holder may have recorded its order):
 * writes the record, renews the lease, 1; else 0 (the caller must not submit).
 */
const MARK_SUBMITTING = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local raw = redis.call('GET', KEYS[1])
if raw then
  local state = cjson.decode(raw).state
  if state == 'succeeded' or state == 'failed' then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
`;

/**
 * KEYS: record, lease. ARGV: token, settled record (JSON), ttl ms, '1' when it is a success, fingerprint.
 * A recorded success is final: never overwritten (the holder's lease is dropped), 0. While the lease holds the token:
 * writes the record and drops the lease, 1. Without the lease only a success is written (an order exists whoever holds
 * the key now), unless the key records another fingerprint; else 0.
 */
const SETTLE = `
local raw = redis.call('GET', KEYS[1])
local current = raw and cjson.decode(raw)
local holder = redis.call('GET', KEYS[2]) == ARGV[1]
if current and current.state == 'succeeded' then
  if holder then redis.call('DEL', KEYS[2]) end
  return 0
end
if holder then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  redis.call('DEL', KEYS[2])
  return 1
end
if ARGV[4] ~= '1' then return 0 end
if current and current.fingerprint ~= ARGV[5] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`;

/**
 * KEYS: record, lease. ARGV: token. While the lease holds the token: deletes record and lease, 1 — but a recorded
 * success is kept (only the lease is dropped), 0; without the lease: 0.
 */
const RELEASE = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local raw = redis.call('GET', KEYS[1])
if raw and cjson.decode(raw).state == 'succeeded' then
  redis.call('DEL', KEYS[2])
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`;

interface PurchaseCommands {
  purchaseClaim(
    record: string,
    lease: string,
    token: string,
    fingerprint: string,
    running: string,
    leaseMs: number,
    ttlMs: number,
  ): Promise<[string, string?]>;
  purchaseRenew(record: string, lease: string, token: string, leaseMs: number): Promise<number>;
  purchaseMarkSubmitting(
    record: string,
    lease: string,
    token: string,
    running: string,
    leaseMs: number,
    ttlMs: number,
  ): Promise<number>;
  purchaseSettle(
    record: string,
    lease: string,
    token: string,
    settled: string,
    ttlMs: number,
    success: '0' | '1',
    fingerprint: string,
  ): Promise<number>;
  purchaseRelease(record: string, lease: string, token: string): Promise<number>;
}

export interface RedisPurchaseRecordsOptions {
  redis: RedisConnections;
  /** How long records are kept (IDEMPOTENCY_TTL_HOURS). */
  ttlMs: number;
  /** How long a claim lives without renewal (PURCHASE_CLAIM_LEASE_MS); the holder renews it every third of that. */
  leaseMs: number;
}

const STATES = new Set(['running', 'unknown', 'succeeded', 'failed']);

export class RedisPurchaseRecords<O> implements PurchaseRecordStore<O> {
  readonly leaseMs: number;
  private readonly commands: PurchaseCommands;
  private readonly redis: Redis;

  constructor(private readonly options: RedisPurchaseRecordsOptions) {
    this.leaseMs = options.leaseMs;
    this.redis = options.redis.command;
    this.redis.defineCommand('purchaseClaim', { numberOfKeys: 2, lua: CLAIM });
    this.redis.defineCommand('purchaseRenew', { numberOfKeys: 2, lua: RENEW });
    this.redis.defineCommand('purchaseMarkSubmitting', { numberOfKeys: 2, lua: MARK_SUBMITTING });
    this.redis.defineCommand('purchaseSettle', { numberOfKeys: 2, lua: SETTLE });
    this.redis.defineCommand('purchaseRelease', { numberOfKeys: 2, lua: RELEASE });
    this.commands = this.redis as unknown as PurchaseCommands;
  }

  async claim(
    principalId: string,
    key: string,
    request: { fingerprint: string; reference: string },
  ): Promise<ClaimResult<O>> {
    const id = keyId(principalId, key);
    const claim: PurchaseClaim = { id, token: randomUUID(), ...request };
    const running: PurchaseRecord<O> = { state: 'running', ...request };
    const [verdict, raw] = await this.run('claim', () =>
      this.commands.purchaseClaim(
        recordKey(id),
        leaseKey(id),
        claim.token,
        request.fingerprint,
        JSON.stringify(running),
        this.options.leaseMs,
        this.options.ttlMs,
      ),
    );
    switch (verdict) {
      case 'claimed':
        return { kind: 'claimed', claim };
      case 'mismatch':
        return { kind: 'mismatch' };
      case 'takeover':
        return { kind: 'claimed', claim, previous: parse<O>(raw) as UnsettledRecord<O> };
      case 'busy':
        return { kind: 'busy', record: parse<O>(raw) as UnsettledRecord<O> };
      case 'settled': {
        const record = parse<O>(raw);
        if (record.state !== 'succeeded' && record.state !== 'failed') throw corrupt();
        return { kind: 'settled', record };
      }
      default:
        throw corrupt();
    }
  }

  async renew(claim: PurchaseClaim): Promise<boolean> {
    const id = claim.id;
    const held = await this.run('renew', () =>
      this.commands.purchaseRenew(recordKey(id), leaseKey(id), claim.token, this.options.leaseMs),
    );
    return held === 1;
  }

  async markSubmitting(claim: PurchaseClaim, since: number): Promise<boolean> {
    const id = claim.id;
    const record: PurchaseRecord<O> = {
      state: 'running',
      fingerprint: claim.fingerprint,
      reference: claim.reference,
      submittingSince: since,
    };
    const held = await this.run('markSubmitting', () =>
      this.commands.purchaseMarkSubmitting(
        recordKey(id),
        leaseKey(id),
        claim.token,
        JSON.stringify(record),
        this.options.leaseMs,
        this.options.ttlMs,
      ),
    );
    return held === 1;
  }

  async settle(claim: PurchaseClaim, record: Exclude<PurchaseRecord<O>, { state: 'running' }>): Promise<void> {
    const id = claim.id;
    await this.run('settle', () =>
      this.commands.purchaseSettle(
        recordKey(id),
        leaseKey(id),
        claim.token,
        JSON.stringify(record),
        this.options.ttlMs,
        record.state === 'succeeded' ? '1' : '0',
        claim.fingerprint,
      ),
    );
  }

  async release(claim: PurchaseClaim): Promise<void> {
    const id = claim.id;
    await this.run('release', () => this.commands.purchaseRelease(recordKey(id), leaseKey(id), claim.token));
  }

  async get(principalId: string, key: string): Promise<PurchaseRecord<O> | undefined> {
    const raw = await this.run('get', () => this.redis.get(recordKey(keyId(principalId, key))));
    return raw === null ? undefined : parse<O>(raw);
  }

  private async run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (error instanceof RedisUnavailableError) throw error;
      throw new RedisUnavailableError(
        `purchase records: ${operation} failed: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }
}

/** Opaque and bounded: the principal and the client's key never appear in Redis. */
const keyId = (principalId: string, key: string) =>
  createHash('sha256').update(`${principalId}\u0000${key}`).digest('hex').slice(0, 32);
/** `{id}` is a hash tag: record and lease land in one Redis Cluster slot, as a script touching both needs. */
const recordKey = (id: string) => `purchase:{${id}}:record`;
const leaseKey = (id: string) => `purchase:{${id}}:lease`;

const corrupt = () => new RedisUnavailableError('purchase records: unreadable record in Redis');

function parse<O>(raw: string | undefined): PurchaseRecord<O> {
  if (raw === undefined) throw corrupt();
  let record: unknown;
  try {
    record = JSON.parse(raw);
  } catch {
    throw corrupt();
  }
  const r = record as Partial<PurchaseRecord<O>> | null;
  if (!r || typeof r !== 'object' || !STATES.has(r.state as string) || typeof r.fingerprint !== 'string')
    throw corrupt();
  return r as PurchaseRecord<O>;
}
