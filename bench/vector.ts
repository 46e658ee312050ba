/**
 * How to make the vector leg fast at 100k-1M chunks without losing recall: the options
 * measured side by side on the same index, the same queries and the same exact rescoring in
 * SQL (vec_distance_cosine on the float32 vectors, access clause inside), against the exact
 * scan. Public principal: the candidates come from the public documents' vectors.
 *
 * - flat int8 scan by dimension: every vector as int8 (scaled by its largest component), stored
 *   by dimension in WebAssembly memory and scored by the SIMD kernel over the query's non-zero
 *   dimensions only, best 2 × limit rescored. This is what the store does (vector-index.ts,
 *   int8-columns.ts).
 * - the same int8 rows scanned row by row with usearch's SIMD exact search (the store before).
 * - the same over vectors folded to 1024 or 512 dimensions (a signed sum of dimensions i,
 *   i + d, ...: a random projection), best 10 × limit rescored: less memory and time.
 * - flat binary scan: sign bits (256 bytes per vector), Hamming distance in JavaScript, best
 *   10 × limit rescored;
 * - HNSW graphs (usearch) over float32, float16, int8 by usearch's own cast and int8 with our
 *   scaling, walked with 800-3200 candidates, best 2 × limit rescored.
 *
 * Memory is the bytes the candidate structure holds (the saved file size for the graphs).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import usearch from 'usearch';
import { accessClause } from '../indexes/embedded/access.ts';
import { ColumnStore, capFor, type Segment, topK } from '../indexes/embedded/int8-columns.ts';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { quantizeI8 } from '../indexes/embedded/vector-index.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { PUBLIC_PRINCIPAL } from '../indexes/types.ts';
import { buildIndex } from './build-index.ts';
import { benchQueries, sizeLabel } from './corpus.ts';
import { fmt, mb, median, quantile, recallAt, type SectionResult, type Table } from './report.ts';

interface NativeIndex {
  add(keys: BigUint64Array, vectors: Float32Array | Int8Array, threads: number): void;
  search(query: Float32Array | Int8Array, k: number, threads: number): [BigUint64Array, Float32Array, BigUint64Array];
  save(path: string): void;
}
function nativeCtor(): new (...a: unknown[]) => NativeIndex {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('usearch');
  return (createRequire(entry)('node-gyp-build') as (d: string) => { CompiledIndex: new (...a: unknown[]) => NativeIndex })(
    path.resolve(path.dirname(entry), '../../..'),
  ).CompiledIndex;
}

interface Variant {
  name: string;
  bytes: number;
  buildSeconds: number;
  /** Candidate rowids for a query, best first. */
  candidates: (q: Float32Array, limit: number) => number[];
}

const THREADS = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

