/**
 * The int8 vector copy behind SqliteStore.vector() (indexes/embedded/vector-index.ts): access
 * inside the vector leg, no influence of unreadable documents, consistency with writes (in
 * this process and others), persistence, and recall against the exact scan.
 */

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ColumnStore, capFor } from '../indexes/embedded/int8-columns.ts';
import { SqliteStore, type SqliteStoreOptions } from '../indexes/embedded/sqlite-store.ts';
import { quantizeI8 } from '../indexes/embedded/vector-index.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { ADMIN_PRINCIPAL, type Principal, PUBLIC_PRINCIPAL, type SilverDocument } from '../indexes/types.ts';
import { pageChunks, silverDoc, tempDir } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const embedder = new LocalHashEmbedder({ dimensions: 256 });
const EMB = { id: embedder.id, dimensions: embedder.dimensions };
const INTERNAL: Principal = { id: 'staff', internal: true, groups: [] };
const BARNEVERN: Principal = { id: 'bv', internal: true, groups: ['barnevern'] };
const HELSE: Principal = { id: 'helse', internal: true, groups: ['helse'] };
/** Always the int8 copy, however small the test index. */
const ANN: SqliteStoreOptions = { vectorIndex: { minVectors: 0 } };

const TOPICS = [
  'Bydelsutvalget vedtok ny lekeplass i Tøyenparken med universell utforming.',
  'Budsjett for parkdrift og vedlikehold av grøntarealer i 2025.',
  'Eldrerådet ba om flere sykehjemsplasser og bedre hjemmetjenester.',
  'Ungdomsrådet fordelte midler til fritidsklubber og helgeåpne møteplasser.',
  'Trafikksikkerhet ved Grønland torg og farlige punkter på skoleveiene.',
  'Valgstyret godkjente forhåndsstemmer og manntallet før valget.',
  'Levekårsundersøkelsen viser trangboddhet og lav inntekt i deler av bydelen.',
  'Miljøkomiteen behandlet svevestøv, piggdekkgebyr og luftkvalitet.',
];
const SECRET = 'Barnevernssak om fosterhjem og lekeplass. Kodeord KANARISKJERMET.';
const INTERNAL_SECRET = 'Internt notat om lekeplass og budsjett. Kodeord KANARIINTERN.';

function put(store: SqliteStore, id: string, pages: string[], over: Partial<SilverDocument> = {}) {
  const doc = silverDoc(id, pages, over);
  const chunks = pageChunks(doc);
  store.upsertSync(
    doc,
    chunks,
    chunks.map((c) => embedder.embedOne(c.text)),
    EMB,
  );
}

/** Public documents: every topic in a few wordings, so the public partition has some depth. */
function putPublic(store: SqliteStore, copies = 6) {
  for (let i = 0; i < copies; i++) {
    put(
      store,
      `offentlig-${i}`,
      TOPICS.map((t, j) => `${t} Møte ${i + 1}, sak ${j + 10}/${20 + i}. ${TOPICS[(j + i) % TOPICS.length]}`),
    );
  }
}

function putSecrets(store: SqliteStore, copies = 1) {
  for (let i = 0; i < copies; i++) {
    put(store, `skjermet-${i}`, [`${SECRET} Variant ${i}.`], { access: 'protected', groups: ['barnevern'] });
    put(store, `intern-${i}`, [`${INTERNAL_SECRET} Variant ${i}.`], { access: 'internal' });
  }
}

/** The vector leg as (chunk id, score) pairs, best first. */
function vectorHits(
  store: SqliteStore,
  text: string,
  principal: Principal,
  opts: { limit?: number; minSimilarity?: number; exact?: boolean; filters?: object } = {},
) {
  const req = { principal, limit: opts.limit ?? 20, minSimilarity: opts.minSimilarity ?? 0, filters: opts.filters };
  const q = embedder.embedOne(text);
  const ranked = opts.exact ? store.vectorExactRows(q, req) : store.vectorRows(q, req);
  const records = store.chunksByRowid(
    ranked.map((r) => r.rowid),
    ADMIN_PRINCIPAL,
  );
  return ranked.map((r) => ({ id: records.get(r.rowid)!.id, doc: records.get(r.rowid)!.documentId, score: Number(r.score.toFixed(5)) }));
}

