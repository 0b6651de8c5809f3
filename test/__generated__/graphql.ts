/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
export type PackageStatus =
  | 'ACTIVE'
  | 'EXPIRED'
  | 'FINISHED'
  | 'NOT_ACTIVE'
  | 'UNKNOWN';

export type PackageType =
  | 'INITIAL'
  | 'SIM'
  | 'TOPUP';

export type PurchaseTopupInput = {
  /** Free text stored with the order (≤ 200 characters, without the gateway's reference syntax "[gw-…"; the gateway appends its reference). */
  description?: string | null | undefined;
  iccid: string;
  /** Client-chosen key (e.g. a UUID) identifying this purchase. Retrying with the same key never buys twice. */
  idempotencyKey: string;
  /** An id from `Sim.topupPackages`. */
  packageId: string;
};

/** The SIM's state as the upstream reports it in usage. */
export type SimStatus =
  | 'ACTIVE'
  | 'EXPIRED'
  | 'FINISHED'
  | 'NOT_ACTIVE'
  | 'RECYCLED'
  | 'UNKNOWN';

export type MyEsimsQueryVariables = Exact<{ [key: string]: never; }>;


export type MyEsimsQuery = { balance: { available: { amount: string, currency: string } } | null, simList: { totalCount: number, nodes: Array<{ iccid: string, usage: { status: SimStatus, remainingMb: number | null, totalMb: number | null, usedMb: number | null, expiresAt: string | null, fetchedAt: string, stale: boolean } | null, topupPackages: Array<{ id: string, title: string, validityDays: number | null, price: { amount: string, currency: string } }> | null, packageHistory: Array<{ status: PackageStatus, activatedAt: string | null, package: { title: string, type: PackageType } }> | null }> } | null };

export type FleetClaimsPurchaseMutationVariables = Exact<{
  input: PurchaseTopupInput;
}>;


export type FleetClaimsPurchaseMutation = { purchaseTopup:
    | { __typename: 'IdempotencyInProgressError', code: string, message: string, retryAfterSeconds: number | null }
    | { __typename: 'IdempotencyKeyReusedError', code: string, message: string }
    | { __typename: 'InsufficientFundsError', code: string, message: string }
    | { __typename: 'OperatorMaintenanceError', code: string, message: string }
    | { __typename: 'PackageNotAvailableError', code: string, message: string }
    | { __typename: 'PurchaseRefusedError', code: string, message: string }
    | { __typename: 'PurchaseTopupSuccess', replayed: boolean, order: { id: string, packageId: string, description: string | null } }
    | { __typename: 'PurchasesUnavailableError', code: string, message: string, retryAfterSeconds: number | null }
    | { __typename: 'RateLimitedError', code: string, message: string }
    | { __typename: 'SimNotFoundError', code: string, message: string }
    | { __typename: 'SimRecycledError', code: string, message: string }
    | { __typename: 'TopupDisabledError', code: string, message: string }
    | { __typename: 'UpstreamUnavailableError', code: string, message: string }
   };

export type OneSimQueryVariables = Exact<{
  iccid: string;
}>;


export type OneSimQuery = { sim: { iccid: string, usage: { status: SimStatus } | null } | null };

export type AliasedSimsQueryVariables = Exact<{
  mine: string;
  theirs: string;
  both: Array<string> | string;
}>;


export type AliasedSimsQuery = { mine: { iccid: string } | null, theirs: { iccid: string } | null, list: Array<{ iccid: string } | null> | null };

export type MySimListQueryVariables = Exact<{ [key: string]: never; }>;


export type MySimListQuery = { simList: { totalCount: number, nodes: Array<{ iccid: string }> } | null };

export type PartnerBalanceAsUserQueryVariables = Exact<{ [key: string]: never; }>;


export type PartnerBalanceAsUserQuery = { balance: { available: { amount: string } } | null };

export type BuyAsMutationVariables = Exact<{
  input: PurchaseTopupInput;
}>;


