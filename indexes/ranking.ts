/**
 * The ranking constants both backends share, so the embedded store and Elasticsearch rank from
 * the same weights: the embedded store passes them to FTS5 (indexes/embedded/bm25-leg.ts),
 * Elasticsearch builds its fields and similarity from them (indexes/elasticsearch/schema.ts).
 */

/**
 * FTS5 column weights for bm25(): title, heading, body (stems), exact forms.
 * Title and headings above body (the brief); the exact-form column adds a bonus for a
 * word written exactly as in the query. Re-measure with `npm run eval` before changing.
 */
export const BM25_WEIGHTS = { title: 3.0, heading: 2.0, body: 1.0, exact: 0.5 } as const;

/**
 * BM25's length normalisation (FTS5: b = 0.75, fixed) rewards very short chunks, and protocols
 * are cut into many short ones (an agenda item's decision of 20 words is its own chunk). A chunk
 * shorter than SHORT_CHUNK.chars characters has its score scaled by (length / chars) ^ power.
 * Measured with `npm run eval -- --compare=<run without it>` (nDCG@10 of hybrid, paired
 * bootstrap 95% CI): fixtures (58 judged queries) 0.916 -> 0.953, +0.036 [+0.008, +0.065];
 * NorQuAD and the real corpus unchanged. chars 300/500/800 gave +0.002/+0.010/+0.019 (within
 * noise), 1600/2400 +0.036/+0.039; power 0.3/0.75 at 1200 gave +0.026/+0.032. chars = 0 turns
 * it off (env INNSIKT_SHORT_CHUNK_CHARS / INNSIKT_SHORT_CHUNK_POWER, for measuring).
 */
export const SHORT_CHUNK = { chars: Number(process.env.INNSIKT_SHORT_CHUNK_CHARS ?? 1200), power: Number(process.env.INNSIKT_SHORT_CHUNK_POWER ?? 0.5) };

/**
 * The same prior inside innsikt_bm25, where a row's length is known in tokens, not characters
 * (FTS5 keeps token counts per column): body tokens below SHORT_CHUNK_TOKENS. A chunk holds 6.8
 * characters per body token at the median (10th-90th percentile 4.5-10.3, over 2,000 chunks of
 * the bench corpus). With the prior in the ranking function, FTS5's own ORDER BY ... LIMIT is
 * the final order. Measured against the character prior (npm run eval --compare, nDCG@10 of
 * hybrid): 150 tokens NorQuAD +0.000, fixtures +0.006 [+0.000, +0.014]; 176 tokens -0.001 /
 * -0.000; 210 tokens -0.000 / -0.002 (all within noise but the first). Env INNSIKT_SHORT_CHUNK_TOKENS.
 */
export const SHORT_CHUNK_TOKENS = Number(process.env.INNSIKT_SHORT_CHUNK_TOKENS ?? 150);

/**
 * The short-chunk prior of a chunk with `bodyTokens` analysed body tokens (stems of the
 * non-stopword tokens and case numbers: what FTS5's body column counts): a factor in (0, 1]
 * that multiplies its BM25 score. Elasticsearch stores it per chunk (field `prior`); the
 * embedded store computes it inside innsikt_bm25 from the same count.
 */
export function shortChunkPrior(bodyTokens: number): number {
  if (!(SHORT_CHUNK.chars > 0) || !(SHORT_CHUNK_TOKENS > 0)) return 1;
  return bodyTokens < SHORT_CHUNK_TOKENS ? (bodyTokens / SHORT_CHUNK_TOKENS) ** SHORT_CHUNK.power : 1;
}
