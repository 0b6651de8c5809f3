/**
 * Trusted (persisted) documents: requests by id, unknown ids, the only-persisted switch and its partner exception,
 * manifest checks and reload, and the response cache keyed by id + variables + caller (src/graphql/plugins/
 * persisted-documents.ts, the persisted branch of src/app/http-handler.ts). The manifest under test is the one
 * codegen writes for the test operations (test/__generated__/persisted-documents.json, kept fresh by codegen:check).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../src/app/http-handler.ts';
import { ConfigError, loadConfig } from '../../src/platform/config.ts';
import { graphql } from '../__generated__/gql.ts';
import { type Harness, startHarness } from '../support/harness.ts';

/** Depth 3 (sims › usage › status): refused as text under MAX_QUERY_DEPTH=2, fine by id. */
const PersistedSims = graphql(`
  query PersistedSims($iccids: [ID!]!) {
    sims(iccids: $iccids) {
      iccid
      usage {
        status
        remainingMb
      }
    }
  }
`);

const MANIFEST = fileURLToPath(new URL('../__generated__/persisted-documents.json', import.meta.url));
const ID = PersistedSims.__meta__!.hash as string; // `sha256:<hex>`
const HEX = ID.slice('sha256:'.length);
/** The document as the manifest holds it (minified by codegen). */
const SOURCE = (JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, string>)[ID]!;
const KEY = 'partner-a-key-0123456789abcdefghij';
const JWT_SECRET = 'test-jwt-secret-that-is-long-enough-for-hs256';

let h: Harness | undefined;
let server: Server | undefined;
let dir: string | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  h = server = dir = undefined;
});

