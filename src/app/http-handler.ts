/**
 * The node:http request handler: a fast path for repeated identical queries in front of Yoga, Yoga for
 * everything else. See README.md, "HTTP endpoints and authentication" (response cache).
 *
 * Why: a response-cache hit inside Yoga would still pay for Fetch API objects, body parsing, document lookup and
 * serialisation. Here a hit costs what any node:http server pays (parse the request, read the body, write the
 * answer) plus a Map lookup of the API key, a CRC-32 of the body, a Map lookup of a short key and a memcmp of the
 * body — no Fetch objects, no promises, no header copies; the stored bytes go out with a head (status,
 * content-type, content-length, …) computed when they were stored. A miss whose request was seen before (admission,
 * src/graphql/response-cache.ts) is handed to `yoga.fetch` with a dependency tracker, a first sighting without one;
 * the bytes are stored only when the response-cache guard approved the result
 * (src/graphql/plugins/response-cache-guard.ts, src/graphql/response-cache.ts; README "HTTP endpoints and
 * authentication").
 *
 * Every request that qualifies (below) — a miss, or any with the response cache off — reaches Yoga with its body
 * already read: a whatwg-node Request over a Buffer and the node:http headers as they are, so Yoga parses it without
 * a body stream (that stream, and the pipeline that counted its bytes, cost a third of the CPU of a 25-SIM screen;
 * bench/results/2026-11-27-issue16.md). Yoga still runs every hook; the answer is written as its node adapter would
 * write it (test/graphql/http-direct.test.ts compares the two byte for byte), and a client that goes away aborts the
 * request's signal as there.
 *
 * What a request must be to take this path (anything else goes to Yoga untouched, which applies every rule
 * itself):
 * - `POST /graphql` with a JSON content type (`application/json[; …]`, as Yoga's JSON parser matches it). Such a
 *   request is CORS-preflighted by browsers, so Yoga's CSRF rule (a header on non-preflighted requests) has
 *   nothing to demand: a form or text/plain body never reaches the cache, with or without its CSRF header;
 * - a decimal Content-Length no larger than MAX_REQUEST_BYTES (else Yoga answers 411/413 before reading);
 * - not asking for a stream (`text/event-stream`, `multipart/mixed`): Yoga streams those itself;
 * - an authenticated caller: every request, hit or not, is authenticated before the cache is consulted, and
 *   a caller that fails is answered by Yoga (401). Verified API keys are remembered (presented key →
 *   principal, at most one entry per configured key), so a hit does not re-hash the key; bearer tokens are
 *   verified on every request (signature, expiry).
 *
 * The cache key is the caller (principal id; for end users also the ICCIDs their token grants, which decide
 * what they may see), every request header Yoga's answer depends on (content negotiation, body parsing, CORS)
 * and the body's fingerprint; a hit also requires the stored body to equal this one byte for byte.
 *
 * A request for a known persisted document (`documentId` or `extensions.persistedQuery.sha256Hash`, no `query`) is
 * keyed by its normalised form instead of its bytes: manifest version + document id + operation name + variables
 * (as JSON), so whitespace and the id's spelling do not split the cache, and a manifest reload never serves an answer
 * built from an earlier set. Unknown ids take the byte path and Yoga answers the error (never stored).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import type { Logger } from 'pino';
import { type Principal, SANDBOX_PRINCIPAL } from '../domain/auth.ts';
import type { GatewayServerContext } from '../graphql/context.ts';
import { type PersistedDocumentStore, requestedDocumentId } from '../graphql/plugins/persisted-documents.ts';
import { ResponseDependencies } from '../graphql/response-cache.ts';
import { startResponseCacheHitSpan } from '../platform/tracing.ts';
import { createDirectExecutor } from './direct-execution.ts';
import type { Gateway } from './gateway.ts';
import { createWebhookHandler } from './webhooks.ts';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** A caller the edge verified, and the part of the cache key that says who is asking. */
interface Verified {
  principal: Principal;
  who: string;
}

const SEPARATOR = '\u0000';
const DECIMAL = /^\d+$/;

/** True for the content types Yoga's JSON request parser accepts (`application/json`, optionally with parameters). */
const isJson = (contentType: string) =>
  contentType.startsWith('application/json') &&
  (contentType.length === 16 || contentType.charCodeAt(16) === 59) /* ; */;

/** The part of the cache key that says who is asking: everything about the principal its answers depend on. */
function principalKey(principal: Principal): string {
  return JSON.stringify(principal.kind === 'partner' ? [principal.id] : [principal.id, [...principal.iccids].sort()]);
}

