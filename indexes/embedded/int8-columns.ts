/**
 * Blocks of int8 vectors stored by dimension ("column-major"), in WebAssembly memory, and the
 * SIMD kernel that scores them against a sparse query (native/int8-scan.wat).
 *
 * Why by dimension: a query of a few words has few non-zero dimensions (the local embedder's
 * hashed n-grams: 10-120 of 2048), while a chunk's vector is dense. Stored row by row, every
 * query reads every byte of every vector (2 GB at 1M chunks: memory bandwidth, ~25 ms per 100k
 * vectors). Stored by dimension, it reads only the query's dimensions: for 60 non-zero
 * dimensions 3% of the bytes, in sequential runs. The products are the same integers as a dense
 * int8 dot product, so the ranking is the same.
 *
 * Layout: an arena is one WebAssembly.Memory (at most ARENA_MAX_BYTES; more arenas as needed)
 * with the kernel's scratch at its start (query dimensions, weights, one int32 score per row)
 * and blocks after it. A block of capacity `cap` rows (a multiple of 16, the kernel's stride)
 * holds dimension d of row r at byte `off + d * cap + r`. Freed blocks are reused by size.
 * Growing a memory detaches its ArrayBuffer, so views are made afresh from `arena.memory.buffer`.
 */
import { INT8_SCAN_WASM } from './int8-scan-wasm.ts';

/** The kernel scores rows 16 at a time. */
export const ROW_STRIDE = 16;
const PAGE = 65536;
/** Largest arena: 2 GiB (wasm32 memories go to 4 GiB; staying below keeps offsets positive). */
const ARENA_MAX_BYTES = 2 ** 31 - PAGE;

let compiled: WebAssembly.Module | null = null;
function kernelModule(): WebAssembly.Module {
  if (!compiled) compiled = new WebAssembly.Module(Buffer.from(INT8_SCAN_WASM, 'base64'));
  return compiled;
}

type ScanFn = (data: number, cap: number, n: number, idx: number, w: number, nnz: number, out: number) => void;

export class Arena {
  readonly memory: WebAssembly.Memory;
  private readonly scanFn: ScanFn;
  /** Scratch: query dimensions (int32), weights (int32), scores (int32 per row of a block). */
  readonly idxOff = 0;
  readonly wOff: number;
  readonly outOff: number;
  private top: number;
  private readonly free = new Map<number, number[]>();

  constructor(dims: number, maxCap: number) {
    this.wOff = dims * 4;
    this.outOff = dims * 8;
    this.top = align(this.outOff + maxCap * 4, 64);
    this.memory = new WebAssembly.Memory({ initial: Math.ceil(this.top / PAGE) });
    this.scanFn = new WebAssembly.Instance(kernelModule(), { env: { memory: this.memory } }).exports.scan as ScanFn;
  }

  /** Offset of `bytes` of new space, or -1 when this arena cannot hold them. */
  alloc(bytes: number): number {
    const reuse = this.free.get(bytes);
    if (reuse?.length) return reuse.pop()!;
    const off = this.top;
    const end = off + bytes;
    if (end > ARENA_MAX_BYTES) return -1;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // Grow by at least a quarter, so a growing index does not grow the memory per block.
      const want = Math.min(Math.max(end, have + have / 4), ARENA_MAX_BYTES);
      try {
        this.memory.grow(Math.ceil((want - have) / PAGE));
      } catch {
        try {
          this.memory.grow(Math.ceil((end - have) / PAGE));
        } catch {
          return -1;
        }
      }
    }
    this.top = end;
    return off;
  }

  release(off: number, bytes: number): void {
    let list = this.free.get(bytes);
    if (!list) this.free.set(bytes, (list = []));
    list.push(off);
  }

  /** Bytes of blocks in use or free for reuse, scratch included: the memory this arena holds. */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Scores of rows [0, n) of a block against a sparse query (dimension indexes, int8 weights):
   * an Int32Array view of the scratch, valid until the next scan of this arena.
   */
  scan(block: Block, n: number, idx: Int32Array, w: Int32Array): Int32Array {
    const buf = this.memory.buffer;
    new Int32Array(buf, this.idxOff, idx.length).set(idx);
    new Int32Array(buf, this.wOff, w.length).set(w);
    this.scanFn(block.off, block.cap, n, this.idxOff, this.wOff, idx.length, this.outOff);
    return new Int32Array(this.memory.buffer, this.outOff, n);
  }
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** Capacity for n rows: a multiple of the kernel's stride. */
export function capFor(n: number): number {
  return align(Math.max(n, 1), ROW_STRIDE);
}

export interface Block {
  arena: Arena;
  off: number;
  cap: number;
  /** 1 / |row| of each row's int8 values (0 for an all-zero row): cosine from the dot product. */
  inv: Float32Array;
}

/** The arenas of one vector index: allocation of blocks, rows in and out of them. */
export class ColumnStore {
  private arenas: Arena[] = [];

  constructor(
    readonly dims: number,
    /** Largest block capacity (rows). */
    readonly maxCap: number,
  ) {}

