/**
 * Search at scale, in-process, on the cached synthetic indexes (bench/build-index.ts): per
 * query and repetition, side by side,
 * - the floor: a bare FTS5 MATCH on the same database, ranked by the same bm25() weights,
 *   LIMIT 100, no joins, no access check, no count, no snippets;
 * - search() in bm25, vector and hybrid mode as the public sees it (PUBLIC_PRINCIPAL);
 * - searchDocuments() in hybrid mode: what the results page and its htmx partial run;
 * - hybrid as internal staff (public + internal documents).
 * Then the vector leg against the exact scan: recall@10 and @100, and the exact scan's latency.
 */
import fs from 'node:fs';
import path from 'node:path';
import { accessClause } from '../indexes/embedded/access.ts';
import { BM25_WEIGHTS, ftsMatchExpression, SqliteStore, VECTOR_INDEX_MIN_VECTORS } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { search, searchDocuments } from '../indexes/search.ts';
import { type Principal, PUBLIC_PRINCIPAL, type SearchMode } from '../indexes/types.ts';
import { loadConfig, searchOptions } from '../server/config.ts';
import { type BuiltIndex, buildIndex } from './build-index.ts';
import { benchQueries, sizeLabel } from './corpus.ts';
import { dirBytes, fmt, mb, median, quantile, recallAt, type SectionResult, type Table } from './report.ts';

const INTERNAL: Principal = { id: 'bench-staff', internal: true, groups: [] };
/** Queries whose exact vector scan is timed in every run (it takes seconds each at 1M). */
const EXACT_TIMED = 10;

/** Open a cached index, building (and timing) its int8 vector copy when it has none yet. */
export function openBenchStore(idx: BuiltIndex, log = console.log): { store: SqliteStore; vectorIndexSeconds: number | null } {
  const store = new SqliteStore(idx.indexFile);
  store.db.pragma('wal_checkpoint(TRUNCATE)'); // so the size on disk is the database's, not a WAL's
  const infoFile = path.join(idx.dir, 'vector-index.json');
  let vectorIndexSeconds: number | null = null;
  if (idx.size >= VECTOR_INDEX_MIN_VECTORS) {
    if (!fs.existsSync(`${idx.indexFile}.vectors/manifest.json`) || !fs.existsSync(infoFile)) {
      log(`  building the int8 vector copy for ${idx.label} ...`);
      const t0 = performance.now();
      store.buildVectorIndex();
      vectorIndexSeconds = (performance.now() - t0) / 1000;
      fs.writeFileSync(infoFile, JSON.stringify({ seconds: vectorIndexSeconds, at: new Date().toISOString() }));
      log(`  built and saved in ${fmt(vectorIndexSeconds)} s`);
    } else {
      vectorIndexSeconds = JSON.parse(fs.readFileSync(infoFile, 'utf8')).seconds;
    }
  }
  return { store, vectorIndexSeconds };
}

function stats(xs: number[]) {
  return { p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), p99: quantile(xs, 0.99) };
}

