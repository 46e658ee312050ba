/**
 * The Elasticsearch backend of the Store seam (indexes/store.ts), for large installations.
 * Layout and ranking: schema.ts. Rights: access.ts (which chunk indices, and a filter inside
 * every query). Queries: query.ts. Writes: bulk.ts.
 *
 * Writing, so that a reader never sees half a document, nor two versions of it:
 * - Chunk indices never refresh by themselves (refresh_interval -1). Every write of this
 *   process goes through one queue (serial()); a write's operations are all sent, and only then
 *   are the indices refreshed, so a search sees a document before or after, never during.
 *   Upserts that arrive while a write runs are sent together with the next one.
 * - An upsert writes the new chunks under a new version (`<chunkId>@<version>`) first. If any
 *   of them fails for good, those written are deleted again, nothing was refreshed, and the old
 *   version stands. Only when all are in are the old version's chunks deleted and the document
 *   entry written, in the same unrefreshed window.
 * - All chunks of a document live on one shard (routing by document id), so a refresh shows
 *   them at once.
 * One process writes at a time: two writers could refresh each other's half-written batch
 * (the ingestion worker will serialise them; see docs/scaling.md).
 *
 * Statistics: a caller searches only the chunk indices of its rights (access.ts), with
 * dfs_query_then_fetch so that IDFs count those indices together: a document that was never
 * public never counts in a public score. A document that leaves an index (an access change)
 * still counts in that index's statistics until Lucene merges its deleted copy away, and
 * Elasticsearch keeps deleted copies (soft deletes) until its retention leases move on, which
 * they do every 30 s (index.soft_deletes.retention_lease.sync_interval, fixed outside tests).
 * So the store merges that index at once and again after PURGE_AFTER_MS (only_expunge_deletes,
 * expunge_deletes_allowed 0); close() waits for that second merge. Measured on the dev node:
 * the moved document's copy is gone from the statistics 20-30 s after the move.
 */

import crypto from 'node:crypto';
import fs from 'node:fs';
import { Client, errors } from '@elastic/elasticsearch';
import { accessScope, type ReaderScope, readerScope } from '../access.ts';
import { analyze, stem, tokenize } from '../analysis/index.ts';
import type { ParsedQuery, Vocabulary } from '../analysis/query.ts';
import type { ElasticsearchConfig } from '../config.ts';
import { assertSameEmbedder } from '../embeddings/types.ts';
import { shortChunkPrior } from '../ranking.ts';
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
import { metadataText, TOTAL_CAP } from '../store.ts';
import type {
  AccessLevel,
  BodyMeeting,
  CaseStep,
  Chunk,
  DocumentMeeting,
  DocumentSummary,
  Facets,
  FacetValue,
  ItemAtAGlance,
  Meeting,
  MeetingView,
  Principal,
  SearchFilters,
  SilverDocument,
} from '../types.ts';
import { accessFilter, type ChunkScope, readableScopes } from './access.ts';
import { type BulkFailure, type BulkOp, bulk } from './bulk.ts';
import {
  filterClauses,
  type IdfBoost,
  type Leaf,
  leafKey,
  leafQuery,
  leavesOf,
  luceneIdfWords,
  matchQuery,
  type Query,
  rankedQuery,
  wordQuery,
} from './query.ts';
import { chunkIndexBody, GENERATIONAL, type Generational, indexBody, Names, REPEAT, scopeOf } from './schema.ts';

/** When to merge a chunk index again after a document left it (see the header). */
const PURGE_AFTER_MS = 35_000;
/** How long the list of chunk indices is reused before asking the cluster again. */
const SCOPES_TTL_MS = 1000;
/** Upserts sent in one write at most. */
const BATCH_DOCUMENTS = 32;
/** kNN: candidates per shard, as a multiple of k (recall against cost; Elastic's default is 1.5). */
const KNN_CANDIDATES = 4;
/** kNN: candidates rescored with the float vectors, as a multiple of k (Elasticsearch's oversample). */
const KNN_RESCORE = 3;
/** How long counted document frequencies are reused (this process's writes drop them at once). */
const DF_TTL_MS = 60_000;
const DF_CACHE_MAX = 20_000;
/** How long a token the vocabulary did not hold counts as absent (INNSIKT_REFRESH_MS's default). */
const VOCAB_ABSENT_MS = 1000;
const VOCAB_CACHE_MAX = 200_000;
/** Revocations read at most per call; more means `complete: false`. */
const REVOCATIONS_MAX = 5_000;
/**
 * The change log's positions are microsecond timestamps of the writers' clocks; a reader looks
 * this far back behind its last position, so an entry written by a process whose clock lags
 * is still seen (seeing an entry twice is harmless).
 */
const LOG_OVERLAP = 60_000_000;

type Source = Record<string, any>;

export function elasticsearchClient(cfg: ElasticsearchConfig): Client {
  return new Client({
    nodes: cfg.nodes,
    auth: cfg.apiKey ? { apiKey: cfg.apiKey } : cfg.username ? { username: cfg.username, password: cfg.password! } : undefined,
    tls: cfg.caFile ? { ca: fs.readFileSync(cfg.caFile) } : undefined,
    maxRetries: 3,
    requestTimeout: 60_000,
  });
}

/** The store on the cluster's live indices (created on first use). */
export async function openElasticsearchStore(cfg: ElasticsearchConfig, client = elasticsearchClient(cfg)): Promise<ElasticsearchStore> {
  const store = new ElasticsearchStore(client, cfg, { mode: 'live', ownsClient: true });
  try {
    await store.init();
  } catch (err) {
    await client.close();
    throw err;
  }
  return store;
}

const isDate = (d: string | null | undefined): d is string => !!d && /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d));

function status(err: unknown): number {
  return (err as { meta?: { statusCode?: number } }).meta?.statusCode ?? 0;
}

