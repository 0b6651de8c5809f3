/** Live-alert metrics on the gateway's registry: open subscriptions and delivered events per field, webhooks by outcome. */
import { Gauge, type Registry } from 'prom-client';
import type { AlertHub, SubscriptionRegistry, UsageWatch } from '../domain/alerts/index.ts';

export function registerAlertMetrics(
  registry: Registry,
  alerts: { hub: AlertHub; usage: UsageWatch; subscriptions: SubscriptionRegistry },
): void {
  new Gauge({
    name: 'gateway_subscriptions_open',
    help: 'Open GraphQL subscriptions by field',
    labelNames: ['field'],
    registers: [registry],
    collect() {
      for (const [field, open] of alerts.subscriptions.openByField) this.set({ field }, open);
    },
  });
  new Gauge({
    name: 'gateway_subscription_events_delivered',
    help: 'Cumulative events pushed to subscribers by field',
    labelNames: ['field'],
    registers: [registry],
    collect() {
      for (const [field, count] of alerts.subscriptions.deliveredByField) this.set({ field }, count);
    },
  });
  new Gauge({
    name: 'gateway_webhook_deliveries',
    help: 'Cumulative webhook deliveries by outcome (published, duplicate, unknown, invalid, unauthorized, failed)',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      for (const [outcome, count] of alerts.hub.outcomes) this.set({ outcome }, count);
    },
  });
  new Gauge({
    name: 'gateway_usage_watched_sims',
    help: 'SIMs whose usage is refreshed for usageUpdates subscribers',
    registers: [registry],
    collect() {
      this.set(alerts.usage.size);
    },
  });
}
