/**
 * The scheduler in front of the upstream (README "How the scheduler decides"): ONE admission decision per upstream
 * call attempt, against every limit of its endpoint at once (per-ICCID and partner-wide, plus the limits on all
 * endpoints) and the 429 blocks, in the BudgetStore (in-process, or Redis for the fleet).
 *
 * Contract:
 * - a call is sent only when every budget of its endpoint allows it; all are recorded together or none (a call the
 *   partner budget refuses never spends its ICCID's slot), so no mix of callers can exceed a configured limit;
 * - `foreground` and `deferred` calls that find a budget spent queue, per endpoint: foreground before deferred; within a
 *   class round-robin across principals, FIFO within a principal. A waiter is admitted as soon as the budget frees
 *   (a timer on the injected clock), or refused when its bound passes (`foregroundWaitMs` / `deferredWaitMs` from its
 *   arrival); a caller whose estimated admission is already beyond its bound is refused at once, without waiting;
 * - a refusal is a BudgetExhaustedError whose `retryAfterSeconds` is the estimate: the caller's place in the queue's
 *   service order (the callers ahead of it, and the retries promised earlier refusals), played against each budget's
 *   window of recorded calls — when each slot frees — rounded up. The refusal is remembered as a promised retry until
 *   that time (+ 1 s): later estimates count it, and background calls leave its slot alone;
 * - `background` calls never queue and take only spare budget: no foreground/deferred call waits on any budget they
 *   need, no promised retry is outstanding there, and every partner-wide window keeps at least half its limit
 *   (⌈limit / 2⌉) free after the call — a foreground burst that size always finds its slots. Per-ICCID budgets are
 *   not reserved: a background refresh of a key serves that key's own next reads;
 * - an upstream 429 blocks (endpoint, ICCID) when the ICCID's own limit is the cause (`X-RateLimit-Limit` equals it, or
 *   its window is full), else the whole endpoint (no ICCID; the ICCID still had room — the gateway never overruns its
 *   budgets itself; or `X-RateLimit-Limit` equals a partner-wide limit), or every endpoint (it equals an `all`
 *   limit); for the full Retry-After, fleet-wide with Redis;
 * - with the in-process store a granted call with nothing queued is decided synchronously (no promise, no tick).
 * Queues are per replica; with Redis the admissions are fleet-wide, so an estimate counts this replica's queue and
 * the fleet's recorded calls (not other replicas' queues).
 */
import type { Logger } from 'pino';
import { unwatchAbort, watchAbort } from '../../platform/abort.ts';
import { type Clock, setClockTimer } from '../../platform/clock.ts';
import type { RateLimit, SchedulerConfig, UpstreamLimits } from '../../platform/upstream-limits.ts';
import type { BudgetRequest, BudgetState, BudgetStore } from '../../stores/budgets/types.ts';
import {
  UPSTREAM_ENDPOINTS,
  type UpstreamAdmission,
  type UpstreamAttempt,
  type UpstreamEndpoint,
  type UpstreamRateLimitedError,
} from '../../upstream/index.ts';
import { BudgetExhaustedError } from '../errors.ts';
import { currentContext, type Demand, mostUrgent, PRIORITY_RANK, type Priority } from './demand.ts';

/** An admission granted at once: make the call now. */
export const GRANTED = Symbol('granted');

/** What `request` decides: granted now, refused now (the error to answer with), or a ticket to wait on. */
export type Decision = typeof GRANTED | BudgetExhaustedError | Ticket;

/** Why a 429 blocked what it blocked. */
export type BlockCause = 'per-iccid' | 'partner' | 'all';

/** Told of every decision worth a metric (src/app/scheduler-metrics.ts). */
export interface SchedulerObserver {
  /** A call that queued left the queue after `waitMs` (clock time): admitted, or refused when its bound passed. */
  waited(endpoint: UpstreamEndpoint, priority: Priority, waitMs: number, outcome: 'admitted' | 'refused'): void;
  /** A call refused by the budget (at once or after waiting). */
  refused(endpoint: UpstreamEndpoint, priority: Priority): void;
  /** A 429 blocked an ICCID, the endpoint, or every endpoint for `seconds`. */
  blocked(endpoint: UpstreamEndpoint, cause: BlockCause, seconds: number): void;
}

export interface SchedulerOptions {
  limits: UpstreamLimits;
  waits: SchedulerConfig;
  store: BudgetStore;
  clock: Clock;
  logger?: Logger;
}

export interface SchedulerStats {
  /** Admissions asked for (`request`, hence every attempt but one a cache flight already had admitted). */
  requests: number;
  /** Attempts admitted (at once or after waiting), GET retries included. */
  admitted: number;
  /** Calls that waited in a queue. */
  queued: number;
  /** Calls refused (at once or when their bound passed). */
  refused: number;
  /** 429s that blocked something. */
  blocks: number;
  /** Attempts that reached the scheduler with no demand in their context (decided as foreground, `unattributed`). */
  unattributed: number;
}

