/**
 * The partner API's names that the configuration must know too: its flavours (`UPSTREAM_FLAVOR`) and its endpoints
 * (one `UPSTREAM_PATH_<ENDPOINT>` override each). Defined once, here, because config.ts needs them and src/platform
 * imports from no other layer; src/upstream re-exports them and keys its path tables by them, so a new endpoint cannot
 * miss its default path or its override variable. Values the configuration never sees (SIM statuses, payload shapes)
 * live in src/upstream/models/. Dependency-free on purpose. The sandbox keeps its own lists: it stands in for a
 * foreign API.
 */

/** `pressone` serves `/customer/v2`, `airalo` `/v2` (src/upstream/flavours.ts). The first is the default. */
export const FLAVOURS = ['pressone', 'airalo'] as const;
export type Flavour = (typeof FLAVOURS)[number];

export const UPSTREAM_ENDPOINTS = [
  'token',
  'balance',
  'sims',
  'sim',
  'usage',
  'topups',
  'packages',
  'submitTopup',
  'orders',
  'order',
  'notificationOptIn',
  'notificationOptOut',
  'notificationSettings',
] as const;
export type UpstreamEndpoint = (typeof UPSTREAM_ENDPOINTS)[number];