/** Webhooks (src/app/webhooks.ts) first, then GraphQL. */
export function createHttpHandler(gateway: Gateway): Listener {
  const webhooks = createWebhookHandler(gateway);
  const graphql = createGraphqlHandler(gateway);
  return (req, res) => {
    if (!webhooks(req, res)) graphql(req, res);
  };
}

function createGraphqlHandler(gateway: Gateway): Listener {
  const { yoga, responseCache } = gateway;
  const { authenticator, config, logger } = gateway.services;
  const maxBytes = config.queryLimits.maxRequestBytes;
  const tracer = gateway.tracing?.tracer;
  const persisted = gateway.persistedDocuments;
  const { Request: YogaRequest, Headers: YogaHeaders } = yoga.fetchAPI;

  /**
   * The request Yoga sees: the body already read (a Buffer, so Yoga parses it without a stream), the node:http
   * headers wrapped as they are (whatwg-node reads them lazily), and a signal that fires when the client goes away
   * before the answer was written (as Yoga's own node adapter does).
   */
  function toRequest(req: IncomingMessage, res: ServerResponse, headers: Headers, body: Buffer): Request {
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    return new YogaRequest(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
      method: 'POST',
      headers,
      body: body as Uint8Array<ArrayBuffer>,
      signal: controller.signal,
    });
  }

  /**
   * Presented API key → the caller it verified and the caller's cache-key part, filled only by successful verifications
   * (so ≤ one entry per configured key).
   */
  const verifiedApiKeys = new Map<string, Verified>();
  const open: Verified | undefined = authenticator.open
    ? { principal: SANDBOX_PRINCIPAL, who: principalKey(SANDBOX_PRINCIPAL) }
    : undefined;
  const direct = createDirectExecutor(gateway);

  const fail = (res: ServerResponse) => (error: unknown) => {
    logger.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'http: request failed');
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ message: 'Unexpected error.' }] }));
  };

  /** The body is in: the caller is authenticated (remembered API keys at once), then the request answered. */
  function withBody(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const apiKey = req.headers['x-api-key'];
    const verified = open ?? (typeof apiKey === 'string' && apiKey !== '' ? verifiedApiKeys.get(apiKey) : undefined);
    if (verified !== undefined) {
      answer(req, res, body, verified);
      return;
    }
    authenticate(req, res, body, apiKey).catch(fail(res));
  }

  async function authenticate(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    apiKey: string | string[] | undefined,
  ): Promise<void> {
    const headers = new YogaHeaders(req.headers as HeadersInit);
    const principal = await authenticator.authenticate(headers);
    if ('failure' in principal) return forward(req, res, headers, body); // Yoga answers 401
    const verified: Verified = { principal, who: principalKey(principal) };
    if (typeof apiKey === 'string' && apiKey !== '' && principal.kind === 'partner')
      verifiedApiKeys.set(apiKey, verified);
    answer(req, res, body, verified, headers);
  }

  /** An authenticated request: from the response cache, else executed (directly when it can be, else by Yoga). */
  function answer(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    verified: Verified,
    headers?: Headers,
  ): void {
    if (responseCache) lookup(req, res, body, verified, headers);
    else
      execute(req, res, headers ?? new YogaHeaders(req.headers as HeadersInit), body, {
        principal: verified.principal,
      }).catch(fail(res));
  }

  function lookup(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    verified: Verified,
    headers?: Headers,
  ): void {
    const request = (persisted && persistedRequest(persisted, body)) || body;
    const key = cacheKey(verified.who, req.headers, request);
    const hit = responseCache!.get(key, request);
    if (hit) {
      const span = tracer && startResponseCacheHitSpan(tracer, 'POST', '/graphql', req.headers); // tracing hook
      res.writeHead(hit.status, hit.head);
      res.end(hit.body);
      span?.setAttribute('http.response.status_code', hit.status);
      span?.end();
      return;
    }
    const yogaHeaders = headers ?? new YogaHeaders(req.headers as HeadersInit);
    // A request not seen before is answered without recording its reads (with tracing, an untracked tracker marks
    // its span as a response-cache miss).
    if (!responseCache!.admits(key))
      execute(req, res, yogaHeaders, body, {
        principal: verified.principal,
        ...(tracer ? { dependencies: new ResponseDependencies() } : {}),
      }).catch(fail(res));
    else miss(req, res, body, request, key, yogaHeaders, verified.principal).catch(fail(res));
  }

  /** `request` is what the cache compares: the body, or a persisted request's normalised form. */
  async function miss(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    request: Buffer,
    key: string,
    headers: Headers,
    principal: Principal,
  ): Promise<void> {
    const dependencies = responseCache!.track();
    let tracked = true;
    const untrack = () => {
      if (tracked) responseCache!.untrack(dependencies);
      tracked = false;
    };
    try {
      // Stored only when the guard approved a complete single result (an incremental one never is). A response that
      // will not be stored stops being tracked before it is written: a stream may last long, and an open tracker
      // keeps change records.
      const written = await execute(req, res, headers, body, { principal, dependencies }, (response) => {
        const store = response.status === 200 && dependencies.approved;
        if (!store) untrack();
        return store;
      });
      if (written && tracked)
        responseCache!.set(
          key,
          { request, status: written.status, head: [...written.head, 'x-response-cache', 'hit'], body: written.bytes },
          dependencies,
        );
    } finally {
      untrack();
    }
  }

  /** An unauthenticated request: Yoga answers it (401). */
  async function forward(req: IncomingMessage, res: ServerResponse, headers: Headers, body: Buffer): Promise<void> {
    await send(res, await yoga.fetch(toRequest(req, res, headers, body)));
  }

  /**
   * Executes an authenticated request directly when it can be (src/app/direct-execution.ts), else through Yoga, and
   * writes the answer: a single result at once, an incremental one (`multipart/mixed`, `text/event-stream`) part by
   * part as Yoga produces it. `keep(response)` says whether the written bytes are wanted back (to be stored): a
   * stream's come back only then, a single result's always.
   */
  async function execute(
    req: IncomingMessage,
    res: ServerResponse,
    headers: Headers,
    body: Buffer,
    context: GatewayServerContext & { principal: Principal },
    keep?: (response: Response) => boolean,
  ) {
    const request = toRequest(req, res, headers, body);
    const response = (await direct(request, body, context)) ?? (await yoga.fetch(request, context));
    const wanted = keep ? keep(response) : false;
    return isStreamed(response) ? stream(res, response, wanted, logger) : send(res, response);
  }

  return (req, res) => {
    const h = req.headers;
    const contentType = h['content-type'];
    const length = h['content-length'];
    if (
      req.method !== 'POST' ||
      req.url !== '/graphql' ||
      contentType === undefined ||
      !isJson(contentType) ||
      length === undefined ||
      !DECIMAL.test(length) ||
      Number(length) > maxBytes ||
      onlyStreams(h.accept) // a subscription client (graphql-sse, urql's subscriptions): nothing here to cache
    ) {
      return void yoga(req, res); // not cacheable, or refused by Yoga's own rules (CSRF, 411/413)
    }
    readBody(req, Number(length), (body) => {
      try {
        withBody(req, res, body);
      } catch (error) {
        fail(res)(error);
      }
    });
  };
}

