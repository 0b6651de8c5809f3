/**
 * The money path: submit a top-up order at most once per (principal, idempotency key). The rules, and what stays open
 * while the store is in memory, are in README.md, "Purchasing top-ups safely"; the contract in short:
 * - the upstream has no idempotency key: the order's description carries a reference derived from principal + key
 *   (`orderReference`, ` [gw-…]` at its end), and the order list is searched for it (by description and ICCID);
 * - same key + same input → the first outcome, replayed without an upstream call while the record is kept; concurrent
 *   calls share one run; same key + other input → IDEMPOTENCY_KEY_REUSED;
 * - a key without a record is searched for before anything is submitted (found → that order, `replayed: true`); an
 *   unreadable order list → RATE_LIMITED / UPSTREAM_UNAVAILABLE and nothing submitted, never a blind submit;
 * - the POST is never retried; the key is marked submitting before it is sent. After that only a 4xx answer or an error
 *   that provably sent nothing says "nothing was bought" (classifySubmitFailure); anything else is reconciled by a
 *   search, and an order still not found is IDEMPOTENCY_IN_PROGRESS until `reconcileGraceMs` has passed;
 * - searches and the submit run under deadlines (src/platform/config.ts purchaseTimings), so a purchase is bounded and
 *   the shutdown drain outlasts it;
 * - records live in a PurchaseRecordStore (in-process, or Redis for a fleet: README "Running several replicas"): a
 *   run first claims its key there; another replica's live claim is waited for (≤ `waitForPeerMs`), then
 *   IDEMPOTENCY_IN_PROGRESS; a store that cannot be reached, or a claim lost before the POST, fails closed
 *   (PURCHASES_UNAVAILABLE) — nothing is submitted without a durable claim and submit mark;
 * - a success invalidates the SIM's usage and top-ups and the balance, and appends the package to the cached history;
 * - every upstream attempt (searches, the submit, a token request) is admitted by the scheduler as `foreground` for the
 *   purchasing principal; a refused submit sent nothing (RATE_LIMITED with the scheduler's estimate).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { PurchaseClaim, PurchaseRecordStore, UnsettledRecord } from '../../stores/purchase-records/types.ts';
import {
  CallNotAdmittedError,
  CircuitOpenError,
  type HistoryEntry,
  type TopupOrder,
  UpstreamAuthError,
  UpstreamBusinessError,
  type UpstreamClient,
  UpstreamError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
  UpstreamValidationError,
} from '../../upstream/index.ts';
import type { GatewayCaches } from '../cache/index.ts';
import { BALANCE_KEY } from '../cache/index.ts';
import { BUSINESS_CODES, PERMANENT_FAILURES, type PurchaseFailureCode, retryAfterOf } from '../errors.ts';
import { withDemand } from '../scheduler/index.ts';
import { carriesReference, describedWithReference, fingerprintOf, orderReference } from './order-reference.ts';
import type { PurchaseOutcome } from './outcome.ts';

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
  /** Where claims and records live (chosen by src/app/stores.ts); the service does not know which runs. */
  records: PurchaseRecordStore<PurchaseOutcome>;
  /** How long idempotency keys are kept; also bounds how far back the order-list search looks. */
  ttlMs: number;
  reconcileGraceMs: number;
  /** How long a call polls another replica's running claim of its key before IDEMPOTENCY_IN_PROGRESS (real time). */
  waitForPeerMs: number;
  /** Each order-list search (all pages) is aborted after this long: inconclusive, never a blind submit. */
  searchDeadlineMs: number;
  /** The submit (token + POST) is aborted after this long: ambiguous, reconciled. See src/platform/config.ts purchaseTimings. */
  submitDeadlineMs: number;
}

/** The upstream's description field is assumed to hold 255 characters; the reference takes the tail. */
export const MAX_DESCRIPTION_LENGTH = 200;
/** Order-list search: page size and the most pages read per search (the reference filter normally leaves 0–1 orders). */
export const SEARCH_PAGE_SIZE = 50;
export const SEARCH_MAX_PAGES = 5;
const DAY_MS = 86_400_000;