export type BuyAsMutation = { purchaseTopup:
    | { __typename: 'IdempotencyInProgressError', code: string, message: string }
    | { __typename: 'IdempotencyKeyReusedError', code: string, message: string }
    | { __typename: 'InsufficientFundsError', code: string, message: string }
    | { __typename: 'OperatorMaintenanceError', code: string, message: string }
    | { __typename: 'PackageNotAvailableError', code: string, message: string }
    | { __typename: 'PurchaseRefusedError', code: string, message: string }
    | { __typename: 'PurchaseTopupSuccess', order: { id: string } }
    | { __typename: 'PurchasesUnavailableError', code: string, message: string }
    | { __typename: 'RateLimitedError', code: string, message: string }
    | { __typename: 'SimNotFoundError', code: string, message: string }
    | { __typename: 'SimRecycledError', code: string, message: string }
    | { __typename: 'TopupDisabledError', code: string, message: string }
    | { __typename: 'UpstreamUnavailableError', code: string, message: string }
   };

export type DeferredUsageQueryVariables = Exact<{
  first: number;
}>;


export type DeferredUsageQuery = { simList: { totalCount: number, nodes: Array<{ iccid: string } & ({ usage: { status: SimStatus, remainingMb: number | null, totalMb: number | null, fetchedAt: string, stale: boolean } | null } | { usage?: never })> } | null };

export type PlainUsageQueryVariables = Exact<{
  first: number;
}>;


export type PlainUsageQuery = { simList: { nodes: Array<{ iccid: string, usage: { status: SimStatus, remainingMb: number | null, totalMb: number | null, fetchedAt: string, stale: boolean } | null }> } | null };

export type StreamedSimsQueryVariables = Exact<{
  iccids: Array<string> | string;
}>;


export type StreamedSimsQuery = { sims: Array<{ iccid: string, usage: { status: SimStatus } | null } | null> | null };

export type MaybeDeferredQueryVariables = Exact<{
  first: number;
  defer: boolean;
}>;


export type MaybeDeferredQuery = { simList: { nodes: Array<{ iccid: string } & ({ usage: { status: SimStatus } | null } | { usage?: never })> } | null };

export type PersistedSimsQueryVariables = Exact<{
  iccids: Array<string> | string;
}>;


export type PersistedSimsQuery = { sims: Array<{ iccid: string, usage: { status: SimStatus, remainingMb: number | null } | null } | null> | null };

export type PurchaseTopupMutationVariables = Exact<{
  input: PurchaseTopupInput;
}>;


export type PurchaseTopupMutation = { purchaseTopup:
    | { __typename: 'IdempotencyInProgressError', code: string, message: string, retryAfterSeconds: number | null }
    | { __typename: 'IdempotencyKeyReusedError', code: string, message: string }
    | { __typename: 'InsufficientFundsError', code: string, message: string }
    | { __typename: 'OperatorMaintenanceError', code: string, message: string }
    | { __typename: 'PackageNotAvailableError', code: string, message: string }
    | { __typename: 'PurchaseRefusedError', code: string, message: string }
    | { __typename: 'PurchaseTopupSuccess', replayed: boolean, order: { id: string, code: string, packageId: string, title: string | null, createdAt: string, description: string | null, price: { amount: string, currency: string } }, sim: { iccid: string } }
    | { __typename: 'PurchasesUnavailableError', code: string, message: string }
    | { __typename: 'RateLimitedError', code: string, message: string, retryAfterSeconds: number | null }
    | { __typename: 'SimNotFoundError', code: string, message: string }
    | { __typename: 'SimRecycledError', code: string, message: string }
    | { __typename: 'TopupDisabledError', code: string, message: string }
    | { __typename: 'UpstreamUnavailableError', code: string, message: string, retryAfterSeconds: number | null }
   };

export type AfterPurchaseQueryVariables = Exact<{
  iccid: string;
}>;