  block(cap: number): Block {
    if (cap % ROW_STRIDE) throw new Error(`int8 columns: capacity ${cap} is not a multiple of ${ROW_STRIDE}`);
    const bytes = cap * this.dims;
    for (const a of this.arenas) {
      const off = a.alloc(bytes);
      if (off >= 0) return { arena: a, off, cap, inv: new Float32Array(cap) };
    }
    const a = new Arena(this.dims, this.maxCap);
    this.arenas.push(a);
    const off = a.alloc(bytes);
    if (off < 0) throw new Error(`int8 columns: a block of ${bytes} bytes does not fit in an arena`);
    return { arena: a, off, cap, inv: new Float32Array(cap) };
  }

  release(b: Block): void {
    b.arena.release(b.off, b.cap * this.dims);
  }

  /** Bytes of WebAssembly memory held. */
  get bytes(): number {
    return this.arenas.reduce((n, a) => n + a.bytes, 0);
  }

  /** The block's bytes (cap × dims, by dimension), as a view. */
  data(b: Block): Int8Array {
    return new Int8Array(b.arena.memory.buffer, b.off, b.cap * this.dims);
  }

  write(b: Block, row: number, v: Int8Array): void {
    const d = this.data(b);
    let sq = 0;
    for (let i = 0, at = row; i < this.dims; i++, at += b.cap) {
      d[at] = v[i];
      sq += v[i] * v[i];
    }
    b.inv[row] = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  }

  read(b: Block, row: number, out = new Int8Array(this.dims)): Int8Array {
    const d = this.data(b);
    for (let i = 0, at = row; i < this.dims; i++, at += b.cap) out[i] = d[at];
    return out;
  }

  /** Copy row `fr` of `from` into row `tr` of `to`. */
  move(from: Block, fr: number, to: Block, tr: number): void {
    const s = new Int8Array(from.arena.memory.buffer);
    const t = to.arena === from.arena ? s : new Int8Array(to.arena.memory.buffer);
    for (let i = 0, a = from.off + fr, z = to.off + tr; i < this.dims; i++, a += from.cap, z += to.cap) t[z] = s[a];
    to.inv[tr] = from.inv[fr];
  }

  /** A block of capacity `cap` holding the first n rows of `b`; `b` is released. */
  resize(b: Block, n: number, cap: number): Block {
    const nb = this.block(cap);
    const s = this.data(b);
    const t = this.data(nb);
    for (let i = 0; i < this.dims; i++) t.set(s.subarray(i * b.cap, i * b.cap + n), i * cap);
    nb.inv.set(b.inv.subarray(0, n));
    this.release(b);
    return nb;
  }
}

/** Rows [0, n) of a block, whose row i is the chunk rowids[first + i]. */
export interface Segment {
  block: Block;
  n: number;
  rowids: ArrayLike<number>;
  first: number;
}

/**
 * The k rows most similar to the int8 query by cosine, over the given blocks: rowids and
 * similarities, best first (ties by rowid). Only the query's non-zero dimensions are read.
 * `keep`: only rows it accepts (a filter's rows) are candidates.
 */
export function topK(segments: Iterable<Segment>, q: Int8Array, k: number, keep?: (rowid: number) => boolean): { rowids: number[]; sims: number[] } {
  const dimIdx: number[] = [];
  const weights: number[] = [];
  let sq = 0;
  for (let d = 0; d < q.length; d++) {
    if (q[d] === 0) continue;
    dimIdx.push(d);
    weights.push(q[d]);
    sq += q[d] * q[d];
  }
  if (!dimIdx.length || k <= 0) return { rowids: [], sims: [] };
  const idx = Int32Array.from(dimIdx);
  const w = Int32Array.from(weights);
  const qInv = 1 / Math.sqrt(sq);
  // The best k so far: a min-heap on similarity (hs[0] the worst of them).
  const hs = new Float64Array(k);
  const hr = new Float64Array(k);
  let size = 0;
  for (const seg of segments) {
    const scores = seg.block.arena.scan(seg.block, seg.n, idx, w);
    const inv = seg.block.inv;
    for (let i = 0; i < seg.n; i++) {
      const sim = scores[i] * inv[i] * qInv;
      if (size === k && sim <= hs[0]) continue;
      const rowid = seg.rowids[seg.first + i];
      if (keep && !keep(rowid)) continue;
      let at: number;
      if (size < k) {
        at = size++;
        while (at > 0) {
          const up = (at - 1) >> 1;
          if (hs[up] <= sim) break;
          hs[at] = hs[up];
          hr[at] = hr[up];
          at = up;
        }
      } else {
        at = 0;
        for (;;) {
          const l = 2 * at + 1;
          if (l >= size) break;
          const c = l + 1 < size && hs[l + 1] < hs[l] ? l + 1 : l;
          if (hs[c] >= sim) break;
          hs[at] = hs[c];
          hr[at] = hr[c];
          at = c;
        }
      }
      hs[at] = sim;
      hr[at] = rowid;
    }
  }
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => hs[b] - hs[a] || hr[a] - hr[b]);
  return { rowids: order.map((i) => hr[i]), sims: order.map((i) => hs[i]) };
}
