/**
 * Extractors: bytes of a PDF, text, Markdown or HTML file -> pages of clean text.
 *
 *   const x = await extractFile('møtebok.pdf');   // { pages, paged, mediaType, method, warnings, title? }
 *   ...
 *   await shutdownExtractors();                   // at the end of a CLI run
 *
 * PDFs are parsed by pdf-parse (pdf.js) in worker threads with a per-file timeout, so a
 * pathological PDF cannot hang or crash the caller (see pdf.ts). Failures are thrown as
 * ExtractionError with a `code` and an English message that says what to do.
 *
 * Environment:
 *   INNSIKT_EXTRACT_TIMEOUT_MS  per-PDF timeout (default 60000)
 *   INNSIKT_EXTRACT_WORKERS     PDF worker threads (default min(2, cores))
 *   INNSIKT_MAX_FILE_MB         largest accepted file (default 200)
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanPdfPageText, normalizeText } from './clean.ts';
import { ExtractionError } from './errors.ts';
import { htmlToText, sniffHtmlCharset } from './html.ts';
import { ocrPdfPages, ocrSettings } from './ocr.ts';
import { defaultTimeoutMs, parsePdfInWorker, shutdownPdfPool } from './pdf.ts';
import { formatPageRanges, garbledPages } from './quality.ts';
import { decodeText } from './text.ts';

export type { ExtractionErrorCode } from './errors.ts';
export { ExtractionError } from './errors.ts';

export interface Extraction {
  /**
   * Pages in order. `num` is the 1-based page number, or null for unpaged text. `ocr` marks a
   * page read by OCR, with Tesseract's mean word confidence (0-100) and `low` when that is below
   * INNSIKT_OCR_MIN_CONFIDENCE (flagged, not hidden).
   */
  pages: ExtractedPage[];
  paged: boolean;
  mediaType: string;
  /** pdf-ocr: every page read by OCR; pdf-text+ocr: a text layer with some scanned pages. */
  method: 'pdf-text' | 'pdf-ocr' | 'pdf-text+ocr' | 'text' | 'markdown' | 'html';
  warnings: string[];
  title?: string;
}

export interface ExtractedPage {
  num: number | null;
  text: string;
  ocr?: { confidence: number | null; low?: boolean };
}

export interface ExtractOptions {
  /** Per-file timeout for PDF parsing; default INNSIKT_EXTRACT_TIMEOUT_MS or 60 s. */
  timeoutMs?: number;
  /** OCR of scanned pages; default: as INNSIKT_OCR_* say (ocr.ts), without a cache. */
  ocr?: {
    enabled?: boolean;
    cacheDir?: string | null;
    onPage?: (done: number, total: number) => void /** The file's SHA-256 when the caller has it (the cache key). */;
    sha256?: string;
  };
}

const MEDIA_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
};

/** The media type for a file name by its extension, or null when it is not supported. */
export function mediaTypeFor(filePath: string): string | null {
  return MEDIA_TYPES[path.extname(filePath).toLowerCase()] ?? null;
}

/** The largest file accepted (INNSIKT_MAX_FILE_MB, default 200), in bytes: extraction's and the upload page's limit. */
export function maxFileBytes(env: Record<string, string | undefined> = process.env): number {
  const v = Number(env.INNSIKT_MAX_FILE_MB);
  const mb = Number.isFinite(v) && v > 0 ? v : 200;
  return Math.floor(mb * 1024 * 1024);
}

function checkSize(size: number, what: string): void {
  if (size === 0) {
    throw new ExtractionError('empty', `${what} is empty (0 bytes); there is nothing to extract. Check that the file was saved or downloaded completely.`);
  }
  const max = maxFileBytes();
  if (size > max) {
    throw new ExtractionError(
      'too-large',
      `${what} is ${(size / 1024 / 1024).toFixed(1)} MB, above the limit of ${(max / 1024 / 1024).toFixed(0)} MB. ` +
        'Split it into smaller files, or raise INNSIKT_MAX_FILE_MB if this size is expected.',
    );
  }
}

function normalizeMediaType(mediaType: string): string {
  return mediaType.split(';')[0].trim().toLowerCase();
}

/** Extracts text from bytes of the given media type. The caller's buffer is not modified. */
export async function extractBuffer(buf: Buffer, mediaType: string, opts: ExtractOptions = {}): Promise<Extraction> {
  checkSize(buf.length, 'The file');
  const type = normalizeMediaType(mediaType);
  if (type === 'application/pdf') {
    // One copy into a buffer we own, which is then transferred (not copied) to the worker.
    const own = new Uint8Array(buf.length);
    own.set(buf);
    return extractPdf(own, opts, buf);
  }
  return extractTextual(buf, type);
}

