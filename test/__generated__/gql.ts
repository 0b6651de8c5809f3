/* eslint-disable */
import * as types from './graphql.ts';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query MyEsims {\n  balance {\n    available {\n      amount\n      currency\n    }\n  }\n  simList(first: 5) {\n    totalCount\n    nodes {\n      iccid\n      usage {\n        status\n        remainingMb\n        totalMb\n        usedMb\n        expiresAt\n        fetchedAt\n        stale\n      }\n      topupPackages {\n        id\n        title\n        validityDays\n        price {\n          amount\n          currency\n        }\n      }\n      packageHistory {\n        status\n        activatedAt\n        package {\n          title\n          type\n        }\n      }\n    }\n  }\n}": typeof types.MyEsimsDocument,
    "\n  mutation FleetClaimsPurchase($input: PurchaseTopupInput!) {\n    purchaseTopup(input: $input) {\n      __typename\n      ... on PurchaseTopupSuccess { replayed order { id packageId description } }\n      ... on Error { code message }\n      ... on IdempotencyInProgressError { retryAfterSeconds }\n      ... on PurchasesUnavailableError { retryAfterSeconds }\n    }\n  }\n": typeof types.FleetClaimsPurchaseDocument,
    "\n  query OneSim($iccid: ID!) {\n    sim(iccid: $iccid) { iccid usage { status } }\n  }\n": typeof types.OneSimDocument,
    "\n  query AliasedSims($mine: ID!, $theirs: ID!, $both: [ID!]!) {\n    mine: sim(iccid: $mine) { iccid }\n    theirs: sim(iccid: $theirs) { iccid }\n    list: sims(iccids: $both) { iccid }\n  }\n": typeof types.AliasedSimsDocument,
    "\n  query MySimList {\n    simList(first: 10) { totalCount nodes { iccid } }\n  }\n": typeof types.MySimListDocument,
    "\n  query PartnerBalanceAsUser {\n    balance { available { amount } }\n  }\n": typeof types.PartnerBalanceAsUserDocument,
    "\n  mutation BuyAs($input: PurchaseTopupInput!) {\n    purchaseTopup(input: $input) {\n      __typename\n      ... on Error { code message }\n      ... on PurchaseTopupSuccess { order { id } }\n    }\n  }\n": typeof types.BuyAsDocument,
    "\n  query DeferredUsage($first: Int!) {\n    simList(first: $first) {\n      totalCount\n      nodes {\n        iccid\n        ... @defer(label: \"usage\") {\n          usage {\n            status\n            remainingMb\n            totalMb\n            fetchedAt\n            stale\n          }\n        }\n      }\n    }\n  }\n": typeof types.DeferredUsageDocument,
    "\n  query PlainUsage($first: Int!) {\n    simList(first: $first) {\n      nodes {\n        iccid\n        usage {\n          status\n          remainingMb\n          totalMb\n          fetchedAt\n          stale\n        }\n      }\n    }\n  }\n": typeof types.PlainUsageDocument,
    "\n  query StreamedSims($iccids: [ID!]!) {\n    sims(iccids: $iccids) @stream(initialCount: 5) {\n      iccid\n      usage {\n        status\n      }\n    }\n  }\n": typeof types.StreamedSimsDocument,
    "\n  query MaybeDeferred($first: Int!, $defer: Boolean!) {\n    simList(first: $first) {\n      nodes {\n        iccid\n        ... @defer(if: $defer) {\n          usage {\n            status\n          }\n        }\n      }\n    }\n  }\n": typeof types.MaybeDeferredDocument,
    "\n  query PersistedSims($iccids: [ID!]!) {\n    sims(iccids: $iccids) {\n      iccid\n      usage {\n        status\n        remainingMb\n      }\n    }\n  }\n": typeof types.PersistedSimsDocument,
    "\n  mutation PurchaseTopup($input: PurchaseTopupInput!) {\n    purchaseTopup(input: $input) {\n      __typename\n      ... on PurchaseTopupSuccess {\n        replayed\n        order { id code packageId title price { amount currency } createdAt description }\n        sim { iccid }\n      }\n      ... on Error { code message }\n      ... on RateLimitedError { retryAfterSeconds }\n      ... on UpstreamUnavailableError { retryAfterSeconds }\n      ... on IdempotencyInProgressError { retryAfterSeconds }\n    }\n  }\n": typeof types.PurchaseTopupDocument,
    "\n  query AfterPurchase($iccid: ID!) {\n    balance { available { amount } }\n    sim(iccid: $iccid) {\n      topupPackages { id price { amount } }\n      packageHistory { id package { id type } }\n    }\n  }\n": typeof types.AfterPurchaseDocument,
    "\n  query SimScreen($iccid: ID!) {\n    sim(iccid: $iccid) {\n      iccid\n      createdAt\n      lpa\n      matchingId\n      qrCode\n      qrCodeUrl\n      appleInstallUrl\n      apnType\n      apnValue\n      isRoaming\n      recycled\n      recycledAt\n      voucherCode\n      confirmationCode\n      detailsFetchedAt\n      usage {\n        status\n        remainingMb\n        totalMb\n        usedMb\n        isUnlimited\n        expiresAt\n        remainingVoiceMinutes\n        totalVoiceMinutes\n        remainingTexts\n        totalTexts\n        fetchedAt\n        stale\n      }\n      topupPackages {\n        id\n        title\n        price { amount currency }\n        netPrice { amount currency }\n        amountMb\n        validityDays\n        isUnlimited\n        dataLabel\n        voiceMinutes\n        texts\n        shortInfo\n      }\n      packageHistory {\n        id\n        status\n        remainingMb\n        activatedAt\n        expiresAt\n        finishedAt\n        package {\n          id\n          type\n          title\n          price { amount currency }\n          netPrice { amount currency }\n          amountMb\n          validityDays\n          isUnlimited\n          dataLabel\n        }\n      }\n    }\n  }\n": typeof types.SimScreenDocument,
    "\n  query ManySims($iccids: [ID!]!) {\n    first: sims(iccids: $iccids) {\n      iccid\n      usage { remainingMb status }\n      topupPackages { id }\n    }\n    second: sims(iccids: $iccids) {\n      iccid\n      usage { totalMb }\n      packageHistory { id }\n    }\n  }\n": typeof types.ManySimsDocument,
    "\n  query UsageOnly($iccids: [ID!]!) {\n    sims(iccids: $iccids) {\n      iccid\n      usage { status remainingMb fetchedAt stale }\n    }\n  }\n": typeof types.UsageOnlyDocument,
    "\n  query SimList($first: Int, $after: String, $iccidContains: String) {\n    simList(first: $first, after: $after, iccidContains: $iccidContains) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      edges { cursor node { iccid lpa } }\n    }\n  }\n": typeof types.SimListDocument,
    "\n  query PartnerBalance {\n    balance { available { amount currency } fetchedAt stale }\n  }\n": typeof types.PartnerBalanceDocument,
    "\n  query SimResources($iccid: ID!) {\n    sim(iccid: $iccid) {\n      iccid\n      usage { status remainingMb stale fetchedAt }\n      topupPackages { id }\n      packageHistoryInfo { stale fetchedAt entries { id } }\n    }\n  }\n": typeof types.SimResourcesDocument,
};
const documents: Documents = {
    "query MyEsims {\n  balance {\n    available {\n      amount\n      currency\n    }\n  }\n  simList(first: 5) {\n    totalCount\n    nodes {\n      iccid\n      usage {\n        status\n        remainingMb\n        totalMb\n        usedMb\n        expiresAt\n        fetchedAt\n        stale\n      }\n      topupPackages {\n        id\n        title\n        validityDays\n        price {\n          amount\n          currency\n        }\n      }\n      packageHistory {\n        status\n        activatedAt\n        package {\n          title\n          type\n        }\n      }\n    }\n  }\n}": types.MyEsimsDocument,
    "\n  mutation FleetClaimsPurchase($input: PurchaseTopupInput!) {\n    purchaseTopup(input: $input) {\n      __typename\n      ... on PurchaseTopupSuccess { replayed order { id packageId description } }\n      ... on Error { code message }\n      ... on IdempotencyInProgressError { retryAfterSeconds }\n      ... on PurchasesUnavailableError { retryAfterSeconds }\n    }\n  }\n": types.FleetClaimsPurchaseDocument,
    "\n  query OneSim($iccid: ID!) {\n    sim(iccid: $iccid) { iccid usage { status } }\n  }\n": types.OneSimDocument,
    "\n  query AliasedSims($mine: ID!, $theirs: ID!, $both: [ID!]!) {\n    mine: sim(iccid: $mine) { iccid }\n    theirs: sim(iccid: $theirs) { iccid }\n    list: sims(iccids: $both) { iccid }\n  }\n": types.AliasedSimsDocument,
    "\n  query MySimList {\n    simList(first: 10) { totalCount nodes { iccid } }\n  }\n": types.MySimListDocument,
    "\n  query PartnerBalanceAsUser {\n    balance { available { amount } }\n  }\n": types.PartnerBalanceAsUserDocument,
    "\n  mutation BuyAs($input: PurchaseTopupInput!) {\n    purchaseTopup(input: $input) {\n      __typename\n      ... on Error { code message }\n      ... on PurchaseTopupSuccess { order { id } }\n    }\n  }\n": types.BuyAsDocument,
    "\n  query DeferredUsage($first: Int!) {\n    simList(first: $first) {\n      totalCount\n      nodes {\n        iccid\n        ... @defer(label: \"usage\") {\n          usage {\n            status\n            remainingMb\n            totalMb\n            fetchedAt\n            stale\n          }\n        }\n      }\n    }\n  }\n": types.DeferredUsageDocument,
    "\n  query PlainUsage($first: Int!) {\n    simList(first: $first) {\n      nodes {\n        iccid\n        usage {\n          status\n          remainingMb\n          totalMb\n          fetchedAt\n          stale\n        }\n      }\n    }\n  }\n": types.PlainUsageDocument,
    "\n  query StreamedSims($iccids: [ID!]!) {\n    sims(iccids: $iccids) @stream(initialCount: 5) {\n      iccid\n      usage {\n        status\n      }\n    }\n  }\n": types.StreamedSimsDocument,
    "\n  query MaybeDeferred($first: Int!, $defer: Boolean!) {\n    simList(first: $first) {\n      nodes {\n        iccid\n        ... @defer(if: $defer) {\n          usage {\n            status\n          }\n        }\n      }\n    }\n  }\n": types.MaybeDeferredDocument,
    "\n  query PersistedSims($iccids: [ID!]!) {\n    sims(iccids: $iccids) {\n      iccid\n      usage {\n        status\n        remainingMb\n      }\n    }\n  }\n": types.PersistedSimsDocument,
    "\n  mutation PurchaseTopup($input: PurchaseTopupInput!) {\n    purchaseTopup(input: $input) {\n      __typename\n      ... on PurchaseTopupSuccess {\n        replayed\n        order { id code packageId title price { amount currency } createdAt description }\n        sim { iccid }\n      }\n      ... on Error { code message }\n      ... on RateLimitedError { retryAfterSeconds }\n      ... on UpstreamUnavailableError { retryAfterSeconds }\n      ... on IdempotencyInProgressError { retryAfterSeconds }\n    }\n  }\n": types.PurchaseTopupDocument,
    "\n  query AfterPurchase($iccid: ID!) {\n    balance { available { amount } }\n    sim(iccid: $iccid) {\n      topupPackages { id price { amount } }\n      packageHistory { id package { id type } }\n    }\n  }\n": types.AfterPurchaseDocument,
    "\n  query SimScreen($iccid: ID!) {\n    sim(iccid: $iccid) {\n      iccid\n      createdAt\n      lpa\n      matchingId\n      qrCode\n      qrCodeUrl\n      appleInstallUrl\n      apnType\n      apnValue\n      isRoaming\n      recycled\n      recycledAt\n      voucherCode\n      confirmationCode\n      detailsFetchedAt\n      usage {\n        status\n        remainingMb\n        totalMb\n        usedMb\n        isUnlimited\n        expiresAt\n        remainingVoiceMinutes\n        totalVoiceMinutes\n        remainingTexts\n        totalTexts\n        fetchedAt\n        stale\n      }\n      topupPackages {\n        id\n        title\n        price { amount currency }\n        netPrice { amount currency }\n        amountMb\n        validityDays\n        isUnlimited\n        dataLabel\n        voiceMinutes\n        texts\n        shortInfo\n      }\n      packageHistory {\n        id\n        status\n        remainingMb\n        activatedAt\n        expiresAt\n        finishedAt\n        package {\n          id\n          type\n          title\n          price { amount currency }\n          netPrice { amount currency }\n          amountMb\n          validityDays\n          isUnlimited\n          dataLabel\n        }\n      }\n    }\n  }\n": types.SimScreenDocument,
    "\n  query ManySims($iccids: [ID!]!) {\n    first: sims(iccids: $iccids) {\n      iccid\n      usage { remainingMb status }\n      topupPackages { id }\n    }\n    second: sims(iccids: $iccids) {\n      iccid\n      usage { totalMb }\n      packageHistory { id }\n    }\n  }\n": types.ManySimsDocument,
    "\n  query UsageOnly($iccids: [ID!]!) {\n    sims(iccids: $iccids) {\n      iccid\n      usage { status remainingMb fetchedAt stale }\n    }\n  }\n": types.UsageOnlyDocument,
    "\n  query SimList($first: Int, $after: String, $iccidContains: String) {\n    simList(first: $first, after: $after, iccidContains: $iccidContains) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      edges { cursor node { iccid lpa } }\n    }\n  }\n": types.SimListDocument,
    "\n  query PartnerBalance {\n    balance { available { amount currency } fetchedAt stale }\n  }\n": types.PartnerBalanceDocument,
    "\n  query SimResources($iccid: ID!) {\n    sim(iccid: $iccid) {\n      iccid\n      usage { status remainingMb stale fetchedAt }\n      topupPackages { id }\n      packageHistoryInfo { stale fetchedAt entries { id } }\n    }\n  }\n": types.SimResourcesDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MyEsims {\n  balance {\n    available {\n      amount\n      currency\n    }\n  }\n  simList(first: 5) {\n    totalCount\n    nodes {\n      iccid\n      usage {\n        status\n        remainingMb\n        totalMb\n        usedMb\n        expiresAt\n        fetchedAt\n        stale\n      }\n      topupPackages {\n        id\n        title\n        validityDays\n        price {\n          amount\n          currency\n        }\n      }\n      packageHistory {\n        status\n        activatedAt\n        package {\n          title\n          type\n        }\n      }\n    }\n  }\n}"): typeof import('./graphql.ts').MyEsimsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation FleetClaimsPurchase($input: PurchaseTopupInput!) {\n    purchaseTopup(input: $input) {\n      __typename\n      ... on PurchaseTopupSuccess { replayed order { id packageId description } }\n      ... on Error { code message }\n      ... on IdempotencyInProgressError { retryAfterSeconds }\n      ... on PurchasesUnavailableError { retryAfterSeconds }\n    }\n  }\n"): typeof import('./graphql.ts').FleetClaimsPurchaseDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query OneSim($iccid: ID!) {\n    sim(iccid: $iccid) { iccid usage { status } }\n  }\n"): typeof import('./graphql.ts').OneSimDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AliasedSims($mine: ID!, $theirs: ID!, $both: [ID!]!) {\n    mine: sim(iccid: $mine) { iccid }\n    theirs: sim(iccid: $theirs) { iccid }\n    list: sims(iccids: $both) { iccid }\n  }\n"): typeof import('./graphql.ts').AliasedSimsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MySimList {\n    simList(first: 10) { totalCount nodes { iccid } }\n  }\n"): typeof import('./graphql.ts').MySimListDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PartnerBalanceAsUser {\n    balance { available { amount } }\n  }\n"): typeof import('./graphql.ts').PartnerBalanceAsUserDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation BuyAs($input: PurchaseTopupInput!) {\n    purchaseTopup(input: $input) {\n      __typename\n      ... on Error { code message }\n      ... on PurchaseTopupSuccess { order { id } }\n    }\n  }\n"): typeof import('./graphql.ts').BuyAsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DeferredUsage($first: Int!) {\n    simList(first: $first) {\n      totalCount\n      nodes {\n        iccid\n        ... @defer(label: \"usage\") {\n          usage {\n            status\n            remainingMb\n            totalMb\n            fetchedAt\n            stale\n          }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.ts').DeferredUsageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PlainUsage($first: Int!) {\n    simList(first: $first) {\n      nodes {\n        iccid\n        usage {\n          status\n          remainingMb\n          totalMb\n          fetchedAt\n          stale\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.ts').PlainUsageDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query StreamedSims($iccids: [ID!]!) {\n    sims(iccids: $iccids) @stream(initialCount: 5) {\n      iccid\n      usage {\n        status\n      }\n    }\n  }\n"): typeof import('./graphql.ts').StreamedSimsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MaybeDeferred($first: Int!, $defer: Boolean!) {\n    simList(first: $first) {\n      nodes {\n        iccid\n        ... @defer(if: $defer) {\n          usage {\n            status\n          }\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.ts').MaybeDeferredDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PersistedSims($iccids: [ID!]!) {\n    sims(iccids: $iccids) {\n      iccid\n      usage {\n        status\n        remainingMb\n      }\n    }\n  }\n"): typeof import('./graphql.ts').PersistedSimsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PurchaseTopup($input: PurchaseTopupInput!) {\n    purchaseTopup(input: $input) {\n      __typename\n      ... on PurchaseTopupSuccess {\n        replayed\n        order { id code packageId title price { amount currency } createdAt description }\n        sim { iccid }\n      }\n      ... on Error { code message }\n      ... on RateLimitedError { retryAfterSeconds }\n      ... on UpstreamUnavailableError { retryAfterSeconds }\n      ... on IdempotencyInProgressError { retryAfterSeconds }\n    }\n  }\n"): typeof import('./graphql.ts').PurchaseTopupDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AfterPurchase($iccid: ID!) {\n    balance { available { amount } }\n    sim(iccid: $iccid) {\n      topupPackages { id price { amount } }\n      packageHistory { id package { id type } }\n    }\n  }\n"): typeof import('./graphql.ts').AfterPurchaseDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SimScreen($iccid: ID!) {\n    sim(iccid: $iccid) {\n      iccid\n      createdAt\n      lpa\n      matchingId\n      qrCode\n      qrCodeUrl\n      appleInstallUrl\n      apnType\n      apnValue\n      isRoaming\n      recycled\n      recycledAt\n      voucherCode\n      confirmationCode\n      detailsFetchedAt\n      usage {\n        status\n        remainingMb\n        totalMb\n        usedMb\n        isUnlimited\n        expiresAt\n        remainingVoiceMinutes\n        totalVoiceMinutes\n        remainingTexts\n        totalTexts\n        fetchedAt\n        stale\n      }\n      topupPackages {\n        id\n        title\n        price { amount currency }\n        netPrice { amount currency }\n        amountMb\n        validityDays\n        isUnlimited\n        dataLabel\n        voiceMinutes\n        texts\n        shortInfo\n      }\n      packageHistory {\n        id\n        status\n        remainingMb\n        activatedAt\n        expiresAt\n        finishedAt\n        package {\n          id\n          type\n          title\n          price { amount currency }\n          netPrice { amount currency }\n          amountMb\n          validityDays\n          isUnlimited\n          dataLabel\n        }\n      }\n    }\n  }\n"): typeof import('./graphql.ts').SimScreenDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ManySims($iccids: [ID!]!) {\n    first: sims(iccids: $iccids) {\n      iccid\n      usage { remainingMb status }\n      topupPackages { id }\n    }\n    second: sims(iccids: $iccids) {\n      iccid\n      usage { totalMb }\n      packageHistory { id }\n    }\n  }\n"): typeof import('./graphql.ts').ManySimsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query UsageOnly($iccids: [ID!]!) {\n    sims(iccids: $iccids) {\n      iccid\n      usage { status remainingMb fetchedAt stale }\n    }\n  }\n"): typeof import('./graphql.ts').UsageOnlyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SimList($first: Int, $after: String, $iccidContains: String) {\n    simList(first: $first, after: $after, iccidContains: $iccidContains) {\n      totalCount\n      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n      edges { cursor node { iccid lpa } }\n    }\n  }\n"): typeof import('./graphql.ts').SimListDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PartnerBalance {\n    balance { available { amount currency } fetchedAt stale }\n  }\n"): typeof import('./graphql.ts').PartnerBalanceDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SimResources($iccid: ID!) {\n    sim(iccid: $iccid) {\n      iccid\n      usage { status remainingMb stale fetchedAt }\n      topupPackages { id }\n      packageHistoryInfo { stale fetchedAt entries { id } }\n    }\n  }\n"): typeof import('./graphql.ts').SimResourcesDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
