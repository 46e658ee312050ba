/**
 * Ingestion throughput over ../shared/corpus/bulk-election-protocols (147 real PDFs), end to
 * end through ingestPaths (extract, understand, chunk, embed, index), next to extraction
 * alone (pdf-parse on one thread, pdf-parse in the pipeline's worker pool, pdftotext one and
 * two at a time) on the same files, interleaved in each repetition so load from other work
 * on the machine hits all of them alike.
 *
 * CPU utilisation = CPU seconds (all threads of this process, or the pdftotext children) /
 * wall seconds: 2.0 means both cores busy the whole time.
 */

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PDFParse } from 'pdf-parse';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { DataDir } from '../ingest/data-dir.ts';
import { extractFile, shutdownExtractors } from '../ingest/extract/index.ts';
import { poolSize } from '../ingest/extract/pdf.ts';
import { expandPaths, type IngestResult, ingestPaths } from '../ingest/pipeline.ts';
import { BULK_DIR, CACHE_DIR, ROOT } from './corpus.ts';
import { summariseProfiles } from './profile.ts';
import { cpuSeconds, fmt, median, quantile, type SectionResult, type Table } from './report.ts';

interface Run {
  wall: number;
  cpu: number;
}

async function measure(fn: () => Promise<unknown>, children = false): Promise<Run> {
  const c0 = cpuSeconds();
  const t0 = performance.now();
  await fn();
  const wall = (performance.now() - t0) / 1000;
  const c1 = cpuSeconds();
  return { wall, cpu: children ? c1.children - c0.children : c1.self - c0.self };
}

/** End to end into a fresh data directory; returns the per-file results. */
export async function ingestOnce(files: string[], root: string): Promise<IngestResult[]> {
  const dir = new DataDir(root);
  const store = new SqliteStore(dir.indexFile);
  try {
    return await ingestPaths(files, { store, embedder: new LocalHashEmbedder(), dataDir: dir, defaultAccess: 'public' });
  } finally {
    store.close();
    await shutdownExtractors();
  }
}

async function pdfParseAlone(files: string[]): Promise<number> {
  let pages = 0;
  for (const f of files) {
    const p = new PDFParse({ data: fs.readFileSync(f) });
    try {
      pages += (await p.getText()).pages.length;
    } catch {
      /* failures are counted by the pipeline */
    } finally {
      await p.destroy();
    }
  }
  return pages;
}

/** The pipeline's extraction step only: the worker pool, as many files at once as ingestPaths. */
async function poolAlone(files: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++];
      await extractFile(f).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: 3 }, worker));
  await shutdownExtractors();
}

