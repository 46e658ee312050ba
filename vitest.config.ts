import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Pages read by OCR, shared by every test file and run and by `npm run eval` (the same folder as
// eval/harness.ts uses; ingest/extract/index.ts ocrCached): the real scans are read once per
// machine, not once per test that ingests them.
const evalCache = process.env.INNSIKT_EVAL_CACHE;
process.env.INNSIKT_OCR_CACHE ??= path.join(
  evalCache && evalCache !== 'off' && evalCache !== '0' ? path.resolve(evalCache) : path.join(os.tmpdir(), 'innsikt-eval-cache'),
  'ocr',
);

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
