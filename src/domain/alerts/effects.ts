/**
 * What an alert changes in the gateway's state, in one place: a SIM alert makes that SIM's usage and history re-read
 * on next access, a balance alert the balance. Runs once, on the replica that received the webhook; the caches'
 * invalidation bus makes the change fleet-wide.
 */
import { BALANCE_KEY, type GatewayCaches } from '../cache/index.ts';
import type { PublishedAlert } from './events.ts';

export function applyAlertEffects(caches: GatewayCaches, event: PublishedAlert): void {
  if (event.type === 'sim') {
    caches.usage.invalidate(event.iccid);
    caches.history.invalidate(event.iccid);
  } else {
    caches.balance.invalidate(BALANCE_KEY);
  }
}
