/**
 * Experiment (issue 3): a sparse character-trigram leg (an FTS5 `trigram` index over the chunk
 * text) fused with BM25, against BM25 alone and the default hybrid (BM25 + the hashed n-gram
 * vector leg). Eval only: nothing here is product code.
 *
 * The trigram table lives in the eval's in-memory index (`chunks_tri`, contentless, filled
 * from `chunks.text` lowercased). A query becomes its words of 3+ characters, each a quoted
 * phrase (the trigram tokenizer matches substrings), OR'ed, ranked by bm25(), with the same
 * access filter as the product's legs and the same candidate count (the `limit` the BM25 leg
 * gets). It is fused with the BM25 leg by weighted RRF (indexes/fusion.ts, k = 60).
 *
 * Hook: searchDocuments() ranks through store.bm25() in mode 'bm25', so the runs use a Proxy of
 * the store whose bm25() returns the fused list; grouping into documents, hydration and scoring
 * are the harness's own (runQueries).
 */
import { reciprocalRankFusion } from '../indexes/fusion.ts';
import { accessClause } from '../indexes/embedded/access.ts';
import { filterClause, type SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import type { Bm25Result } from '../indexes/embedded/bm25-leg.ts';
import type { LegRequest } from '../indexes/store.ts';
import { DEFAULT_MIN_SIMILARITY, type SearchOptions } from '../indexes/search.ts';
import { formatComparisonTable, formatTable, pairedBootstrap, summarize, type PairedDifference, type Summary } from './metrics.ts';
import { EMBEDDERS, buildIndex, defaultSearchOptions, makeEmbedder, runQueries, type EvalSet, type RunResult } from './harness.ts';

/** Trigram weight: a number, or the default hybrid's rule (full weight only when a word is unmatched). */
type Weight = number | { unmatched: number; allMatched: number };

export const TRIGRAM_VARIANTS: { name: string; weight: Weight; bag?: boolean }[] = [
  { name: 'bm25 + trigram 0.1', weight: 0.1 },
  { name: 'bm25 + trigram 0.15', weight: 0.15 },
  { name: 'bm25 + trigram 0.2', weight: 0.2 },
  { name: 'bm25 + trigram 0.15 if unmatched else 0.01', weight: { unmatched: 0.15, allMatched: 0.01 } },
  // Extra: the words' trigrams OR'ed one by one (a bag of trigrams, like the hashed vector's
  // n-grams), so a compound query can match text that holds its parts apart.
  { name: 'bm25 + trigram-bag 0.15', weight: 0.15, bag: true },
  { name: 'bm25 + trigram-bag 0.15 if unmatched else 0.01', weight: { unmatched: 0.15, allMatched: 0.01 }, bag: true },
];

const median = (xs: number[]) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Bytes of the tables whose name starts with one of the prefixes (dbstat). */
function tableBytes(store: SqliteStore, name: string): number {
  const row = store.db
    .prepare(`SELECT COALESCE(SUM(pgsize), 0) AS n FROM dbstat WHERE name = @name OR substr(name, 1, length(@name) + 1) = @name || '_'`)
    .get({ name }) as { n: number };
  return row.n;
}

/** Creates and fills the trigram table; returns build time and size. */
export function buildTrigram(store: SqliteStore): { ms: number; bytes: number } {
  const t0 = performance.now();
  store.db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS chunks_tri USING fts5(text, tokenize = 'trigram', content = '')`);
  store.db.exec(`INSERT INTO chunks_tri (rowid, text) SELECT rowid, lower(text) FROM chunks`);
  const ms = performance.now() - t0;
  return { ms, bytes: tableBytes(store, 'chunks_tri') };
}

/** The trigram MATCH expression: words of 3+ characters, lowercased, each a phrase, OR'ed. */
export function trigramMatch(query: string, bag = false): string | null {
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].filter((w) => [...w].length >= 3);
  if (!words.length) return null;
  let terms = words;
  if (bag) {
    const grams = new Set<string>();
    for (const w of words) {
      const cs = [...w];
      for (let i = 0; i + 3 <= cs.length; i++) grams.add(cs.slice(i, i + 3).join(''));
    }
    terms = [...grams];
  }
  return terms.map((w) => `"${w.replace(/"/g, '""')}"`).join(' OR ');
}

