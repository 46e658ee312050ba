/**
 * The retrieval evaluation harness shared by `npm run eval` (eval/run.ts) and the CI guard
 * (tests/eval.test.ts): the evaluation sets, how each is indexed, and how a run is scored.
 *
 * Sets (see docs/eval.md for what each one measures):
 * - norquad: 300 NorQuAD test questions over their 199 passages (../shared/corpus/eval/norquad),
 *   each passage ingested as one unpaged text document; the gold passage is the one relevant
 *   document.
 * - fixtures: the judged queries over the demo corpus (fixtures/expected-queries.json,
 *   fixtures/expected-queries-compounds.json and eval/judged-extra.json), graded, with pages.
 * - real: judged queries over ../shared/corpus/pdfs (not nasty/) with the 147 election
 *   protocols of ../shared/corpus/bulk-election-protocols as distractors (eval/real-corpus.json).
 *
 * How a query is scored: the results page search (searchDocuments, 10 documents, up to 2
 * "more from this document" hits each). Document metrics use the 10 documents in order; page
 * hit@10 asks whether a page of the highest grade is among the pages shown (best hit or
 * "more" hit of any of the 10 documents). Queries without any relevant document (no-answer
 * queries) are kept out of the means and reported on their own: does the search return
 * nothing, and does any of its 10 documents match every query word?
 *
 * PDF extraction is the slow part (about 15 s for the real set), so extracted silver documents
 * are cached in a temporary folder keyed by the ingestion code, the pdf-parse version and the
 * input files (INNSIKT_EVAL_CACHE=off turns the cache off, INNSIKT_EVAL_CACHE=/dir moves it).
 * Gold (chunks, vectors, FTS) is always rebuilt in memory from silver with the current code.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../indexes/analysis/index.ts';
import { parseQuery } from '../indexes/analysis/query.ts';
import { indexConfig } from '../indexes/config.ts';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { e5Embedder, e5Url } from '../indexes/embeddings/index.ts';
import { LocalHashEmbedder, type LocalHashOptions } from '../indexes/embeddings/local.ts';
import type { Embedder } from '../indexes/embeddings/types.ts';
import { type SearchOptions, searchDocuments } from '../indexes/search.ts';
import type { Store } from '../indexes/store.ts';
import { type Principal, PUBLIC_PRINCIPAL, type SearchMode, type SilverDocument } from '../indexes/types.ts';
import { DataDir, sha256 } from '../ingest/data-dir.ts';
import { DEMO_DIR, ingestDemo } from '../ingest/demo.ts';
import { extractBuffer, shutdownExtractors } from '../ingest/extract/index.ts';
import { expandPaths, indexSilver, ingestPaths } from '../ingest/pipeline.ts';
import { understand } from '../ingest/understand.ts';
import { loadConfig, searchOptions } from '../server/config.ts';
import { CachedEmbedder } from './embedding-cache.ts';
import { type JudgedQuery, type QueryScores, type RankedHit, scoreQuery } from './metrics.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CORPUS = path.resolve(ROOT, '../shared/corpus');
export const NORQUAD_DIR = path.join(CORPUS, 'eval/norquad');
export const HAS_NORQUAD = fs.existsSync(path.join(NORQUAD_DIR, 'norquad_test_passages.jsonl'));
export const HAS_REAL = fs.existsSync(path.join(CORPUS, 'pdfs')) && fs.existsSync(path.join(CORPUS, 'bulk-election-protocols'));

export const HAS_BLIND = HAS_REAL && fs.existsSync(path.join(CORPUS, 'oslo-bydeler')) && fs.existsSync(path.join(CORPUS, 'text'));

export type SetId = 'norquad' | 'fixtures' | 'real' | 'blind' | 'semantic';

/** What a judged query of the blind set asks for (eval/real-blind-*.json). */
export type QueryKind = 'keyword' | 'question' | 'case' | 'entity' | 'no-answer' | 'paraphrase' | 'cross-language';

