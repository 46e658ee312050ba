/**
 * Measures the local embedder: throughput, and retrieval quality on NorQuAD (if the shared
 * corpus is there). The numbers in local.ts and in the notes come from this script.
 *
 *   node bin/run-ts.js indexes/embeddings/bench.ts            # throughput + NorQuAD table
 *   node bin/run-ts.js indexes/embeddings/bench.ts --quick    # throughput only
 *
 * NorQuAD: 300 Norwegian questions, each with one gold passage among 199. Question -> passage
 * by cosine alone (no BM25), reporting recall@1/5/10 and MRR. This is a lexical model, so it
 * says how much the vector leg adds on its own, not how a semantic model would do.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalHashEmbedder, type LocalHashOptions } from './local.ts';
import { dot } from './types.ts';

const CORPUS = path.resolve(process.cwd(), '../shared/corpus');
const NORQUAD = path.join(CORPUS, 'eval/norquad');

function words(): string[] {
  const sources = [
    path.join(CORPUS, 'text/no_levanger_kommunestyret_moteprotokoll_2026-03-25_EXCERPT_PS6-PS13.txt'),
    path.join(NORQUAD, 'norquad_test_passages.jsonl'),
  ].filter((f) => existsSync(f));
  const text = sources.map((f) => readFileSync(f, 'utf8')).join('\n');
  const w = text.split(/\s+/).filter(Boolean);
  if (w.length > 1000) return w;
  // No corpus: a synthetic Norwegian-ish text.
  const vocab =
    'bydelsutvalget vedtok budsjettet for barnehager skoler levekår parkdrift og eldreomsorg i Gamle Oslo etter behandling i kommunestyret med innstilling fra administrasjonen'.split(
      ' ',
    );
  return Array.from({ length: 50_000 }, (_, i) => vocab[(i * 7919) % vocab.length] + (i % 13 === 0 ? `${i % 97}` : ''));
}

/** `n` chunks of ~`size` words cut from real text at different offsets. */
function chunks(n: number, size: number): string[] {
  const w = words();
  return Array.from({ length: n }, (_, i) => {
    const start = (i * 211) % Math.max(1, w.length - size);
    return w.slice(start, start + size).join(' ');
  });
}

async function throughput(opts: LocalHashOptions, n = 3000, size = 400) {
  const texts = chunks(n, size);
  const e = new LocalHashEmbedder(opts);
  let t = performance.now();
  await e.embed(texts, 'document');
  const cold = performance.now() - t;
  t = performance.now();
  await e.embed(texts, 'document');
  const warm = performance.now() - t;
  return { id: e.id, n, size, coldPerSec: Math.round((n / cold) * 1000), warmPerSec: Math.round((n / warm) * 1000) };
}

interface Question {
  question: string;
  gold_passage_id: string;
}
interface Passage {
  id: string;
  text: string;
}

async function norquad(opts: LocalHashOptions) {
  const readJsonl = <T>(f: string): T[] =>
    readFileSync(path.join(NORQUAD, f), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as T);
  const passages = readJsonl<Passage>('norquad_test_passages.jsonl');
  const questions = readJsonl<Question>('norquad_test_sample300.jsonl');
  const e = new LocalHashEmbedder(opts);
  const pv = await e.embed(
    passages.map((p) => p.text),
    'document',
  );
  const qv = await e.embed(
    questions.map((q) => q.question),
    'query',
  );
  let r1 = 0;
  let r5 = 0;
  let r10 = 0;
  let mrr = 0;
  questions.forEach((q, i) => {
    const scores = pv.map((v, j) => ({ j, s: dot(qv[i], v) })).sort((a, b) => b.s - a.s || a.j - b.j);
    const rank = scores.findIndex((x) => passages[x.j].id === q.gold_passage_id) + 1;
    if (rank === 1) r1++;
    if (rank >= 1 && rank <= 5) r5++;
    if (rank >= 1 && rank <= 10) r10++;
    if (rank >= 1) mrr += 1 / rank;
  });
  const n = questions.length;
  const pct = (x: number) => ((100 * x) / n).toFixed(1);
  return { id: e.id, 'R@1': pct(r1), 'R@5': pct(r5), 'R@10': pct(r10), MRR: (mrr / n).toFixed(3) };
}

const quick = process.argv.includes('--quick');
console.log('Throughput (one core, chunks of ~400 words of real Norwegian text; cold = empty token cache):');
console.table([await throughput({}), await throughput({ dimensions: 768 }), await throughput({ ngramWeight: 0 })]);

if (!quick) {
  if (!existsSync(path.join(NORQUAD, 'norquad_test_passages.jsonl'))) {
    console.log(`NorQuAD skipped: ${NORQUAD} is missing (the shared corpus is not part of a fresh clone).`);
  } else {
    console.log('NorQuAD question -> passage, vector only (300 questions, 199 passages):');
    const settings: LocalHashOptions[] = [
      { ngramWeight: 0 },
      { ngramWeight: 0.5 },
      {},
      { ngramWeight: 2 },
      { minN: 4, maxN: 5 },
      { minN: 3, maxN: 6 },
      { dimensions: 512 },
      { dimensions: 1024 },
      { dimensions: 4096 },
    ];
    const rows = [];
    for (const s of settings) rows.push(await norquad(s));
    console.table(rows);
  }
}
