/**
 * The vector index of the embedded store: int8 copies of the chunk vectors in memory, scored
 * exactly by a WebAssembly SIMD kernel that reads only the query's non-zero dimensions
 * (int8-columns.ts), used by SqliteStore.vector() once an index holds VECTOR_INDEX_MIN_VECTORS
 * vectors. The float32 vectors in SQLite stay the truth: the best candidates of the int8 scan
 * are rescored exactly, and access-checked, in SQL.
 *
 * Glossary:
 * - partition: all chunks whose documents share one access level and group list
 *   (`public`, `internal`, `protected` + ["barnevern"], ...), stored and scanned on their own.
 * - vector log: the table `vector_log`, filled by triggers on every insert/delete of a vector
 *   and every change of a document's access, so any process can see what changed since the
 *   state its copy reflects (`seq`).
 *
 * Invariants:
 * - Access: a principal's query only ever scans the partitions it may read, chosen by the ONE
 *   access clause (access.ts) evaluated in SQL over the partitions' (access, groups). Unreadable
 *   chunks are never compared, so they cannot take a candidate slot or change a ranking; the
 *   exact rescoring query applies the access clause again to every candidate.
 * - The copy never answers for a state older than the database: before each search the log
 *   entries after `seq` are applied (or the copy rebuilt when that is cheaper), in one read
 *   transaction with the vectors they refer to.
 * - The saved files (`index.sqlite.vectors/`) are a cache: any missing, unreadable or
 *   mismatched file means a rebuild from chunk_vectors, never a wrong answer.
 *
 * Why an exact int8 scan and not a graph (HNSW): measured with `npm run bench` (section
 * "vector", docs/benchmarks.md). Queries are a few words, documents hundreds, so a query's
 * nearest chunks have cosine 0.1-0.5 and are not near each other; usearch's HNSW (M 32) then
 * found 0.969 of the exact top 10 at 100k chunks with 800 candidates walked, and at 1M 0.922,
 * 0.956 and 0.964 with 800, 1600 and 3200: below the 0.98 we require. The int8 scan finds all
 * of them (recall 1.0 at 10k, 100k and 1M).
 *
 * Why stored by dimension: the local embedder's query vectors have 10-120 non-zero dimensions
 * of 2048, so a scan that reads only those reads a few percent of the bytes a row-by-row scan
 * reads (that one, usearch's exact search, was bound by memory bandwidth: ~25 ms per 100k
 * vectors). A dense query (an OpenAI embedding) reads every dimension, at about the cost of the
 * row-by-row scan.
 *
 * Why int8 with our own scaling: usearch's float-to-int8 cast divides by the L2 norm and
 * truncates, which leaves 2048-dimensional unit vectors (components ~0.02) with 2-3 levels;
 * scaling each vector by its largest component keeps ~7 bits per component, and cosine does
 * not care about the per-vector scale. Measured error against float32 cosine: 0.0004 on
 * average, 0.006 at most (see SIMILARITY_MARGIN).
 */

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { AccessClause } from './access.ts';
import { type Block, ColumnStore, capFor, type Segment, topK } from './int8-columns.ts';
import type { RankedRow } from './sqlite-store.ts';

export interface VectorIndexOptions {
  /** Candidates rescored exactly per result wanted. */
  oversample?: number;
  /** Save the copy next to the database (default: yes for a file database). */
  persist?: boolean;
  /**
   * Rows per block of a partition (default 32768: 64 MB at 2048 dimensions, the most memory a
   * growing partition leaves unused). Small values let tests cross block boundaries.
   */
  blockRows?: number;
  /**
   * Never rescore more than this many candidates (default 8192); beyond it the exact scan in
   * SQL runs, unless the filter's rows can be listed (VectorSearch.allow). Small in tests.
   */
  maxCandidates?: number;
}

