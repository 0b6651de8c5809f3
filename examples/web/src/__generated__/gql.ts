/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

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
    "query MyEsimsScreen($first: Int!) {\n  balance {\n    available {\n      amount\n      currency\n    }\n    fetchedAt\n    stale\n  }\n  simList(first: $first) {\n    totalCount\n    nodes {\n      iccid\n      recycled\n      ... @defer {\n        usage {\n          status\n          remainingMb\n          totalMb\n          usedMb\n          expiresAt\n          fetchedAt\n          stale\n        }\n      }\n    }\n  }\n}\n\nquery SimTopups($iccid: ID!) {\n  sim(iccid: $iccid) {\n    iccid\n    topupPackages {\n      id\n      title\n      dataLabel\n      validityDays\n      price {\n        amount\n        currency\n      }\n    }\n  }\n}\n\nmutation BuyTopup($input: PurchaseTopupInput!) {\n  purchaseTopup(input: $input) {\n    __typename\n    ... on PurchaseTopupSuccess {\n      replayed\n      order {\n        id\n        code\n        price {\n          amount\n          currency\n        }\n      }\n      sim {\n        iccid\n        usage {\n          status\n          remainingMb\n          totalMb\n          usedMb\n          expiresAt\n          fetchedAt\n          stale\n        }\n      }\n    }\n    ... on Error {\n      code\n      message\n    }\n    ... on RateLimitedError {\n      retryAfterSeconds\n    }\n    ... on IdempotencyInProgressError {\n      retryAfterSeconds\n    }\n  }\n}": typeof types.MyEsimsScreenDocument,
};
const documents: Documents = {
    "query MyEsimsScreen($first: Int!) {\n  balance {\n    available {\n      amount\n      currency\n    }\n    fetchedAt\n    stale\n  }\n  simList(first: $first) {\n    totalCount\n    nodes {\n      iccid\n      recycled\n      ... @defer {\n        usage {\n          status\n          remainingMb\n          totalMb\n          usedMb\n          expiresAt\n          fetchedAt\n          stale\n        }\n      }\n    }\n  }\n}\n\nquery SimTopups($iccid: ID!) {\n  sim(iccid: $iccid) {\n    iccid\n    topupPackages {\n      id\n      title\n      dataLabel\n      validityDays\n      price {\n        amount\n        currency\n      }\n    }\n  }\n}\n\nmutation BuyTopup($input: PurchaseTopupInput!) {\n  purchaseTopup(input: $input) {\n    __typename\n    ... on PurchaseTopupSuccess {\n      replayed\n      order {\n        id\n        code\n        price {\n          amount\n          currency\n        }\n      }\n      sim {\n        iccid\n        usage {\n          status\n          remainingMb\n          totalMb\n          usedMb\n          expiresAt\n          fetchedAt\n          stale\n        }\n      }\n    }\n    ... on Error {\n      code\n      message\n    }\n    ... on RateLimitedError {\n      retryAfterSeconds\n    }\n    ... on IdempotencyInProgressError {\n      retryAfterSeconds\n    }\n  }\n}": types.MyEsimsScreenDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query MyEsimsScreen($first: Int!) {\n  balance {\n    available {\n      amount\n      currency\n    }\n    fetchedAt\n    stale\n  }\n  simList(first: $first) {\n    totalCount\n    nodes {\n      iccid\n      recycled\n      ... @defer {\n        usage {\n          status\n          remainingMb\n          totalMb\n          usedMb\n          expiresAt\n          fetchedAt\n          stale\n        }\n      }\n    }\n  }\n}\n\nquery SimTopups($iccid: ID!) {\n  sim(iccid: $iccid) {\n    iccid\n    topupPackages {\n      id\n      title\n      dataLabel\n      validityDays\n      price {\n        amount\n        currency\n      }\n    }\n  }\n}\n\nmutation BuyTopup($input: PurchaseTopupInput!) {\n  purchaseTopup(input: $input) {\n    __typename\n    ... on PurchaseTopupSuccess {\n      replayed\n      order {\n        id\n        code\n        price {\n          amount\n          currency\n        }\n      }\n      sim {\n        iccid\n        usage {\n          status\n          remainingMb\n          totalMb\n          usedMb\n          expiresAt\n          fetchedAt\n          stale\n        }\n      }\n    }\n    ... on Error {\n      code\n      message\n    }\n    ... on RateLimitedError {\n      retryAfterSeconds\n    }\n    ... on IdempotencyInProgressError {\n      retryAfterSeconds\n    }\n  }\n}"): (typeof documents)["query MyEsimsScreen($first: Int!) {\n  balance {\n    available {\n      amount\n      currency\n    }\n    fetchedAt\n    stale\n  }\n  simList(first: $first) {\n    totalCount\n    nodes {\n      iccid\n      recycled\n      ... @defer {\n        usage {\n          status\n          remainingMb\n          totalMb\n          usedMb\n          expiresAt\n          fetchedAt\n          stale\n        }\n      }\n    }\n  }\n}\n\nquery SimTopups($iccid: ID!) {\n  sim(iccid: $iccid) {\n    iccid\n    topupPackages {\n      id\n      title\n      dataLabel\n      validityDays\n      price {\n        amount\n        currency\n      }\n    }\n  }\n}\n\nmutation BuyTopup($input: PurchaseTopupInput!) {\n  purchaseTopup(input: $input) {\n    __typename\n    ... on PurchaseTopupSuccess {\n      replayed\n      order {\n        id\n        code\n        price {\n          amount\n          currency\n        }\n      }\n      sim {\n        iccid\n        usage {\n          status\n          remainingMb\n          totalMb\n          usedMb\n          expiresAt\n          fetchedAt\n          stale\n        }\n      }\n    }\n    ... on Error {\n      code\n      message\n    }\n    ... on RateLimitedError {\n      retryAfterSeconds\n    }\n    ... on IdempotencyInProgressError {\n      retryAfterSeconds\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;