const UNATTRIBUTED: Demand = Object.freeze({ priority: 'foreground', principal: 'unattributed' });
/** GET retries after a 5xx: one more attempt nobody planned for, so spare budget only. */
const RETRY: Demand = Object.freeze({ priority: 'background', principal: 'retry' });
/** How long past its estimate a promised retry is still expected (a client rounds up and has latency). */
const PROMISE_GRACE_MS = 1_000;
/** Promised retries remembered per endpoint at most (the oldest are dropped first). */
const MAX_PROMISES = 10_000;
const WHOLE_ENDPOINT = '*';

interface Limit {
  scope: string;
  limit: number;
  windowMs: number;
}

/** An endpoint's budgets, resolved once: what every call to it must pass. */
interface Plan {
  endpoint: UpstreamEndpoint;
  perIccid: Limit[];
  /** The endpoint's partner-wide limits. */
  partner: Limit[];
  /** The limits on every endpoint together (`UpstreamLimits.all`). */
  all: Limit[];
  /** [partner-wide budgets…, endpoint block, all block?] for foreground calls… */
  partnerRequests: BudgetRequest[];
  /** …and with half of each partner-wide limit held back, for background calls. */
  backgroundRequests: BudgetRequest[];
}

/** Where a ticket waits: per principal, oldest first; Map order is the rotation (next to serve first). */
class ClassQueue {
  readonly fifos = new Map<string, Ticket[]>();
  size = 0;

  add(ticket: Ticket): void {
    let fifo = this.fifos.get(ticket.principal);
    if (!fifo) {
      fifo = [];
      this.fifos.set(ticket.principal, fifo);
    }
    fifo.push(ticket);
    this.size++;
  }

  remove(ticket: Ticket): boolean {
    const fifo = this.fifos.get(ticket.principal);
    const index = fifo ? fifo.indexOf(ticket) : -1;
    if (index < 0) return false;
    fifo!.splice(index, 1);
    this.size--;
    if (fifo!.length === 0) this.fifos.delete(ticket.principal);
    return true;
  }

  /** Removes a served ticket and sends its principal to the end of the rotation (round-robin). */
  served(ticket: Ticket): void {
    this.remove(ticket);
    const fifo = this.fifos.get(ticket.principal);
    if (fifo) {
      this.fifos.delete(ticket.principal);
      this.fifos.set(ticket.principal, fifo);
    }
  }

  /** Service order: each principal's first ticket in rotation order, then each one's second, … */
  *order(): Generator<Ticket> {
    for (let round = 0; ; round++) {
      let any = false;
      for (const fifo of this.fifos.values()) {
        if (fifo.length > round) {
          any = true;
          yield fifo[round]!;
        }
      }
      if (!any) return;
    }
  }
}

/** A retry a refusal told its caller to make; counted by estimates until it is made or `expires`. */
interface PromisedRetry {
  iccid: string | undefined;
  at: number;
  expires: number;
  /** The partner-wide budget set the time (not the ICCID's own limit): it holds a shared slot. */
  partner: boolean;
}

class EndpointQueue {
  /** [foreground, deferred]. */
  readonly classes = [new ClassQueue(), new ClassQueue()] as const;
  /** Promised retries per principal, oldest first. */
  readonly promises = new Map<string, PromisedRetry[]>();
  promiseCount = 0;
  #partnerCount = 0;
  /** The soonest a promise expires: nothing to sweep before. */
  #nextExpiry = Number.POSITIVE_INFINITY;
  wakeAt: number | undefined;
  cancelWake: (() => void) | undefined;
  pumping = false;
  pumpAgain = false;

  get size(): number {
    return this.classes[0].size + this.classes[1].size;
  }

  /** The partner-wide promised retries outstanding at `now` (expired ones are dropped first). */
  partnerPromises(now: number): number {
    if (now >= this.#nextExpiry) this.#sweep(now);
    return this.#partnerCount;
  }

  partnerPromisesOf(principal: string): number {
    let n = 0;
    for (const p of this.promises.get(principal) ?? []) if (p.partner) n++;
    return n;
  }

  addPromise(principal: string, promised: PromisedRetry): void {
    if (this.promiseCount >= MAX_PROMISES) {
      const oldest = this.promises.keys().next().value;
      if (oldest !== undefined) for (const p of [...this.promises.get(oldest)!]) this.removePromise(oldest, p);
    }
    const list = this.promises.get(principal);
    if (list) list.push(promised);
    else this.promises.set(principal, [promised]);
    this.promiseCount++;
    if (promised.partner) this.#partnerCount++;
    this.#nextExpiry = Math.min(this.#nextExpiry, promised.expires);
  }

  removePromise(principal: string, promised: PromisedRetry): void {
    const list = this.promises.get(principal);
    const index = list ? list.indexOf(promised) : -1;
    if (index < 0) return;
    list!.splice(index, 1);
    if (list!.length === 0) this.promises.delete(principal);
    this.promiseCount--;
    if (promised.partner) this.#partnerCount--;
  }

  #sweep(now: number): void {
    let next = Number.POSITIVE_INFINITY;
    for (const [principal, list] of this.promises) {
      for (const p of [...list]) {
        if (p.expires <= now) this.removePromise(principal, p);
        else next = Math.min(next, p.expires);
      }
    }
    this.#nextExpiry = next;
  }
}

