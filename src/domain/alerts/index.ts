/** Live alerts: webhook deliveries in (signature, parsing, dedupe, effects), subscription streams out. No GraphQL. */
export {
  type AlertEvent,
  type BalanceAlertEvent,
  type PublishedAlert,
  parseAlert,
  SIM_ALERT_KINDS,
  type SimAlertEvent,
  type SimAlertKind,
} from './events.ts';
export { AlertHub, type WebhookOutcome } from './hub.ts';
export { signPayload, verifySignature } from './signature.ts';
export { SubscriptionLimitError, SubscriptionRegistry } from './subscriptions.ts';
export { type UsageUpdate, UsageWatch } from './usage-watch.ts';
