/**
 * Airalo's notifications, simulated: opt-in settings per type, and real deliveries — a signed JSON POST to the
 * opted-in URL — when
 * - a SIM's data used crosses 75 % / 90 % of its newest package, or its expiry comes within 3 days / 1 day
 *   (`webhook_low_data`; levels `75%`, `90%`, `3days`, `1days`), on the sandbox clock;
 * - the partner balance's use of the credit limit (`creditLimit`, default the initial balance) crosses one of the
 *   opted-in `levels` (`webhook_credit_limit`);
 * - the webhook simulator is called.
 *
 * Assumptions where the docs are silent (src/sandbox/README.md): each level fires once per SIM and package (a top-up
 * re-arms it), and levels already reached when a SIM is first looked at after an opt-in do not fire; the body is
 * compact JSON with `/` escaped as `\/` (PHP's json_encode), signed as sent: hex HMAC-SHA512 with the client secret in
 * `airalo-signature`; a delivery that fails (network error, 5 s timeout, non-2xx) is retried after 1 s, 5 s and 25 s
 * (`webhookRetryDelaysMs`), then dropped. Only SIMs the sandbox has materialised (read or bought through the API,
 * or touched through the control API) are watched, so a million-SIM data set costs nothing until used.
 */
import { createHmac } from 'node:crypto';
import type { SimRecord } from './data.ts';
import type { SandboxState } from './state.ts';

export const NOTIFICATION_TYPES = [
  'webhook_low_data',
  'webhook_credit_limit',
  'async_orders',
  'email_low_data',
  'email_credit_limit',
] as const;
export type SandboxNotificationType = (typeof NOTIFICATION_TYPES)[number];

export interface NotificationSetting {
  type: SandboxNotificationType;
  contactPoint: string;
  levels: number[] | null;
}

export interface DeliveryAttempt {
  /** HTTP status, or 0 for a network error / timeout. */
  status: number;
  /** Real time (ms since epoch) the attempt was sent. */
  sentAt: number;
}

export interface Delivery {
  type: SandboxNotificationType;
  url: string;
  body: string;
  signature: string;
  attempts: DeliveryAttempt[];
  delivered: boolean;
}

const DAY = 86_400_000;
const MAX_DELIVERY_LOG = 10_000;

export class NotificationCenter {
  readonly settings = new Map<SandboxNotificationType, NotificationSetting>();
  readonly deliveries: Delivery[] = [];
  /** Per ICCID: the levels already fired (`<packageId>:<level>`); absent = not looked at since the opt-in. */
  readonly #fired = new Map<string, Set<string>>();
  /** Credit-limit levels already fired; undefined = not looked at since the opt-in. */
  #balanceFired: Set<number> | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(private readonly state: SandboxState) {}

  optIn(setting: NotificationSetting): void {
    this.settings.set(setting.type, setting);
    if (setting.type === 'webhook_low_data') this.#fired.clear();
    if (setting.type === 'webhook_credit_limit') this.#balanceFired = undefined;
  }

  optOut(type: SandboxNotificationType): void {
    this.settings.delete(type);
  }

  reset(): void {
    this.settings.clear();
    this.#fired.clear();
    this.#balanceFired = undefined;
    this.deliveries.length = 0;
  }

  /** Looks at every materialised SIM and the balance; delivers what crossed a level. */
  check(): void {
    if (this.settings.has('webhook_low_data')) for (const sim of this.state.data.materialisedSims()) this.checkSim(sim);
    this.checkBalance();
  }

  /** Delivers the SIM's newly reached levels; the first look after an opt-in only records them. */
  checkSim(sim: SimRecord): void {
    const setting = this.settings.get('webhook_low_data');
    if (!setting) return;
    const reached = reachedLevels(sim, this.state.clock.now());
    const fired = this.#fired.get(sim.iccid);
    if (!fired) {
      this.#fired.set(sim.iccid, new Set(reached.map((r) => r.key)));
      return;
    }
    for (const level of reached) {
      if (fired.has(level.key)) continue;
      fired.add(level.key);
      this.deliver(setting, level.payload);
    }
  }