export interface EvalSet {
  id: SetId;
  title: string;
  docs: SilverDocument[];
  /** Every query, incl. no-answer ones (expect: []). */
  queries: (JudgedQuery & { subset?: string; kind?: QueryKind; phrase?: string })[];
  /** Who searches: judgments name public documents only. */
  principal: Principal;
}

export type Half = 'tuning' | 'reporting';
export const HALVES: Half[] = ['tuning', 'reporting'];

/**
 * The fixed split of every judged set into a tuning half and a reporting half, by a rule that
 * knows nothing of any result: a query is in the tuning half when the first byte of
 * sha256("<set>:<query id>") is even. Tune ranking, analysis and answers on the tuning half only;
 * report both; keep no change that helps the tuning half only.
 */
export function halfOf(set: SetId | 'gold', queryId: string): Half {
  return Number.parseInt(sha256(Buffer.from(`${set}:${queryId}`)).slice(0, 2), 16) % 2 === 0 ? 'tuning' : 'reporting';
}

/** The embedder configurations compared. The first is the offline default. */
export const EMBEDDERS: { name: string; options: LocalHashOptions }[] = [
  { name: 'local d2048 (default)', options: {} },
  { name: 'local d4096', options: { dimensions: 4096 } },
  { name: 'local d2048 no n-grams', options: { ngramWeight: 0 } },
];

/** The search options of a default installation (no environment variables set). */
export function defaultSearchOptions(): SearchOptions {
  return searchOptions(loadConfig({}));
}

/** Plain weighted RRF: the same vector weight whether or not every query word matched. */
export function plainRrf(vectorWeight: number): SearchOptions {
  return { ...defaultSearchOptions(), weights: { bm25: 1, vector: vectorWeight, vectorWhenAllMatched: vectorWeight } };
}

// ---------------------------------------------------------------------------------------------
// Loading the sets

function readQueries(file: string, subset: string): (JudgedQuery & { subset: string; kind?: QueryKind; phrase?: string })[] {
  const { queries } = JSON.parse(fs.readFileSync(file, 'utf8')) as { queries: (JudgedQuery & { kind?: QueryKind; phrase?: string })[] };
  return queries.map((q) => ({
    id: q.id,
    query: q.query,
    expect: q.expect,
    subset,
    ...(q.kind ? { kind: q.kind } : {}),
    ...(q.phrase ? { phrase: q.phrase } : {}),
  }));
}

/** NorQuAD: each passage becomes one unpaged text document, as if a .txt file were ingested. */
export async function loadNorquad(dir = NORQUAD_DIR): Promise<EvalSet> {
  const lines = (file: string) =>
    fs
      .readFileSync(path.join(dir, file), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l));
  const passages = lines('norquad_test_passages.jsonl') as { id: string; text: string }[];
  const questions = lines('norquad_test_sample300.jsonl') as { id: string; question: string; gold_passage_id: string }[];
  const docs: SilverDocument[] = [];
  for (const p of passages) {
    const data = Buffer.from(p.text, 'utf8');
    const extraction = await extractBuffer(data, 'text/plain');
    const source = `${p.id}.txt`;
    docs.push({
      id: p.id,
      sha256: sha256(data),
      source,
      mediaType: 'text/plain',
      ...understand(extraction.pages, source, extraction.title),
      access: 'public',
      groups: [],
      pages: extraction.pages,
      paged: extraction.paged,
      extraction: { method: extraction.method, warnings: extraction.warnings },
      ingestedAt: '2026-01-01T00:00:00.000Z',
    });
  }
  const known = new Set(passages.map((p) => p.id));
  // The sample reuses two ids for different questions (norquad-test-326, -2847): number repeats.
  const seen = new Map<string, number>();
  const queries = questions.map((q) => {
    if (!known.has(q.gold_passage_id)) throw new Error(`NorQuAD question ${q.id}: gold passage ${q.gold_passage_id} is not in the passage file`);
    const n = (seen.get(q.id) ?? 0) + 1;
    seen.set(q.id, n);
    const id = n === 1 ? q.id : `${q.id}#${n}`;
    return { id, query: q.question, expect: [{ file: `${q.gold_passage_id}.txt`, page: null, grade: 1 }], subset: 'norquad' };
  });
  return { id: 'norquad', title: 'NorQuAD (300 questions, 199 passages)', docs, queries, principal: PUBLIC_PRINCIPAL };
}

