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
 * BM25 carries the ranking; the offline vector leg only re-orders near-ties. Measured outside
 * this project on NorQuAD (issue 3): plain RRF of BM25 and hashed n-gram vectors scored
 * nDCG@10 0.924 vs 0.937 for BM25 alone, while a vector weight of 0.1-0.2 beat BM25. Re-measure
 * on our judged queries with `npm run eval` before changing it.
 */
export const DEFAULT_LEG_WEIGHTS = { bm25: 1.0, vector: 0.15 } as const;

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
  return [...scores.entries()]
    .map(([key, score]) => ({ key, score }))
    // Ties keep the order in which the legs (BM25 first) produced them.
    .sort((a, b) => b.score - a.score || firstSeen.get(a.key)! - firstSeen.get(b.key)!);
}
