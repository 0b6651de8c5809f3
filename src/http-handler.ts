/**
 * The node:http request handler: a fast path for repeated identical queries in front of Yoga, Yoga for
 * everything else.
 *
 * Why: a Yoga response-cache hit still pays for Fetch API objects, body parsing, document lookup and
 * serialisation (~7 % of what node:http can serve). Here a hit costs reading the body, authenticating the
 * caller and writing stored bytes. A miss is handed to `yoga.fetch` with a dependency tracker, and its bytes
 * are stored when the response cache's contract allows (see response-cache.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from './gateway.ts';
import { ResponseDependencies } from './response-cache.ts';

/** Request headers that change the bytes Yoga answers with; part of the cache key. */
const VARYING_HEADERS = ['accept', 'origin'] as const;

export function createHttpHandler(gateway: Gateway): (req: IncomingMessage, res: ServerResponse) => void {
  const { yoga, responseCache } = gateway;
  const { authenticator, config, logger } = gateway.services;
  const maxBytes = config.queryLimits.maxRequestBytes;

  async function fastPath(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, maxBytes);
    if (body === undefined) return void (await forward(req, res, undefined)); // too large or unknown: Yoga answers
    const headers = nodeHeaders(req);
    const principal = await authenticator.authenticate(headers);
    if ('failure' in principal || !responseCache) return forward(req, res, body);

    const key = [principal.id, ...VARYING_HEADERS.map((h) => headers.get(h) ?? ''), body.toString('latin1')].join('\u0000');
    const hit = responseCache.get(key);
    if (hit) {
      res.writeHead(hit.status, [...hit.headers.flat(), 'content-length', String(hit.body.length), 'x-response-cache', 'hit']);
      res.end(hit.body);
      return;
    }
    const dependencies = new ResponseDependencies();
    const { status, headers: responseHeaders, bytes } = await send(res, await yoga.fetch(toRequest(req, headers, body), { dependencies }));
    if (status === 200) responseCache.set(key, { status, headers: responseHeaders, body: bytes }, dependencies);
  }

  async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): Promise<void> {
    if (body === undefined) return void yoga(req, res);
    await send(res, await yoga.fetch(toRequest(req, nodeHeaders(req), body)));
  }

  return (req, res) => {
    const cacheable = responseCache && req.method === 'POST' && req.url === '/graphql' && !req.headers['content-type']?.startsWith('multipart/');
    if (!cacheable) return void yoga(req, res);
    fastPath(req, res).catch((error: unknown) => {
      logger.error({ err: { name: (error as Error).name, message: (error as Error).message } }, 'http: request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: 'Unexpected error.' }] }));
    });
  };
}

/** Writes a (non-streaming) GraphQL response; returns what was written. */
async function send(res: ServerResponse, response: Response) {
  const bytes = Buffer.from(await response.arrayBuffer());
  const headers = [...response.headers].filter(([name]) => name !== 'content-length' && name !== 'date');
  res.writeHead(response.status, [...headers.flat(), 'content-length', String(bytes.length)]);
  res.end(bytes);
  return { status: response.status, headers, bytes };
}

function nodeHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

function toRequest(req: IncomingMessage, headers: Headers, body: Buffer): Request {
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, body: body as Uint8Array<ArrayBuffer> });
}

/** The whole body, or undefined when it is over `maxBytes` or of unknown length (Yoga then refuses it). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (!Number.isInteger(declared) || declared > maxBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.destroy();
        reject(new Error('request body exceeded its declared length'));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