const docs = (hits: { doc: string }[]) => new Set(hits.map((h) => h.doc));

let dir: string;
let store: SqliteStore;

beforeEach(() => {
  dir = tempDir('innsikt-ann-');
  store = new SqliteStore(path.join(dir, 'index.sqlite'), ANN);
  putPublic(store);
  putSecrets(store);
});
afterEach(() => store.close());

describe('vector index: access is applied inside the vector leg', () => {
  it('is the int8 copy that answers, with one partition per access level and group list', () => {
    vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL);
    const ann = store.vectorIndex();
    expect(ann).not.toBeNull();
    expect(ann!.size).toBe(6 * TOPICS.length + 2);
    expect(ann!.partitionCount).toBe(3); // public, internal, protected ["barnevern"]
  });

  it('never returns a non-public chunk to the public, even for the exact vector of a secret chunk', () => {
    for (const q of [SECRET, INTERNAL_SECRET, 'kanariskjermet', 'kanariintern']) {
      const hits = vectorHits(store, q, PUBLIC_PRINCIPAL, { limit: 100 });
      expect(hits.length).toBeGreaterThan(0);
      expect([...docs(hits)].every((d) => d.startsWith('offentlig-'))).toBe(true);
    }
  });

  it('lets internal staff see internal but not protected chunks, and group members theirs', () => {
    expect(vectorHits(store, SECRET, INTERNAL, { limit: 100 }).some((h) => h.doc.startsWith('skjermet'))).toBe(false);
    expect(vectorHits(store, SECRET, HELSE, { limit: 100 }).some((h) => h.doc.startsWith('skjermet'))).toBe(false);
    expect(vectorHits(store, INTERNAL_SECRET, INTERNAL, { limit: 1 })[0].doc).toBe('intern-0');
    expect(vectorHits(store, SECRET, BARNEVERN, { limit: 1 })[0].doc).toBe('skjermet-0');
  });

  it('gives the public exactly what it would get if the secret documents did not exist', () => {
    // Many unreadable chunks closer to the query than any public one: they must neither show
    // up nor push readable chunks out of the candidate list.
    putSecrets(store, 150);
    const clean = new SqliteStore(path.join(tempDir('innsikt-ann-clean-'), 'index.sqlite'), ANN);
    putPublic(clean);
    try {
      for (const q of [SECRET, INTERNAL_SECRET, 'lekeplass budsjett', 'sykehjemsplasser']) {
        for (const principal of [PUBLIC_PRINCIPAL, { id: 'helse-ekstern', internal: false, groups: ['helse'] }]) {
          const withSecrets = vectorHits(store, q, principal, { limit: 30 });
          // Only the public partition was scanned, in one round: the secrets took no candidate slot.
          expect(store.vectorIndex()!.lastSearch).toMatchObject({ partitions: 1, rounds: 1 });
          expect(withSecrets.length).toBe(30);
          expect(withSecrets).toEqual(vectorHits(clean, q, principal, { limit: 30 }));
        }
      }
    } finally {
      clean.close();
    }
  });

  it('checks access again when rescoring in SQL, so a fault in the partition choice cannot leak', () => {
    vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL);
    const ann = store.vectorIndex()! as unknown as { readable: () => unknown[]; partitions: Map<number, unknown> };
    // Simulate a bug in the first line of defence: every partition handed to every caller.
    ann.readable = () => [...ann.partitions.values()];
    for (const q of [SECRET, INTERNAL_SECRET]) {
      const hits = vectorHits(store, q, PUBLIC_PRINCIPAL, { limit: 100 });
      expect(hits.length).toBeGreaterThan(0);
      expect([...docs(hits)].every((d) => d.startsWith('offentlig-'))).toBe(true);
    }
  });

  it("a narrow filter: candidates from the filter's rows only, the same as the exact scan, no fallback", () => {
    // maxCandidates 16: a filter one document in ten passes would need 10 × the 32 candidates.
    const small = new SqliteStore(path.join(tempDir(), 'narrow.sqlite'), { vectorIndex: { minVectors: 0, maxCandidates: 16 } });
    try {
      for (let i = 0; i < 200; i++) {
        const date = i % 10 === 0 ? '2019-05-01' : '2024-02-01';
        put(small, `d${i}`, [`${TOPICS[i % TOPICS.length]} Møte ${i}.`, `${TOPICS[(i + 3) % TOPICS.length]} Sak ${i}/24.`], { date });
      }
      put(small, 'hemmelig-2019', [`${SECRET} 2019.`], { date: '2019-06-01', access: 'protected', groups: ['barnevern'] });
      const filters = { dateFrom: '2019-01-01', dateTo: '2019-12-31' };
      for (const q of ['lekeplass', 'budsjett for parkdrift', SECRET]) {
        const hits = vectorHits(small, q, PUBLIC_PRINCIPAL, { filters, limit: 10 });
        // One round over the filter's rows: no widening to k / share, no exact fallback.
        expect(small.vectorIndex()!.lastSearch).toMatchObject({ fellBack: false, rounds: 1 });
        expect(small.vectorIndex()!.lastSearch!.candidates).toBeLessThanOrEqual(32);
        expect(hits).toEqual(vectorHits(small, q, PUBLIC_PRINCIPAL, { filters, limit: 10, exact: true }));
        expect(hits.length).toBeGreaterThan(0);
        expect([...docs(hits)].every((d) => Number(d.slice(1)) % 10 === 0)).toBe(true);
      }
      // The group that may read the secret sees it under the same filter.
      const bv = vectorHits(small, SECRET, BARNEVERN, { filters, limit: 10 });
      expect(docs(bv).has('hemmelig-2019')).toBe(true);
      expect(bv).toEqual(vectorHits(small, SECRET, BARNEVERN, { filters, limit: 10, exact: true }));
    } finally {
      small.close();
    }
  });

  it('a filter on chunks (decisions only) is applied by the int8 copy, which is never dropped for it', () => {
    const errors: unknown[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args) => void errors.push(args));
    try {
      const index = (vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL), store.vectorIndex());
      const filters = { decisionsOnly: true };
      const hits = vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL, { filters, limit: 10 });
      expect(hits).toEqual(vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL, { filters, limit: 10, exact: true }));
      expect(errors).toEqual([]);
      expect(store.vectorIndex()).toBe(index);
    } finally {
      spy.mockRestore();
    }
  });

  it('applies filters inside the leg, like the exact scan', () => {
    put(store, 'gammel', ['Lekeplass på Kampen, vedtatt i 2019.'], { date: '2019-05-01', kind: 'utredning' });
    for (const filters of [{ dateTo: '2020-01-01' }, { kind: ['utredning'] }, { documentId: 'offentlig-3' }]) {
      const hits = vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL, { filters, limit: 10 });
      expect(hits).toEqual(vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL, { filters, limit: 10, exact: true }));
      expect(hits.length).toBeGreaterThan(0);
    }
  });
});

