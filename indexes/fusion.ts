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
