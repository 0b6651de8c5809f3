/**
 * GraphQL Code Generator: reads the committed SDL and generates typed documents for every operation
 * the tests and examples use (`graphql(...)` calls in test/, `.graphql` files in examples/).
 * `npm run codegen` regenerates; `npm run codegen:check` (part of `npm test`) fails when they are stale.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['test/**/*.ts', 'examples/**/*.graphql', '!test/__generated__/**'],
  ignoreNoDocuments: false,
  generates: {
    'test/__generated__/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string', Decimal: 'string', ID: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        documentMode: 'string',
        importExtension: '.ts',
      },
    },
  },
};

export default config;
