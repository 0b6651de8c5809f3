/**
 * The multi-process fleet suite (`npm run test:fleet`, run by .ci/run after the main suite): gateway processes as
 * `npm start` runs them, a standalone sandbox process and a redis-server of the suite's own. Files run one after the
 * other (each starts five processes; the CI machine has two cores). globalSetup builds dist/ once and fails — never
 * skips — when redis-server is missing.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The same single graphql realm as vitest.config.ts.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/fleet/**/*.test.ts'],
    globalSetup: ['test/fleet/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