/**
 * True when the client accepts `text/event-stream` and no JSON answer: a subscription client. A client that also
 * accepts JSON (urql sends `…, application/json, text/event-stream, multipart/mixed` for every query) takes the fast
 * path: Yoga answers its single results as JSON (cacheable) and its incremental ones as a stream, written part by part.
 */
function onlyStreams(accept: string | undefined): boolean {
  if (!accept?.includes('text/event-stream')) return false;
  return !accept.includes('application/json') && !accept.includes('application/graphql-response+json');
}

/**
 * Caller + the request headers that change the bytes or headers Yoga answers with — content negotiation
 * (accept), body parsing (content-type) and CORS (origin and the two request headers Yoga's CORS echoes back);
 * none can contain NUL, Node refuses it in headers — + the body's fingerprint (length and CRC-32). Hashing
 * this short key is several times cheaper than hashing the body as a string; the cache compares the stored
 * body byte for byte, so a body with the same fingerprint is a miss, never another body's answer.
 */
function cacheKey(who: string, h: IncomingHttpHeaders, body: Buffer): string {
  return (
    who +
    SEPARATOR +
    (h.accept ?? '') +
    SEPARATOR +
    (h['content-type'] ?? '') +
    SEPARATOR +
    (h.origin ?? '') +
    SEPARATOR +
    (h['access-control-request-method'] ?? '') +
    SEPARATOR +
    (h['access-control-request-headers'] ?? '') +
    SEPARATOR +
    body.length +
    ':' +
    crc32(body)
  );
}

const PERSISTED_MARKERS = ['"documentId"', '"persistedQuery"'];

