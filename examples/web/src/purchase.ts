/**
 * Buying a top-up safely. One purchase intent (this SIM, this package, this click) = one idempotency key, generated
 * once; every retry of that intent reuses it, so the gateway buys at most once however often the request is sent.
 * Retried: network failures (the request may or may not have reached the gateway: only the key makes a retry safe)
 * and IdempotencyInProgressError (the first attempt is still being placed). Never retried: answers, including
 * refusals — they are final for this intent (a new click is a new intent with a new key).
 */
import type { Client } from 'urql';
import { BuyTopupDocument, type BuyTopupMutation } from './__generated__/graphql.ts';

export type PurchaseOutcome =
  | { kind: 'result'; result: BuyTopupMutation['purchaseTopup']; attempts: number; idempotencyKey: string }
  | { kind: 'failed'; message: string; attempts: number; idempotencyKey: string };

const MAX_ATTEMPTS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function purchaseTopup(
  client: Client,
  iccid: string,
  packageId: string,
  onAttempt?: (attempt: number) => void,
): Promise<PurchaseOutcome> {
  const idempotencyKey = crypto.randomUUID(); // once per intent, before the first attempt
  let lastError = '';
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    onAttempt?.(attempt);
    const { data, error } = await client
      .mutation(BuyTopupDocument, { input: { iccid, packageId, idempotencyKey, description: 'web example' } })
      .toPromise();
    const result = data?.purchaseTopup;
    if (result && result.__typename !== 'IdempotencyInProgressError')
      return { kind: 'result', result, attempts: attempt, idempotencyKey };
    if (result) {
      lastError = result.message;
      await sleep(Math.min(result.retryAfterSeconds ?? 1, 5) * 1000);
      continue;
    }
    if (!error?.networkError)
      return { kind: 'failed', message: error?.message ?? 'no answer', attempts: attempt, idempotencyKey };
    lastError = error.networkError.message;
    await sleep(250 * 2 ** (attempt - 1)); // 250 ms, 500 ms, 1 s
  }
  return {
    kind: 'failed',
    message: `gave up after ${MAX_ATTEMPTS} attempts: ${lastError}`,
    attempts: MAX_ATTEMPTS,
    idempotencyKey,
  };
}
