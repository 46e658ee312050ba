/**
 * Scanned PDFs for tests, made from real text PDFs: pdftoppm renders the chosen pages to
 * greyscale images and pdfkit wraps them in a new PDF with no text layer, exactly what a
 * scanner produces. `text` pages (optional) get an ordinary text layer instead, for mixed
 * documents. The source's own text (pdftotext) is the reference the OCR is compared with.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PDFDocument from 'pdfkit';

export type ScanPage = { scan: number } | { text: string };

/** A PDF whose pages are images of `from`'s pages (or text pages), in the order given. */
export async function scannedPdf(from: string, pages: ScanPage[], dpi = 200): Promise<Buffer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'innsikt-scan-'));
  try {
    const doc = new PDFDocument({ size: 'A4', autoFirstPage: false, margin: 56 });
    const parts: Buffer[] = [];
    doc.on('data', (b: Buffer) => parts.push(b));
    const done = new Promise<void>((r) => doc.on('end', () => r()));
    for (const p of pages) {
      doc.addPage();
      if ('text' in p) {
        doc.fontSize(11).text(p.text);
        continue;
      }
      const base = path.join(dir, `p${p.scan}`);
      execFileSync('pdftoppm', ['-r', String(dpi), '-gray', '-png', '-f', String(p.scan), '-l', String(p.scan), '-singlefile', from, base]);
      doc.image(`${base}.png`, 0, 0, { width: doc.page.width, height: doc.page.height });
    }
    doc.end();
    await done;
    return Buffer.concat(parts);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The text layer of one page of a PDF (pdftotext), the reference for a scan of it. */
export function pdfPageText(file: string, page: number): string {
  return execFileSync('pdftotext', ['-layout', '-f', String(page), '-l', String(page), file, '-'], { encoding: 'utf8' });
}

/** Tesseract (with its Norwegian model) and pdftoppm are installed. In CI (INNSIKT_OCR_REQUIRED=1) they must be. */
export const HAS_OCR_TOOLS = (() => {
  try {
    execFileSync('pdftoppm', ['-v'], { stdio: 'ignore' });
    if (!execFileSync('tesseract', ['--list-langs'], { encoding: 'utf8' }).split('\n').includes('nor')) throw new Error('no nor model');
    return true;
  } catch (err) {
    if (process.env.INNSIKT_OCR_REQUIRED === '1')
      throw new Error(
        `INNSIKT_OCR_REQUIRED=1, but OCR cannot run here (${(err as Error).message}): apt-get install poppler-utils tesseract-ocr tesseract-ocr-nor`,
      );
    console.warn('[skip] OCR tests: tesseract-ocr with tesseract-ocr-nor, or pdftoppm, is not installed');
    return false;
  }
})();
