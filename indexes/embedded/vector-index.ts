/**
 * The approximate vector index of the embedded store: HNSW graphs (usearch) over int8 copies
 * of the chunk vectors, used by SqliteStore.vector() once an index holds enough vectors that
 * the exact scan in SQL gets slow (see ANN_MIN_VECTORS). The float32 vectors in SQLite stay the
 * truth: every candidate the graphs propose is rescored exactly, and access-checked, in SQL.
 *
 * Glossary:
 * - partition: all chunks whose documents share one access level and group list
 *   (`public`, `internal`, `protected` + ["barnevern"], ...). Each partition has its own graph.
 * - vector log: the table `vector_log`, filled by triggers on every insert/delete of a vector
 *   and every change of a document's access, so any process can see what changed since the
 *   state its graphs reflect (`seq`).
 *
 * Invariants:
 * - Access: a principal's query only ever walks the graphs of partitions it may read, chosen by
 *   the ONE access clause (access.ts) evaluated in SQL over the partitions' (access, groups).
 *   Unreadable chunks are never visited, so they cannot take a candidate slot or change a
 *   ranking; the exact rescoring query applies the access clause again to every candidate.
 * - A graph never answers for a state older than the database: before each search the log
 *   entries after `seq` are applied (or the graphs rebuilt when that is cheaper), in one read
 *   transaction with the vectors they refer to.
 * - The persisted files (`index.sqlite.vectors/`) are a cache: any missing, unreadable or
 *   mismatched file means a rebuild from chunk_vectors, never a wrong answer.
 *
 * Why int8 with our own scaling: usearch's float-to-int8 cast divides by the L2 norm and
 * truncates, which leaves 2048-dimensional unit vectors (components ~0.02) with 2-3 levels;
 * scaling each vector by its largest component keeps ~7 bits per component, and cosine does
 * not care about the per-vector scale. `npm run bench` (section "vector") measures recall.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import type { AccessClause } from './access.ts';
import type { RankedChunk } from '../store.ts';

// --- usearch, through its native binding --------------------------------------------------
// The JavaScript wrapper converts every typed array to Float32Array before the binding sees
// it, so int8 vectors would be re-quantised by usearch's cast (see above). The binding itself
// takes Int8Array as is; this is the class the wrapper wraps (usearch ~2.25).

interface NativeIndex {
  add(keys: BigUint64Array, vectors: Float32Array | Int8Array, threads: number): void;
  search(query: Float32Array | Int8Array, k: number, threads: number): [BigUint64Array, Float32Array, BigUint64Array];
  remove(keys: BigUint64Array): number[];
  size(): number;
  save(path: string): void;
  load(path: string): void;
}
type NativeCtor = new (
  dimensions: number,
  metric: string,
  quantization: string,
  connectivity: number,
  expansionAdd: number,
  expansionSearch: number,
  multi: boolean,
) => NativeIndex;

let nativeCtor: NativeCtor | null = null;
function native(): NativeCtor {
  if (nativeCtor) return nativeCtor;
  const require = createRequire(import.meta.url);
  const entry = require.resolve('usearch'); // <root>/javascript/dist/cjs/usearch.js
  const root = path.resolve(path.dirname(entry), '../../..');
  const load = createRequire(entry)('node-gyp-build') as (dir: string) => { CompiledIndex: NativeCtor };
  nativeCtor = load(root).CompiledIndex;
  return nativeCtor;
}

// --- Parameters -------------------------------------------------------------------------

export type VectorQuantization = 'i8' | 'f16' | 'f32';

export interface VectorIndexOptions {
  /** How the graphs store vectors (default i8: 1 byte per dimension). */
  quantization?: VectorQuantization;
  /** HNSW links per node (usearch `connectivity`). */
  connectivity?: number;
  /** Candidate list while inserting (usearch `expansion_add`). */
  expansionAdd?: number;
  /** Candidates rescored exactly per result wanted. */
  oversample?: number;
  /** Breadth of the graph search (usearch `expansion_search`): candidates walked per query. */
  expansionSearch?: number;
  /** Persist the graphs next to the database (default: yes for a file database). */
  persist?: boolean;
}