async function post(harness: Harness, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  const response = await harness.fetch('/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    },
    body: text,
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

/** Variables for PersistedSims: the first n active SIMs of the sandbox. */
const v = (n: number) => ({ iccids: h!.sandbox.control.iccids({ status: 'ACTIVE' }).slice(0, n) });

const codeOf = (r: { body: { errors?: any[] } }) => r.body.errors?.[0]?.extensions?.code;

describe('persisted documents by id', () => {
  it('runs a manifest document by documentId (sha256:… or bare), or by the persisted-query extension', async () => {
    h = await startHarness({ env: { PERSISTED_DOCUMENTS: MANIFEST } });
    const variables = v(2);
    const byPrefixed = await post(h, { documentId: ID, variables });
    expect(byPrefixed.status).toBe(200);
    expect(byPrefixed.body.errors).toBeUndefined();
    expect(byPrefixed.body.data.sims).toHaveLength(2);
    expect(byPrefixed.body.data.sims[0].usage.status).toBeTypeOf('string');
    expect((await post(h, { documentId: HEX, variables })).body).toEqual(byPrefixed.body);
    const apq = await post(h, { variables, extensions: { persistedQuery: { version: 1, sha256Hash: ID } } });
    expect(apq.body).toEqual(byPrefixed.body);
  });

  it('skips parsing and validation: the query limits that refuse the text do not apply to the pre-validated document', async () => {
    h = await startHarness({ env: { PERSISTED_DOCUMENTS: MANIFEST, MAX_QUERY_DEPTH: '2' } });
    const asText = await post(h, { query: PersistedSims.toString(), variables: v(1) });
    expect(codeOf(asText)).toBe('QUERY_TOO_COMPLEX'); // graphql-armor's depth rule runs in validation
    const byId = await post(h, { documentId: ID, variables: v(1) });
    expect(byId.body.errors).toBeUndefined();
    expect(byId.body.data.sims).toHaveLength(1);
  });

  it('answers an unknown id with 400 PERSISTED_DOCUMENT_NOT_FOUND, and a query that contradicts the id with 400', async () => {
    h = await startHarness({ env: { PERSISTED_DOCUMENTS: MANIFEST } });
    const unknown = await post(h, { documentId: `sha256:${'0'.repeat(64)}` });
    expect(unknown.status).toBe(400);
    expect(codeOf(unknown)).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
    expect(unknown.body.errors![0].message).toMatch(/Unknown persisted document "sha256:0+"/);
    expect(unknown.body.data).toBeUndefined();
    const contradicting = await post(h, { documentId: ID, query: '{ balance { stale } }' });
    expect(contradicting.status).toBe(400);
    expect(codeOf(contradicting)).toBe('BAD_USER_INPUT');
    expect(h.sandbox.control.countCalls()).toBe(0);
  });
});

describe('PERSISTED_DOCUMENTS_ONLY', () => {
  const env = {
    PERSISTED_DOCUMENTS: MANIFEST,
    PERSISTED_DOCUMENTS_ONLY: 'true',
    AUTH_API_KEYS: `web:${KEY}`,
    AUTH_JWT_SECRET: JWT_SECRET,
  };
  const userToken = () =>
    new SignJWT({ iccids: [] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuedAt(Math.floor(h!.clock.now() / 1000))
      .setExpirationTime(Math.floor(h!.clock.now() / 1000) + 600)
      .sign(new TextEncoder().encode(JWT_SECRET));

  it('refuses a document sent as text with 403 PERSISTED_DOCUMENT_REQUIRED, from every caller, and runs ids', async () => {
    h = await startHarness({ env });
    const partner = { 'x-api-key': KEY };
    const refused = await post(h, { query: '{ balance { stale } }' }, partner);
    expect(refused.status).toBe(403);
    expect(codeOf(refused)).toBe('PERSISTED_DOCUMENT_REQUIRED');
    expect(refused.body.data).toBeUndefined();
    const user = await post(
      h,
      { query: '{ simList(first: 1) { totalCount } }' },
      { authorization: `Bearer ${await userToken()}` },
    );
    expect(user.status).toBe(403);
    expect(h.sandbox.control.countCalls()).toBe(0);
    const byId = await post(h, { documentId: ID, variables: v(1) }, partner);
    expect(byId.body.data.sims).toHaveLength(1);
  });

  it('lets API-key callers send any document with PERSISTED_DOCUMENTS_ALLOW_ARBITRARY_FOR_PARTNERS, end users still not', async () => {
    h = await startHarness({ env: { ...env, PERSISTED_DOCUMENTS_ALLOW_ARBITRARY_FOR_PARTNERS: 'true' } });
    const partner = await post(h, { query: '{ simList(first: 1) { totalCount } }' }, { 'x-api-key': KEY });
    expect(partner.status).toBe(200);
    expect(partner.body.data.simList.totalCount).toBeGreaterThan(0);
    const user = await post(
      h,
      { query: '{ simList(first: 1) { totalCount } }' },
      { authorization: `Bearer ${await userToken()}` },
    );
    expect(user.status).toBe(403);
    expect(codeOf(user)).toBe('PERSISTED_DOCUMENT_REQUIRED');
  });

  it('is a configuration error without manifests, and the partner switch without it', () => {
    expect(() => loadConfig({ PERSISTED_DOCUMENTS_ONLY: 'true' })).toThrow(
      /PERSISTED_DOCUMENTS_ONLY: needs PERSISTED_DOCUMENTS/,
    );
    expect(() =>
      loadConfig({ PERSISTED_DOCUMENTS: MANIFEST, PERSISTED_DOCUMENTS_ALLOW_ARBITRARY_FOR_PARTNERS: 'true' }),
    ).toThrow(ConfigError);
    expect(loadConfig({ PERSISTED_DOCUMENTS: ` ${MANIFEST}, /tmp/other ` }).persistedDocuments).toEqual({
      sources: [MANIFEST, '/tmp/other'],
      only: false,
      allowArbitraryForPartners: false,
    });
  });
});

const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

describe('manifests', () => {
  it('refuses at start a manifest with an invalid document, a hash that is not its document, or a missing file — all listed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'persisted-'));
    const bad = '{ sim(iccid: "1") { noSuchField } }';
    await writeFile(
      join(dir, 'a.json'),
      JSON.stringify({ [sha(bad)]: bad, [sha('{ balance { stale } }')]: '{ balance { fetchedAt } }' }),
    );
    const error = await startHarness({ env: { PERSISTED_DOCUMENTS: `${dir},${join(dir, 'missing.json')}` } }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/Cannot query field "noSuchField"/);
    expect(error?.message).toMatch(/SHA-256 is not its id/);
    expect(error?.message).toMatch(/missing\.json: ENOENT/);
  });

  it('reloads a directory: new ids answer, a broken set is refused and the current one kept, cached answers are not reused', async () => {
    dir = await mkdtemp(join(tmpdir(), 'persisted-'));
    const balance = '{ balance { available { amount currency } } }';
    await writeFile(join(dir, 'one.json'), JSON.stringify({ [sha(balance)]: balance }));
    h = await startHarness({ env: { PERSISTED_DOCUMENTS: dir } });
    const store = h.gateway.persistedDocuments!;
    expect(codeOf(await post(h, { documentId: ID, variables: v(1) }))).toBe('PERSISTED_DOCUMENT_NOT_FOUND');

    await writeFile(join(dir, 'two.json'), JSON.stringify({ [ID]: SOURCE }));
    expect(store.reload()).toEqual({ documents: 2, version: 2 });
    expect((await post(h, { documentId: ID, variables: v(1) })).body.data.sims).toHaveLength(1);

    await writeFile(join(dir, 'three.json'), '{ "x": "query {" }');
    expect(() => store.reload()).toThrow(/three\.json "x": Syntax Error/);
    expect(store.version).toBe(2);
    expect((await post(h, { documentId: ID, variables: v(1) })).status).toBe(200);
  });
});

describe('response cache for persisted documents', () => {
  async function listen(env: Record<string, string>) {
    h = await startHarness({ env: { PERSISTED_DOCUMENTS: MANIFEST, ...env } });
    server = createServer(createHttpHandler(h.gateway));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    return async (body: string, key = KEY) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body,
      });
      return { cache: response.headers.get('x-response-cache'), text: await response.text() };
    };
  }

  it('keys by id + variables + caller, not by body bytes: another spelling of the same request is a hit', async () => {
    const other = 'partner-b-key-0123456789abcdefghij';
    const send = await listen({ AUTH_API_KEYS: `a:${KEY},b:${other}` });
    const first = await send(JSON.stringify({ documentId: ID, variables: v(3) }));
    await send(JSON.stringify({ documentId: ID, variables: v(3) })); // built from fresh reads: stored now
    const calls = h!.sandbox.control.countCalls();

    const spellings = [
      JSON.stringify({ documentId: ID, variables: v(3) }),
      JSON.stringify({ variables: v(3), documentId: HEX }),
      `{ "documentId" : "${ID}",\n  "variables": {"iccids":${JSON.stringify(v(3).iccids)}} }`,
      JSON.stringify({ variables: v(3), extensions: { persistedQuery: { version: 1, sha256Hash: HEX } } }),
    ];
    for (const body of spellings) {
      const r = await send(body);
      expect(r.cache, body).toBe('hit');
      expect(r.text).toBe(first.text);
    }
    expect(h!.sandbox.control.countCalls()).toBe(calls);

    expect((await send(JSON.stringify({ documentId: ID, variables: v(2) }))).cache).toBeNull();
    expect((await send(JSON.stringify({ documentId: ID, variables: v(3) }), other)).cache).toBeNull();
  });

  it('does not serve an answer stored before a manifest reload', async () => {
    const send = await listen({ AUTH_API_KEYS: `a:${KEY}` });
    const body = JSON.stringify({ documentId: ID, variables: v(1) });
    await send(body);
    expect((await send(body)).cache).toBeNull();
    expect((await send(body)).cache).toBe('hit');
    h!.gateway.persistedDocuments!.reload();
    expect((await send(body)).cache).toBeNull();
  });
});
