/**
 * Retrieval metrics over judged queries. A judgment names a file (the ingested file's base
 * name), the page where the answer is, and a grade (2 = the answer, 1 = relevant).
 * Results are chunk-level hits (source + page span), best first.
 */
export interface Judgment {
  file: string;
  page: number | null;
  grade: number;
}

export interface JudgedQuery {
  id: string;
  query: string;
  expect: Judgment[];
}

export interface RankedHit {
  source: string;
  pageStart: number | null;
  pageEnd: number | null;
  page?: number | null;
}

export interface QueryScores {
  id: string;
  recall1: number;
  recall5: number;
  recall10: number;
  mrr10: number;
  ndcg10: number;
  pageHit10: number;
}

/** Documents in first-seen order (the best chunk stands for its document). */
function documentsInOrder(hits: RankedHit[], k: number): string[] {
  const seen: string[] = [];
  for (const h of hits) {
    if (!seen.includes(h.source)) seen.push(h.source);
    if (seen.length >= k) break;
  }
  return seen;
}

function gradeOf(file: string, expect: Judgment[]): number {
  return Math.max(0, ...expect.filter((j) => j.file === file).map((j) => j.grade));
}

export function pageMatches(hit: RankedHit, j: Judgment): boolean {
  if (hit.source !== j.file) return false;
  if (j.page === null) return true;
  if (hit.pageStart === null || hit.pageEnd === null) return false;
  return j.page >= hit.pageStart && j.page <= hit.pageEnd;
}

/**
 * Scores one query. Document metrics use the first 10 distinct documents of `hits` (the best
 * chunk stands for its document, as on the results page); page hit@10 looks for an answer page
 * (a judgment of the highest grade) in `opts.pageHits`, by default the first 10 hits.
 */
export function scoreQuery(q: JudgedQuery, hits: RankedHit[], opts: { pageHits?: RankedHit[] } = {}): QueryScores {
  const docs = documentsInOrder(hits, 10);
  const relevant = new Set(q.expect.filter((j) => j.grade > 0).map((j) => j.file));
  const recallAt = (k: number) => (relevant.size === 0 ? 1 : docs.slice(0, k).filter((d) => relevant.has(d)).length / relevant.size);
  const firstRel = docs.findIndex((d) => relevant.has(d));
  const dcg = docs.reduce((s, d, i) => s + (2 ** gradeOf(d, q.expect) - 1) / Math.log2(i + 2), 0);
  const ideal = [...new Set(q.expect.map((j) => j.file))]
    .map((f) => gradeOf(f, q.expect))
    .sort((a, b) => b - a)
    .slice(0, 10)
    .reduce((s, g, i) => s + (2 ** g - 1) / Math.log2(i + 2), 0);
  const answers = q.expect.filter((j) => j.grade === Math.max(...q.expect.map((x) => x.grade)));
  const pageHit = (opts.pageHits ?? hits.slice(0, 10)).some((h) => answers.some((j) => pageMatches(h, j)));
  return {
    id: q.id,
    recall1: recallAt(1),
    recall5: recallAt(5),
    recall10: recallAt(10),
    mrr10: relevant.size === 0 ? 1 : firstRel < 0 ? 0 : 1 / (firstRel + 1),
    ndcg10: ideal === 0 ? (docs.length === 0 ? 1 : 0) : dcg / ideal,
    pageHit10: relevant.size === 0 ? (hits.length === 0 ? 1 : 0) : pageHit ? 1 : 0,
  };
}

export type Summary = Omit<QueryScores, 'id'> & { n: number };

export function summarize(scores: QueryScores[]): Summary {
  const n = scores.length;
  const mean = (f: (s: QueryScores) => number) => (n ? scores.reduce((a, s) => a + f(s), 0) / n : 0);
  return {
    n,
    recall1: mean((s) => s.recall1),
    recall5: mean((s) => s.recall5),
    recall10: mean((s) => s.recall10),
    mrr10: mean((s) => s.mrr10),
    ndcg10: mean((s) => s.ndcg10),
    pageHit10: mean((s) => s.pageHit10),
  };
}

export function formatTable(rows: { name: string; s: Summary }[]): string {
  const head = '| run | n | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 | page hit@10 |\n|---|---|---|---|---|---|---|---|';
  const f = (x: number) => x.toFixed(3);
  return [
    head,
    ...rows.map(
      ({ name, s }) => `| ${name} | ${s.n} | ${f(s.recall1)} | ${f(s.recall5)} | ${f(s.recall10)} | ${f(s.mrr10)} | ${f(s.ndcg10)} | ${f(s.pageHit10)} |`,
    ),
  ].join('\n');
}

/** Mulberry32: a small seeded PRNG, so a bootstrap gives the same interval on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PairedDifference {
  n: number;
  /** Mean of b - a over the queries. */
  mean: number;
  /** Percentile bootstrap confidence interval of the mean difference. */
  lo: number;
  hi: number;
  /** Queries where b is better / worse than a. */
  wins: number;
  losses: number;
}

export const BOOTSTRAP_RESAMPLES = 2000;
export const BOOTSTRAP_SEED = 20261126;

/**
 * Paired bootstrap of the mean difference b - a of one metric over the same queries: resample
 * the queries (with replacement) `resamples` times and take the 2.5th and 97.5th percentiles of
 * the resampled means. An interval that contains 0 means the difference is within noise.
 */
export function pairedBootstrap(a: number[], b: number[], opts: { resamples?: number; seed?: number; confidence?: number } = {}): PairedDifference {
  if (a.length !== b.length) throw new Error(`pairedBootstrap: ${a.length} vs ${b.length} scores; pair the same queries`);
  const n = a.length;
  const d = a.map((x, i) => b[i] - x);
  const mean = n ? d.reduce((s, x) => s + x, 0) / n : 0;
  const resamples = opts.resamples ?? BOOTSTRAP_RESAMPLES;
  const rand = seededRandom(opts.seed ?? BOOTSTRAP_SEED);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[Math.floor(rand() * n)];
    means[r] = n ? s / n : 0;
  }
  means.sort();
  const alpha = (1 - (opts.confidence ?? 0.95)) / 2;
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  const eps = 1e-12;
  return {
    n,
    mean,
    lo: at(alpha),
    hi: at(1 - alpha),
    wins: d.filter((x) => x > eps).length,
    losses: d.filter((x) => x < -eps).length,
  };
}

export function formatComparisonTable(rows: { name: string; d: PairedDifference }[], metric = 'nDCG@10'): string {
  const head = `| comparison | n | mean Δ ${metric} | 95% CI | wins / losses | verdict |\n|---|---|---|---|---|---|`;
  const s = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);
  return [
    head,
    ...rows.map(({ name, d }) => {
      const verdict = d.lo <= 0 && d.hi >= 0 ? 'within noise' : d.mean > 0 ? '**better**' : '**worse**';
      return `| ${name} | ${d.n} | ${s(d.mean)} | [${s(d.lo)}, ${s(d.hi)}] | ${d.wins} / ${d.losses} | ${verdict} |`;
    }),
  ].join('\n');
}
