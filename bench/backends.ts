/**
 * The two backends side by side (issue 12): the same synthetic corpus (bench/corpus.ts) written
 * through the Store seam into a fresh embedded store and into Elasticsearch (ELASTICSEARCH_URL,
 * prefix innsikt-bench-<size>), then the same queries through search() on each.
 *
 *   BENCH_SECTIONS=backends BENCH_SIZES=10k,100k npm run bench
 *
 * - Ingest: chunks per second written through Store.upsertDocument (vectors computed before and
 *   timed apart: the embedder is the same for both), the embedded store as `innsikt ingest`
 *   leaves it (common-word lists written), Elasticsearch refreshed.
 * - Search: hybrid and bm25, public principal, the bench queries, in a child process per backend
 *   (so each Node RSS is that backend's alone), run twice in turn (A B A B) and pooled.
 * - Memory: the child's RSS after its searches; the Elasticsearch JVM's RSS from /proc (current
 *   and peak, VmHWM) after them.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { indexConfig } from '../indexes/config.ts';
import type { ElasticsearchStore } from '../indexes/elasticsearch/store.ts';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { search } from '../indexes/search.ts';
import type { Store } from '../indexes/store.ts';
import { PUBLIC_PRINCIPAL, type SearchMode } from '../indexes/types.ts';
import { embeddingText } from '../ingest/chunk.ts';
import { loadConfig, searchOptions } from '../server/config.ts';
import { benchQueries, CACHE_DIR, embeddedBatches, ROOT, SyntheticCorpus, seedChunks, sizeLabel } from './corpus.ts';
import { dirBytes, fmt, mb, median, quantile, rssOf, type SectionResult } from './report.ts';

type Backend = 'embedded' | 'elasticsearch';
const BACKENDS: Backend[] = ['embedded', 'elasticsearch'];
/** Documents in flight at once (the pipeline ingests several files at a time). */
const IN_FLIGHT = 8;

function esUrl(): string {
  const url = process.env.ELASTICSEARCH_URL;
  if (!url) throw new Error('the backends benchmark needs ELASTICSEARCH_URL (npm run es:start)');
  return url;
}

const embeddedFile = (size: number) => path.join(CACHE_DIR, `backends-${sizeLabel(size)}`, 'index.sqlite');
const esPrefix = (size: number) => `innsikt-bench-${sizeLabel(size)}`;

async function openBackend(b: Backend, size: number): Promise<Store> {
  if (b === 'embedded') return new SqliteStore(embeddedFile(size));
  const { openElasticsearchStore } = await import('../indexes/elasticsearch/store.ts');
  return openElasticsearchStore(indexConfig({ ELASTICSEARCH_URL: esUrl(), INNSIKT_ES_PREFIX: esPrefix(size) }, CACHE_DIR).elasticsearch);
}

/** Write the corpus into both backends, timing each backend's writes apart. */
async function build(
  size: number,
  log: (s: string) => void,
): Promise<{ seconds: Record<Backend, number>; embedSeconds: number; chunks: number; documents: number }> {
  fs.rmSync(path.dirname(embeddedFile(size)), { recursive: true, force: true });
  fs.mkdirSync(path.dirname(embeddedFile(size)), { recursive: true });
  // A fresh Elasticsearch index too: the last run's is deleted first.
  await ((await openBackend('elasticsearch', size)) as ElasticsearchStore).destroy();
  const stores = { embedded: await openBackend('embedded', size), elasticsearch: await openBackend('elasticsearch', size) };
  const corpus = new SyntheticCorpus(await seedChunks(log));
  const embedder = new LocalHashEmbedder();
  const emb = { id: embedder.id, dimensions: embedder.dimensions };
  const ms: Record<Backend, number> = { embedded: 0, elasticsearch: 0 };
  let embedMs = 0;
  let chunks = 0;
  let docs = 0;
  let lastLog = performance.now();
  for (const batch of embeddedBatches(corpus, size, 50, (title, c) => embedder.embedOne(embeddingText(title, c)))) {
    ({ chunks, documents: docs, embedMs } = batch);
    for (const b of BACKENDS) {
      const t = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < batch.docs.length) {
          const x = batch.docs[next++];
          await stores[b].upsertDocument(x.doc, x.chunks, x.vectors, emb);
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      ms[b] += performance.now() - t;
    }
    if (performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      log(
        `  ${chunks} / ${size} chunks (embedded ${(chunks / (ms.embedded / 1000)).toFixed(0)}/s, elasticsearch ${(chunks / (ms.elasticsearch / 1000)).toFixed(0)}/s)`,
      );
    }
  }
  // As `innsikt ingest` leaves the embedded store: common-word lists written.
  const t = performance.now();
  await stores.embedded.optimize(Number.POSITIVE_INFINITY);
  (stores.embedded as SqliteStore).db.pragma('wal_checkpoint(TRUNCATE)');
  ms.embedded += performance.now() - t;
  for (const b of BACKENDS) await stores[b].close();
  return { seconds: { embedded: ms.embedded / 1000, elasticsearch: ms.elasticsearch / 1000 }, embedSeconds: embedMs / 1000, chunks, documents: docs };
}

