/**
 * Builds (once) and caches the synthetic N-chunk indexes the scale benchmarks run on:
 * CACHE_DIR/index-<size>/index.sqlite, built with the real store, the real analysis and the
 * real local embedder (LocalHashEmbedder, 2048 dimensions). See bench/corpus.ts for the text.
 *
 *   node bin/run-ts.js bench/run.ts build 10k 100k 1m     # build what is missing
 *
 * A build that was interrupted is started again from scratch (the `complete.json` marker is
 * written last). The int8 vector copy is not built here: the benchmarks time that step on its own.
 * Large builds take long: run them in the background and poll the log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { embeddingText } from '../ingest/chunk.ts';
import { CACHE_DIR, embeddedBatches, SyntheticCorpus, seedChunks, sizeLabel } from './corpus.ts';

export interface BuiltIndex {
  size: number;
  label: string;
  dir: string;
  indexFile: string;
  info: BuildInfo;
}

export interface BuildInfo {
  chunks: number;
  documents: number;
  seconds: number;
  embedSeconds: number;
  builtAt: string;
}

export function indexDir(size: number): string {
  return path.join(CACHE_DIR, `index-${sizeLabel(size)}`);
}

export function cachedIndex(size: number): BuiltIndex | null {
  const dir = indexDir(size);
  const marker = path.join(dir, 'complete.json');
  if (!fs.existsSync(marker)) return null;
  return { size, label: sizeLabel(size), dir, indexFile: path.join(dir, 'index.sqlite'), info: JSON.parse(fs.readFileSync(marker, 'utf8')) };
}

/** Docs written per transaction: one commit per batch keeps the WAL small without long locks. */
const DOCS_PER_TX = 50;

/**
 * The search index as the product leaves it after ingesting (`innsikt ingest` and `innsikt
 * reindex` write the common-word lists at their end). Indexes cached before that get it here.
 */
function compact(store: SqliteStore | string, log: (s: string) => void): void {
  const s = typeof store === 'string' ? new SqliteStore(store, { vectorIndex: false }) : store;
  try {
    const p = s.buildCommonPostings();
    if (p?.phrases) log(`  common-word lists: ${p.phrases} in ${(p.ms / 1000).toFixed(1)} s`);
    s.db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    if (typeof store === 'string') s.closeSync();
  }
}

export async function buildIndex(size: number, log: (s: string) => void = console.log): Promise<BuiltIndex> {
  const cached = cachedIndex(size);
  if (cached) {
    compact(cached.indexFile, log);
    return cached;
  }
  const dir = indexDir(size);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const corpus = new SyntheticCorpus(await seedChunks(log));
  log(`building the ${sizeLabel(size)}-chunk index from ${corpus.seeds.length} real chunks (${corpus.nameCount} names) in ${dir} ...`);
  const embedder = new LocalHashEmbedder();
  const emb = { id: embedder.id, dimensions: embedder.dimensions };
  const store = new SqliteStore(path.join(dir, 'index.sqlite'));
  const t0 = performance.now();
  let embedMs = 0;
  let chunks = 0;
  let docs = 0;
  let lastLog = t0;
  for (const batch of embeddedBatches(corpus, size, DOCS_PER_TX, (title, c) => embedder.embedOne(embeddingText(title, c)))) {
    ({ chunks, documents: docs, embedMs } = batch);
    store.db.transaction(() => {
      for (const b of batch.docs) store.upsertSync(b.doc, b.chunks, b.vectors, emb);
    })();
    const now = performance.now();
    if (now - lastLog > 30_000) {
      lastLog = now;
      const rate = chunks / ((now - t0) / 1000);
      log(`  ${chunks} / ${size} chunks, ${rate.toFixed(0)} chunks/s, about ${((size - chunks) / rate / 60).toFixed(1)} min left`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  compact(store, log);
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  log(`  ${chunks} chunks in ${docs} documents: ${seconds.toFixed(0)} s (${(chunks / seconds).toFixed(0)} chunks/s)`);
  store.close();
  const info: BuildInfo = { chunks, documents: docs, seconds, embedSeconds: embedMs / 1000, builtAt: new Date().toISOString() };
  fs.writeFileSync(path.join(dir, 'complete.json'), JSON.stringify(info, null, 1));
  return { size, label: sizeLabel(size), dir, indexFile: path.join(dir, 'index.sqlite'), info };
}
