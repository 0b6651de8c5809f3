/**
 * GraphiQL is served by the gateway itself (src/graphiql.ts): the page references only its own assets under
 * /graphql/assets/, which are immutable, content-hashed and gzip-compressed; nothing points at a CDN. The
 * browser-level proof (Chromium loads it, runs the example) is test/browser/graphiql.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_CSP } from '../../src/app/graphiql.ts';
import { type Harness, startHarness } from '../support/harness.ts';

let h: Harness;
let page: string;

beforeAll(async () => {
  h = await startHarness();
  const response = await h.fetch('/graphql', { headers: { accept: 'text/html' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  page = await response.text();
});
afterAll(() => h.close());

/** Every `src=` / `href=` in the page. */
const references = (html: string) => [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
/** The JSON configuration the page hands to GraphiQL. */
const pageConfig = (html: string) =>
  JSON.parse(/<script id="graphiql-config" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!) as {
    workers: Record<string, string>;
    graphiql: Record<string, unknown>;
  };

describe('GraphiQL served by the gateway', () => {
  it('references only its own assets, under a CSP that allows no other origin', () => {
    const refs = references(page);
    expect(refs.length).toBeGreaterThanOrEqual(4); // favicon, css, boot script, bundle
    for (const ref of refs) expect(ref).toMatch(/^\/graphql\/assets\/[\w.-]+\.[0-9a-f]{16}\.(js|css|ico)$/);
    expect(page).not.toMatch(/unpkg|jsdelivr|cdn\./i);
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="${GRAPHIQL_CSP}">`);
    expect(GRAPHIQL_CSP).toContain("script-src 'self';");
    expect(GRAPHIQL_CSP).toContain("connect-src 'self';");
  });

  it('opens with examples/my-esims.graphql and sends the CSRF header with every request', async () => {
    const { graphiql, workers } = pageConfig(page);
    expect(graphiql.defaultQuery).toBe(
      await readFile(new URL('../../examples/my-esims.graphql', import.meta.url), 'utf8'),
    );
    expect(graphiql.additionalHeaders).toEqual({ 'x-graphql-csrf': '1' });
    expect(JSON.parse(graphiql.headers as string)).toEqual({ 'x-graphql-csrf': '1' });
    expect(graphiql.endpoint).toBe('/graphql');
    expect(Object.keys(workers).sort()).toEqual(['editorWorkerService', 'graphql', 'json']);
  });

  it('serves every asset with its type, a year of immutable caching, gzip when accepted, and 304 on a matching ETag', async () => {
    const { workers } = pageConfig(page);
    for (const path of [...references(page), ...Object.values(workers)]) {
      const plain = await h.fetch(path);
      expect(plain.status, path).toBe(200);
      expect(plain.headers.get('content-type'), path).toMatch(
        path.endsWith('.js') ? /^text\/javascript/ : path.endsWith('.css') ? /^text\/css/ : /^image\//,
      );
      expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(plain.headers.get('content-encoding')).toBeNull();
      const bytes = Buffer.from(await plain.arrayBuffer());
      expect(bytes.length).toBe(Number(plain.headers.get('content-length')));

      const zipped = await h.fetch(path, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
      expect(zipped.headers.get('content-encoding')).toBe('gzip');
      expect(Number(zipped.headers.get('content-length'))).toBeLessThan(bytes.length);

      const etag = plain.headers.get('etag')!;
      expect(path).toContain(`.${JSON.parse(etag)}.`);
      const again = await h.fetch(path, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
    }
    // The compressed bundle is the same bundle (yoga.fetch hands back the bytes the gateway wrote, undecoded).
    const bundle = references(page).find((ref) => /\/graphiql\.[0-9a-f]+\.js$/.test(ref))!;
    const zipped = Buffer.from(await (await h.fetch(bundle, { headers: { 'accept-encoding': 'gzip' } })).arrayBuffer());
    const plain = Buffer.from(await (await h.fetch(bundle)).arrayBuffer());
    expect(plain.length).toBeGreaterThan(1_000_000);
    expect(gunzipSync(zipped).equals(plain)).toBe(true);
  });

  it('answers 404 for an unknown or outdated asset', async () => {
    expect((await h.fetch('/graphql/assets/graphiql.0000000000000000.js')).status).toBe(404);
    expect((await h.fetch('/graphql/assets/')).status).toBe(404);
  });

  it('serves neither page nor assets when GraphiQL is off', async () => {
    const asset = references(page)[0]!;
    const off = await startHarness({ env: { GRAPHIQL: 'false' } });
    try {
      const html = await off.fetch('/graphql', { headers: { accept: 'text/html' } });
      expect(await html.text()).not.toContain('/graphql/assets/');
      expect((await off.fetch(asset)).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
