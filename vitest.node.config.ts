// Node-side end-to-end tests (`npm run test:cli`): real processes against a local `wrangler dev`, outside workerd.
import { defineConfig } from 'vitest/config';

// Vitest 5's failure reporter calls Map.groupBy, which Node 20 lacks (added in Node 21).
if (!('groupBy' in Map)) {
  Object.defineProperty(Map, 'groupBy', {
    value<K, T>(items: Iterable<T>, key: (item: T, i: number) => K): Map<K, T[]> {
      const out = new Map<K, T[]>();
      let i = 0;
      for (const item of items) {
        const k = key(item, i++);
        out.set(k, [...(out.get(k) ?? []), item]);
      }
      return out;
    },
  });
}

export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.mjs'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
