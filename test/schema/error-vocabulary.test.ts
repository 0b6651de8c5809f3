/** The purchaseTopup result union is generated from the error vocabulary (src/domain/errors.ts), not written again. */
import type { GraphQLObjectType, GraphQLUnionType } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CODES,
  PERMANENT_FAILURES,
  PURCHASE_FAILURE_CODES,
  RETRY_AFTER_FAILURES,
} from '../../src/domain/errors.ts';
import { schema } from '../../src/graphql/schema/index.ts';

const union = schema.getType('PurchaseTopupResult') as GraphQLUnionType;
const members = union.getTypes().filter((t) => t.name !== 'PurchaseTopupSuccess');

describe('error vocabulary', () => {
  it('lists each code once', () => {
    const codes = ERROR_CODES.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('the union has one Error member per purchase failure code', () => {
    // The schema is sorted (lexicographicSortSchema).
    expect(members.map((t) => t.name)).toEqual([
      'IdempotencyInProgressError',
      'IdempotencyKeyReusedError',
      'InsufficientFundsError',
      'OperatorMaintenanceError',
      'PackageNotAvailableError',
      'PurchaseRefusedError',
      'PurchasesUnavailableError',
      'RateLimitedError',
      'SimNotFoundError',
      'SimRecycledError',
      'TopupDisabledError',
      'UpstreamUnavailableError',
    ]);
    expect(members).toHaveLength(PURCHASE_FAILURE_CODES.length);
    for (const type of members) expect(type.getInterfaces().map((i) => i.name)).toEqual(['Error']);
  });

  it('each failure code resolves to its own member, which carries retryAfterSeconds exactly when the vocabulary says so', () => {
    const resolveType = union.resolveType!;
    for (const code of PURCHASE_FAILURE_CODES) {
      const name = resolveType({ kind: 'failure', code, message: '' }, {}, {} as never, union) as string;
      const type = schema.getType(name) as GraphQLObjectType;
      expect(members).toContain(type);
      expect(type.isTypeOf?.({ kind: 'failure', code, message: '' }, {}, {} as never)).toBe(true);
      expect('retryAfterSeconds' in type.getFields(), code).toBe(RETRY_AFTER_FAILURES.has(code));
    }
  });

  it('permanent failures are exactly those that cannot change on a retry', () => {
    expect([...PERMANENT_FAILURES].sort()).toEqual([
      'PACKAGE_NOT_AVAILABLE',
      'SIM_NOT_FOUND',
      'SIM_RECYCLED',
      'TOPUP_DISABLED',
    ]);
  });
});
