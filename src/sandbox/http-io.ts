/** Request bodies in, SandboxResponse out. */
import type { IncomingMessage } from 'node:http';
import type { SandboxResponse } from './types.ts';

export const JSON_TYPE = 'application/json';
const MAX_BODY_BYTES = 1_000_000;

export function json(status: number, value: unknown, headers: Record<string, string | number> = {}): SandboxResponse {
  return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

export const NOT_FOUND_BODY = { data: [], meta: { message: 'messages.resource_not_found' } };

export function notFound(status = 404): SandboxResponse {
  return json(status, NOT_FOUND_BODY);
}

/** Validation failure: one message per field. */
export function invalid(fields: Record<string, string>): SandboxResponse {
  return json(422, { data: fields, meta: { message: 'the parameter is invalid' } });
}

/** Business failure: `{"code": N, "reason": "…"}`. */
export function businessError(code: number, reason: string): SandboxResponse {
  return json(422, { code, reason });
}

export function readRawBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** JSON, urlencoded and multipart bodies, flattened to string fields (the upstream's three accepted encodings). */
export async function parseFields(raw: Buffer, contentType: string | undefined): Promise<Record<string, string>> {
  const fields: Record<string, string> = {};
  if (raw.length === 0) return fields;
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('multipart/form-data')) {
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType! } }).formData();
    for (const [key, value] of form) if (typeof value === 'string') fields[key] = value;
    return fields;
  }
  if (type.includes('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) fields[key] = value;
    return fields;
  }
  // JSON is the default (the SDKs send it, sometimes without a content type)
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new BodySyntaxError();
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    for (const [key, value] of Object.entries(parsed)) {
      if (value === null || value === undefined) continue;
      fields[key] =
        typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
    }
  }
  return fields;
}

export class BodySyntaxError extends Error {
  constructor() {
    super('the request body is not valid JSON');
  }
}