/** A store whose bm25() is BM25 fused with the trigram leg; records the trigram leg's latency. */
export function trigramStore(store: SqliteStore, weight: Weight, latencies: number[], bag = false): SqliteStore {
  const stmts = new Map<string, ReturnType<SqliteStore['db']['prepare']>>();
  const leg = (query: string, req: LegRequest): number[] => {
    const t0 = performance.now();
    const match = trigramMatch(query, bag);
    let rowids: number[] = [];
    if (match) {
      const acl = accessClause(req.principal);
      const f = filterClause(req.filters);
      const sql = `SELECT t.rowid AS rowid FROM chunks_tri t JOIN chunks c ON c.rowid = t.rowid JOIN documents d ON d.id = c.document_id
         WHERE chunks_tri MATCH @match AND ${acl.sql} AND ${f.sql} ORDER BY bm25(chunks_tri) LIMIT @limit`;
      let stmt = stmts.get(sql);
      if (!stmt) stmts.set(sql, (stmt = store.db.prepare(sql)));
      rowids = (stmt.all({ match, limit: req.limit, ...acl.params, ...f.params }) as { rowid: number }[]).map((r) => r.rowid);
    }
    latencies.push(performance.now() - t0);
    return rowids;
  };
  const bm25 = (query: string, req: Parameters<SqliteStore['bm25']>[1]): Bm25Result => {
    const lexical = store.bm25(query, req);
    let w: number;
    if (typeof weight === 'number') w = weight;
    else w = store.unmatchedTerms(query, { principal: req.principal, filters: req.filters, analysis: req.analysis }).length > 0 ? weight.unmatched : weight.allMatched;
    const tri = leg(query, req);
    const fused = reciprocalRankFusion([
      { keys: lexical.ranked.map((r) => r.rowid), weight: 1 },
      { keys: tri, weight: w },
    ]).map((f) => ({ rowid: f.key, score: f.score }));
    return { ranked: fused, total: Math.max(lexical.total, fused.length), totalRelation: lexical.totalRelation };
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'bm25') return bm25;
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

interface Run {
  name: string;
  result: RunResult;
  summary: Summary;
}

const ndcgs = (r: Run) => r.result.scores.map((s) => s.ndcg10);

/** Runs the experiment on every set and writes its section through `out`. */
export async function trigramExperiment(sets: EvalSet[], out: (s?: string) => void): Promise<void> {
  out('## Experiment: sparse character-trigram leg (issue 3)');
  out();
  out('Does a sparse character-trigram leg give the lexical lift of the hashed n-gram vector leg more cheaply? An FTS5 `trigram` table (contentless, over `chunks.text` lowercased) in the eval index; the query\'s words of 3+ characters, each a quoted phrase, OR\'ed, ranked by bm25(), with the public access filter and the same candidate count as the BM25 leg (200 on the results page). Fused with the BM25 leg by weighted RRF (k = 60) at trigram weight 0.1 / 0.15 / 0.2, and 0.15 only when some query word is unmatched by BM25, else 0.01 (the default hybrid\'s rule). Extra "trigram-bag" runs query the words\' trigrams one by one, OR\'ed (so a compound query can match text that holds its parts apart, as the hashed vector leg does). Documents and scores as for every other run (searchDocuments, 10 documents). Code: eval/trigram.ts.');
  out();
  const rows: { name: string; s: Summary }[] = [];
  const vsBm25: { name: string; d: PairedDifference }[] = [];
  const vsHybrid: { name: string; d: PairedDifference }[] = [];
  const cost: string[] = [];
  const opts: SearchOptions = defaultSearchOptions();
  for (const set of sets) {
    const embedder = makeEmbedder(EMBEDDERS[0].options);
    const store = await buildIndex(set.docs, embedder);
    try {
      const chunks = store.stats().chunks;
      const built = buildTrigram(store);
      const run = async (name: string, s: SqliteStore, mode: 'bm25' | 'hybrid'): Promise<Run> => {
        const result = await runQueries(s, embedder, set, mode, opts);
        return { name, result, summary: summarize(result.scores) };
      };
      const bm25 = await run('bm25', store, 'bm25');
      const hybrid = await run('hybrid (default)', store, 'hybrid');
      rows.push({ name: `${set.id} · bm25`, s: bm25.summary }, { name: `${set.id} · hybrid (default)`, s: hybrid.summary });
      let latencies: number[] = [];
      let bagLatencies: number[] = [];
      for (const v of TRIGRAM_VARIANTS) {
        const lat: number[] = [];
        const r = await run(v.name, trigramStore(store, v.weight, lat, v.bag), 'bm25');
        if (v.weight === 0.15) {
          if (v.bag) bagLatencies = lat;
          else latencies = lat;
        }
        rows.push({ name: `${set.id} · ${v.name}`, s: r.summary });
        vsBm25.push({ name: `${set.id} · ${v.name} − bm25`, d: pairedBootstrap(ndcgs(bm25), ndcgs(r)) });
        vsHybrid.push({ name: `${set.id} · ${v.name} − hybrid`, d: pairedBootstrap(ndcgs(hybrid), ndcgs(r)) });
      }
      // Cost of the two extra legs, per query, timed apart: trigram (above) vs embed + vector scan.
      const leg = { principal: set.principal, limit: 200 };
      const bmLat: number[] = [];
      const vecLat: number[] = [];
      for (const q of set.queries) {
        let t0 = performance.now();
        store.bm25(q.query, { ...leg, analysis: opts.analysis });
        bmLat.push(performance.now() - t0);
        t0 = performance.now();
        const [qv] = await embedder.embed([q.query], 'query');
        store.vector(qv, { ...leg, minSimilarity: opts.minSimilarity ?? DEFAULT_MIN_SIMILARITY });
        vecLat.push(performance.now() - t0);
      }
      const per1k = (b: number) => (chunks ? Math.round((b / chunks) * 1000) : 0);
      const ftsBytes = tableBytes(store, 'chunks_fts');
      const vecBytes = tableBytes(store, 'chunk_vectors');
      cost.push(
        `| ${set.id} | ${chunks} | ${median(latencies).toFixed(2)} | ${median(bagLatencies).toFixed(2)} | ${median(bmLat).toFixed(2)} | ${median(vecLat).toFixed(2)} | ${(per1k(built.bytes) / 1024).toFixed(0)} KiB | ${(per1k(ftsBytes) / 1024).toFixed(0)} KiB | ${(per1k(vecBytes) / 1024).toFixed(0)} KiB | ${(built.ms / 1000).toFixed(2)} s |`,
      );
    } finally {
      store.close();
    }
  }
  out(formatTable(rows));
  out();
  out('**Paired comparisons vs BM25 alone** (nDCG@10):');
  out();
  out(formatComparisonTable(vsBm25));
  out();
  out('**Paired comparisons vs the default hybrid** (nDCG@10):');
  out();
  out(formatComparisonTable(vsHybrid));
  out();
  out('**Cost** (median per query over every query of the set, in-memory index; the vector leg includes embedding the query; the default hybrid skips the vector leg when every word matched and BM25 filled its 200 candidates; sizes from dbstat, per 1000 chunks):');
  out();
  out('| set | chunks | trigram leg ms | trigram-bag leg ms | BM25 leg ms | vector leg ms | trigram table / 1k chunks | BM25 FTS / 1k chunks | vectors / 1k chunks | trigram build |\n|---|---|---|---|---|---|---|---|---|---|');
  for (const c of cost) out(c);
  out();
}