/** Extracts text from a file; its media type comes from the extension (see mediaTypeFor). */
export async function extractFile(filePath: string, opts: ExtractOptions = {}): Promise<Extraction> {
  const type = mediaTypeFor(filePath);
  const name = path.basename(filePath);
  if (!type) {
    throw new ExtractionError(
      'unsupported',
      `${name}: unsupported file type "${path.extname(filePath) || '(no extension)'}". Supported: ${Object.keys(MEDIA_TYPES).join(' ')}. ` +
        'Convert the file to PDF or plain text first.',
    );
  }
  try {
    const info = await stat(filePath);
    if (!info.isFile()) throw new ExtractionError('unsupported', `${name} is not a regular file.`);
    checkSize(info.size, name);
    // Read into a fresh ArrayBuffer of exactly the file's size; for PDFs it is transferred.
    const data = await readWhole(filePath, info.size);
    if (type === 'application/pdf') return await extractPdf(data, opts, filePath);
    return extractTextual(Buffer.from(data.buffer, data.byteOffset, data.byteLength), type);
  } catch (err) {
    if (err instanceof ExtractionError) {
      if (!err.message.startsWith(name)) err.message = `${name}: ${err.message}`;
      throw err;
    }
    throw err;
  }
}

async function readWhole(filePath: string, size: number): Promise<Uint8Array> {
  const fh = await open(filePath, 'r');
  try {
    const data = new Uint8Array(new ArrayBuffer(size));
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(data, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === size ? data : data.slice(0, off);
  } finally {
    await fh.close();
  }
}

/** Terminates the PDF worker threads (a CLI calls this before exiting). Safe to call twice. */
export async function shutdownExtractors(): Promise<void> {
  await shutdownPdfPool();
}

// ---------------------------------------------------------------------------------------
// PDF

/** Where a PDF's header may start: PDF readers look this far, past junk some scanners write. */
const PDF_HEADER_WITHIN = 1024;

/** Whether the bytes carry a PDF header (%PDF-) within their first kilobyte. */
export function hasPdfHeader(data: Uint8Array): boolean {
  return new TextDecoder('latin1').decode(data.subarray(0, PDF_HEADER_WITHIN)).includes('%PDF-');
}

function describeNonPdf(data: Uint8Array): string | null {
  if (hasPdfHeader(data)) return null;
  const head = new TextDecoder('latin1').decode(data.subarray(0, PDF_HEADER_WITHIN));
  const t = head.trimStart().toLowerCase();
  if (t.startsWith('<!doctype html') || t.startsWith('<html') || t.includes('<head') || t.includes('<body')) {
    return 'it looks like an HTML page (perhaps a login or error page saved instead of the document)';
  }
  if (data[0] === 0x50 && data[1] === 0x4b) return 'it looks like a ZIP/Office document (e.g. .docx), not a PDF';
  if (data[0] === 0xd0 && data[1] === 0xcf) return 'it looks like an old Microsoft Office document (e.g. .doc), not a PDF';
  return 'it does not start with a PDF header (%PDF-)';
}

async function extractPdf(data: Uint8Array, opts: ExtractOptions, original: string | Uint8Array): Promise<Extraction> {
  const notPdf = describeNonPdf(data);
  if (notPdf) {
    throw new ExtractionError('corrupt', `The file is not a readable PDF: ${notPdf}. Check the file, or give it the right extension.`);
  }
  const timeoutMs = opts.timeoutMs ?? defaultTimeoutMs();
  const raw = await parsePdfInWorker(data, timeoutMs);
  const warnings: string[] = [];

  if (raw.numPages === 0 || raw.pages.length === 0) {
    throw new ExtractionError('corrupt', 'The PDF has no pages. The file is damaged or incomplete; try re-downloading it.');
  }

  const garbled = new Set(garbledPages(raw.pages));
  const pages: ExtractedPage[] = raw.pages.map((p) => ({ num: p.num as number | null, text: cleanPdfPageText(p.text) }));

  // Scanned pages (no text layer) and pages whose text layer is unusable are read by OCR.
  const settings = ocrSettings();
  const ocrOn = opts.ocr?.enabled ?? settings.enabled;
  const scanned = pages.filter((p) => p.num !== null && (p.text.trim() === '' || garbled.has(p.num))).map((p) => p.num as number);
  let ocrCount = 0;
  if (ocrOn && scanned.length > 0) {
    const read = await ocrCached(original, scanned, settings, opts.ocr?.cacheDir ?? null, opts.ocr?.onPage, opts.ocr?.sha256);
    const low: number[] = [];
    for (const page of pages) {
      const r = page.num === null ? undefined : read.get(page.num);
      if (!r) continue;
      page.text = r.text;
      page.ocr = { confidence: r.confidence };
      if (r.confidence !== null && r.confidence < settings.minConfidence && r.text.trim() !== '') {
        page.ocr.low = true;
        low.push(page.num as number);
      }
      garbled.delete(page.num as number);
      ocrCount++;
    }
    if (low.length > 0) {
      warnings.push(
        `OCR read page${low.length === 1 ? '' : 's'} ${formatPageRanges(low)} with a mean word confidence below ${settings.minConfidence} %: ` +
          'the text there may have misread words (the pages are searchable and flagged).',
      );
    }
  }

  if (pages.every((p) => p.text.trim() === '')) {
    const n = `${pages.length} page${pages.length === 1 ? '' : 's'}`;
    throw new ExtractionError(
      'no-text',
      ocrCount > 0
        ? `OCR found no text on any of its ${n}: the scans are blank or not of text (photos, drawings). Check the file.`
        : `The PDF has no text layer on any of its ${n}: it is a scanned or image-only document. ` +
            'It needs OCR, which is turned off here (INNSIKT_OCR=off). Turn it on (the default), or run it through an OCR tool first.',
    );
  }
  for (const p of pages) if (p.text.trim() === '' && !p.ocr) warnings.push(`page ${p.num} has no text layer`);

  if (garbled.size > 0) {
    const list = [...garbled];
    warnings.push(
      `the text layer looks garbled on ${list.length === pages.length ? 'all pages' : `page${list.length === 1 ? '' : 's'} ${formatPageRanges(list)}`} ` +
        '(mostly symbols or control characters: the fonts do not map to Unicode); search will not find the words on these pages. ' +
        'Turn OCR on (INNSIKT_OCR=on) or get a better export of the document.',
    );
  }

  const pdfjsNotes = [...new Set(raw.messages.map((m) => m.replace(/^Warning:\s*/, '').trim()).filter(isUsefulPdfjsMessage))];
  if (pdfjsNotes.length > 0) {
    warnings.push(`pdf.js reported problems while reading the file (text may be incomplete): ${pdfjsNotes.slice(0, 3).join('; ')}`);
  }

  const method = ocrCount === 0 ? 'pdf-text' : ocrCount === pages.length ? 'pdf-ocr' : 'pdf-text+ocr';
  const result: Extraction = { pages, paged: true, mediaType: 'application/pdf', method, warnings };
  const title = usableTitle(raw.title);
  if (title) result.title = title;
  return result;
}

/**
 * OCR of the given pages, through a cache of pages already read (by the PDF's SHA-256, the
 * language, the resolution and the page segmentation mode): a job that is stopped half-way (kill -9, a crash) resumes at
 * the next unread page, and re-ingesting or re-extracting the same bytes reads nothing again.
 */
async function ocrCached(
  original: string | Uint8Array,
  nums: number[],
  settings: ReturnType<typeof ocrSettings>,
  cacheDir: string | null,
  onPage?: (done: number, total: number) => void,
  knownSha?: string,
): Promise<Map<number, { text: string; confidence: number | null }>> {
  const got = new Map<number, { text: string; confidence: number | null }>();
  let cacheFile: string | null = null;
  if (cacheDir) {
    const sha =
      knownSha ??
      createHash('sha256')
        .update(typeof original === 'string' ? await readFile(original) : original)
        .digest('hex');
    cacheFile = path.join(cacheDir, `${sha}.${settings.lang.replace(/[^a-z0-9+_-]/gi, '_')}.${settings.dpi}.psm${settings.psm}.json`);
    try {
      const cached = JSON.parse(await readFile(cacheFile, 'utf8')) as Record<string, { text: string; confidence: number | null }>;
      for (const n of nums) if (cached[n]) got.set(n, cached[n]);
    } catch {
      // no cache yet, or a damaged one: read again
    }
  }
  const todo = nums.filter((n) => !got.has(n));
  const total = nums.length;
  let done = total - todo.length;
  if (done > 0) onPage?.(done, total);
  if (todo.length === 0) return got;
  const save = async () => {
    if (!cacheFile) return;
    await mkdir(path.dirname(cacheFile), { recursive: true });
    const tmp = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, JSON.stringify(Object.fromEntries(got)));
    await rename(tmp, cacheFile);
  };
  let saving = Promise.resolve();
  await ocrPdfPages(original, todo, {
    onPage: (p) => {
      got.set(p.num, { text: p.text, confidence: p.confidence });
      saving = saving.then(save, save);
      onPage?.(++done, total);
    },
  });
  await saving;
  return got;
}

