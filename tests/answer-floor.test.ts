/**
 * The relevance floor of answers (server/answer/sources.ts RELEVANCE_FLOOR), measured on the
 * demo corpus as the public: the best relevance among the top candidates for questions that
 * the corpus answers and for questions it does not. Prints the table the constant's comment
 * quotes; re-run after changing the analysis, the retrieval or the floor:
 *
 *   npx vitest run tests/answer-floor.test.ts
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
import { RELEVANCE_FLOOR, retrieveSources } from '../server/answer/sources.ts';
import { loadConfig, searchOptions } from '../server/config.ts';
import { tempDir } from './helpers.ts';

const read = (name: string): { id: string; query: string; expect: unknown[] }[] =>
  JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures', name), 'utf8')).queries;

/** Questions as people ask them, about things the demo corpus covers. */
const NATURAL_QUESTIONS = [
  'Hva ble vedtatt om sykehjemsplasser?',
  'Hvor mange badevakter skal det være på Sørenga?',
  'Når er søknadsfristen for nærmiljøtilskudd?',
  'Hva sier rapporten om trangboddhet?',
  'Hva er budsjettet for 2025?',
  'Hva skjedde med Vahl skole?',
  'Hva mener Eldrerådet om åpningstidene på eldresenteret?',
  'Hva ble bestemt om badstue i Vaterlandsparken?',
  'Hva er status for hundeløpegården i Kampen park?',
  'What was decided about badevakter at Sørenga sjøbad?',
];

/** Questions the demo corpus has no answer to. */
const OFF_CORPUS_QUESTIONS = [
  'Hvem er ordfører i Bergen?',
  'Hva koster en bybane i Bergen?',
  'Hvordan går det med reindriften?',
  'Hva er været i morgen?',
  'Hvorfor ble vindkraft stoppet?',
  'Hva mener bydelen om kvantefysikk?',
  'skatteetaten mva',
  'Hva sier bydelen om fotballstadion?',
  'Hvem vant valget i 2023?',
  'What did the council decide about the playground in Tøyenparken?',
  'Hva er prisen på strøm i Tromsø?',
];

describe('relevance floor of answers (demo corpus, as the public)', () => {
  let store: SqliteStore;
  const embedder = new LocalHashEmbedder();
  const search = searchOptions(loadConfig({}));

  beforeAll(async () => {
    const dataDir = new DataDir(tempDir('innsikt-floor-'));
    store = new SqliteStore(dataDir.indexFile);
    await ingestDemo({ store, embedder, dataDir, defaultAccess: 'public' });
    await shutdownExtractors();
  });
  afterAll(() => store?.close());

  async function best(question: string): Promise<number> {
    return (await retrieveSources(store, embedder, { question, principal: PUBLIC_PRINCIPAL }, { search })).best;
  }

  it('separates answerable questions from off-corpus ones', async () => {
    const judged = read('expected-queries.json');
    const compounds = read('expected-queries-compounds.json');
    const rows: { set: string; query: string; best: number; answerable: boolean }[] = [];
    for (const q of judged)
      rows.push({ set: q.expect.length ? 'judged' : 'no-answer', query: q.query, best: await best(q.query), answerable: q.expect.length > 0 });
    for (const q of compounds) rows.push({ set: 'compound', query: q.query, best: await best(q.query), answerable: true });
    for (const q of NATURAL_QUESTIONS) rows.push({ set: 'natural', query: q, best: await best(q), answerable: true });
    for (const q of OFF_CORPUS_QUESTIONS) rows.push({ set: 'off-corpus', query: q, best: await best(q), answerable: false });

    const lines = rows.map((r) => `${r.set.padEnd(10)} ${r.best.toFixed(2)} ${r.best >= RELEVANCE_FLOOR ? 'answer ' : 'none   '} ${r.query}`);
    const pos = rows.filter((r) => r.answerable).map((r) => r.best);
    const neg = rows.filter((r) => !r.answerable).map((r) => r.best);
    const bySet = (set: string) =>
      rows
        .filter((r) => r.set === set)
        .map((r) => r.best.toFixed(2))
        .join(' ');
    console.log(
      [
        `Relevance floor ${RELEVANCE_FLOOR}: answerable min ${Math.min(...pos).toFixed(2)}, not answerable max ${Math.max(...neg).toFixed(2)}`,
        `no-answer queries: ${bySet('no-answer')}; off-corpus: ${bySet('off-corpus')}`,
        `compounds: ${bySet('compound')}; natural: ${bySet('natural')}`,
        ...lines,
      ].join('\n'),
    );
    const wrong = rows.filter((r) => r.best >= RELEVANCE_FLOOR !== r.answerable).map((r) => `${r.set} "${r.query}" ${r.best.toFixed(2)}`);
    expect(wrong).toEqual([]);
  });
});