/** One pending admission: being decided (a fleet-wide store answers asynchronously) or queued. */
export class Ticket {
  state: 'deciding' | 'queued' | 'admitted' | 'closed' = 'deciding';
  /** 0 foreground, 1 deferred, 2 background (never queued). */
  rank: number;
  queuedAt = 0;
  /** An ICCID-only wait (its own limit or block): not admitted before this, whoever else is. */
  notBefore = 0;
  /** The pump is deciding this ticket with a fleet-wide store: a bound passing now waits for that answer. */
  deciding = false;
  /** Callers whose bound passed while the pump decided: refused after all if the answer is no. */
  expiredWhileDeciding: Interest[] = [];
  error: BudgetExhaustedError | undefined;
  readonly admitted: Promise<void>;
  readonly interests = new Set<Interest>();
  #resolve!: () => void;
  #reject!: (error: Error) => void;

  constructor(
    private readonly scheduler: UpstreamScheduler,
    readonly plan: Plan,
    readonly iccid: string | undefined,
    public requests: readonly BudgetRequest[],
    public demand: Demand,
  ) {
    this.rank = PRIORITY_RANK[demand.priority];
    this.admitted = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.admitted.catch(() => {}); // a ticket nobody awaits directly (the transport's) must not leave an unhandled rejection
  }

  get principal(): string {
    return this.demand.principal;
  }

  /**
   * Another caller waits for this admission (the first one too): resolves when admitted; rejects with a
   * BudgetExhaustedError (the estimate) once this caller's own bound has passed — counted from `arrivedAt` — or with
   * the abort reason. Raises the ticket's priority to the caller's. When every caller has gone, the ticket leaves its
   * queue.
   */
  join(demand: Demand, signal?: AbortSignal, arrivedAt?: number): Promise<void> {
    if (this.state === 'admitted') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(this.error);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.scheduler.attach(this, demand, signal, arrivedAt);
  }

  /** @internal */
  grant(): void {
    this.state = 'admitted';
    for (const interest of this.interests) interest.settle(undefined);
    this.interests.clear();
    this.#resolve();
  }

  /** @internal */
  close(error: BudgetExhaustedError): void {
    this.state = 'closed';
    this.error = error;
    for (const interest of this.interests) interest.settle(error);
    this.interests.clear();
    this.#reject(error);
  }
}

interface Interest {
  demand: Demand;
  deadline: number;
  /** Resolves (undefined) or rejects (an error) this caller's wait, and lets go of its timer and abort listener. */
  settle(error: Error | undefined): void;
}

export class UpstreamScheduler implements UpstreamAdmission {
  readonly stats: SchedulerStats = { requests: 0, admitted: 0, queued: 0, refused: 0, blocks: 0, unattributed: 0 };
  #observer: SchedulerObserver | undefined;
  readonly #plans = new Map<UpstreamEndpoint, Plan>();
  readonly #queues = new Map<UpstreamEndpoint, EndpointQueue>();
  readonly #store: BudgetStore;
  readonly #clock: Clock;
  readonly #waits: SchedulerConfig;
  readonly #logger: Logger | undefined;
  /** Any `all` limit configured: every endpoint shares those budgets, so background looks at every queue. */
  readonly #sharedAll: boolean;
  #pending = 0;

