/**
 * `npm run bench`: ingestion throughput and search latency, printed as tables and written to
 * docs/benchmarks.md with the machine they ran on.
 *
 * - Ingestion: ../shared/corpus/pdfs end to end (extract, understand, chunk, embed, index),
 *   next to pdf-parse extraction alone and poppler's `pdftotext` alone on the same files.
 * - Search: every judged query of the demo and a set of real-corpus queries, repeated, per
 *   mode, in-process; median, p95 and p99 in milliseconds.
 *
 * Run with BENCH_REPEAT=N to change repetitions (default 3 ingestion runs, 30 searches).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PDFParse } from 'pdf-parse';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { DataDir } from '../ingest/data-dir.ts';
import { ingestPaths, expandPaths } from '../ingest/pipeline.ts';
import { ingestDemo } from '../ingest/demo.ts';
import { shutdownExtractors } from '../ingest/extract/index.ts';
import { search } from '../indexes/search.ts';
import { loadConfig, searchOptions } from '../server/config.ts';
import { ADMIN_PRINCIPAL, type SearchMode } from '../indexes/types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CORPUS = path.resolve(ROOT, '../shared/corpus');
const REPEAT = Number(process.env.BENCH_REPEAT || 3);
const SEARCH_REPEAT = 30;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

async function timeIt(fn: () => Promise<void> | void): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'innsikt-bench-'));
}

async function pdfParseOnly(files: string[]): Promise<number> {
  let pages = 0;
  for (const f of files) {
    const p = new PDFParse({ data: fs.readFileSync(f) });
    try {
      pages += (await p.getText()).pages.length;
    } catch {
      /* the failures are counted by the pipeline */
    } finally {
      await p.destroy();
    }
  }
  return pages;
}

function pdftotextOnly(files: string[]): boolean {
  if (spawnSync('pdftotext', ['-v']).error) return false;
  for (const f of files) spawnSync('pdftotext', ['-q', f, '-'], { maxBuffer: 1 << 28 });
  return true;
}

async function main() {
  const lines: string[] = [];
  const out = (s = '') => {
    console.log(s);
    lines.push(s);
  };
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  out(`# Benchmarks`);
  out();
  out(`Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench\` on ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.`);
  out();

  if (!fs.existsSync(path.join(CORPUS, 'pdfs'))) {
    out(`../shared/corpus is missing: only the demo corpus is measured.`);
  }
  const corpusFiles = fs.existsSync(path.join(CORPUS, 'pdfs')) ? expandPaths([path.join(CORPUS, 'pdfs')]).files : [];
  const embedder = new LocalHashEmbedder();
  const opts = searchOptions(loadConfig({}));

  // --- Ingestion --------------------------------------------------------------------------
  let corpusDir: DataDir | null = null;
  if (corpusFiles.length) {
    out(`## Ingestion: ../shared/corpus/pdfs (${corpusFiles.length} files incl. the nasty ones)`);
    out();
    const e2e: number[] = [];
    let pages = 0;
    let ok = 0;
    for (let i = 0; i < REPEAT; i++) {
      const dir = new DataDir(tmp());
      const store = new SqliteStore(dir.indexFile);
      let res: Awaited<ReturnType<typeof ingestPaths>> = [];
      e2e.push(await timeIt(async () => void (res = await ingestPaths(corpusFiles, { store, embedder, dataDir: dir, defaultAccess: 'public' }))));
      pages = res.reduce((a, r) => a + (r.pages ?? 0), 0);
      ok = res.filter((r) => r.status === 'ok').length;
      store.close();
      if (i === REPEAT - 1) corpusDir = dir;
      else fs.rmSync(dir.root, { recursive: true, force: true });
    }
    await shutdownExtractors();
    const parseOnly: number[] = [];
    for (let i = 0; i < REPEAT; i++) parseOnly.push(await timeIt(() => pdfParseOnly(corpusFiles).then(() => undefined)));
    const popplerTimes: number[] = [];
    let hasPoppler = true;
    for (let i = 0; i < REPEAT && hasPoppler; i++) popplerTimes.push(await timeIt(() => void (hasPoppler = pdftotextOnly(corpusFiles))));
    out(`${ok} files ingested, ${pages} pages. Median of ${REPEAT} runs.`);
    out();
    out(`| step | median s | p95 s | pages/s |`);
    out(`|---|---|---|---|`);
    const row = (name: string, xs: number[]) => {
      const m = quantile(xs, 0.5) / 1000;
      out(`| ${name} | ${f2(m)} | ${f2(quantile(xs, 0.95) / 1000)} | ${f1(pages / m)} |`);
    };
    row('innsikt ingest, end to end (2 extraction workers)', e2e);
    row('pdf-parse extraction alone (1 thread)', parseOnly);
    if (hasPoppler) row('pdftotext alone (1 process at a time)', popplerTimes);
    out();
  }

  // --- Search latency ---------------------------------------------------------------------
  out(`## Search latency (in-process, ${SEARCH_REPEAT} repetitions of each query)`);
  out();
  out(`| index | chunks | mode | queries | p50 ms | p95 ms | p99 ms |`);
  out(`|---|---|---|---|---|---|---|`);
  const demoDir = new DataDir(tmp());
  const demoStore = new SqliteStore(demoDir.indexFile);
  await ingestDemo({ store: demoStore, embedder, dataDir: demoDir, defaultAccess: 'public' });
  await shutdownExtractors();
  const demoQueries: string[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'fixtures/expected-queries.json'), 'utf8')).queries.map((q: { query: string }) => q.query);
  const corpusQueries = ['forhåndsstemmer', 'reguleringsplan Breisås', 'valgstyret godkjente', 'manuell foreløpig opptelling', 'kvalitetsregistre kostnader', 'sak 139/12', 'sikkerhet i valgsystemet', 'stemmesedler forkastet', 'IKT-drift', 'valgoppgjør kommunestyret'];
  const indexes: [string, SqliteStore, string[]][] = [['demo', demoStore, demoQueries]];
  let corpusStore: SqliteStore | null = null;
  if (corpusDir) {
    corpusStore = new SqliteStore(corpusDir.indexFile);
    indexes.push(['shared/corpus/pdfs', corpusStore, corpusQueries]);
  }
  for (const [name, store, queries] of indexes) {
    const chunks = store.stats().chunks;
    for (const mode of ['bm25', 'vector', 'hybrid'] as SearchMode[]) {
      const times: number[] = [];
      for (const q of queries) await search(store, embedder, { query: q, mode, limit: 10, principal: ADMIN_PRINCIPAL }, opts); // warm
      for (let r = 0; r < SEARCH_REPEAT; r++) {
        for (const q of queries) {
          times.push(await timeIt(() => search(store, embedder, { query: q, mode, limit: 10, principal: ADMIN_PRINCIPAL }, opts).then(() => undefined)));
        }
      }
      out(`| ${name} | ${chunks} | ${mode} | ${queries.length} | ${f2(quantile(times, 0.5))} | ${f2(quantile(times, 0.95))} | ${f2(quantile(times, 0.99))} |`);
    }
  }
  out();
  out(`Issue 3 extends this with 10k/100k/1M-chunk indexes, HTTP load and memory.`);
  demoStore.close();
  corpusStore?.close();
  fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'docs/benchmarks.md'), lines.join('\n') + '\n');
  console.log(`\nwritten to docs/benchmarks.md`);
}

await main();