export const FIXTURE_QUERY_FILES = [
  { file: path.join(ROOT, 'fixtures/expected-queries.json'), subset: 'team' },
  { file: path.join(ROOT, 'fixtures/expected-queries-compounds.json'), subset: 'compounds' },
  { file: path.join(ROOT, 'eval/judged-extra.json'), subset: 'extra' },
];

/** The demo corpus (real PDFs) with every judged fixture query; searched as the public. */
export async function loadFixtures(log: (s: string) => void = () => {}): Promise<EvalSet> {
  const docs = await cachedSilver(
    'fixtures',
    [DEMO_DIR],
    async (ctx) => {
      await ingestDemo(ctx);
    },
    log,
  );
  const queries = FIXTURE_QUERY_FILES.flatMap((f) => readQueries(f.file, f.subset));
  return { id: 'fixtures', title: 'Demo fixtures (judged queries)', docs, queries, principal: PUBLIC_PRINCIPAL };
}

export function realCorpusFiles(): string[] {
  return expandPaths([path.join(CORPUS, 'pdfs'), path.join(CORPUS, 'bulk-election-protocols')]).files.filter((f) => !f.split(path.sep).includes('nasty'));
}

/**
 * The real corpus with its distractors. Files with the same bytes (ten real PDFs also sit in
 * the bulk folder under another name) get the same judgments, so finding either copy counts.
 */
export async function loadReal(log: (s: string) => void = () => {}): Promise<EvalSet> {
  const files = realCorpusFiles();
  const docs = await cachedSilver('real', files, (ctx) => ingestPaths(files, ctx, { access: 'public' }).then(() => {}), log);
  const queries = judgedByContent(files, docs, [{ file: path.join(ROOT, 'eval/real-corpus.json'), subset: 'real' }]);
  return { id: 'real', title: 'Real corpus (22 PDFs + 147 distractor protocols)', docs, queries, principal: PUBLIC_PRINCIPAL };
}

/**
 * Judgments name files; a copy of another file is ingested once, as whichever copy came first.
 * Every file with the same bytes gets the same judgments, so finding either copy counts.
 */
function judgedByContent(files: string[], docs: SilverDocument[], queryFiles: { file: string; subset: string }[]): EvalSet['queries'] {
  const bySha = new Map<string, string[]>();
  for (const d of docs) bySha.set(d.sha256, [...(bySha.get(d.sha256) ?? []), d.source]);
  const shaOf = new Map(files.map((f) => [path.basename(f), sha256(fs.readFileSync(f))]));
  return queryFiles.flatMap(({ file, subset }) =>
    readQueries(file, subset).map((q) => {
      for (const j of q.expect) {
        if (!bySha.has(shaOf.get(j.file) ?? '')) throw new Error(`${path.relative(ROOT, file)} ${q.id}: ${j.file} is not in the ingested corpus`);
      }
      // One judgment per ingested copy, the highest grade where a query judged both names.
      const expanded = new Map<string, (typeof q.expect)[number]>();
      for (const j of q.expect) {
        for (const f of bySha.get(shaOf.get(j.file)!) ?? [j.file]) {
          const key = `${f}\u0000${j.page}`;
          if ((expanded.get(key)?.grade ?? -1) < j.grade) expanded.set(key, { ...j, file: f });
        }
      }
      return { ...q, expect: [...expanded.values()] };
    }),
  );
}

/** The blind set's corpus: every real document we have a text layer or text file for. */
export function blindCorpusFiles(): string[] {
  const texts = fs
    .readdirSync(path.join(CORPUS, 'text'))
    .filter((f) => f.endsWith('.txt'))
    .map((f) => path.join(CORPUS, 'text', f));
  return [...realCorpusFiles(), ...expandPaths([path.join(CORPUS, 'oslo-bydeler')]).files.filter((f) => f.endsWith('.pdf')), ...texts];
}

