/**
 * Hybrid search over any Store: analysis -> BM25 leg and vector leg (same principal, same
 * filters, each applied inside its own query) -> weighted reciprocal rank fusion -> snippets.
 */
import { analyze } from './analysis/index.ts';
import {
  type AnalysisOptions,
  coversWord,
  DEFAULT_ANALYSIS,
  highlightStemsOf,
  type ParsedQuery,
  parseQuery,
  relaxPhrases,
  wordQuery,
} from './analysis/query.ts';
import type { Embedder } from './embeddings/types.ts';
import { DEFAULT_LEG_WEIGHTS, reciprocalRankFusion } from './fusion.ts';
import { makeSnippet, pageAt } from './snippet.ts';
import type { LegResult, ScoredChunk, Store } from './store.ts';
import type { SearchFilters, SearchHit, SearchMode, SearchRequest, SearchResponse } from './types.ts';

export interface SearchOptions {
  weights?: { bm25?: number; vector?: number; vectorWhenAllMatched?: number };
  /** Candidates taken from each leg before fusion. */
  candidates?: number;
  /**
   * Cosine similarity below which the vector leg returns nothing, so a query with no match
   * gets "no results" rather than the nearest unrelated text.
   */
  minSimilarity?: number;
  /** Treat the last query word as a prefix (search as you type). */
  prefixLast?: boolean;
  /** Which query expansions to use (all by default; `npm run eval` switches them). */
  analysis?: AnalysisOptions;
  /**
   * 'when-short' (default): the tie-breaking vector leg runs only when BM25's list is not full
   * (see rank()); 'always': on every hybrid query. Env INNSIKT_VECTOR_TIEBREAK.
   */
  vectorTieBreak?: 'always' | 'when-short';
  /**
   * When BM25 counts as sure of itself, so that the vector leg gets `vectorWhenAllMatched`
   * instead of `vector`: 'found' (default; the hashed embedder) whenever BM25 found anything;
   * 'best-covers' (a semantic model) when BM25's best chunk holds every query word in some form.
   * A paraphrase or a question in another language leaves words uncovered, and the model's
   * ranking gets its full weight.
   */
  confidentBm25?: 'found' | 'best-covers';
}

export const DEFAULT_CANDIDATES = 100;
/**
 * For the offline hashed embedder, measured on the demo corpus: compounds whose parts occur in
 * the text score 0.11-0.19 against their best chunk ("lekeplassrehabilitering" 0.185,
 * "fritidsklubbtilbud" 0.119), words from absent topics 0.03-0.06 ("vindkraft offshore" 0.049,
 * "kvantefysikk" 0.047). Re-measure after changing the embedder.
 */
export const DEFAULT_MIN_SIMILARITY = 0.1;
/**
 * For a semantic model, whose cosines are compressed into a narrow high band: measured with
 * multilingual-e5-small (`npm run eval`, docs/eval.md "Semantic embedder"), the top chunk of
 * an answerable query scores 0.83-0.87 at the 10th percentile (per set, tuning halves) and of
 * a no-answer query up to 0.90, so no floor separates them. 0.8 cost the tuning halves 0.004
 * nDCG@10 (a paraphrase whose best chunk scores 0.78, and deeper relevant chunks); 0.7 is below
 * every answerable query's relevant chunks measured and only drops text in another script.
 */
export const SEMANTIC_MIN_SIMILARITY = 0.7;

/** The vector leg's similarity floor for an embedder family. */
export function minSimilarityFor(family: 'hash' | 'semantic'): number {
  return family === 'semantic' ? SEMANTIC_MIN_SIMILARITY : DEFAULT_MIN_SIMILARITY;
}
export const MAX_LIMIT = 100;

export function parseMode(value: unknown): SearchMode {
  if (value === undefined || value === null || value === '') return 'hybrid';
  if (value === 'hybrid' || value === 'bm25' || value === 'vector') return value;
  throw new RangeError(`Unknown search mode "${String(value)}": use hybrid, bm25 or vector`);
}

const VECTOR_TIEBREAK = process.env.INNSIKT_VECTOR_TIEBREAK === 'always' ? 'always' : 'when-short';

/** A query as one search understands it: parsed once, with the store's vocabulary. */
export async function parseFor(store: Store, query: string, analysis?: AnalysisOptions): Promise<ParsedQuery> {
  return parseQuery(query, analysis ?? DEFAULT_ANALYSIS, await store.vocabulary(query));
}

interface Ranked {
  ranked: ScoredChunk[];
  total: number;
  totalRelation: 'eq' | 'gte';
}

