import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

/** Real-browser tests (`npm run test:browser`): Debian's Chromium driven by playwright-core, one file at a time. */
export default defineConfig({
  resolve: base.resolve,
  test: {
    include: ['test/browser/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