describe('vector index: consistent with writes', () => {
  it('sees new, replaced and deleted documents at the next query', async () => {
    vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL); // index built now
    put(store, 'ny', ['Kodeord NYKANARI om badstue i Vaterlandsparken.']);
    expect(vectorHits(store, 'NYKANARI badstue Vaterlandsparken', PUBLIC_PRINCIPAL, { limit: 1 })[0].doc).toBe('ny');
    put(store, 'ny', ['Helt annen tekst om snøbrøyting.']);
    expect(vectorHits(store, 'NYKANARI badstue Vaterlandsparken', PUBLIC_PRINCIPAL, { limit: 100 }).some((h) => h.doc === 'ny' && h.score > 0.5)).toBe(false);
    expect(await store.deleteDocument('ny')).toBe(true);
    expect(docs(vectorHits(store, 'snøbrøyting', ADMIN_PRINCIPAL, { limit: 100 })).has('ny')).toBe(false);
    expect(store.vectorIndex()!.size).toBe(6 * TOPICS.length + 2);
  });

  it('stays equal to the exact scan through many writes across block boundaries', () => {
    const small = new SqliteStore(path.join(tempDir('innsikt-ann-blocks-'), 'index.sqlite'), { vectorIndex: { minVectors: 0, blockRows: 4 } });
    try {
      putPublic(small, 3);
      const check = () => {
        for (const principal of [PUBLIC_PRINCIPAL, BARNEVERN]) {
          for (const q of ['lekeplass budsjett', SECRET, 'valget manntallet']) {
            expect(vectorHits(small, q, principal, { limit: 15 })).toEqual(vectorHits(small, q, principal, { limit: 15, exact: true }));
          }
        }
      };
      check();
      for (let i = 0; i < 12; i++) {
        put(
          small,
          `churn-${i % 5}`,
          TOPICS.slice(0, 1 + (i % 4)).map((t) => `${t} Runde ${i}.`),
          i % 3 === 0 ? { access: 'protected', groups: ['barnevern'] } : {},
        );
        if (i % 4 === 3) small.deleteDocument(`offentlig-${i % 3}`);
        if (i % 5 === 4) small.setAccess(`churn-${i % 5}`, 'internal', []);
        check();
        expect(small.vectorIndex()!.check()).toEqual([]);
      }
      const n = small.db.prepare(`SELECT count(*) FROM chunk_vectors`).pluck().get() as number;
      expect(small.vectorIndex()!.size).toBe(n);
    } finally {
      small.close();
    }
  });

  it('moves a document between partitions when its access changes', async () => {
    vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL);
    expect(await store.setAccess('intern-0', 'public', [])).toBe(true);
    expect(vectorHits(store, INTERNAL_SECRET, PUBLIC_PRINCIPAL, { limit: 1 })[0].doc).toBe('intern-0');
    expect(await store.setAccess('intern-0', 'protected', ['helse'])).toBe(true);
    expect(docs(vectorHits(store, INTERNAL_SECRET, PUBLIC_PRINCIPAL, { limit: 100 })).has('intern-0')).toBe(false);
    expect(docs(vectorHits(store, INTERNAL_SECRET, BARNEVERN, { limit: 100 })).has('intern-0')).toBe(false);
    expect(vectorHits(store, INTERNAL_SECRET, HELSE, { limit: 1 })[0].doc).toBe('intern-0');
  });

  it('catches up with writes made by another process (another connection, no index of its own)', () => {
    vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL);
    const other = new SqliteStore(store.file, { vectorIndex: false });
    try {
      put(other, 'fra-annen', ['Kodeord ANNENPROSESS om hundeløpegård i Kampen park.']);
      other.setAccess('skjermet-0', 'public', []);
      other.deleteDocument('offentlig-0');
    } finally {
      other.close();
    }
    expect(vectorHits(store, 'ANNENPROSESS hundeløpegård', PUBLIC_PRINCIPAL, { limit: 1 })[0].doc).toBe('fra-annen');
    expect(vectorHits(store, SECRET, PUBLIC_PRINCIPAL, { limit: 1 })[0].doc).toBe('skjermet-0');
    expect(docs(vectorHits(store, 'lekeplass', ADMIN_PRINCIPAL, { limit: 100 })).has('offentlig-0')).toBe(false);
    expect(store.vectorIndex()!.check()).toEqual([]);
  });
});

