/**
 * "Lignende dokumenter" on the document page: the documents nearest to this one in the
 * embedder's space, among those the caller may read (the vector leg's own access filter, on
 * every backend).
 *
 * The probe is the document's opening as its first chunk is embedded (title, then the start of
 * the text, as a passage), so with a semantic model (INNSIKT_EMBEDDER=e5) it finds decisions
 * and reports on the same matter in other words, and with the offline hashed embedder it finds
 * documents sharing its vocabulary. Other documents are ranked by their best chunk.
 */
import { embeddingText } from '../ingest/chunk.ts';
import type { Embedder } from './embeddings/types.ts';
import type { ChunkRecord, Store, StoredDocument } from './store.ts';
import type { Principal } from './types.ts';

/** A similar document: what its best chunk's record says of it, and how near it is. */
export type SimilarDocument = Pick<ChunkRecord, 'title' | 'source' | 'organisation' | 'kind' | 'body' | 'date'> & {
  documentId: string;
  /** Cosine of the probe and the document's best chunk. */
  similarity: number;
};

/** Characters of the document's text in the probe: about one chunk's worth. */
const PROBE_CHARS = 2000;
/** Chunks taken from the vector leg per document asked for, before grouping by document. */
const CHUNKS_PER_DOCUMENT = 12;

export function similarityProbe(doc: Pick<StoredDocument, 'title' | 'pages'>): string {
  const text = doc.pages
    .map((p) => p.text)
    .join('\n')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, PROBE_CHARS);
  return embeddingText(doc.title, { heading: null, text });
}

export async function similarDocuments(
  store: Store,
  embedder: Embedder,
  doc: Pick<StoredDocument, 'id' | 'title' | 'pages' | 'date' | 'body'>,
  principal: Principal,
  opts: { limit?: number; minSimilarity: number },
): Promise<SimilarDocument[]> {
  const probe = similarityProbe(doc);
  if (!probe.trim()) return [];
  const { vector } = await store.rank({
    principal,
    vector: {
      embedding: async () => (await embedder.embed([probe], 'document'))[0],
      limit: Math.max(60, (opts.limit ?? 5) * CHUNKS_PER_DOCUMENT),
      minSimilarity: opts.minSimilarity,
    },
  });
  const best = new Map<string, { chunkId: string; score: number }>();
  for (const v of vector ?? []) {
    if (v.documentId === doc.id) continue;
    if (!best.has(v.documentId)) best.set(v.documentId, { chunkId: v.chunkId, score: v.score });
  }
  const top = [...best.entries()].slice(0, (opts.limit ?? 5) * 2);
  const records = await store.chunks(
    top.map(([, b]) => b.chunkId),
    principal,
  );
  const out: SimilarDocument[] = [];
  const keyOf = (r: { title: string; date: string | null; body: string | null }) => `${r.title}\u0000${r.date ?? ''}\u0000${r.body ?? ''}`;
  const seen = new Set<string>([keyOf(doc)]);
  for (const [documentId, b] of top) {
    const r = records.get(b.chunkId);
    if (!r) continue;
    // A copy of a document under another name (same title, date and body) is not "similar", it is the same.
    const key = keyOf(r);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      documentId,
      title: r.title,
      source: r.source,
      organisation: r.organisation,
      kind: r.kind,
      body: r.body,
      date: r.date,
      similarity: b.score,
    });
    if (out.length >= (opts.limit ?? 5)) break;
  }
  return out;
}