export const BLIND_QUERY_FILES = [
  { file: path.join(ROOT, 'eval/real-blind-a.json'), subset: 'pdfs+text' },
  { file: path.join(ROOT, 'eval/real-blind-b.json'), subset: 'oslo+protocols' },
];

/**
 * The blind set (issue 13): 96 queries written by people who read only the documents, never the
 * product's output, over ../shared/corpus/pdfs, text/*.txt, oslo-bydeler and the bulk election
 * protocols (as targets and distractors at once). Committed before any tuning on it.
 */
export async function loadBlind(log: (s: string) => void = () => {}): Promise<EvalSet> {
  const files = blindCorpusFiles();
  const docs = await cachedSilver('blind', files, (ctx) => ingestPaths(files, ctx, { access: 'public' }).then(() => {}), log);
  const queries = judgedByContent(files, docs, BLIND_QUERY_FILES);
  return {
    id: 'blind',
    title: 'Blind judged set over the real corpus (pdfs, text, oslo-bydeler, 147 election protocols)',
    docs,
    queries,
    principal: PUBLIC_PRINCIPAL,
  };
}

export const SEMANTIC_QUERY_FILES = [{ file: path.join(ROOT, 'eval/real-blind-c.json'), subset: 'paraphrase+cross-language' }];

/**
 * The semantic set (issue 14): the blind set's corpus with 32 queries whose words are not on the
 * page that answers them: paraphrases, and questions in another language than the page
 * (Norwegian over the English OSCE report and the Danish Aarhus documents, English over
 * Norwegian pages). Written like the blind set, by a helper who read only the documents,
 * committed (5642e77) before any run with the semantic model. A set of its own, so that the
 * blind set's numbers (issue 13) stay comparable. Give the blind set to share its documents.
 */
export async function loadSemantic(blind?: EvalSet, log: (s: string) => void = () => {}): Promise<EvalSet> {
  const files = blindCorpusFiles();
  const docs = blind?.docs ?? (await cachedSilver('blind', files, (ctx) => ingestPaths(files, ctx, { access: 'public' }).then(() => {}), log));
  return {
    id: 'semantic',
    title: 'Semantic set: paraphrases and other languages over the real corpus',
    docs,
    queries: judgedByContent(files, docs, SEMANTIC_QUERY_FILES),
    principal: PUBLIC_PRINCIPAL,
  };
}

/** Is the blind corpus already extracted for the current ingestion code? */
export function blindCorpusCached(): boolean {
  const dir = HAS_BLIND ? cacheDir('blind', blindCorpusFiles()) : null;
  return !!dir && fs.existsSync(path.join(dir, 'complete'));
}

/** Hash of the code and inputs that silver depends on: a change re-extracts. */
function cacheKey(inputs: string[]): string {
  const h = crypto.createHash('sha256');
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts') || e.name.endsWith('.json')) h.update(full).update(fs.readFileSync(full));
    }
  };
  walk(path.join(ROOT, 'ingest'));
  h.update(fs.readFileSync(path.join(ROOT, 'indexes/types.ts')));
  try {
    h.update(fs.readFileSync(path.join(ROOT, 'node_modules/pdf-parse/package.json')));
  } catch {
    /* no pdf-parse: extraction fails anyway */
  }
  for (const input of inputs) {
    for (const f of fs.statSync(input).isDirectory() ? expandPaths([input]).files : [input]) {
      const st = fs.statSync(f);
      h.update(`${f}\u0000${st.size}\u0000${st.mtimeMs}\n`);
    }
  }
  return h.digest('hex').slice(0, 16);
}

/** Where the silver of a set is cached, or null when caching is off (INNSIKT_EVAL_CACHE=off). */
function cacheDir(name: string, inputs: string[]): string | null {
  const setting = process.env.INNSIKT_EVAL_CACHE;
  if (setting === 'off' || setting === '0') return null;
  const base = setting ? path.resolve(setting) : path.join(os.tmpdir(), 'innsikt-eval-cache');
  return path.join(base, `${name}-${cacheKey(inputs)}`);
}

