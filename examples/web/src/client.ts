/**
 * The urql client: every operation goes out as a persisted document — its id (`__meta__.hash`, written by the
 * gateway's codegen into src/__generated__/) instead of its text, so the gateway can run with
 * PERSISTED_DOCUMENTS_ONLY=true. The persisted exchange comes first: it needs the generated document, before the
 * cache exchange replaces it with a copy. POST, not GET: a JSON POST needs no CSRF header and takes the gateway's
 * response-cache fast path.
 */
import { persistedExchange } from '@urql/exchange-persisted';
import { Client, cacheExchange, fetchExchange } from 'urql';

/** Same origin by default (the Vite dev server proxies /graphql); `?gateway=<url>` points elsewhere. */
const url = new URLSearchParams(window.location.search).get('gateway') ?? '/graphql';

export const client = new Client({
  url,
  exchanges: [
    persistedExchange({
      enforcePersistedQueries: true, // never fall back to sending the text
      enableForMutation: true,
      preferGetForPersistedQueries: false,
      generateHash: async (_query, document) => (document as { __meta__?: { hash?: string } }).__meta__?.hash,
    }),
    cacheExchange,
    fetchExchange,
  ],
});
