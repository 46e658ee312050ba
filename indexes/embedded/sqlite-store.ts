/**
 * The embedded store (GOLD layer on one machine): SQLite through better-sqlite3, FTS5 for BM25
 * and sqlite-vec's distance functions for the vector leg. No server to install.
 *
 * Invariants:
 * - A document and its pages, chunks, FTS rows and vectors change together in one
 *   transaction: a reader never sees half a document.
 * - chunks.rowid = chunks_fts.rowid = chunk_vectors.rowid.
 * - FTS rows hold ANALYSED text (stems; exact forms in `exact`), never the original; snippets
 *   are cut from chunks.text.
 * - Every read goes through accessClause() inside its own SQL.
 * - The vector leg scans chunk_vectors exactly while the index is small; from VECTOR_INDEX_MIN_VECTORS
 *   on it takes candidates from the int8 copy of vector-index.ts and rescores them here, in
 *   SQL, with the same access clause and filters. chunk_vectors stays the truth; the copy
 *   (index.sqlite.vectors/) is a cache kept current through the vector_log table.
 */

import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { analyze } from '../analysis/index.ts';
import { type AnalysisOptions, DEFAULT_ANALYSIS, type ParsedQuery, parseQuery, relaxPhrases, type Vocabulary } from '../analysis/query.ts';
import { Bm25Leg, type Bm25Result, type StatsScope } from './bm25-leg.ts';
import { ftsExpression, wordExpression } from './fts-query.ts';
import { loadNativeScorer } from './native.ts';
import { sqliteVarints } from './varints.ts';

export { BM25_WEIGHTS, COMMON, SHORT_CHUNK } from './bm25-leg.ts';

import { assertSameEmbedder } from '../embeddings/types.ts';
import type {
  ChangeStamp,
  ChunkRecord,
  DocumentMeta,
  EmbedderInfo,
  LegResult,
  RankRequest,
  RankResult,
  Rebuild,
  Revocations,
  ScoredChunk,
  Store,
  StoredDocument,
  StoreStats,
} from '../store.ts';
import { metadataText } from '../store.ts';
import type {
  AccessLevel,
  BodyMeeting,
  CaseStep,
  Chunk,
  DocumentMeeting,
  DocumentSummary,
  Facets,
  MeetingView,
  Principal,
  SearchFilters,
  SilverDocument,
} from '../types.ts';
import { type AccessClause, accessClause, accessScope } from './access.ts';
import { CHANGE_STAMP_SCHEMA, changeStamp, REVOKE_LOG_KEEP, revokedSince } from './change-stamp.ts';
import { meetingsOfDocument } from './document-meetings.ts';
import { facetCounts } from './facets.ts';
import {
  chunkItems,
  DECISION_CHUNK_SQL,
  getCase,
  getMeeting,
  meetingsOfBody,
  PROTOCOL_SCHEMA,
  removeChunkContext,
  writeChunkContext,
  writeProtocol,
} from './protocol-tables.ts';
import { VECTOR_LOG_SCHEMA, VectorIndex, type VectorIndexOptions } from './vector-index.ts';

/** One ranked chunk of a leg inside the embedded store: its SQLite rowid (never leaves the store). */
export interface RankedRow {
  rowid: number;
  score: number;
}

/** What the internal legs are asked: the best `limit` rows for this principal and filters. */
export interface LegRequest {
  filters?: SearchFilters;
  principal: Principal;
  limit: number;
}

const SCHEMA_VERSION = '1';

/**
 * From this many vectors on, the vector leg takes its candidates from the int8 copy
 * (vector-index.ts) instead of scanning chunk_vectors in SQL. Measured with `npm run bench`
 * (docs/benchmarks.md): sqlite-vec's exact cosine scan of 2048-dimensional float32 vectors costs
 * about 7 ms per 1000 vectors (70 ms at 10k, 0.7 s at 100k, 7 s at 1M); the int8 scan about
 * 0.06 ms per 1000, plus 1-2 ms of exact rescoring. At 2000 vectors the SQL scan is ~14 ms and
 * needs no second copy of the vectors.
 */
export const VECTOR_INDEX_MIN_VECTORS = 2_000;

/**
 * A filter on documents that at most this share of the readable documents pass is listed as
 * its rows (SqliteStore.allowedRows) for the legs to rank within. Measured at 1M chunks with a
 * year (3% of the rows): BM25 leg 226-469 -> 42-84 ms on all-common queries; vector leg (limit
 * 100) 116-208 -> 36-76 ms.
 */
export const ALLOW_LIST_SHARE = 0.1;