export type AfterPurchaseQuery = { balance: { available: { amount: string } } | null, sim: { topupPackages: Array<{ id: string, price: { amount: string } }> | null, packageHistory: Array<{ id: string, package: { id: string, type: PackageType } }> | null } | null };

export type SimScreenQueryVariables = Exact<{
  iccid: string;
}>;


export type SimScreenQuery = { sim: { iccid: string, createdAt: string | null, lpa: string | null, matchingId: string | null, qrCode: string | null, qrCodeUrl: string | null, appleInstallUrl: string | null, apnType: string | null, apnValue: string | null, isRoaming: boolean | null, recycled: boolean, recycledAt: string | null, voucherCode: string | null, confirmationCode: string | null, detailsFetchedAt: string, usage: { status: SimStatus, remainingMb: number | null, totalMb: number | null, usedMb: number | null, isUnlimited: boolean | null, expiresAt: string | null, remainingVoiceMinutes: number | null, totalVoiceMinutes: number | null, remainingTexts: number | null, totalTexts: number | null, fetchedAt: string, stale: boolean } | null, topupPackages: Array<{ id: string, title: string, amountMb: number | null, validityDays: number | null, isUnlimited: boolean, dataLabel: string | null, voiceMinutes: number | null, texts: number | null, shortInfo: string | null, price: { amount: string, currency: string }, netPrice: { amount: string, currency: string } | null }> | null, packageHistory: Array<{ id: string, status: PackageStatus, remainingMb: number | null, activatedAt: string | null, expiresAt: string | null, finishedAt: string | null, package: { id: string, type: PackageType, title: string, amountMb: number | null, validityDays: number | null, isUnlimited: boolean | null, dataLabel: string | null, price: { amount: string, currency: string } | null, netPrice: { amount: string, currency: string } | null } }> | null } | null };

export type ManySimsQueryVariables = Exact<{
  iccids: Array<string> | string;
}>;


export type ManySimsQuery = { first: Array<{ iccid: string, usage: { remainingMb: number | null, status: SimStatus } | null, topupPackages: Array<{ id: string }> | null } | null> | null, second: Array<{ iccid: string, usage: { totalMb: number | null } | null, packageHistory: Array<{ id: string }> | null } | null> | null };

export type UsageOnlyQueryVariables = Exact<{
  iccids: Array<string> | string;
}>;


export type UsageOnlyQuery = { sims: Array<{ iccid: string, usage: { status: SimStatus, remainingMb: number | null, fetchedAt: string, stale: boolean } | null } | null> | null };

export type SimListQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  iccidContains?: string | null | undefined;
}>;


export type SimListQuery = { simList: { totalCount: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, node: { iccid: string, lpa: string | null } }> } | null };

export type PartnerBalanceQueryVariables = Exact<{ [key: string]: never; }>;


export type PartnerBalanceQuery = { balance: { fetchedAt: string, stale: boolean, available: { amount: string, currency: string } } | null };

export type SimResourcesQueryVariables = Exact<{
  iccid: string;
}>;


export type SimResourcesQuery = { sim: { iccid: string, usage: { status: SimStatus, remainingMb: number | null, stale: boolean, fetchedAt: string } | null, topupPackages: Array<{ id: string }> | null, packageHistoryInfo: { stale: boolean, fetchedAt: string, entries: Array<{ id: string }> } | null } | null };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const MyEsimsDocument = new TypedDocumentString(`
    query MyEsims {
  balance {
    available {
      amount
      currency
    }
  }
  simList(first: 5) {
    totalCount
    nodes {
      iccid
      usage {
        status
        remainingMb
        totalMb
        usedMb
        expiresAt
        fetchedAt
        stale
      }
      topupPackages {
        id
        title
        validityDays
        price {
          amount
          currency
        }
      }
      packageHistory {
        status
        activatedAt
        package {
          title
          type
        }
      }
    }
  }
}
    `, {"hash":"sha256:5a17bebcb790026d3517c461cc1724dccc1dd8eff57c51338490b70dca4e5954"}) as unknown as TypedDocumentString<MyEsimsQuery, MyEsimsQueryVariables>;
