/**
 * The webhook receiver at the HTTP edge (`WEBHOOK_PATH`, default `/webhooks/airalo`), ahead of Yoga:
 * - `HEAD` → 200: the upstream's opt-in check of the URL;
 * - `POST` → the raw body bytes (at most `WEBHOOK_MAX_BYTES`, else 413 and nothing processed) are handed to the alert
 *   hub, which verifies `airalo-signature` over exactly those bytes: 401 and nothing processed when it is missing or
 *   wrong, else 200 at once — parsing, dedupe, effects and fan-out run after the answer is written;
 * - anything else → 405.
 * Webhooks carry no gateway credentials: the signature is their authentication. See README "Live alerts".
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from './gateway.ts';

const JSON_HEAD = { 'content-type': 'application/json; charset=utf-8' };

/** Returns a handler that answers (and returns true) for requests to the webhook path, and false for any other. */
export function createWebhookHandler(gateway: Gateway): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { webhookPath, webhookMaxBytes } = gateway.services.config.alerts;
  const { hub } = gateway.alerts;
  const { logger } = gateway.services;
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if ((q === -1 ? url : url.slice(0, q)) !== webhookPath) return false;
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-length': '0' }).end();
      return true;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'HEAD, POST', ...JSON_HEAD }).end('{"error":"method not allowed"}');
      return true;
    }
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > webhookMaxBytes) {
      tooLarge(res);
      return true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > webhookMaxBytes) {
        refused = true;
        tooLarge(res);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {}); // a client that goes away mid-body gets no answer
    req.on('end', () => {
      if (refused) return;
      const raw = Buffer.concat(chunks, size);
      const signature = req.headers['airalo-signature'];
      const verdict = hub.receive(raw, typeof signature === 'string' ? signature : undefined);
      if (verdict === 'unauthorized') {
        logger.warn({ bytes: size, signed: signature !== undefined }, 'webhook: refused (missing or bad signature)');
        res.writeHead(401, JSON_HEAD).end('{"error":"invalid signature"}');
        return;
      }
      res.writeHead(200, JSON_HEAD).end('{"received":true}');
    });
    return true;
  };
}

function tooLarge(res: ServerResponse): void {
  res.writeHead(413, { ...JSON_HEAD, connection: 'close' }).end('{"error":"payload too large"}');
}
