/**
 * Webhook signatures: `airalo-signature` is the hex HMAC-SHA512 of the request body keyed with the partner's client
 * secret. Verified over the raw bytes received — never over a re-serialisation of the parsed JSON (the docs' samples
 * do that; it breaks on key order, whitespace and `\/` escapes) — and compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const HEX_SHA512 = /^[0-9a-f]{128}$/i;

export function signPayload(raw: Uint8Array | string, secret: string): string {
  return createHmac('sha512', secret).update(raw).digest('hex');
}

/** True only for a well-formed signature that matches `raw`. */
export function verifySignature(raw: Uint8Array, header: string | null | undefined, secret: string): boolean {
  const presented = header?.trim();
  if (!presented || !HEX_SHA512.test(presented)) return false;
  const expected = createHmac('sha512', secret).update(raw).digest();
  return timingSafeEqual(expected, Buffer.from(presented, 'hex'));
}