export async function scaleSection(size: number, repeat: number): Promise<Omit<SectionResult, 'section' | 'size' | 'at' | 'load' | 'seconds'>> {
  const idx = await buildIndex(size);
  const { store, vectorIndexSeconds } = openBenchStore(idx);
  const embedder = new LocalHashEmbedder();
  const opts = searchOptions(loadConfig({}));
  const queries = benchQueries();
  const w = BM25_WEIGHTS;
  const floorStmt = store.db.prepare(
    `SELECT rowid, bm25(chunks_fts, ${w.title}, ${w.heading}, ${w.body}, ${w.exact}) AS s FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY s LIMIT 100`,
  );
  const floor = (q: string) => {
    const m = ftsMatchExpression(q);
    if (m) floorStmt.all(m);
  };
  const run = (q: string, mode: SearchMode, principal: Principal = PUBLIC_PRINCIPAL) => search(store, embedder, { query: q, mode, limit: 10, principal }, opts);
  const page = (q: string) => searchDocuments(store, embedder, { query: q, mode: 'hybrid', limit: 10, principal: PUBLIC_PRINCIPAL }, opts);
  const legs: [string, (q: string) => unknown][] = [
    ['bare FTS5 MATCH (the floor)', floor],
    ['bm25', (q) => run(q, 'bm25')],
    ['vector', (q) => run(q, 'vector')],
    ['hybrid', (q) => run(q, 'hybrid')],
    ['hybrid, results page (searchDocuments)', page],
    ['hybrid as internal staff', (q) => run(q, 'hybrid', INTERNAL)],
    // What a click on a facet runs: a narrow filter (one year: ~3% of the chunks) and a wide one.
    [
      'hybrid, filtered to one year (2023)',
      (q) =>
        search(
          store,
          embedder,
          { query: q, mode: 'hybrid', limit: 10, principal: PUBLIC_PRINCIPAL, filters: { dateFrom: '2023-01-01', dateTo: '2023-12-31' } },
          opts,
        ),
    ],
    [
      'hybrid, filtered to one kind (møteprotokoll)',
      (q) => search(store, embedder, { query: q, mode: 'hybrid', limit: 10, principal: PUBLIC_PRINCIPAL, filters: { kind: ['møteprotokoll'] } }, opts),
    ],
  ];
  // Warm-up: load the int8 vector copy, fill SQLite's and the OS's caches.
  const tw = performance.now();
  for (const q of queries) for (const [, fn] of legs) await fn(q);
  const warmSeconds = (performance.now() - tw) / 1000;
  const times = new Map<string, number[]>(legs.map(([n]) => [n, []]));
  for (let r = 0; r < repeat; r++) {
    for (const q of queries) {
      for (const [name, fn] of legs) {
        const t0 = performance.now();
        await fn(q);
        times.get(name)!.push(performance.now() - t0);
      }
    }
  }
  const floorStats = stats(times.get(legs[0][0])!);

  // --- Where hybrid's time goes: its steps one by one -----------------------------------------
  const steps: [string, (q: string) => unknown][] = [
    ['parse the query (analysis, vocabulary look-ups)', (q) => store.parse(q)],
    ['plan: document frequencies and average length (cached)', (q) => store.bm25Leg.plan(store.parse(q))],
    [
      'BM25 leg (limit 100): FTS5 or the common-word lists rank, access check on candidates, capped count',
      (q) => store.bm25Rows(q, { principal: PUBLIC_PRINCIPAL, limit: 100 }),
    ],
    ['embed the query (local embedder)', (q) => embedder.embedOne(q)],
    ['vector leg (store.vector, limit 100)', (q) => store.vectorRows(embedder.embedOne(q), { principal: PUBLIC_PRINCIPAL, limit: 100, minSimilarity: 0.1 })],
    ['hydrate 10 results (chunksByRowid)', (q) => store.chunksByRowid(top10.get(q) ?? [], PUBLIC_PRINCIPAL)],
  ];
  const top10 = new Map(queries.map((q) => [q, store.bm25Rows(q, { principal: PUBLIC_PRINCIPAL, limit: 10 }).ranked.map((r) => r.rowid)]));
  const stepTimes = new Map<string, number[]>(steps.map(([n]) => [n, []]));
  for (let r = 0; r < Math.min(repeat, 3); r++) {
    for (const q of queries) {
      for (const [name, fn] of steps) {
        const t0 = performance.now();
        fn(q);
        stepTimes.get(name)!.push(performance.now() - t0);
      }
    }
  }
  const breakdown: Table = {
    title: `Where hybrid's time goes at ${idx.label} chunks (its steps timed one by one, public principal)`,
    header: ['step', 'p50 ms', 'p95 ms', 'mean ms'],
    rows: steps.map(([name]) => {
      const xs = stepTimes.get(name)!;
      return [name, fmt(quantile(xs, 0.5), 2), fmt(quantile(xs, 0.95), 2), fmt(xs.reduce((a, b) => a + b, 0) / xs.length, 2)];
    }),
  };

  // --- What the shortcut costs in ranking: the skipped tie-breaking vector leg against running it
  let pageSame = 0;
  for (const q of queries) {
    const docs = async (vectorTieBreak: 'always' | 'when-short') =>
      (await searchDocuments(store, embedder, { query: q, mode: 'hybrid', limit: 10, principal: PUBLIC_PRINCIPAL }, { ...opts, vectorTieBreak })).groups
        .map((g) => g.best.chunkId)
        .join(' ');
    if ((await docs('when-short')) === (await docs('always'))) pageSame++;
  }
  const shortcuts: Table = {
    title: `What the search's shortcut changes at ${idx.label} chunks (public principal)`,
    header: ['shortcut', 'measure', 'value', 'queries'],
    rows: [
      [
        'tie-breaking vector leg skipped when BM25 fills its list',
        'results page: same 10 documents in the same order as with it',
        `${pageSame} of ${queries.length}`,
        String(queries.length),
      ],
    ],
  };
  const latency: Table = {
    title: `Search latency at ${idx.label} chunks (${queries.length} queries × ${repeat} repetitions, in-process, public principal unless noted)`,
    header: ['leg', 'p50 ms', 'p95 ms', 'p99 ms', 'p50 × floor', 'p95 × floor'],
    rows: legs.map(([name]) => {
      const s = stats(times.get(name)!);
      return [name, fmt(s.p50, 2), fmt(s.p95, 2), fmt(s.p99, 2), fmt(s.p50 / floorStats.p50, 2), fmt(s.p95 / floorStats.p95, 2)];
    }),
    notes: [
      `Percentiles over all ${queries.length * repeat} timed searches per row (every query ${repeat} times, rows interleaved per query); warm-up pass ${fmt(warmSeconds)} s.`,
    ],
  };

  // --- The vector leg against the exact scan --------------------------------------------------
  const ann = store.vectorIndex();
  const exactFile = path.join(idx.dir, 'exact-vector.json');
  const exactCache: Record<string, { ms: number; ranked: { rowid: number; score: number }[] }> = fs.existsSync(exactFile)
    ? JSON.parse(fs.readFileSync(exactFile, 'utf8'))
    : {};
  const req = { principal: PUBLIC_PRINCIPAL, limit: 100, minSimilarity: opts.minSimilarity ?? 0.1 };
  const annTimes: number[] = [];
  const exactTimes: number[] = [];
  let r10 = 0;
  let r100 = 0;
  let n = 0;
  let rounds = 0;
  let fallbacks = 0;
  for (const [i, q] of queries.entries()) {
    const v = embedder.embedOne(q);
    // The exact answers are cached per index (they take seconds each at 1M); the exact scan's
    // latency is timed again in every run, on the first EXACT_TIMED queries.
    if (!exactCache[q] || i < EXACT_TIMED) {
      const t0 = performance.now();
      const ranked = store.vectorExactRows(v, req);
      exactCache[q] = { ms: performance.now() - t0, ranked };
      exactTimes.push(exactCache[q].ms);
    }
    const t0 = performance.now();
    const got = store.vectorRows(v, req);
    annTimes.push(performance.now() - t0);
    rounds += ann?.lastSearch?.rounds ?? 0;
    fallbacks += ann?.lastSearch?.fellBack ? 1 : 0;
    const ex = exactCache[q].ranked;
    if (!ex.length) continue;
    r10 += recallAt(got, ex, 10);
    r100 += recallAt(got, ex, ex.length);
    n++;
  }
  fs.writeFileSync(exactFile, JSON.stringify(exactCache));
  const recall10 = n ? r10 / n : NaN;
  const recall100 = n ? r100 / n : NaN;
  const vecBytes = dirBytes(`${idx.indexFile}.vectors`);
  const sqliteBytes = ['', '-wal', '-shm'].reduce((a, s) => a + dirBytes(idx.indexFile + s), 0);
  const vectorTable: Table = {
    title: `Vector leg at ${idx.label} chunks: the int8 copy against the exact scan (limit 100, public principal)`,
    header: ['vector leg', 'p50 ms', 'p95 ms', 'recall@10', 'recall@100', 'queries'],
    rows: [
      ['exact scan in SQL (sqlite-vec, float32)', fmt(median(exactTimes), 1), fmt(quantile(exactTimes, 0.95), 1), '1', '1', `${exactTimes.length} timed`],
      [
        ann
          ? `int8 scan + exact rescoring in SQL (${ann.partitionCount} partitions, ${ann.size} vectors, ${fmt(mb(ann.memoryBytes), 0)} MB)`
          : `exact scan (below VECTOR_INDEX_MIN_VECTORS = ${VECTOR_INDEX_MIN_VECTORS})`,
        fmt(median(annTimes), 2),
        fmt(quantile(annTimes, 0.95), 2),
        fmt(recall10, 4),
        fmt(recall100, 4),
        String(n),
      ],
    ],
    notes: [
      `recall@k: share of the exact top k (ties included) among the first k results, over the ${n} queries with at least one chunk above the similarity threshold. ` +
        (ann
          ? `Rounds per search ${fmt(rounds / queries.length, 2)} (more than 1: the candidates were widened), fallbacks to the exact scan ${fallbacks}.`
          : ''),
    ],
  };
  const hybrid = stats(times.get('hybrid')!);
  const pageStats = stats(times.get('hybrid, results page (searchDocuments)')!);
  const sizeTable: Table = {
    title: `Index at ${idx.label} chunks (built ${idx.info.builtAt.slice(0, 16).replace('T', ' ')} UTC, build time under that hour's load)`,
    header: ['documents', 'chunks', 'SQLite MB', 'int8 copy MB', 'MB per 1k chunks', 'build s (chunks/s)', 'int8 copy build s'],
    rows: [
      [
        String(idx.info.documents),
        String(idx.info.chunks),
        fmt(mb(sqliteBytes), 0),
        fmt(mb(vecBytes), 0),
        fmt(mb(sqliteBytes + vecBytes) / (idx.info.chunks / 1000), 2),
        `${fmt(idx.info.seconds, 0)} (${fmt(idx.info.chunks / idx.info.seconds, 0)})`,
        fmt(vectorIndexSeconds, 0),
      ],
    ],
  };
  store.close();
  return {
    tables: [latency, breakdown, shortcuts, vectorTable, sizeTable],
    notes: [],
    data: {
      chunks: idx.info.chunks,
      floorP50: floorStats.p50,
      floorP95: floorStats.p95,
      bm25P95: stats(times.get('bm25')!).p95,
      vectorP95: stats(times.get('vector')!).p95,
      hybridP50: hybrid.p50,
      hybridP95: hybrid.p95,
      hybridP99: hybrid.p99,
      pageP95: pageStats.p95,
      ratioP95: hybrid.p95 / floorStats.p95,
      ratioP50: hybrid.p50 / floorStats.p50,
      recall10,
      recall100,
      pageSame: pageSame / queries.length,
      exactVectorP50: median(exactTimes),
      annVectorP50: median(annTimes),
      sqliteBytes,
      vectorBytes: vecBytes,
      bytesPer1k: (sqliteBytes + vecBytes) / (idx.info.chunks / 1000),
      buildSeconds: idx.info.seconds,
      vectorIndexSeconds,
      label: sizeLabel(size),
    },
  };
}
