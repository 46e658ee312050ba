/**
 * The store seam: what every index backend offers (the embedded SQLite store in
 * indexes/embedded/, Elasticsearch in indexes/elasticsearch/). The server, the CLI and ingestion
 * depend on this interface only.
 *
 * - Asynchronous: a backend may be a network away.
 * - Keyed by document and chunk ids, never by a backend's row ids.
 * - Queries arrive parsed (indexes/analysis/query.ts, once per search, with the backend's
 *   vocabulary); filters and the caller's rights arrive as neutral values that each backend
 *   translates into its own query language.
 * - A principal is mandatory on every read, and each backend applies it inside every query
 *   (both legs, hydration, facets, documents, pages, meetings, cases). Methods named
 *   `*Unchecked` are the only reads that skip it: ingestion bookkeeping, never a user's read.
 */
import type { ParsedQuery, Vocabulary } from './analysis/query.ts';
import type {
  AccessLevel,
  BodyMeeting,
  CaseStep,
  Chunk,
  DocumentMeeting,
  DocumentSummary,
  Facets,
  ItemAtAGlance,
  MeetingView,
  PageText,
  Principal,
  SearchFilters,
  SilverDocument,
} from './types.ts';

/**
 * Totals above this are reported as "at least" (totalRelation 'gte'): counting every match of
 * a common word costs more than a reader gains from the exact number (Elasticsearch's
 * track_total_hits; both backends stop here).
 */
export const TOTAL_CAP = 1000;

/**
 * What every chunk of a document is also found by, in the weighted title field of both
 * backends: the title, the issuing organisation and the body (utvalg). A query naming Bykle or
 * Valgstyret finds each chunk of Bykle's election protocol, not only the one that repeats it.
 */
export function metadataText(doc: { title: string; organisation: string | null; body: string | null }): string {
  return [doc.title, doc.organisation, doc.body].filter(Boolean).join('\n');
}

export interface EmbedderInfo {
  id: string;
  dimensions: number;
}

export interface StoredDocument extends DocumentSummary {
  sha256: string;
  mediaType: string;
  paged: boolean;
  caseNumbers: string[];
  groups: string[];
  ingestedAt: string;
  pages: PageText[];
}

/** One ranked chunk of a leg, with what grouping and sorting by document need. */
export interface ScoredChunk {
  chunkId: string;
  documentId: string;
  date: string | null;
  score: number;
}

export interface LegResult {
  ranked: ScoredChunk[];
  /** Readable matches; a lower bound when totalRelation is 'gte' (the backend stopped counting). */
  total: number;
  totalRelation: 'eq' | 'gte';
}

export interface Bm25LegRequest {
  query: ParsedQuery;
  limit: number;
  /** The word (by index into query.words) that also matches as a prefix: the one being typed. */
  prefixWord?: number;
}

export interface VectorLegRequest {
  /** The query's embedding; only computed when the leg runs. */
  embedding: () => Promise<Float32Array>;
  limit: number;
  /** Cosine similarity below which the leg returns nothing. */
  minSimilarity: number;
  /**
   * Whether the leg is worth running, given the BM25 leg's result (null in vector mode). A
   * backend that runs both legs in one round trip (Elasticsearch's _msearch) may run it anyway;
   * the caller decides what to use.
   */
  when?: (bm25: LegResult | null) => boolean;
}

/** Both legs of one search: same principal, same filters, each applied inside its own query. */
export interface RankRequest {
  principal: Principal;
  filters?: SearchFilters;
  bm25?: Bm25LegRequest;
  vector?: VectorLegRequest;
}

export interface RankResult {
  bm25: LegResult | null;
  /** Null when the leg was not asked for or not run. */
  vector: ScoredChunk[] | null;
}

/** A chunk with its document's metadata, for results, snippets and answers. */
export interface ChunkRecord extends Chunk {
  title: string;
  source: string;
  /** The issuing organisation's name ("Bykle kommune", "Bydel Grünerløkka"), null when unknown. */
  organisation: string | null;
  kind: string;
  body: string | null;
  date: string | null;
  access: AccessLevel;
  /** Protocol chunks: their agenda item at a glance (case, outcome, vote). */
  item?: ItemAtAGlance;
}

/** Ingestion bookkeeping: what is stored of a document, without an access check. */
export interface DocumentMeta {
  id: string;
  source: string;
  sha256: string;
  access: AccessLevel;
  groups: string[];
  pageCount: number;
  chunkCount: number;
}

export interface StoreStats {
  documents: number;
  chunks: number;
  pages: number;
  indexBytes: number;
  embedder: EmbedderInfo | null;
  byAccess: Record<string, number>;
  byKind: Record<string, number>;
}

