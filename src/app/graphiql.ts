/**
 * GraphiQL served by the gateway itself: no CDN, no third-party origin, so it works offline and behind
 * corporate proxies.
 *
 * The editor (`@graphql-yoga/render-graphiql`: React, GraphiQL, Monaco and its three workers, fonts inlined in
 * the CSS) is loaded from node_modules on the first GraphiQL request — never when GraphiQL is off — and served
 * as separate files under `<endpoint>/assets/<name>.<content hash>.<ext>`: cached by browsers for a year
 * (`immutable`, the hash changes with the content), gzip-compressed once for clients that accept it. The page
 * itself is under 2 KB; a Content-Security-Policy in it lets the browser load nothing from another
 * origin. Monaco's workers are same-origin files too (no blob: URLs). See README.md, "Quick start".
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

const gzip = promisify(gzipCallback);

/** What the browser may load: only this origin (data: for the fonts and images inlined in GraphiQL's CSS). */
export const GRAPHIQL_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "worker-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

interface Asset {
  /** URL path, e.g. `/graphql/assets/graphiql.3f2a….js` */
  path: string;
  type: string;
  body: Buffer;
  gzipped: Buffer;
  etag: string;
}

interface Assets {
  byPath: Map<string, Asset>;
  url: Record<'js' | 'css' | 'favicon' | 'boot' | 'editorWorkerService' | 'json' | 'graphql', string>;
}

export interface LocalGraphiQL {
  /** Yoga's `graphiql` option. */
  options: GraphiQLOptions;
  /** Yoga's `renderGraphiQL` option: the page, referencing the local assets. */
  render: (options: GraphiQLOptions) => Promise<string>;
  /** Serves the assets (GET/HEAD under `<endpoint>/assets/`). */
  plugin: Plugin;
}

/**
 * Sets the worker URLs for Monaco before the bundle runs, then renders GraphiQL with the options embedded in the
 * page (JSON, not script: the CSP allows no inline script).
 */
const BOOT_JS = `(() => {
  const config = JSON.parse(document.getElementById('graphiql-config').textContent);
  self.MonacoEnvironment = {
    globalAPI: false,
    getWorkerUrl: (_moduleId, label) => config.workers[label] ?? config.workers.editorWorkerService,
  };
  document.addEventListener('DOMContentLoaded', () =>
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), config.graphiql));
})();
`;

/**
 * `defaultQuery` opens in the editor on a first visit (no stored tabs); `headers` fill the headers editor and
 * `additionalHeaders` are sent with every request whatever the user does to that editor (the CSRF header).
 */
export function createLocalGraphiQL(input: {
  endpoint: string;
  title: string;
  defaultQuery: string;
  headers: Record<string, string>;
}): LocalGraphiQL {
  const base = `${input.endpoint}/assets/`;
  let loading: Promise<Assets> | undefined;
  const assets = () => (loading ??= loadAssets(base));
  // A failed load (e.g. a broken install) is retried on the next request instead of being remembered.
  const load = () =>
    assets().catch((error: unknown) => {
      loading = undefined; // a failed load is retried by the next request
      throw error;
    });

  const options: GraphiQLOptions = {
    title: input.title,
    defaultQuery: input.defaultQuery,
    headers: JSON.stringify(input.headers, null, 2),
    additionalHeaders: input.headers,
    endpoint: input.endpoint,
  };

  return {
    options,
    async render(graphiql) {
      const { url } = await load();
      const config = {
        workers: { editorWorkerService: url.editorWorkerService, json: url.json, graphql: url.graphql },
        graphiql,
      };
      return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${GRAPHIQL_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(graphiql.title ?? 'GraphiQL')}</title>
<link rel="icon" href="${url.favicon}">
<link rel="stylesheet" href="${url.css}">
</head>
<body id="body" class="no-focus-outline">
<noscript>You need to enable JavaScript to run GraphiQL.</noscript>
<div id="root"></div>
<script id="graphiql-config" type="application/json">${scriptSafeJson(config)}</script>
<script src="${url.boot}"></script>
<script src="${url.js}"></script>
</body>
</html>
`;
    },
    plugin: {
      async onRequest({ request, url, endResponse, fetchAPI }) {
        if (!url.pathname.startsWith(base) || (request.method !== 'GET' && request.method !== 'HEAD')) return;
        const asset = (await load()).byPath.get(url.pathname);
        if (!asset) {
          endResponse(
            new fetchAPI.Response('Not found', {
              status: 404,
              headers: { 'content-type': 'text/plain; charset=utf-8' },
            }),
          );
          return;
        }
        const headers: Record<string, string> = {
          'content-type': asset.type,
          'cache-control': 'public, max-age=31536000, immutable',
          etag: asset.etag,
          vary: 'accept-encoding',
          'x-content-type-options': 'nosniff',
        };
        if (request.headers.get('if-none-match') === asset.etag) {
          endResponse(new fetchAPI.Response(null, { status: 304, headers }));
          return;
        }
        const gzipped = /\bgzip\b/.test(request.headers.get('accept-encoding') ?? '');
        const body = gzipped ? asset.gzipped : asset.body;
        if (gzipped) headers['content-encoding'] = 'gzip';
        headers['content-length'] = String(body.length);
        endResponse(
          new fetchAPI.Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers }),
        );
      },
    },
  };
}

async function loadAssets(base: string): Promise<Assets> {
  const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
  const favicon = /^data:([^;,]+);base64,(.*)$/s.exec(bundle.favicon);
  if (!favicon) throw new Error('render-graphiql: unexpected favicon format');
  const sources = {
    js: { name: 'graphiql', ext: 'js', type: 'text/javascript; charset=utf-8', body: Buffer.from(bundle.js) },
    css: { name: 'graphiql', ext: 'css', type: 'text/css; charset=utf-8', body: Buffer.from(bundle.css) },
    favicon: { name: 'favicon', ext: 'ico', type: favicon[1]!, body: Buffer.from(favicon[2]!, 'base64') },
    boot: { name: 'boot', ext: 'js', type: 'text/javascript; charset=utf-8', body: Buffer.from(BOOT_JS) },
    editorWorkerService: {
      name: 'editor.worker',
      ext: 'js',
      type: 'text/javascript; charset=utf-8',
      body: Buffer.from(bundle.editorWorkerService),
    },
    json: {
      name: 'json.worker',
      ext: 'js',
      type: 'text/javascript; charset=utf-8',
      body: Buffer.from(bundle.jsonWorker),
    },
    graphql: {
      name: 'graphql.worker',
      ext: 'js',
      type: 'text/javascript; charset=utf-8',
      body: Buffer.from(bundle.graphqlWorker),
    },
  } as const;
  const byPath = new Map<string, Asset>();
  const url = {} as Assets['url'];
  await Promise.all(
    Object.entries(sources).map(async ([key, source]) => {
      const hash = createHash('sha256').update(source.body).digest('hex').slice(0, 16);
      const path = `${base}${source.name}.${hash}.${source.ext}`;
      byPath.set(path, {
        path,
        type: source.type,
        body: source.body,
        gzipped: await gzip(source.body),
        etag: `"${hash}"`,
      });
      url[key as keyof Assets['url']] = path;
    }),
  );
  return { byPath, url };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON that cannot end the `<script>` element it sits in. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}