/** Ranked chunks for a request, best first, with the total number of matches. */
async function rank(
  store: Store,
  embedder: Embedder,
  req: SearchRequest,
  parsed: ParsedQuery,
  mode: SearchMode,
  need: number,
  opts: SearchOptions,
): Promise<Ranked> {
  const candidates = Math.max(opts.candidates ?? DEFAULT_CANDIDATES, need);
  const weights = { ...DEFAULT_LEG_WEIGHTS, ...opts.weights };
  // Search as you type: the last word counts as a prefix only while it is not yet a whole word
  // the index knows, so a finished query ranks exactly as the same query loaded from its URL.
  // Whether the last word is finished is judged without the filters: a word that exists (for
  // this caller) but not under the chosen body is finished all the same.
  const words = parsed.words;
  const prefixLast =
    !!opts.prefixLast && mode !== 'vector' && words.length > 0 && (await store.unmatchedWords(wordQuery(words[words.length - 1]), req.principal)).length > 0;
  // The vector leg gets its full weight only when BM25 found nothing (a compound or word form
  // the index does not hold, and no other query word to go on); otherwise it breaks near-ties
  // and appends its own candidates after BM25's. Measured (docs/eval.md): giving it its full
  // weight whenever some query word matched nothing only reordered BM25's hits, with 0 wins and
  // 2 losses over NorQuAD, the fixtures and the real corpus; its wins are all queries where
  // BM25 found nothing.
  const confidence = opts.confidentBm25 ?? 'found';
  const tieBreakOnly = (bm25: LegResult | null) =>
    confidence === 'found' && mode === 'hybrid' && weights.vectorWhenAllMatched !== undefined && !!bm25 && bm25.ranked.length > 0;
  // As a tie-breaker (weight w = 0.01) the vector leg adds at most w / (k + 1) = 0.00016 to a
  // hit: less than the gap between BM25's ranks i and i + 1, 1 / ((k + i)(k + i + 1)), for i up
  // to 17, and its own candidates land after BM25's. So with BM25's list full it cannot change
  // the first 17 hits (deeper ones it may swap), and it costs ~10 ms at 100k chunks: skip it
  // then (env INNSIKT_VECTOR_TIEBREAK=always keeps it).
  const vectorWanted = (bm25: LegResult | null) => {
    if (mode === 'vector') return true;
    const weight = tieBreakOnly(bm25) ? weights.vectorWhenAllMatched! : weights.vector;
    if (!(weight > 0)) return false;
    return !(tieBreakOnly(bm25) && (opts.vectorTieBreak ?? VECTOR_TIEBREAK) !== 'always' && bm25!.ranked.length >= candidates);
  };
  let embedding: Promise<Float32Array> | null = null;
  const legs = (query: ParsedQuery) =>
    store.rank({
      principal: req.principal,
      filters: req.filters,
      bm25: mode === 'vector' ? undefined : { query, limit: candidates, prefixWord: prefixLast ? query.words.length - 1 : undefined },
      vector:
        mode === 'bm25'
          ? undefined
          : {
              embedding: () => (embedding ??= embedder.embed([req.query], 'query').then((v) => v[0])),
              limit: candidates,
              minSimilarity: opts.minSimilarity ?? DEFAULT_MIN_SIMILARITY,
              when: vectorWanted,
            },
    });
  let { bm25, vector } = await legs(parsed);
  // A quoted phrase that occurs nowhere this caller may read: rank its words instead.
  if (bm25 && bm25.total === 0 && parsed.phrases.length > 0) {
    const relaxed = await legs(relaxPhrases(parsed, opts.analysis ?? DEFAULT_ANALYSIS, await store.vocabulary(req.query)));
    bm25 = relaxed.bm25;
    vector = relaxed.vector ?? vector;
  }
  if (vector && !vectorWanted(bm25)) vector = null;
  const totalRelation = bm25?.totalRelation ?? 'eq';
  if (mode === 'bm25') return { ranked: bm25!.ranked, total: bm25!.total, totalRelation };
  if (mode === 'vector') return { ranked: vector ?? [], total: vector?.length ?? 0, totalRelation: 'eq' };
  const sure = confidence === 'found' ? tieBreakOnly(bm25) : weights.vectorWhenAllMatched !== undefined && (await bestCovers(store, req, parsed, bm25));
  const vectorWeight = sure ? weights.vectorWhenAllMatched! : weights.vector;
  const byId = new Map<string, ScoredChunk>();
  for (const r of [...bm25!.ranked, ...(vector ?? [])]) if (!byId.has(r.chunkId)) byId.set(r.chunkId, r);
  const fused = reciprocalRankFusion([
    { keys: bm25!.ranked.map((r) => r.chunkId), weight: weights.bm25 },
    { keys: (vector ?? []).map((r) => r.chunkId), weight: vectorWeight },
  ]).map((f) => ({ ...byId.get(f.key)!, score: f.score }));
  return { ranked: fused, total: Math.max(bm25!.total, fused.length), totalRelation };
}

