import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports" map: Node (and so Pothos and Yoga, which vitest leaves to Node) load its CJS
    // build, while Vite would pick the "module" (.mjs) build for our sources. One realm only, or graphql throws
    // "Cannot use GraphQLObjectType from another module or realm".
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Real-browser tests need Chromium: `npm run test:browser` (vitest.browser.config.ts); the multi-process fleet
    // suite has its own config and build step: `npm run test:fleet` (vitest.fleet.config.ts).
    exclude: ['test/browser/**', 'test/fleet/**', '**/node_modules/**'],
    testTimeout: 15_000,
    hookTimeout: 15_000,
  },
});
