import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { type LaunchedBrowser, launchChromium } from './chromium.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');

let h: Harness;
let server: Server;
let origin: string;
let launched: LaunchedBrowser | undefined;
let browser: BrowserContext;

beforeAll(async () => {
  h = await startHarness(); // no UPSTREAM_URL: GraphiQL and introspection on, as with `npm start`
  server = createServer(createHttpHandler(h.gateway));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  launched = await launchChromium({ width: 1440, height: 900 });
  browser = launched.context;
});

afterAll(async () => {
  await launched?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await h?.close();
});

describe('GraphiQL in Chromium', () => {
  it('loads from the gateway alone, opens with the example operation and runs it to simList data', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('requestfailed', (request) =>
      problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
    );
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

    try {
      await openAndRun();
    } catch (error) {
      // A timeout alone says little: show what the page reported meanwhile.
      throw new Error(`${(error as Error).message}\nrecorded by the page:\n${problems.join('\n') || '(nothing)'}`, {
        cause: error,
      });
    }

    // Nothing from another origin (data: URLs are the fonts and icons inlined in GraphiQL's CSS), nothing failed.
    const foreign = requests.filter((url) => !url.startsWith('data:') && new URL(url).origin !== origin);
    expect(foreign).toEqual([]);
    expect(requests.filter((url) => url.startsWith(`${origin}/graphql/assets/`)).length).toBeGreaterThanOrEqual(4);
    expect(problems).toEqual([]);
    await page.close();

    async function openAndRun(): Promise<void> {
      const loaded = await page.goto(`${origin}/graphql`, { waitUntil: 'load' });
      expect(loaded?.status()).toBe(200);

      // The editor shows the example operation (Monaco renders lines with non-breaking spaces).
      const editor = page.locator('.graphiql-query-editor .view-lines');
      await expect
        .poll(async () => normalise(await editor.innerText()), { timeout: 30_000 })
        .toContain('query MyEsims {');
      const example = await readFile(join(REPO_ROOT, 'examples/my-esims.graphql'), 'utf8');
      expect(normalise(await editor.innerText())).toContain(
        normalise(example.split('\n').find((line) => line.includes('simList'))!),
      );

      // Run it: the POST carries the CSRF header and the answer holds five SIMs.
      const isRun = (request: Request) => request.method() === 'POST' && (request.postData() ?? '').includes('MyEsims');
      const [answer] = await Promise.all([
        page.waitForResponse((response) => isRun(response.request()), { timeout: 30_000 }),
        page.locator('.graphiql-execute-button').click(),
      ]);
      expect(answer.status()).toBe(200);
      expect(await answer.request().headerValue('x-graphql-csrf')).toBe('1');
      const body = (await answer.json()) as { data?: { simList?: { totalCount: number; nodes: { iccid: string }[] } } };
      expect(body.data?.simList?.nodes).toHaveLength(5);
      expect(body.data?.simList?.totalCount).toBeGreaterThan(5);

      // ... and the result pane shows it.
      const result = page.locator('.graphiql-response .view-lines');
      await expect.poll(async () => normalise(await result.innerText()), { timeout: 15_000 }).toContain('"simList": {');
      await expect.poll(async () => normalise(await result.innerText())).toContain(body.data!.simList!.nodes[0]!.iccid);

      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'graphiql.png') });
    }
  });

  it("shows an incremental (@defer) result: the page first, each SIM's usage merged in as it arrives", async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const query = 'query DeferredScreen { simList(first: 3) { nodes { iccid ... @defer { usage { remainingMb } } } } }';
    // GraphiQL opens with the operation given in the URL.
    expect(
      (await page.goto(`${origin}/graphql?query=${encodeURIComponent(query)}`, { waitUntil: 'load' }))?.status(),
    ).toBe(200);
    const editor = page.locator('.graphiql-query-editor .view-lines');
    await expect.poll(async () => normalise(await editor.innerText()), { timeout: 30_000 }).toContain('DeferredScreen');

    const isRun = (request: Request) =>
      request.method() === 'POST' && (request.postData() ?? '').includes('DeferredScreen');
    const [answer] = await Promise.all([
      page.waitForResponse((response) => isRun(response.request()), { timeout: 30_000 }),
      page.locator('.graphiql-execute-button').click(),
    ]);
    expect(answer.status()).toBe(200);
    expect(answer.headers()['content-type']).toMatch(/^multipart\/mixed/);
    expect(await answer.request().headerValue('accept')).toContain('multipart/mixed');

    // The result pane merges the deferred parts into the page: every SIM ends up with its usage.
    const { data } = await h.gql('{ simList(first: 3) { nodes { iccid usage { remainingMb } } } }');
    const result = page.locator('.graphiql-response .view-lines');
    for (const node of data.simList.nodes as { iccid: string; usage: { remainingMb: number } }[]) {
      await expect.poll(async () => normalise(await result.innerText()), { timeout: 15_000 }).toContain(node.iccid);
    }
    await expect
      .poll(async () => (normalise(await result.innerText()).match(/"remainingMb"/g) ?? []).length, { timeout: 15_000 })
      .toBe(3);
    expect(problems).toEqual([]);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'graphiql-defer.png') });
    await page.close();
  });
});

const normalise = (text: string) => text.replace(/\u00a0/g, ' ').replace(/[ \t]+/g, ' ');
