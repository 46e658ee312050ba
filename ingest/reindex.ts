/**
 * `innsikt reindex`: rebuild GOLD from SILVER without reading a single original file, e.g.
 * after changing the embedding model or the analysis, or to move to another backend
 * (`--to elasticsearch`). The new index is built beside the live one (Store.rebuild(): a file
 * renamed into place, or new Elasticsearch indices behind the aliases) and readers switch to
 * it only when it is complete; a failure leaves the live index as it was.
 */

import type { Embedder } from '../indexes/embeddings/types.ts';
import type { Store } from '../indexes/store.ts';
import type { DataDir } from './data-dir.ts';
import { indexSilver } from './pipeline.ts';

export interface ReindexResult {
  documents: number;
  chunks: number;
  failed: { documentId: string; reason: string }[];
  tookMs: number;
  /** Where the new index was built (a file, index names). */
  target: string;
}

export async function reindex(store: Store, dataDir: DataDir, embedder: Embedder, onProgress?: (done: number, total: number) => void): Promise<ReindexResult> {
  const t0 = performance.now();
  const rebuild = await store.rebuild();
  const ids = dataDir.listSilverIds();
  const result: ReindexResult = { documents: 0, chunks: 0, failed: [], tookMs: 0, target: rebuild.target };
  try {
    onProgress?.(0, ids.length);
    for (const [i, id] of ids.entries()) {
      const doc = dataDir.readSilver(id);
      if (!doc) result.failed.push({ documentId: id, reason: 'silver file is unreadable' });
      else {
        try {
          result.chunks += await indexSilver({ store: rebuild.store, embedder }, doc);
          result.documents++;
        } catch (err) {
          result.failed.push({ documentId: id, reason: (err as Error).message });
        }
      }
      onProgress?.(i + 1, ids.length);
    }
  } catch (err) {
    await rebuild.abort();
    throw err;
  }
  await rebuild.commit();
  result.tookMs = Math.round(performance.now() - t0);
  return result;
}
