/**
 * The order reference and the request fingerprint of `purchaseTopup` (README "Purchasing top-ups safely"). Where the
 * idempotency records live is src/stores/purchase-records/; these helpers are what makes a key findable upstream
 * without any record: the reference is derived from principal + key only, so every replica and every restart finds
 * the same order.
 */
import { createHash } from 'node:crypto';

/**
 * The reference written into the upstream order's description: derived from principal and key (never stored), so a
 * retry after a restart or an eviction finds the same order, and two principals using the same key never find each
 * other's orders; opaque (a truncated SHA-256), so it reveals neither.
 */
export function orderReference(principalId: string, key: string): string {
  return `gw-${createHash('sha256').update(`${principalId}\u0000${key}`).digest('hex').slice(0, 20)}`;
}

/**
 * Where the reference goes: the very end of the order's description, as ` [gw-…]` (or the whole description when the
 * client gave none). Only that place counts when searching: the client writes the rest of the description, so a
 * reference anywhere else is text, never a match — and client descriptions holding the syntax are refused up front.
 */
export function describedWithReference(description: string | null, reference: string): string {
  return description ? `${description} [${reference}]` : `[${reference}]`;
}

/** True when `stored` (an upstream order's description) carries `reference` where the gateway puts it. */
export function carriesReference(stored: string | null, reference: string): boolean {
  if (stored === null) return false;
  const marker = `[${reference}]`;
  return stored === marker || stored.endsWith(` ${marker}`);
}

/** The reference syntax (`[gw-`, or a bare `gw-` + 20 hex digits), refused in client descriptions. */
export function containsReferenceSyntax(text: string): boolean {
  return /\[\s*gw-/i.test(text) || /gw-[0-9a-f]{20}/i.test(text);
}

/**
 * Same key must mean same purchase: anything that changes what is bought is part of the fingerprint. A digest, so a
 * shared store holds no client text and compares fixed-size values.
 */
export function fingerprintOf(input: { iccid: string; packageId: string; description: string | null }): string {
  return createHash('sha256')
    .update(JSON.stringify([input.iccid, input.packageId, input.description ?? '']))
    .digest('hex');
}
