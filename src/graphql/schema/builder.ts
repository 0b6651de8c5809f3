/**
 * The Pothos SchemaBuilder and the custom scalars. Defines no domain types: those live one per file
 * next to this one and are assembled by `./index.ts`.
 */
import SchemaBuilder from '@pothos/core';
import { GraphQLError, Kind } from 'graphql';
import type { GatewayContext } from '../context.ts';

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  DefaultFieldNullability: false;
  Scalars: {
    ID: { Input: string; Output: string };
    /** ISO-8601 in UTC; resolvers return ISO strings or epoch milliseconds. */
    DateTime: { Input: Date; Output: string | number | Date };
    Decimal: { Input: string; Output: string };
  };
}>({
  // Non-null unless a field says otherwise: nullability is chosen per field, on purpose.
  defaultFieldNullability: false,
});

const DECIMAL = /^-?\d+(\.\d+)?$/;

builder.scalarType('DateTime', {
  description: 'An instant, serialised as ISO-8601 in UTC, e.g. "2026-01-01T00:00:00.000Z".',
  serialize: (value) => {
    const date = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
  parseLiteral: (ast) => {
    const date = ast.kind === Kind.STRING ? new Date(ast.value) : undefined;
    if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
    return date;
  },
});

builder.scalarType('Decimal', {
  description: 'An exact decimal number serialised as a string, e.g. "22.50". Money is never a float.',
  serialize: (value) => {
    if (typeof value !== 'string' || !DECIMAL.test(value)) throw new TypeError('Decimal must be a decimal string');
    return value;
  },
  parseValue: (value) => {
    if (typeof value !== 'string' || !DECIMAL.test(value))
      throw new GraphQLError('Decimal must be a decimal string like "22.50"');
    return value;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING || !DECIMAL.test(ast.value))
      throw new GraphQLError('Decimal must be a decimal string like "22.50"');
    return ast.value;
  },
});

builder.queryType({});
builder.mutationType({});