  constructor(options: SchedulerOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#waits = options.waits;
    this.#logger = options.logger?.child({ component: 'scheduler' });
    const margin = options.waits.marginMs ?? 0;
    const all = options.limits.all.map((l, i) => limitOf(`all#${i}`, l, margin));
    this.#sharedAll = all.length > 0;
    for (const endpoint of UPSTREAM_ENDPOINTS) {
      const limits = options.limits.endpoints[endpoint] ?? [];
      const perIccid = limits
        .filter((l) => l.scope === 'per-iccid')
        .map((l, i) => limitOf(`${endpoint}#i${i}`, l, margin));
      const partner = limits
        .filter((l) => l.scope === 'per-partner')
        .map((l, i) => limitOf(`${endpoint}#p${i}`, l, margin));
      const blocks: BudgetRequest[] = [block(endpoint, WHOLE_ENDPOINT)];
      if (all.length > 0) blocks.push(block('all', WHOLE_ENDPOINT));
      const request = (l: Limit, limit = l.limit): BudgetRequest => ({
        scope: l.scope,
        key: '',
        limit,
        windowMs: l.windowMs,
      });
      this.#plans.set(endpoint, {
        endpoint,
        perIccid,
        partner,
        all,
        partnerRequests: [...partner, ...all].map((l) => request(l)).concat(blocks),
        backgroundRequests: [...partner, ...all].map((l) => request(l, Math.floor(l.limit / 2))).concat(blocks),
      });
    }
  }

  /** Receives the decisions metrics count (one observer). */
  observe(observer: SchedulerObserver): void {
    this.#observer = observer;
  }

  /** Calls waiting per endpoint (endpoints with none are left out). */
  queueLengths(): Partial<Record<UpstreamEndpoint, number>> {
    const lengths: Partial<Record<UpstreamEndpoint, number>> = {};
    for (const [endpoint, queue] of this.#queues) if (queue.size > 0) lengths[endpoint] = queue.size;
    return lengths;
  }

  /** Answers of a fleet-wide store awaited now: 0 when every decision asked for has been taken. */
  get deciding(): number {
    return this.#pending;
  }

  /** Calls waiting in every queue. */
  get waiting(): number {
    let n = 0;
    for (const queue of this.#queues.values()) n += queue.size;
    return n;
  }

  /**
   * The admission of one call to `endpoint` (about `iccid`, when it has one) for `demand`: GRANTED (recorded: make the
   * call now), a BudgetExhaustedError (refused: nothing recorded), or a Ticket to `join` (queued, or being decided by
   * a fleet-wide store). Synchronous with an in-process store.
   */
  request(endpoint: UpstreamEndpoint, iccid: string | undefined, demand: Demand): Decision {
    const plan = this.#plans.get(endpoint)!;
    const now = this.#clock.now();
    this.stats.requests++;
    if (demand.priority === 'background') return this.#requestBackground(plan, iccid, demand, now);
    const requests = requestsFor(plan, iccid, plan.partnerRequests);
    const queue = this.#queues.get(endpoint);
    // Nobody waiting: try at once. Someone waiting: the budget is spent (waiters are admitted the moment it frees), so
    // only the place in line is decided.
    const result =
      queue === undefined || queue.size === 0
        ? this.#store.acquireAll(requests, now)
        : this.#store.inspect(requests, now);
    if (result === 0) {
      this.stats.admitted++;
      return GRANTED;
    }
    if (!(result instanceof Promise)) return this.#denied(plan, iccid, requests, demand, result, now, undefined);
    return this.#decidedLater(result, new Ticket(this, plan, iccid, requests, demand), (ticket, decided) =>
      this.#denied(plan, iccid, requests, ticket.demand, decided, this.#clock.now(), ticket),
    );
  }

  /**
   * A ticket for a decision a fleet-wide store is still making: granted when the store recorded the call, else handed
   * to `refused` (unless the ticket was settled meanwhile); a store failure fails it.
   */
  #decidedLater(
    decision: Promise<0 | BudgetState>,
    ticket: Ticket,
    refused: (ticket: Ticket, state: BudgetState) => void,
  ): Ticket {
    this.#track(decision).then(
      (decided) => {
        if (ticket.state !== 'deciding') return;
        if (decided === 0) {
          this.stats.admitted++;
          ticket.grant();
        } else refused(ticket, decided);
      },
      (error: unknown) => this.#failed(ticket, error),
    );
    return ticket;
  }

  // --- UpstreamAdmission: what the transport asks of every attempt -------------------------------------------------

  admit(attempt: UpstreamAttempt, signal: AbortSignal | undefined): void | Promise<void> {
    const context = currentContext();
    const admitted = context?.admitted;
    if (admitted && !admitted.used && admitted.endpoint === attempt.endpoint && admitted.iccid === attempt.iccid) {
      admitted.used = true; // decided explicitly by the cache that started this call
      return;
    }
    let demand = context?.demand;
    if (!demand) {
      this.stats.unattributed++;
      this.#logger?.debug({ endpoint: attempt.endpoint }, 'scheduler: an attempt with no demand in its context');
      demand = UNATTRIBUTED;
    }
    const decision = this.request(attempt.endpoint, attempt.iccid, demand);
    if (decision === GRANTED) return;
    if (decision instanceof BudgetExhaustedError) throw decision;
    return decision.join(demand, signal);
  }

  admitRetry(attempt: UpstreamAttempt): boolean | Promise<boolean> {
    const decision = this.request(attempt.endpoint, attempt.iccid, RETRY);
    if (decision === GRANTED) return true;
    if (decision instanceof BudgetExhaustedError) return false;
    return decision.join(RETRY).then(
      () => true,
      () => false,
    );
  }

  rateLimited(attempt: UpstreamAttempt, error: UpstreamRateLimitedError): void | Promise<void> {
    const plan = this.#plans.get(attempt.endpoint)!;
    const now = this.#clock.now();
    const until = now + error.retryAfterSeconds * 1000;
    const apply = (cause: BlockCause): void | Promise<void> => {
      this.stats.blocks++;
      this.#observer?.blocked(plan.endpoint, cause, error.retryAfterSeconds);
      this.#logger?.info(
        { endpoint: plan.endpoint, cause, retryAfterSeconds: error.retryAfterSeconds, limit: error.limit },
        cause === 'per-iccid' ? 'upstream 429: ICCID blocked' : 'upstream 429: partner-wide, endpoint blocked',
      );
      if (cause === 'per-iccid') return this.#store.block(plan.endpoint, attempt.iccid!, until, now);
      if (cause === 'all') return this.#store.block('all', WHOLE_ENDPOINT, until, now);
      return this.#store.block(plan.endpoint, WHOLE_ENDPOINT, until, now);
    };
    const cause = this.#causeOf(plan, attempt.iccid, error.limit, now);
    return cause instanceof Promise ? this.#track(cause).then(apply) : apply(cause);
  }

  /** Which limit a 429 speaks for (see the contract above). */
  #causeOf(plan: Plan, iccid: string | undefined, limit: number | null, now: number): BlockCause | Promise<BlockCause> {
    if (limit !== null) {
      if (iccid !== undefined && plan.perIccid.some((l) => l.limit === limit)) return 'per-iccid';
      if (plan.partner.some((l) => l.limit === limit)) return 'partner';
      if (plan.all.some((l) => l.limit === limit)) return 'all';
    }
    if (iccid === undefined || plan.perIccid.length === 0) return 'partner';
    const requests = plan.perIccid.map((l) => ({ scope: l.scope, key: iccid, limit: l.limit, windowMs: l.windowMs }));
    const full = (state: BudgetState): BlockCause =>
      plan.perIccid.some((l, i) => state.calls[i]!.length >= l.limit) ? 'per-iccid' : 'partner';
    const state = this.#store.inspect(requests, now);
    return state instanceof Promise ? state.then(full) : full(state);
  }

  // --- internals ----------------------------------------------------------------------------------------------------

  #requestBackground(plan: Plan, iccid: string | undefined, demand: Demand, now: number): Decision {
    if (this.#busy(plan, now)) return this.#refuse(plan, demand, 1_000);
    const requests = requestsFor(plan, iccid, plan.backgroundRequests);
    const result = this.#store.acquireAll(requests, now);
    if (result === 0) {
      this.stats.admitted++;
      return GRANTED;
    }
    if (!(result instanceof Promise)) return this.#refuse(plan, demand, Math.max(...result.waits));
    return this.#decidedLater(result, new Ticket(this, plan, iccid, requests, demand), (ticket, decided) => {
      if (ticket.rank < PRIORITY_RANK.background)
        // A client joined while the store decided: its call may wait for budget like any other.
        this.#denied(plan, iccid, ticket.requests, ticket.demand, decided, this.#clock.now(), ticket);
      else ticket.close(this.#refuse(plan, demand, Math.max(...decided.waits)));
    });
  }

  /** Someone needs the budgets `plan` shares: a queued call, or a promised retry (on every endpoint, with `all` limits). */
  #busy(plan: Plan, now: number): boolean {
    const own = this.#queues.get(plan.endpoint);
    if (own && (own.size > 0 || own.partnerPromises(now) > 0)) return true;
    if (!this.#sharedAll) return false;
    for (const queue of this.#queues.values()) if (queue.size > 0 || queue.partnerPromises(now) > 0) return true;
    return false;
  }

  /** A foreground or deferred call the budgets refused now: queued when its estimate is within its bound, else refused. */
  #denied(
    plan: Plan,
    iccid: string | undefined,
    requests: readonly BudgetRequest[],
    demand: Demand,
    state: BudgetState,
    now: number,
    ticket: Ticket | undefined,
  ): Decision {
    const queue = this.#queueOf(plan);
    const claimed = this.#claimPromise(queue, demand.principal, iccid, now);
    const position = this.#positionOfNewcomer(queue, demand, claimed, now);
    const { at, partner } = this.#estimate(plan, iccid, state, now, position);
    const bound = this.#bound(demand.priority);
    if (at - now > bound) {
      const error = this.#refuse(plan, demand, at - now);
      this.#promise(queue, demand.principal, iccid, at, partner, error.retryAfterSeconds, now);
      ticket?.close(error);
      return error;
    }
    const waiting = ticket ?? new Ticket(this, plan, iccid, requests, demand);
    if (ticket && ticket.interests.size === 0) {
      // Every caller left while the store decided: nobody to queue for.
      ticket.close(this.#refuse(plan, demand, at - now));
      return ticket;
    }
    waiting.state = 'queued';
    waiting.queuedAt = now;
    waiting.rank = PRIORITY_RANK[waiting.demand.priority];
    queue.classes[waiting.rank]!.add(waiting);
    this.stats.queued++;
    // When the budgets could first admit a call (the estimate may be later: it counts promised retries, which are
    // not in the queue and may never come).
    this.#wake(queue, now + Math.max(0, ...state.waits));
    return waiting;
  }

  /** Adds a caller's interest to a ticket (Ticket.join). */
  attach(ticket: Ticket, demand: Demand, signal: AbortSignal | undefined, arrivedAt?: number): Promise<void> {
    const now = this.#clock.now();
    // Background callers never queue: they wait for a decision being made, not in line.
    if (demand.priority === 'background' && ticket.state === 'queued')
      return Promise.reject(this.#refuse(ticket.plan, demand, 1_000));
    this.#upgrade(ticket, demand);
    const deadline =
      demand.priority === 'background' ? Number.POSITIVE_INFINITY : (arrivedAt ?? now) + this.#bound(demand.priority);
    return new Promise<void>((resolve, reject) => {
      let cancelTimer: (() => void) | undefined;
      const onAbort = () => this.#leave(ticket, interest, signal!.reason as Error, false);
      const interest: Interest = {
        demand,
        deadline,
        settle: (error) => {
          cancelTimer?.();
          if (signal) unwatchAbort(signal, onAbort);
          if (error) reject(error);
          else resolve();
        },
      };
      ticket.interests.add(interest);
      if (signal) watchAbort(signal, onAbort);
      if (Number.isFinite(deadline)) {
        if (deadline <= now) this.#expire(ticket, interest);
        else cancelTimer = setClockTimer(this.#clock, deadline, () => this.#expire(ticket, interest));
      }
    });
  }

  /** A more urgent caller joined: the ticket moves up (deferred → foreground), at the end of its principal's line. */
  #upgrade(ticket: Ticket, demand: Demand): void {
    const urgent = mostUrgent(ticket.demand, demand);
    if (urgent === ticket.demand || PRIORITY_RANK[urgent.priority] >= ticket.rank) return;
    ticket.demand = { priority: urgent.priority, principal: ticket.principal };
    if (ticket.rank === PRIORITY_RANK.background) {
      // Spare-only limits no longer apply: the full ones do.
      ticket.requests = requestsFor(ticket.plan, ticket.iccid, ticket.plan.partnerRequests);
      ticket.rank = PRIORITY_RANK[urgent.priority];
      return;
    }
    if (ticket.state !== 'queued') return;
    const queue = this.#queues.get(ticket.plan.endpoint)!;
    queue.classes[ticket.rank]!.remove(ticket);
    ticket.rank = PRIORITY_RANK[urgent.priority];
    queue.classes[ticket.rank]!.add(ticket);
  }

  /** A caller's bound passed: it is refused with the estimate of its ticket (a promised retry is remembered). */
  #expire(ticket: Ticket, interest: Interest): void {
    if (!ticket.interests.has(interest)) return;
    if (ticket.deciding) {
      // A grant under way cannot be taken back: admit the caller if it comes, refuse it if not.
      ticket.expiredWhileDeciding.push(interest);
      return;
    }
    const queue = this.#queues.get(ticket.plan.endpoint);
    // A slot freeing at this very instant goes to the waiter first.
    if (queue && queue.wakeAt !== undefined && queue.wakeAt <= this.#clock.now()) this.#pump(queue);
    if (!ticket.interests.has(interest)) return; // admitted meanwhile
    if (ticket.state !== 'queued' || !queue) {
      this.#leave(ticket, interest, this.#refuse(ticket.plan, interest.demand, 1_000), true);
      return;
    }
    const now = this.#clock.now();
    const state = this.#store.inspect(ticket.requests, now);
    const refuse = (s: BudgetState) => {
      if (!ticket.interests.has(interest)) return;
      if (ticket.deciding) {
        ticket.expiredWhileDeciding.push(interest); // the pump took it up meanwhile: its answer decides
        return;
      }
      const at = this.#clock.now();
      const estimate = this.#estimate(ticket.plan, ticket.iccid, s, at, this.#positionOfQueued(queue, ticket, at));
      const error = this.#refuse(ticket.plan, interest.demand, estimate.at - at);
      this.#promise(
        queue,
        interest.demand.principal,
        ticket.iccid,
        estimate.at,
        estimate.partner,
        error.retryAfterSeconds,
        at,
      );
      this.#observer?.waited(ticket.plan.endpoint, interest.demand.priority, at - ticket.queuedAt, 'refused');
      this.#leave(ticket, interest, error, true);
    };
    if (state instanceof Promise) this.#track(state).then(refuse, () => refuse({ waits: [], calls: [] }));
    else refuse(state);
  }

  /** A caller stops waiting (bound passed, or aborted); the last one takes the ticket out of its queue. */
  #leave(ticket: Ticket, interest: Interest, error: Error, refused: boolean): void {
    if (!ticket.interests.delete(interest)) return;
    interest.settle(error);
    if (ticket.interests.size > 0 || ticket.state !== 'queued') return;
    const queue = this.#queues.get(ticket.plan.endpoint)!;
    queue.classes[ticket.rank]!.remove(ticket);
    ticket.close(
      error instanceof BudgetExhaustedError ? error : this.#refuse(ticket.plan, interest.demand, 1_000, !refused),
    );
    if (queue.size === 0) this.#wake(queue, undefined);
  }

  /**
   * Admits waiters in service order while the budgets allow; stops at the first the partner-wide budgets refuse
   * (nobody behind it could pass either) and wakes when they free. A waiter refused only by its ICCID's own budget is
   * passed over until that frees.
   */
  #pump(queue: EndpointQueue): void {
    if (queue.pumping) {
      queue.pumpAgain = true;
      return;
    }
    queue.pumping = true;
    queue.wakeAt = undefined;
    queue.cancelWake?.();
    queue.cancelWake = undefined;
    this.#pumpFrom(queue);
  }

  #pumpFrom(queue: EndpointQueue): void {
    for (;;) {
      queue.pumpAgain = false;
      const now = this.#clock.now();
      let next: Ticket | undefined;
      let later = Number.POSITIVE_INFINITY;
      for (const cls of queue.classes) {
        for (const ticket of cls.order()) {
          if (ticket.notBefore <= now) {
            next = ticket;
            break;
          }
          later = Math.min(later, ticket.notBefore);
        }
        if (next) break;
      }
      if (!next) {
        queue.pumping = false;
        this.#wake(queue, Number.isFinite(later) ? later : undefined);
        return;
      }
      const ticket = next;
      const result = this.#store.acquireAll(ticket.requests, now);
      if (result instanceof Promise) {
        ticket.deciding = true;
        const decided = () => {
          ticket.deciding = false;
          const expired = ticket.expiredWhileDeciding.splice(0);
          if (ticket.state === 'queued') for (const interest of expired) this.#expire(ticket, interest);
        };
        this.#track(result).then(
          (answer) => {
            const more = this.#admitted(queue, ticket, answer, this.#clock.now());
            decided();
            if (more || queue.pumpAgain) this.#pumpFrom(queue);
            else queue.pumping = false;
          },
          (error: unknown) => {
            decided();
            queue.pumping = false;
            this.#logger?.warn({ err: String(error) }, 'scheduler: budget store failed; retrying in 1 s');
            this.#wake(queue, this.#clock.now() + 1_000);
          },
        );
        return;
      }
      if (!this.#admitted(queue, ticket, result, now)) {
        if (queue.pumpAgain) continue;
        queue.pumping = false;
        return;
      }
    }
  }

  /** The pump's decision for `ticket`; true to go on with the next waiter. */
  #admitted(queue: EndpointQueue, ticket: Ticket, result: 0 | BudgetState, now: number): boolean {
    if (result === 0) {
      this.stats.admitted++;
      if (ticket.state !== 'queued') {
        // Left while a fleet-wide store decided: the slot is spent without a call (rare; never over a limit).
        this.#logger?.debug({ endpoint: ticket.plan.endpoint }, 'scheduler: admitted a waiter that had left');
        return true;
      }
      queue.classes[ticket.rank]!.served(ticket);
      this.#observer?.waited(ticket.plan.endpoint, ticket.demand.priority, now - ticket.queuedAt, 'admitted');
      ticket.grant();
      return true;
    }
    const iccidParts = ticket.iccid === undefined ? 0 : ticket.plan.perIccid.length + 1;
    let partnerWait = 0;
    for (let i = iccidParts; i < result.waits.length; i++) partnerWait = Math.max(partnerWait, result.waits[i]!);
    if (partnerWait > 0) {
      this.#wake(queue, now + partnerWait);
      return false;
    }
    let own = 0;
    for (let i = 0; i < iccidParts; i++) own = Math.max(own, result.waits[i]!);
    ticket.notBefore = now + Math.max(1, own);
    return true;
  }

  /** Sets the queue's one wake-up to `at` when that is sooner (undefined: none needed); due now → pumps at once. */
  #wake(queue: EndpointQueue, at: number | undefined): void {
    if (at === undefined) {
      queue.cancelWake?.();
      queue.cancelWake = undefined;
      queue.wakeAt = undefined;
      return;
    }
    if (queue.size === 0) return;
    if (at <= this.#clock.now()) {
      this.#pump(queue);
      return;
    }
    if (queue.wakeAt !== undefined && queue.wakeAt <= at) return;
    queue.cancelWake?.();
    queue.wakeAt = at;
    queue.cancelWake = setClockTimer(this.#clock, at, () => {
      queue.cancelWake = undefined;
      this.#pump(queue);
    });
  }

  /**
   * A newcomer's place in the service order (0 = next), counting the promised retries of every principal as theirs:
   * its principal's waiters and promises ahead of it (a returning promise keeps its place among them), then, round by
   * round, one of every other principal's — a principal ahead of it in the rotation gets one more round.
   */
  #positionOfNewcomer(queue: EndpointQueue, demand: Demand, claimed: PromisedRetry | undefined, now: number): number {
    queue.partnerPromises(now); // drops the expired ones
    const rank = Math.min(PRIORITY_RANK[demand.priority], 1);
    const cls = queue.classes[rank]!;
    const principal = demand.principal;
    const own = cls.fifos.get(principal)?.length ?? 0;
    const ownPromises = queue.promises.get(principal) ?? [];
    const promisesAhead = claimed
      ? ownPromises.filter((p) => p.partner && p.at < claimed.at).length
      : queue.partnerPromisesOf(principal);
    const k = own + promisesAhead;
    const inRotation = cls.fifos.has(principal);
    return (rank === 1 ? queue.classes[0].size : 0) + k + this.#othersAhead(queue, cls, principal, k, inRotation);
  }

  /** A queued ticket's place in the service order now (its estimate when its bound passes). */
  #positionOfQueued(queue: EndpointQueue, ticket: Ticket, now: number): number {
    queue.partnerPromises(now);
    const cls = queue.classes[ticket.rank]!;
    const k = Math.max(0, cls.fifos.get(ticket.principal)?.indexOf(ticket) ?? 0);
    return (
      (ticket.rank === 1 ? queue.classes[0].size : 0) + k + this.#othersAhead(queue, cls, ticket.principal, k, true)
    );
  }

  #othersAhead(queue: EndpointQueue, cls: ClassQueue, principal: string, k: number, inRotation: boolean): number {
    let ahead = 0;
    let before = true; // principals before `principal` in the rotation get round k too
    const counted = new Set<string>();
    for (const [other, fifo] of cls.fifos) {
      if (other === principal) {
        before = false;
        continue;
      }
      counted.add(other);
      const n = fifo.length + queue.partnerPromisesOf(other);
      ahead += Math.min(n, before || !inRotation ? k + 1 : k);
    }
    // Principals with only promised retries rejoin the rotation ahead of a newcomer.
    for (const other of queue.promises.keys()) {
      if (other === principal || counted.has(other)) continue;
      ahead += Math.min(queue.partnerPromisesOf(other), k + 1);
    }
    return ahead;
  }

  /**
   * When the call at service position `position` will be admitted: the latest of its partner-wide budgets' slot for
   * that position, its ICCID's own first slot, and any block. `partner`: the partner-wide side decided it.
   */
  #estimate(
    plan: Plan,
    iccid: string | undefined,
    state: BudgetState,
    now: number,
    position: number,
  ): { at: number; partner: boolean } {
    const iccidParts = iccid === undefined ? 0 : plan.perIccid.length + 1;
    let own = now;
    for (let i = 0; i < iccidParts; i++) {
      const limit = plan.perIccid[i];
      const slot = limit ? slotTime(state.calls[i] ?? [], limit.limit, limit.windowMs, now, 0) : now;
      own = Math.max(own, slot, now + (state.waits[i] ?? 0));
    }
    const limits = [...plan.partner, ...plan.all];
    let shared = now;
    for (let i = iccidParts; i < state.waits.length; i++) {
      const limit = limits[i - iccidParts];
      const slot = limit ? slotTime(state.calls[i] ?? [], limit.limit, limit.windowMs, now, position) : now;
      shared = Math.max(shared, slot, now + (state.waits[i] ?? 0));
    }
    return { at: Math.max(own, shared), partner: shared >= own && shared > now };
  }

  /** Remembers a refusal's promised retry: estimates count it until `retryAfterSeconds` (+ grace) have passed. */
  #promise(
    queue: EndpointQueue,
    principal: string,
    iccid: string | undefined,
    at: number,
    partner: boolean,
    retryAfterSeconds: number,
    now: number,
  ): void {
    queue.addPromise(principal, {
      iccid,
      at,
      expires: now + retryAfterSeconds * 1000 + PROMISE_GRACE_MS,
      partner,
    });
  }

  /** The caller's own promised retry, when this call is it (same principal and ICCID): taken out of the count. */
  #claimPromise(
    queue: EndpointQueue,
    principal: string,
    iccid: string | undefined,
    now: number,
  ): PromisedRetry | undefined {
    const claimed = queue.promises.get(principal)?.find((p) => p.iccid === iccid && p.expires > now);
    if (claimed) queue.removePromise(principal, claimed);
    return claimed;
  }

  /** A refusal with the estimate `waitMs`, counted. `quiet`: a caller that left (aborted), not a refusal. */
  #refuse(plan: Plan, demand: Demand, waitMs: number, quiet = false): BudgetExhaustedError {
    const wait = Math.max(0, waitMs);
    const seconds = Math.max(1, Math.ceil(wait / 1000));
    if (!quiet) {
      this.stats.refused++;
      this.#observer?.refused(plan.endpoint, demand.priority);
    }
    return new BudgetExhaustedError(plan.endpoint, seconds, wait);
  }

  #failed(ticket: Ticket, error: unknown): void {
    // Stores never reject (contract); should one, the call is refused rather than sent unchecked.
    this.#logger?.warn({ err: String(error) }, 'scheduler: budget decision failed; call refused');
    if (ticket.state === 'deciding') ticket.close(this.#refuse(ticket.plan, ticket.demand, 1_000));
  }

  /** Counts `promise` as a decision under way until it settles (`deciding`). */
  #track<T>(promise: Promise<T>): Promise<T> {
    this.#pending++;
    const done = () => {
      this.#pending--;
    };
    promise.then(done, done);
    return promise;
  }

  #bound(priority: Priority): number {
    if (priority === 'foreground') return this.#waits.foregroundWaitMs;
    if (priority === 'deferred') return this.#waits.deferredWaitMs;
    return 0;
  }

  #queueOf(plan: Plan): EndpointQueue {
    let queue = this.#queues.get(plan.endpoint);
    if (!queue) {
      queue = new EndpointQueue();
      this.#queues.set(plan.endpoint, queue);
    }
    return queue;
  }
}