/** pdf.js warnings worth telling the user: structural damage, not font trivia. */
function isUsefulPdfjsMessage(m: string): boolean {
  if (m === '') return false;
  if (/\b(TT|CFF|Type1|font|glyph|cmap|fontfile|FontFace|DOMMatrix|ImageData|Path2D|canvas|@napi-rs)\b/i.test(m)) return false;
  return /xref|indexing all pdf objects|corrupt|invalid|bad|stream|unexpected|missing|error|exception/i.test(m);
}

/** The document-info Title, unless it is empty or an obvious file/application name. */
function usableTitle(t: string | null): string | undefined {
  if (!t) return undefined;
  let s = normalizeText(t).replace(/\s+/g, ' ').trim();
  s = s.replace(/^Microsoft (Word|Excel|PowerPoint) - /i, '');
  if (s.length < 3) return undefined;
  if (/\.(docx?|xlsx?|pptx?|rtf|odt|pdf|txt|tmp|indd|qxd)$/i.test(s)) return undefined;
  if (/^(untitled|uten tittel|dokument\d*|document\d*|title|tittel|ingen tittel|unknown|pdf|pdf-fil|pdf file)$/i.test(s)) return undefined;
  // A scanner's or camera's file name ("SKM_C36819092010551", "Scan_0042", "IMG_2031"): one
  // word with a long run of digits names the device's counter, not the document.
  if (!/\s/.test(s) && /\d{4,}/.test(s)) return undefined;
  return s;
}

