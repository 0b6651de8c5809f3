/**
 * Reading incremental (@defer/@stream) answers as a client does: `multipart/mixed` parts and `text/event-stream`
 * events, each as soon as its bytes are complete — from a Fetch `Response` (yoga.fetch) or raw socket chunks.
 */
import { request } from 'node:http';

/** One payload: the initial one (`data`, `errors`) or a subsequent one (`incremental`), with `hasNext`. */
export interface Payload {
  data?: Record<string, any> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
  incremental?: {
    data?: Record<string, any> | null;
    items?: unknown[];
    path: (string | number)[];
    label?: string;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
  }[];
  hasNext?: boolean;
}

/**
 * Incremental parser of `multipart/mixed; boundary="-"` as Yoga writes it: `\r\n---` before each part and
 * `--\r\n` after the last delimiter. `push` returns the payloads completed by the new bytes; `closed` is true once the
 * final delimiter arrived.
 */
export class MultipartReader {
  #buffer = '';
  closed = false;
  readonly #delimiter: string;

  constructor(contentType: string) {
    const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
    if (!boundary) throw new Error(`no boundary in ${contentType}`);
    this.#delimiter = `\r\n--${boundary}`;
  }

  push(chunk: string): Payload[] {
    this.#buffer += chunk;
    const payloads: Payload[] = [];
    for (;;) {
      const start = this.#buffer.indexOf(this.#delimiter);
      if (start < 0) return payloads;
      const after = start + this.#delimiter.length;
      if (this.#buffer.startsWith('--', after)) {
        this.closed = true;
        this.#buffer = '';
        return payloads;
      }
      const next = this.#buffer.indexOf(this.#delimiter, after);
      if (next < 0) {
        this.#buffer = this.#buffer.slice(start); // the part is not complete yet
        return payloads;
      }
      const part = this.#buffer.slice(after, next);
      const body = part.slice(part.indexOf('\r\n\r\n') + 4);
      payloads.push(JSON.parse(body) as Payload);
      this.#buffer = this.#buffer.slice(next);
    }
  }
}

/** Incremental parser of `text/event-stream`: the `next` events' data; `closed` once `complete` arrived. */
export class EventStreamReader {
  #buffer = '';
  closed = false;

  push(chunk: string): Payload[] {
    this.#buffer += chunk;
    const payloads: Payload[] = [];
    let end = this.#buffer.indexOf('\n\n');
    while (end >= 0) {
      const event = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(event)?.[1];
      const data = /^data: ?(.*)$/m.exec(event)?.[1];
      if (name === 'next' && data) payloads.push(JSON.parse(data) as Payload);
      if (name === 'complete') this.closed = true;
      end = this.#buffer.indexOf('\n\n');
    }
    return payloads;
  }
}

/** Every payload of a `multipart/mixed` Fetch response, in order; fails when it does not end with its closing delimiter. */
export async function readAll(response: Response): Promise<Payload[]> {
  const payloads: Payload[] = [];
  for await (const payload of readParts(response)) payloads.push(payload);
  return payloads;
}

/** The payloads of a `multipart/mixed` Fetch response, each as soon as its bytes arrived. */
export async function* readParts(response: Response): AsyncGenerator<Payload> {
  const reader = new MultipartReader(response.headers.get('content-type') ?? '');
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>)
    yield* reader.push(decoder.decode(chunk, { stream: true }));
  if (!reader.closed) throw new Error('the multipart answer ended without its closing delimiter');
}

/**
 * A POST over a real socket whose answer is read part by part: `next()` resolves with the next payload as soon as
 * its bytes arrived; `close()` drops the connection (a client going away mid-stream).
 */
export function streamOverSocket(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  next(): Promise<Payload | undefined>;
  close(): void;
}> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } },
      (res) => {
        const type = String(res.headers['content-type'] ?? '');
        const parser = type.startsWith('text/event-stream') ? new EventStreamReader() : new MultipartReader(type);
        const queue: Payload[] = [];
        let waiting: ((payload: Payload | undefined) => void) | undefined;
        let ended = false;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          queue.push(...parser.push(chunk));
          if (waiting && queue.length) {
            const wake = waiting;
            waiting = undefined;
            wake(queue.shift());
          }
        });
        const end = () => {
          ended = true;
          waiting?.(undefined);
        };
        res.on('end', end);
        res.on('close', end);
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          next: () =>
            queue.length || ended
              ? Promise.resolve(queue.shift())
              : new Promise<Payload | undefined>((wake) => (waiting = wake)),
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end(body);
  });
}