/** `marginMs`: see SchedulerConfig.marginMs — every window is counted that much longer than the upstream's. */
function limitOf(scope: string, limit: RateLimit, marginMs: number): Limit {
  return { scope, limit: limit.limit, windowMs: limit.windowMs + marginMs };
}

function block(scope: string, key: string): BudgetRequest {
  return { scope, key, limit: Number.POSITIVE_INFINITY, windowMs: 1 };
}

/** [the ICCID's budgets…, its block] + `shared` (partner-wide budgets and blocks); `shared` alone without an ICCID. */
function requestsFor(plan: Plan, iccid: string | undefined, shared: BudgetRequest[]): BudgetRequest[] {
  if (iccid === undefined) return shared;
  const requests: BudgetRequest[] = [];
  for (const l of plan.perIccid) requests.push({ scope: l.scope, key: iccid, limit: l.limit, windowMs: l.windowMs });
  requests.push(block(plan.endpoint, iccid));
  for (const r of shared) requests.push(r);
  return requests;
}

/**
 * When the call `position` places after now (0 = the next) is admitted by a sliding window of `limit` calls per
 * `windowMs` holding `calls` (oldest first): each call needs the call `limit` places before it to have left the
 * window, and the calls between are admitted as early as they can be.
 */
export function slotTime(calls: readonly number[], limit: number, windowMs: number, now: number, position: number) {
  const whole = Math.floor(limit);
  if (!Number.isFinite(whole)) return now;
  if (whole < 1) return now + windowMs;
  const times = calls.slice(-whole);
  let at = now;
  for (let k = 0; k <= position; k++) {
    const earlier = times.length >= whole ? times[times.length - whole] : undefined;
    at = earlier === undefined ? now : Math.max(now, earlier + windowMs);
    times.push(at);
  }
  return at;
}