function errorType(err: unknown): string {
  return (err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type ?? '';
}

/** A refused write, in one message. */
function writeError(what: string, failures: BulkFailure[]): Error {
  const first = failures.slice(0, 3).map((f) => `${f.op.op} ${f.op.index}/${f.op.id}: ${f.status} ${f.reason}`);
  return new Error(`Elasticsearch refused ${what} (${failures.length} operations failed: ${first.join('; ')})`);
}

/** Pads the stems field to its length (analysedFields); no query ever holds it. */
const FILLER = '_';

/** The protocol context of a chunk at a glance (the embedded store's chunk_context and agenda_items). */
function itemOf(doc: SilverDocument, c: Chunk): ItemAtAGlance | null {
  if (c.itemIndex == null && c.meetingIndex == null) return null;
  const item = c.meetingIndex != null && c.itemIndex != null ? doc.meetings?.[c.meetingIndex]?.agendaItems[c.itemIndex] : undefined;
  return {
    caseId: c.caseId ?? null,
    caseIdNormalized: c.caseIdNormalized ?? null,
    itemTitle: c.itemTitle ?? null,
    isDecision: !!c.isDecision,
    outcome: item?.outcome ?? null,
    votes: item?.votes ? { for: item.votes.for, against: item.votes.against, unanimous: item.votes.unanimous } : null,
    meetingIndex: c.meetingIndex ?? null,
  };
}

/** The indexed fields of a chunk, from its title, heading and text (schema.ts: why so). */
export function analysedFields(title: string, heading: string | null, text: string): { stems: string[]; exact: string; prior: number; terms: string[] } {
  const t = analyze(title);
  const h = analyze(heading ?? '');
  const b = analyze(text);
  const stems: string[] = [];
  const part = (a: string[], times: number) => {
    if (a.length) for (let i = 0; i < times; i++) stems.push(a.join(' '));
  };
  part(t.stems, REPEAT.title);
  part(h.stems, REPEAT.heading);
  part(b.stems, REPEAT.body);
  // BM25 normalises by the field's length: FTS5's is the whole row (title, heading and body
  // once each, twice with the exact forms), this field's the repeated parts. A filler token
  // (never a query token: the analysis only yields letters and digits) brings every chunk's
  // length to the same multiple of title + heading + body, so lengths compare as in FTS5.
  const most = Math.max(REPEAT.title, REPEAT.heading, REPEAT.body);
  const pad = (most - REPEAT.title) * t.stems.length + (most - REPEAT.heading) * h.stems.length + (most - REPEAT.body) * b.stems.length;
  if (pad > 0) stems.push(Array(pad).fill(FILLER).join(' '));
  const exact = [...t.exact, ...h.exact, ...b.exact];
  return { stems, exact: exact.join(' '), prior: shortChunkPrior(b.stems.length), terms: [...new Set([...t.stems, ...h.stems, ...b.stems, ...exact])] };
}

interface Pending {
  doc: SilverDocument;
  chunks: Chunk[];
  vectors: Float32Array[];
  embedder: EmbedderInfo;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class ElasticsearchStore implements Store {
  readonly backend = 'elasticsearch' as const;
  readonly names: Names;
  /** The generation this store writes (live: the aliases' current one; rebuild: the new one). */
  private gen = 0;
  private scopeCache: { at: number; scopes: ChunkScope[] } | null = null;
  private readonly knownScopes = new Set<string>();
  private embedder: EmbedderInfo | null | undefined;
  private queue: Pending[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private draining = false;
  /** Terms this process has written to the vocabulary (so each is sent once). */
  private readonly written = new Set<string>();
  private lastSeq = 0;
  /**
   * The vocabulary as far as this process has asked: tokens it holds (it only grows, so they
   * stay known) and tokens it did not hold, with when (asked again after VOCAB_ABSENT_MS, like
   * the result cache's refresh: an ingest elsewhere may have added them; this process's writes
   * forget them at once).
   */
  private readonly knownTerms = new Set<string>();
  private readonly absentTerms = new Map<string, number>();
  /** Document frequencies per reader scope and leaf (idfBoosts). */
  private readonly dfCache = new Map<string, { n: number; at: number }>();
  /** Change log entries revokedSince() has returned (by id, with their position), within LOG_OVERLAP. */
  private readonly logSeen = new Map<string, number>();

  constructor(
    readonly client: Client,
    readonly cfg: ElasticsearchConfig,
    private readonly opts: { mode: 'live' | 'rebuild'; ownsClient: boolean; gen?: number },
  ) {
    this.names = new Names(cfg.prefix);
    if (opts.gen) this.gen = opts.gen;
  }

  // --- Setup ----------------------------------------------------------------------------------

  /** Check the cluster; on first use create the indices (live), or the new generation's (rebuild). */
  async init(): Promise<void> {
    try {
      await this.client.cluster.health({ wait_for_status: 'yellow', timeout: '30s' });
    } catch (err) {
      if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError) {
        throw new Error(
          `Elasticsearch at ${this.cfg.nodes.join(', ')} is not reachable (${(err as Error).message}). Start the development node with \`npm run es:start\`, or check ELASTICSEARCH_URL.`,
        );
      }
      if (err instanceof errors.ProductNotSupportedError) throw new Error(`The server at ${this.cfg.nodes.join(', ')} is not Elasticsearch: ${err.message}`);
      throw new Error(`Elasticsearch at ${this.cfg.nodes.join(', ')} answered with an error: ${(err as Error).message}`);
    }
    if (this.opts.mode === 'rebuild') {
      for (const kind of GENERATIONAL) await this.createIndex(this.names.physical(this.names.alias(kind), this.gen), indexBody(kind, this.cfg), null);
      return;
    }
    this.gen = (await this.liveGeneration()) ?? 0;
    if (!this.gen) {
      this.gen = 1;
      for (const kind of GENERATIONAL) {
        await this.createIndex(this.names.physical(this.names.alias(kind), 1), indexBody(kind, this.cfg), this.names.alias(kind));
      }
    }
    await this.createIndex(this.names.changes, indexBody('changes', this.cfg), null);
  }

  /** The generation the aliases point at, or null before the first use. */
  private async liveGeneration(): Promise<number | null> {
    try {
      const r = await this.client.indices.getAlias({ name: this.names.alias('documents') });
      const gens = Object.keys(r).map((i) => this.names.parse(i)?.gen ?? 0);
      return Math.max(0, ...gens) || null;
    } catch (err) {
      if (status(err) === 404) return null;
      throw err;
    }
  }

  /** Create an index (with an alias), unless it exists: another process may create it too. */
  private async createIndex(name: string, body: { settings?: unknown; mappings: unknown }, alias: string | null): Promise<void> {
    try {
      await this.client.indices.create({ index: name, ...(body as object), ...(alias ? { aliases: { [alias]: {} } } : {}) } as never);
    } catch (err) {
      if (errorType(err) !== 'resource_already_exists_exception') throw err;
    }
  }

  /** Where to write `alias`'s documents: the alias (live) or the new generation's index (rebuild). */
  private target(alias: string): string {
    return this.opts.mode === 'live' ? alias : this.names.physical(alias, this.gen);
  }

  private idx(kind: Generational): string {
    return this.target(this.names.alias(kind));
  }

  /** The chunk indices there are (live: their aliases), with the readers each was made for. */
  private async scopes(fresh = false): Promise<ChunkScope[]> {
    const now = Date.now();
    if (!fresh && this.scopeCache && now - this.scopeCache.at < SCOPES_TTL_MS) return this.scopeCache.scopes;
    const r = (await this.client.indices.getMapping({ index: this.names.chunkPattern })) as Record<string, { mappings: { _meta?: Source } }>;
    const byScope = new Map<string, ChunkScope>();
    for (const [index, m] of Object.entries(r)) {
      const p = this.names.parse(index);
      if (!p) continue;
      if (this.opts.mode === 'rebuild' && p.gen !== this.gen) continue;
      const scope = p.alias.slice(this.names.chunkAlias('').length);
      const meta = m.mappings._meta ?? {};
      byScope.set(scope, { scope, access: meta.access, groups: meta.groups ?? [] });
    }
    const scopes = [...byScope.values()].sort((a, b) => (a.scope < b.scope ? -1 : 1));
    this.scopeCache = { at: now, scopes };
    return scopes;
  }

  /** The chunk index of a scope, created on first use (with the embedder's dimensions). */
  private async ensureScope(access: AccessLevel, groups: string[], dims: number): Promise<string> {
    const scope = scopeOf(access, groups);
    const alias = this.names.chunkAlias(scope);
    if (!this.knownScopes.has(scope)) {
      const body = chunkIndexBody({
        shards: this.cfg.shards,
        replicas: this.cfg.replicas,
        dims,
        access,
        groups: access === 'protected' ? [...new Set(groups)].sort() : [],
      });
      if (this.opts.mode === 'live') {
        // Name it after the live generation as it is now (a rebuild elsewhere may have moved it).
        const gen = (await this.liveGeneration()) ?? this.gen;
        const exists = await this.client.indices.existsAlias({ name: alias });
        if (!exists) await this.createIndex(this.names.physical(alias, gen), body, alias);
      } else {
        await this.createIndex(this.names.physical(alias, this.gen), body, null);
      }
      this.knownScopes.add(scope);
      this.scopeCache = null;
    }
    return this.target(alias);
  }

  /** Which chunk indices a principal searches (may be none), and the filter inside its queries. */
  private async readable(principal: Principal): Promise<{ reader: ReaderScope; indices: string[]; filter: Query[] }> {
    const reader = readerScope(principal);
    const scopes = readableScopes(reader, await this.scopes());
    const f = accessFilter(reader);
    return { reader, indices: scopes.map((s) => this.target(this.names.chunkAlias(s.scope))), filter: f ? [f] : [] };
  }

  private searchTarget(indices: string[]) {
    return { index: indices.join(','), ignore_unavailable: true, allow_no_indices: true };
  }

  // --- Embedder ------------------------------------------------------------------------------

  async embedderInfo(): Promise<EmbedderInfo | null> {
    if (this.embedder !== undefined) return this.embedder;
    try {
      const r = await this.client.get<{ embedderId: string; dimensions: number }>({ index: this.idx('meta'), id: 'embedder' });
      this.embedder = r._source ? { id: r._source.embedderId, dimensions: r._source.dimensions } : null;
    } catch (err) {
      if (status(err) !== 404) throw err;
      this.embedder = null;
    }
    return this.embedder;
  }

  private async checkEmbedder(embedder: EmbedderInfo): Promise<void> {
    const current = await this.embedderInfo();
    if (current && (current.id !== embedder.id || current.dimensions !== embedder.dimensions)) {
      const docs = (await this.client.count({ index: this.idx('documents') })).count;
      if (docs > 0) assertSameEmbedder(current, embedder);
    }
    if (!current || current.id !== embedder.id || current.dimensions !== embedder.dimensions) {
      await this.client.index({
        index: this.idx('meta'),
        id: 'embedder',
        document: { embedderId: embedder.id, dimensions: embedder.dimensions },
        refresh: true,
      });
      this.embedder = embedder;
    }
  }

  // --- Writes --------------------------------------------------------------------------------

  /** Run `fn` after every write queued before it (one writer at a time in this process). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const write = async () => {
      try {
        return await fn();
      } finally {
        // What this process wrote changes document frequencies and the vocabulary: ask again.
        this.dfCache.clear();
        this.absentTerms.clear();
      }
    };
    const run = this.chain.then(write, write);
    this.chain = run.catch(() => undefined);
    return run;
  }

  async upsertDocument(doc: SilverDocument, chunks: Chunk[], vectors: Float32Array[], embedder: EmbedderInfo): Promise<void> {
    if (vectors.length !== chunks.length) throw new Error(`upsertDocument: ${chunks.length} chunks but ${vectors.length} vectors`);
    for (const v of vectors) {
      if (v.length !== embedder.dimensions) throw new Error(`upsertDocument: vector of ${v.length} dimensions, expected ${embedder.dimensions}`);
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ doc, chunks, vectors, embedder, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        void this.serial(() => this.drain());
      }
    });
  }

  /** Write the queued upserts, BATCH_DOCUMENTS at a time, until none is left. */
  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, BATCH_DOCUMENTS);
        try {
          await this.writeBatch(batch);
        } catch (err) {
          for (const p of batch) p.reject(err as Error);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    // Same embedder for all (the pipeline has one); a mismatch rejects the batch whole.
    for (const e of new Set(batch.map((p) => `${p.embedder.id}\u0000${p.embedder.dimensions}`))) {
      const [id, dims] = e.split('\u0000');
      await this.checkEmbedder({ id, dimensions: Number(dims) });
    }
    // 1. The new versions' chunks, unrefreshed.
    const versions = new Map<string, string>();
    /** The physical chunk index each document now lives in (hits name physical indices). */
    const home = new Map<string, string>();
    const chunkOps: BulkOp[] = [];
    const vocab = new Set<string>();
    for (const p of batch) {
      const { doc } = p;
      const version = crypto.randomBytes(6).toString('hex');
      versions.set(doc.id, version);
      const index = await this.ensureScope(doc.access, doc.groups, p.embedder.dimensions);
      home.set(doc.id, await this.concrete(index));
      p.chunks.forEach((c, i) => {
        const fields = analysedFields(metadataText({ ...doc, organisation: doc.organisation?.name ?? null }), c.heading, c.text);
        for (const t of fields.terms) if (!this.written.has(t)) vocab.add(t);
        chunkOps.push({
          op: 'index',
          index,
          id: `${c.id}@${version}`,
          routing: doc.id,
          tag: doc.id,
          doc: this.chunkSource(doc, c, version, fields, p.vectors[i]),
        });
      });
    }
    const failed = await bulk(this.client, chunkOps);
    const bad = new Map<string, BulkFailure[]>();
    for (const f of failed) bad.set(f.op.tag!, [...(bad.get(f.op.tag!) ?? []), f]);
    if (bad.size) {
      // Take back what was written of the failed documents; nothing of them was ever visible.
      await bulk(
        this.client,
        chunkOps.filter((o) => bad.has(o.tag!)).map((o) => ({ op: 'delete', index: o.index, id: o.id, routing: o.routing })),
      );
    }
    const ok = batch.filter((p) => !bad.has(p.doc.id));
    for (const p of batch) if (bad.has(p.doc.id)) p.reject(writeError(`the chunks of ${p.doc.id}`, bad.get(p.doc.id)!));
    if (!ok.length) return;

    // 2. What the documents were before: their entries, old chunks and meetings.
    const ids = ok.map((p) => p.doc.id);
    const before = this.opts.mode === 'live' ? await this.entries(ids) : new Map<string, Source>();
    const old = this.opts.mode === 'live' ? await this.documentRows(ids, (hit) => hit.version !== versions.get(hit.documentId)) : { chunks: [], meetings: [] };
    const ops: BulkOp[] = [];
    for (const h of [...old.chunks, ...old.meetings]) ops.push({ op: 'delete', index: h._index, id: h._id, routing: h.routing });
    for (const p of ok) {
      const { doc } = p;
      ops.push({ op: 'index', index: this.idx('documents'), id: doc.id, doc: this.documentSource(doc, p.chunks.length, versions.get(doc.id)!) });
      doc.meetings?.forEach((m, i) => ops.push({ op: 'index', index: this.idx('meetings'), id: `${doc.id}:${i}`, doc: this.meetingSource(doc, m, i) }));
    }
    for (const t of vocab) ops.push({ op: 'index', index: this.idx('vocab'), id: t, doc: { term: t } });
    const failed2 = await bulk(this.client, ops);
    // 3. Visible at once: the indices that lost chunks first (a document that moved to other
    // readers is never visible to both), then the rest.
    const movedFrom = new Set(old.chunks.filter((h) => home.get(h.routing) !== h._index).map((h) => h._index));
    if (this.opts.mode === 'live') {
      if (movedFrom.size) await this.client.indices.refresh({ index: [...movedFrom].join(','), ignore_unavailable: true });
      const touched = new Set([
        ...chunkOps.map((o) => o.index),
        ...old.chunks.map((h) => h._index),
        this.idx('documents'),
        this.idx('meetings'),
        this.idx('vocab'),
      ]);
      await this.client.indices.refresh({ index: [...touched].join(','), ignore_unavailable: true });
      for (const index of movedFrom) await this.expunge(index);
    }
    for (const t of vocab) if (this.written.size < 500_000) this.written.add(t);
    if (this.opts.mode === 'live') {
      const log: Source[] = [];
      for (const p of ok) {
        const prev = before.get(p.doc.id);
        if (prev)
          log.push({
            kind: 'revoke',
            documentId: p.doc.id,
            readers: prev.access !== p.doc.access || JSON.stringify(prev.groups ?? []) !== JSON.stringify(p.doc.groups),
          });
        log.push({ kind: 'add', documentId: p.doc.id, readers: false });
      }
      await this.log(log);
    }
    // A failed delete of an old chunk or a failed entry leaves the document wrong until it is
    // ingested again: say so. (A term missing from the vocabulary only weakens typo matching.)
    const docOf = (op: BulkOp): string | null =>
      op.index === this.idx('documents') ? op.id : op.index === this.idx('meetings') ? op.id.slice(0, op.id.lastIndexOf(':')) : (op.routing ?? null);
    for (const p of ok) {
      const mine = failed2.filter((f) => docOf(f.op) === p.doc.id);
      if (mine.length) p.reject(writeError(`parts of ${p.doc.id} (ingest it again)`, mine));
      else p.resolve();
    }
  }

  /** A chunk as the chunk index holds it. */
  private chunkSource(doc: SilverDocument, c: Chunk, version: string, fields: ReturnType<typeof analysedFields>, vector: Float32Array | number[]): Source {
    const item = itemOf(doc, c);
    const date = isDate(doc.date) ? doc.date : null;
    return {
      chunkId: c.id,
      documentId: doc.id,
      version,
      ord: c.ord,
      heading: c.heading,
      text: c.text,
      pageStart: c.pageStart,
      pageEnd: c.pageEnd,
      pageBreaks: c.pageBreaks,
      title: doc.title,
      source: doc.source,
      organisation: doc.organisation?.name ?? null,
      kind: doc.kind,
      body: doc.body,
      date,
      year: date ? date.slice(0, 4) : null,
      access: doc.access,
      groups: doc.access === 'protected' ? doc.groups : [],
      isDecision: !!c.isDecision,
      item,
      stems: fields.stems,
      exact: fields.exact,
      prior: fields.prior,
      embedding: Array.from(vector),
    };
  }

  private documentSource(doc: SilverDocument, chunkCount: number, version: string): Source {
    return {
      id: doc.id,
      sha256: doc.sha256,
      source: doc.source,
      mediaType: doc.mediaType,
      title: doc.title,
      organisation: doc.organisation?.name ?? null,
      kind: doc.kind,
      body: doc.body,
      date: isDate(doc.date) ? doc.date : null,
      caseNumbers: doc.caseNumbers,
      access: doc.access,
      groups: doc.access === 'protected' ? doc.groups : [],
      paged: doc.paged,
      pageCount: doc.pages.length,
      chunkCount,
      ingestedAt: doc.ingestedAt,
      pages: doc.pages,
      scope: scopeOf(doc.access, doc.groups),
      version,
    };
  }

  private meetingSource(doc: SilverDocument, m: Meeting, index: number): Source {
    const body = m.body ?? doc.body;
    const date = m.date ?? doc.date;
    const cases = new Set<string>();
    for (const it of m.agendaItems) {
      if (it.caseIdNormalized) cases.add(it.caseIdNormalized);
      if (it.archiveCaseIdNormalized) cases.add(it.archiveCaseIdNormalized);
    }
    return {
      documentId: doc.id,
      index,
      body,
      date: isDate(date) ? date : null,
      title: doc.title,
      source: doc.source,
      access: doc.access,
      groups: doc.access === 'protected' ? doc.groups : [],
      items: m.agendaItems.length,
      decisions: m.agendaItems.filter((it) => it.outcome != null).length,
      cases: [...cases],
      meeting: { ...m, body, date },
    };
  }

  /** Document entries by id, without an access check (bookkeeping). */
  private async entries(ids: string[]): Promise<Map<string, Source>> {
    const out = new Map<string, Source>();
    if (!ids.length) return out;
    const r = await this.client.mget<Source>({ index: this.idx('documents'), ids, _source_excludes: ['pages'] });
    for (const d of r.docs) if ('found' in d && d.found && d._source) out.set(d._id, d._source);
    return out;
  }

  /** Chunks (those `keep` selects) and meetings of documents, from every chunk index there is. */
  private async documentRows(
    ids: string[],
    keep: (hit: { documentId: string; version: string }) => boolean = () => true,
    withSource = false,
  ): Promise<{
    chunks: { _index: string; _id: string; routing: string; source?: Source }[];
    meetings: { _index: string; _id: string; routing?: string; source?: Source }[];
  }> {
    const scopes = await this.scopes(true);
    const chunkIndices = scopes.map((s) => this.target(this.names.chunkAlias(s.scope)));
    const chunks: { _index: string; _id: string; routing: string; source?: Source }[] = [];
    let after: unknown[] | undefined;
    for (;;) {
      if (!chunkIndices.length) break;
      const r = await this.client.search<Source>({
        ...this.searchTarget(chunkIndices),
        query: { terms: { documentId: ids } },
        size: 1000,
        sort: [{ chunkId: 'asc' }, { version: 'asc' }],
        ...(after ? { search_after: after as never } : {}),
        _source: withSource ? ({ exclude_vectors: false } as never) : ['documentId', 'version'],
      });
      for (const h of r.hits.hits) {
        const s = h._source!;
        if (keep({ documentId: s.documentId, version: s.version }))
          chunks.push({ _index: h._index, _id: h._id!, routing: s.documentId, ...(withSource ? { source: s } : {}) });
      }
      if (r.hits.hits.length < 1000) break;
      after = r.hits.hits[r.hits.hits.length - 1].sort as unknown[];
    }
    const m = await this.client.search<Source>({
      ...this.searchTarget([this.idx('meetings')]),
      query: { terms: { documentId: ids } },
      size: 10_000,
      _source: withSource,
    });
    return { chunks, meetings: m.hits.hits.map((h) => ({ _index: h._index, _id: h._id!, ...(withSource ? { source: h._source } : {}) })) };
  }

  /** Merge away the deleted copies in an index, so its statistics no longer count them. */
  private async expunge(index: string): Promise<void> {
    await this.purgeNow(index);
    if (this.purges.has(index)) return;
    this.purges.set(
      index,
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.purges.delete(index);
          this.purgeTimers.delete(index);
          this.purgeNow(index)
            .catch((err) => {
              // Deleted meanwhile (a rebuild, a test's clean-up): nothing left to merge.
              if (status(err) !== 404) console.error(`[innsikt] Elasticsearch: merging ${index} after an access change failed: ${(err as Error).message}`);
            })
            .finally(resolve);
        }, PURGE_AFTER_MS);
        t.unref();
        this.purgeTimers.set(index, { timer: t, resolve });
      }),
    );
  }

  /**
   * Delete every index of this store's prefix and close it: the end of a test's, an eval's or a
   * benchmark's indices (each has a prefix of its own), never of an installation's.
   */
  async destroy(): Promise<void> {
    this.discardPurges();
    try {
      await this.client.indices.delete({ index: `${this.names.prefix}-*`, ignore_unavailable: true, allow_no_indices: true } as never);
    } finally {
      await this.close();
    }
  }

  /** Forget the pending merges (the indices are about to be deleted). */
  private discardPurges(): void {
    for (const { timer, resolve } of this.purgeTimers.values()) {
      clearTimeout(timer);
      resolve();
    }
    this.purgeTimers.clear();
    this.purges.clear();
  }

  /** Merges waiting for Elasticsearch to let go of deleted copies (see the header). */
  private readonly purges = new Map<string, Promise<void>>();
  private readonly purgeTimers = new Map<string, { timer: NodeJS.Timeout; resolve: () => void }>();

  private async purgeNow(index: string): Promise<void> {
    await this.client.indices.forcemerge({ index, only_expunge_deletes: true, wait_for_completion: true });
    // Searches see the merged segments only after a refresh (this index never refreshes itself).
    await this.client.indices.refresh({ index });
  }

  /** Wait until documents that left an index no longer count in its statistics. */
  async settled(): Promise<void> {
    while (this.purges.size) await Promise.all([...this.purges.values()]);
  }

  /** Append to the change log (visible to readers at once). */
  private async log(entries: Source[]): Promise<void> {
    if (!entries.length) return;
    const ops: BulkOp[] = entries.map((e) => ({ op: 'index', index: this.names.changes, id: crypto.randomUUID(), doc: { ...e, seq: this.nextSeq() } }));
    const failed = await bulk(this.client, ops);
    await this.client.indices.refresh({ index: this.names.changes });
    if (failed.length) throw writeError('the change log', failed);
  }

  /** A position in the change log: microseconds of this clock, increasing within the process. */
  private nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1000);
    return this.lastSeq;
  }

  deleteDocument(id: string): Promise<boolean> {
    return this.serial(async () => {
      const entry = (await this.entries([id])).get(id);
      const rows = await this.documentRows([id]);
      if (!entry && !rows.chunks.length) return false;
      const ops: BulkOp[] = [...rows.chunks, ...rows.meetings].map((h) => ({ op: 'delete', index: h._index, id: h._id, routing: h.routing }));
      ops.push({ op: 'delete', index: this.idx('documents'), id });
      const failed = await bulk(this.client, ops);
      const touched = new Set([...rows.chunks.map((h) => h._index), this.idx('documents'), this.idx('meetings')]);
      await this.client.indices.refresh({ index: [...touched].join(','), ignore_unavailable: true });
      if (failed.length) throw writeError(`the deletion of ${id}`, failed);
      await this.log([{ kind: 'revoke', documentId: id, readers: false }]);
      return true;
    });
  }

  setAccess(id: string, access: AccessLevel, groups: string[]): Promise<boolean> {
    return this.serial(async () => {
      const entry = (await this.client.mget<Source>({ index: this.idx('documents'), ids: [id] })).docs[0];
      if (!entry || !('found' in entry) || !entry.found || !entry._source) return false;
      const doc = entry._source;
      const readers = { access, groups: access === 'protected' ? [...new Set(groups)] : [] };
      const rows = await this.documentRows([id], (h) => h.version === doc.version, true);
      const dims = (await this.embedderInfo())?.dimensions ?? 0;
      const index = await this.ensureScope(access, readers.groups, dims);
      const ops: BulkOp[] = [];
      // A chunk index holds analysed fields outside _source: each chunk is written whole again.
      for (const h of rows.chunks) {
        const s = h.source!;
        const fields = analysedFields(metadataText(this.documentFields(s)), s.heading, s.text);
        ops.push({ op: 'index', index, id: h._id, routing: id, doc: { ...s, ...readers, stems: fields.stems, exact: fields.exact, prior: fields.prior } });
        if (h._index !== (await this.concrete(index))) ops.push({ op: 'delete', index: h._index, id: h._id, routing: id });
      }
      ops.push({ op: 'index', index: this.idx('documents'), id, doc: { ...doc, ...readers, scope: scopeOf(access, readers.groups) } });
      for (const m of rows.meetings) ops.push({ op: 'index', index: m._index, id: m._id, doc: { ...m.source!, ...readers } });
      const failed = await bulk(this.client, ops);
      const movedFrom = new Set(rows.chunks.map((h) => h._index).filter((i) => ops.some((o) => o.op === 'delete' && o.index === i)));
      if (movedFrom.size) await this.client.indices.refresh({ index: [...movedFrom].join(','), ignore_unavailable: true });
      await this.client.indices.refresh({ index: [index, this.idx('documents'), this.idx('meetings')].join(','), ignore_unavailable: true });
      for (const i of movedFrom) await this.expunge(i);
      if (failed.length) throw writeError(`the access change of ${id}`, failed);
      await this.log([{ kind: 'revoke', documentId: id, readers: true }]);
      return true;
    });
  }

  private readonly concreteCache = new Map<string, string>();
  /** The physical index behind an alias (hits name physical indices). */
  private async concrete(alias: string): Promise<string> {
    let c = this.concreteCache.get(alias);
    if (!c) {
      if (this.opts.mode === 'rebuild') c = alias;
      else {
        const r = await this.client.indices.getAlias({ name: alias });
        c = Object.keys(r)[0];
        if (!c) throw new Error(`Elasticsearch: no index behind the alias ${alias}`);
      }
      this.concreteCache.set(alias, c);
    }
    return c;
  }

  // --- Ingestion bookkeeping -----------------------------------------------------------------

  private meta(s: Source): DocumentMeta {
    return { id: s.id, source: s.source, sha256: s.sha256, access: s.access, groups: s.groups ?? [], pageCount: s.pageCount, chunkCount: s.chunkCount };
  }

  async documentMetaUnchecked(id: string): Promise<DocumentMeta | null> {
    const s = (await this.entries([id])).get(id);
    return s ? this.meta(s) : null;
  }

  async documentsWithShaUnchecked(sha256: string): Promise<DocumentMeta[]> {
    const r = await this.client.search<Source>({
      index: this.idx('documents'),
      query: { term: { sha256 } },
      size: 1000,
      sort: [{ id: 'asc' }],
      _source_excludes: ['pages'],
    });
    return r.hits.hits.map((h) => this.meta(h._source!));
  }

  // --- Query understanding -------------------------------------------------------------------

  /**
   * The vocabulary for parsing `query`: every token parseQuery() may look up for it (the words,
   * their stems, the parts a compound may split into) in one request, and for long unknown
   * words their indexed neighbours within two edits (a fuzzy query) in a second.
   */
  async vocabulary(query: string): Promise<Vocabulary> {
    const words = [...new Set(tokenize(query))];
    const ask = new Set<string>();
    for (const w of words) {
      ask.add(w);
      ask.add(stem(w));
      if (w.length >= 8 && !/\d/.test(w)) {
        for (let i = 3; i <= w.length - 3; i++) {
          const head = w.slice(0, i);
          const rest = w.slice(i);
          for (const part of [head, head.slice(0, -1), rest]) if (part.length >= 3) ask.add(part).add(stem(part));
        }
      }
    }
    const now = Date.now();
    const unsure = [...ask].filter((t) => !this.knownTerms.has(t) && !(now - (this.absentTerms.get(t) ?? -Infinity) < VOCAB_ABSENT_MS));
    if (unsure.length) {
      const r = await this.client.search({ index: this.idx('vocab'), query: { ids: { values: unsure } }, size: unsure.length, _source: false });
      const found = new Set(r.hits.hits.map((h) => h._id!));
      if (this.knownTerms.size > VOCAB_CACHE_MAX) this.knownTerms.clear();
      if (this.absentTerms.size > VOCAB_CACHE_MAX) this.absentTerms.clear();
      for (const t of unsure) {
        if (found.has(t)) {
          this.knownTerms.add(t);
          this.absentTerms.delete(t);
        } else this.absentTerms.set(t, now);
      }
    }
    const known = new Set([...ask].filter((t) => this.knownTerms.has(t)));
    const near = new Map<string, string[]>();
    const unknown = words.filter((w) => w.length >= 7 && !/\d/.test(w) && !known.has(w) && !known.has(stem(w)));
    if (unknown.length) {
      const r = await this.client.msearch({
        index: this.idx('vocab'),
        searches: unknown.flatMap((w) => [
          {},
          {
            query: { fuzzy: { term: { value: w, fuzziness: w.length >= 10 ? 2 : 1, prefix_length: 1, max_expansions: 1000, transpositions: true } } },
            size: 1000,
            _source: false,
          },
        ]),
      });
      r.responses.forEach((res, i) => near.set(unknown[i], 'hits' in res ? res.hits.hits.map((h) => h._id!) : []));
    }
    return {
      has: (t) => known.has(t),
      withPrefix: () => [],
      near: (w) => near.get(w) ?? [],
    };
  }

  async unmatchedWords(query: ParsedQuery, principal: Principal): Promise<string[]> {
    if (!query.words.length) return [];
    const { indices, filter } = await this.readable(principal);
    if (!indices.length) return query.words.map((w) => w.exact);
    const r = await this.client.msearch({
      ...this.searchTarget(indices),
      searches: query.words.flatMap((w) => [{}, { size: 0, track_total_hits: 1, query: { bool: { must: [wordQuery(w)], filter } } }]),
    });
    return query.words
      .filter((_, i) => {
        const res = r.responses[i];
        if (!('hits' in res)) throw new Error(`Elasticsearch: ${JSON.stringify(res.error)}`);
        return totalOf(res.hits.total) === 0;
      })
      .map((w) => w.exact);
  }

  // --- Reads ---------------------------------------------------------------------------------

  /**
   * FTS5's IDF for every scored leaf of the query, as a boost on Lucene's clause: Lucene's IDF
   * is log(1 + (N - n + 0.5) / (n + 0.5)), a phrase's the sum of its words', where FTS5 (the
   * embedded store) has log((N - n + 0.5) / (n + 0.5)) per phrase, at least 1e-6, which all
   * but ignores a word held by half the rows. The boost is the second over the first, so both
   * backends weigh a query's words alike. n and N are counted among the documents the caller
   * may read (its statistics), in one _msearch, and reused for DF_TTL_MS.
   */
  private async idfBoosts(q: ParsedQuery, principal: Principal, indices: string[], filter: Query[]): Promise<IdfBoost> {
    const scope = accessScope(principal);
    // Counted: every leaf as a plain term or phrase (FTS5 counts a NEAR part's rows as the
    // word's), and every word whose IDF Lucene sums for its clause.
    const want = new Map<string, Leaf>();
    const plain = (field: Leaf['field'], tokens: string[]): Leaf => ({ field, tokens });
    for (const l of leavesOf(q)) {
      want.set(leafKey(plain(l.field, l.tokens)), plain(l.field, l.tokens));
      for (const t of luceneIdfWords(l)) want.set(leafKey(plain(l.field, [t])), plain(l.field, [t]));
    }
    const now = Date.now();
    const key = (k: string) => `${scope}\u0000${k}`;
    const fresh = (k: string) => {
      const hit = this.dfCache.get(key(k));
      return hit && now - hit.at < DF_TTL_MS ? hit.n : undefined;
    };
    const missing = [...want.keys()].filter((k) => fresh(k) === undefined);
    if (fresh('*') === undefined) missing.push('*');
    if (missing.length) {
      const count = (query: Query | null) => ({ size: 0, track_total_hits: true, query: { bool: { filter: query ? [query, ...filter] : filter } } });
      const r = await this.client.msearch({
        ...this.searchTarget(indices),
        searches: missing.flatMap((k) => [{}, count(k === '*' ? null : leafQuery(want.get(k)!))]),
      });
      if (this.dfCache.size > DF_CACHE_MAX) this.dfCache.clear();
      r.responses.forEach((res, i) => {
        if (!('hits' in res)) throw new Error(`Elasticsearch: counting document frequencies failed: ${JSON.stringify(res.error)}`);
        this.dfCache.set(key(missing[i]), { n: totalOf(res.hits.total), at: now });
      });
    }
    const N = fresh('*') ?? 0;
    const df = (field: Leaf['field'], tokens: string[]) => fresh(leafKey({ field, tokens })) ?? 0;
    const lucene = (n: number) => Math.log(1 + (N - n + 0.5) / (n + 0.5));
    const fts5 = (n: number) => Math.max(1e-6, Math.log((N - n + 0.5) / (n + 0.5)));
    return (l: Leaf) => {
      const words = luceneIdfWords(l);
      const luceneIdf = words.length === 1 ? lucene(df(l.field, words)) : words.reduce((sum, t) => sum + lucene(df(l.field, [t])), 0);
      return luceneIdf > 0 ? fts5(df(l.field, l.tokens)) / luceneIdf : 1;
    };
  }

  async rank(req: RankRequest): Promise<RankResult> {
    const { indices, filter } = await this.readable(req.principal);
    const filters = [...filter, ...filterClauses(req.filters)];
    const boost = req.bm25 && indices.length ? await this.idfBoosts(req.bm25.query, req.principal, indices, filter) : undefined;
    const match = req.bm25 ? matchQuery(req.bm25.query, req.bm25.prefixWord, boost) : null;
    const searches: { header: Source; body: Source; leg: 'bm25' | 'vector' }[] = [];
    const fields = ['chunkId', 'documentId', 'date'];
    if (match && indices.length) {
      searches.push({
        leg: 'bm25',
        // One search over the caller's indices: statistics summed over exactly those (dfs).
        header: { ...this.searchTarget(indices), search_type: 'dfs_query_then_fetch' },
        body: { size: req.bm25!.limit, track_total_hits: TOTAL_CAP, _source: fields, query: rankedQuery(match, filters) },
      });
    }
    if (req.vector && indices.length) {
      const v = await req.vector.embedding();
      const k = req.vector.limit;
      searches.push({
        leg: 'vector',
        header: this.searchTarget(indices),
        body: {
          size: k,
          _source: fields,
          knn: {
            field: 'embedding',
            query_vector: Array.from(v),
            k,
            num_candidates: Math.min(10_000, Math.max(100, Math.ceil(k * KNN_CANDIDATES))),
            filter: filters,
            // int8 scores drift far from the true cosine on the hashed embedder's sparse
            // vectors (0.21 for a pair at 0.05): rank the candidates again with the float
            // vectors kept on disk, as the embedded store rescores its int8 candidates. The
            // similarity floor is applied to the rescored cosine below (a `similarity` here
            // would judge the int8 score).
            rescore_vector: { oversample: KNN_RESCORE },
          },
        },
      });
    }
    const out: RankResult = { bm25: req.bm25 ? { ranked: [], total: 0, totalRelation: 'eq' } : null, vector: req.vector ? [] : null };
    if (!searches.length) return out;
    const r = await this.client.msearch({ searches: searches.flatMap((s) => [s.header, s.body]) } as never);
    (r as { responses: unknown[] }).responses.forEach((res, i) => {
      const s = searches[i];
      if (!res || typeof res !== 'object' || !('hits' in res))
        throw new Error(`Elasticsearch ${s.leg} leg failed: ${JSON.stringify((res as { error?: unknown })?.error ?? res)}`);
      const hits = (res as { hits: { hits: { _score: number; _source: Source }[]; total?: unknown } }).hits;
      const ranked: ScoredChunk[] = hits.hits.map((h) => ({
        chunkId: h._source.chunkId,
        documentId: h._source.documentId,
        date: h._source.date ?? null,
        // kNN's score for cosine is (1 + cosine) / 2: report the cosine, as the embedded store does.
        score: s.leg === 'vector' ? 2 * h._score - 1 : h._score,
      }));
      if (s.leg === 'bm25') {
        const t = hits.total as { value: number; relation: string };
        out.bm25 = { ranked, total: t.value, totalRelation: t.relation === 'gte' || t.value >= TOTAL_CAP ? 'gte' : 'eq' } satisfies LegResult;
      } else out.vector = ranked.filter((r) => r.score >= req.vector!.minSimilarity);
    });
    return out;
  }

  async chunks(ids: string[], principal: Principal): Promise<Map<string, ChunkRecord>> {
    const out = new Map<string, ChunkRecord>();
    const { indices, filter } = await this.readable(principal);
    if (!ids.length || !indices.length) return out;
    const r = await this.client.search<Source>({
      ...this.searchTarget(indices),
      size: ids.length * 2,
      query: { bool: { filter: [{ terms: { chunkId: ids } }, ...filter] } },
    });
    for (const h of r.hits.hits) {
      const s = h._source!;
      out.set(s.chunkId, {
        id: s.chunkId,
        documentId: s.documentId,
        ord: s.ord,
        heading: s.heading ?? null,
        text: s.text,
        pageStart: s.pageStart ?? null,
        pageEnd: s.pageEnd ?? null,
        pageBreaks: s.pageBreaks ?? [],
        ...this.documentFields(s),
        ...(s.item ? { item: s.item } : {}),
      });
    }
    return out;
  }

  async facets(query: ParsedQuery, req: { principal: Principal; filters?: SearchFilters }): Promise<Facets> {
    const out: Facets = { body: [], organisation: [], year: [], kind: [], decisions: 0 };
    const match = matchQuery(query);
    const { indices, filter } = await this.readable(req.principal);
    if (!match || !indices.length) return out;
    const f = req.filters ?? {};
    const docs = { cardinality: { field: 'documentId', precision_threshold: 40_000 } };
    const dim = (field: string, without: SearchFilters) => ({
      filter: { bool: { filter: filterClauses(without) } },
      aggs: { values: { terms: { field, size: 500 }, aggs: { docs } } },
    });
    const r = await this.client.search({
      ...this.searchTarget(indices),
      size: 0,
      track_total_hits: false,
      query: { bool: { must: [match], filter } },
      aggs: {
        body: dim('body', { ...f, body: undefined }),
        organisation: dim('organisation', { ...f, organisation: undefined }),
        kind: dim('kind', { ...f, kind: undefined }),
        year: dim('year', { ...f, dateFrom: undefined, dateTo: undefined }),
        decisions: { filter: { bool: { filter: filterClauses({ ...f, decisionsOnly: true }) } }, aggs: { docs } },
      },
    } as never);
    const aggs = r.aggregations as Record<string, { values?: { buckets: { key: string; docs: { value: number } }[] }; docs?: { value: number } }>;
    const values = (name: string): FacetValue[] => aggs[name].values!.buckets.map((b) => ({ value: String(b.key), count: b.docs.value }));
    const byValue = (a: FacetValue, b: FacetValue) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
    out.body = values('body').sort((a, b) => b.count - a.count || byValue(a, b));
    out.organisation = values('organisation').sort((a, b) => b.count - a.count || byValue(a, b));
    out.kind = values('kind').sort((a, b) => b.count - a.count || byValue(a, b));
    out.year = values('year').sort((a, b) => byValue(b, a));
    out.decisions = aggs.decisions.docs!.value;
    return out;
  }

  /** The documents index's rights filter (its entries carry access and groups like chunks). */
  private docFilter(principal: Principal): Query[] {
    const f = accessFilter(readerScope(principal));
    return f ? [f] : [];
  }

  /** What a chunk and a document summary both show of their document. */
  private documentFields(s: Source): Pick<DocumentSummary, 'title' | 'source' | 'organisation' | 'kind' | 'body' | 'date' | 'access'> {
    return {
      title: s.title,
      source: s.source,
      organisation: s.organisation ?? null,
      kind: s.kind,
      body: s.body ?? null,
      date: s.date ?? null,
      access: s.access,
    };
  }

  private summary(s: Source): DocumentSummary {
    return { id: s.id, ...this.documentFields(s), pageCount: s.pageCount, chunkCount: s.chunkCount };
  }

  async getDocument(id: string, principal: Principal): Promise<StoredDocument | null> {
    const r = await this.client.search<Source>({
      index: this.idx('documents'),
      size: 1,
      query: { bool: { filter: [{ ids: { values: [id] } }, ...this.docFilter(principal)] } },
    });
    const s = r.hits.hits[0]?._source;
    if (!s) return null;
    return {
      ...this.summary(s),
      sha256: s.sha256,
      mediaType: s.mediaType,
      paged: s.paged,
      caseNumbers: s.caseNumbers ?? [],
      groups: s.groups ?? [],
      ingestedAt: s.ingestedAt,
      pages: s.pages ?? [],
    };
  }

  async listDocuments(principal: Principal, opts: { limit?: number; offset?: number } = {}): Promise<DocumentSummary[]> {
    const r = await this.client.search<Source>({
      index: this.idx('documents'),
      from: opts.offset ?? 0,
      size: opts.limit ?? 100,
      query: { bool: { filter: this.docFilter(principal) } },
      sort: [{ date: { order: 'desc', missing: '_last' } }, { title: 'asc' }],
      _source_excludes: ['pages'],
    });
    return r.hits.hits.map((h) => this.summary(h._source!));
  }

  private async meetings(query: Query[], principal: Principal, sort: unknown[], size = 10_000): Promise<Source[]> {
    const r = await this.client.search<Source>({
      index: this.idx('meetings'),
      size,
      query: { bool: { filter: [...query, ...this.docFilter(principal)] } },
      sort: sort as never,
    });
    return r.hits.hits.map((h) => h._source!);
  }

  async meetingsOfDocument(documentId: string, principal: Principal): Promise<DocumentMeeting[]> {
    const rows = await this.meetings([{ term: { documentId } }], principal, [{ index: 'asc' }]);
    return rows.map((m) => ({ index: m.index, body: m.body ?? null, date: m.date ?? null, items: m.items }));
  }

  async getMeeting(documentId: string, index: number, principal: Principal): Promise<MeetingView | null> {
    const [m] = await this.meetings([{ ids: { values: [`${documentId}:${index}`] } }], principal, [], 1);
    if (!m) return null;
    return { documentId, index, title: m.title, source: m.source, access: m.access, meeting: m.meeting as Meeting };
  }

  async getCase(caseNorm: string, principal: Principal): Promise<CaseStep[]> {
    const rows = await this.meetings([{ term: { cases: caseNorm } }], principal, [
      { date: { order: 'asc', missing: '_last' } },
      { documentId: 'asc' },
      { index: 'asc' },
    ]);
    const steps: CaseStep[] = [];
    for (const m of rows) {
      for (const item of (m.meeting as Meeting).agendaItems) {
        if (item.caseIdNormalized !== caseNorm && item.archiveCaseIdNormalized !== caseNorm) continue;
        steps.push({ documentId: m.documentId, meetingIndex: m.index, title: m.title, body: m.body ?? null, date: m.date ?? null, item });
      }
    }
    return steps;
  }

  async meetingsOfBody(body: string, principal: Principal): Promise<BodyMeeting[]> {
    const rows = await this.meetings([{ term: { body } }], principal, [{ date: { order: 'desc', missing: '_last' } }, { documentId: 'asc' }, { index: 'asc' }]);
    return rows.map((m) => ({ documentId: m.documentId, index: m.index, date: m.date ?? null, title: m.title, items: m.items, decisions: m.decisions }));
  }

  // --- Caches, status, maintenance -------------------------------------------------------------

  async changes(): Promise<ChangeStamp | null> {
    const r = await this.client.search({
      index: this.names.changes,
      size: 0,
      track_total_hits: false,
      aggs: { add: { filter: { term: { kind: 'add' } } }, revoke: { filter: { term: { kind: 'revoke' } } } },
    });
    const a = r.aggregations as Record<string, { doc_count: number }>;
    return { add: a.add.doc_count, revoke: a.revoke.doc_count };
  }

  async revokedSince(since: number): Promise<Revocations | null> {
    const r = await this.client.search<Source>({
      index: this.names.changes,
      size: REVOCATIONS_MAX + 1,
      track_total_hits: false,
      // From the start (-1): only the recent entries, to mark them seen.
      query: {
        bool: { filter: [{ term: { kind: 'revoke' } }, { range: { seq: { gt: (since >= 0 ? since : Date.now() * 1000 - LOG_OVERLAP) - LOG_OVERLAP } } }] },
      },
      sort: [{ seq: 'asc' }],
      aggs: { head: { max: { field: 'seq' } } },
    });
    const head = (r.aggregations as { head: { value: number | null } }).head.value ?? 0;
    // Entries this store returned before are left out: the overlap is for late entries only.
    for (const [id, seq] of this.logSeen) if (seq < head - 2 * LOG_OVERLAP) this.logSeen.delete(id);
    const fresh = r.hits.hits.filter((h) => !this.logSeen.has(h._id!));
    for (const h of fresh) this.logSeen.set(h._id!, h._source!.seq);
    if (since < 0 || since >= head) return { to: head, complete: since >= 0, readers: false, documents: new Set() };
    const rows = fresh.map((h) => h._source!);
    return {
      to: head,
      complete: rows.length <= REVOCATIONS_MAX,
      readers: rows.some((e) => e.readers || e.documentId === '*'),
      documents: new Set(rows.map((e) => e.documentId as string)),
    };
  }

  async stats(): Promise<StoreStats> {
    const r = await this.client.search({
      index: this.idx('documents'),
      size: 0,
      track_total_hits: true,
      aggs: {
        pages: { sum: { field: 'pageCount' } },
        chunks: { sum: { field: 'chunkCount' } },
        access: { terms: { field: 'access', size: 10 } },
        kind: { terms: { field: 'kind', size: 100 } },
      },
    });
    const a = r.aggregations as Record<string, { value?: number; buckets?: { key: string; doc_count: number }[] }>;
    const buckets = (name: string) => Object.fromEntries(a[name].buckets!.map((b) => [b.key, b.doc_count]));
    const sizes = await this.client.indices.stats({ index: `${this.names.prefix}-*`, metric: 'store' });
    let indexBytes = 0;
    for (const [name, s] of Object.entries(sizes.indices ?? {})) {
      const p = this.names.parse(name);
      if (name === this.names.changes || (p && p.gen === this.gen) || (p && p.alias.startsWith(this.names.chunkAlias(''))))
        indexBytes += s.total?.store?.size_in_bytes ?? 0;
    }
    return {
      documents: totalOf(r.hits.total),
      chunks: a.chunks.value ?? 0,
      pages: a.pages.value ?? 0,
      indexBytes,
      embedder: await this.embedderInfo(),
      byAccess: buckets('access'),
      byKind: buckets('kind'),
    };
  }

  async status(): Promise<Record<string, unknown>> {
    const health = await this.client.cluster.health();
    const nodes = await this.client.nodes.info({ node_id: '_local', metric: 'settings' } as never).catch(() => null);
    const version = nodes ? Object.values((nodes as { nodes: Record<string, { version: string }> }).nodes)[0]?.version : undefined;
    const aliases: Record<string, string> = {};
    try {
      const r = await this.client.indices.getAlias({ index: `${this.names.prefix}-*` });
      for (const [index, v] of Object.entries(r)) for (const alias of Object.keys(v.aliases ?? {})) aliases[alias] = index;
    } catch (err) {
      if (status(err) !== 404) throw err;
    }
    return {
      backend: 'elasticsearch',
      url: this.cfg.nodes.join(','),
      version,
      cluster: health.cluster_name,
      health: health.status,
      prefix: this.names.prefix,
      generation: this.gen,
      aliases: Object.fromEntries(Object.entries(aliases).sort()),
      changes: this.names.changes,
    };
  }

  async optimize(_budgetMs: number): Promise<string[]> {
    // Elasticsearch merges its segments itself.
    return [];
  }

  /**
   * A new generation of every index beside the live one; commit() points every alias at it in
   * one request (the old generation's indices go in the same request) and tells the caches
   * that everything changed. Live writes meanwhile go to the old generation and are lost with it.
   */
  async rebuild(): Promise<Rebuild> {
    if (this.opts.mode !== 'live') throw new Error('A rebuild is started from the live store');
    await this.chain;
    const existing = (await this.client.cat.indices({ index: `${this.names.prefix}-*`, format: 'json', h: 'index' })) as { index: string }[];
    const gens = existing.map((i) => this.names.parse(i.index)?.gen ?? 0);
    const next = Math.max(this.gen, ...gens) + 1;
    const pattern = this.names.generationPattern(next);
    const store = new ElasticsearchStore(this.client, this.cfg, { mode: 'rebuild', ownsClient: false, gen: next });
    await store.init();
    return {
      store,
      target: pattern,
      commit: async () => {
        await store.chain;
        await this.client.indices.refresh({ index: pattern, ignore_unavailable: true });
        const current = await this.client.indices.getAlias({ index: `${this.names.prefix}-*` });
        const actions: Source[] = [];
        const built = (await this.client.cat.indices({ index: pattern, format: 'json', h: 'index' })) as { index: string }[];
        for (const { index } of built) {
          const p = this.names.parse(index);
          if (p) actions.push({ add: { index, alias: p.alias } });
        }
        // Removing the old generation's indices removes their aliases, in the same request.
        for (const index of Object.keys(current)) {
          const p = this.names.parse(index);
          if (p && p.gen !== next) actions.push({ remove_index: { index } });
        }
        await this.client.indices.updateAliases({ actions: actions as never });
        this.gen = next;
        this.embedder = undefined;
        this.scopeCache = null;
        this.knownScopes.clear();
        this.concreteCache.clear();
        this.knownTerms.clear();
        this.absentTerms.clear();
        this.dfCache.clear();
        await this.log([{ kind: 'revoke', documentId: '*', readers: true }]);
      },
      abort: async () => {
        await store.chain.catch(() => undefined);
        await this.client.indices.delete({ index: pattern, ignore_unavailable: true, allow_no_indices: true } as never);
      },
    };
  }

  replaced(): boolean {
    return false;
  }

  async close(): Promise<void> {
    await this.chain.catch(() => undefined);
    if (this.purges.size) {
      console.error(
        `[innsikt] waiting up to ${PURGE_AFTER_MS / 1000} s for Elasticsearch to drop documents that changed access from the statistics of ${[...this.purges.keys()].join(', ')}`,
      );
      await this.settled();
    }
    if (this.opts.ownsClient) await this.client.close();
  }
}

function totalOf(total: unknown): number {
  if (typeof total === 'number') return total;
  return (total as { value?: number } | undefined)?.value ?? 0;
}