export async function vectorSection(
  size: number,
  opts: { heavy: boolean; repeat: number },
): Promise<Omit<SectionResult, 'section' | 'size' | 'at' | 'load' | 'seconds'>> {
  const idx = await buildIndex(size);
  const store = new SqliteStore(idx.indexFile, { vectorIndex: false });
  const embedder = new LocalHashEmbedder();
  const D = embedder.dimensions;
  const queries = benchQueries();
  const acl = accessClause(PUBLIC_PRINCIPAL);
  const minSimilarity = 0.1;
  const LIMIT = 100;
  const rescoreStmt = store.db.prepare(
    `SELECT v.rowid AS rowid, coalesce(1.0 - vec_distance_cosine(v.embedding, @q), 0.0) AS score
     FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid JOIN documents d ON d.id = c.document_id
     WHERE v.rowid IN (SELECT value FROM json_each(@ids)) AND ${acl.sql} AND score >= @min ORDER BY score DESC LIMIT @limit`,
  );
  const rescore = (q: Float32Array, ids: number[]) =>
    rescoreStmt.all({ q: Buffer.from(q.buffer, q.byteOffset, q.byteLength), ids: JSON.stringify(ids), min: minSimilarity, limit: LIMIT, ...acl.params }) as {
      rowid: number;
      score: number;
    }[];

  // The readable (public) vectors, streamed once into the compact forms.
  const rowids: number[] = [];
  const count = store.db.prepare(`SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id WHERE ${acl.sql}`).pluck().get(acl.params) as number;
  const i8 = new Int8Array(count * D);
  const bits = new Uint32Array((count * D) / 32);
  const f32 = opts.heavy ? new Float32Array(count * D) : null;
  const tl = performance.now();
  let n = 0;
  for (const r of store.db
    .prepare(
      `SELECT v.rowid AS rowid, v.embedding AS e FROM chunk_vectors v JOIN chunks c ON c.rowid = v.rowid JOIN documents d ON d.id = c.document_id WHERE ${acl.sql}`,
    )
    .iterate(acl.params) as Iterable<{ rowid: number; e: Buffer }>) {
    const v = new Float32Array(D);
    new Uint8Array(v.buffer).set(r.e);
    quantizeI8(v, i8.subarray(n * D, (n + 1) * D));
    for (let j = 0; j < D; j++) if (v[j] > 0) bits[(n * D + j) >>> 5] |= 1 << (j & 31);
    f32?.set(v, n * D);
    rowids.push(r.rowid);
    n++;
  }
  const loadSeconds = (performance.now() - tl) / 1000;
  console.log(`  ${n} public vectors loaded in ${fmt(loadSeconds)} s`);
  const keys = BigUint64Array.from(rowids.map((_, i) => BigInt(i)));

  const variants: Variant[] = [];
  const flat = (name: string, d: number, oversample: number) => {
    const sign = new Int8Array(D).map((_, i) => ((Math.imul(i + 1, 0x9e3779b1) >>> 16) & 1 ? 1 : -1));
    const fold = (v: Int8Array | Float32Array) => {
      if (d === D) return v;
      const o = new Float32Array(d);
      for (let i = 0; i < D; i++) o[i % d] += sign[i] * v[i];
      return o;
    };
    const t0 = performance.now();
    let data = i8;
    if (d !== D) {
      // Fold the int8 rows (fine for a candidate stage: rescoring is exact).
      data = new Int8Array(n * d);
      for (let r = 0; r < n; r++) quantizeI8(fold(i8.subarray(r * D, (r + 1) * D)) as Float32Array, data.subarray(r * d, (r + 1) * d));
    }
    variants.push({
      name,
      bytes: data.byteLength,
      buildSeconds: (performance.now() - t0) / 1000,
      candidates: (q, limit) => {
        const qq = d === D ? quantizeI8(q) : quantizeI8(fold(q) as Float32Array);
        const m = usearch.exactSearch(data, qq, d, Math.min(n, limit * oversample), usearch.MetricKind.Cos, 1) as { keys: BigUint64Array };
        return Array.from(m.keys, (k) => rowids[Number(k)]);
      },
    });
  };
  {
    // The store's layout: blocks of 32768 rows by dimension, the WebAssembly kernel.
    const t0 = performance.now();
    const cols = new ColumnStore(D, capFor(32768));
    const segments: Segment[] = [];
    for (let first = 0; first < n; first += 32768) {
      const rows = Math.min(32768, n - first);
      const block = cols.block(capFor(rows));
      for (let r = 0; r < rows; r++) cols.write(block, r, i8.subarray((first + r) * D, (first + r + 1) * D));
      segments.push({ block, n: rows, rowids, first });
    }
    variants.push({
      name: "flat int8 scan by dimension, 2048 dimensions (WebAssembly SIMD, the query's non-zero dimensions only) + rescoring of 2 × limit: the store",
      bytes: cols.bytes,
      buildSeconds: (performance.now() - t0) / 1000,
      candidates: (q, limit) => topK(segments, quantizeI8(q), Math.min(n, limit * 2)).rowids,
    });
  }
  flat('flat int8 scan row by row, 2048 dimensions (usearch exact search, 1 thread) + rescoring of 2 × limit: the store before', D, 2);
  flat('flat int8 scan, folded to 1024 dimensions + rescoring of 10 × limit', 1024, 10);
  flat('flat int8 scan, folded to 512 dimensions + rescoring of 10 × limit', 512, 10);
  variants.push({
    name: 'flat binary scan (sign bits, Hamming in JavaScript) + rescoring of 10 × limit',
    bytes: bits.byteLength,
    buildSeconds: 0,
    candidates: (q, limit) => {
      const W = D / 32;
      const qb = new Uint32Array(W);
      for (let j = 0; j < D; j++) if (q[j] > 0) qb[j >>> 5] |= 1 << (j & 31);
      const dist = new Uint16Array(n);
      const hist = new Uint32Array(D + 1);
      for (let i = 0; i < n; i++) {
        let h = 0;
        const o = i * W;
        for (let w = 0; w < W; w++) h += popcount32(bits[o + w] ^ qb[w]);
        dist[i] = h;
        hist[h]++;
      }
      // Counting selection: the distance at which the best `want` are reached, then collect.
      const want = Math.min(n, limit * 10);
      let cut = 0;
      for (let acc = 0; cut <= D && acc + hist[cut] < want; cut++) acc += hist[cut];
      const out: number[] = [];
      for (let i = 0; i < n && out.length < want; i++) if (dist[i] < cut) out.push(i);
      for (let i = 0; i < n && out.length < want; i++) if (dist[i] === cut) out.push(i);
      return out.sort((a, b) => dist[a] - dist[b]).map((i) => rowids[i]);
    },
  });
  const Native = nativeCtor();
  const hnsw = (name: string, quantization: string, input: 'f32' | 'i8', M: number, efa: number, efs: number[]) => {
    if (input === 'f32' && !f32) return;
    const index = new Native(D, 'cos', quantization, M, efa, 0, false);
    const t0 = performance.now();
    const B = 16384;
    for (let s = 0; s < n; s += B) {
      const e = Math.min(n, s + B);
      index.add(keys.slice(s, e), input === 'i8' ? i8.slice(s * D, e * D) : f32!.slice(s * D, e * D), THREADS);
    }
    const buildSeconds = (performance.now() - t0) / 1000;
    const file = path.join(os.tmpdir(), `innsikt-bench-hnsw-${process.pid}.usearch`);
    index.save(file);
    const bytes = fs.statSync(file).size;
    fs.rmSync(file, { force: true });
    console.log(`  ${name}: built in ${fmt(buildSeconds)} s, ${fmt(mb(bytes), 0)} MB`);
    for (const ef of efs) {
      variants.push({
        name: `${name}, ${ef} candidates walked`,
        bytes,
        buildSeconds,
        candidates: (q, limit) => {
          const [found, , counts] = index.search(input === 'i8' ? quantizeI8(q) : q, Math.max(ef, limit * 2), 1);
          return Array.from(found.subarray(0, Math.min(Number(counts[0]), limit * 2)), (k) => rowids[Number(k)]);
        },
      });
    }
  };
  if (opts.heavy) {
    hnsw('HNSW float32 (M 32)', 'f32', 'f32', 32, 256, [800]);
    hnsw('HNSW float16 (M 32)', 'f16', 'f32', 32, 256, [800]);
    hnsw("HNSW int8 by usearch's own cast (M 32)", 'i8', 'f32', 32, 256, [800]);
    hnsw('HNSW int8 scaled per vector (M 16)', 'i8', 'i8', 16, 128, [200, 800]);
  }
  hnsw('HNSW int8 scaled per vector (M 32)', 'i8', 'i8', 32, 256, [800, 1600, 3200]);

  // Exact answers: cached by the scale section when it ran, else computed here.
  const exactFile = path.join(idx.dir, 'exact-vector.json');
  const exactCache: Record<string, { ms: number; ranked: { rowid: number; score: number }[] }> = fs.existsSync(exactFile)
    ? JSON.parse(fs.readFileSync(exactFile, 'utf8'))
    : {};
  const qv = queries.map((q) => embedder.embedOne(q));
  queries.forEach((q, i) => {
    if (!exactCache[q]) {
      const t0 = performance.now();
      exactCache[q] = { ms: 0, ranked: store.vectorExactRows(qv[i], { principal: PUBLIC_PRINCIPAL, limit: LIMIT, minSimilarity }) };
      exactCache[q].ms = performance.now() - t0;
    }
  });
  fs.writeFileSync(exactFile, JSON.stringify(exactCache));
  const exactMs = queries.map((q) => exactCache[q].ms).filter((ms) => ms > 0);
  const rows: (string | number)[][] = [
    [
      'exact scan in SQL (sqlite-vec, float32): the reference',
      fmt(mb(count * D * 4), 0),
      '–',
      fmt(median(exactMs), 1),
      fmt(quantile(exactMs, 0.95), 1),
      '1',
      '1',
    ],
  ];
  const data: SectionResult['data'] = { chunks: idx.info.chunks, publicVectors: n };
  for (const v of variants) {
    const times: number[] = [];
    let r10 = 0;
    let r100 = 0;
    let m = 0;
    // Warm-up, untimed: the first calls of a variant (JIT, prepared statements, caches after
    // the graph builds) would otherwise land in its p95.
    queries.forEach((_, i) => rescore(qv[i], v.candidates(qv[i], LIMIT)));
    for (let rep = 0; rep < opts.repeat; rep++) {
      queries.forEach((q, i) => {
        const t0 = performance.now();
        const got = rescore(qv[i], v.candidates(qv[i], LIMIT));
        times.push(performance.now() - t0);
        if (rep > 0) return;
        const ex = exactCache[q].ranked;
        if (!ex.length) return;
        r10 += recallAt(got, ex, 10);
        r100 += recallAt(got, ex, ex.length);
        m++;
      });
    }
    rows.push([v.name, fmt(mb(v.bytes), 0), fmt(v.buildSeconds, 0), fmt(median(times), 2), fmt(quantile(times, 0.95), 2), fmt(r10 / m, 4), fmt(r100 / m, 4)]);
  }
  store.close();
  return {
    tables: [
      {
        title: `Vector leg options at ${sizeLabel(size)} chunks (${n} public vectors, ${queries.length} queries × ${opts.repeat}, limit ${LIMIT})`,
        header: ['candidates from', 'memory MB', 'build s', 'p50 ms', 'p95 ms', 'recall@10', 'recall@100'],
        rows,
        notes: [
          'Every row but the first ends with the same exact rescoring in SQL, so the recall differences come from the candidates alone. ' +
            `Build times use ${THREADS} threads. Latency is per query, candidates + rescoring, one thread.`,
        ],
      } satisfies Table,
    ],
    notes: [],
    data,
  };
}
