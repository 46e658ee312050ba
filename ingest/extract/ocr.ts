/**
 * OCR of scanned PDF pages: poppler's `pdftoppm` renders a page to a greyscale PNG, Tesseract
 * (with its Norwegian model) reads it. Both are existing, well-kept tools (Debian:
 * poppler-utils, tesseract-ocr, tesseract-ocr-nor); this module only runs them page by page,
 * two pages at a time on two cores, and reads Tesseract's TSV output for the text and each
 * word's confidence.
 *
 * It runs in the ingestion worker and the `innsikt ingest` command, never on a web request.
 *
 * Environment:
 *   INNSIKT_OCR                 on (default) | off: off leaves scanned pages without text, as before
 *   INNSIKT_OCR_LANG            Tesseract languages (default "nor"; e.g. "nor+eng")
 *   INNSIKT_OCR_DPI             render resolution (default 300)
 *   INNSIKT_OCR_PSM             Tesseract's page segmentation mode (default 4: one column of text
 *                               of variable sizes; measured against 3, fully automatic, in
 *                               docs/benchmarks.md: it keeps table rows and framed figures whole)
 *   INNSIKT_OCR_WORKERS         pages read at once (default min(2, cores))
 *   INNSIKT_OCR_PAGE_TIMEOUT_MS per page, render and read together (default 120000)
 *   INNSIKT_OCR_MIN_CONFIDENCE  mean word confidence (0-100) below which a page is flagged (default 60)
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { normalizeText } from './clean.ts';
import { ExtractionError } from './errors.ts';

export interface OcrPage {
  num: number;
  text: string;
  /** Mean confidence (0-100) of the words Tesseract read; null when it read no words. */
  confidence: number | null;
  words: number;
  ms: number;
}

export interface OcrOptions {
  lang?: string;
  dpi?: number;
  psm?: number;
  workers?: number;
  pageTimeoutMs?: number;
  /** Called after every page, in completion order. */
  onPage?: (page: OcrPage, done: number, total: number) => void;
}

export interface OcrSettings {
  enabled: boolean;
  lang: string;
  dpi: number;
  psm: number;
  workers: number;
  pageTimeoutMs: number;
  minConfidence: number;
}

function envNumber(name: string, dflt: number, env: NodeJS.ProcessEnv): number {
  const v = Number(env[name]);
  return env[name] !== undefined && env[name] !== '' && Number.isFinite(v) && v > 0 ? v : dflt;
}

export function ocrSettings(env: NodeJS.ProcessEnv = process.env): OcrSettings {
  const flag = (env.INNSIKT_OCR ?? 'on').toLowerCase();
  if (!['on', 'off', '1', '0', 'true', 'false'].includes(flag)) throw new Error(`INNSIKT_OCR must be on or off, not "${env.INNSIKT_OCR}"`);
  return {
    enabled: flag === 'on' || flag === '1' || flag === 'true',
    lang: env.INNSIKT_OCR_LANG?.trim() || 'nor',
    dpi: Math.round(envNumber('INNSIKT_OCR_DPI', 300, env)),
    psm: pageSegmentation(env.INNSIKT_OCR_PSM),
    workers: Math.max(1, Math.round(envNumber('INNSIKT_OCR_WORKERS', Math.min(2, os.availableParallelism()), env))),
    pageTimeoutMs: envNumber('INNSIKT_OCR_PAGE_TIMEOUT_MS', 120_000, env),
    minConfidence: envNumber('INNSIKT_OCR_MIN_CONFIDENCE', 60, env),
  };
}

/** Tesseract's modes that read a page's text (0 only detects orientation, 2 is not implemented). */
function pageSegmentation(v: string | undefined): number {
  if (v === undefined || v.trim() === '') return 4;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 13 || n === 2)
    throw new Error(`INNSIKT_OCR_PSM must be a Tesseract page segmentation mode from 1 to 13 (not 2), not "${v}"`);
  return n;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // One thread per Tesseract: the pages themselves run in parallel, which uses two cores better.
    execFile(
      cmd,
      args,
      { timeout: Math.round(timeoutMs), maxBuffer: 64 * 1024 * 1024, env: { ...process.env, OMP_THREAD_LIMIT: '1' } },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean };
          if (e.code === 'ENOENT') reject(new ExtractionError('no-text', missingTools(cmd)));
          else if (e.killed) reject(new ExtractionError('timeout', `${cmd} took more than ${Math.round(timeoutMs / 1000)} s on one page and was stopped.`));
          else reject(new Error(`${cmd} failed: ${(stderr || e.message).trim().split('\n').slice(-3).join(' ')}`));
        } else resolve(stdout);
      },
    );
  });
}

function missingTools(cmd: string): string {
  return (
    `The PDF has scanned pages that need OCR, but \`${cmd}\` is not installed. ` +
    'Install poppler-utils, tesseract-ocr and tesseract-ocr-nor (Debian/Ubuntu: apt-get install poppler-utils tesseract-ocr tesseract-ocr-nor) and ingest the file again.'
  );
}

/** Per language setting: a check that failed is forgotten, so that installing the model helps at once. */
const checks = new Map<string, Promise<void>>();

