/** `GET balance` → the partner account's available balance. */
import { z } from 'zod';
import { decimal, fail, optString } from './conversions.ts';

export interface Balance {
  amount: string;
  currency: string;
}

const balanceEntry = z.object({
  name: optString,
  availableBalance: z.object({ amount: decimal, currency: z.string().min(1) }),
});

/**
 * `balances` is one object in every example although the prose speaks of an array (empty when there is no account).
 * No entry is a contract violation, never a zero: reporting `0.00 USD` for a balance the upstream did not send would
 * tell a partner their account is empty.
 */
export const balanceResponseSchema = z
  .object({ data: z.object({ balances: z.union([balanceEntry, z.array(balanceEntry)]) }) })
  .transform(({ data }, ctx): Balance => {
    const entries = Array.isArray(data.balances) ? data.balances : [data.balances];
    const entry = entries.find((e) => e.name === 'balance') ?? entries[0];
    if (!entry) return fail(ctx, data.balances, 'no balance entry');
    return { amount: entry.availableBalance.amount, currency: entry.availableBalance.currency };
  });
