/**
 * Trusted (persisted) documents: README "For frontend teams".
 *
 * Manifests are JSON objects `{ "<id>": "<document>" }` — what GraphQL Code Generator's client preset writes with
 * `persistedDocuments: true` (id = `sha256:` + the SHA-256 hex of the document). `PERSISTED_DOCUMENTS` names files and/or directories
 * (every `*.json` in them). Contract of a load (at start and on every `reload()`):
 * - all or nothing: every document must parse, pass the schema's validation (plus "one purchaseTopup per document",
 *   and no introspection when INTROSPECTION is off) and, for a SHA-256 id, hash to its id; an id used twice must
 *   name the same document. Otherwise the load throws one error listing every problem and the previous set stays;
 * - the parsed, validated documents are kept: a request by id skips parsing and validation (and hits graphql-jit's
 *   cache, keyed by the document object). The query limits (depth, aliases, tokens, cost) are not re-applied: a
 *   manifest is reviewed code, not client input.
 *
 * A request names its document by `documentId` (GraphQL over HTTP persisted-documents convention, `sha256:<hex>` or
 * the bare id) or by `extensions.persistedQuery.sha256Hash` (what urql's and Apollo's persisted-query links send).
 * Unknown ids → 400 PERSISTED_DOCUMENT_NOT_FOUND. With `only`, a document sent as text → 403
 * PERSISTED_DOCUMENT_REQUIRED, except for API-key callers (kind `partner`) when `allowArbitraryForPartners`.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DocumentNode,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  type ValidationRule,
  validate,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { Principal } from '../../domain/auth.ts';
import type { ErrorCode } from '../../domain/errors.ts';
import { withIncrementalDeliveryRules } from './defer-stream.ts';
import { onePurchasePerDocument } from './security.ts';

export interface PersistedDocument {
  id: string;
  source: string;
  document: DocumentNode;
}

interface Snapshot {
  /** Bumped by every successful (re)load: part of the response-cache key, so a reload never serves an old answer. */
  version: number;
  byId: Map<string, PersistedDocument>;
  bySource: Map<string, PersistedDocument>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** `sha256:<hex>` and `<hex>` name the same document; the store keys by the bare hex. */
const canonicalId = (id: string) => (id.startsWith('sha256:') ? id.slice(7) : id);

export class PersistedDocumentLoadError extends Error {
  constructor(readonly problems: string[]) {
    super(`persisted documents refused:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PersistedDocumentLoadError';
  }
}

export class PersistedDocumentStore {
  #snapshot: Snapshot = { version: 0, byId: new Map(), bySource: new Map() };
  /** Every document this store has validated (old sets included: they stay valid against the same schema). */
  readonly #validated = new WeakSet<DocumentNode>();
  readonly #rules: readonly ValidationRule[];

  constructor(
    private readonly schema: GraphQLSchema,
    readonly sources: readonly string[],
    options: { introspection: boolean },
  ) {
    // The rules a text request is validated with (@defer/@stream rules included), minus the query limits.
    this.#rules = withIncrementalDeliveryRules([
      ...specifiedRules,
      onePurchasePerDocument,
      ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ]);
    this.reload();
  }

  get version(): number {
    return this.#snapshot.version;
  }

  get size(): number {
    return this.#snapshot.byId.size;
  }

  /** By id: `sha256:<hex>` or the bare hex (or any other id a hand-written manifest uses). */
  get(id: string): PersistedDocument | undefined {
    return this.#snapshot.byId.get(canonicalId(id));
  }

  bySource(source: string): PersistedDocument | undefined {
    return this.#snapshot.bySource.get(source);
  }

  isValidated(document: DocumentNode): boolean {
    return this.#validated.has(document);
  }

  /** Reads and checks every manifest again; swaps the set in only when all of it is valid (else throws, keeps the old). */
  reload(): { documents: number; version: number } {
    const problems: string[] = [];
    const byId = new Map<string, PersistedDocument>();
    const bySource = new Map<string, PersistedDocument>();
    for (const file of this.manifestFiles(problems)) {
      let manifest: unknown;
      try {
        manifest = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        problems.push(`${file}: not readable JSON (${(error as Error).message})`);
        continue;
      }
      if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) {
        problems.push(`${file}: expected an object { "<id>": "<document>" }`);
        continue;
      }
      for (const [key, source] of Object.entries(manifest)) {
        const where = `${file} "${key}"`;
        const id = canonicalId(key);
        if (typeof source !== 'string' || id === '') {
          problems.push(`${where}: the document must be a string under a non-empty id`);
          continue;
        }
        const existing = byId.get(id);
        if (existing) {
          if (existing.source !== source)
            problems.push(`${where}: the id names another document in an earlier manifest`);
          continue;
        }
        if (key.startsWith('sha256:') && !SHA256_HEX.test(id)) {
          problems.push(`${where}: a sha256: id must be 64 lower-case hex digits`);
          continue;
        }
        if (SHA256_HEX.test(id) && createHash('sha256').update(source).digest('hex') !== id) {
          problems.push(`${where}: the document's SHA-256 is not its id (edited by hand? regenerate the manifest)`);
          continue;
        }
        // A document already checked (by an earlier load or under another id) is not parsed or validated again.
        const known = bySource.get(source) ?? this.#snapshot.bySource.get(source);
        let document: DocumentNode;
        if (known) document = known.document;
        else {
          try {
            document = parse(source);
          } catch (error) {
            problems.push(`${where}: ${(error as Error).message}`);
            continue;
          }
          const errors = validate(this.schema, document, this.#rules);
          if (errors.length > 0) {
            problems.push(`${where}: ${errors.map((e) => e.message).join(' ')}`);
            continue;
          }
        }
        const entry = { id, source, document };
        byId.set(id, entry);
        bySource.set(source, entry);
      }
    }
    if (problems.length > 0) throw new PersistedDocumentLoadError(problems);
    for (const entry of byId.values()) this.#validated.add(entry.document);
    this.#snapshot = { version: this.#snapshot.version + 1, byId, bySource };
    return { documents: byId.size, version: this.#snapshot.version };
  }

