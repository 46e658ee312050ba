/** Small builders shared by tests. Real code paths, hand-made inputs. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import type { ChunkRecord } from '../indexes/store.ts';
import { type AccessLevel, ADMIN_PRINCIPAL, type Chunk, type Principal, type SilverDocument } from '../indexes/types.ts';

export const CORPUS = path.resolve(import.meta.dirname, '../../shared/corpus');
export const HAS_CORPUS = fs.existsSync(path.join(CORPUS, 'pdfs'));
export const NO_CORPUS_REASON = `../shared/corpus not found at ${CORPUS}: real-document tests skipped`;
if (!HAS_CORPUS) console.warn(`[skip] ${NO_CORPUS_REASON}`);

export function tempDir(prefix = 'innsikt-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function silverDoc(id: string, pages: string[], over: Partial<SilverDocument> = {}): SilverDocument {
  return {
    id,
    sha256: 'x'.repeat(64),
    source: `${id}.pdf`,
    mediaType: 'application/pdf',
    title: over.title ?? `Dokument ${id}`,
    kind: 'møteprotokoll',
    body: 'Bydelsutvalget',
    date: '2024-03-14',
    caseNumbers: [],
    access: 'public' as AccessLevel,
    groups: [],
    pages: pages.map((text, i) => ({ num: i + 1, text })),
    paged: true,
    extraction: { method: 'pdf-text', warnings: [] },
    ingestedAt: '2024-03-15T00:00:00.000Z',
    ...over,
  };
}

/** One chunk per page. */
export function pageChunks(doc: SilverDocument): Chunk[] {
  return doc.pages.map((p, i) => ({
    id: `${doc.id}:${i}`,
    documentId: doc.id,
    ord: i,
    heading: null,
    text: p.text,
    pageStart: p.num,
    pageEnd: p.num,
    pageBreaks: [],
  }));
}

/** A deterministic unit vector pointing mostly along axis `axis`. */
export function unitVector(dims: number, axis: number, noise = 0.01): Float32Array {
  const v = new Float32Array(dims);
  for (let i = 0; i < dims; i++) v[i] = noise * Math.sin(i * 7 + axis);
  v[axis % dims] = 1;
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}

/** Index documents one chunk per page, document i with a unit vector along axis i (8 dimensions). */
export function indexByPage(store: SqliteStore, docs: SilverDocument[]): void {
  docs.forEach((doc, i) => {
    const chunks = pageChunks(doc);
    store.upsertSync(
      doc,
      chunks,
      chunks.map(() => unitVector(8, i)),
      { id: 't', dimensions: 8 },
    );
  });
}

/** The chunks of ranked rows the principal may read, in rank order. */
export function rankedRecords(store: SqliteStore, ranked: { rowid: number }[], principal: Principal = ADMIN_PRINCIPAL): ChunkRecord[] {
  const recs = store.chunksByRowid(
    ranked.map((r) => r.rowid),
    principal,
  );
  return ranked.flatMap((r) => recs.get(r.rowid) ?? []);
}

/** The documents of ranked rows, in rank order (the admin reads every row). */
export const rankedDocs = (store: SqliteStore, ranked: { rowid: number }[]): string[] => rankedRecords(store, ranked).map((c) => c.documentId);
