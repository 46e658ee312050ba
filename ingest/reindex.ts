/**
 * `innsikt reindex`: rebuild GOLD from SILVER without reading a single original file, e.g.
 * after changing the embedding model or the analysis. The new index is built beside the old
 * one and swapped in with a rename, so searches keep working until the new one is complete.
 */
import fs from 'node:fs';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { indexSilver } from './pipeline.ts';
import type { DataDir } from './data-dir.ts';
import type { Embedder } from '../indexes/embeddings/types.ts';

export interface ReindexResult {
  documents: number;
  chunks: number;
  failed: { documentId: string; reason: string }[];
  tookMs: number;
}

export async function reindex(
  dataDir: DataDir,
  embedder: Embedder,
  onProgress?: (done: number, total: number) => void,
): Promise<ReindexResult> {
  const t0 = performance.now();
  const target = `${dataDir.indexFile}.rebuild`;
  for (const s of ['', '-wal', '-shm']) fs.rmSync(target + s, { force: true });
  const store = new SqliteStore(target);
  const ids = dataDir.listSilverIds();
  const result: ReindexResult = { documents: 0, chunks: 0, failed: [], tookMs: 0 };
  try {
    for (const [i, id] of ids.entries()) {
      const doc = dataDir.readSilver(id);
      if (!doc) {
        result.failed.push({ documentId: id, reason: 'silver file is unreadable' });
        continue;
      }
      try {
        result.chunks += await indexSilver({ store, embedder }, doc);
        result.documents++;
      } catch (err) {
        result.failed.push({ documentId: id, reason: (err as Error).message });
      }
      onProgress?.(i + 1, ids.length);
    }
    store.compactSearchIndex(); // one segment: the new index is read far more than written
    store.db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    store.close();
  }
  for (const s of ['-wal', '-shm']) fs.rmSync(dataDir.indexFile + s, { force: true });
  fs.renameSync(target, dataDir.indexFile);
  for (const s of ['-wal', '-shm']) fs.rmSync(target + s, { force: true });
  result.tookMs = Math.round(performance.now() - t0);
  return result;
}
