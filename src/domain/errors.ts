/**
 * The gateway's error vocabulary, defined once: every `extensions.code` a client can see, which of them a purchase can
 * end in (the `purchaseTopup` result union has one member per such code), and which purchase failures are permanent.
 * The purchase outcome (purchase/outcome.ts), the GraphQL error types and `extensions.code` values (src/graphql) all
 * derive from `ERROR_CODES`. Also the domain's own error classes and the mapping of upstream business codes.
 * No GraphQL here. See README.md, "Purchasing top-ups safely".
 */
import { CallNotAdmittedError, UpstreamRateLimitedError } from '../upstream/index.ts';

interface ErrorCodeSpec {
  readonly code: string;
  /** What the code tells a client. */
  readonly meaning: string;
  /** Present when a purchase can end in this code. */
  readonly purchase?: {
    /** Cannot change on a retry: remembered under the idempotency key and replayed. */
    readonly permanent: boolean;
    /** The failure may say how long to wait (`retryAfterSeconds`). */
    readonly retryAfter: boolean;
  };
}

export const ERROR_CODES = [
  {
    code: 'INSUFFICIENT_FUNDS',
    meaning: 'The partner balance does not cover the top-up.',
    purchase: { permanent: false, retryAfter: false },
  },
  {
    code: 'PACKAGE_NOT_AVAILABLE',
    meaning: 'The package is invalid, out of stock or not for this SIM.',
    purchase: { permanent: true, retryAfter: false },
  },
  {
    code: 'SIM_NOT_FOUND',
    meaning: 'No such SIM, or not one the caller may see.',
    purchase: { permanent: true, retryAfter: false },
  },
  { code: 'SIM_RECYCLED', meaning: 'The SIM has been recycled.', purchase: { permanent: true, retryAfter: false } },
  {
    code: 'TOPUP_DISABLED',
    meaning: "The SIM's operator disabled top-ups.",
    purchase: { permanent: true, retryAfter: false },
  },
  {
    code: 'OPERATOR_MAINTENANCE',
    meaning: "The SIM's operator is under maintenance.",
    purchase: { permanent: false, retryAfter: false },
  },
  {
    code: 'IDEMPOTENCY_KEY_REUSED',
    meaning: 'The idempotency key was used for a different purchase.',
    purchase: { permanent: false, retryAfter: false },
  },
  {
    code: 'IDEMPOTENCY_IN_PROGRESS',
    meaning: 'An earlier attempt with this key is not settled yet.',
    purchase: { permanent: false, retryAfter: true },
  },
  {
    code: 'RATE_LIMITED',
    meaning: 'The upstream may not be asked now; retry after `retryAfterSeconds`.',
    purchase: { permanent: false, retryAfter: true },
  },
  {
    code: 'UPSTREAM_UNAVAILABLE',
    meaning: 'The upstream failed or could not be reached.',
    purchase: { permanent: false, retryAfter: true },
  },
  // Fail closed: without a durable claim on the key nothing is submitted (README "Running several replicas").
  {
    code: 'PURCHASES_UNAVAILABLE',
    meaning:
      'The shared idempotency store (Redis) cannot be reached, so nothing was submitted; retry later with the same idempotency key.',
    purchase: { permanent: false, retryAfter: true },
  },
  // Not permanent: the reason is unknown and may pass; a retry searches first, so it cannot buy twice.
  {
    code: 'PURCHASE_REFUSED',
    meaning: 'The upstream refused the order for a reason the gateway does not map.',
    purchase: { permanent: false, retryAfter: false },
  },
  { code: 'BAD_USER_INPUT', meaning: 'An argument is invalid; nothing was asked of the upstream.' },
  { code: 'FORBIDDEN', meaning: 'The caller may not read this.' },
  { code: 'UNAUTHENTICATED', meaning: 'No valid credentials.' },
  { code: 'UPSTREAM_AUTH_FAILED', meaning: "The upstream refused the gateway's credentials." },
  { code: 'QUERY_TOO_EXPENSIVE', meaning: 'The request needs more upstream calls than one request may cause.' },
  { code: 'QUERY_TOO_COMPLEX', meaning: 'The document exceeds a depth, alias, token, directive or cost limit.' },
  { code: 'CSRF_HEADER_REQUIRED', meaning: 'A GET or simple POST without the `x-graphql-csrf` header.' },
  { code: 'REQUEST_TOO_LARGE', meaning: 'The request body exceeds MAX_REQUEST_BYTES.' },
  { code: 'PERSISTED_DOCUMENT_NOT_FOUND', meaning: 'No loaded manifest holds this `documentId`.' },
  { code: 'PERSISTED_DOCUMENT_REQUIRED', meaning: 'Only persisted documents are accepted (PERSISTED_DOCUMENTS_ONLY).' },
  {
    code: 'TOO_MANY_SUBSCRIPTIONS',
    meaning:
      'The caller (SUBSCRIPTIONS_MAX_PER_PRINCIPAL) or the gateway (SUBSCRIPTIONS_MAX) has too many open subscriptions.',
  },
  {
    code: 'NOT_CONFIGURED',
    meaning: 'The feature needs a setting this gateway does not have (e.g. WEBHOOK_PUBLIC_URL).',
  },
] as const satisfies readonly ErrorCodeSpec[];