/** Whether BM25's best chunk holds every word of the query (title, heading and text, any form). */
async function bestCovers(store: Store, req: SearchRequest, parsed: ParsedQuery, bm25: LegResult | null): Promise<boolean> {
  const top = bm25?.ranked[0];
  if (!top || parsed.words.length === 0) return false;
  const rec = (await store.chunks([top.chunkId], req.principal)).get(top.chunkId);
  if (!rec) return false;
  const a = analyze([rec.title, rec.heading ?? '', rec.text].join('\n'));
  const stems = new Set(a.stems);
  const exact = new Set(a.exact);
  return parsed.words.every((w) => coversWord(w, stems, exact));
}

async function hydrate(store: Store, req: SearchRequest, parsed: ParsedQuery, ranked: ScoredChunk[]): Promise<SearchHit[]> {
  const records = await store.chunks(
    ranked.map((r) => r.chunkId),
    req.principal,
  );
  const stems = highlightStemsOf(parsed);
  const hits: SearchHit[] = [];
  for (const r of ranked) {
    const c = records.get(r.chunkId);
    if (!c) continue; // not readable by this principal (cannot happen: legs filter too)
    const snip = makeSnippet(c.text, stems);
    hits.push({
      documentId: c.documentId,
      chunkId: c.id,
      title: c.title,
      source: c.source,
      organisation: c.organisation,
      kind: c.kind,
      body: c.body,
      date: c.date,
      access: c.access,
      pageStart: c.pageStart,
      pageEnd: c.pageEnd,
      page: pageAt(snip.start, c.pageStart, c.pageBreaks),
      score: Number(r.score.toFixed(6)),
      snippet: snip.text,
      snippetParts: snip.parts,
      heading: c.heading,
      item: c.item,
      text: c.text,
      pageBreaks: c.pageBreaks,
    });
  }
  return hits;
}

/** Chunk-level search: the CLI's and the JSON API's result list. */
export async function search(store: Store, embedder: Embedder, req: SearchRequest, opts: SearchOptions = {}): Promise<SearchResponse> {
  const t0 = performance.now();
  const mode = parseMode(req.mode);
  const limit = Math.min(Math.max(req.limit ?? 10, 1), MAX_LIMIT);
  const offset = Math.max(req.offset ?? 0, 0);
  if (!req.query.trim()) return { query: req.query, mode, tookMs: 0, total: 0, totalRelation: 'eq', results: [] };
  const parsed = req.parsed ?? (await parseFor(store, req.query, opts.analysis));
  const { ranked, total, totalRelation } = await rank(store, embedder, req, parsed, mode, offset + limit, opts);
  const results = await hydrate(store, req, parsed, ranked.slice(offset, offset + limit));
  return { query: req.query, mode, tookMs: Number((performance.now() - t0).toFixed(2)), total, totalRelation, results, parsed };
}

export interface DocumentGroup {
  best: SearchHit;
  more: SearchHit[];
}

export interface GroupedResponse {
  query: string;
  mode: SearchMode;
  tookMs: number;
  totalDocuments: number;
  groups: DocumentGroup[];
  /** The query as parsed for this search (for facet counts of the same matches). */
  parsed?: ParsedQuery;
}

/**
 * Document-level search for the results page: the best chunk of each document, with up to
 * `morePerDocument` further chunks of the same document ("mer fra dette dokumentet").
 */
