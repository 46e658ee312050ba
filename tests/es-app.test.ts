/**
 * Innsiktsbanken on Elasticsearch, end to end: the demo corpus ingested through the pipeline
 * into a real cluster (npm run es:start; CI sets ELASTICSEARCH_URL and INNSIKT_ES_REQUIRED=1),
 * the web app's access control with the demo's canaries (the same tests as the embedded store,
 * tests/canaries.ts), the same answers as the embedded store for the judged demo queries, and
 * the command line and server with INNSIKT_INDEX=elasticsearch.
 */

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { search, searchJson } from '../indexes/search.ts';
import type { Store } from '../indexes/store.ts';
import { PUBLIC_PRINCIPAL } from '../indexes/types.ts';
import { DataDir } from '../ingest/data-dir.ts';
import { DEMO_DIR, ingestDemo } from '../ingest/demo.ts';
import { shutdownExtractors } from '../ingest/extract/index.ts';
import type { IngestResult } from '../ingest/pipeline.ts';
import { createApp } from '../server/app.ts';
import { loadConfig, searchOptions } from '../server/config.ts';
import { canaryTests } from './canaries.ts';
import { dropEs, ES_SKIP, esEnv, openTestEs, testPrefix } from './es-harness.ts';
import { tempDir } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const INTERNAL_TOKEN = 'intern-nokkel-0123456789';
const BARNEVERN_TOKEN = 'barnevern-nokkel-0123456789';
const QUERIES: { query: string; expect: { file: string }[] }[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'fixtures/expected-queries.json'), 'utf8')).queries;

describe.skipIf(ES_SKIP !== null)(`Elasticsearch end to end${ES_SKIP ? ` (skipped: ${ES_SKIP})` : ''}`, () => {
  let es: Store;
  let embedded: SqliteStore;
  let results: IngestResult[];
  let app: ReturnType<typeof createApp>;
  const embedder = new LocalHashEmbedder();

  beforeAll(async () => {
    es = await openTestEs();
    const dataDir = new DataDir(tempDir());
    results = await ingestDemo({ store: es, embedder, dataDir, defaultAccess: 'public' });
    embedded = new SqliteStore(path.join(tempDir(), 'index.sqlite'));
    await ingestDemo({ store: embedded, embedder, dataDir: new DataDir(tempDir()), defaultAccess: 'public' });
    await shutdownExtractors();
    const config = loadConfig({ INNSIKT_DATA_DIR: dataDir.root, INNSIKT_TOKENS: `${INTERNAL_TOKEN}=internal;${BARNEVERN_TOKEN}=group:barnevern` });
    app = createApp({ store: es, embedder, dataDir, config, isReady: () => true });
  }, 180_000);
  afterAll(async () => {
    if (es) await dropEs(es);
    await embedded?.close();
  });

  it('ingests every demo document', () => {
    for (const r of results) expect(r.status, `${r.file}: ${r.reason}`).toBe('ok');
  });

  describe('access control over HTTP (the demo canaries)', () => {
    canaryTests(() => ({ app, results }), { internal: INTERNAL_TOKEN, group: BARNEVERN_TOKEN });
  });

  it('answers the judged demo queries like the embedded store: same top document, same shape', async () => {
    const opts = searchOptions(loadConfig({}));
    let sameTop = 0;
    for (const q of QUERIES) {
      const req = { query: q.query, limit: 10, principal: PUBLIC_PRINCIPAL };
      const a = searchJson(await search(embedded, embedder, req, opts));
      const b = searchJson(await search(es, embedder, req, opts));
      expect(Object.keys(b)).toEqual(Object.keys(a));
      expect(b.results.length > 0, q.query).toBe(a.results.length > 0);
      if (b.results[0]) expect(Object.keys(b.results[0]).sort()).toEqual(Object.keys(a.results[0]).sort());
      if (a.results[0]?.documentId === b.results[0]?.documentId) sameTop++;
      else console.log(`[es] "${q.query}": embedded ${a.results[0]?.documentId}, elasticsearch ${b.results[0]?.documentId}`);
      // Same snippets and pages where the same chunk comes first (both cut them in TypeScript).
      if (a.results[0] && a.results[0].chunkId === b.results[0]?.chunkId)
        expect(b.results[0]).toMatchObject({ snippet: a.results[0].snippet, page: a.results[0].page });
    }
    // Lucene's IDF and norms are not FTS5's: near-ties may fall the other way (npm run eval measures it).
    expect(sameTop / QUERIES.length).toBeGreaterThanOrEqual(0.9);
  });

  it('serves the results page, documents, meetings and cases from Elasticsearch', async () => {
    const page = await (await app.request('/?q=lekeplass')).text();
    expect(page).toContain('<li class="treff">');
    const id = results.find((r) => r.file.endsWith('2024-03-14-bydelsutvalget.pdf'))!.documentId!;
    const doc = await app.request(`/documents/${id}`);
    expect(doc.status).toBe(200);
    expect(await doc.text()).toContain(`/moter/${id}/0`);
    expect((await app.request(`/moter/${id}/0`)).status).toBe(200);
    expect((await app.request('/utvalg/Bydelsutvalget')).status).toBe(200);
    expect((await (await app.request('/healthz')).json()).backend).toBe('elasticsearch');
  });
});

