/**
 * The reference web app (examples/web) in a real browser: Debian's Chromium driven by playwright-core, as in
 * graphiql.test.ts. Setup builds the app the way a frontend team would (`npm ci` when its node_modules is missing,
 * then `npm run build`: tsc + vite build) and serves dist/ from the same origin as the gateway (node:http: /graphql →
 * the gateway's production handler, anything else → dist/). The gateway runs on the sandbox with the app's manifest
 * and PERSISTED_DOCUMENTS_ONLY=true, so every request the app makes must be a persisted document.
 *
 * Guarantees: the SIM list renders with usage bars and the balance; a recycled SIM's top-ups show their error in place
 * while the page stays; a top-up is bought and the new balance shown; a purchase whose response is cut after the
 * gateway received it is retried with the same idempotency key and buys exactly once (sandbox order count). A
 * screenshot is kept in test-artifacts/web-app.png (docs/web-app.png is a copy of one).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { type LaunchedBrowser, launchChromium } from './chromium.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WEB = join(REPO_ROOT, 'examples/web');
const DIST = join(WEB, 'dist');
const MANIFEST = join(WEB, 'src/__generated__/persisted-documents.json');
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

let h: Harness;
let server: Server;
let origin: string;
let launched: LaunchedBrowser | undefined;
let browser: BrowserContext;
/** Every GraphQL request body the page sent. */
const sent: Record<string, unknown>[] = [];
const problems: string[] = [];

function buildWebApp(): void {
  const run = (args: string[]) => execFileSync('npm', args, { cwd: WEB, stdio: 'pipe', env: process.env });
  if (!existsSync(join(WEB, 'node_modules/.package-lock.json'))) run(['ci', '--no-audit', '--no-fund']);
  run(['run', 'build']);
}