export const FleetClaimsPurchaseDocument = new TypedDocumentString(`
    mutation FleetClaimsPurchase($input: PurchaseTopupInput!) {
  purchaseTopup(input: $input) {
    __typename
    ... on PurchaseTopupSuccess {
      replayed
      order {
        id
        packageId
        description
      }
    }
    ... on Error {
      code
      message
    }
    ... on IdempotencyInProgressError {
      retryAfterSeconds
    }
    ... on PurchasesUnavailableError {
      retryAfterSeconds
    }
  }
}
    `, {"hash":"sha256:da0c6973659582e957737769a16b0a277264112e022e04976f6126bc6c31a17f"}) as unknown as TypedDocumentString<FleetClaimsPurchaseMutation, FleetClaimsPurchaseMutationVariables>;
export const OneSimDocument = new TypedDocumentString(`
    query OneSim($iccid: ID!) {
  sim(iccid: $iccid) {
    iccid
    usage {
      status
    }
  }
}
    `, {"hash":"sha256:17d87c4ac1d23a1c072576dc93004375c7f2abc96b8c1747d77cfcc66f455c6d"}) as unknown as TypedDocumentString<OneSimQuery, OneSimQueryVariables>;
export const AliasedSimsDocument = new TypedDocumentString(`
    query AliasedSims($mine: ID!, $theirs: ID!, $both: [ID!]!) {
  mine: sim(iccid: $mine) {
    iccid
  }
  theirs: sim(iccid: $theirs) {
    iccid
  }
  list: sims(iccids: $both) {
    iccid
  }
}
    `, {"hash":"sha256:c8f46cd3792b0d55e7677f9ab4055cae49ea6feac68de62be85262f8be0d2db6"}) as unknown as TypedDocumentString<AliasedSimsQuery, AliasedSimsQueryVariables>;
export const MySimListDocument = new TypedDocumentString(`
    query MySimList {
  simList(first: 10) {
    totalCount
    nodes {
      iccid
    }
  }
}
    `, {"hash":"sha256:a3490e464360a3f2a9ba106ccf1974cd35baa150f22566103261a423c03746a3"}) as unknown as TypedDocumentString<MySimListQuery, MySimListQueryVariables>;
export const PartnerBalanceAsUserDocument = new TypedDocumentString(`
    query PartnerBalanceAsUser {
  balance {
    available {
      amount
    }
  }
}
    `, {"hash":"sha256:4f05b57cc383821cf01d53b0d8d2be0b69cbe6c92615807b02e73b76c21a905e"}) as unknown as TypedDocumentString<PartnerBalanceAsUserQuery, PartnerBalanceAsUserQueryVariables>;
export const BuyAsDocument = new TypedDocumentString(`
    mutation BuyAs($input: PurchaseTopupInput!) {
  purchaseTopup(input: $input) {
    __typename
    ... on Error {
      code
      message
    }
    ... on PurchaseTopupSuccess {
      order {
        id
      }
    }
  }
}
    `, {"hash":"sha256:f1a12e6e6e83ba7a9a6be6fa054ec7b71b3fe5685b89705274a65d59a8c5fe50"}) as unknown as TypedDocumentString<BuyAsMutation, BuyAsMutationVariables>;
export const DeferredUsageDocument = new TypedDocumentString(`
    query DeferredUsage($first: Int!) {
  simList(first: $first) {
    totalCount
    nodes {
      iccid
      ... @defer(label: "usage") {
        usage {
          status
          remainingMb
          totalMb
          fetchedAt
          stale
        }
      }
    }
  }
}
    `, {"hash":"sha256:793aba4cfa61e274006d6c0eb9214a232cc5ca30d6167be82eff8cc5abc8a7f9"}) as unknown as TypedDocumentString<DeferredUsageQuery, DeferredUsageQueryVariables>;