describe.skipIf(ES_SKIP !== null)('the command line and the server on Elasticsearch', () => {
  const prefix = testPrefix();
  const dataDir = tempDir();
  const env = () => ({ ...process.env, ...esEnv(prefix), INNSIKT_DATA_DIR: dataDir, INNSIKT_INGEST_NICE: '0' });
  const innsikt = (...args: string[]) => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'innsikt.js'), ...args], { cwd: ROOT, env: env(), encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  afterAll(async () => {
    const s = await openTestEs(prefix);
    await dropEs(s);
  });

  it('ingests, searches, shows, deletes and reports its status with the same JSON', () => {
    const files = ['2024-03-14-bydelsutvalget.pdf', '2024-10-10-utredning-organisering-av-hjemmetjenesten.pdf'].map((f) => path.join(DEMO_DIR, f));
    const ingest = JSON.parse(innsikt('ingest', ...files, '--json'));
    expect(ingest.files.map((f: { status: string }) => f.status)).toEqual(['ok', 'ok']);
    expect(JSON.parse(innsikt('ingest', files[0], '--json')).files[0].status).toBe('unchanged');
    const res = JSON.parse(innsikt('search', 'hjemmetjenesten', '--json', '--limit', '3'));
    expect(Object.keys(res)).toEqual(['query', 'mode', 'tookMs', 'total', 'totalRelation', 'results']);
    expect(res.results[0].documentId).toBe(ingest.files[1].documentId);
    expect(JSON.parse(innsikt('search', 'hjemmetjenesten', '--json', '--as', 'public', '--year', '2019')).results).toEqual([]);
    const status = JSON.parse(innsikt('status', '--json'));
    expect(status).toMatchObject({ backend: 'elasticsearch', documents: 2 });
    expect(status.elasticsearch).toMatchObject({ health: expect.stringMatching(/green|yellow/), prefix });
    expect(Object.keys(status.elasticsearch.aliases)).toContain(`${prefix}-chunks-public`);
    expect(JSON.parse(innsikt('show', ingest.files[0].documentId, '--json')).id).toBe(ingest.files[0].documentId);
    innsikt('delete', ingest.files[0].documentId);
    expect(JSON.parse(innsikt('status', '--json')).documents).toBe(1);
  });

  it('reindex --to elasticsearch rebuilds from silver and swaps the aliases; --to embedded goes back', () => {
    const before = JSON.parse(innsikt('status', '--json')).elasticsearch;
    const re = JSON.parse(innsikt('reindex', '--to', 'elasticsearch', '--json'));
    expect(re).toMatchObject({ documents: 1, failed: [], backend: 'elasticsearch' });
    const after = JSON.parse(innsikt('status', '--json')).elasticsearch;
    expect(after.generation).toBe(before.generation + 1);
    expect(Object.values(after.aliases).every((i) => String(i).endsWith(`-v${after.generation}`))).toBe(true);
    expect(JSON.parse(innsikt('search', 'hjemmetjenesten', '--json')).results.length).toBeGreaterThan(0);
    const back = JSON.parse(innsikt('reindex', '--to', 'embedded', '--json'));
    expect(back).toMatchObject({ documents: 1, backend: 'embedded' });
    expect(fs.existsSync(path.join(dataDir, 'index.sqlite'))).toBe(true);
  });

  it('the server answers on Elasticsearch', async () => {
    const port = 3900 + (process.pid % 90);
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'innsikt.js'), 'serve', '--port', String(port)], { cwd: ROOT, env: env() });
    try {
      let health: { status: string; backend: string } | null = null;
      for (let i = 0; i < 100 && !health; i++) {
        await new Promise((r) => setTimeout(r, 200));
        health = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => (r.ok ? r.json() : null),
          () => null,
        );
      }
      expect(health).toMatchObject({ status: 'ok', backend: 'elasticsearch' });
      const api = await (await fetch(`http://127.0.0.1:${port}/api/v1/search?q=hjemmetjenesten`)).json();
      expect(api.results.length).toBeGreaterThan(0);
    } finally {
      child.kill();
    }
  });
});