describe('vector index: saved next to index.sqlite', () => {
  it('is saved on close and loaded, not rebuilt, on the next open; the log is pruned', () => {
    const before = vectorHits(store, 'sykehjemsplasser', PUBLIC_PRINCIPAL);
    store.close();
    expect(fs.existsSync(path.join(dir, 'index.sqlite.vectors', 'manifest.json'))).toBe(true);
    store = new SqliteStore(path.join(dir, 'index.sqlite'), ANN);
    expect(store.db.prepare(`SELECT count(*) FROM vector_log`).pluck().get() as number).toBe(0);
    expect(vectorHits(store, 'sykehjemsplasser', PUBLIC_PRINCIPAL)).toEqual(before);
    expect(store.vectorIndex()!.origin).toBe('loaded');
  });

  it('replays what changed while it was closed', () => {
    vectorHits(store, 'lekeplass', PUBLIC_PRINCIPAL);
    store.close();
    const ingest = new SqliteStore(path.join(dir, 'index.sqlite'), { vectorIndex: false });
    put(ingest, 'senere', ['Kodeord SENEREKANARI om sjøbad og badevakter.']);
    ingest.setAccess('intern-0', 'public', []);
    ingest.close();
    store = new SqliteStore(path.join(dir, 'index.sqlite'), ANN);
    expect(vectorHits(store, 'SENEREKANARI sjøbad', PUBLIC_PRINCIPAL, { limit: 1 })[0].doc).toBe('senere');
    expect(vectorHits(store, INTERNAL_SECRET, PUBLIC_PRINCIPAL, { limit: 1 })[0].doc).toBe('intern-0');
    expect(store.vectorIndex()!.origin).toBe('loaded');
    expect(store.vectorIndex()!.check()).toEqual([]);
  });

  it('rebuilds when the saved files are damaged, with the right answers', () => {
    const before = vectorHits(store, SECRET, BARNEVERN);
    store.close();
    const vdir = path.join(dir, 'index.sqlite.vectors');
    for (const f of fs.readdirSync(vdir)) if (f.endsWith('.i8')) fs.writeFileSync(path.join(vdir, f), 'not an index');
    store = new SqliteStore(path.join(dir, 'index.sqlite'), ANN);
    expect(vectorHits(store, SECRET, BARNEVERN)).toEqual(before);
    expect(store.vectorIndex()!.origin).toBe('built');
    expect(vectorHits(store, SECRET, PUBLIC_PRINCIPAL, { limit: 100 }).some((h) => h.doc.startsWith('skjermet'))).toBe(false);
  });
});

