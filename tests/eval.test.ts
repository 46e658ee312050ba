/**
 * CI guard for retrieval quality: the evaluation of `npm run eval` (eval/harness.ts), with the
 * default embedder and default search options only, must stay at or above eval/floors.json
 * (measured value minus 0.01) for every set and mode. NorQuAD and the real corpus come from
 * ../shared/corpus and skip with a reason when it is absent; the fixture set always runs; the
 * real set runs when its extraction is cached (see realSkip). A warm run takes about 10 s.
 */

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOutcomes, summarizeAnswers } from '../eval/answers.ts';
import {
  blindCorpusCached,
  blindCorpusFiles,
  buildIndex,
  defaultSearchOptions,
  EMBEDDERS,
  type EvalSet,
  e5EvalEmbedder,
  elasticsearchBackend,
  HALVES,
  HAS_BLIND,
  HAS_NORQUAD,
  HAS_REAL,
  halfOf,
  loadBlind,
  loadFixtures,
  loadNorquad,
  loadReal,
  loadSemantic,
  makeEmbedder,
  realCorpusCached,
  runQueries,
  type SetId,
} from '../eval/harness.ts';
import { formatTable, pairedBootstrap, type Summary, summarize } from '../eval/metrics.ts';
import { semanticSearchOptions } from '../eval/semantic.ts';
import { fieldScores, structureRows } from '../eval/structure.ts';
import { search } from '../indexes/search.ts';
import type { Store } from '../indexes/store.ts';
import { PUBLIC_PRINCIPAL, type SearchMode } from '../indexes/types.ts';
import { E5_SKIP } from './e5-harness.ts';
import { ES_SKIP, ES_URL } from './es-harness.ts';
import { CORPUS } from './helpers.ts';
import { HAS_OCR_TOOLS } from './scan-fixture.ts';

interface Floors {
  margin: number;
  /** Blind set: precision and recall of document understanding per half and field (eval/structure.ts). */
  structure?: Record<string, Record<string, { precision: number; recall: number }>>;
  /** Blind set: offline answers per half (eval/answers.ts), as shares of the questions / off-corpus queries. */
  answers?: Record<string, { citesJudged: number; refusedAtMost: number; offCorpusAnsweredAtMost: number }>;
  sets: Record<string, Record<string, { n: number; ndcg10: number; recall1: number; recall10: number; pageHit10: number }>>;
  /** With the semantic model (issue 14), per set: bm25 and hybrid with INNSIKT_EMBEDDER=e5's search options. */
  e5?: Record<string, Record<string, { n: number; ndcg10: number; recall1: number; recall10: number; pageHit10: number }>>;
}
/** The sets the semantic model is guarded on (the semantic set embeds the whole blind corpus: ~20 min cold in CI). */
const E5_SETS: SetId[] = ['fixtures', 'norquad', 'semantic'];
const FLOORS = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../eval/floors.json'), 'utf8')) as Floors;
const MODES: SearchMode[] = ['bm25', 'vector', 'hybrid'];
const METRICS = ['ndcg10', 'recall1', 'recall10', 'pageHit10'] as const;
/** How close the backends must rank (issue 12: every metric within 0.01; see docs/eval.md for R@1). */
const BACKEND_TOLERANCE = 0.01;

/** The halves of each set's first eight queries when the split was fixed (2026-12-07). */
const PINNED_HALVES: Record<SetId, string[]> = {
  norquad: ['tuning', 'reporting', 'reporting', 'reporting', 'reporting', 'tuning', 'reporting', 'reporting'],
  fixtures: ['reporting', 'reporting', 'tuning', 'reporting', 'tuning', 'tuning', 'reporting', 'reporting'],
  real: ['tuning', 'reporting', 'tuning', 'reporting', 'reporting', 'tuning', 'reporting', 'reporting'],
  blind: ['reporting', 'reporting', 'reporting', 'reporting', 'tuning', 'tuning', 'tuning', 'reporting'],
  semantic: ['reporting', 'reporting', 'reporting', 'tuning', 'reporting', 'reporting', 'tuning', 'reporting'],
};