// ---------------------------------------------------------------------------------------
// Text, Markdown, HTML

function extractTextual(buf: Buffer, type: string): Extraction {
  if (type === 'text/plain' || type === 'text/markdown') {
    const decoded = decodeText(buf);
    const markdown = type === 'text/markdown';
    const method = markdown ? 'markdown' : 'text';
    const warnings = [...decoded.warnings];
    const text = decoded.text;
    let pages: { num: number | null; text: string }[];
    let paged = false;
    if (text.includes('\f')) {
      const parts = text.split('\f');
      // A trailing form feed (as pdftotext writes) does not start another page.
      if (parts.length > 1 && parts[parts.length - 1].trim() === '') parts.pop();
      pages = parts.map((p, i) => ({ num: i + 1, text: normalizeText(p) }));
      paged = true;
    } else {
      pages = [{ num: null, text: normalizeText(text) }];
    }
    if (pages.every((p) => p.text.trim() === '')) {
      throw new ExtractionError('empty', 'The file contains only whitespace; there is no text to extract.');
    }
    const result: Extraction = { pages, paged, mediaType: type, method, warnings };
    if (markdown) {
      const title = markdownTitle(pages.map((p) => p.text).join('\n'));
      if (title) result.title = title;
    }
    return result;
  }
  if (type === 'text/html' || type === 'application/xhtml+xml') {
    const decoded = decodeText(buf, sniffHtmlCharset(buf));
    const { text, title } = htmlToText(decoded.text);
    const clean = normalizeText(text);
    if (clean.trim() === '') {
      throw new ExtractionError('empty', 'The HTML page has no visible text (only markup, scripts or styles); there is nothing to extract.');
    }
    const result: Extraction = {
      pages: [{ num: null, text: clean }],
      paged: false,
      mediaType: 'text/html',
      method: 'html',
      warnings: decoded.warnings,
    };
    if (title) result.title = normalizeText(title);
    return result;
  }
  throw new ExtractionError('unsupported', `Unsupported media type "${type}". Supported: application/pdf, text/plain, text/markdown, text/html.`);
}

/** The first level-1 ATX heading ("# Title"), outside fenced code blocks. */
export function markdownTitle(md: string): string | undefined {
  let fence: string | null = null;
  for (const line of md.split('\n')) {
    const f = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      if (fence === null) fence = f[1][0];
      else if (f[1][0] === fence) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const h = /^\s{0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (h) return h[1].trim();
  }
  return undefined;
}
