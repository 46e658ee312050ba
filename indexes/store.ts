/**
 * The store seam: what every index backend (embedded SQLite now, Elasticsearch later) offers.
 * A principal is mandatory on every read; there is no read path without an access filter.
 */
import type {
  Chunk,
  DocumentSummary,
  PageText,
  Principal,
  SearchMode,
  SearchFilters,
  SilverDocument,
  AccessLevel,
} from './types.ts';
import type { AnalysisOptions } from './analysis/query.ts';
import type { ItemAtAGlance } from './embedded/protocol-tables.ts';

export interface StoredDocument extends DocumentSummary {
  sha256: string;
  mediaType: string;
  paged: boolean;
  caseNumbers: string[];
  groups: string[];
  ingestedAt: string;
  pages: PageText[];
}

/** One ranked chunk from the raw legs, before snippets are made. */
export interface RankedChunk {
  rowid: number;
  score: number;
}

export interface LegRequest {
  filters?: SearchFilters;
  principal: Principal;
  limit: number;
}

export interface ChunkRecord extends Chunk {
  title: string;
  source: string;
  kind: string;
  body: string | null;
  date: string | null;
  access: AccessLevel;
}

export interface StoreStats {
  documents: number;
  chunks: number;
  pages: number;
  indexBytes: number;
  embedder: { id: string; dimensions: number } | null;
  byAccess: Record<string, number>;
  byKind: Record<string, number>;
}

export interface Store {
  /** The embedder the index was built with, or null for an empty index. */
  embedderInfo(): { id: string; dimensions: number } | null;
  /** Atomically replace a document and all its chunks. */
  upsertDocument(doc: SilverDocument, chunks: Chunk[], vectors: Float32Array[], embedder: { id: string; dimensions: number }): void;
  deleteDocument(id: string): boolean;
  /** Change access without re-reading the document; takes effect on every read at once. */
  setAccess(id: string, access: AccessLevel, groups: string[]): boolean;
  getDocument(id: string, principal: Principal): StoredDocument | null;
  listDocuments(principal: Principal, opts?: { limit?: number; offset?: number }): DocumentSummary[];
  /** total counts readable matches; totalRelation 'gte' when it stopped counting (a lower bound). */
  bm25(
    query: string,
    req: LegRequest & { prefixLast?: boolean; analysis?: AnalysisOptions },
  ): { ranked: RankedChunk[]; total: number; totalRelation?: 'eq' | 'gte' };
  unmatchedTerms(query: string, req: Omit<LegRequest, 'limit'> & { analysis?: AnalysisOptions }): string[];
  vector(vector: Float32Array, req: LegRequest & { minSimilarity: number }): RankedChunk[];
  chunksByRowid(rowids: number[], principal: Principal): Map<number, ChunkRecord>;
  /** Protocol chunks: their agenda item at a glance (optional: stores without protocol tables). */
  chunkItems?(rowids: number[], principal: Principal): Map<number, ItemAtAGlance>;
  stats(): StoreStats;
  close(): void;
}

export type { SearchMode };
