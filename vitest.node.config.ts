// Node-side end-to-end tests (`npm run test:cli`): real processes against a local `wrangler dev`, outside workerd.
import { defineConfig } from 'vitest/config';
import './test/node20-polyfills.ts';

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.mjs'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
