/** `Money`: an exact decimal amount with its currency. */
import { builder } from './builder.ts';

export interface MoneyValue {
  amount: string;
  currency: string;
}

export const MoneyRef = builder.objectRef<MoneyValue>('Money').implement({
  description: 'An amount of money: a string-serialised decimal and an ISO-4217 currency code.',
  fields: (t) => ({
    amount: t.expose('amount', { type: 'Decimal' }),
    currency: t.exposeString('currency'),
  }),
});

export const money = (amount: string | null, currency: string): MoneyValue | null =>
  amount === null ? null : { amount, currency };