/** Is the real corpus already extracted for the current ingestion code (a fast run)? */
export function realCorpusCached(): boolean {
  const dir = HAS_REAL ? cacheDir('real', realCorpusFiles()) : null;
  return !!dir && fs.existsSync(path.join(dir, 'complete'));
}

/**
 * Every change to ingest/ starts a new cache folder (about 50 MB for the real set): remove this
 * set's folders that are older than two hours (a run that is still reading one is newer).
 */
function pruneCache(keep: string, name: string): void {
  const base = path.dirname(keep);
  const cutoff = Date.now() - 2 * 3600_000;
  for (const entry of fs.readdirSync(base)) {
    const full = path.join(base, entry);
    if (full === keep || !entry.startsWith(`${name}-`)) continue;
    try {
      if (fs.statSync(full).mtimeMs < cutoff) fs.rmSync(full, { recursive: true, force: true });
    } catch {
      /* gone already */
    }
  }
}

async function cachedSilver(
  name: string,
  inputs: string[],
  ingest: (ctx: Parameters<typeof ingestPaths>[1]) => Promise<void>,
  log: (s: string) => void,
): Promise<SilverDocument[]> {
  const cached = cacheDir(name, inputs);
  const useCache = cached !== null;
  const dir = cached ?? fs.mkdtempSync(path.join(os.tmpdir(), `innsikt-eval-${name}-`));
  const done = path.join(dir, 'complete');
  const dataDir = new DataDir(dir);
  if (!useCache || !fs.existsSync(done)) {
    const t0 = performance.now();
    fs.rmSync(dir, { recursive: true, force: true });
    // Pages read by OCR outlive the silver cache (which every change to ingest/ starts anew):
    // the scans are read once per machine (ingest/extract/index.ts ocrCached).
    if (useCache) process.env.INNSIKT_OCR_CACHE ??= path.join(path.dirname(dir), 'ocr');
    const store = new SqliteStore(':memory:');
    try {
      await ingest({ store, embedder: new LocalHashEmbedder(), dataDir, defaultAccess: 'public' });
    } finally {
      await store.close();
      await shutdownExtractors();
    }
    fs.writeFileSync(done, new Date().toISOString());
    if (useCache) pruneCache(dir, name);
    log(`[eval] extracted ${name} in ${((performance.now() - t0) / 1000).toFixed(1)} s${useCache ? ` (cached in ${dir})` : ''}`);
  } else {
    log(`[eval] ${name}: silver from cache ${dir}`);
  }
  const docs = dataDir.listSilverIds().map((id) => dataDir.readSilver(id)!);
  if (!useCache) fs.rmSync(dir, { recursive: true, force: true });
  return docs;
}

// ---------------------------------------------------------------------------------------------
// Indexing and running

/**
 * GOLD for a set and an embedder, in memory, built from silver with the current code.
 * `plainChunks`: cut protocols with the ordinary chunker instead of by agenda item (experiment).
 */
