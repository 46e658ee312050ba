/**
 * Reciprocal rank fusion, shared by every backend (the embedded store and Elasticsearch both
 * run their legs separately and fuse here, because Elasticsearch's own RRF needs a paid licence).
 *
 *   score(d) = sum over legs of  weight_leg / (k + rank_leg(d)),  rank starting at 1.
 *
 * k = 60 is the value of the original RRF paper (Cormack et al. 2009).
 * Leg weights: see DEFAULT_LEG_WEIGHTS.
 */
export const RRF_K = 60;

/**
 * BM25 carries the ranking. The offline vector leg (hashed character n-grams) helps where BM25
 * finds nothing at all (a compound such as "lekeplassrehabilitering" whose parts the documents
 * use), so it gets `vector` then, and only `vectorWhenAllMatched` (a tie-breaker that also
 * appends vector-only candidates after the BM25 hits) when BM25 found something.
 *
 * Measured on the demo's 33 judged queries (tests/demo.test.ts prints the table): any
 * vector weight above 0.01 on fully matched queries lowered nDCG@10 (0.910 -> 0.905 at 0.02,
 * 0.900 at 0.05, 0.876 at 0.15 for plain weighted RRF); on the 5 compound queries BM25 finds
 * nothing and the vector leg finds the answer. `npm run eval` (docs/eval.md): the full weight
 * whenever some query word matched nothing (the rule until 2026-11-27) only reordered BM25's
 * hits, 0 wins and 2 losses on NorQuAD. Re-measure before changing.
 */
export const DEFAULT_LEG_WEIGHTS: { bm25: number; vector: number; vectorWhenAllMatched?: number } = {
  bm25: 1.0,
  vector: 0.15,
  vectorWhenAllMatched: 0.01,
};

/**
 * A semantic model (INNSIKT_EMBEDDER=e5, openai, azure): the vector leg gets `vector` when BM25's
 * best chunk lacks a query word (a paraphrase, another language: what the model is for), and
 * nothing when that chunk holds every word (indexes/search.ts, confidentBm25 'best-covers').
 *
 * Measured with multilingual-e5-small by `npm run eval` (docs/eval.md, "Semantic embedder"),
 * chosen on the mean nDCG@10 of the five sets' tuning halves (bm25 alone 0.807): plain RRF at
 * 0.1 / 0.25 / 0.5 / 1.0 gave 0.816 / 0.812 / 0.807 / 0.796 (any weight on every query costs
 * NorQuAD, whose questions BM25 answers at 0.98); adaptive 0 / 0.25 gave 0.824, 0 / 0.35 0.822,
 * 0 / 0.5 0.821, 0 / 1 0.815, 0 / 2 0.796, 0.1 / 1 0.813. The model alone scores 0.710: it
 * ranks below BM25 except on paraphrases. OpenAI and Azure models get the same weights until
 * they are measured on their own.
 */
export const SEMANTIC_LEG_WEIGHTS: { bm25: number; vector: number; vectorWhenAllMatched?: number } = {
  bm25: 1.0,
  vector: 0.25,
  vectorWhenAllMatched: 0,
};

/** The leg weights of an embedder family (indexes/embeddings/index.ts embedderFamily). */
export function legWeightsFor(family: 'hash' | 'semantic'): { bm25: number; vector: number; vectorWhenAllMatched?: number } {
  return family === 'semantic' ? SEMANTIC_LEG_WEIGHTS : DEFAULT_LEG_WEIGHTS;
}

export interface RankedLeg<K> {
  /** Keys best first. */
  keys: readonly K[];
  weight: number;
}

export interface Fused<K> {
  key: K;
  score: number;
}

export function reciprocalRankFusion<K>(legs: RankedLeg<K>[], k = RRF_K): Fused<K>[] {
  const scores = new Map<K, number>();
  const firstSeen = new Map<K, number>();
  let order = 0;
  for (const leg of legs) {
    if (leg.weight <= 0) continue;
    leg.keys.forEach((key, i) => {
      scores.set(key, (scores.get(key) ?? 0) + leg.weight / (k + i + 1));
      if (!firstSeen.has(key)) firstSeen.set(key, order++);
    });
  }
  return (
    [...scores.entries()]
      .map(([key, score]) => ({ key, score }))
      // Ties keep the order in which the legs (BM25 first) produced them.
      .sort((a, b) => b.score - a.score || firstSeen.get(a.key)! - firstSeen.get(b.key)!)
  );
}