const SETS: { id: SetId; load: () => Promise<EvalSet>; skip: string | null }[] = [
  { id: 'norquad', load: () => loadNorquad(), skip: HAS_NORQUAD ? null : `${path.join(CORPUS, 'eval/norquad')} not found: NorQuAD evaluation skipped` },
  { id: 'fixtures', load: () => loadFixtures(), skip: null },
  { id: 'real', load: () => loadReal(), skip: realSkip() },
  { id: 'blind', load: () => loadBlind(), skip: blindSkip() },
  { id: 'semantic', load: () => loadSemantic(), skip: blindSkip() },
];

/** The blind set (issue 13) needs about 200 documents extracted: like the real set, when cached or asked for. */
function blindSkip(): string | null {
  if (!HAS_BLIND) return `${path.join(CORPUS, 'oslo-bydeler')}, text or the real corpus not found: blind-set evaluation skipped`;
  if (process.env.INNSIKT_EVAL_REAL === '1' || blindCorpusCached()) return null;
  return 'blind corpus not yet extracted for this ingestion code (slow): run `npm run eval` once, or set INNSIKT_EVAL_REAL=1';
}

/**
 * The real set needs 169 PDFs extracted (20-30 s on two cores): it runs when that extraction is
 * already cached for the current ingestion code (after `npm run eval`), or with INNSIKT_EVAL_REAL=1.
 */
function realSkip(): string | null {
  if (!HAS_REAL) return `${path.join(CORPUS, 'pdfs')} or bulk-election-protocols not found: real-corpus evaluation skipped`;
  if (process.env.INNSIKT_EVAL_REAL === '1' || realCorpusCached()) return null;
  return 'real corpus not yet extracted for this ingestion code (slow): run `npm run eval` once, or set INNSIKT_EVAL_REAL=1';
}

describe('paired bootstrap', () => {
  it('is deterministic, centred on the mean difference, and zero-width without differences', () => {
    const a = Array.from({ length: 50 }, (_, i) => (i % 3) / 2);
    const b = a.map((x, i) => (i % 5 === 0 ? 1 : x));
    const d = pairedBootstrap(a, b);
    expect(pairedBootstrap(a, b)).toEqual(d);
    expect(d.lo).toBeLessThanOrEqual(d.mean);
    expect(d.hi).toBeGreaterThanOrEqual(d.mean);
    expect(d.lo).toBeGreaterThan(0);
    expect(d.wins).toBeGreaterThan(0);
    expect(d.losses).toBe(0);
    expect(pairedBootstrap(a, a)).toMatchObject({ mean: 0, lo: 0, hi: 0, wins: 0, losses: 0 });
    expect(() => pairedBootstrap([1], [1, 2])).toThrow(/pair the same queries/);
  });
});