export async function buildIndex(docs: SilverDocument[], embedder: Embedder, opts: { plainChunks?: boolean; backend?: EvalBackend } = {}): Promise<Store> {
  const store = opts.backend ? await opts.backend.open() : new SqliteStore(':memory:');
  // Several documents at a time: the Elasticsearch store sends what arrives together in one
  // write (the embedded store writes each at once either way).
  let next = 0;
  const worker = async () => {
    while (next < docs.length) {
      const doc = docs[next++];
      if (opts.plainChunks) await indexSilver({ store, embedder }, doc, null);
      else await indexSilver({ store, embedder }, doc);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return store;
}

/** Where an eval index lives when not in memory: opened per index, removed when done. */
export interface EvalBackend {
  name: string;
  open(): Promise<Store>;
  dispose(store: Store): Promise<void>;
}

let evalIndexes = 0;

/** Elasticsearch at ELASTICSEARCH_URL, each index under a prefix of its own (deleted after). */
export function elasticsearchBackend(url = process.env.ELASTICSEARCH_URL): EvalBackend {
  if (!url) throw new Error('ELASTICSEARCH_URL is not set: start a node with `npm run es:start`');
  return {
    name: 'elasticsearch',
    open: async () => {
      const { openElasticsearchStore } = await import('../indexes/elasticsearch/store.ts');
      const prefix = `innsikt-eval-${process.pid}-${Date.now().toString(36)}-${evalIndexes++}`;
      return openElasticsearchStore(indexConfig({ ELASTICSEARCH_URL: url, INNSIKT_ES_PREFIX: prefix }, os.tmpdir()).elasticsearch);
    },
    dispose: (store) => (store as import('../indexes/elasticsearch/store.ts').ElasticsearchStore).destroy(),
  };
}

export function makeEmbedder(options: LocalHashOptions): LocalHashEmbedder {
  return new LocalHashEmbedder(options);
}

/**
 * multilingual-e5-small through the e5 server, with its vectors cached on disk beside the
 * extracted silver (eval/embedding-cache.ts; INNSIKT_EVAL_CACHE=off keeps them in memory).
 */
export function e5EvalEmbedder(log: (s: string) => void = () => {}): CachedEmbedder {
  const inner = e5Embedder(e5Url());
  const setting = process.env.INNSIKT_EVAL_CACHE;
  const off = setting === 'off' || setting === '0';
  const base = setting && !off ? path.resolve(setting) : path.join(os.tmpdir(), 'innsikt-eval-cache');
  const file = off ? ':memory:' : path.join(base, `embeddings-${sha256(Buffer.from(inner.id)).slice(0, 12)}.sqlite`);
  let last = 0;
  const t0 = performance.now();
  return new CachedEmbedder(inner, file, (n) => {
    if (n - last >= 100) {
      last = n;
      log(`[eval] e5: ${n} texts embedded (${(n / ((performance.now() - t0) / 1000)).toFixed(1)}/s)`);
    }
  });
}

export interface NoAnswerResult {
  id: string;
  /** The search returned nothing. */
  empty: boolean;
  /** Some returned document's best chunk contains every query word (a false "answer"). */
  fullMatch: boolean;
}

export interface RunResult {
  /** Per answerable query, in the set's order. */
  scores: (QueryScores & { query: string; top: string | null })[];
  noAnswer: NoAnswerResult[];
}

/** Runs every query of a set in one mode with one set of options and scores it. */
export async function runQueries(
  store: Store,
  embedder: Embedder,
  set: Pick<EvalSet, 'queries' | 'principal'>,
  mode: SearchMode,
  opts: SearchOptions,
): Promise<RunResult> {
  const out: RunResult = { scores: [], noAnswer: [] };
  for (const q of set.queries) {
    const res = await searchDocuments(store, embedder, { query: q.query, mode, limit: 10, principal: set.principal }, { ...opts, morePerDocument: 2 });
    const best: RankedHit[] = res.groups.map((g) => g.best);
    const shown: RankedHit[] = res.groups.flatMap((g) => [g.best, ...g.more]);
    if (q.expect.some((j) => j.grade > 0)) {
      out.scores.push({ ...scoreQuery(q, best, { pageHits: shown }), query: q.query, top: res.groups[0]?.best.source ?? null });
    } else {
      const a = parseQuery(q.query);
      const terms = [...a.words.map((w) => w.stem), ...a.caseNumbers];
      const texts = await store.chunks(
        res.groups.map((g) => g.best.chunkId),
        set.principal,
      );
      const fullMatch = res.groups.some((g) => {
        const stems = new Set(analyze(`${g.best.title}\n${texts.get(g.best.chunkId)?.text ?? ''}`).stems);
        return terms.every((t) => stems.has(t));
      });
      out.noAnswer.push({ id: q.id, empty: res.groups.length === 0, fullMatch });
    }
  }
  return out;
}
