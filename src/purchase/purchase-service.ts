/**
 * The money path: submit a top-up order at most once per (principal, idempotency key).
 *
 * Contract:
 * - same key + same input → the first outcome, replayed without an upstream call (while it runs, callers
 *   share it: N concurrent calls → one upstream order);
 * - same key + other input → IDEMPOTENCY_KEY_REUSED, no upstream call;
 * - the POST is never retried automatically. When its outcome is unknown (timeout, reset, 5xx after sending)
 *   the key is marked outcome-unknown and every later call with it first searches the upstream order list
 *   for the reference written into the order's description; found → that order; not found within
 *   `reconcileGraceMs` → IDEMPOTENCY_IN_PROGRESS; not found after it → the order never landed, submit again.
 * - after a success the SIM's usage, top-up list and the balance are invalidated and the new package is
 *   appended to the cached history (which may not be re-read from the upstream for 15 minutes).
 */
import type { Logger } from 'pino';
import type { GatewayCaches } from '../cache/index.ts';
import { BALANCE_KEY } from '../cache/index.ts';
import type { Clock } from '../clock.ts';
import { BUSINESS_CODES, retryAfterOf } from '../errors.ts';
import {
  UpstreamBusinessError,
  UpstreamNotFoundError,
  UpstreamUnavailableError,
  UpstreamValidationError,
  type HistoryEntry,
  type TopupOrder,
  type UpstreamClient,
} from '../upstream/index.ts';
import { IdempotencyStore, fingerprintOf, orderReference } from './idempotency-store.ts';
import { PERMANENT_FAILURES, type PurchaseFailureCode, type PurchaseOutcome } from './outcome.ts';

export interface PurchaseInput {
  iccid: string;
  packageId: string;
  description: string | null;
  idempotencyKey: string;
}

export interface PurchaseServiceOptions {
  client: UpstreamClient;
  caches: GatewayCaches;
  clock: Clock;
  logger: Logger;
  ttlMs: number;
  maxKeys: number;
  reconcileGraceMs: number;
}

/** The upstream's description field is assumed to hold 255 characters; the reference takes the tail. */
export const MAX_DESCRIPTION_LENGTH = 200;

const failure = (code: PurchaseFailureCode, message: string, retryAfterSeconds?: number): PurchaseOutcome => ({
  kind: 'failure',
  code,
  message,
  ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
});

export const SIM_NOT_FOUND: PurchaseOutcome = failure('SIM_NOT_FOUND', 'No eSIM with this ICCID.');

const UNAVAILABLE = 'The upstream is unavailable; nothing was bought. Retry with the same idempotencyKey.';
const UNKNOWN =
  'The upstream did not confirm the order in time. Retry with the same idempotencyKey: the gateway will find the order if it was placed and never places it twice.';