async function pdftotext(files: string[], parallel: number): Promise<void> {
  let next = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const p = spawn('pdftotext', ['-q', files[next++], '-'], { stdio: ['ignore', 'ignore', 'ignore'] });
      p.on('close', () => resolve());
      p.on('error', () => resolve());
    });
  const worker = async () => {
    while (next < files.length) await one();
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

export async function ingestSection(repeat: number, profile: boolean): Promise<Omit<SectionResult, 'section' | 'size' | 'at' | 'load' | 'seconds'>> {
  if (!fs.existsSync(BULK_DIR)) {
    return { tables: [], notes: [`${BULK_DIR} is missing: the ingestion benchmark needs ../shared/corpus.`], data: {} };
  }
  const files = expandPaths([BULK_DIR]).files;
  const hasPoppler = !spawnSync('pdftotext', ['-v']).error;
  // Text layers only, comparable with the rows before OCR existed: the 24 scans fail as no-text
  // here, and their OCR is measured by the ocr section (bench/ocr.ts).
  const ocrSetting = process.env.INNSIKT_OCR;
  process.env.INNSIKT_OCR = 'off';
  try {
    return await ingestSectionTextLayers(files, hasPoppler, repeat, profile);
  } finally {
    if (ocrSetting === undefined) delete process.env.INNSIKT_OCR;
    else process.env.INNSIKT_OCR = ocrSetting;
  }
}

async function ingestSectionTextLayers(
  files: string[],
  hasPoppler: boolean,
  repeat: number,
  profile: boolean,
): Promise<Omit<SectionResult, 'section' | 'size' | 'at' | 'load' | 'seconds'>> {
  const runs: Record<string, Run[]> = { e2e: [], parse: [], pool: [], poppler1: [], poppler2: [] };
  let results: IngestResult[] = [];
  let allPages = 0;
  for (let i = 0; i < repeat; i++) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'innsikt-bench-ingest-'));
    runs.e2e.push(await measure(async () => void (results = await ingestOnce(files, root))));
    fs.rmSync(root, { recursive: true, force: true });
    runs.parse.push(await measure(async () => void (allPages = await pdfParseAlone(files))));
    runs.pool.push(await measure(() => poolAlone(files)));
    if (hasPoppler) {
      runs.poppler1.push(await measure(() => pdftotext(files, 1), true));
      runs.poppler2.push(await measure(() => pdftotext(files, 2), true));
    }
    console.log(`  ingestion repetition ${i + 1}/${repeat}: end to end ${fmt(runs.e2e[i].wall)} s, pdf-parse alone ${fmt(runs.parse[i].wall)} s`);
  }
  const ok = results.filter((r) => r.status === 'ok');
  const failed = results.filter((r) => r.status === 'failed');
  const skipped = results.filter((r) => r.status === 'unchanged');
  const textPages = ok.reduce((a, r) => a + (r.pages ?? 0), 0);
  const chunks = ok.reduce((a, r) => a + (r.chunks ?? 0), 0);
  const reasons = new Map<string, number>();
  for (const f of failed) {
    const code = (f.reason ?? 'unknown').split(':')[0];
    reasons.set(code, (reasons.get(code) ?? 0) + 1);
  }
  const failedPages = allPages - textPages;

  const row = (name: string, xs: Run[]) => {
    const walls = xs.map((r) => r.wall);
    const util = xs.map((r) => r.cpu / r.wall);
    return [
      name,
      fmt(median(walls), 2),
      fmt(quantile(walls, 0.95), 2),
      fmt(allPages / median(walls)),
      fmt(median(walls) / median(runs.parse.map((r) => r.wall)), 2),
      fmt(median(util), 2),
    ];
  };
  const table: Table = {
    title: `Ingestion: ${files.length} PDFs of bulk-election-protocols, ${allPages} pages (median and p95 of ${repeat} runs)`,
    header: ['step', 'median s', 'p95 s', 'pages/s', '× pdf-parse alone', 'CPU cores used'],
    rows: [
      row(`innsikt ingest, end to end (${poolSize()} extraction workers, 3 files at a time)`, runs.e2e),
      row('pdf-parse alone (main thread, one file at a time)', runs.parse),
      row(`pdf-parse in the pipeline's worker pool (${poolSize()} workers), extraction only`, runs.pool),
      ...(hasPoppler ? [row('pdftotext alone (1 process at a time)', runs.poppler1), row('pdftotext alone (2 processes at a time)', runs.poppler2)] : []),
    ],
    notes: [
      `pages/s counts all ${allPages} pages of the ${files.length} files for every row, so the rows compare the same work. ` +
        `End to end indexed ${ok.length} files, ${textPages} pages, ${chunks} chunks; ` +
        `${failed.length} files (${failedPages} pages) failed: ${[...reasons].map(([k, n]) => `${n} × ${k}`).join(', ') || 'none'} ` +
        `(image-only scans: this section runs with INNSIKT_OCR=off to measure text layers; their OCR is the ocr section below)` +
        (skipped.length
          ? `; ${skipped.length} files were skipped as byte-identical copies of others (${skipped.map((r) => path.basename(r.file)).join(', ')}), which the extraction-only rows parse anyway.`
          : '.'),
      "CPU cores used = CPU time / wall time (process.cpuUsage over all threads; for pdftotext the children's times from /proc/self/stat).",
    ],
  };
  const tables = [table];
  const e2e = median(runs.e2e.map((r) => r.wall));
  const parse = median(runs.parse.map((r) => r.wall));
  const notes: string[] = [];
  if (profile || e2e > 2 * parse || median(runs.e2e.map((r) => r.cpu / r.wall)) < 1.6) {
    tables.push(...(await profileIngest(files)));
  }
  return {
    tables,
    notes,
    data: {
      files: files.length,
      filesOk: ok.length,
      filesFailed: failed.length,
      filesSkipped: skipped.length,
      pages: allPages,
      textPages,
      chunks,
      e2eSeconds: e2e,
      e2eP95Seconds: quantile(
        runs.e2e.map((r) => r.wall),
        0.95,
      ),
      parseSeconds: parse,
      poolSeconds: median(runs.pool.map((r) => r.wall)),
      popplerSeconds: hasPoppler ? median(runs.poppler1.map((r) => r.wall)) : null,
      e2eCores: median(runs.e2e.map((r) => r.cpu / r.wall)),
      e2ePagesPerSecond: allPages / e2e,
      ratioToParse: e2e / parse,
    },
  };
}

/** One end-to-end ingestion in a child process under --cpu-prof: where the time goes, per thread. */
async function profileIngest(files: string[]): Promise<Table[]> {
  const dir = path.join(CACHE_DIR, 'profile');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const data = path.join(dir, 'data');
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--cpu-prof', `--cpu-prof-dir=${dir}`, path.join(ROOT, 'bin/run-ts.js'), path.join(ROOT, 'bench/run.ts'), 'ingest-once', data, ...files],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) return [{ title: 'Ingestion profile', header: ['error'], rows: [[`profiling run failed (exit ${r.status})`]] }];
  const tables = summariseProfiles(dir, wall);
  console.log(`  profiles kept in ${dir}`);
  return tables;
}
