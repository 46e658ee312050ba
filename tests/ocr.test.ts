/**
 * OCR of scanned pages (ingest/extract/ocr.ts) with the real tools, no mocks: pdftoppm renders,
 * Tesseract with its Norwegian model reads. The scans are made here from the demo's own PDFs
 * (fixtures/demo, in the repository) by tests/scan-fixture.ts, so this runs on a fresh clone.
 *
 * Without tesseract or pdftoppm the suite is skipped with the reason, unless
 * INNSIKT_OCR_REQUIRED=1 (CI), where missing tools must fail instead of passing unnoticed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cer } from '../bench/ocr.ts';
import { ExtractionError } from '../ingest/extract/errors.ts';
import { type OcrPage, ocrPdfPages, readTesseractTsv } from '../ingest/extract/ocr.ts';
import { HAS_OCR_TOOLS, pdfPageText, scannedPdf } from './scan-fixture.ts';

const REQUIRED = process.env.INNSIKT_OCR_REQUIRED === '1';
const SKIP_REASON = 'tesseract or pdftoppm not installed: OCR tests skipped (apt-get install poppler-utils tesseract-ocr tesseract-ocr-nor)';
const MISSING = 'INNSIKT_OCR_REQUIRED=1 but tesseract or pdftoppm is missing: apt-get install poppler-utils tesseract-ocr tesseract-ocr-nor';
if (!HAS_OCR_TOOLS && !REQUIRED) console.warn(`[skip] ${SKIP_REASON}`);

const DEMO = path.resolve(import.meta.dirname, '../fixtures/demo/2024-03-14-bydelsutvalget.pdf');
const words = (s: string) => s.normalize('NFC').split(/\s+/).filter(Boolean);

describe.skipIf(!HAS_OCR_TOOLS && !REQUIRED)(`OCR with Tesseract (${HAS_OCR_TOOLS ? 'tools installed' : REQUIRED ? 'tools missing' : SKIP_REASON})`, () => {
  let dir: string;

  beforeAll(() => {
    if (!HAS_OCR_TOOLS) throw new Error(MISSING);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'innsikt-ocr-test-'));
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("readTesseractTsv reads Tesseract's real TSV into the words, lines and order of Tesseract's own text output", () => {
    const base = path.join(dir, 'page');
    execFileSync('pdftoppm', ['-r', '300', '-gray', '-png', '-f', '2', '-l', '2', '-singlefile', DEMO, base]);
    // One pass of Tesseract writes both its plain text (page.txt) and its TSV (page.tsv).
    execFileSync('tesseract', [`${base}.png`, base, '-l', 'nor', '--psm', '3', 'txt', 'tsv'], {
      stdio: 'ignore',
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
    });
    const tsv = fs.readFileSync(`${base}.tsv`, 'utf8');
    const plain = fs.readFileSync(`${base}.txt`, 'utf8');
    const got = readTesseractTsv(tsv);

    // The same words in the same order, and the same lines, as Tesseract's plain-text renderer.
    expect(words(got.text)).toEqual(words(plain));
    const lines = (s: string) =>
      s
        .normalize('NFC')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    expect(lines(got.text)).toEqual(lines(plain));
    expect(got.text).toMatch(/\n\n/); // paragraphs kept apart

    // Words and confidence, counted independently from the word rows (level 5) of the TSV.
    const rows = tsv
      .split('\n')
      .map((r) => r.split('\t'))
      .filter((f) => f[0] === '5' && f.length >= 12 && f[11].trim());
    expect(got.words).toBe(rows.length);
    expect(got.words).toBeGreaterThan(100);
    const mean = rows.reduce((a, f) => a + Number(f[10]), 0) / rows.length;
    expect(got.confidence).toBeCloseTo(mean, 0);
    expect(got.confidence).toBeGreaterThan(80);
    expect(got.confidence).toBeLessThanOrEqual(100);

    // The header row alone, or nothing: no words and no confidence.
    expect(readTesseractTsv(tsv.split('\n')[0])).toEqual({ text: '', confidence: null, words: 0 });
    expect(readTesseractTsv('')).toEqual({ text: '', confidence: null, words: 0 });
  });

  describe('ocrPdfPages on a scanned PDF made from a demo protocol', () => {
    let scan: Buffer;
    let pages: OcrPage[];
    const progress: [number, number, number][] = [];

    beforeAll(async () => {
      // Page 1: a scan of the demo's page 1; page 2: a page with a text layer; page 3: a scan of its page 2; page 4: blank.
      scan = await scannedPdf(DEMO, [{ scan: 1 }, { text: 'En side med tekstlag.' }, { scan: 2 }, { text: '' }]);
      pages = await ocrPdfPages(scan, [1, 3, 4], { onPage: (p, done, total) => progress.push([p.num, done, total]) });
    });

    it('returns the pages asked for, in order, with their page numbers', () => {
      expect(pages.map((p) => p.num)).toEqual([1, 3, 4]);
      expect(progress.map(([, done, total]) => [done, total])).toEqual([
        [1, 3],
        [2, 3],
        [3, 3],
      ]);
      expect(progress.map(([num]) => num).sort()).toEqual([1, 3, 4]);
    });

    it("reads the page's distinctive words and numbers", () => {
      const [first, second] = pages;
      for (const s of [
        'Bydelsutvalget',
        'Møtedato: 14.03.2024',
        'Sykehjemsetaten',
        'Arkivsak 24/0298',
        'Sak 18/24',
        'opprop med 1 240',
        '85 prosent',
        'Tøyenparken',
      ]) {
        expect(first.text).toContain(s);
      }
      for (const s of ['Camilla Berge', 'brukervalg', '12 mot 3 stemmer', 'Fritidsklubb Vålerenga', 'Arkivsak 24/0145']) expect(second.text).toContain(s);
    });

    it('gives each page a mean word confidence between 0 and 100, and a blank page none', () => {
      for (const p of pages.slice(0, 2)) {
        expect(p.confidence).toBeTypeOf('number');
        expect(p.confidence!).toBeGreaterThan(80);
        expect(p.confidence!).toBeLessThanOrEqual(100);
        expect(p.words).toBeGreaterThan(100);
        expect(p.ms).toBeGreaterThan(0);
      }
      expect(pages[2]).toMatchObject({ num: 4, text: '', confidence: null, words: 0 });
    });

    it("reads a page with a character error rate under 3% against the page's text layer", () => {
      for (const [p, source] of [
        [pages[0], 1],
        [pages[1], 2],
      ] as const) {
        const r = cer(p.text, pdfPageText(DEMO, source));
        expect(r.refChars).toBeGreaterThan(1000);
        expect(r.strict, `CER of demo page ${source}: ${(r.strict * 100).toFixed(2)}%`).toBeLessThan(0.03);
      }
    });
  });

  it('the CER is edit distance over reference length on whitespace-normalised text', () => {
    expect(cer('Antall  stemme-\nberettigede\t24 504', 'Antall stemme- berettigede 24 504').strict).toBe(0);
    expect(cer('Oppmøteprosent 58,9l %', 'Oppmøteprosent 58,91 %').strict).toBeCloseTo(1 / 22, 6);
    expect(cer('ﬁnansiert', 'finansiert').strict).toBe(0);
    // Reading order: every word read, in another order, costs only in the strict figure.
    const order = cer('Sum 25 Parti Antall', 'Parti Antall Sum 25');
    expect(order.strict).toBeGreaterThan(0.3);
    expect(order.orderFree).toBe(0);
  });

  it('names a missing language model in a clear ExtractionError (INNSIKT_OCR_LANG)', async () => {
    const saved = process.env.INNSIKT_OCR_LANG;
    process.env.INNSIKT_OCR_LANG = 'xyz';
    try {
      const err = await ocrPdfPages(DEMO, [1]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExtractionError);
      expect((err as ExtractionError).code).toBe('no-text');
      expect((err as Error).message).toMatch(/Tesseract has no model for xyz\b/);
      expect((err as Error).message).toContain('apt-get install tesseract-ocr-xyz');
      process.env.INNSIKT_OCR_LANG = 'nor+xyz';
      const both = await ocrPdfPages(DEMO, [1]).catch((e: unknown) => e);
      expect((both as Error).message).toMatch(/no model for xyz\./);
    } finally {
      if (saved === undefined) delete process.env.INNSIKT_OCR_LANG;
      else process.env.INNSIKT_OCR_LANG = saved;
    }
  });
});