for (const def of SETS) {
  if (def.skip) console.warn(`[skip] ${def.skip}`);
  describe.skipIf(!!def.skip)(`retrieval evaluation: ${def.id}${def.skip ? ` (${def.skip})` : ''}`, () => {
    let set: EvalSet;
    let store: Store;
    const summaries = new Map<SearchMode, Summary>();

    beforeAll(async () => {
      set = await def.load();
      const embedder = makeEmbedder(EMBEDDERS[0].options);
      store = await buildIndex(set.docs, embedder);
      for (const mode of MODES) summaries.set(mode, summarize((await runQueries(store, embedder, set, mode, defaultSearchOptions())).scores));
      console.log(formatTable(MODES.map((m) => ({ name: `${def.id} ${m}`, s: summaries.get(m)! }))));
      // Cold, the real and blind sets OCR the 578 scanned bulk pages first (10-15 min on two cores).
    }, 3_600_000);
    afterAll(async () => store?.close());

    it('judges files and pages that exist in the set', () => {
      const pages = new Map(set.docs.map((d) => [d.source, new Set(d.pages.map((p) => p.num))]));
      const problems: string[] = [];
      const ids = new Set<string>();
      for (const q of set.queries) {
        if (ids.has(q.id)) problems.push(`${q.id}: duplicate id`);
        ids.add(q.id);
        for (const j of q.expect) {
          if (!pages.has(j.file)) problems.push(`${q.id}: ${j.file} is not in the set`);
          else if (j.page !== null && !pages.get(j.file)!.has(j.page)) problems.push(`${q.id}: ${j.file} has no page ${j.page}`);
        }
      }
      expect(problems).toEqual([]);
    });

    it('splits into a tuning half and a reporting half of similar size, fixed for good', () => {
      const sizes = HALVES.map((h) => set.queries.filter((q) => halfOf(def.id, q.id) === h).length);
      expect(sizes[0] + sizes[1]).toBe(set.queries.length);
      for (const n of sizes) expect(n / set.queries.length, `halves ${sizes.join(' / ')}`).toBeGreaterThan(0.35);
      // A changed rule would move queries someone tuned on into the reporting half: these stay put.
      expect(set.queries.slice(0, 8).map((q) => halfOf(def.id, q.id))).toEqual(PINNED_HALVES[def.id]);
    });

    // Issue 13: document understanding against gold, and the offline answers, on the blind set
    // (registered for that set only, so other sets report nothing skipped).
    if (def.id === 'blind') {
      it('understands the gold documents at least as well as eval/floors.json says, per half', () => {
        const rows = structureRows(set.docs, blindCorpusFiles());
        const problems: string[] = [];
        for (const half of HALVES) {
          for (const f of fieldScores(rows.filter((r) => r.half === half))) {
            const floor = FLOORS.structure?.[half]?.[f.field];
            if (floor && f.precision < floor.precision) problems.push(`${half} ${f.field} precision ${f.precision.toFixed(3)} < ${floor.precision}`);
            if (floor && f.recall < floor.recall) problems.push(`${half} ${f.field} recall ${f.recall.toFixed(3)} < ${floor.recall}`);
          }
        }
        expect(FLOORS.structure, 'eval/floors.json has structure floors').toBeTruthy();
        expect(problems).toEqual([]);
      });

      it('answers at least as well as eval/floors.json says, per half', async () => {
        const outcomes = await answerOutcomes(store, makeEmbedder(EMBEDDERS[0].options), set);
        const problems: string[] = [];
        for (const half of HALVES) {
          const a = summarizeAnswers(outcomes.filter((o) => halfOf('blind', o.id) === half));
          const floor = FLOORS.answers![half];
          console.log(
            `blind ${half}: ${a.citesJudged}/${a.questions} questions cite a judged page, ${a.refused} refused, ${a.offCorpusAnswered}/${a.offCorpus} off-corpus answered`,
          );
          if (a.citesJudged / a.questions < floor.citesJudged)
            problems.push(`${half}: cites a judged page ${a.citesJudged}/${a.questions} < ${floor.citesJudged}`);
          if (a.refused / a.questions > floor.refusedAtMost) problems.push(`${half}: refused ${a.refused}/${a.questions} > ${floor.refusedAtMost}`);
          if (a.offCorpusAnswered / a.offCorpus > floor.offCorpusAnsweredAtMost)
            problems.push(`${half}: off-corpus answered ${a.offCorpusAnswered}/${a.offCorpus}`);
        }
        expect(problems).toEqual([]);
      });
    }

    // Elasticsearch ranks the same sets: nDCG@10 and page hit@10 within BACKEND_TOLERANCE of the
    // embedded store's (docs/eval.md, "Backends"). Runs where a cluster is configured (CI).
    describe.skipIf(ES_SKIP !== null)(`on Elasticsearch${ES_SKIP ? ` (skipped: ${ES_SKIP})` : ''}`, () => {
      let es: Store | null = null;
      const backend = ES_SKIP === null ? elasticsearchBackend(ES_URL ?? undefined) : null;
      const esSummaries = new Map<SearchMode, Summary>();
      beforeAll(async () => {
        const embedder = makeEmbedder(EMBEDDERS[0].options);
        es = await buildIndex(set.docs, embedder, { backend: backend! });
        for (const mode of MODES) esSummaries.set(mode, summarize((await runQueries(es, embedder, set, mode, defaultSearchOptions())).scores));
        console.log(formatTable(MODES.map((m) => ({ name: `${def.id} ${m} (elasticsearch)`, s: esSummaries.get(m)! }))));
      }, 300_000);
      afterAll(async () => {
        if (es) await backend!.dispose(es);
      });
      for (const mode of MODES) {
        it(`${mode}: nDCG@10 and page hit@10 within ${BACKEND_TOLERANCE} of the embedded store`, () => {
          const a = summaries.get(mode)!;
          const b = esSummaries.get(mode)!;
          for (const k of ['ndcg10', 'pageHit10'] as const)
            expect(Math.abs(b[k] - a[k]), `${def.id} ${mode} ${k}: ${b[k].toFixed(3)} vs ${a[k].toFixed(3)}`).toBeLessThanOrEqual(BACKEND_TOLERANCE);
        });
      }
    });

    // Issue 14: the semantic model on the sets it is judged on, where its server runs (CI starts
    // it): at or above its own floors, the demo's floors kept, and better than BM25 where words
    // do not match.
    // Registered for those sets only, so CI (where the server runs) reports nothing skipped.
    if (E5_SETS.includes(def.id))
      describe.skipIf(E5_SKIP !== null)(`with the semantic model (e5)${E5_SKIP ? ` (skipped: ${E5_SKIP})` : ''}`, () => {
        const e5Summaries = new Map<'bm25' | 'hybrid', Summary>();
        beforeAll(async () => {
          const embedder = e5EvalEmbedder((s) => console.log(s));
          await embedder.init();
          const e5Store = await buildIndex(set.docs, embedder);
          try {
            for (const mode of ['bm25', 'hybrid'] as const)
              e5Summaries.set(mode, summarize((await runQueries(e5Store, embedder, set, mode, semanticSearchOptions())).scores));
          } finally {
            await e5Store.close();
            embedder.close();
          }
          console.log(formatTable([...e5Summaries].map(([m, s]) => ({ name: `${def.id} ${m} (e5)`, s }))));
        }, 45 * 60_000);

        for (const mode of ['bm25', 'hybrid'] as const) {
          it(`${mode} with e5 stays at or above eval/floors.json (e5)`, () => {
            const floor = FLOORS.e5?.[def.id]?.[mode];
            expect(floor, `no e5 floors for ${def.id} ${mode}: run npm run eval -- --write-floors with the e5 server up`).toBeDefined();
            const s = e5Summaries.get(mode)!;
            expect(s.n).toBe(floor!.n);
            const below = METRICS.filter((k) => s[k] < floor![k]).map((k) => `${k} ${s[k].toFixed(3)} < floor ${floor![k]}`);
            expect(below, `${def.id} ${mode} (e5) fell below its floor`).toEqual([]);
          });
        }

        if (def.id === 'fixtures') {
          it('keeps the demo floors of the offline default (nDCG@10, page hit@10)', () => {
            const s = e5Summaries.get('hybrid')!;
            for (const k of ['ndcg10', 'pageHit10'] as const) expect(s[k], k).toBeGreaterThanOrEqual(FLOORS.sets.fixtures.hybrid[k]);
          });
        }
        if (def.id === 'semantic') {
          it('ranks paraphrases and questions in another language better than BM25', () => {
            expect(e5Summaries.get('hybrid')!.ndcg10).toBeGreaterThan(e5Summaries.get('bm25')!.ndcg10);
          });
        }
      });

    for (const mode of MODES) {
      it(`${mode} stays at or above eval/floors.json`, () => {
        const floor = FLOORS.sets[def.id]?.[mode];
        expect(floor, `no floors for ${def.id} ${mode}: run npm run eval -- --write-floors`).toBeDefined();
        const s = summaries.get(mode)!;
        expect(s.n, 'number of answerable queries changed: re-measure with npm run eval -- --write-floors').toBe(floor!.n);
        const below = METRICS.filter((k) => s[k] < floor![k]).map((k) => `${k} ${s[k].toFixed(3)} < floor ${floor![k]}`);
        expect(below, `${def.id} ${mode} fell below its floor`).toEqual([]);
      });
    }
  });
}