  checkBalance(): void {
    const setting = this.settings.get('webhook_credit_limit');
    if (!setting?.levels) return;
    const limitCents = Math.round(this.state.options.creditLimit * 100);
    const usedPercent = limitCents <= 0 ? 0 : (100 * (limitCents - this.state.balanceCents)) / limitCents;
    const reached = setting.levels.filter((l) => usedPercent >= l);
    if (!this.#balanceFired) {
      this.#balanceFired = new Set(reached);
      return;
    }
    // A balance topped up again re-arms the levels it is back under.
    for (const level of this.#balanceFired) if (usedPercent < level) this.#balanceFired.delete(level);
    for (const level of reached.sort((a, b) => a - b)) {
      if (this.#balanceFired.has(level)) continue;
      this.#balanceFired.add(level);
      this.deliver(setting, {
        message: `Surpassed ${level}% of the credit limit balance`,
        remaining: this.state.balanceCents / 100,
      });
    }
  }

  /** Marks a SIM as looked at (so a change made next is a crossing, not a baseline). */
  baseline(sim: SimRecord): void {
    if (!this.#fired.has(sim.iccid)) this.checkSim(sim);
  }

  /** Signs and POSTs `payload` to the setting's URL, with the retries described above. */
  deliver(setting: NotificationSetting, payload: Record<string, unknown>): Delivery {
    const body = JSON.stringify(payload).replaceAll('/', '\\/');
    const signature = createHmac('sha512', this.state.options.credentials.clientSecret).update(body).digest('hex');
    const delivery: Delivery = {
      type: setting.type,
      url: setting.contactPoint,
      body,
      signature,
      attempts: [],
      delivered: false,
    };
    if (this.deliveries.length >= MAX_DELIVERY_LOG) this.deliveries.splice(0, MAX_DELIVERY_LOG / 2);
    this.deliveries.push(delivery);
    if (setting.type.startsWith('email_')) return delivery; // e-mail is not simulated
    const run = this.#send(delivery, 0).finally(() => this.#inFlight.delete(run));
    this.#inFlight.add(run);
    return delivery;
  }

  async #send(delivery: Delivery, retry: number): Promise<void> {
    if (this.#closed) return;
    const attempt: DeliveryAttempt = { status: 0, sentAt: Date.now() };
    delivery.attempts.push(attempt);
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'airalo-signature': delivery.signature },
        body: delivery.body,
        signal: AbortSignal.timeout(5_000),
      });
      attempt.status = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch {
      attempt.status = 0;
    }
    if (attempt.status >= 200 && attempt.status < 300) {
      delivery.delivered = true;
      return;
    }
    const delay = this.state.options.webhookRetryDelaysMs[retry];
    if (delay === undefined || this.#closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, delay);
      this.#timers.add(timer);
    });
    await this.#send(delivery, retry + 1);
  }

  /** Resolves when every delivery under way has succeeded or given up. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}

interface Reached {
  key: string;
  payload: Record<string, unknown>;
}

/** The low-data and expiry levels `sim` has reached now, for its newest package. */
function reachedLevels(sim: SimRecord, now: number): Reached[] {
  const newest = sim.purchases[sim.purchases.length - 1];
  if (!newest || sim.status !== 'ACTIVE') return [];
  const pkg = newest.pkg.id;
  const remainingPercentage =
    sim.isUnlimited || sim.totalMb <= 0 ? 100 : Math.round((100 * sim.remainingMb) / sim.totalMb);
  const reached: Reached[] = [];
  const add = (level: string) =>
    reached.push({
      key: `${pkg}:${level}`,
      payload: { level, package_name: pkg, remaining_percentage: remainingPercentage, iccid: sim.iccid },
    });
  if (!sim.isUnlimited && sim.totalMb > 0) {
    const used = 100 - (100 * sim.remainingMb) / sim.totalMb;
    if (used >= 75) add('75%');
    if (used >= 90) add('90%');
  }
  if (sim.usageExpiredAt !== null && sim.usageExpiredAt > now) {
    if (sim.usageExpiredAt - now <= 3 * DAY) add('3days');
    if (sim.usageExpiredAt - now <= DAY) add('1days');
  }
  return reached;
}

/** Simulator `type` → the level it delivers. The docs show `expire_1`; the levels themselves are accepted too. */
export const SIMULATOR_LEVELS: Readonly<Record<string, string>> = {
  expire_1: '1days',
  expire_3: '3days',
  data_75: '75%',
  data_90: '90%',
  '1days': '1days',
  '3days': '3days',
  '75%': '75%',
  '90%': '90%',
};
