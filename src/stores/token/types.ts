/**
 * Where the upstream access token lives (README "Running several replicas"): one token for the fleet, refreshed by one
 * replica at a time. src/upstream/token.ts keeps its own in-process copy and asks the store only when it has no valid
 * token, so a call with a valid token never touches the store.
 *
 * Contract: `validUntil` and `now` are epoch ms on the gateway's clock; a token is served only while
 * `now < validUntil`. A refresh claim is a lease: it ends with `write` or `release`, or by itself after `leaseMs` (its
 * holder died), after which another replica may claim. Methods may reject (the store is unreachable); the token
 * manager then fetches a token of its own, as a single replica does.
 */
export interface SharedToken {
  token: string;
  validUntil: number;
}

export interface TokenStore {
  /** The fleet's token when one is stored and still valid at `now`. */
  read(now: number): Promise<SharedToken | undefined>;
  /** Claims the next refresh for `leaseMs`; false while another replica holds the claim. */
  claim(leaseMs: number): Promise<boolean>;
  /** Whether any replica (this one included) holds the refresh claim now. */
  claimed(): Promise<boolean>;
  /** Stores a fetched token for the fleet and ends this replica's claim. */
  write(token: SharedToken, now: number): Promise<void>;
  /** Ends this replica's claim without a token (the fetch failed). */
  release(): Promise<void>;
  /** Drops `token` if it is still the stored one (a 401 proved it stale); a newer token is kept. */
  discard(token: string): Promise<void>;
}

/** Which upstream account a token belongs to; the secret is the encryption key material (redis.ts). */
export interface TokenOwner {
  url: string;
  clientId: string;
  clientSecret: string;
}