/**
 * Defaults, measured with `npm run bench` on the 100k- and 1M-chunk synthetic indexes with the
 * local embedder (docs/benchmarks.md): the int8 order differs from the exact one only within
 * SIMILARITY_MARGIN, so 2 × limit candidates hold the exact top `limit`. Re-measure before
 * changing; recall@10 against the exact scan must stay >= 0.98.
 */
export const VECTOR_INDEX_DEFAULTS: Required<Omit<VectorIndexOptions, 'persist'>> = {
  oversample: 2,
  blockRows: 32768,
  maxCandidates: 8192,
};

/**
 * Candidates whose int8 similarity is this far below the threshold are not rescored. Measured
 * on 55k query-chunk pairs (local embedder, 2048 dimensions): |int8 - exact cosine| is 0.0004
 * on average, 0.0025 at p99.9, 0.006 at most.
 */
const SIMILARITY_MARGIN = 0.01;
/** 2: blocks stored by dimension (int8-columns.ts), with each row's inverse norm. */
const FORMAT = 2;

/** One access partition: its int8 rows in blocks (all full but the last), and their rowids. */
interface Partition {
  pid: number;
  access: string;
  groups: string;
  blocks: Block[];
  /** Chunk rowid of each slot (slot = block * blockRows + row). */
  slotRow: number[];
  dirty: boolean;
}

interface Manifest {
  format: number;
  embedderId: string;
  dimensions: number;
  seq: number;
  /** caps: each block's capacity in rows, as stored (cap × dimensions bytes, by dimension). */
  partitions: { pid: number; access: string; groups: string; file: string; rows: number; caps: number[]; check: string }[];
  savedAt: string;
}

/** The SQL that keeps the vector log (part of the store's schema). */
export const VECTOR_LOG_SCHEMA = `
CREATE TABLE IF NOT EXISTS vector_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, chunk_rowid INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS chunk_vectors_logged_insert AFTER INSERT ON chunk_vectors
  BEGIN INSERT INTO vector_log (chunk_rowid) VALUES (new.rowid); END;
CREATE TRIGGER IF NOT EXISTS chunk_vectors_logged_delete AFTER DELETE ON chunk_vectors
  BEGIN INSERT INTO vector_log (chunk_rowid) VALUES (old.rowid); END;
CREATE TRIGGER IF NOT EXISTS chunk_vectors_logged_update AFTER UPDATE ON chunk_vectors
  BEGIN INSERT INTO vector_log (chunk_rowid) VALUES (old.rowid); INSERT INTO vector_log (chunk_rowid) VALUES (new.rowid); END;
CREATE TRIGGER IF NOT EXISTS documents_logged_access AFTER UPDATE OF access, groups ON documents
  BEGIN INSERT INTO vector_log (chunk_rowid) SELECT rowid FROM chunks WHERE document_id = new.id; END;
`;

/** int8 copy of a vector, scaled by its largest component (cosine ignores the scale). */
export function quantizeI8(v: Float32Array, out = new Int8Array(v.length)): Int8Array {
  let max = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (a > max) max = a;
  }
  const s = max > 0 ? 127 / max : 0;
  for (let i = 0; i < v.length; i++) out[i] = Math.round(v[i] * s);
  return out;
}

/**
 * A fingerprint of a saved file: its length and a hash of its first and last 64 KiB. Catches a
 * file truncated or replaced without hashing gigabytes at every start.
 */
function fingerprint(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const span = Math.min(65536, size);
    const head = Buffer.alloc(span);
    const tail = Buffer.alloc(span);
    fs.readSync(fd, head, 0, span, 0);
    fs.readSync(fd, tail, 0, span, size - span);
    return `${size}:${crypto.createHash('sha1').update(head).update(tail).digest('hex')}`;
  } finally {
    fs.closeSync(fd);
  }
}

