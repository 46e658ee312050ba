/**
 * The lexical support threshold of the citation check (server/answer/support.ts
 * SUPPORT_THRESHOLD), measured two ways, printed for the constant's comment:
 *
 * 1. NorQuAD (../shared/corpus/eval/norquad, skipped when absent): 300 questions with their
 *    answer and gold passage. The claim "question + answer" restates the passage in other
 *    words, as a model's sentence does. Its share of content stems found in the gold passage
 *    is a supported citation; the share in the most similar other passage (of 198) is a
 *    citation of the wrong source.
 * 2. The demo corpus: for the judged queries, every extractive candidate sentence of a source
 *    checked against the other sources of the same answer (same topic, wrong source): the
 *    hardest realistic mistake.
 *
 *   npx vitest run tests/answer-support.test.ts
 */

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { PUBLIC_PRINCIPAL } from '../indexes/types.ts';
import { DataDir } from '../ingest/data-dir.ts';
import { ingestDemo } from '../ingest/demo.ts';
import { shutdownExtractors } from '../ingest/extract/index.ts';
import { splitSentences } from '../server/answer/sentences.ts';
import { retrieveSources } from '../server/answer/sources.ts';
import { contentStems, SUPPORT_THRESHOLD, share, sourceStems } from '../server/answer/support.ts';
import type { Source } from '../server/answer/types.ts';
import { loadConfig, searchOptions } from '../server/config.ts';
import { CORPUS, tempDir } from './helpers.ts';

const NORQUAD = path.join(CORPUS, 'eval/norquad');
const HAS_NORQUAD = fs.existsSync(path.join(NORQUAD, 'norquad_test_sample300.jsonl'));
if (!HAS_NORQUAD) console.warn(`[skip] ${NORQUAD} not found: NorQuAD support measurement skipped`);

const THRESHOLDS = [0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8];

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}
const pct = (xs: number[], t: number) => `${Math.round((100 * xs.filter((x) => x >= t).length) / Math.max(1, xs.length))}%`;
const describeShares = (xs: number[]) => `median ${quantile(xs, 0.5).toFixed(2)}, p10 ${quantile(xs, 0.1).toFixed(2)}, p90 ${quantile(xs, 0.9).toFixed(2)}`;

describe('support threshold of the citation check', () => {
  it.skipIf(!HAS_NORQUAD)('NorQuAD: claims against their gold passage and against the nearest wrong one', () => {
    const passages = fs
      .readFileSync(path.join(NORQUAD, 'norquad_test_passages.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; text: string });
    const stems = new Map(passages.map((p) => [p.id, contentStems(p.text)]));
    const questions = fs
      .readFileSync(path.join(NORQUAD, 'norquad_test_sample300.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { question: string; answer: string; gold_passage_id: string });
    const gold: number[] = [];
    const wrong: number[] = [];
    for (const q of questions) {
      const claim = contentStems(`${q.question} ${q.answer}`);
      if (claim.size < 2 || !stems.has(q.gold_passage_id)) continue;
      gold.push(share(claim, [stems.get(q.gold_passage_id)!]));
      let worst = 0;
      for (const [id, s] of stems) if (id !== q.gold_passage_id) worst = Math.max(worst, share(claim, [s]));
      wrong.push(worst);
    }
    console.log(
      [
        `NorQuAD claims (${gold.length}): gold passage ${describeShares(gold)}; nearest wrong passage ${describeShares(wrong)}`,
        ...THRESHOLDS.map(
          (t) =>
            `  threshold ${t.toFixed(2)}: supported by gold ${pct(gold, t)}, by a wrong passage ${pct(wrong, t)}${t === SUPPORT_THRESHOLD ? '   <- SUPPORT_THRESHOLD' : ''}`,
        ),
      ].join('\n'),
    );
    // The threshold must accept most true citations and few wrong ones.
    expect(gold.filter((x) => x >= SUPPORT_THRESHOLD).length / gold.length).toBeGreaterThanOrEqual(0.85);
    expect(wrong.filter((x) => x >= SUPPORT_THRESHOLD).length / wrong.length).toBeLessThanOrEqual(0.06);
  });

  describe('demo corpus: sentences cited against other sources', () => {
    let store: SqliteStore;
    const embedder = new LocalHashEmbedder();
    beforeAll(async () => {
      const dataDir = new DataDir(tempDir('innsikt-support-'));
      store = new SqliteStore(dataDir.indexFile);
      await ingestDemo({ store, embedder, dataDir, defaultAccess: 'public' });
      await shutdownExtractors();
    });
    afterAll(() => store?.close());

    it('rarely counts an off-topic source as support, and shows how often a same-topic one passes', async () => {
      const queries: { query: string; expect: unknown[] }[] = JSON.parse(
        fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/expected-queries.json'), 'utf8'),
      ).queries;
      const search = searchOptions(loadConfig({}));
      const answers: Source[][] = [];
      for (const q of queries.filter((x) => x.expect.length)) {
        answers.push((await retrieveSources(store, embedder, { question: q.query, principal: PUBLIC_PRINCIPAL }, { search })).sources);
      }
      const flat = (t: string) => t.replace(/\s+/g, ' ');
      const own: number[] = [];
      const sameTopic: number[] = [];
      const offTopic: number[] = [];
      answers.forEach((sources, i) => {
        const elsewhere = answers[(i + 7) % answers.length].filter((x) => !sources.some((s) => s.documentId === x.documentId));
        for (const s of sources) {
          for (const span of splitSentences(s.text)) {
            if (!span.terminal || span.text.split(/\s+/).length < 5) continue;
            const st = contentStems(span.text);
            if (st.size < 3) continue;
            own.push(share(st, [sourceStems(s)]));
            // Protocols repeat a committee's text word for word in the next body's protocol:
            // a source that holds the very sentence supports it, so it is no wrong source.
            const others = sources.filter((x) => x.n !== s.n && !flat(x.text).includes(span.text));
            if (others.length) sameTopic.push(Math.max(...others.map((x) => share(st, [sourceStems(x)]))));
            if (elsewhere.length) offTopic.push(Math.max(...elsewhere.map((x) => share(st, [sourceStems(x)]))));
          }
        }
      });
      console.log(
        [
          `Demo sentences (${own.length}): own source ${describeShares(own)}; best other source of the same answer (not holding the sentence) ${describeShares(sameTopic)}; best source of another question ${describeShares(offTopic)}`,
          ...THRESHOLDS.map(
            (t) =>
              `  threshold ${t.toFixed(2)}: supported by a same-topic source ${pct(sameTopic, t)}, by an off-topic source ${pct(offTopic, t)}${t === SUPPORT_THRESHOLD ? '   <- SUPPORT_THRESHOLD' : ''}`,
          ),
        ].join('\n'),
      );
      expect(own.every((x) => x === 1)).toBe(true);
      // Formulaic protocol sentences ("Innstillingen ble enstemmig vedtatt.") are found in any
      // protocol: these few pass anywhere, whatever the threshold.
      expect(offTopic.filter((x) => x >= SUPPORT_THRESHOLD).length / offTopic.length).toBeLessThanOrEqual(0.1);
    });
  });
});