export class PurchaseService {
  readonly store: IdempotencyStore;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: PurchaseServiceOptions) {
    this.store = new IdempotencyStore({ ttlMs: options.ttlMs, maxKeys: options.maxKeys, clock: options.clock });
  }

  async purchase(principalId: string, input: PurchaseInput): Promise<PurchaseOutcome> {
    const fingerprint = fingerprintOf(input);
    const existing = this.store.get(principalId, input.idempotencyKey);
    if (existing && existing.fingerprint !== fingerprint) {
      return failure('IDEMPOTENCY_KEY_REUSED', 'This idempotencyKey was already used for a different purchase.');
    }
    if (existing?.state === 'pending') return existing.promise;
    if (existing?.state === 'done') {
      return existing.outcome.kind === 'success' ? { ...existing.outcome, replayed: true } : existing.outcome;
    }
    const reference = existing?.reference ?? orderReference(principalId, input.idempotencyKey);
    const running = this.run(input, reference, existing?.state === 'unknown' ? existing.since : undefined);
    const promise = running.then((r) => r.outcome);
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running));
    this.store.set(principalId, input.idempotencyKey, { state: 'pending', fingerprint, reference, promise });
    const { outcome, unknownSince } = await running;
    if (unknownSince !== undefined) {
      this.store.set(principalId, input.idempotencyKey, { state: 'unknown', fingerprint, reference, since: unknownSince });
    } else if (outcome.kind === 'success' || PERMANENT_FAILURES.has(outcome.code)) {
      this.store.set(principalId, input.idempotencyKey, { state: 'done', fingerprint, reference, outcome });
    } else {
      this.store.delete(principalId, input.idempotencyKey);
    }
    return outcome;
  }

  /** Resolves when every purchase under way has settled (graceful shutdown lets them finish). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(input: PurchaseInput, reference: string, unknownSince: number | undefined): Promise<RunResult> {
    if (unknownSince !== undefined) {
      const found = await this.reconcile(input.iccid, reference);
      if (found === 'error') return this.unknownOutcome(unknownSince, 'IDEMPOTENCY_IN_PROGRESS');
      if (found) return { outcome: this.succeeded(input, found) };
      if (this.options.clock.now() - unknownSince < this.options.reconcileGraceMs) {
        return this.unknownOutcome(unknownSince, 'IDEMPOTENCY_IN_PROGRESS');
      }
      this.options.logger.warn({ iccid: input.iccid, reference }, 'purchase: ambiguous submit not found after grace period; submitting again');
    }
    const description = input.description ? `${input.description} [${reference}]` : `[${reference}]`;
    const started = this.options.clock.now();
    try {
      const order = await this.options.client.submitTopup({ iccid: input.iccid, packageId: input.packageId, description });
      this.options.logger.info({ iccid: input.iccid, packageId: input.packageId, orderId: order.id }, 'purchase: top-up ordered');
      return { outcome: this.succeeded(input, order) };
    } catch (error) {
      if (error instanceof UpstreamUnavailableError && error.ambiguous) {
        this.options.logger.warn({ iccid: input.iccid, reference }, 'purchase: submit outcome unknown; reconciling');
        const found = await this.reconcile(input.iccid, reference);
        if (found && found !== 'error') return { outcome: this.succeeded(input, found) };
        return this.unknownOutcome(unknownSince ?? started, 'UPSTREAM_UNAVAILABLE');
      }
      return { outcome: this.failed(error) };
    }
  }

  private unknownOutcome(since: number, code: 'UPSTREAM_UNAVAILABLE' | 'IDEMPOTENCY_IN_PROGRESS'): RunResult {
    const message =
      code === 'IDEMPOTENCY_IN_PROGRESS' ? 'An earlier attempt with this idempotencyKey is not confirmed yet; retry shortly.' : UNKNOWN;
    return { outcome: failure(code, message, 5), unknownSince: since };
  }

  /** Looks for the order carrying `reference`; `'error'` when the order list cannot be read. */
  private async reconcile(iccid: string, reference: string): Promise<TopupOrder | null | 'error'> {
    try {
      const { items } = await this.options.client.listOrders({ iccid, description: reference, limit: 25, page: 1 });
      return items.find((o) => o.description?.includes(reference)) ?? null;
    } catch (error) {
      this.options.logger.warn({ iccid, err: describe(error) }, 'purchase: order list unavailable while reconciling');
      return 'error';
    }
  }

  private succeeded(input: PurchaseInput, order: TopupOrder): PurchaseOutcome {
    this.applyToCaches(input.iccid, order);
    return { kind: 'success', iccid: input.iccid, order: { ...order, description: input.description }, replayed: false };
  }

  private failed(error: unknown): PurchaseOutcome {
    if (error instanceof UpstreamBusinessError) {
      const known = BUSINESS_CODES[error.code];
      if (known && known.code !== 'SIM_NOT_FOUND') return failure(known.code as PurchaseFailureCode, known.message);
      return failure('UPSTREAM_UNAVAILABLE', 'The upstream could not complete the order; nothing was bought.');
    }
    if (error instanceof UpstreamValidationError) {
      if ('iccid' in error.fields) return SIM_NOT_FOUND;
      return failure('PACKAGE_NOT_AVAILABLE', 'This package cannot be bought for this eSIM; read its topupPackages.');
    }
    if (error instanceof UpstreamNotFoundError) return SIM_NOT_FOUND;
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== undefined) return failure('RATE_LIMITED', 'The upstream is rate-limiting orders; nothing was bought.', retryAfter);
    this.options.logger.error({ err: describe(error) }, 'purchase: upstream failure');
    return failure('UPSTREAM_UNAVAILABLE', UNAVAILABLE);
  }

  private applyToCaches(iccid: string, order: TopupOrder): void {
    const { caches } = this.options;
    const bought = caches.topups.peek(iccid)?.value.find((p) => p.id === order.packageId);
    const entry: HistoryEntry = {
      id: `order-${order.id}`,
      status: 'NOT_ACTIVE',
      remainingMb: bought?.amountMb ?? null,
      activatedAt: null,
      expiresAt: null,
      finishedAt: null,
      package: {
        id: order.packageId,
        type: 'TOPUP',
        title: order.title ?? bought?.title ?? order.packageId,
        price: order.price,
        netPrice: order.netPrice,
        currency: order.currency,
        amountMb: bought?.amountMb ?? null,
        validityDays: order.validityDays ?? bought?.validityDays ?? null,
        isUnlimited: bought?.isUnlimited ?? null,
        dataLabel: order.dataLabel ?? bought?.dataLabel ?? null,
      },
    };
    caches.history.update(iccid, (history) => (history.some((h) => h.id === entry.id) ? history : [...history, entry]));
    caches.usage.invalidate(iccid);
    caches.topups.invalidate(iccid);
    caches.balance.invalidate(BALANCE_KEY);
  }
}

/** `unknownSince` set: the order may exist upstream; the key must be reconciled before any new submit. */
interface RunResult {
  outcome: PurchaseOutcome;
  unknownSince?: number;
}

const describe = (error: unknown) => (error instanceof Error ? { name: error.name, message: error.message } : { value: String(error) });