const failure = (code: PurchaseFailureCode, message: string, retryAfterSeconds?: number): PurchaseOutcome => ({
  kind: 'failure',
  code,
  message,
  ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
});

export const SIM_NOT_FOUND: PurchaseOutcome = failure('SIM_NOT_FOUND', 'No eSIM with this ICCID.');
const REUSED: PurchaseOutcome = failure(
  'IDEMPOTENCY_KEY_REUSED',
  'This idempotencyKey was already used for a different purchase.',
);

const UNAVAILABLE =
  'The upstream is unavailable; the order was not sent, nothing was bought. Retry with the same idempotencyKey.';
const SEARCH_UNAVAILABLE =
  'The upstream order list could not be read, so the gateway could not check for an earlier order with this idempotencyKey; nothing was submitted. Retry with the same idempotencyKey.';
const SEARCH_RATE_LIMITED =
  'The upstream is rate-limiting the order list, so the gateway could not check for an earlier order with this idempotencyKey; nothing was submitted. Retry with the same idempotencyKey after retryAfterSeconds.';
const STORE_UNAVAILABLE =
  'Purchases are unavailable: the gateway cannot record this idempotencyKey durably, so it submitted nothing. Retry later with the same idempotencyKey.';
const PEER_RUNNING = 'Another attempt with this idempotencyKey is running; retry shortly with the same idempotencyKey.';
/** How often a call waiting for another replica's run of its key reads the record again (real time). */
const PEER_POLL_MS = 50;
const UNKNOWN =
  'The order was sent but its outcome is not known yet (no readable answer, and it is not in the order list yet): do not use a new idempotencyKey. Retry with the same one: the gateway finds the order if it was placed and never places it twice.';

