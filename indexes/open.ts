/**
 * Opening the index the way the CLI and the server both need it: the configured backend and
 * the configured embedder, checked against the one the index was built with. A mismatch is an
 * error that says to reindex (never silently mixed vectors).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { IndexBackend, IndexConfig } from './config.ts';
import { SqliteStore } from './embedded/sqlite-store.ts';
import { openEmbedder as openConfiguredEmbedder } from './embeddings/index.ts';
import { assertSameEmbedder, type Embedder } from './embeddings/types.ts';
import type { Store } from './store.ts';

export interface OpenIndex {
  store: Store;
  embedder: Embedder;
}

export function openEmbedder(config: IndexConfig): Promise<Embedder> {
  return openConfiguredEmbedder(config.embedderEnv);
}

export async function checkEmbedder(store: Store, embedder: Embedder): Promise<void> {
  if ((await store.stats()).chunks === 0) return;
  assertSameEmbedder(await store.embedderInfo(), embedder);
}

/** The configured backend's store (or `backend`'s, for `innsikt reindex --to`), without an embedder check. */
export async function openStore(config: IndexConfig, backend: IndexBackend = config.backend): Promise<Store> {
  if (backend === 'elasticsearch') {
    // Loaded only when asked for: the embedded default never loads the Elasticsearch client.
    const { openElasticsearchStore } = await import('./elasticsearch/store.ts');
    return openElasticsearchStore(config.elasticsearch);
  }
  fs.mkdirSync(path.dirname(config.indexFile), { recursive: true });
  return new SqliteStore(config.indexFile);
}

export async function openIndex(config: IndexConfig, opts: { checkEmbedder?: boolean } = {}): Promise<OpenIndex> {
  const store = await openStore(config);
  try {
    const embedder = await openEmbedder(config);
    if (opts.checkEmbedder !== false) await checkEmbedder(store, embedder);
    return { store, embedder };
  } catch (err) {
    await store.close();
    throw err;
  }
}