type Spec = (typeof ERROR_CODES)[number];
export type ErrorCode = Spec['code'];
/** The codes a purchase can fail with. */
export type PurchaseFailureCode = Extract<Spec, { purchase: object }>['code'];

const purchaseSpecs = ERROR_CODES.filter((spec): spec is Extract<Spec, { purchase: object }> => 'purchase' in spec);
export const PURCHASE_FAILURE_CODES: readonly PurchaseFailureCode[] = purchaseSpecs.map((spec) => spec.code);
/** Purchase failures that cannot change on a retry: replayed under their key. The others free the key for a retry. */
export const PERMANENT_FAILURES: ReadonlySet<PurchaseFailureCode> = new Set(
  purchaseSpecs.filter((s) => s.purchase.permanent).map((s) => s.code),
);
/** Purchase failures that may carry `retryAfterSeconds`. */
export const RETRY_AFTER_FAILURES: ReadonlySet<PurchaseFailureCode> = new Set(
  purchaseSpecs.filter((s) => s.purchase.retryAfter).map((s) => s.code),
);

/** Upstream business error codes (422 `{code, reason}`) and what they mean to a client. */
export const BUSINESS_CODES: Readonly<Record<number, { code: PurchaseFailureCode; message: string }>> = {
  11: { code: 'INSUFFICIENT_FUNDS', message: 'The partner account has insufficient balance for this top-up.' },
  13: { code: 'OPERATOR_MAINTENANCE', message: "The SIM's operator is under maintenance; try again later." },
  23: { code: 'TOPUP_DISABLED', message: "Top-ups are disabled by this SIM's operator." },
  34: { code: 'PACKAGE_NOT_AVAILABLE', message: 'This package is invalid or out of stock.' },
  73: { code: 'SIM_RECYCLED', message: 'This eSIM has been recycled and can no longer be used or topped up.' },
};

/**
 * The upstream scheduler (src/domain/scheduler) refused a call: a budget is spent, or a 429 blocks it, for longer than
 * the caller may wait. Nothing was sent. A resource cache serves its stale value instead when it has one.
 * `retryAfterSeconds` is the scheduler's estimate of when a call would be admitted, rounded up (≥ 1).
 */
export class BudgetExhaustedError extends CallNotAdmittedError {
  /** The estimate in milliseconds, unrounded. */
  readonly waitMs: number;

  constructor(
    readonly resource: string,
    retryAfterSeconds: number,
    waitMs = retryAfterSeconds * 1000,
  ) {
    super(`${resource}: no upstream call may be made now; retry in ${retryAfterSeconds}s`, retryAfterSeconds);
    this.name = 'BudgetExhaustedError';
    this.waitMs = waitMs;
  }
}

/** A read that would need an upstream call beyond the request's allowance (cache/call-allowance.ts). */
export class CallAllowanceExceededError extends Error {
  constructor(
    readonly resource: string,
    readonly limit: number,
  ) {
    super(`${resource}: this request already caused ${limit} upstream calls, the most one request may`);
    this.name = 'CallAllowanceExceededError';
  }
}

/** Seconds a client should wait before asking again, for errors that have one. */
export function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof UpstreamRateLimitedError || error instanceof CallNotAdmittedError) {
    return Math.max(1, Math.ceil(error.retryAfterSeconds));
  }
  return undefined;
}
