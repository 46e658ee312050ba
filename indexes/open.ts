/**
 * Opening the index the way the CLI and the server both need it: the embedded store in the
 * data directory and the configured embedder, checked against the one the index was built
 * with. A mismatch is an error that says to reindex (never silently mixed vectors).
 */
import fs from 'node:fs';
import { SqliteStore } from './embedded/sqlite-store.ts';
import { createEmbedder } from './embeddings/index.ts';
import { EmbedderMismatchError, type Embedder } from './embeddings/types.ts';
import { DataDir } from '../ingest/data-dir.ts';
import type { Config } from '../server/config.ts';

export interface OpenIndex {
  store: SqliteStore;
  embedder: Embedder;
  dataDir: DataDir;
}

export async function openEmbedder(config: Config): Promise<Embedder> {
  const embedder = createEmbedder(config.env) as Embedder & { init?: () => Promise<void> };
  if (typeof embedder.init === 'function') await embedder.init();
  return embedder;
}

export function checkEmbedder(store: SqliteStore, embedder: Embedder): void {
  const built = store.embedderInfo();
  if (!built || store.stats().chunks === 0) return;
  if (built.id !== embedder.id || built.dimensions !== embedder.dimensions) {
    throw new EmbedderMismatchError(
      `The index was built with embedding model ${built.id} (${built.dimensions} dimensions), but ${embedder.id} (${embedder.dimensions}) is configured. Run \`innsikt reindex\` to rebuild the index with the configured model.`,
    );
  }
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