export interface VectorSearch {
  acl: AccessClause;
  limit: number;
  minSimilarity: number;
  /**
   * Exact rescoring of candidate rowids in SQL, with the access clause and filters inside:
   * the best `limit` at or above minSimilarity, best first.
   */
  rescore: (rowids: number[], limit: number) => RankedRow[];
  /**
   * With filters: the share of the readable documents that pass them (from SQL), so the scan
   * fetches enough candidates at once; a very selective filter goes to the exact scan, which
   * SQLite then runs over the few matching chunks only.
   */
  filterShare?: () => number;
  /**
   * With a filter too selective for that: the readable rows it keeps (ascending), or null. The
   * scan then takes its candidates among those rows only, as many as without a filter.
   */
  allow?: () => Uint32Array | null;
}

type VectorRow = { rowid: number; embedding: Buffer; access: string; groups: string };

export class VectorIndex {
  readonly dir: string | null;
  private readonly opts: Required<Omit<VectorIndexOptions, 'persist'>>;
  private partitions = new Map<number, Partition>();
  private byKey = new Map<string, Partition>();
  /** Partition id (0: not held) and slot of each chunk rowid. */
  private rowPartition = new Uint16Array(1024);
  private rowSlot = new Int32Array(1024);
  /** The int8 blocks' memory (set with the embedder's dimensions). */
  private cols: ColumnStore | null = null;
  /** Rows per partition key while build() runs. */
  private sizeHint: Map<string, number> | null = null;
  private seq = 0;
  private embedder: { id: string; dimensions: number } | null = null;
  private readonly readableStmts = new Map<string, Database.Statement>();
  private nextPid = 1;
  /** Log entries applied since the last save. */
  private unsaved = 0;
  /** Whether the saved copy was looked for (sync() does that once). */
  private opened = false;
  /** Where the copy in memory came from: saved files, or a build from chunk_vectors. */
  origin: 'loaded' | 'built' | null = null;
  /** What the last search did: partitions scanned, widening rounds, candidates rescored. */
  lastSearch: { partitions: number; rounds: number; candidates: number; fellBack: boolean } | null = null;

  constructor(
    private readonly db: Database.Database,
    dbFile: string,
    opts: VectorIndexOptions = {},
  ) {
    this.opts = { ...VECTOR_INDEX_DEFAULTS, ...opts };
    this.dir = dbFile !== ':memory:' && opts.persist !== false ? `${dbFile}.vectors` : null;
  }