/** Throws a clear ExtractionError unless pdftoppm and Tesseract with the languages are installed. */
export function checkOcrTools(lang: string): Promise<void> {
  const known = checks.get(lang);
  if (known) return known;
  const checked = (async () => {
    await run('pdftoppm', ['-v'], 10_000).catch((err) => {
      if (err instanceof ExtractionError) throw err;
    });
    const list = await new Promise<string>((resolve, reject) => {
      const child = spawn('tesseract', ['--list-langs']);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? new ExtractionError('no-text', missingTools('tesseract')) : err));
      child.on('close', () => resolve(out));
    });
    const have = new Set(list.split('\n').map((l) => l.trim()));
    const missing = lang.split('+').filter((l) => !have.has(l));
    if (missing.length) {
      throw new ExtractionError(
        'no-text',
        `The PDF has scanned pages that need OCR, but Tesseract has no model for ${missing.join(', ')}. ` +
          `Install it (Debian/Ubuntu: apt-get install ${missing.map((l) => `tesseract-ocr-${l}`).join(' ')}), or set INNSIKT_OCR_LANG.`,
      );
    }
  })();
  checks.set(lang, checked);
  checked.catch(() => {
    if (checks.get(lang) === checked) checks.delete(lang);
  });
  return checked;
}

/**
 * Tesseract's TSV: one row per page, block, paragraph, line and word (level 1-5). Words of a
 * line are joined by spaces, lines by newlines, paragraphs and blocks by an empty line.
 */
export function readTesseractTsv(tsv: string): { text: string; confidence: number | null; words: number } {
  const paragraphs: string[][] = [];
  let key = '';
  let line: string[] = [];
  let para: string[] = [];
  let paraKey = '';
  let confSum = 0;
  let words = 0;
  const flushLine = () => {
    if (line.length) para.push(line.join(' '));
    line = [];
  };
  const flushPara = () => {
    flushLine();
    if (para.length) paragraphs.push(para);
    para = [];
  };
  for (const row of tsv.split('\n')) {
    const f = row.split('\t');
    if (f.length < 12 || f[0] !== '5') continue;
    const text = f.slice(11).join('\t').trim();
    const conf = Number(f[10]);
    if (!text) continue;
    const pk = `${f[2]}.${f[3]}`;
    const lk = `${pk}.${f[4]}`;
    if (pk !== paraKey) {
      flushPara();
      paraKey = pk;
    } else if (lk !== key) flushLine();
    key = lk;
    line.push(text);
    if (Number.isFinite(conf) && conf >= 0) {
      confSum += conf;
      words++;
    }
  }
  flushPara();
  const text = normalizeText(paragraphs.map((p) => p.join('\n')).join('\n\n'));
  return { text, confidence: words ? Math.round((confSum / words) * 10) / 10 : null, words };
}

/**
 * Pages being read at once in this process, over all documents: ingestion reads several files
 * at a time, and each would otherwise start its own INNSIKT_OCR_WORKERS pages.
 */
let running = 0;
const waiting: (() => void)[] = [];
async function slot(limit: number): Promise<() => void> {
  while (running >= limit) await new Promise<void>((r) => waiting.push(r));
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

/** Render one page and read it. */
async function ocrPage(pdfFile: string, num: number, dir: string, s: Pick<OcrSettings, 'lang' | 'dpi' | 'psm' | 'pageTimeoutMs'>): Promise<OcrPage> {
  const t0 = performance.now();
  const base = path.join(dir, `p${num}`);
  await run('pdftoppm', ['-r', String(s.dpi), '-gray', '-png', '-f', String(num), '-l', String(num), '-singlefile', pdfFile, base], s.pageTimeoutMs);
  const png = `${base}.png`;
  try {
    const left = Math.max(1000, s.pageTimeoutMs - (performance.now() - t0));
    const tsv = await run('tesseract', [png, '-', '-l', s.lang, '--psm', String(s.psm), 'tsv'], left);
    return { num, ...readTesseractTsv(tsv), ms: Math.round(performance.now() - t0) };
  } finally {
    await fs.rm(png, { force: true });
  }
}

/**
 * OCR the given (1-based) pages of a PDF, given as a file or as its bytes. Pages are returned
 * in the order given; one page failing (a timeout) fails the whole call, so that a document is
 * never stored with pages silently missing.
 */
export async function ocrPdfPages(pdf: string | Uint8Array, pages: number[], opts: OcrOptions = {}): Promise<OcrPage[]> {
  const s = { ...ocrSettings(), ...stripUndefined(opts) };
  s.workers = Math.max(1, Math.round(s.workers));
  await checkOcrTools(s.lang);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'innsikt-ocr-'));
  try {
    let file: string;
    if (typeof pdf === 'string') file = pdf;
    else {
      file = path.join(dir, 'in.pdf');
      await fs.writeFile(file, pdf);
    }
    const out: OcrPage[] = new Array(pages.length);
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < pages.length) {
        const i = next++;
        const release = await slot(s.workers);
        try {
          out[i] = await ocrPage(file, pages[i], dir, s);
        } finally {
          release();
        }
        opts.onPage?.(out[i], ++done, pages.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(s.workers, pages.length) }, worker));
    return out;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
