/**
 * The alert flow inside one replica: a verified webhook delivery is parsed, deduplicated (24 h, fleet-wide with
 * Redis); its effects are applied to the caches (effects.ts; the caches' invalidation bus takes them to the other
 * replicas) and it is published on the event bus, from which every replica — this one included — pushes it to its
 * own subscribers. Deliveries are acknowledged before any of this runs
 * (`receive` only verifies the signature); `drain()` waits for the work under way.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.ts';
import type { EventBus } from '../../stores/events/types.ts';
import type { WebhookDedupe } from '../../stores/webhook-dedupe/types.ts';
import type { GatewayCaches } from '../cache/index.ts';
import { applyAlertEffects } from './effects.ts';
import { type BalanceAlertEvent, type PublishedAlert, parseAlert, type SimAlertEvent } from './events.ts';
import { verifySignature } from './signature.ts';
import type { Stream, SubscriptionRegistry } from './subscriptions.ts';

export type WebhookOutcome = 'published' | 'duplicate' | 'unknown' | 'invalid' | 'unauthorized' | 'failed';

export interface AlertHubOptions {
  caches: GatewayCaches;
  bus: EventBus<PublishedAlert>;
  dedupe: WebhookDedupe;
  registry: SubscriptionRegistry;
  clock: Clock;
  logger: Logger;
  /** The partner's client secret: the webhook signing key. */
  secret: string;
}

export class AlertHub {
  readonly #o: AlertHubOptions;
  readonly #bySim = new Map<string, Set<Stream<SimAlertEvent>>>();
  readonly #allSims = new Set<Stream<SimAlertEvent>>();
  readonly #balance = new Set<Stream<BalanceAlertEvent>>();
  readonly #pending = new Set<Promise<void>>();
  readonly #unsubscribe: () => void;
  readonly outcomes = new Map<WebhookOutcome, number>();
  /** Alerts received from the bus (every replica counts each alert once). */
  received = 0;

  constructor(options: AlertHubOptions) {
    this.#o = options;
    this.#unsubscribe = options.bus.subscribe((event) => this.#onEvent(event));
  }

  /**
   * Verifies a delivery's signature over its raw bytes; on success schedules its processing and returns at once
   * (the HTTP answer must not wait for Redis or anything else).
   */
  receive(raw: Uint8Array, signature: string | null | undefined): 'accepted' | 'unauthorized' {
    if (!verifySignature(raw, signature, this.#o.secret)) {
      this.#count('unauthorized');
      return 'unauthorized';
    }
    const receivedAt = this.#o.clock.now();
    const work = this.#process(raw, receivedAt)
      .catch((error: Error) => {
        this.#count('failed');
        this.#o.logger.error({ err: { name: error.name, message: error.message } }, 'webhook: processing failed');
      })
      .finally(() => this.#pending.delete(work));
    this.#pending.add(work);
    return 'accepted';
  }

  async #process(raw: Uint8Array, receivedAt: number): Promise<void> {
    let event: ReturnType<typeof parseAlert>;
    try {
      event = parseAlert(raw, receivedAt);
    } catch {
      this.#count('invalid');
      this.#o.logger.warn({ bytes: raw.length }, 'webhook: signed body is not a JSON object; ignored');
      return;
    }
    if (!(await this.#o.dedupe.firstSeen(event.dedupeKey))) {
      this.#count('duplicate');
      this.#o.logger.info({ type: event.type }, 'webhook: redelivery ignored');
      return;
    }
    if (event.type === 'unknown') {
      this.#count('unknown');
      this.#o.logger.info({ keys: event.keys }, 'webhook: unknown event type acknowledged and ignored');
      return;
    }
    this.#count('published');
    this.#o.logger.info(
      event.type === 'sim' ? { type: event.type, iccid: event.iccid, level: event.level } : { type: event.type },
      'webhook: alert published',
    );
    // Once, here: the caches' own invalidation bus carries the change to every other replica (README "Running
    // several replicas"); applying it on each replica as well would repeat every L2 delete and drop message N times.
    applyAlertEffects(this.#o.caches, event);
    await this.#o.bus.publish(event);
  }

  #count(outcome: WebhookOutcome): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }

  #onEvent(event: PublishedAlert): void {
    this.received++;
    if (event.type === 'sim') {
      for (const stream of this.#allSims) stream.push(event);
      const streams = this.#bySim.get(event.iccid);
      if (streams) for (const stream of streams) stream.push(event);
    } else {
      for (const stream of this.#balance) stream.push(event);
    }
  }

  /** SIM alerts for `iccids` (already authorised by the caller), or for every SIM when undefined (partners only). */
  simAlerts(principalId: string, iccids: readonly string[] | undefined): AsyncIterableIterator<SimAlertEvent> {
    return this.#o.registry.open<SimAlertEvent>(principalId, 'simAlerts', (stream) => {
      if (!iccids) {
        this.#allSims.add(stream);
        return () => this.#allSims.delete(stream);
      }
      const keys = [...new Set(iccids)];
      for (const iccid of keys) {
        let set = this.#bySim.get(iccid);
        if (!set) {
          set = new Set();
          this.#bySim.set(iccid, set);
        }
        set.add(stream);
      }
      return () => {
        for (const iccid of keys) {
          const set = this.#bySim.get(iccid);
          set?.delete(stream);
          if (set?.size === 0) this.#bySim.delete(iccid);
        }
      };
    });
  }

  balanceAlerts(principalId: string): AsyncIterableIterator<BalanceAlertEvent> {
    return this.#o.registry.open<BalanceAlertEvent>(principalId, 'balanceAlerts', (stream) => {
      this.#balance.add(stream);
      return () => this.#balance.delete(stream);
    });
  }

  /** Waits for deliveries being processed. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  close(): void {
    this.#unsubscribe();
  }
}
