/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
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

export type MyEsimsScreenQueryVariables = Exact<{
  first: number;
}>;


export type MyEsimsScreenQuery = { __typename: 'Query', balance: { __typename: 'Balance', fetchedAt: string, stale: boolean, available: { __typename: 'Money', amount: string, currency: string } } | null, simList: { __typename: 'SimConnection', totalCount: number, nodes: Array<{ __typename: 'Sim', iccid: string, recycled: boolean } & ({ __typename: 'Sim' } | { __typename: 'Sim' }) & ({ usage: { __typename: 'Usage', status: SimStatus, remainingMb: number | null, totalMb: number | null, usedMb: number | null, expiresAt: string | null, fetchedAt: string, stale: boolean } | null } | { usage?: never })> } | null };

export type SimTopupsQueryVariables = Exact<{
  iccid: string;
}>;


export type SimTopupsQuery = { __typename: 'Query', sim: { __typename: 'Sim', iccid: string, topupPackages: Array<{ __typename: 'TopupPackage', id: string, title: string, dataLabel: string | null, validityDays: number | null, price: { __typename: 'Money', amount: string, currency: string } }> | null } | null };

export type BuyTopupMutationVariables = Exact<{
  input: PurchaseTopupInput;
}>;


export type BuyTopupMutation = { __typename: 'Mutation', purchaseTopup:
    | { __typename: 'IdempotencyInProgressError', code: string, message: string, retryAfterSeconds: number | null }
    | { __typename: 'IdempotencyKeyReusedError', code: string, message: string }
    | { __typename: 'InsufficientFundsError', code: string, message: string }
    | { __typename: 'OperatorMaintenanceError', code: string, message: string }
    | { __typename: 'PackageNotAvailableError', code: string, message: string }
    | { __typename: 'PurchaseRefusedError', code: string, message: string }
    | { __typename: 'PurchaseTopupSuccess', replayed: boolean, order: { __typename: 'TopupOrder', id: string, code: string, price: { __typename: 'Money', amount: string, currency: string } }, sim: { __typename: 'Sim', iccid: string, usage: { __typename: 'Usage', status: SimStatus, remainingMb: number | null, totalMb: number | null, usedMb: number | null, expiresAt: string | null, fetchedAt: string, stale: boolean } | null } }
    | { __typename: 'PurchasesUnavailableError', code: string, message: string }
    | { __typename: 'RateLimitedError', code: string, message: string, retryAfterSeconds: number | null }
    | { __typename: 'SimNotFoundError', code: string, message: string }
    | { __typename: 'SimRecycledError', code: string, message: string }
    | { __typename: 'TopupDisabledError', code: string, message: string }
    | { __typename: 'UpstreamUnavailableError', code: string, message: string }
   };


export const MyEsimsScreenDocument = {"__meta__":{"hash":"sha256:4e1b1d36019dca7978987f9a1592bf7489cbcf1539b61dec2d0ea64e1cef4094"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MyEsimsScreen"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"balance"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"available"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}}]}},{"kind":"Field","name":{"kind":"Name","value":"fetchedAt"}},{"kind":"Field","name":{"kind":"Name","value":"stale"}}]}},{"kind":"Field","name":{"kind":"Name","value":"simList"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"iccid"}},{"kind":"Field","name":{"kind":"Name","value":"recycled"}},{"kind":"InlineFragment","directives":[{"kind":"Directive","name":{"kind":"Name","value":"defer"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"usage"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"remainingMb"}},{"kind":"Field","name":{"kind":"Name","value":"totalMb"}},{"kind":"Field","name":{"kind":"Name","value":"usedMb"}},{"kind":"Field","name":{"kind":"Name","value":"expiresAt"}},{"kind":"Field","name":{"kind":"Name","value":"fetchedAt"}},{"kind":"Field","name":{"kind":"Name","value":"stale"}}]}}]}}]}}]}}]}}]} as unknown as DocumentNode<MyEsimsScreenQuery, MyEsimsScreenQueryVariables>;
export const SimTopupsDocument = {"__meta__":{"hash":"sha256:a896472970e0450215809b9b5dc5d93a677d000ac755f4e262c0c14e6c4d6572"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SimTopups"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"iccid"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"sim"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"iccid"},"value":{"kind":"Variable","name":{"kind":"Name","value":"iccid"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"iccid"}},{"kind":"Field","name":{"kind":"Name","value":"topupPackages"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"title"}},{"kind":"Field","name":{"kind":"Name","value":"dataLabel"}},{"kind":"Field","name":{"kind":"Name","value":"validityDays"}},{"kind":"Field","name":{"kind":"Name","value":"price"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}}]}}]}}]}}]}}]} as unknown as DocumentNode<SimTopupsQuery, SimTopupsQueryVariables>;
export const BuyTopupDocument = {"__meta__":{"hash":"sha256:f04b0bdcd13dfb75267b4b5d106488d746f9f6d284d1853fc2cc3534604f2e5d"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"BuyTopup"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"PurchaseTopupInput"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"purchaseTopup"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"PurchaseTopupSuccess"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"replayed"}},{"kind":"Field","name":{"kind":"Name","value":"order"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"price"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"amount"}},{"kind":"Field","name":{"kind":"Name","value":"currency"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"sim"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"iccid"}},{"kind":"Field","name":{"kind":"Name","value":"usage"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"remainingMb"}},{"kind":"Field","name":{"kind":"Name","value":"totalMb"}},{"kind":"Field","name":{"kind":"Name","value":"usedMb"}},{"kind":"Field","name":{"kind":"Name","value":"expiresAt"}},{"kind":"Field","name":{"kind":"Name","value":"fetchedAt"}},{"kind":"Field","name":{"kind":"Name","value":"stale"}}]}}]}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Error"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"message"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"RateLimitedError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}},{"kind":"InlineFragment","typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"IdempotencyInProgressError"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"retryAfterSeconds"}}]}}]}}]}}]} as unknown as DocumentNode<BuyTopupMutation, BuyTopupMutationVariables>;