/**
 * The normalised form of a request for a known persisted document (see the header); undefined for anything else.
 * It starts with a byte no JSON body starts with, so it never equals a stored raw body.
 */
function persistedRequest(store: PersistedDocumentStore, body: Buffer): Buffer | undefined {
  if (!PERSISTED_MARKERS.some((marker) => body.includes(marker))) return undefined;
  let params: unknown;
  try {
    params = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined; // Yoga answers 400
  }
  if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
  const p = params as Record<string, unknown>;
  const id = requestedDocumentId(p);
  const operationName = p.operationName ?? '';
  if (typeof id !== 'string' || p.query !== undefined || typeof operationName !== 'string') return undefined;
  const entry = store.get(id);
  if (!entry) return undefined;
  return Buffer.from(
    `\u0001${store.version}${SEPARATOR}${entry.id}${SEPARATOR}${operationName}${SEPARATOR}${JSON.stringify(p.variables ?? null)}`,
  );
}

/**
 * Writes a (non-streaming) Yoga response as Yoga's node adapter would (a bodiless answer, e.g. 406, goes out chunked
 * and empty like Yoga's); returns what was written, the head as a flat list for `writeHead`.
 */
async function send(res: ServerResponse, response: Response) {
  const head = headOf(response);
  const raw = await response.bytes(); // whatwg-node: its own Buffer, the string encoded once
  // `body` is asked only of an empty answer: for whatwg-node it makes a stream
  if (raw.length === 0 && response.body === null) {
    res.writeHead(response.status, head);
    res.end();
    return { status: response.status, head, bytes: Buffer.alloc(0) };
  }
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  head.push('content-length', String(bytes.length));
  res.writeHead(response.status, head);
  res.end(bytes);
  return { status: response.status, head, bytes };
}

/** Yoga's answer to a request that accepts a stream: `multipart/mixed` (@defer/@stream) or `text/event-stream`. */
function isStreamed(response: Response): boolean {
  const type = response.headers.get('content-type') ?? '';
  return response.body !== null && (type.startsWith('multipart/mixed') || type.startsWith('text/event-stream'));
}

/**
 * Writes a streamed Yoga response part by part, each as soon as Yoga produces it (the chunks of one part leave in
 * one write). Honours backpressure; a client that goes away cancels the stream (Yoga then stops its iterator). An
 * error mid-stream ends the connection without the closing boundary, so the client sees an incomplete answer rather
 * than a complete-looking one. With `keep`, the bytes are also collected and returned (a single result that may be
 * stored); else undefined.
 */
async function stream(res: ServerResponse, response: Response, keep: boolean, logger: Logger) {
  const head = headOf(response);
  res.writeHead(response.status, head);
  res.flushHeaders();
  const reader = response.body!.getReader();
  const cancel = () => void reader.cancel().catch(() => {});
  res.once('close', cancel);
  const chunks: Uint8Array[] | undefined = keep ? [] : undefined;
  let corked = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return undefined;
      chunks?.push(value);
      if (!corked) {
        // Chunks Yoga enqueued together are read in one microtask run: uncork after it, so they leave together.
        corked = true;
        res.cork();
        process.nextTick(() => {
          corked = false;
          res.uncork();
        });
      }
      if (!res.write(value)) await drainedOrClosed(res);
    }
    res.end();
  } catch (error) {
    logger.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'http: stream failed');
    res.destroy();
    return undefined;
  } finally {
    res.off('close', cancel);
  }
  return chunks && { status: response.status, head, bytes: Buffer.concat(chunks) };
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** The response's headers as a flat list, without those Node sets itself (length, date, hop-by-hop). */
function headOf(response: Response): string[] {
  const head: string[] = [];
  for (const [name, value] of response.headers)
    if (name !== 'content-length' && name !== 'date' && name !== 'transfer-encoding' && name !== 'connection')
      head.push(name, value);
  return head;
}

/**
 * Reads a body whose Content-Length was checked against the limit (Node's parser delivers exactly what it
 * declares; the size guard is belt and braces). A single chunk is used as is. A client that goes away
 * mid-body gets no answer and logs nothing (IncomingMessage emits 'error' only to listeners).
 */
function readBody(req: IncomingMessage, length: number, done: (body: Buffer) => void): void {
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > length) {
      req.destroy();
      return;
    }
    if (first === undefined) first = chunk;
    else {
      chunks ??= [first];
      chunks.push(chunk);
    }
  });
  req.on('end', () => done(chunks ? Buffer.concat(chunks, size) : (first ?? Buffer.alloc(0))));
}