/**
 * Issue 15: the 24 scans of the bulk corpus (no text layer; before OCR they failed as no-text,
 * a sixth of a real archive invisible) are read by OCR at ingest, page by page, and found by
 * what is printed on them. The figures below were read off the page images by eye.
 */
const BULK_SCANS = '008 013 014 015 017 018 020 031 036 049 050 051 071 074 075 081 082 085 089 096 097 104 136 140'.split(' ');
describe.skipIf(!!realSkip() || !HAS_OCR_TOOLS)('OCR of the scanned protocols of the bulk corpus', () => {
  let set: EvalSet;
  let store: Store;
  const embedder = makeEmbedder(EMBEDDERS[0].options);

  beforeAll(async () => {
    set = await loadReal();
    store = await buildIndex(set.docs, embedder);
  }, 1_800_000);
  afterAll(async () => store?.close());

  it('reads every one of the 24 scans, with all its pages, each page marked as OCR with its confidence', () => {
    const bySource = new Map(set.docs.map((d) => [d.source, d]));
    for (const n of BULK_SCANS) {
      const doc = bySource.get(`${n}.pdf`);
      expect(doc, `${n}.pdf was ingested`).toBeDefined();
      expect(doc!.extraction.method, n).toBe('pdf-ocr');
      const pages = Number(
        /Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [path.join(CORPUS, 'bulk-election-protocols', `${n}.pdf`)], { encoding: 'utf8' }))![1],
      );
      expect(doc!.pages.map((p) => p.num)).toEqual(Array.from({ length: pages }, (_, i) => i + 1));
      // Every page read by OCR; its confidence is null only where it found no words (a blank page).
      expect(
        doc!.pages.filter((p) => !p.ocr).map((p) => p.num),
        n,
      ).toEqual([]);
      expect(
        doc!.pages.filter((p) => p.ocr!.confidence === null && p.text.trim() !== '').map((p) => p.num),
        n,
      ).toEqual([]);
      expect(doc!.pages.map((p) => p.text).join('').length, n).toBeGreaterThan(pages * 200);
    }
  });

  it('finds figures and case numbers printed on scanned pages, on their page', async () => {
    const cases = [
      { query: 'stemmeberettigede 24 504 Gjøvik', file: '013.pdf', page: 2 },
      { query: 'godkjente stemmesedler 13 543', file: '013.pdf', page: 2 },
      { query: '19/2143', file: '089.pdf', page: 2 },
      { query: 'registrerte kryss i manntall 1368', file: '104.pdf', page: 3 },
    ];
    for (const c of cases) {
      const res = await search(store, embedder, { query: c.query, mode: 'bm25', limit: 5, principal: PUBLIC_PRINCIPAL });
      const hit = res.results.find((h) => h.source === c.file && h.pageStart! <= c.page && c.page <= h.pageEnd!);
      expect(hit, `"${c.query}": ${res.results.map((h) => `${h.source} p. ${h.pageStart}-${h.pageEnd}`).join(', ')}`).toBeDefined();
    }
  });
});