/** In a child process: warm up, time every query `repeat` times per mode, report RSS. */
export async function searchChild(b: Backend, size: number, repeat: number): Promise<void> {
  const store = await openBackend(b, size);
  const embedder = new LocalHashEmbedder();
  const opts = searchOptions(loadConfig({}));
  const queries = benchQueries();
  const modes: SearchMode[] = ['hybrid', 'bm25'];
  const run = (q: string, mode: SearchMode) => search(store, embedder, { query: q, mode, limit: 10, principal: PUBLIC_PRINCIPAL }, opts);
  for (const q of queries) for (const m of modes) await run(q, m);
  const lat: Record<string, number[]> = { hybrid: [], bm25: [] };
  for (let i = 0; i < repeat; i++) {
    for (const q of queries) {
      for (const m of modes) {
        const t = performance.now();
        await run(q, m);
        lat[m].push(performance.now() - t);
      }
    }
  }
  const rss = process.memoryUsage().rss;
  await store.close();
  process.stdout.write(JSON.stringify({ lat, rss }) + '\n');
}

/** A client of the benchmark's Elasticsearch for one use, closed after it. */
async function withClient<T>(use: (client: import('@elastic/elasticsearch').Client) => Promise<T>): Promise<T> {
  const { elasticsearchClient } = await import('../indexes/elasticsearch/store.ts');
  const client = elasticsearchClient(indexConfig({ ELASTICSEARCH_URL: esUrl() }, CACHE_DIR).elasticsearch);
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

function esProcess(): Promise<{ pid: number; heapMax: number } | null> {
  return withClient(async (client) => {
    const r = (await client.nodes.info({ node_id: '_local', metric: ['process', 'jvm'] } as never)) as unknown as {
      nodes: Record<string, { process?: { id: number }; jvm?: { mem?: { heap_max_in_bytes: number } } }>;
    };
    const n = Object.values(r.nodes)[0];
    return n?.process ? { pid: n.process.id, heapMax: n.jvm?.mem?.heap_max_in_bytes ?? 0 } : null;
  });
}

/**
 * Wait until Elasticsearch has merged what the ingest left (segments of every refresh; HNSW
 * graphs are merged too, which takes minutes on 2 cores): a search index is searched long after
 * it was written. Returns the seconds waited and the chunk segments left.
 */
function settle(size: number): Promise<{ seconds: number; segments: number }> {
  const t0 = performance.now();
  return withClient(async (client) => {
    let quiet = 0;
    while (quiet < 3 && performance.now() - t0 < 900_000) {
      await new Promise((r) => setTimeout(r, 2000));
      const st = await client.indices.stats({ index: `${esPrefix(size)}-*`, metric: 'merge' });
      quiet = (st._all?.total?.merges?.current ?? 0) === 0 ? quiet + 1 : 0;
    }
    const seg = (await client.cat.segments({ index: `${esPrefix(size)}-chunks-*`, format: 'json', h: 'segment' })) as unknown[];
    return { seconds: (performance.now() - t0) / 1000, segments: seg.length };
  });
}

function esStoreBytes(size: number): Promise<number> {
  return withClient(async (client) => {
    const s = await client.indices.stats({ index: `${esPrefix(size)}-*`, metric: 'store' });
    return s._all?.total?.store?.size_in_bytes ?? 0;
  });
}

export async function backendsSection(
  size: number,
  repeat: number,
  log: (s: string) => void = console.log,
): Promise<Omit<SectionResult, 'section' | 'size' | 'at' | 'load' | 'seconds'>> {
  log(`writing ${sizeLabel(size)} chunks into both backends ...`);
  const built = await build(size, log);
  const es = await esProcess();
  const jvmAfterIngest = es ? rssOf(es.pid) : null;
  const settled = await settle(size);
  log(`  Elasticsearch merged its segments in ${settled.seconds.toFixed(0)} s (${settled.segments} chunk segments left)`);
  const lat: Record<Backend, Record<string, number[]>> = { embedded: { hybrid: [], bm25: [] }, elasticsearch: { hybrid: [], bm25: [] } };
  const rss: Record<Backend, number[]> = { embedded: [], elasticsearch: [] };
  // A B A B: each backend's child twice, in turn, so a slow moment of the machine hits both.
  for (let round = 0; round < 2; round++) {
    for (const b of BACKENDS) {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/run-ts.js'), 'bench/run.ts', 'backends-child', b, String(size), String(repeat)], {
        cwd: ROOT,
        env: process.env,
        encoding: 'utf8',
        maxBuffer: 64 * 2 ** 20,
        timeout: 1_800_000,
      });
      if (r.status !== 0) throw new Error(`search child (${b}) failed: ${r.stderr}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { lat: Record<string, number[]>; rss: number };
      for (const m of ['hybrid', 'bm25']) lat[b][m].push(...out.lat[m]);
      rss[b].push(out.rss);
    }
  }
  const jvm = es ? rssOf(es.pid) : null;
  const bytes = { embedded: dirBytes(path.dirname(embeddedFile(size))), elasticsearch: await esStoreBytes(size) };
  const row = (name: string, f: (b: Backend) => string) => [name, ...BACKENDS.map(f)];
  const queries = benchQueries().length;
  return {
    tables: [
      {
        title: `The two backends at ${sizeLabel(size)} chunks (${built.documents} documents; ${queries} queries × ${repeat} × 2 runs, public principal)`,
        header: ['figure', 'embedded (SQLite)', 'Elasticsearch'],
        rows: [
          row('ingest through Store.upsertDocument, chunks/s', (b) => fmt(built.chunks / built.seconds[b], 0)),
          row('ingest, s (vectors computed apart: ' + fmt(built.embedSeconds, 0) + ' s)', (b) => fmt(built.seconds[b], 0)),
          row('hybrid p50, ms', (b) => fmt(median(lat[b].hybrid), 1)),
          row('hybrid p95, ms', (b) => fmt(quantile(lat[b].hybrid, 0.95), 1)),
          row('bm25 p50, ms', (b) => fmt(median(lat[b].bm25), 1)),
          row('bm25 p95, ms', (b) => fmt(quantile(lat[b].bm25, 0.95), 1)),
          row('Node RSS after the searches, MB', (b) => fmt(mb(median(rss[b])), 0)),
          row('Elasticsearch JVM RSS after ingest / after the searches / peak, MB', (b) =>
            b === 'elasticsearch' && jvm
              ? `${fmt(mb(jvmAfterIngest?.rss ?? NaN), 0)} / ${fmt(mb(jvm.rss), 0)} / ${fmt(mb(jvm.peak), 0)} (heap max ${fmt(mb(es!.heapMax), 0)})`
              : '–',
          ),
          row('index on disk, MB', (b) => fmt(mb(bytes[b]), 0)),
          row('Elasticsearch: merging after the ingest, s (chunk segments left)', (b) =>
            b === 'elasticsearch' ? `${fmt(settled.seconds, 0)} (${settled.segments})` : '–',
          ),
        ],
        notes: [
          "Both stores get the same documents, vectors and queries. The embedded figures include writing the common-word lists at the end, as `innsikt ingest` does; Elasticsearch's include its refreshes (a write is visible when upsertDocument returns), and its searches start once its background merges are done. Elasticsearch runs on this same 2-core machine (the `npm run es:start` node, heap 1 GB), so its JVM competes with the benchmark for the cores; its RSS includes the page cache of its memory-mapped files (the vectors), which the OS may reclaim.",
        ],
      },
    ],
    notes: [],
    data: {
      label: sizeLabel(size),
      chunks: built.chunks,
      embeddedIngestRate: built.chunks / built.seconds.embedded,
      esIngestRate: built.chunks / built.seconds.elasticsearch,
      embeddedHybridP50: median(lat.embedded.hybrid),
      embeddedHybridP95: quantile(lat.embedded.hybrid, 0.95),
      esHybridP50: median(lat.elasticsearch.hybrid),
      esHybridP95: quantile(lat.elasticsearch.hybrid, 0.95),
      embeddedBm25P95: quantile(lat.embedded.bm25, 0.95),
      esBm25P95: quantile(lat.elasticsearch.bm25, 0.95),
      embeddedRssMB: mb(median(rss.embedded)),
      esNodeRssMB: mb(median(rss.elasticsearch)),
      esJvmRssMB: jvm ? mb(jvm.rss) : null,
      esJvmPeakMB: jvm ? mb(jvm.peak) : null,
      embeddedMB: mb(bytes.embedded),
      esMB: mb(bytes.elasticsearch),
      esSettleSeconds: settled.seconds,
      esSegments: settled.segments,
    },
  };
}