export const PlainUsageDocument = new TypedDocumentString(`
    query PlainUsage($first: Int!) {
  simList(first: $first) {
    nodes {
      iccid
      usage {
        status
        remainingMb
        totalMb
        fetchedAt
        stale
      }
    }
  }
}
    `, {"hash":"sha256:a91112062b2ab95beafc123eb5566c385a9ba06e47aa064eab2c1150a59f9015"}) as unknown as TypedDocumentString<PlainUsageQuery, PlainUsageQueryVariables>;
export const StreamedSimsDocument = new TypedDocumentString(`
    query StreamedSims($iccids: [ID!]!) {
  sims(iccids: $iccids) @stream(initialCount: 5) {
    iccid
    usage {
      status
    }
  }
}
    `, {"hash":"sha256:43feb873d67c58d34750fc82d9ab64693c7096dcbefb557d90933b264d6c2a48"}) as unknown as TypedDocumentString<StreamedSimsQuery, StreamedSimsQueryVariables>;
export const MaybeDeferredDocument = new TypedDocumentString(`
    query MaybeDeferred($first: Int!, $defer: Boolean!) {
  simList(first: $first) {
    nodes {
      iccid
      ... @defer(if: $defer) {
        usage {
          status
        }
      }
    }
  }
}
    `, {"hash":"sha256:a33c954409fc2818e138019d5935e48744ac5734008494181bef98cc38a6fdc3"}) as unknown as TypedDocumentString<MaybeDeferredQuery, MaybeDeferredQueryVariables>;
export const PersistedSimsDocument = new TypedDocumentString(`
    query PersistedSims($iccids: [ID!]!) {
  sims(iccids: $iccids) {
    iccid
    usage {
      status
      remainingMb
    }
  }
}
    `, {"hash":"sha256:ee26cd9bb85d377182647f110ca0bcfe825e27d7e9c435d690ca1ebe74bcc4f8"}) as unknown as TypedDocumentString<PersistedSimsQuery, PersistedSimsQueryVariables>;
export const PurchaseTopupDocument = new TypedDocumentString(`
    mutation PurchaseTopup($input: PurchaseTopupInput!) {
  purchaseTopup(input: $input) {
    __typename
    ... on PurchaseTopupSuccess {
      replayed
      order {
        id
        code
        packageId
        title
        price {
          amount
          currency
        }
        createdAt
        description
      }
      sim {
        iccid
      }
    }
    ... on Error {
      code
      message
    }
    ... on RateLimitedError {
      retryAfterSeconds
    }
    ... on UpstreamUnavailableError {
      retryAfterSeconds
    }
    ... on IdempotencyInProgressError {
      retryAfterSeconds
    }
  }
}
    `, {"hash":"sha256:fdcc5316571f8f84086368293cada928e39c8d25297922c030cc2c31a3653680"}) as unknown as TypedDocumentString<PurchaseTopupMutation, PurchaseTopupMutationVariables>;
export const AfterPurchaseDocument = new TypedDocumentString(`
    query AfterPurchase($iccid: ID!) {
  balance {
    available {
      amount
    }
  }
  sim(iccid: $iccid) {
    topupPackages {
      id
      price {
        amount
      }
    }
    packageHistory {
      id
      package {
        id
        type
      }
    }
  }
}
    `, {"hash":"sha256:1baf3485f52d8f8336ae9b9cd1d0a796c264c29cd78ac443ec8702312ed3e89f"}) as unknown as TypedDocumentString<AfterPurchaseQuery, AfterPurchaseQueryVariables>;