export interface SqliteStoreOptions {
  readonly?: boolean;
  /**
   * The int8 vector copy (vector-index.ts): false for the exact scan in SQL always; options to
   * tune it (`minVectors` overrides VECTOR_INDEX_MIN_VECTORS, e.g. 0 in tests).
   */
  vectorIndex?: false | (VectorIndexOptions & { minVectors?: number });
  /** Which words get a common-word list (bm25-leg.ts COMMON), e.g. lower in tests. */
  common?: { share?: number; minDf?: number };
  /** Rank from the common-word lists when it can (common-postings.ts); false for FTS5 always, for comparing. */
  commonPostings?: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
  id TEXT PRIMARY KEY,
  sha256 TEXT NOT NULL,
  source TEXT NOT NULL,
  media_type TEXT NOT NULL,
  title TEXT NOT NULL,
  organisation TEXT,
  kind TEXT NOT NULL,
  body TEXT,
  date TEXT,
  case_numbers TEXT NOT NULL DEFAULT '[]',
  access TEXT NOT NULL CHECK (access IN ('public', 'internal', 'protected')),
  groups TEXT NOT NULL DEFAULT '[]',
  paged INTEGER NOT NULL,
  page_count INTEGER NOT NULL,
  ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
CREATE TABLE IF NOT EXISTS pages (
  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  num INTEGER,
  text TEXT NOT NULL,
  PRIMARY KEY (document_id, idx)
);
CREATE TABLE IF NOT EXISTS chunks (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ord INTEGER NOT NULL,
  heading TEXT,
  text TEXT NOT NULL,
  page_start INTEGER,
  page_end INTEGER,
  page_breaks TEXT NOT NULL DEFAULT '[]',
  chars INTEGER,
  -- The row's tokens in chunks_fts (all columns): per-caller average lengths (bm25-leg.ts).
  tokens INTEGER
);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks(document_id);
-- Chunk rowid -> document, narrow: queries that visit every match of a common word (facet
-- counts, per-caller BM25 statistics, filtered BM25) read this instead of the chunk rows with
-- their text (3x faster at 100k chunks). Joins name it (INDEXED BY): the planner prefers rowid.
CREATE INDEX IF NOT EXISTS chunks_rowid_doc ON chunks(rowid, document_id, tokens);
-- Every token ever indexed (stems and exact forms): the vocabulary for decompounding and typo
-- matching. fts5vocab answers the same, but counts each term's documents on every lookup (tens
-- of milliseconds per query at 100k chunks). Terms of deleted documents stay: they only add
-- alternatives that match nothing.
CREATE TABLE IF NOT EXISTS vocab (term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunk_vectors (rowid INTEGER PRIMARY KEY, embedding BLOB NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  title, heading, body, exact,
  tokenize = 'unicode61 remove_diacritics 0',
  content = '', contentless_delete = 1
);
`;

/** The identity of the file at `file` (device and inode), or null when there is none. */
function fileIdentity(file: string): string | null {
  try {
    const s = fs.statSync(file);
    return `${s.dev}:${s.ino}`;
  } catch {
    return null;
  }
}

function toBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Whose rows the BM25 statistics count for this caller (bm25-leg.ts): its access scope. */
function statsScope(principal: Principal): StatsScope {
  return { key: accessScope(principal), acl: accessClause(principal) };
}

export function filterClause(filters: SearchFilters | undefined): { sql: string; params: Record<string, unknown>; chunkLevel?: boolean } {
  const parts: string[] = [];
  const params: Record<string, unknown> = {};
  if (!filters) return { sql: '1 = 1', params };
  if (filters.kind?.length) {
    parts.push(`d.kind IN (SELECT value FROM json_each(@f_kind))`);
    params.f_kind = JSON.stringify(filters.kind);
  }
  if (filters.body?.length) {
    parts.push(`d.body IN (SELECT value FROM json_each(@f_body))`);
    params.f_body = JSON.stringify(filters.body);
  }
  if (filters.organisation?.length) {
    parts.push(`d.organisation IN (SELECT value FROM json_each(@f_org))`);
    params.f_org = JSON.stringify(filters.organisation);
  }
  if (filters.dateFrom) {
    parts.push(`d.date >= @f_from`);
    params.f_from = filters.dateFrom;
  }
  if (filters.dateTo) {
    parts.push(`d.date <= @f_to`);
    params.f_to = filters.dateTo;
  }
  if (filters.decisionsOnly) parts.push(DECISION_CHUNK_SQL);
  if (filters.documentId) {
    parts.push(`d.id = @f_doc`);
    params.f_doc = filters.documentId;
  }
  // chunkLevel: the clause looks at chunks (c), not only at documents (d).
  return { sql: parts.length ? parts.join(' AND ') : '1 = 1', params, chunkLevel: !!filters.decisionsOnly };
}

/** FTS5 MATCH expression for a query (kept for callers that have no store at hand). */
export function ftsMatchExpression(query: string, prefixLast = false, analysis: AnalysisOptions = DEFAULT_ANALYSIS): string | null {
  const q = parseQuery(query, analysis, null);
  return ftsExpression(q, { prefixWord: prefixLast ? q.words.length - 1 : undefined });
}

interface DocRow {
  id: string;
  sha256: string;
  source: string;
  media_type: string;
  title: string;
  organisation: string | null;
  kind: string;
  body: string | null;
  date: string | null;
  case_numbers: string;
  access: AccessLevel;
  groups: string;
  paged: number;
  page_count: number;
  ingested_at: string;
  chunk_count?: number;
}

function summary(r: DocRow): DocumentSummary {
  return {
    id: r.id,
    title: r.title,
    source: r.source,
    organisation: r.organisation ?? null,
    kind: r.kind,
    body: r.body,
    date: r.date,
    access: r.access,
    pageCount: r.page_count,
    chunkCount: r.chunk_count ?? 0,
  };
}

export class SqliteStore implements Store {
  readonly backend = 'embedded' as const;
  readonly db: Database.Database;
  readonly file: string;
  private readonly vectorIndexOptions: false | (VectorIndexOptions & { minVectors: number });
  private vectors: VectorIndex | null = null;
  /** Log position at which the index was last found too small for the int8 copy. */
  private vectorIndexCheckedAt = -1;
  /** The BM25 leg (bm25-leg.ts): planning, ranking, document-frequency cache. */
  readonly bm25Leg: Bm25Leg;

  /** The index file's identity (device and inode) when opened, to notice a rebuild's rename. */
  private readonly identity: string | null;

  constructor(file: string, opts: SqliteStoreOptions = {}) {
    this.file = file;
    this.identity = file === ':memory:' ? null : fileIdentity(file);
    this.vectorIndexOptions = opts.vectorIndex === false ? false : { minVectors: VECTOR_INDEX_MIN_VECTORS, ...opts.vectorIndex };
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file, { readonly: opts.readonly ?? false });
    this.identity ??= file === ':memory:' ? null : fileIdentity(file);
    sqliteVec.load(this.db);
    this.bm25Leg = new Bm25Leg(this.db, loadNativeScorer(this.db), { common: opts.common, postings: opts.commonPostings });
    if (!opts.readonly) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.pragma('foreign_keys = ON');
    if (!opts.readonly) {
      this.db.exec(SCHEMA);
      this.db.exec(PROTOCOL_SCHEMA);
      // Indexes written before documents.organisation existed: add it (null until a reindex).
      const docCols = this.db.prepare(`PRAGMA table_info(documents)`).all() as { name: string }[];
      if (!docCols.some((c) => c.name === 'organisation')) this.db.exec(`ALTER TABLE documents ADD COLUMN organisation TEXT`);
      // Indexes written before chunks.chars existed: add and fill it once.
      const cols = this.db.prepare(`PRAGMA table_info(chunks)`).all() as { name: string }[];
      if (!cols.some((c) => c.name === 'chars')) this.db.exec(`ALTER TABLE chunks ADD COLUMN chars INTEGER`);
      this.db.exec(`UPDATE chunks SET chars = length(text) WHERE chars IS NULL`);
      this.addTokenCounts(cols.some((c) => c.name === 'tokens'));
      this.db.exec(VECTOR_LOG_SCHEMA);
      this.db.exec(CHANGE_STAMP_SCHEMA);
      this.db.prepare(`INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)`).run(SCHEMA_VERSION);
      // Indexes written before the vocab table existed: fill it once from FTS5's own dictionary.
      if (this.meta('vocab_filled') !== '1') {
        this.db.transaction(() => {
          this.db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab USING fts5vocab(main, 'chunks_fts', 'row')`);
          this.db.exec(`INSERT OR IGNORE INTO vocab (term) SELECT term FROM temp.fts_vocab`);
          this.setMeta('vocab_filled', '1');
        })();
      }
    }
  }

  /**
   * Indexes written before chunks.tokens existed: add the column, fill it from FTS5's own row
   * sizes (%_docsize: a varint per column), and widen the narrow index to cover it.
   */
  private addTokenCounts(hasColumn: boolean): void {
    if (!hasColumn) this.db.exec(`ALTER TABLE chunks ADD COLUMN tokens INTEGER`);
    const covered = (this.db.prepare(`PRAGMA index_info(chunks_rowid_doc)`).all() as { name: string }[]).some((c) => c.name === 'tokens');
    if (!covered) {
      this.db.exec(`DROP INDEX IF EXISTS chunks_rowid_doc; CREATE INDEX chunks_rowid_doc ON chunks(rowid, document_id, tokens);`);
    }
    const missing = this.db.prepare(`SELECT d.id AS id, d.sz AS sz FROM chunks_fts_docsize d JOIN chunks c ON c.rowid = d.id WHERE c.tokens IS NULL`).all() as {
      id: number;
      sz: Buffer;
    }[];
    if (!missing.length) return;
    const set = this.db.prepare(`UPDATE chunks SET tokens = ? WHERE rowid = ?`);
    this.db.transaction(() => {
      for (const r of missing)
        set.run(
          sqliteVarints(r.sz).reduce((a, b) => a + b, 0),
          BigInt(r.id),
        );
    })();
  }

  private vocabStmts: { has: Database.Statement; prefix: Database.Statement } | null = null;
  /** The index's term dictionary (stems and exact forms), for decompounding and typo matching. */
  readonly vocab: Vocabulary = {
    has: (token) => !!this.vocabLookups().has.get(token),
    withPrefix: (prefix, limit) => this.vocabLookups().prefix.all(prefix, prefix + '\uffff', limit) as string[],
  };

  /** Prepared once: parsing a query looks up many candidate words. */
  private vocabLookups(): { has: Database.Statement; prefix: Database.Statement } {
    if (!this.vocabStmts) {
      // A read-only store on a file from before the vocab table: ask FTS5 (slower).
      const filled = this.db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'vocab'`).get() && this.meta('vocab_filled') === '1';
      if (!filled) this.db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_vocab USING fts5vocab(main, 'chunks_fts', 'row')`);
      const source = filled ? 'vocab' : 'temp.fts_vocab';
      this.vocabStmts = {
        has: this.db.prepare(`SELECT 1 FROM ${source} WHERE term = ?`),
        prefix: this.db.prepare(`SELECT term FROM ${source} WHERE term >= ? AND term < ? LIMIT ?`).pluck(),
      };
    }
    return this.vocabStmts;
  }

  /** The query as this index understands it (expansions looked up in its vocabulary). */
  parse(query: string, analysis: AnalysisOptions = DEFAULT_ANALYSIS) {
    return parseQuery(query, analysis, this.vocab);
  }

  private meta(key: string): string | null {
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = ?`).get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  private setMeta(key: string, value: string): void {
    this.db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`).run(key, value);
  }

  /** Change counters for caches (change-stamp.ts); null on an old file opened read-only. */
  async changes(): Promise<ChangeStamp | null> {
    return changeStamp(this.db);
  }

  /** Documents revoked after revocation log position `since` (change-stamp.ts). */
  async revokedSince(since: number): Promise<Revocations | null> {
    return revokedSince(this.db, since);
  }

  async embedderInfo(): Promise<EmbedderInfo | null> {
    return this.embedderInfoSync();
  }

  private embedderInfoSync(): EmbedderInfo | null {
    const id = this.meta('embedder_id');
    const dims = this.meta('embedder_dimensions');
    if (!id || !dims) return null;
    return { id, dimensions: Number(dims) };
  }

  async upsertDocument(doc: SilverDocument, chunks: Chunk[], vectors: Float32Array[], embedder: EmbedderInfo): Promise<void> {
    this.upsertSync(doc, chunks, vectors, embedder);
  }

  /** upsertDocument(), synchronously: one transaction (bench and tests write many at once). */
  upsertSync(doc: SilverDocument, chunks: Chunk[], vectors: Float32Array[], embedder: EmbedderInfo): void {
    if (vectors.length !== chunks.length) throw new Error(`upsertDocument: ${chunks.length} chunks but ${vectors.length} vectors`);
    for (const v of vectors) {
      if (v.length !== embedder.dimensions) throw new Error(`upsertDocument: vector of ${v.length} dimensions, expected ${embedder.dimensions}`);
    }
    const tx = this.db.transaction(() => {
      const current = this.embedderInfoSync();
      const count = (this.db.prepare(`SELECT count(*) AS n FROM chunks`).get() as { n: number }).n;
      if (count > 0) assertSameEmbedder(current, embedder);
      if (!current || current.id !== embedder.id || current.dimensions !== embedder.dimensions) {
        this.setMeta('embedder_id', embedder.id);
        this.setMeta('embedder_dimensions', String(embedder.dimensions));
      }
      // Re-ingested with other rights (ingest --access): for caches that is an access change,
      // not a delete (change-stamp.ts), so every cached result goes, counts included.
      const before = this.documentMetaSync(doc.id);
      if (before && (before.access !== doc.access || JSON.stringify(before.groups) !== JSON.stringify(doc.groups))) {
        this.db.prepare(`INSERT INTO revoke_log (document_id, readers) VALUES (?, 1)`).run(doc.id);
      }
      this.removeDocumentRows(doc.id);
      this.db
        .prepare(
          `INSERT INTO documents (id, sha256, source, media_type, title, organisation, kind, body, date, case_numbers, access, groups, paged, page_count, ingested_at)
           VALUES (@id, @sha256, @source, @mediaType, @title, @organisation, @kind, @body, @date, @caseNumbers, @access, @groups, @paged, @pageCount, @ingestedAt)`,
        )
        .run({
          id: doc.id,
          sha256: doc.sha256,
          source: doc.source,
          mediaType: doc.mediaType,
          title: doc.title,
          organisation: doc.organisation?.name ?? null,
          kind: doc.kind,
          body: doc.body,
          date: doc.date,
          caseNumbers: JSON.stringify(doc.caseNumbers),
          access: doc.access,
          groups: JSON.stringify(doc.groups),
          paged: doc.paged ? 1 : 0,
          pageCount: doc.pages.length,
          ingestedAt: doc.ingestedAt,
        });
      writeProtocol(this.db, doc);
      const insPage = this.db.prepare(`INSERT INTO pages (document_id, idx, num, text) VALUES (?, ?, ?, ?)`);
      doc.pages.forEach((p, i) => insPage.run(doc.id, i, p.num, p.text));
      const insChunk = this.db.prepare(
        `INSERT INTO chunks (rowid, id, document_id, ord, heading, text, page_start, page_end, page_breaks, chars, tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      // Rowids come from a counter that never goes back, so a rowid never names a second chunk
      // (SQLite would reuse the largest after a delete). The BM25 leg keeps row lengths by rowid.
      let nextRowid =
        Math.max(Number(this.meta('chunk_rowid_high') ?? 0), this.db.prepare(`SELECT coalesce(max(rowid), 0) FROM chunks`).pluck().get() as number) + 1;
      const insFts = this.db.prepare(`INSERT INTO chunks_fts (rowid, title, heading, body, exact) VALUES (?, ?, ?, ?, ?)`);
      const insVec = this.db.prepare(`INSERT INTO chunk_vectors (rowid, embedding) VALUES (?, ?)`);
      const insVocab = this.db.prepare(`INSERT OR IGNORE INTO vocab (term) VALUES (?)`);
      const terms = new Set<string>();
      const title = analyze(metadataText({ ...doc, organisation: doc.organisation?.name ?? null }));
      chunks.forEach((c, i) => {
        const rowid = BigInt(nextRowid++);
        const heading = analyze(c.heading ?? '');
        const body = analyze(c.text);
        // What FTS5 counts as the row's length: the tokens of all four columns.
        const tokens = 2 * (title.stems.length + heading.stems.length + body.stems.length);
        insChunk.run(rowid, c.id, doc.id, c.ord, c.heading, c.text, c.pageStart, c.pageEnd, JSON.stringify(c.pageBreaks), c.text.length, tokens);
        insFts.run(rowid, title.stems.join(' '), heading.stems.join(' '), body.stems.join(' '), [...title.exact, ...heading.exact, ...body.exact].join(' '));
        insVec.run(rowid, toBlob(vectors[i]));
        writeChunkContext(this.db, rowid, c);
        for (const a of [title, heading, body]) {
          for (const t of a.stems) terms.add(t);
          for (const t of a.exact) terms.add(t);
        }
      });
      for (const t of terms) insVocab.run(t);
      this.setMeta('chunk_rowid_high', String(nextRowid - 1));
    });
    tx();
  }

  private removeDocumentRows(id: string): void {
    // A replaced or deleted document can change document frequencies without changing the row
    // count, which is all the cache watches for additions (bm25-leg.ts).
    if (this.db.prepare(`SELECT 1 FROM chunks WHERE document_id = ? LIMIT 1`).get(id)) this.bm25Leg.invalidate();
    removeChunkContext(this.db, id);
    this.db.prepare(`DELETE FROM chunks_fts WHERE rowid IN (SELECT rowid FROM chunks WHERE document_id = ?)`).run(id);
    this.db.prepare(`DELETE FROM chunk_vectors WHERE rowid IN (SELECT rowid FROM chunks WHERE document_id = ?)`).run(id);
    this.db.prepare(`DELETE FROM chunks WHERE document_id = ?`).run(id);
    this.db.prepare(`DELETE FROM pages WHERE document_id = ?`).run(id);
    this.db.prepare(`DELETE FROM documents WHERE id = ?`).run(id);
    this.pruneRevokeLog();
  }

  /** Keep the newest REVOKE_LOG_KEEP entries of the revocation log (change-stamp.ts). */
  private pruneRevokeLog(): void {
    this.db.prepare(`DELETE FROM revoke_log WHERE seq <= (SELECT max(seq) FROM revoke_log) - ${REVOKE_LOG_KEEP}`).run();
  }

  async deleteDocument(id: string): Promise<boolean> {
    let existed = false;
    this.db.transaction(() => {
      existed = !!this.db.prepare(`SELECT 1 FROM documents WHERE id = ?`).get(id);
      this.removeDocumentRows(id);
    })();
    return existed;
  }

  async setAccess(id: string, access: AccessLevel, groups: string[]): Promise<boolean> {
    return this.db.transaction(() => {
      const info = this.db
        .prepare(`UPDATE documents SET access = ?, groups = ? WHERE id = ?`)
        .run(access, JSON.stringify(access === 'protected' ? groups : []), id);
      this.pruneRevokeLog();
      return info.changes > 0;
    })();
  }

  private static readonly META_SQL = `SELECT id, source, sha256, access, groups, page_count AS pageCount,
      (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) AS chunkCount FROM documents d`;

  private static meta(r: Omit<DocumentMeta, 'groups'> & { groups: string }): DocumentMeta {
    return { ...r, groups: JSON.parse(r.groups) };
  }

  private documentMetaSync(id: string): DocumentMeta | null {
    const r = this.db.prepare(`${SqliteStore.META_SQL} WHERE id = ?`).get(id) as (Omit<DocumentMeta, 'groups'> & { groups: string }) | undefined;
    return r ? SqliteStore.meta(r) : null;
  }

  /** Document metadata by id WITHOUT an access check: only for ingestion bookkeeping. */
  async documentMetaUnchecked(id: string): Promise<DocumentMeta | null> {
    return this.documentMetaSync(id);
  }

  /** Documents with these exact bytes WITHOUT an access check: only for ingestion bookkeeping. */
  async documentsWithShaUnchecked(sha256: string): Promise<DocumentMeta[]> {
    return (this.db.prepare(`${SqliteStore.META_SQL} WHERE sha256 = ? ORDER BY id`).all(sha256) as (Omit<DocumentMeta, 'groups'> & { groups: string })[]).map(
      SqliteStore.meta,
    );
  }

  async getDocument(id: string, principal: Principal): Promise<StoredDocument | null> {
    const acl = accessClause(principal);
    const r = this.db
      .prepare(
        `SELECT d.*, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) AS chunk_count
         FROM documents d WHERE d.id = @id AND ${acl.sql}`,
      )
      .get({ id, ...acl.params }) as DocRow | undefined;
    if (!r) return null;
    const pages = this.db.prepare(`SELECT num, text FROM pages WHERE document_id = ? ORDER BY idx`).all(id) as { num: number | null; text: string }[];
    return {
      ...summary(r),
      sha256: r.sha256,
      mediaType: r.media_type,
      paged: r.paged === 1,
      caseNumbers: JSON.parse(r.case_numbers),
      groups: JSON.parse(r.groups),
      ingestedAt: r.ingested_at,
      pages,
    };
  }

  async listDocuments(principal: Principal, opts: { limit?: number; offset?: number } = {}): Promise<DocumentSummary[]> {
    const acl = accessClause(principal);
    const rows = this.db
      .prepare(
        `SELECT d.*, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) AS chunk_count
         FROM documents d WHERE ${acl.sql} ORDER BY d.date DESC NULLS LAST, d.title LIMIT @limit OFFSET @offset`,
      )
      .all({ ...acl.params, limit: opts.limit ?? 100, offset: opts.offset ?? 0 }) as DocRow[];
    return rows.map(summary);
  }

  async vocabulary(_query: string): Promise<Vocabulary> {
    return this.vocab;
  }

  async unmatchedWords(query: ParsedQuery, principal: Principal): Promise<string[]> {
    const acl = accessClause(principal);
    const stmt = this.db.prepare(
      `SELECT 1 FROM chunks_fts JOIN chunks c ON c.rowid = chunks_fts.rowid JOIN documents d ON d.id = c.document_id
       WHERE chunks_fts MATCH @match AND ${acl.sql} LIMIT 1`,
    );
    return query.words.filter((w) => !stmt.get({ match: wordExpression(w), ...acl.params })).map((w) => w.exact);
  }

  async rank(req: RankRequest): Promise<RankResult> {
    let bm25: (Bm25Result & { rows?: RankedRow[] }) | null = null;
    if (req.bm25)
      bm25 = this.bm25Rows(req.bm25.query, { principal: req.principal, filters: req.filters, limit: req.bm25.limit, prefixWord: req.bm25.prefixWord });
    let vector: RankedRow[] | null = null;
    const bm25Out: LegResult | null = bm25 ? { ranked: [], total: bm25.total, totalRelation: bm25.totalRelation } : null;
    if (bm25Out) bm25Out.ranked = this.scored(bm25!.ranked);
    if (req.vector && (req.vector.when?.(bm25Out) ?? true)) {
      const embedding = await req.vector.embedding();
      vector = this.vectorRows(embedding, { principal: req.principal, filters: req.filters, limit: req.vector.limit, minSimilarity: req.vector.minSimilarity });
    }
    return { bm25: bm25Out, vector: vector ? this.scored(vector) : null };
  }

  /** Rows to chunk ids (with document and date, for grouping), in rank order. */
  private scored(rows: RankedRow[]): ScoredChunk[] {
    if (!rows.length) return [];
    const found = new Map(
      (
        this.db
          .prepare(
            `SELECT c.rowid AS rowid, c.id AS id, c.document_id AS documentId, d.date AS date
             FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.rowid IN (SELECT value FROM json_each(?))`,
          )
          .all(JSON.stringify(rows.map((r) => r.rowid))) as { rowid: number; id: string; documentId: string; date: string | null }[]
      ).map((r) => [r.rowid, r]),
    );
    const out: ScoredChunk[] = [];
    for (const r of rows) {
      const f = found.get(r.rowid);
      if (f) out.push({ chunkId: f.id, documentId: f.documentId, date: f.date, score: r.score });
    }
    return out;
  }

  /**
   * The BM25 leg on rowids (inside the store, and for tests of its parts): a query string is
   * parsed with this index's vocabulary. A quoted phrase that occurs nowhere is left to the
   * caller (search.ts relaxes it).
   */
  bm25Rows(query: string | ParsedQuery, req: LegRequest & { prefixWord?: number; prefixLast?: boolean; analysis?: AnalysisOptions }): Bm25Result {
    const q = typeof query === 'string' ? this.parse(query, req.analysis) : query;
    const scope = statsScope(req.principal);
    const prefixWord = req.prefixWord ?? (req.prefixLast ? q.words.length - 1 : undefined);
    const plan = this.bm25Leg.plan(q, prefixWord, scope);
    if (!plan) return { ranked: [], total: 0, totalRelation: 'eq' };
    const filter = filterClause(req.filters);
    return this.bm25Leg.rank(plan, { limit: req.limit, acl: scope.acl, filter, allow: () => this.allowedRows(scope.key, scope.acl, filter) });
  }

  /** The MATCH expression the BM25 leg runs for this query (the facet counts count its rows). */
  matchExpression(query: string | ParsedQuery, analysis?: AnalysisOptions): string | null {
    const q = typeof query === 'string' ? this.parse(query, analysis) : query;
    return ftsExpression(q);
  }

  async facets(query: ParsedQuery, req: { principal: Principal; filters?: SearchFilters }): Promise<Facets> {
    return facetCounts(this, query, req);
  }

  /** The vector leg on rowids (inside the store, and for tests of its parts). */
  vectorRows(vector: Float32Array, req: LegRequest & { minSimilarity: number }): RankedRow[] {
    const index = this.vectorIndex();
    if (index) {
      const acl = accessClause(req.principal);
      const f = filterClause(req.filters);
      const scopeKey = statsScope(req.principal).key;
      try {
        const ranked = index.search(vector, {
          acl,
          limit: req.limit,
          minSimilarity: req.minSimilarity,
          rescore: (rowids, limit) => this.vectorScan(vector, acl, f, req.minSimilarity, limit, rowids),
          // A filter on chunks (decisions only) has no share of documents: the scan widens itself.
          filterShare: f.sql === '1 = 1' || f.chunkLevel ? undefined : () => this.filterFacts(scopeKey, acl, f).share,
          allow: () => this.allowedRows(scopeKey, acl, f),
        });
        if (ranked) return ranked;
      } catch (err) {
        // The int8 copy is a cache: if it fails, answer exactly (slower) and start afresh.
        console.error(`[innsikt] vector index failed, using the exact scan: ${(err as Error).message}`);
        this.vectors = null;
        this.vectorIndexCheckedAt = -1;
      }
    }
    return this.vectorExactRows(vector, req);
  }

  /** The exact vector leg: every readable vector compared in SQL (the reference for recall). */
  vectorExactRows(vector: Float32Array, req: LegRequest & { minSimilarity: number }): RankedRow[] {
    return this.vectorScan(vector, accessClause(req.principal), filterClause(req.filters), req.minSimilarity, req.limit, null);
  }

  private readonly allowMemo = new Map<string, { stamp: string; share: number; rows?: Uint32Array | null }>();

  /**
   * The readable chunk rows a narrow filter on documents keeps (at most ALLOW_LIST_SHARE of the
   * readable documents pass it), ascending; null for a wider filter or one on chunks. Both legs
   * rank within it (the common-word lists, the int8 vector copy) instead of widening their
   * candidates past reason or scanning every match. Kept per scope and filter until the index
   * changes (change_stamp), so the legs of one search share it.
   */
  allowedRows(scopeKey: string, acl: AccessClause, f: { sql: string; params: Record<string, unknown>; chunkLevel?: boolean }): Uint32Array | null {
    if (f.sql === '1 = 1' || f.chunkLevel) return null;
    const facts = this.filterFacts(scopeKey, acl, f);
    if (facts.rows === undefined) {
      facts.rows = null;
      if (facts.share <= ALLOW_LIST_SHARE) {
        const ids = this.db
          .prepare(`SELECT c.rowid FROM documents d JOIN chunks c ON c.document_id = d.id WHERE ${acl.sql} AND ${f.sql}`)
          .pluck()
          .all({ ...acl.params, ...f.params }) as number[];
        facts.rows = Uint32Array.from(ids).sort();
      }
    }
    return facts.rows;
  }

  /**
   * A filter on documents, for this scope: the share of the readable documents that pass it,
   * and (once allowedRows asked) its rows. Kept until change_stamp moves; without one (an old
   * file opened read-only), counted afresh each time.
   */
  private filterFacts(scopeKey: string, acl: AccessClause, f: { sql: string; params: Record<string, unknown> }): { share: number; rows?: Uint32Array | null } {
    const stamp = changeStamp(this.db);
    const key = `${scopeKey}\u0000${f.sql}\u0000${JSON.stringify(f.params)}`;
    const stampKey = stamp ? `${stamp.add}/${stamp.revoke}` : null;
    const hit = this.allowMemo.get(key);
    if (hit && stampKey !== null && hit.stamp === stampKey) return hit;
    const r = this.db
      .prepare(`SELECT count(*) AS readable, sum(CASE WHEN ${f.sql} THEN 1 ELSE 0 END) AS passing FROM documents d WHERE ${acl.sql}`)
      .get({ ...acl.params, ...f.params }) as { readable: number; passing: number | null };
    const facts = { stamp: stampKey ?? '', share: r.readable ? (r.passing ?? 0) / r.readable : 0 } as {
      stamp: string;
      share: number;
      rows?: Uint32Array | null;
    };
    if (stampKey !== null) {
      if (this.allowMemo.size >= 16) this.allowMemo.delete(this.allowMemo.keys().next().value!);
      this.allowMemo.set(key, facts);
    }
    return facts;
  }

  /** Cosine similarity in SQL over all vectors, or over the given candidate rowids only. */
  private vectorScan(
    vector: Float32Array,
    acl: AccessClause,
    f: { sql: string; params: Record<string, unknown> },
    minSimilarity: number,
    limit: number,
    rowids: number[] | null,
  ): RankedRow[] {
    const only = rowids ? `v.rowid IN (SELECT value FROM json_each(@ids)) AND` : '';
    return this.db
      .prepare(
        `SELECT v.rowid AS rowid, coalesce(1.0 - vec_distance_cosine(v.embedding, @q), 0.0) AS score
         FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid JOIN documents d ON d.id = c.document_id
         WHERE ${only} ${acl.sql} AND ${f.sql} AND score >= @min
         ORDER BY score DESC LIMIT @limit`,
      )
      .all({
        q: toBlob(vector),
        min: minSimilarity,
        limit,
        ...(rowids ? { ids: JSON.stringify(rowids) } : {}),
        ...acl.params,
        ...f.params,
      }) as RankedRow[];
  }

  /**
   * The int8 vector copy when the vector leg should use it: once one is saved next to the
   * database, or once the database holds VECTOR_INDEX_MIN_VECTORS vectors (built on first use, then saved).
   */
  vectorIndex(): VectorIndex | null {
    if (this.vectors) return this.vectors;
    if (this.vectorIndexOptions === false) return null;
    // A read-only store on a database from before the vector log has no log: exact scan.
    if (!this.db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'vector_log'`).get()) return null;
    const head = (this.db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'`).pluck().get() as number | undefined) ?? 0;
    if (head === this.vectorIndexCheckedAt) return null;
    this.vectorIndexCheckedAt = head;
    const saved = this.file !== ':memory:' && fs.existsSync(`${this.file}.vectors/manifest.json`);
    if (!saved && this.vectorIndexOptions.minVectors > 0) {
      const top = (this.db.prepare(`SELECT max(rowid) FROM chunk_vectors`).pluck().get() as number | null) ?? 0;
      if (top < this.vectorIndexOptions.minVectors) return null;
      const n = this.db.prepare(`SELECT count(*) FROM chunks`).pluck().get() as number;
      if (n < this.vectorIndexOptions.minVectors) return null;
    }
    this.vectors = new VectorIndex(this.db, this.file, this.vectorIndexOptions);
    return this.vectors;
  }

  /** Build (or rebuild) the int8 vector copy now and save it, whatever the size of the index. */
  buildVectorIndex(): VectorIndex {
    if (this.vectorIndexOptions === false) throw new Error('buildVectorIndex: this store was opened with vectorIndex: false');
    this.vectors ??= new VectorIndex(this.db, this.file, this.vectorIndexOptions);
    this.vectors.build();
    if (!this.db.readonly) this.vectors.save();
    return this.vectors;
  }

  async chunks(ids: string[], principal: Principal): Promise<Map<string, ChunkRecord>> {
    const out = new Map<string, ChunkRecord>();
    if (!ids.length) return out;
    const rows = this.chunkRows('c.id IN (SELECT value FROM json_each(@ids))', { ids: JSON.stringify(ids) }, principal);
    const items = chunkItems(this.db, [...rows.keys()], principal);
    for (const [rowid, c] of rows) out.set(c.id, { ...c, item: items.get(rowid) });
    return out;
  }

  /** Readable chunks by rowid (inside the store, and for tests of its parts). */
  chunksByRowid(rowids: number[], principal: Principal): Map<number, ChunkRecord> {
    if (rowids.length === 0) return new Map();
    return this.chunkRows('c.rowid IN (SELECT value FROM json_each(@ids))', { ids: JSON.stringify(rowids) }, principal);
  }

  private chunkRows(where: string, params: Record<string, unknown>, principal: Principal): Map<number, ChunkRecord> {
    const out = new Map<number, ChunkRecord>();
    const acl = accessClause(principal);
    const rows = this.db
      .prepare(
        `SELECT c.rowid AS rowid, c.id, c.document_id, c.ord, c.heading, c.text, c.page_start, c.page_end, c.page_breaks,
                d.title, d.source, d.organisation, d.kind, d.body, d.date, d.access
         FROM chunks c JOIN documents d ON d.id = c.document_id
         WHERE ${where} AND ${acl.sql}`,
      )
      .all({ ...params, ...acl.params }) as any[];
    for (const r of rows) {
      out.set(r.rowid, {
        id: r.id,
        documentId: r.document_id,
        ord: r.ord,
        heading: r.heading,
        text: r.text,
        pageStart: r.page_start,
        pageEnd: r.page_end,
        pageBreaks: JSON.parse(r.page_breaks),
        title: r.title,
        source: r.source,
        organisation: r.organisation ?? null,
        kind: r.kind,
        body: r.body,
        date: r.date,
        access: r.access,
      });
    }
    return out;
  }

  async meetingsOfDocument(documentId: string, principal: Principal): Promise<DocumentMeeting[]> {
    return meetingsOfDocument(this.db, documentId, principal);
  }

  async getMeeting(documentId: string, index: number, principal: Principal): Promise<MeetingView | null> {
    return getMeeting(this.db, documentId, index, principal);
  }

  async getCase(caseNorm: string, principal: Principal): Promise<CaseStep[]> {
    return getCase(this.db, caseNorm, principal);
  }

  async meetingsOfBody(body: string, principal: Principal): Promise<BodyMeeting[]> {
    return meetingsOfBody(this.db, body, principal);
  }

  async stats(): Promise<StoreStats> {
    return this.statsSync();
  }

  statsSync(): StoreStats {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    const group = (col: string) =>
      Object.fromEntries(
        (this.db.prepare(`SELECT ${col} AS k, count(*) AS n FROM documents GROUP BY ${col}`).all() as { k: string; n: number }[]).map((r) => [r.k, r.n]),
      );
    let indexBytes = 0;
    if (this.file !== ':memory:') {
      for (const suffix of ['', '-wal', '-shm']) {
        try {
          indexBytes += fs.statSync(this.file + suffix).size;
        } catch {
          /* not there */
        }
      }
    }
    // The saved int8 vector copy next to the database (index.sqlite.vectors/), when there is one.
    const copy = `${this.file}.vectors`;
    if (this.file !== ':memory:' && fs.existsSync(copy)) {
      for (const f of fs.readdirSync(copy)) {
        try {
          indexBytes += fs.statSync(path.join(copy, f)).size;
        } catch {
          /* replaced by another process's save meanwhile */
        }
      }
    }
    return {
      documents: one(`SELECT count(*) AS n FROM documents`),
      chunks: one(`SELECT count(*) AS n FROM chunks`),
      pages: one(`SELECT count(*) AS n FROM pages`),
      indexBytes,
      embedder: this.embedderInfoSync(),
      byAccess: group('access'),
      byKind: group('kind'),
    };
  }

  /** The search index's FTS5 segments: a query walks every one of them for every word. */
  searchSegments(): number {
    return this.db.prepare(`SELECT count(DISTINCT segid) FROM chunks_fts_idx`).pluck().get() as number;
  }

  /**
   * Write (or go on writing) the common-word lists when the index has none or changed too much
   * since (common-postings.ts); within `budgetMs`, the next call goes on. Null when they do not
   * apply: no innsikt_fts, a read-only store, or an index too small for any word to be common.
   */
  buildCommonPostings(opts: { budgetMs?: number; force?: boolean } = {}): { phrases: number; ms: number; done: boolean } | null {
    const postings = this.bm25Leg.postings;
    if (!postings || this.db.readonly) return null;
    const rows = this.bm25Leg.rows();
    const cutoff = this.bm25Leg.cutoff(rows);
    if (rows <= cutoff) return null;
    return postings.build({ cutoff, rows, budgetMs: opts.budgetMs, force: opts.force });
  }

  async status(): Promise<Record<string, unknown>> {
    return { backend: 'embedded', file: this.file, segments: this.searchSegments(), commonLists: this.bm25Leg.postings?.status() ?? null };
  }

  /**
   * After ingesting: (go on) writing the common-word lists within `budgetMs`. FTS5's segments
   * are left to its own automerge: merging them into one was measured at 300k chunks (11 -> 1
   * segments) to change BM25 p95 by 0.4-1.1 ms (bench/NOTES.md), so that loop was removed.
   */
  async optimize(budgetMs: number): Promise<string[]> {
    const p = this.buildCommonPostings({ budgetMs });
    return p && p.phrases ? [`common-word lists: ${p.phrases} written in ${(p.ms / 1000).toFixed(1)} s${p.done ? '' : ' (more at the next ingest)'}`] : [];
  }

  /**
   * A new index file beside this one (`<file>.rebuild`), renamed over it on commit (which closes
   * this store): searches
   * keep working on the old file until the new one is complete, and a server notices the
   * rename (replaced()) and opens the new file.
   */
  async rebuild(): Promise<Rebuild> {
    if (this.file === ':memory:') throw new Error('An in-memory index cannot be rebuilt beside itself');
    const target = `${this.file}.rebuild`;
    for (const s of ['', '-wal', '-shm']) fs.rmSync(target + s, { force: true });
    fs.rmSync(`${target}.vectors`, { recursive: true, force: true });
    const store = new SqliteStore(target);
    const live = this.file;
    return {
      store,
      target,
      commit: async () => {
        store.buildCommonPostings();
        store.db.pragma('wal_checkpoint(TRUNCATE)');
        await store.close();
        // This connection goes first: closing it later would remove the -wal and -shm files by
        // name, which by then may be a reader's of the new file.
        await this.close();
        for (const s of ['-wal', '-shm']) fs.rmSync(live + s, { force: true });
        // The old int8 copy belongs to the old file; the new one is built on first use.
        fs.rmSync(`${live}.vectors`, { recursive: true, force: true });
        if (fs.existsSync(`${target}.vectors`)) fs.renameSync(`${target}.vectors`, `${live}.vectors`);
        fs.renameSync(target, live);
        for (const s of ['-wal', '-shm']) fs.rmSync(target + s, { force: true });
      },
      abort: async () => {
        await store.close();
        for (const s of ['', '-wal', '-shm']) fs.rmSync(target + s, { force: true });
        fs.rmSync(`${target}.vectors`, { recursive: true, force: true });
      },
    };
  }

  replaced(): boolean {
    if (this.file === ':memory:' || this.identity === null) return false;
    const now = fileIdentity(this.file);
    return now !== null && now !== this.identity;
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  closeSync(): void {
    if (!this.db.open) return;
    // Save the graphs with the changes applied since they were loaded, so the next start
    // does not replay them; a crash before this only costs that replay.
    if (this.vectors && !this.db.readonly) this.vectors.save();
    this.db.close();
  }
}