/**
 * Defaults, measured with `npm run bench` (section "vector") on the 100k- and 1M-chunk
 * synthetic indexes with the local embedder: see docs/benchmarks.md. Re-measure before
 * changing; recall@10 against the exact scan must stay >= 0.98.
 */
export const VECTOR_INDEX_DEFAULTS: Required<Omit<VectorIndexOptions, 'persist'>> = {
  quantization: 'i8',
  connectivity: 32,
  expansionAdd: 256,
  oversample: 2,
  expansionSearch: 800,
};

/** Never fetch more than this many candidates per partition; beyond it the exact scan runs. */
const MAX_CANDIDATES = 4096;
/**
 * Candidates whose int8 similarity is this far below the threshold are not rescored. Measured
 * on 55k query-chunk pairs (local embedder, 2048 dimensions): |int8 - exact cosine| is 0.0004
 * on average, 0.0025 at p99.9, 0.006 at most.
 */
const SIMILARITY_MARGIN = 0.01;
const FORMAT = 2;

interface Partition {
  pid: number;
  access: string;
  groups: string;
  index: NativeIndex;
  size: number;
  dirty: boolean;
}

interface Manifest {
  format: number;
  embedderId: string;
  dimensions: number;
  quantization: VectorQuantization;
  connectivity: number;
  seq: number;
  rows: string;
  partitions: { pid: number; access: string; groups: string; file: string; size: number; check: string }[];
  savedAt: string;
}

/**
 * A fingerprint of a saved graph: its length and a hash of its first and last 64 KiB. usearch
 * trusts the file it loads (a malformed one crashes the process), so a file that was
 * truncated or replaced must be caught before it gets there. Not a full checksum: hashing a
 * 2 GB graph would cost seconds at every start.
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

function fromBlob(b: Buffer): Float32Array {
  // Copy: the buffer's offset need not be 4-aligned.
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export interface AnnSearch {
  acl: AccessClause;
  limit: number;
  minSimilarity: number;
  /**
   * Exact rescoring of candidate rowids in SQL, with the access clause and filters inside:
   * the best `limit` at or above minSimilarity, best first.
   */
  rescore: (rowids: number[], limit: number) => RankedChunk[];
}