export const SimScreenDocument = new TypedDocumentString(`
    query SimScreen($iccid: ID!) {
  sim(iccid: $iccid) {
    iccid
    createdAt
    lpa
    matchingId
    qrCode
    qrCodeUrl
    appleInstallUrl
    apnType
    apnValue
    isRoaming
    recycled
    recycledAt
    voucherCode
    confirmationCode
    detailsFetchedAt
    usage {
      status
      remainingMb
      totalMb
      usedMb
      isUnlimited
      expiresAt
      remainingVoiceMinutes
      totalVoiceMinutes
      remainingTexts
      totalTexts
      fetchedAt
      stale
    }
    topupPackages {
      id
      title
      price {
        amount
        currency
      }
      netPrice {
        amount
        currency
      }
      amountMb
      validityDays
      isUnlimited
      dataLabel
      voiceMinutes
      texts
      shortInfo
    }
    packageHistory {
      id
      status
      remainingMb
      activatedAt
      expiresAt
      finishedAt
      package {
        id
        type
        title
        price {
          amount
          currency
        }
        netPrice {
          amount
          currency
        }
        amountMb
        validityDays
        isUnlimited
        dataLabel
      }
    }
  }
}
    `, {"hash":"sha256:cd4ee71492704f70e7d3f8bab6caebf88c10d2fc73dc0c69b8ff79b26e00882d"}) as unknown as TypedDocumentString<SimScreenQuery, SimScreenQueryVariables>;
export const ManySimsDocument = new TypedDocumentString(`
    query ManySims($iccids: [ID!]!) {
  first: sims(iccids: $iccids) {
    iccid
    usage {
      remainingMb
      status
    }
    topupPackages {
      id
    }
  }
  second: sims(iccids: $iccids) {
    iccid
    usage {
      totalMb
    }
    packageHistory {
      id
    }
  }
}
    `, {"hash":"sha256:1689af99c314750574420fc05366bc095e80cf2cd5b6e5f2af1fecd39b3d54c8"}) as unknown as TypedDocumentString<ManySimsQuery, ManySimsQueryVariables>;
export const UsageOnlyDocument = new TypedDocumentString(`
    query UsageOnly($iccids: [ID!]!) {
  sims(iccids: $iccids) {
    iccid
    usage {
      status
      remainingMb
      fetchedAt
      stale
    }
  }
}
    `, {"hash":"sha256:77b275960c4dfa3df7d57f3ef80a9f589614d4c7e3a463debc9e7e26808b784b"}) as unknown as TypedDocumentString<UsageOnlyQuery, UsageOnlyQueryVariables>;
export const SimListDocument = new TypedDocumentString(`
    query SimList($first: Int, $after: String, $iccidContains: String) {
  simList(first: $first, after: $after, iccidContains: $iccidContains) {
    totalCount
    pageInfo {
      hasNextPage
      hasPreviousPage
      startCursor
      endCursor
    }
    edges {
      cursor
      node {
        iccid
        lpa
      }
    }
  }
}
    `, {"hash":"sha256:6bfbfe956edfefd20018e9b2a882faa5970463494835c5c042ec08a214d5ff23"}) as unknown as TypedDocumentString<SimListQuery, SimListQueryVariables>;
export const PartnerBalanceDocument = new TypedDocumentString(`
    query PartnerBalance {
  balance {
    available {
      amount
      currency
    }
    fetchedAt
    stale
  }
}
    `, {"hash":"sha256:5796712f876ed7a641c8997bf6c53786006750ec0a8dd4e801af7318aa2110b0"}) as unknown as TypedDocumentString<PartnerBalanceQuery, PartnerBalanceQueryVariables>;
export const SimResourcesDocument = new TypedDocumentString(`
    query SimResources($iccid: ID!) {
  sim(iccid: $iccid) {
    iccid
    usage {
      status
      remainingMb
      stale
      fetchedAt
    }
    topupPackages {
      id
    }
    packageHistoryInfo {
      stale
      fetchedAt
      entries {
        id
      }
    }
  }
}
    `, {"hash":"sha256:5068730ad63a56862e910d87f9e2c6028aa6ca23997e44a9fd3bd8bda521531f"}) as unknown as TypedDocumentString<SimResourcesQuery, SimResourcesQueryVariables>;