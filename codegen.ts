/**
 * GraphQL Code Generator: reads the committed SDL and generates typed documents plus a persisted-documents manifest
 * (`persisted-documents.json`: SHA-256 hex of each document → the document, the format PERSISTED_DOCUMENTS loads):
 * - test/__generated__/: every operation the tests and examples use (`graphql(...)` calls in test/, `.graphql`
 *   files in examples/);
 * - examples/web/src/__generated__/: the reference web app's operations (examples/web/src/**\/*.graphql), as DocumentNodes
 *   carrying their hash (`__meta__.hash`), which the app sends instead of the document; `__typename` is added to
 *   every selection (urql's cache needs it, and the server runs the manifest's text, not what the client adds).
 * `npm run codegen` regenerates; `npm run codegen:check` (part of `npm test`) fails when any of it, manifests
 * included, is stale. README "For frontend teams".
 */
import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

const scalars = { DateTime: 'string', Decimal: 'string', ID: 'string' };

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: false,
  generates: {
    'test/__generated__/': {
      documents: ['test/**/*.ts', 'examples/*.graphql', '!test/__generated__/**'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, persistedDocuments: true },
      config: {
        scalars,
        enumsAsTypes: true,
        useTypeImports: true,
        documentMode: 'string',
        importExtension: '.ts',
      },
    },
    'examples/web/src/__generated__/': {
      documents: ['examples/web/src/**/*.graphql'],
      preset: 'client',
      // urql's document cache invalidates by __typename: the persisted documents must ask for it themselves.
      documentTransforms: [addTypenameSelectionDocumentTransform],
      presetConfig: { fragmentMasking: false, persistedDocuments: true },
      config: { scalars, enumsAsTypes: true, useTypeImports: true },
    },
  },
};

export default config;