describe('vector index: quality', () => {
  it('keeps int8 copies within a rounding step of the vector, up to scale', () => {
    const v = embedder.embedOne('Bydelsutvalget vedtok budsjettet for 2025.');
    const q = quantizeI8(v);
    const max = Math.max(...Array.from(v, Math.abs));
    expect(Math.max(...Array.from(q, Math.abs))).toBe(127);
    for (let i = 0; i < v.length; i++) expect(Math.abs(q[i] - (v[i] * 127) / max)).toBeLessThanOrEqual(0.5);
  });

  it('finds at least 98% of the exact top 10 on a few thousand chunks', () => {
    const big = new SqliteStore(path.join(tempDir('innsikt-ann-recall-'), 'index.sqlite'), ANN);
    try {
      const words = TOPICS.join(' ').split(/\s+/);
      let seed = 7;
      const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      for (let d = 0; d < 100; d++) {
        put(
          big,
          `d${d}`,
          Array.from({ length: 30 }, () => Array.from({ length: 40 }, () => words[Math.floor(rnd() * words.length)]).join(' ')),
        );
      }
      let hits = 0;
      let total = 0;
      for (const q of ['lekeplass', 'sykehjemsplasser hjemmetjenester', 'valget manntallet', 'svevestøv luftkvalitet', 'budsjett 2025', 'fritidsklubber']) {
        const exact = vectorHits(big, q, PUBLIC_PRINCIPAL, { limit: 10, exact: true });
        const approx = vectorHits(big, q, PUBLIC_PRINCIPAL, { limit: 10 });
        const floor = exact[exact.length - 1].score;
        hits += approx.filter((h) => h.score >= floor).length;
        total += exact.length;
      }
      expect(big.vectorIndex()!.size).toBe(3000);
      expect(hits / total).toBeGreaterThanOrEqual(0.98);
      // Built in one go, blocks are allocated at their final size: no smaller blocks left behind
      // in the WebAssembly memory (which never shrinks). Scratch: 256 KB at most.
      expect(big.vectorIndex()!.origin).toBe('built');
      expect(big.vectorIndex()!.memoryBytes).toBeLessThan(1.5 * 3000 * 256 + 256 * 1024);
    } finally {
      big.close();
    }
  });
});

