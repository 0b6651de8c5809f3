/**
 * What an alert changes in the gateway's state, in one place (so that the fleet-wide invalidation bus can take
 * over here): a SIM alert makes that SIM's usage and history re-read on next access, a balance alert the balance.
 * Runs on every replica for every alert it receives from the event bus, so the effect is fleet-wide.
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
