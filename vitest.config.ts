import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    // Integration suites ingest real PDFs; two forks keep both cores busy without thrashing.
    pool: 'forks',
    maxWorkers: 2,
  },
});
