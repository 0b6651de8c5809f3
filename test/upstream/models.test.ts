import { describe, expect, it } from 'vitest';
import { toDecimalString, toIsoUtc } from '../../src/upstream/index.ts';
import {
  balanceResponseSchema,
  historyResponseSchema,
  isNotFoundBody,
  simSchema,
} from '../../src/upstream/models/index.ts';
import { airalo, fixture, pressone } from './helpers.ts';

describe('toDecimalString', () => {
  it.each([
    [10, '10.00'],
    [22.5, '22.50'],
    ['9.50', '9.50'],
    [4.125, '4.125'],
    [0, '0.00'],
    [0.3, '0.30'],
    [1e21, '1000000000000000000000.00'],
    [1e-7, '0.0000001'],
    ['  7 ', '7.00'],
    ['007.5', '7.50'],
    ['.5', '0.50'],
    [-3.1, '-3.10'],
    ['-0', '0.00'],
    ['1.5e3', '1500.00'],
  ])('%s → %s', (input, expected) => {
    expect(toDecimalString(input)).toBe(expected);
  });

  it.each([['ten'], [''], ['1,000.00'], [Number.NaN], [Number.POSITIVE_INFINITY], ['1.2.3']])('rejects %s', (input) => {
    expect(() => toDecimalString(input)).toThrow(RangeError);
  });
});

describe('toIsoUtc', () => {
  it.each([
    ['2022-01-01 00:00:00', '2022-01-01T00:00:00.000Z'],
    ['2023-01-09T10:30:45+00:00', '2023-01-09T10:30:45.000Z'],
    ['2024-01-15T10:30:00Z', '2024-01-15T10:30:00.000Z'],
    ['2024-01-15T12:30:00+02:00', '2024-01-15T10:30:00.000Z'],
    ['2024-01-15T05:30:00-0500', '2024-01-15T10:30:00.000Z'],
    ['2024-01-15T10:30:00', '2024-01-15T10:30:00.000Z'],
    ['2024-01-15', '2024-01-15T00:00:00.000Z'],
    ['', null],
    ['0000-00-00 00:00:00', null],
  ])('%s → %s', (input, expected) => {
    expect(toIsoUtc(input)).toBe(expected);
  });

  it.each([['yesterday'], ['2024-13-45 10:00:00'], ['15/01/2024']])('rejects %s', (input) => {
    expect(() => toIsoUtc(input)).toThrow(RangeError);
  });
});

describe('schemas', () => {
  it('accepts balances as one object or an array', () => {
    const one = JSON.parse(fixture(pressone, 'balance.200'));
    expect(balanceResponseSchema.parse(one)).toEqual({ amount: '0.00', currency: 'USD' });
    const many = { data: { balances: [{ name: 'balance', availableBalance: { amount: '1500.5', currency: 'EUR' } }] } };
    expect(balanceResponseSchema.parse(many)).toEqual({ amount: '1500.50', currency: 'EUR' });
  });

  it('refuses an empty balances list instead of reading it as zero', () => {
    const result = balanceResponseSchema.safeParse({ data: { balances: [] }, meta: { message: 'success' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('no balance entry');
  });

  it('produces the same history from the PressOne and the Airalo envelope', () => {
    const pressoneBody = JSON.parse(fixture(pressone, 'packages.200'));
    const airaloBody = {
      data: pressoneBody.data.data.map((e: { status: string }) => ({ ...e, status: e.status.toUpperCase() })),
    };
    expect(historyResponseSchema.parse(pressoneBody)).toEqual(historyResponseSchema.parse(airaloBody));
  });

  it('nulls remaining MB of unlimited history entries', () => {
    const body = {
      data: [
        {
          id: 5,
          status: 'active',
          remaining: 0,
          activated_at: null,
          expired_at: null,
          finished_at: null,
          package: { id: 'u', type: 'SIM', title: 'Unlimited', price: '3', amount: 0, day: 1, is_unlimited: true },
        },
      ],
    };
    expect(historyResponseSchema.parse(body)[0]).toMatchObject({
      remainingMb: null,
      package: { type: 'SIM', amountMb: null, isUnlimited: true, price: '3.00', currency: 'USD' },
    });
  });

  it('recognises the not-found body, whatever the status, and only that body', () => {
    expect(isNotFoundBody(JSON.parse(fixture(airalo, 'topups.200-not-found')))).toBe(true);
    expect(isNotFoundBody(JSON.parse(fixture(airalo, 'usage.404')))).toBe(true);
    expect(isNotFoundBody(JSON.parse(fixture(airalo, 'topups.200-empty')))).toBe(false);
    expect(isNotFoundBody({ data: [], meta: { message: 'succes' } })).toBe(false);
  });

  it('coerces string numbers and booleans in an eSIM', () => {
    const sim = simSchema.parse({
      id: '7',
      iccid: '8944465400000267221',
      is_roaming: 1,
      recycled: '0',
      simable: { id: 3, validity: '30', price: 27 },
    });
    expect(sim).toMatchObject({
      id: '7',
      isRoaming: true,
      recycled: false,
      createdAt: null,
      initialOrder: { id: '3', validityDays: 30, price: '27.00', status: null },
    });
  });
});