/**
 * Change counters for caches (server/result-cache.ts): `revoke` moves when a row that may
 * have been visible is gone or changed (a delete, a replace, an access change); `add` when
 * chunks were added. Every process writing the index moves them.
 */
export interface ChangeStamp {
  add: number;
  revoke: number;
}

export interface Revocations {
  /** The log position read up to (pass it as `since` next time). */
  to: number;
  /** False when entries after `since` were pruned, or there were too many to list. */
  complete: boolean;
  /** Some document's access or groups changed: who may read what changed. */
  readers: boolean;
  /** Documents deleted, replaced or changed. */
  documents: Set<string>;
}

/**
 * A rebuild of the whole index beside the live one (`innsikt reindex`): write every document
 * into `store`, then `commit()` switches readers to it at once (a file rename, an alias swap);
 * `abort()` throws it away and leaves the live index as it was.
 */
export interface Rebuild {
  store: Store;
  /** Where it is being built (a file, index names), for messages. */
  target: string;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface Store {
  readonly backend: 'embedded' | 'elasticsearch';

  /** The embedder the index was built with, or null for an empty index. */
  embedderInfo(): Promise<EmbedderInfo | null>;

  // --- Writes -------------------------------------------------------------------------------
  /**
   * Replace a document and all its chunks: a reader sees the old version or the new one,
   * never both, never half. Resolves only once every chunk is written and searchable.
   */
  upsertDocument(doc: SilverDocument, chunks: Chunk[], vectors: Float32Array[], embedder: EmbedderInfo): Promise<void>;
  deleteDocument(id: string): Promise<boolean>;
  /** Change access without re-reading the document; takes effect on every read at once. */
  setAccess(id: string, access: AccessLevel, groups: string[]): Promise<boolean>;

  // --- Ingestion bookkeeping (no access check) ------------------------------------------------
  documentMetaUnchecked(id: string): Promise<DocumentMeta | null>;
  /** Documents with these exact bytes. */
  documentsWithShaUnchecked(sha256: string): Promise<DocumentMeta[]>;

  // --- Query understanding --------------------------------------------------------------------
  /**
   * What the index knows of the words of `query` (for decompounding and typo matching): the
   * vocabulary parseQuery() consults, answering at least every lookup parsing `query` makes.
   */
  vocabulary(query: string): Promise<Vocabulary>;
  /** The exact forms of the query's words that match no chunk this principal may read. */
  unmatchedWords(query: ParsedQuery, principal: Principal): Promise<string[]>;

  // --- Reads (the principal is applied inside every query) -----------------------------------
  rank(req: RankRequest): Promise<RankResult>;
  /** Readable chunks by id (unreadable or missing ids are absent from the map). */
  chunks(ids: string[], principal: Principal): Promise<Map<string, ChunkRecord>>;
  /** Matching documents per body, year and kind (each counted without its own filter). */
  facets(query: ParsedQuery, req: { principal: Principal; filters?: SearchFilters }): Promise<Facets>;
  getDocument(id: string, principal: Principal): Promise<StoredDocument | null>;
  listDocuments(principal: Principal, opts?: { limit?: number; offset?: number }): Promise<DocumentSummary[]>;
  meetingsOfDocument(documentId: string, principal: Principal): Promise<DocumentMeeting[]>;
  getMeeting(documentId: string, index: number, principal: Principal): Promise<MeetingView | null>;
  /** One case (canonical "YYYY/N") followed across meetings and bodies, oldest first. */
  getCase(caseNorm: string, principal: Principal): Promise<CaseStep[]>;
  /** A body's meetings, newest first. */
  meetingsOfBody(body: string, principal: Principal): Promise<BodyMeeting[]>;

  // --- Caches, status, maintenance -------------------------------------------------------------
  /** Null when the backend cannot tell (then nothing may be cached). */
  changes(): Promise<ChangeStamp | null>;
  /** Documents revoked after log position `since` (-1: from now on). */
  revokedSince(since: number): Promise<Revocations | null>;
  stats(): Promise<StoreStats>;
  /** Backend details for `innsikt status` (cluster health, index names, common-word lists ...). */
  status(): Promise<Record<string, unknown>>;
  /** Work that makes reads faster after many writes (merging segments), within a budget. */
  optimize(budgetMs: number): Promise<string[]>;
  /** Start rebuilding the whole index beside this one (see Rebuild). */
  rebuild(): Promise<Rebuild>;
  /**
   * Whether the index behind this store was replaced by another process (a rebuild committed
   * elsewhere) so that it must be opened again; false for backends that switch by themselves.
   */
  replaced(): boolean;
  close(): Promise<void>;
}
