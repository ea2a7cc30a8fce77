/**
 * `npm run test:browser`: the end-to-end browser test in Node (not workerd). It starts the Worker with
 * `wrangler dev` on a free port with local D1/KV/R2 in a temporary directory, and drives Debian's
 * Chromium (/usr/bin/chromium) with playwright-core. Kept apart from `npm test`, which needs no browser.
 */
import { defineConfig } from 'vitest/config';
import './test/node20-polyfills.ts';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.spec.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