export async function searchDocuments(
  store: Store,
  embedder: Embedder,
  req: SearchRequest,
  opts: SearchOptions & { morePerDocument?: number; sort?: 'relevance' | 'date' } = {},
): Promise<GroupedResponse> {
  const t0 = performance.now();
  const mode = parseMode(req.mode);
  const limit = Math.min(Math.max(req.limit ?? 10, 1), MAX_LIMIT);
  const offset = Math.max(req.offset ?? 0, 0);
  if (!req.query.trim()) return { query: req.query, mode, tookMs: 0, totalDocuments: 0, groups: [] };
  const parsed = req.parsed ?? (await parseFor(store, req.query, opts.analysis));
  const candidates = Math.max(opts.candidates ?? DEFAULT_CANDIDATES, 200);
  const { ranked } = await rank(store, embedder, req, parsed, mode, candidates, { ...opts, candidates });
  // Group by document in rank order (the legs name each chunk's document and date).
  const order: string[] = [];
  const byDoc = new Map<string, ScoredChunk[]>();
  for (const r of ranked) {
    let list = byDoc.get(r.documentId);
    if (!list) byDoc.set(r.documentId, (list = []));
    if (list.length === 0) order.push(r.documentId);
    list.push(r);
  }
  if (opts.sort === 'date') {
    // Newest first among the relevant documents; undated ones last, in relevance order.
    const dateOf = new Map<string, string>();
    for (const r of ranked) if (r.date) dateOf.set(r.documentId, r.date);
    const rank = new Map(order.map((id, i) => [id, i]));
    order.sort((a, b) => (dateOf.get(b) ?? '').localeCompare(dateOf.get(a) ?? '') || rank.get(a)! - rank.get(b)!);
  }
  const more = opts.morePerDocument ?? 2;
  const page = order.slice(offset, offset + limit);
  // Hydrate a few extra chunks per document: "more from this document" lists other pages only.
  // One read for the whole page.
  const wanted = page.flatMap((docId) => byDoc.get(docId)!.slice(0, 1 + more * 3));
  const hitsById = new Map((await hydrate(store, req, parsed, wanted)).map((h) => [h.chunkId, h]));
  const groups: DocumentGroup[] = [];
  for (const docId of page) {
    const hits = byDoc
      .get(docId)!
      .slice(0, 1 + more * 3)
      .map((r) => hitsById.get(r.chunkId))
      .filter((h): h is SearchHit => !!h);
    if (!hits.length) continue;
    const pages = new Set([hits[0].page]);
    const others: SearchHit[] = [];
    for (const h of hits.slice(1)) {
      if (others.length >= more || pages.has(h.page)) continue;
      pages.add(h.page);
      others.push(h);
    }
    groups.push({ best: hits[0], more: others });
  }
  return { query: req.query, mode, tookMs: Number((performance.now() - t0).toFixed(2)), totalDocuments: order.length, groups, parsed };
}

/**
 * The search JSON of the CLI (`innsikt search --json`) and the API (`GET /api/v1/search`):
 * one shape, written in one place.
 */
export function searchJson(res: SearchResponse) {
  return {
    query: res.query,
    mode: res.mode,
    tookMs: res.tookMs,
    total: res.total,
    // 'gte': at least `total` (large indexes stop counting at 1000, like Elasticsearch).
    totalRelation: res.totalRelation,
    results: res.results.map((h) => ({
      documentId: h.documentId,
      chunkId: h.chunkId,
      title: h.title,
      source: h.source,
      pageStart: h.pageStart,
      pageEnd: h.pageEnd,
      page: h.page,
      score: h.score,
      snippet: h.snippet,
      organisation: h.organisation,
      kind: h.kind,
      body: h.body,
      date: h.date,
      item: h.item ?? null,
    })),
  };
}

/**
 * Filters from URL or command-line parameters, shared by the API, the results page and the
 * CLI: `body`, `organisation` and `kind` (repeatable), `year` (YYYY), `from` and `to` (YYYY-MM-DD), and
 * `decisions=1` for decisions (vedtak) only.
 * Throws RangeError with a message that names the bad value.
 */
export function parseFilters(get: (key: string) => string[]): SearchFilters {
  const f: SearchFilters = {};
  const body = get('body').filter(Boolean);
  const organisation = get('organisation').filter(Boolean);
  const kind = get('kind').filter(Boolean);
  if (body.length) f.body = body;
  if (organisation.length) f.organisation = organisation;
  if (kind.length) f.kind = kind;
  const date = (key: string) => {
    const v = get(key)[0];
    if (!v) return undefined;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) throw new RangeError(`${key} must be a date like 2024-03-14, not "${v}"`);
    return v;
  };
  f.dateFrom = date('from');
  f.dateTo = date('to');
  const year = get('year')[0];
  if (year) {
    if (!/^\d{4}$/.test(year)) throw new RangeError(`year must be four digits, not "${year}"`);
    f.dateFrom = `${year}-01-01`;
    f.dateTo = `${year}-12-31`;
  }
  const decisions = get('decisions')[0];
  if (decisions === '1' || decisions === 'true') f.decisionsOnly = true;
  if (!f.dateFrom) delete f.dateFrom;
  if (!f.dateTo) delete f.dateTo;
  return f;
}