  private manifestFiles(problems: string[]): string[] {
    const files: string[] = [];
    for (const source of this.sources) {
      try {
        if (statSync(source).isDirectory())
          files.push(
            ...readdirSync(source)
              .filter((name) => name.endsWith('.json'))
              .sort()
              .map((name) => join(source, name)),
          );
        else files.push(source);
      } catch (error) {
        problems.push(`${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
    }
    return files;
  }
}

/** The id a request names, if any (`documentId`, or the persisted-query extension urql and Apollo send). */
export function requestedDocumentId(params: Record<string, unknown>): unknown {
  if (params.documentId !== undefined && params.documentId !== null) return params.documentId;
  const extensions = params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined;
  return extensions?.persistedQuery?.sha256Hash;
}

export interface PersistedDocumentsOptions {
  only: boolean;
  allowArbitraryForPartners: boolean;
  principalOf(request: Request): Principal | undefined;
}

const fail = (message: string, code: ErrorCode, status: number) =>
  createGraphQLError(message, { extensions: { code, http: { status } } });

export function usePersistedDocuments(store: PersistedDocumentStore, options: PersistedDocumentsOptions): Plugin {
  return {
    onParams({ params, request, setParams }) {
      const raw = params as Record<string, unknown>;
      const id = requestedDocumentId(raw);
      if (id === undefined || id === null) {
        if (!options.only) return;
        const principal = options.principalOf(request);
        if (options.allowArbitraryForPartners && principal?.kind === 'partner') return;
        throw fail(
          'Only persisted documents are accepted here: send { "documentId": "sha256:<hash>", "variables": … } with an ' +
            'id from the manifest your build produced (README "For frontend teams").',
          'PERSISTED_DOCUMENT_REQUIRED',
          403,
        );
      }
      if (typeof id !== 'string') throw fail('documentId must be a string.', 'BAD_USER_INPUT', 400);
      const entry = store.get(id);
      if (!entry)
        throw fail(
          `Unknown persisted document "${id.slice(0, 80)}": it is in no manifest this gateway loaded. Deploy the ` +
            "manifest of the client's build (PERSISTED_DOCUMENTS) before the client, then reload.",
          'PERSISTED_DOCUMENT_NOT_FOUND',
          400,
        );
      if (typeof raw.query === 'string' && raw.query !== entry.source)
        throw fail('query and documentId name different documents: send one of them.', 'BAD_USER_INPUT', 400);
      const { documentId: _, query: __, ...rest } = raw;
      setParams({ ...rest, query: entry.source } as typeof params);
    },
    onParse({ params, setParsedDocument }) {
      const entry = store.bySource(params.source.toString());
      if (!entry) return;
      setParsedDocument(entry.document); // no parse
      // Later hooks (Yoga's parse cache) may set their own copy: ours wins, so validation is skipped below.
      return ({ replaceParseResult }) => replaceParseResult(entry.document);
    },
    onValidate({ params, setResult }) {
      if (store.isValidated(params.documentAST)) setResult([]); // validated at load
    },
  };
}