  get size(): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.slotRow.length;
    return n;
  }

  get partitionCount(): number {
    return this.partitions.size;
  }

  /** Bytes of memory held for the int8 rows (WebAssembly memory: blocks, free space, scratch). */
  get memoryBytes(): number {
    return this.cols?.bytes ?? 0;
  }

  /** The log position the copy reflects. */
  get position(): number {
    return this.seq;
  }

  private meta(key: string): string | null {
    const r = this.db.prepare(`SELECT value FROM meta WHERE key = ?`).get(key) as { value: string } | undefined;
    return r?.value ?? null;
  }

  private currentEmbedder(): { id: string; dimensions: number } | null {
    const id = this.meta('embedder_id');
    const dims = this.meta('embedder_dimensions');
    return id && dims ? { id, dimensions: Number(dims) } : null;
  }

  private logHead(): number {
    const r = this.db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'`).get() as { seq: number } | undefined;
    return r?.seq ?? 0;
  }

  private reset(): void {
    this.partitions = new Map();
    this.byKey = new Map();
    this.rowPartition = new Uint16Array(1024);
    this.rowSlot = new Int32Array(1024);
    this.nextPid = 1;
    this.seq = 0;
    this.cols = null;
  }

  /** Set the embedder the copy holds, and fresh memory for its blocks. */
  private useEmbedder(e: { id: string; dimensions: number } | null): void {
    this.embedder = e;
    this.cols = e ? new ColumnStore(e.dimensions, capFor(this.opts.blockRows)) : null;
  }

  private partitionFor(access: string, groups: string): Partition {
    const key = `${access}\u0000${groups}`;
    let p = this.byKey.get(key);
    if (!p) {
      if (this.nextPid > 0xffff) throw new Error('vector index: more than 65535 access partitions');
      p = { pid: this.nextPid++, access, groups, blocks: [], slotRow: [], dirty: true };
      this.partitions.set(p.pid, p);
      this.byKey.set(key, p);
    }
    return p;
  }

  private setRow(rowid: number, pid: number, slot: number): void {
    if (rowid >= this.rowPartition.length) {
      let n = this.rowPartition.length;
      while (n <= rowid) n *= 2;
      const rp = new Uint16Array(n);
      rp.set(this.rowPartition);
      this.rowPartition = rp;
      const rs = new Int32Array(n);
      rs.set(this.rowSlot);
      this.rowSlot = rs;
    }
    this.rowPartition[rowid] = pid;
    this.rowSlot[rowid] = slot;
  }

  /** Append a row; the last block grows by doubling up to blockRows rows, then a new one starts. */
  private append(p: Partition, rowid: number, v: Int8Array): void {
    const cols = this.cols!;
    const br = this.opts.blockRows;
    const slot = p.slotRow.length;
    const b = Math.floor(slot / br);
    const row = slot % br;
    if (b === p.blocks.length) {
      // During a build the partition's size is known: allocate the block at its final size.
      const expected = this.sizeHint?.get(`${p.access}\u0000${p.groups}`) ?? 0;
      p.blocks.push(cols.block(capFor(Math.min(br, Math.max(256, expected - slot)))));
    }
    let block = p.blocks[b];
    if (row >= block.cap) p.blocks[b] = block = cols.resize(block, row, capFor(Math.min(br, Math.max(256, block.cap * 2))));
    cols.write(block, row, v);
    p.slotRow.push(rowid);
    this.setRow(rowid, p.pid, slot);
    p.dirty = true;
  }

  /** Remove a row: the last row of the partition moves into its slot. */
  private removeRow(rowid: number): void {
    const pid = rowid < this.rowPartition.length ? this.rowPartition[rowid] : 0;
    if (!pid) return;
    const p = this.partitions.get(pid)!;
    const br = this.opts.blockRows;
    const slot = this.rowSlot[rowid];
    const last = p.slotRow.length - 1;
    if (slot !== last) {
      this.cols!.move(p.blocks[Math.floor(last / br)], last % br, p.blocks[Math.floor(slot / br)], slot % br);
      const moved = p.slotRow[last];
      p.slotRow[slot] = moved;
      this.rowSlot[moved] = slot;
    }
    p.slotRow.pop();
    if (p.slotRow.length % br === 0 && p.blocks.length > Math.ceil(p.slotRow.length / br)) this.cols!.release(p.blocks.pop()!);
    this.rowPartition[rowid] = 0;
    p.dirty = true;
  }

  private addRows(rows: Iterable<VectorRow>): void {
    const dims = this.embedder!.dimensions;
    const f = new Float32Array(dims);
    const q = new Int8Array(dims);
    const bytes = new Uint8Array(f.buffer);
    for (const r of rows) {
      if (r.embedding.byteLength !== dims * 4) throw new Error(`vector index: vector of ${r.embedding.byteLength / 4} dimensions, expected ${dims}`);
      bytes.set(r.embedding); // copy: the blob's offset need not be 4-aligned
      this.append(this.partitionFor(r.access, r.groups), r.rowid, quantizeI8(f, q));
    }
  }

  /** Build the copy from chunk_vectors (in one read transaction with the log position). */
  build(): void {
    this.opened = true;
    this.origin = 'built';
    this.db.transaction(() => {
      this.reset();
      this.useEmbedder(this.currentEmbedder());
      this.seq = this.logHead();
      if (!this.embedder) return;
      // Each partition's size first, so its blocks are allocated at their final capacity: grown
      // by doubling, a block leaves its smaller predecessors behind as free space (WebAssembly
      // memory never shrinks): 438 MB held for 195 MB of rows at 100k.
      this.sizeHint = new Map(
        (
          this.db
            .prepare(
              `SELECT d.access AS access, d.groups AS groups, count(*) AS n
               FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid JOIN documents d ON d.id = c.document_id GROUP BY d.access, d.groups`,
            )
            .all() as { access: string; groups: string; n: number }[]
        ).map((r) => [`${r.access}\u0000${r.groups}`, r.n]),
      );
      this.addRows(
        this.db
          .prepare(
            `SELECT v.rowid AS rowid, v.embedding AS embedding, d.access AS access, d.groups AS groups
             FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid JOIN documents d ON d.id = c.document_id`,
          )
          .iterate() as Iterable<VectorRow>,
      );
      // The last block of each partition grew by doubling: give back what it does not use.
      for (const p of this.partitions.values()) {
        const b = p.blocks.length - 1;
        const used = p.slotRow.length - b * this.opts.blockRows;
        if (b >= 0 && capFor(used) < p.blocks[b].cap) p.blocks[b] = this.cols!.resize(p.blocks[b], used, capFor(used));
      }
    })();
    this.sizeHint = null;
    this.unsaved = Number.POSITIVE_INFINITY;
  }

  /**
   * Bring the copy up to the database's current state: load the saved copy on first use (or
   * build it), then apply the vector log since its position, or rebuild when the embedder
   * changed or most vectors did.
   */
  sync(): void {
    if (!this.opened) {
      this.opened = true;
      if (!this.load()) {
        this.build();
        this.save();
      }
    }
    if (this.logHead() === this.seq) return;
    const current = this.currentEmbedder();
    if (!current || !this.embedder || current.id !== this.embedder.id || current.dimensions !== this.embedder.dimensions) {
      this.build();
      return;
    }
    // Another process saved and pruned the log past our position: start from its files.
    if (Number(this.meta('vector_log_pruned_to') ?? 0) > this.seq) {
      if (!this.load() || Number(this.meta('vector_log_pruned_to') ?? 0) > this.seq) {
        this.build();
        return;
      }
    }
    try {
      this.db.transaction(() => {
        const to = this.logHead();
        const changed = this.db.prepare(`SELECT DISTINCT chunk_rowid FROM vector_log WHERE seq > ? AND seq <= ?`).pluck().all(this.seq, to) as number[];
        if (changed.length > Math.max(10_000, this.size * 0.3)) {
          this.build();
          return;
        }
        // Remove every changed rowid, then add back the ones that exist now, as they are now.
        for (const r of changed) this.removeRow(r);
        this.addRows(
          this.db
            .prepare(
              `SELECT v.rowid AS rowid, v.embedding AS embedding, d.access AS access, d.groups AS groups
               FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid JOIN documents d ON d.id = c.document_id
               WHERE v.rowid IN (SELECT value FROM json_each(@ids))`,
            )
            .all({ ids: JSON.stringify(changed) }) as VectorRow[],
        );
        this.unsaved += to - this.seq;
        this.seq = to;
      })();
    } catch (err) {
      // Half-applied changes: start afresh from the database.
      this.build();
      if (this.logHead() !== this.seq) throw err;
    }
  }

  /** The partitions the access clause lets this caller read, decided in SQL. */
  private readable(acl: AccessClause): Partition[] {
    const all = [...this.partitions.values()].filter((p) => p.slotRow.length > 0);
    if (acl.sql === '1 = 1') return all;
    let stmt = this.readableStmts.get(acl.sql);
    if (!stmt) {
      stmt = this.db.prepare(
        `WITH d (pid, access, groups) AS (
           SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(@parts))
         SELECT d.pid AS pid FROM d WHERE ${acl.sql}`,
      );
      stmt.pluck();
      this.readableStmts.set(acl.sql, stmt);
    }
    const ok = new Set(stmt.all({ parts: JSON.stringify(all.map((p) => [p.pid, p.access, p.groups])), ...acl.params }) as number[]);
    return all.filter((p) => ok.has(p.pid));
  }

  /**
   * The k most similar rows of the given partitions by int8 cosine: rowids and similarities,
   * best first. Only the query's non-zero dimensions are read (int8-columns.ts).
   */
  private scan(parts: Partition[], q: Int8Array, k: number, keep?: (rowid: number) => boolean): { rowids: number[]; sims: number[] } {
    const br = this.opts.blockRows;
    const segments: Segment[] = [];
    for (const p of parts) {
      p.blocks.forEach((block, b) => {
        const n = Math.min(br, p.slotRow.length - b * br);
        if (n > 0) segments.push({ block, n, rowids: p.slotRow, first: b * br });
      });
    }
    return topK(segments, q, k, keep);
  }

  /**
   * The vector leg: the best candidates of the readable partitions by int8 similarity,
   * rescored exactly in SQL. Returns null when the caller should run the exact scan instead
   * (a filter leaves too few candidates even after widening).
   */
  search(query: Float32Array, req: VectorSearch): RankedRow[] | null {
    this.sync();
    if (!this.embedder || query.length !== this.embedder.dimensions) return null;
    const parts = this.readable(req.acl);
    const stat: NonNullable<VectorIndex['lastSearch']> = { partitions: parts.length, rounds: 0, candidates: 0, fellBack: false };
    this.lastSearch = stat;
    if (!parts.length) return [];
    const total = parts.reduce((a, p) => a + p.slotRow.length, 0);
    const q = quantizeI8(query);
    const floor = req.minSimilarity - SIMILARITY_MARGIN;
    const max = this.opts.maxCandidates;
    let k = Math.max(req.limit * this.opts.oversample, 32);
    let keep: ((rowid: number) => boolean) | undefined;
    if (req.filterShare) {
      const share = req.filterShare();
      if (share <= 0) return [];
      const widened = Math.ceil(k / share);
      const allow = widened < total ? (req.allow?.() ?? null) : null;
      if (allow) {
        // Candidates among the filter's rows only: the scan costs what an unfiltered one does,
        // and only k are rescored, where k / share were (6,222 for a year at 1M chunks with
        // limit 100: 116-208 ms), or the exact scan ran over all the filter's rows.
        if (!allow.length) return [];
        const bits = new Uint8Array(allow[allow.length - 1] + 1);
        for (let i = 0; i < allow.length; i++) bits[allow[i]] = 1;
        keep = (rowid) => rowid < bits.length && bits[rowid] === 1;
      } else {
        k = widened;
        if (k > max && k < total) {
          stat.fellBack = true;
          return null;
        }
      }
    }
    k = Math.min(k, total);
    for (;;) {
      const { rowids, sims } = this.scan(parts, q, k, keep);
      let n = 0;
      while (n < rowids.length && sims[n] >= floor) n++;
      stat.rounds++;
      stat.candidates += n;
      const ranked = req.rescore(rowids.slice(0, n), req.limit);
      // Done when enough passed, or when every candidate at or above the floor was rescored.
      // (Fewer than k came back: every candidate row was seen, as with a filter's few rows.)
      if (ranked.length >= req.limit || n < rowids.length || rowids.length >= total || rowids.length < k) return ranked;
      // Too few passed the exact threshold, the access check or a filter: look further.
      if (k >= max) {
        stat.fellBack = true;
        return null;
      }
      k = Math.min(k * 4, max);
    }
  }

  /** Load the saved copy; false when there is none or it does not fit this database. */
  load(): boolean {
    if (!this.dir) return false;
    let manifest: Manifest;
    try {
      manifest = JSON.parse(fs.readFileSync(path.join(this.dir, 'manifest.json'), 'utf8')) as Manifest;
    } catch {
      return false;
    }
    const current = this.currentEmbedder();
    if (
      manifest.format !== FORMAT ||
      !current ||
      manifest.embedderId !== current.id ||
      manifest.dimensions !== current.dimensions ||
      manifest.seq > this.logHead()
    ) {
      return false;
    }
    try {
      this.reset();
      this.useEmbedder(current);
      const cols = this.cols!;
      const dims = current.dimensions;
      const br = this.opts.blockRows;
      for (const m of manifest.partitions) {
        const file = path.join(this.dir, m.file);
        if (fingerprint(file) !== m.check) throw new Error(`vector index: ${m.file} does not match its manifest`);
        if (m.caps.length !== Math.ceil(m.rows / br)) throw new Error(`vector index: ${m.file} has blocks of another size`);
        // File: rows × int32 rowid, rows × float32 inverse norm, then each block (cap × dims int8, by dimension).
        const fd = fs.openSync(file, 'r');
        try {
          const ids = new Int32Array(m.rows);
          const inv = new Float32Array(m.rows);
          fs.readSync(fd, new Uint8Array(ids.buffer), 0, ids.byteLength, 0);
          fs.readSync(fd, new Uint8Array(inv.buffer), 0, inv.byteLength, ids.byteLength);
          const p: Partition = { pid: m.pid, access: m.access, groups: m.groups, blocks: [], slotRow: Array.from(ids), dirty: false };
          let pos = ids.byteLength + inv.byteLength;
          m.caps.forEach((cap, b) => {
            const n = Math.min(br, m.rows - b * br);
            if (cap < n || cap !== capFor(cap)) throw new Error(`vector index: ${m.file}: block ${b} of capacity ${cap} for ${n} rows`);
            const block = cols.block(cap);
            const data = cols.data(block);
            if (fs.readSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, data.byteLength, pos) !== data.byteLength) {
              throw new Error(`vector index: ${m.file} is shorter than its manifest says`);
            }
            pos += data.byteLength;
            block.inv.set(inv.subarray(b * br, b * br + n));
            p.blocks.push(block);
          });
          p.slotRow.forEach((rowid, slot) => this.setRow(rowid, p.pid, slot));
          this.partitions.set(p.pid, p);
          this.byKey.set(`${p.access}\u0000${p.groups}`, p);
          this.nextPid = Math.max(this.nextPid, p.pid + 1);
        } finally {
          fs.closeSync(fd);
        }
      }
      this.seq = manifest.seq;
      this.unsaved = 0;
      this.opened = true;
      this.origin = 'loaded';
      return true;
    } catch {
      this.reset();
      this.useEmbedder(null);
      return false;
    }
  }

  /**
   * Save the copy (when it changed) and prune the log up to the saved position. Files are
   * written under new names and the manifest is renamed last, so a reader sees the old set or
   * the new one, never a mix.
   */
  save(opts: { prune?: boolean } = {}): void {
    if (!this.dir || this.db.readonly) return;
    // Save the newest state, so that pruning the log never drops entries the files lack.
    this.sync();
    if (!this.embedder) return;
    if (this.unsaved === 0 && ![...this.partitions.values()].some((p) => p.dirty)) return;
    const manifestFile = path.join(this.dir, 'manifest.json');
    try {
      const old = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
      if (old.seq > this.seq) return; // another process saved a newer state
    } catch {
      /* no manifest yet */
    }
    fs.mkdirSync(this.dir, { recursive: true });
    const dims = this.embedder.dimensions;
    const gen = `${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
    const partitions: Manifest['partitions'] = [];
    for (const p of this.partitions.values()) {
      const file = `p${p.pid}-${gen}.i8`;
      const full = path.join(this.dir, file);
      const fd = fs.openSync(full, 'w');
      const br = this.opts.blockRows;
      try {
        fs.writeSync(fd, new Uint8Array(Int32Array.from(p.slotRow).buffer));
        const inv = new Float32Array(p.slotRow.length);
        p.blocks.forEach((b, i) => inv.set(b.inv.subarray(0, Math.min(br, p.slotRow.length - i * br)), i * br));
        fs.writeSync(fd, new Uint8Array(inv.buffer));
        for (const b of p.blocks) {
          const data = this.cols!.data(b);
          fs.writeSync(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        }
      } finally {
        fs.closeSync(fd);
      }
      partitions.push({
        pid: p.pid,
        access: p.access,
        groups: p.groups,
        file,
        rows: p.slotRow.length,
        caps: p.blocks.map((b) => b.cap),
        check: fingerprint(full),
      });
    }
    const manifest: Manifest = { format: FORMAT, embedderId: this.embedder.id, dimensions: dims, seq: this.seq, partitions, savedAt: new Date().toISOString() };
    const tmp = `${manifestFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(manifest, null, 1));
    fs.renameSync(tmp, manifestFile);
    const keep = new Set([...partitions.map((p) => p.file), 'manifest.json']);
    for (const f of fs.readdirSync(this.dir)) if (!keep.has(f) && !f.endsWith('.tmp')) fs.rmSync(path.join(this.dir, f), { force: true });
    for (const p of this.partitions.values()) p.dirty = false;
    this.unsaved = 0;
    if (opts.prune !== false && this.seq > 0) {
      this.db.transaction(() => {
        this.db.prepare(`DELETE FROM vector_log WHERE seq <= ?`).run(this.seq);
        this.db
          .prepare(`INSERT INTO meta (key, value) VALUES ('vector_log_pruned_to', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`)
          .run(String(this.seq));
      })();
    }
  }

  /**
   * Compare the copy with the database, row by row: every vector held once, in the partition
   * of its document's access, with the int8 values of its current float32 vector. Returns the
   * problems found (none: an empty list). For tests and diagnostics; reads every vector.
   */
  check(): string[] {
    this.sync();
    const problems: string[] = [];
    const dims = this.embedder?.dimensions ?? 0;
    const seen = new Set<number>();
    for (const p of this.partitions.values()) {
      p.slotRow.forEach((rowid, slot) => {
        if (seen.has(rowid)) problems.push(`rowid ${rowid} held twice`);
        seen.add(rowid);
        if (this.rowPartition[rowid] !== p.pid || this.rowSlot[rowid] !== slot) problems.push(`rowid ${rowid}: wrong slot map`);
      });
    }
    const f = new Float32Array(dims);
    for (const r of this.db
      .prepare(
        `SELECT v.rowid AS rowid, v.embedding AS embedding, d.access AS access, d.groups AS groups
         FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid JOIN documents d ON d.id = c.document_id`,
      )
      .iterate() as Iterable<VectorRow>) {
      const pid = this.rowPartition[r.rowid] ?? 0;
      const p = this.partitions.get(pid);
      if (!p || !seen.delete(r.rowid)) {
        problems.push(`rowid ${r.rowid} missing`);
        continue;
      }
      if (p.access !== r.access || p.groups !== r.groups)
        problems.push(`rowid ${r.rowid} in partition ${p.access} ${p.groups}, document is ${r.access} ${r.groups}`);
      new Uint8Array(f.buffer).set(r.embedding);
      const slot = this.rowSlot[r.rowid];
      const row = this.cols!.read(p.blocks[Math.floor(slot / this.opts.blockRows)], slot % this.opts.blockRows);
      const want = quantizeI8(f);
      if (row.some((x, i) => x !== want[i])) problems.push(`rowid ${r.rowid}: int8 row differs from its vector`);
    }
    for (const r of seen) problems.push(`rowid ${r} held but not in the database`);
    return problems;
  }

  /** Bytes of the saved copy on disk (0 when not saved). */
  diskBytes(): number {
    if (!this.dir || !fs.existsSync(this.dir)) return 0;
    return fs.readdirSync(this.dir).reduce((a, f) => a + fs.statSync(path.join(this.dir!, f)).size, 0);
  }
}
