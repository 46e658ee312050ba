/**
 * Opening the index the way the CLI and the server both need it: the embedded store in the
 * data directory and the configured embedder, checked against the one the index was built
 * with. A mismatch is an error that says to reindex (never silently mixed vectors).
 */
import fs from 'node:fs';
import { SqliteStore } from './embedded/sqlite-store.ts';
import { openEmbedder as openConfiguredEmbedder } from './embeddings/index.ts';
import { assertSameEmbedder, type Embedder } from './embeddings/types.ts';
import { DataDir } from '../ingest/data-dir.ts';
import type { Config } from '../server/config.ts';

export interface OpenIndex {
  store: SqliteStore;
  embedder: Embedder;
  dataDir: DataDir;
}

export function openEmbedder(config: Config): Promise<Embedder> {
  return openConfiguredEmbedder(config.env);
}

export function checkEmbedder(store: SqliteStore, embedder: Embedder): void {
  if (store.stats().chunks === 0) return;
  assertSameEmbedder(store.embedderInfo(), embedder);
}

export async function openIndex(config: Config, opts: { checkEmbedder?: boolean } = {}): Promise<OpenIndex> {
  const dataDir = new DataDir(config.dataDir);
  fs.mkdirSync(dataDir.root, { recursive: true });
  const store = new SqliteStore(dataDir.indexFile);
  const embedder = await openEmbedder(config);
  if (opts.checkEmbedder !== false) {
    try {
      checkEmbedder(store, embedder);
    } catch (err) {
      store.close();
      throw err;
    }
  }
  return { store, embedder, dataDir };
}