beforeAll(async () => {
  buildWebApp();
  h = await startHarness({ env: { PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_ONLY: 'true' } });
  const gateway = createHttpHandler(h.gateway);
  server = createServer((req, res) => {
    if (req.url?.startsWith('/graphql')) return gateway(req, res);
    const path = normalize(join(DIST, req.url === '/' ? 'index.html' : decodeURIComponent(req.url!.split('?')[0]!)));
    if (!path.startsWith(DIST)) return void res.writeHead(404).end();
    readFile(path).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  launched = await launchChromium({ width: 1280, height: 860 });
  browser = launched.context;
}, 240_000);

afterAll(async () => {
  await launched?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

async function open(): Promise<Page> {
  const page = await browser.newPage();
  page.on('request', (request) => {
    if (new URL(request.url()).origin !== origin) problems.push(`foreign request: ${request.url()}`);
    if (request.method() === 'POST' && request.url().endsWith('/graphql'))
      sent.push(JSON.parse(request.postData() ?? '{}') as Record<string, unknown>);
  });
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('Failed to load resource'))
      problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  const loaded = await page.goto(`${origin}/`, { waitUntil: 'load' });
  expect(loaded?.status()).toBe(200);
  await expect.poll(() => page.locator('[data-testid=sim-list] li').count(), { timeout: 30_000 }).toBe(10);
  return page;
}

const balanceOf = async (page: Page) => Number((await page.getByTestId('balance-amount').innerText()).split(' ')[0]);

/** A listed, active SIM the sandbox sells top-ups for (each purchase test takes its own). */
async function buyableSims(page: Page): Promise<string[]> {
  const listed = await page
    .locator('[data-testid=sim-list] li')
    .evaluateAll((lis) => lis.map((li) => li.dataset.iccid!));
  const active = new Set(h.sandbox.control.iccids({ status: 'ACTIVE' }));
  return listed.filter((iccid) => active.has(iccid) && h.sandbox.control.topupPackageIds(iccid).length > 0);
}

describe('the reference web app in Chromium', () => {
  // First: the usage cache is still cold.
  it("renders the list before the SIMs' usage (@defer): each row says 'usage…' until its usage arrives", async () => {
    const slow = h.sandbox.control.addFault({ endpoint: 'usage', latencyMs: 1_500 });
    try {
      const answers: string[] = [];
      const page = await browser.newPage();
      page.on('response', (response) => {
        if (response.request().method() === 'POST' && response.url().endsWith('/graphql'))
          answers.push(response.headers()['content-type'] ?? '');
      });
      await page.goto(`${origin}/`, { waitUntil: 'load' });
      await expect.poll(() => page.locator('[data-testid=sim-list] li').count(), { timeout: 30_000 }).toBe(10);
      // The page is shown while every usage read is still at the upstream.
      expect(await page.getByTestId('usage-pending').count()).toBe(10);
      expect(await page.locator('[data-testid=sim-list] meter').count()).toBe(0);
      await expect
        .poll(() => page.locator('[data-testid=sim-list] meter').count(), { timeout: 15_000 })
        .toBeGreaterThan(0);
      expect(await page.getByTestId('usage-pending').count()).toBe(0);
      expect(answers.some((type) => type.startsWith('multipart/mixed'))).toBe(true);
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'web-app-deferred.png') });
      await page.close();
    } finally {
      h.sandbox.control.removeFault(slow);
    }
    expect(problems).toEqual([]);
  });

  it('lists the SIMs with usage bars and the balance, sending only persisted documents', async () => {
    const page = await open();
    await expect.poll(() => page.locator('[data-testid=sim-list] meter').count()).toBeGreaterThan(0);
    expect(await balanceOf(page)).toBeGreaterThan(0);
    expect(await page.getByTestId('balance').innerText()).toMatch(/as of /);
    expect(sent.length).toBeGreaterThan(0);
    for (const body of sent) {
      expect(body.query).toBeUndefined();
      expect((body.extensions as { persistedQuery?: { sha256Hash?: string } }).persistedQuery?.sha256Hash).toMatch(
        /^sha256:[0-9a-f]{64}$/,
      );
    }
    expect(problems).toEqual([]);
    await page.close();
  });

  it("shows a recycled SIM's top-up error in place and keeps the rest of the page", async () => {
    const page = await open();
    const recycled = page.locator('[data-testid=sim-list] li', { has: page.locator('.badge') }).first();
    await recycled.locator('button').click();
    await expect.poll(() => page.getByTestId('topups-error').innerText(), { timeout: 15_000 }).toMatch(/SIM_RECYCLED/);
    expect(await page.locator('[data-testid=sim-list] li').count()).toBe(10);
    expect(await balanceOf(page)).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('buys a top-up and shows the new balance', async () => {
    const page = await open();
    const iccid = (await buyableSims(page))[0]!;
    const before = await balanceOf(page);
    await page.locator(`[data-iccid="${iccid}"] button`).click();
    const buy = page.locator('[data-testid=topups] button[data-package]').first();
    await buy.waitFor({ timeout: 15_000 });
    const price = Number(/Buy ([\d.]+)/.exec(await buy.innerText())![1]);
    await buy.click();
    await expect.poll(() => page.getByTestId('purchase-outcome').innerText(), { timeout: 20_000 }).toMatch(/^Bought/);
    await expect.poll(() => balanceOf(page), { timeout: 15_000 }).toBeCloseTo(before - price, 2);
    expect(h.sandbox.control.orders().filter((o) => o.iccid === iccid)).toHaveLength(1);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'web-app.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('retries a purchase whose response was cut after the gateway got it, with the same key, and buys once', async () => {
    const page = await open();
    const iccid = (await buyableSims(page))[1]!;
    const purchases: string[] = [];
    let cut = 0;
    await page.route('**/graphql', async (route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as {
        variables?: { input?: { idempotencyKey?: string } };
      };
      const key = body.variables?.input?.idempotencyKey;
      if (key === undefined) return route.continue();
      purchases.push(key);
      if (cut > 0) return route.continue();
      cut++;
      const answered = await route.fetch(); // reaches the gateway, which places the order …
      expect(answered.status()).toBe(200);
      await route.abort('connectionreset'); // … and the browser never sees the answer
    });
    await page.locator(`[data-iccid="${iccid}"] button`).click();
    const buy = page.locator('[data-testid=topups] button[data-package]').first();
    await buy.waitFor({ timeout: 15_000 });
    await buy.click();
    await expect
      .poll(() => page.getByTestId('purchase-outcome').innerText(), { timeout: 20_000 })
      .toMatch(/^Bought.*after 2 attempts, answered from the first/);
    expect(purchases).toHaveLength(2);
    expect(purchases[1]).toBe(purchases[0]);
    expect(h.sandbox.control.orders().filter((o) => o.iccid === iccid)).toHaveLength(1);
    await page.unroute('**/graphql');
    await page.close();
  });
});
