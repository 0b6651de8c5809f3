/** API keys, end-user JWTs and per-user isolation, through the whole stack. */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../__generated__/gql.ts';
import { type Harness, startHarness } from '../support/harness.ts';

const JWT_SECRET = 'test-jwt-secret-that-is-long-enough-for-hs256';
const API_KEY = 'partner-backend-key-0123456789abcdef';

const OneSim = graphql(`
  query OneSim($iccid: ID!) {
    sim(iccid: $iccid) { iccid usage { status } }
  }
`);

const AliasedSims = graphql(`
  query AliasedSims($mine: ID!, $theirs: ID!, $both: [ID!]!) {
    mine: sim(iccid: $mine) { iccid }
    theirs: sim(iccid: $theirs) { iccid }
    list: sims(iccids: $both) { iccid }
  }
`);

const MySimList = graphql(`
  query MySimList {
    simList(first: 10) { totalCount nodes { iccid } }
  }
`);

const PartnerBalanceAsUser = graphql(`
  query PartnerBalanceAsUser {
    balance { available { amount } }
  }
`);

const BuyAs = graphql(`
  mutation BuyAs($input: PurchaseTopupInput!) {
    purchaseTopup(input: $input) {
      __typename
      ... on Error { code message }
      ... on PurchaseTopupSuccess { order { id } }
    }
  }
`);

let h: Harness;
let mine: string;
let theirs: string;
let unknown: string;

/** Signed on the gateway's clock: issued now, valid for an hour. */
const token = (sub: string, iccids: string[], secret = JWT_SECRET) =>
  new SignJWT({ iccids })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt(Math.floor(h.clock.now() / 1000))
    .setExpirationTime(Math.floor(h.clock.now() / 1000) + 3600)
    .sign(new TextEncoder().encode(secret));

const asUser = async (iccids: string[], sub = 'user-1') => ({ authorization: `Bearer ${await token(sub, iccids)}` });
const asPartner = { 'x-api-key': API_KEY };

beforeAll(async () => {
  h = await startHarness({ env: { AUTH_API_KEYS: `backend:${API_KEY}`, AUTH_JWT_SECRET: JWT_SECRET } });
  [mine, theirs] = h.sandbox.control.iccids({ status: 'ACTIVE', hasTopups: true }) as [string, string];
  unknown = '8999999999999999999';
});
afterAll(async () => h?.close());

describe('authentication', () => {
  it('answers 401 UNAUTHENTICATED without credentials, with a wrong API key, or with a forged or expired token', async () => {
    const forged = await token('user-1', [mine], 'another-secret-that-is-long-enough-for-hs256');
    const expired = await new SignJWT({ iccids: [mine] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-1')
      .setIssuedAt(Math.floor(h.clock.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(h.clock.now() / 1000) - 60)
      .sign(new TextEncoder().encode(JWT_SECRET));
    const attempts: Record<string, string>[] = [
      {},
      { 'x-api-key': 'wrong-key-wrong-key-wrong-key' },
      { authorization: `Bearer ${forged}` },
      { authorization: `Bearer ${expired}` },
    ];
    for (const headers of attempts) {
      const result = await h.gql(OneSim, { iccid: mine }, headers);
      expect(result.status).toBe(401);
      expect(result.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
      expect(result.data ?? null).toBeNull();
    }
  });

  it('gives a partner API key full access, balance included', async () => {
    const sim = await h.gql(OneSim, { iccid: theirs }, asPartner);
    expect(sim.data!.sim!.iccid).toBe(theirs);
    const balance = await h.gql(PartnerBalanceAsUser, {}, asPartner);
    expect(balance.data!.balance!.available.amount).toMatch(/^\d+\.\d{2}$/);
  });
});

describe('end-user isolation', () => {
  it("answers a SIM that is not the user's exactly like one that does not exist", async () => {
    const headers = await asUser([mine]);
    const notMine = await h.gql(OneSim, { iccid: theirs }, headers);
    const missing = await h.gql(OneSim, { iccid: unknown }, headers);
    expect(JSON.stringify(notMine).replaceAll(theirs, 'X')).toBe(JSON.stringify(missing).replaceAll(unknown, 'X'));
    expect(notMine.errors![0]!.extensions!.code).toBe('SIM_NOT_FOUND');
    const own = await h.gql(OneSim, { iccid: mine }, headers);
    expect(own.data!.sim!.iccid).toBe(mine);
  });

  it('holds through aliases, sims() and cache hits', async () => {
    // A partner warms the cache for both SIMs first.
    await h.gql(AliasedSims, { mine, theirs, both: [mine, theirs] }, asPartner);
    const before = h.sandbox.control.countCalls();
    const result = await h.gql(AliasedSims, { mine, theirs, both: [theirs, mine, theirs] }, await asUser([mine]));
    expect(result.data!.mine!.iccid).toBe(mine);
    expect(result.data!.theirs).toBeNull();
    expect(result.data!.list!.map((s) => s?.iccid ?? null)).toEqual([null, mine, null]);
    expect(result.errors!.map((e) => e.extensions!.code)).toEqual(['SIM_NOT_FOUND', 'SIM_NOT_FOUND', 'SIM_NOT_FOUND']);
    expect(h.sandbox.control.countCalls()).toBe(before);
  });

  it("lists only the user's own SIMs in simList", async () => {
    const result = await h.gql(MySimList, {}, await asUser([mine, unknown]));
    expect(result.data!.simList!.nodes.map((n) => n.iccid)).toEqual([mine]);
  });

  it("never shows an end user the partner's balance", async () => {
    const result = await h.gql(PartnerBalanceAsUser, {}, await asUser([mine]));
    expect(result.data).toEqual({ balance: null });
    expect(result.errors![0]!.extensions!.code).toBe('FORBIDDEN');
  });

  it('lets an end user buy only for their own SIMs, with keys scoped per user', async () => {
    const packageId = h.sandbox.control.topupPackageIds(theirs).find((id) => !id.startsWith('sandbox-trigger-'))!;
    const ordersBefore = h.sandbox.control.orders().length;
    const refused = await h.gql(
      BuyAs,
      { input: { iccid: theirs, packageId, idempotencyKey: 'user-key' } },
      await asUser([mine]),
    );
    expect(refused.data!.purchaseTopup).toMatchObject({ __typename: 'SimNotFoundError', code: 'SIM_NOT_FOUND' });
    expect(h.sandbox.control.orders()).toHaveLength(ordersBefore);

    const ownerHeaders = await asUser([theirs], 'user-2');
    const bought = await h.gql(
      BuyAs,
      { input: { iccid: theirs, packageId, idempotencyKey: 'user-key' } },
      ownerHeaders,
    );
    expect(bought.data!.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    // The same key from another principal is a different purchase (no cross-user replay)...
    const partner = await h.gql(BuyAs, { input: { iccid: theirs, packageId, idempotencyKey: 'user-key' } }, asPartner);
    expect(partner.data!.purchaseTopup.__typename).toBe('PurchaseTopupSuccess');
    expect((partner.data!.purchaseTopup as any).order.id).not.toBe((bought.data!.purchaseTopup as any).order.id);
    expect(h.sandbox.control.orders()).toHaveLength(ordersBefore + 2);
  });
});