export class VectorIndex {
  readonly dir: string | null;
  private readonly opts: Required<Omit<VectorIndexOptions, 'persist'>>;
  private partitions = new Map<number, Partition>();
  private byKey = new Map<string, Partition>();
  /** Partition id of each chunk rowid (0: not indexed). */
  private rowPartition = new Uint16Array(1024);
  private seq = 0;
  private embedder: { id: string; dimensions: number } | null = null;
  private readonly readableStmts = new Map<string, Database.Statement>();
  private nextPid = 1;
  /** Log entries applied since the last save. */
  private unsaved = 0;
  /** Whether the saved graphs were looked for (sync() does that once). */
  private opened = false;
  /** What the last search did: graphs walked, widening rounds, candidates rescored. */
  lastSearch: { partitions: number; rounds: number; candidates: number; fellBack: boolean } | null = null;
  /** Where the graphs in memory came from: saved files, or a build from chunk_vectors. */
  origin: 'loaded' | 'built' | null = null;

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
    for (const p of this.partitions.values()) n += p.size;
    return n;
  }

  get partitionCount(): number {
    return this.partitions.size;
  }

  /** The log position the graphs reflect. */
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

  private newIndex(dims: number): NativeIndex {
    const Native = native();
    return new Native(dims, 'cos', this.opts.quantization, this.opts.connectivity, this.opts.expansionAdd, 0, false);
  }

  private partitionFor(access: string, groups: string): Partition {
    const key = `${access}\u0000${groups}`;
    let p = this.byKey.get(key);
    if (!p) {
      p = { pid: this.nextPid++, access, groups, index: this.newIndex(this.embedder!.dimensions), size: 0, dirty: true };
      if (p.pid > 0xffff) throw new Error('vector index: more than 65535 access partitions');
      this.partitions.set(p.pid, p);
      this.byKey.set(key, p);
    }
    return p;
  }

  private setRow(rowid: number, pid: number): void {
    if (rowid >= this.rowPartition.length) {
      let n = this.rowPartition.length;
      while (n <= rowid) n *= 2;
      const grown = new Uint16Array(n);
      grown.set(this.rowPartition);
      this.rowPartition = grown;
    }
    this.rowPartition[rowid] = pid;
  }

  private encode(v: Float32Array): Float32Array | Int8Array {
    return this.opts.quantization === 'i8' ? quantizeI8(v) : v;
  }

  private reset(): void {
    this.partitions = new Map();
    this.byKey = new Map();
    this.rowPartition = new Uint16Array(1024);
    this.nextPid = 1;
    this.seq = 0;
  }

  /** Add vectors (rowid, blob, access, groups) in batches; several threads for big batches. */
  private addRows(rows: Iterable<{ rowid: number; embedding: Buffer; access: string; groups: string }>): number {
    const dims = this.embedder!.dimensions;
    const threads = Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
    const BATCH = 4096;
    const pending = new Map<Partition, { keys: bigint[]; vectors: (Float32Array | Int8Array)[] }>();
    let added = 0;
    const flush = (p: Partition) => {
      const b = pending.get(p);
      if (!b || !b.keys.length) return;
      const flat = this.opts.quantization === 'i8' ? new Int8Array(b.keys.length * dims) : new Float32Array(b.keys.length * dims);
      b.vectors.forEach((v, i) => flat.set(v, i * dims));
      p.index.add(BigUint64Array.from(b.keys), flat, b.keys.length > 64 ? threads : 1);
      p.size += b.keys.length;
      p.dirty = true;
      pending.delete(p);
    };
    for (const r of rows) {
      const v = fromBlob(r.embedding);
      if (v.length !== dims) throw new Error(`vector index: vector of ${v.length} dimensions, expected ${dims}`);
      const p = this.partitionFor(r.access, r.groups);
      let b = pending.get(p);
      if (!b) pending.set(p, (b = { keys: [], vectors: [] }));
      b.keys.push(BigInt(r.rowid));
      b.vectors.push(this.encode(v));
      this.setRow(r.rowid, p.pid);
      added++;
      if (b.keys.length >= BATCH) flush(p);
    }
    for (const p of [...pending.keys()]) flush(p);
    return added;
  }

  /** Build every graph from chunk_vectors (in one read transaction with the log position). */
  build(): void {
    this.opened = true;
    this.origin = 'built';
    this.db.transaction(() => {
      this.reset();
      this.embedder = this.currentEmbedder();
      this.seq = this.logHead();
      if (!this.embedder) return;
      const rows = this.db
        .prepare(
          `SELECT v.rowid AS rowid, v.embedding AS embedding, d.access AS access, d.groups AS groups
           FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid JOIN documents d ON d.id = c.document_id`,
        )
        .iterate() as Iterable<{ rowid: number; embedding: Buffer; access: string; groups: string }>;
      this.addRows(rows);
    })();
    this.unsaved = Number.POSITIVE_INFINITY;
  }

  /**
   * Bring the graphs up to the database's current state: load the saved graphs on first use
   * (or build them), then apply the vector log since their position, or rebuild when the
   * embedder changed or most vectors did.
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
    this.db.transaction(() => {
      const to = this.logHead();
      const changed = this.db.prepare(`SELECT DISTINCT chunk_rowid FROM vector_log WHERE seq > ? AND seq <= ?`).pluck().all(this.seq, to) as number[];
      if (changed.length > Math.max(10_000, this.size * 0.3)) {
        this.build();
        return;
      }
      // Remove every changed rowid, then add back the ones that exist now, as they are now.
      const byPartition = new Map<number, bigint[]>();
      for (const r of changed) {
        const pid = r < this.rowPartition.length ? this.rowPartition[r] : 0;
        if (!pid) continue;
        let keys = byPartition.get(pid);
        if (!keys) byPartition.set(pid, (keys = []));
        keys.push(BigInt(r));
        this.rowPartition[r] = 0;
      }
      for (const [pid, keys] of byPartition) {
        const p = this.partitions.get(pid)!;
        const removed = p.index.remove(BigUint64Array.from(keys));
        p.size -= removed.reduce((a, b) => a + Number(b), 0);
        p.dirty = true;
      }
      const rows = this.db
        .prepare(
          `SELECT v.rowid AS rowid, v.embedding AS embedding, d.access AS access, d.groups AS groups
           FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid JOIN documents d ON d.id = c.document_id
           WHERE v.rowid IN (SELECT value FROM json_each(@ids))`,
        )
        .all({ ids: JSON.stringify(changed) }) as { rowid: number; embedding: Buffer; access: string; groups: string }[];
      this.addRows(rows);
      this.unsaved += to - this.seq;
      this.seq = to;
    })();
  }

  /** The partitions the access clause lets this caller read, decided in SQL. */
  private readable(acl: AccessClause): Partition[] {
    const all = [...this.partitions.values()].filter((p) => p.size > 0);
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
   * Approximate search: candidates from the readable partitions' graphs, the best by int8
   * similarity rescored exactly in SQL. Returns null when the caller should run the exact
   * scan instead (a filter or the threshold leaves too few candidates even after widening).
   */
  search(query: Float32Array, req: AnnSearch): RankedChunk[] | null {
    this.sync();
    if (!this.embedder || query.length !== this.embedder.dimensions) return null;
    const parts = this.readable(req.acl);
    const stat: NonNullable<VectorIndex['lastSearch']> = { partitions: parts.length, rounds: 0, candidates: 0, fellBack: false };
    this.lastSearch = stat;
    if (!parts.length) return [];
    const q = this.encode(query);
    const floor = req.minSimilarity - SIMILARITY_MARGIN;
    // `want` candidates are rescored; the graphs are walked with a candidate list of `ef`
    // (usearch's search breadth is max(expansion, k), so asking for ef results sets it).
    let want = Math.max(req.limit * this.opts.oversample, 32);
    let ef = Math.max(this.opts.expansionSearch, want);
    for (;;) {
      const keys: number[] = [];
      const sims: number[] = [];
      // Whether every readable chunk at or above the floor is among the candidates.
      let complete = true;
      for (const p of parts) {
        const k = Math.min(ef, p.size);
        const [found, distances, counts] = p.index.search(q, k, 1);
        const n = Number(counts[0]);
        for (let i = 0; i < n; i++) {
          const sim = 1 - distances[i];
          if (sim < floor) break; // sorted by distance: the rest are further away
          keys.push(Number(found[i]));
          sims.push(sim);
        }
        // A partition walked with fewer candidates than it holds may have more above the
        // floor beyond its last result, if that one is still above the floor.
        if (k < p.size && n === k && 1 - distances[n - 1] >= floor) complete = false;
      }
      let candidates = keys;
      let truncated = false;
      if (keys.length > want) {
        const order = keys.map((_, i) => i).sort((a, b) => sims[b] - sims[a]);
        candidates = order.slice(0, want).map((i) => keys[i]);
        truncated = true;
      }
      stat.rounds++;
      stat.candidates += candidates.length;
      const ranked = req.rescore(candidates, req.limit);
      if (ranked.length >= req.limit || (complete && !truncated)) return ranked;
      // Too few passed the exact threshold, the access check or a filter: look further.
      const moreCandidates = truncated && want < MAX_CANDIDATES;
      const widerWalk = !complete && ef < MAX_CANDIDATES;
      if (!moreCandidates && !widerWalk) {
        stat.fellBack = true;
        return null;
      }
      if (moreCandidates) want = Math.min(want * 4, MAX_CANDIDATES);
      if (widerWalk) ef = Math.min(Math.max(ef * 4, want), MAX_CANDIDATES);
    }
  }

  /** Load the saved graphs; false when there are none or they do not fit this database. */
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
      manifest.quantization !== this.opts.quantization ||
      manifest.connectivity !== this.opts.connectivity ||
      manifest.seq > this.logHead()
    ) {
      return false;
    }
    try {
      this.reset();
      this.embedder = current;
      for (const m of manifest.partitions) {
        const file = path.join(this.dir, m.file);
        if (fingerprint(file) !== m.check) throw new Error(`vector index: ${m.file} does not match its manifest`);
        const index = this.newIndex(current.dimensions);
        index.load(file);
        const p: Partition = { pid: m.pid, access: m.access, groups: m.groups, index, size: index.size(), dirty: false };
        this.partitions.set(p.pid, p);
        this.byKey.set(`${p.access}\u0000${p.groups}`, p);
        this.nextPid = Math.max(this.nextPid, p.pid + 1);
      }
      const rows = fs.readFileSync(path.join(this.dir, manifest.rows));
      this.rowPartition = new Uint16Array(Math.max(1024, rows.byteLength / 2));
      new Uint8Array(this.rowPartition.buffer).set(rows);
      this.seq = manifest.seq;
      this.unsaved = 0;
      this.opened = true;
      this.origin = 'loaded';
      return true;
    } catch {
      this.reset();
      this.embedder = null;
      return false;
    }
  }

  /**
   * Save the graphs (when they changed) and prune the log up to the saved position. Files are
   * written under new names and the manifest is renamed last, so a reader sees the old set or
   * the new one, never a mix.
   */
  save(opts: { prune?: boolean } = {}): void {
    if (!this.dir || !this.embedder) return;
    if (this.unsaved === 0 && ![...this.partitions.values()].some((p) => p.dirty)) return;
    const manifestFile = path.join(this.dir, 'manifest.json');
    try {
      const old = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
      if (old.seq > this.seq) return; // another process saved a newer state
    } catch {
      /* no manifest yet */
    }
    fs.mkdirSync(this.dir, { recursive: true });
    const gen = `${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
    const partitions: Manifest['partitions'] = [];
    for (const p of this.partitions.values()) {
      const file = `p${p.pid}-${gen}.usearch`;
      p.index.save(path.join(this.dir, file));
      partitions.push({ pid: p.pid, access: p.access, groups: p.groups, file, size: p.size, check: fingerprint(path.join(this.dir, file)) });
    }
    let top = this.rowPartition.length;
    while (top > 0 && this.rowPartition[top - 1] === 0) top--;
    const rows = `rows-${gen}.bin`;
    fs.writeFileSync(path.join(this.dir, rows), Buffer.from(this.rowPartition.buffer, 0, top * 2));
    const manifest: Manifest = {
      format: FORMAT,
      embedderId: this.embedder.id,
      dimensions: this.embedder.dimensions,
      quantization: this.opts.quantization,
      connectivity: this.opts.connectivity,
      seq: this.seq,
      rows,
      partitions,
      savedAt: new Date().toISOString(),
    };
    const tmp = `${manifestFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(manifest, null, 1));
    fs.renameSync(tmp, manifestFile);
    const keep = new Set([rows, ...partitions.map((p) => p.file), 'manifest.json']);
    for (const f of fs.readdirSync(this.dir)) if (!keep.has(f) && !f.endsWith('.tmp')) fs.rmSync(path.join(this.dir, f), { force: true });
    for (const p of this.partitions.values()) p.dirty = false;
    this.unsaved = 0;
    if (opts.prune !== false && !this.db.readonly && this.seq > 0) {
      this.db.transaction(() => {
        this.db.prepare(`DELETE FROM vector_log WHERE seq <= ?`).run(this.seq);
        this.db
          .prepare(`INSERT INTO meta (key, value) VALUES ('vector_log_pruned_to', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`)
          .run(String(this.seq));
      })();
    }
  }

  /** Bytes of the saved graphs on disk (0 when not persisted). */
  diskBytes(): number {
    if (!this.dir || !fs.existsSync(this.dir)) return 0;
    return fs.readdirSync(this.dir).reduce((a, f) => a + fs.statSync(path.join(this.dir!, f)).size, 0);
  }
}