describe('vector index: the int8 kernel (native/int8-scan.wat, int8-columns.ts)', () => {
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const randomRow = (dims: number) => Int8Array.from({ length: dims }, () => Math.round(rnd() * 254) - 127);

  it('scores every row as the int8 dot product over the query dimensions, for any row count', () => {
    const dims = 96;
    const cols = new ColumnStore(dims, capFor(300));
    for (const n of [1, 15, 16, 17, 255, 300]) {
      let block = cols.block(capFor(Math.min(n, 32)));
      const rows: Int8Array[] = [];
      for (let r = 0; r < n; r++) {
        if (r >= block.cap) block = cols.resize(block, r, capFor(Math.min(300, block.cap * 2)));
        rows.push(randomRow(dims));
        cols.write(block, r, rows[r]);
      }
      // Sparse queries (an odd count, more than one group of 32), extreme weights, a dense query.
      for (const nnz of [1, 7, 45, dims]) {
        const idx = Int32Array.from({ length: nnz }, (_, j) => (nnz === dims ? j : Math.floor(rnd() * dims)));
        const w = Int32Array.from({ length: nnz }, (_, j) => (j === 0 ? -127 : j === 1 ? 127 : Math.round(rnd() * 254) - 127));
        const got = Array.from(block.arena.scan(block, n, idx, w));
        const want = rows.map((row) => idx.reduce((s, d, j) => s + w[j] * row[d], 0));
        expect(got).toEqual(want);
      }
      for (let r = 0; r < n; r++) expect(Array.from(cols.read(block, r))).toEqual(Array.from(rows[r]));
      const norm = Math.sqrt(rows[n - 1].reduce((s, x) => s + x * x, 0));
      expect(block.inv[n - 1]).toBeCloseTo(1 / norm, 6);
      cols.release(block);
    }
  });

  it('keeps rows apart when blocks share an arena and memory grows under them', () => {
    const dims = 64;
    const cols = new ColumnStore(dims, capFor(256));
    const first = cols.block(256);
    const early = randomRow(dims);
    cols.write(first, 200, early);
    const start = cols.bytes;
    const blocks = [first, ...Array.from({ length: 39 }, () => cols.block(256))];
    expect(cols.bytes).toBeGreaterThan(start); // the memory grew (its old buffer is detached)
    expect(Array.from(cols.read(first, 200))).toEqual(Array.from(early));
    const rows = blocks.map(() => randomRow(dims));
    blocks.forEach((b, i) => cols.write(b, 3, rows[i]));
    cols.move(blocks[5], 3, blocks[30], 9);
    blocks.forEach((b, i) => expect(Array.from(cols.read(b, 3))).toEqual(Array.from(rows[i])));
    expect(Array.from(cols.read(blocks[30], 9))).toEqual(Array.from(rows[5]));
  });

  it.runIf(fs.existsSync(path.join(ROOT, 'node_modules', 'wabt')))('is the committed build of the .wat source (npm run build:wasm)', async () => {
    const { assemble, source } = await import('../scripts/build-wasm.js');
    const committed = fs.readFileSync(path.join(ROOT, 'indexes', 'embedded', 'int8-scan-wasm.ts'), 'utf8');
    expect(committed).toBe(source(await assemble()));
  });
});