export class PurchaseService {
  readonly records: PurchaseRecordStore<PurchaseOutcome>;
  /** Runs of this process by key: concurrent calls with one key share one run (one claim, one search, ≤ 1 submit). */
  private readonly running = new Map<string, { fingerprint: string; promise: Promise<PurchaseOutcome> }>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: PurchaseServiceOptions) {
    this.records = options.records;
  }

  async purchase(principalId: string, input: PurchaseInput): Promise<PurchaseOutcome> {
    const fingerprint = fingerprintOf(input);
    const id = `${principalId}\u0000${input.idempotencyKey}`;
    const joined = this.running.get(id);
    if (joined) return joined.fingerprint === fingerprint ? joined.promise : REUSED;
    // No await between starting the attempt and registering it: every concurrent call with this key from here on
    // shares it. Its order searches and its submit (and a token request) are admitted for this caller, foreground.
    const promise = withDemand({ priority: 'foreground', principal: principalId }, () =>
      this.attempt(principalId, input, fingerprint),
    );
    this.running.set(id, { fingerprint, promise });
    this.inFlight.add(promise);
    try {
      return await promise;
    } finally {
      this.running.delete(id);
      this.inFlight.delete(promise);
    }
  }

  /** Resolves when every purchase under way has settled (graceful shutdown lets them finish). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** Claims the key (waiting a bounded time for another replica's run), then runs the purchase under the claim. */
  private async attempt(principalId: string, input: PurchaseInput, fingerprint: string): Promise<PurchaseOutcome> {
    const { records, logger } = this.options;
    const reference = orderReference(principalId, input.idempotencyKey);
    const waitUntil = performance.now() + this.options.waitForPeerMs;
    for (;;) {
      let claimed: Awaited<ReturnType<typeof records.claim>>;
      try {
        claimed = await records.claim(principalId, input.idempotencyKey, { fingerprint, reference });
      } catch (error) {
        logger.error({ iccid: input.iccid, err: describe(error) }, 'purchase: idempotency store unavailable');
        return failure('PURCHASES_UNAVAILABLE', STORE_UNAVAILABLE, 5);
      }
      switch (claimed.kind) {
        case 'mismatch':
          return REUSED;
        case 'settled': {
          const outcome = claimed.record.outcome;
          return outcome.kind === 'success' ? { ...outcome, replayed: true } : outcome;
        }
        case 'busy':
          if (performance.now() >= waitUntil) return failure('IDEMPOTENCY_IN_PROGRESS', PEER_RUNNING, 1);
          await new Promise((resolve) => setTimeout(resolve, PEER_POLL_MS));
          continue;
        case 'claimed':
          return this.underClaim(input, claimed.claim, claimed.previous);
      }
    }
  }

  /**
   * Runs the purchase while holding `claim` (renewing its lease when the store has one) and ends the claim with the
   * record its outcome calls for. A record that cannot be written is logged and left to the lease: the next claimer
   * takes it over and reconciles, so the outcome is still answered.
   */
  private async underClaim(
    input: PurchaseInput,
    claim: PurchaseClaim,
    previous: UnsettledRecord<PurchaseOutcome> | undefined,
  ): Promise<PurchaseOutcome> {
    const { records, logger } = this.options;
    const unknownSince = previous?.state === 'unknown' ? previous.since : previous?.submittingSince;
    if (previous) {
      logger.info(
        { iccid: input.iccid, reference: claim.reference, previous: previous.state, unknownSince },
        'purchase: taking over an unsettled key; reconciling first',
      );
    }
    const leaseMs = records.leaseMs;
    const renewal =
      leaseMs === undefined
        ? undefined
        : setInterval(() => {
            records.renew(claim).then(
              (held) => {
                if (!held) logger.warn({ reference: claim.reference }, 'purchase: claim lost (lease not renewed)');
              },
              (error) => logger.warn({ err: describe(error) }, 'purchase: claim renewal failed'),
            );
          }, leaseMs / 3);
    renewal?.unref();
    try {
      const { outcome, unknownSince: since } = await this.run(input, claim.reference, unknownSince, (at) =>
        records.markSubmitting(claim, at),
      );
      const { fingerprint, reference } = claim;
      try {
        if (since !== undefined) await records.settle(claim, { state: 'unknown', fingerprint, reference, since });
        else if (outcome.kind === 'success')
          await records.settle(claim, { state: 'succeeded', fingerprint, reference, outcome });
        else if (PERMANENT_FAILURES.has(outcome.code))
          await records.settle(claim, { state: 'failed', fingerprint, reference, outcome });
        else await records.release(claim);
      } catch (error) {
        logger.warn(
          { iccid: input.iccid, reference, err: describe(error) },
          'purchase: could not record the outcome; the key is reconciled by the next attempt',
        );
      }
      return outcome;
    } finally {
      clearInterval(renewal);
    }
  }

  /**
   * One purchase attempt for a key: `unknownSince` set = an earlier submit's outcome is unknown; undefined = the store
   * has no record of the key (which does not mean no earlier attempt placed an order).
   */
  private async run(
    input: PurchaseInput,
    reference: string,
    unknownSince: number | undefined,
    submitting: (since: number) => Promise<boolean>,
  ): Promise<RunResult> {
    const search = await this.search(input.iccid, reference);
    if (unknownSince !== undefined) {
      if ('error' in search) return this.unknownOutcome(unknownSince, 'IDEMPOTENCY_IN_PROGRESS');
      if (search.order) return { outcome: this.succeeded(input, search.order, reference, true) };
      if (this.options.clock.now() - unknownSince < this.options.reconcileGraceMs) {
        return this.unknownOutcome(unknownSince, 'IDEMPOTENCY_IN_PROGRESS');
      }
      this.options.logger.warn(
        { iccid: input.iccid, reference },
        'purchase: ambiguous submit not found after grace period; submitting again',
      );
    } else {
      if ('error' in search) return { outcome: this.searchFailed(search.error) };
      if (search.order) {
        if (search.order.packageId !== input.packageId) {
          return {
            outcome: failure(
              'IDEMPOTENCY_KEY_REUSED',
              'This idempotencyKey was already used for a different purchase.',
            ),
          };
        }
        this.options.logger.info(
          { iccid: input.iccid, reference, orderId: search.order.id },
          'purchase: earlier order found for a forgotten key; not submitting',
        );
        return { outcome: this.succeeded(input, search.order, reference, true) };
      }
    }
    const description = describedWithReference(input.description, reference);
    const started = this.options.clock.now();
    // Recorded durably before the POST leaves: from here on the key's record says "may have been submitted since
    // `started`". No mark → no submit: the store is unreachable (PURCHASES_UNAVAILABLE), or the claim was lost to
    // another replica or the key settled meanwhile (IDEMPOTENCY_IN_PROGRESS: a retry replays or waits for it).
    let marked: boolean;
    try {
      marked = await submitting(unknownSince ?? started);
    } catch (error) {
      this.options.logger.error(
        { iccid: input.iccid, reference, err: describe(error) },
        'purchase: submit mark failed',
      );
      return {
        outcome: failure('PURCHASES_UNAVAILABLE', STORE_UNAVAILABLE, 5),
        ...(unknownSince !== undefined ? { unknownSince } : {}),
      };
    }
    if (!marked) {
      this.options.logger.warn({ iccid: input.iccid, reference }, 'purchase: claim lost before the submit; not sent');
      return { outcome: failure('IDEMPOTENCY_IN_PROGRESS', PEER_RUNNING, 1) };
    }
    try {
      const order = await this.options.client.submitTopup(
        { iccid: input.iccid, packageId: input.packageId, description },
        AbortSignal.timeout(this.options.submitDeadlineMs),
      );
      this.options.logger.info(
        { iccid: input.iccid, packageId: input.packageId, orderId: order.id },
        'purchase: top-up ordered',
      );
      return { outcome: this.succeeded(input, order, reference, false) };
    } catch (error) {
      const failure = classifySubmitFailure(error);
      if (failure.kind === 'refused') return { outcome: failure.outcome };
      if (failure.kind === 'not-sent') return { outcome: this.notSent(error) };
      // The upstream answered, but with nothing the gateway understands: cheap to check that no order exists.
      if (failure.kind === 'unrecognised-refusal') {
        this.options.logger.warn(
          { iccid: input.iccid, reference, err: describe(error) },
          'purchase: submit refused for an unrecognised reason; checking',
        );
        const found = await this.search(input.iccid, reference);
        if ('order' in found && found.order) return { outcome: this.succeeded(input, found.order, reference, false) };
        if ('order' in found) return { outcome: failure.outcome };
        return this.unknownOutcome(unknownSince ?? started, 'UPSTREAM_UNAVAILABLE');
      }
      this.options.logger.warn(
        { iccid: input.iccid, reference, err: describe(error) },
        'purchase: submit outcome unknown; reconciling',
      );
      const found = await this.search(input.iccid, reference);
      if ('order' in found && found.order) return { outcome: this.succeeded(input, found.order, reference, false) };
      return this.unknownOutcome(unknownSince ?? started, 'UPSTREAM_UNAVAILABLE');
    }
  }

  private unknownOutcome(since: number, code: 'UPSTREAM_UNAVAILABLE' | 'IDEMPOTENCY_IN_PROGRESS'): RunResult {
    const message =
      code === 'IDEMPOTENCY_IN_PROGRESS'
        ? 'An earlier attempt with this idempotencyKey is not confirmed yet; retry shortly.'
        : UNKNOWN;
    return { outcome: failure(code, message, 5), unknownSince: since };
  }

  /**
   * Looks for the order carrying `reference` at the end of its description, for this ICCID, page by page (newest first)
   * until the upstream has no more pages or the orders are older than any key the client may still retry (the
   * idempotency TTL plus a day of clock/time-zone slack). More than SEARCH_MAX_PAGES pages within that horizon is an
   * inconclusive search, reported like an unreadable list (nothing is submitted on a guess).
   */
  private async search(iccid: string, reference: string): Promise<{ order: TopupOrder | null } | { error: unknown }> {
    const horizon = this.options.clock.now() - this.options.ttlMs - DAY_MS;
    const deadline = AbortSignal.timeout(this.options.searchDeadlineMs);
    try {
      for (let page = 1; page <= SEARCH_MAX_PAGES; page++) {
        const { items, page: info } = await this.options.client.listOrders(
          { iccid, description: reference, limit: SEARCH_PAGE_SIZE, page },
          deadline,
        );
        const order = items.find(
          (o) => carriesReference(o.description, reference) && (o.iccid === null || o.iccid === iccid),
        );
        if (order) return { order };
        const oldest = items.length > 0 ? Date.parse(items[items.length - 1]!.createdAt) : Number.NaN;
        const lastPage = items.length < SEARCH_PAGE_SIZE || info.currentPage >= info.lastPage;
        if (lastPage || oldest < horizon) return { order: null };
      }
      throw new Error(
        `order search inconclusive: more than ${SEARCH_MAX_PAGES} pages of orders match within the idempotency horizon`,
      );
    } catch (error) {
      this.options.logger.warn(
        { iccid, reference, err: describe(error) },
        'purchase: order list unavailable; cannot search for the reference',
      );
      return { error };
    }
  }

  /** The pre-submit search failed: nothing was submitted, and nothing may be until the order list can be read. */
  private searchFailed(error: unknown): PurchaseOutcome {
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== undefined) return failure('RATE_LIMITED', SEARCH_RATE_LIMITED, retryAfter);
    return failure('UPSTREAM_UNAVAILABLE', SEARCH_UNAVAILABLE);
  }

  /** `replayed`: the order was placed by an earlier call with this key (found by a search), not by this one. */
  private succeeded(input: PurchaseInput, order: TopupOrder, reference: string, replayed: boolean): PurchaseOutcome {
    this.applyToCaches(input.iccid, order);
    return {
      kind: 'success',
      iccid: input.iccid,
      order: { ...order, description: clientDescription(order, reference, input) },
      replayed,
    };
  }

  /** The submit provably never reached the upstream (breaker open, connection refused, token unavailable). */
  private notSent(error: unknown): PurchaseOutcome {
    const retryAfter = retryAfterOf(error);
    if (retryAfter !== undefined)
      return failure('RATE_LIMITED', 'The upstream is rate-limiting; nothing was submitted.', retryAfter);
    this.options.logger.error({ err: describe(error) }, 'purchase: upstream failure before the submit was sent');
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

/**
 * The description the client gave, as the upstream stored it (what precedes ` [reference]`); for an order found by a
 * search after the key was forgotten that may differ from this call's input, which is not part of what is bought.
 */
function clientDescription(order: TopupOrder, reference: string, input: PurchaseInput): string | null {
  const marker = `[${reference}]`;
  const stored = order.description;
  if (stored === null || !stored.endsWith(marker)) return input.description;
  const own = stored.slice(0, -marker.length).trimEnd();
  return own === '' ? null : own;
}

const describe = (error: unknown) =>
  error instanceof Error ? { name: error.name, message: error.message } : { value: String(error) };

type SubmitFailure =
  /** A 4xx whose meaning is known: nothing was bought; this is the answer. */
  | { kind: 'refused'; outcome: PurchaseOutcome }
  /** A 4xx the gateway does not understand: nothing was bought as far as HTTP goes; confirmed by a search. */
  | { kind: 'unrecognised-refusal'; outcome: PurchaseOutcome }
  /** The POST never left this process. */
  | { kind: 'not-sent' }
  /** The POST may have reached the upstream and been processed. */
  | { kind: 'ambiguous' };

/**
 * What a failed submit means for the money. Once the POST may have reached the upstream every failure is ambiguous —
 * a 5xx, a timeout, a reset, an abort, a 2xx whose body is not JSON or lacks what the model needs, any error not
 * recognised here — and only two kinds of failure may say "nothing was bought": a 4xx answer to the submit itself (the
 * upstream refused it) and an error that provably sent nothing (circuit open, a connection failure before sending, the
 * token request failing before the POST).
 */
export function classifySubmitFailure(error: unknown): SubmitFailure {
  // The gateway's own scheduler refused the attempt (the submit's or its token request's): nothing left this process.
  if (error instanceof CallNotAdmittedError) return { kind: 'not-sent' };
  if (!(error instanceof UpstreamError)) return { kind: 'ambiguous' };
  if (error instanceof CircuitOpenError) return { kind: 'not-sent' };
  // A failure of the token request (also on the 401 → refresh path, where the first POST was refused with a 401).
  if (error.endpoint !== 'submitTopup') return { kind: 'not-sent' };
  if (error instanceof UpstreamUnavailableError) return error.ambiguous ? { kind: 'ambiguous' } : { kind: 'not-sent' };
  const status = error.status;
  if (status === null || status < 400 || status >= 500) return { kind: 'ambiguous' };
  if (error instanceof UpstreamRateLimitedError) {
    return {
      kind: 'refused',
      outcome: failure(
        'RATE_LIMITED',
        'The upstream is rate-limiting orders; nothing was bought.',
        error.retryAfterSeconds,
      ),
    };
  }
  if (error instanceof UpstreamAuthError)
    return {
      kind: 'refused',
      outcome: failure('UPSTREAM_UNAVAILABLE', "The upstream refused the gateway's credentials; nothing was bought."),
    };
  if (error instanceof UpstreamNotFoundError) return { kind: 'refused', outcome: SIM_NOT_FOUND };
  if (error instanceof UpstreamBusinessError) {
    const known = BUSINESS_CODES[error.code];
    if (known) return { kind: 'refused', outcome: failure(known.code, known.message) };
    return { kind: 'unrecognised-refusal', outcome: refused(`business rule ${error.code}`) };
  }
  if (error instanceof UpstreamValidationError && status === 422) return validationOutcome(error.fields);
  return { kind: 'unrecognised-refusal', outcome: refused(`HTTP ${status}`) };
}

const refused = (what: string): PurchaseOutcome =>
  failure(
    'PURCHASE_REFUSED',
    `The upstream refused the order (${what}) for a reason the gateway does not recognise; nothing was bought. Check the input, then retry.`,
  );

/**
 * A 422 `{data: {field: message}}` on the submit, mapped by what the upstream said (the documented messages), field by
 * field: a field or message not listed here makes the whole answer an unrecognised refusal, never a guessed code.
 */
function validationOutcome(fields: Record<string, string>): SubmitFailure {
  const names = Object.keys(fields);
  if (names.length === 0) return { kind: 'unrecognised-refusal', outcome: refused('HTTP 422') };
  const meanings = names.map(
    (name) => VALIDATION_MEANINGS.find((m) => m.field === name && m.message.test(fields[name]!.trim()))?.outcome,
  );
  if (meanings.some((m) => m === undefined)) {
    return {
      kind: 'unrecognised-refusal',
      outcome: refused(`field${names.length > 1 ? 's' : ''} ${names.map((n) => n.slice(0, 40)).join(', ')}`),
    };
  }
  // The SIM first: a bad ICCID makes every other field moot.
  const outcomes = meanings as PurchaseOutcome[];
  return {
    kind: 'refused',
    outcome: outcomes.find((o) => o.kind === 'failure' && o.code === 'SIM_NOT_FOUND') ?? outcomes[0]!,
  };
}

const VALIDATION_MEANINGS: { field: string; message: RegExp; outcome: PurchaseOutcome }[] = [
  { field: 'iccid', message: /^the selected iccid is invalid\.?$/i, outcome: SIM_NOT_FOUND },
  {
    field: 'package_id',
    message: /^(invalid topup package|the selected package id is invalid\.?)$/i,
    outcome: failure('PACKAGE_NOT_AVAILABLE', 'This package cannot be bought for this eSIM; read its topupPackages.'),
  },
  {
    field: 'package_id',
    message: /^validation\.order_exceed_limit$/i,
    outcome: failure(
      'PURCHASE_REFUSED',
      'The upstream refused the order: the partner account exceeded its order limit; nothing was bought. Retry later.',
    ),
  },
];
