import { readFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema/index.ts';

describe('committed schema', () => {
  it('schema/schema.graphql matches the printed, sorted schema (run `npm run schema:print` to update)', () => {
    const committed = readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(`${printSchema(schema)}\n`);
  });

  it('keeps the binding public contract', () => {
    const sdl = printSchema(schema);
    for (const line of [
      'sim(iccid: ID!): Sim',
      // Top-level resource fields are nullable: one failing field never blanks the page (CHANGELOG, Unreleased).
      'sims(iccids: [ID!]!): [Sim]\n',
      'balance: Balance\n',
      'purchaseTopup(input: PurchaseTopupInput!): PurchaseTopupResult!',
      'usage: Usage',
      'topupPackages: [TopupPackage!]',
      'packageHistory: [PackageHistory!]',
    ]) {
      expect(sdl).toContain(line);
    }
    expect(sdl).toMatch(
      /simList\(\s*after: String\s+first: Int = 20\s+("{3}.*"{3}\s+)?iccidContains: String\s*\): SimConnection\n/s,
    );
    expect(sdl).toMatch(/union PurchaseTopupResult = .*PurchaseTopupSuccess/);
    expect(sdl).toMatch(/enum SimStatus \{\s+ACTIVE\s+EXPIRED\s+FINISHED\s+NOT_ACTIVE\s+RECYCLED\s+UNKNOWN\s+\}/);
  });
});
