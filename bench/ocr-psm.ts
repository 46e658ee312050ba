/**
 * `node bin/run-ts.js bench/ocr-psm.ts`: the character error rate of ingestion's OCR with
 * Tesseract's page segmentation modes 3 and 4, on the ocr section's fixed 52-page sample
 * (bench/ocr.ts samplePages), per half: a page is in the tuning half when the first byte of
 * sha256("ocr:<file>:<page>") is even. Chose INNSIKT_OCR_PSM's default (docs/benchmarks.md).
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { ocrPdfPages } from '../ingest/extract/ocr.ts';
import { scannedPdf } from '../tests/scan-fixture.ts';
import { cer, samplePages } from './ocr.ts';

const pages = await samplePages();
const rows: { half: string; p3: number; p4: number; name: string }[] = [];
let next = 0;
await Promise.all(
  [0, 1].map(async () => {
    while (next < pages.length) {
      const s = pages[next++];
      const pdf = await scannedPdf(s.file, [{ scan: s.page }], 300);
      const [a] = await ocrPdfPages(pdf, [1], { psm: 3, workers: 1 });
      const [b] = await ocrPdfPages(pdf, [1], { psm: 4, workers: 1 });
      const name = `${path.basename(s.file)}:${s.page}`;
      const half = crypto.createHash('sha256').update(`ocr:${name}`).digest()[0] % 2 === 0 ? 'tuning' : 'reporting';
      rows.push({ half, p3: cer(a.text, s.reference).strict, p4: cer(b.text, s.reference).strict, name });
    }
  }),
);
const pct = (x: number) => `${(100 * x).toFixed(3)}%`;
for (const half of ['tuning', 'reporting', 'both']) {
  const r = rows.filter((x) => half === 'both' || x.half === half);
  const mean = (k: 'p3' | 'p4') => r.reduce((s, x) => s + x[k], 0) / r.length;
  const median = (k: 'p3' | 'p4') => r.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(r.length / 2)];
  const better = r.filter((x) => x.p4 < x.p3 - 0.001).length;
  const worse = r.filter((x) => x.p4 > x.p3 + 0.001).length;
  console.log(
    `${half}: ${r.length} pages; --psm 3 mean ${pct(mean('p3'))} median ${pct(median('p3'))}; --psm 4 mean ${pct(mean('p4'))} median ${pct(median('p4'))}; --psm 4 better on ${better}, worse on ${worse}`,
  );
}
