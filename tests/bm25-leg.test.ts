/**
 * The BM25 leg at scale (indexes/embedded/bm25-leg.ts): innsikt_bm25 against FTS5's bm25(),
 * every match a candidate (rank-first against the joined path), the access check on candidates
 * (canaries), capped totals, the vocabulary table, and the skipped tie-breaking vector leg.
 */

import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TOTAL_CAP } from '../indexes/embedded/bm25-leg.ts';
import { BM25_WEIGHTS, SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { search } from '../indexes/search.ts';
import { ADMIN_PRINCIPAL, type Principal, PUBLIC_PRINCIPAL } from '../indexes/types.ts';
import { embeddingText } from '../ingest/chunk.ts';
import { pageChunks, rankedDocs, rankedRecords, silverDoc, tempDir } from './helpers.ts';

const INTERNAL: Principal = { id: 'staff', internal: true, groups: [] };
const embedder = new LocalHashEmbedder();
const EMB = { id: embedder.id, dimensions: embedder.dimensions };
const stores: SqliteStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function open(opts: ConstructorParameters<typeof SqliteStore>[1] = {}, file = path.join(tempDir(), 'index.sqlite')): SqliteStore {
  const s = new SqliteStore(file, opts);
  stores.push(s);
  return s;
}

function put(store: SqliteStore, id: string, pages: string[], over = {}) {
  const doc = silverDoc(id, pages, over);
  const chunks = pageChunks(doc);
  store.upsertSync(
    doc,
    chunks,
    chunks.map((c) => embedder.embedOne(embeddingText(doc.title, c))),
    EMB,
  );
}

/** A small deterministic word salad: every page has filler words, some pages the test words. */
function page(i: number, extra: string): string {
  const fill = ['bydelen', 'tjenester', 'innbyggere', 'oppfølging', 'rapport', 'kostnader', 'tiltak', 'plan'];
  const words: string[] = [];
  for (let k = 0; k < 30 + (i % 17) * 3; k++) words.push(fill[(i * 7 + k * 3) % fill.length]);
  return `${extra} ${words.join(' ')}.`;
}

const native = process.env.INNSIKT_NATIVE !== '0';

describe('innsikt_bm25 (native/innsikt_fts.c)', () => {
  it.runIf(native)('is built and loaded (npm ci compiles it; INNSIKT_NATIVE=0 to run without)', () => {
    expect(open().bm25Leg.native).toBe(true);
  });

  it.runIf(native)('scores exactly as FTS5 bm25() when given the same IDFs and no prior', () => {
    const store = open();
    for (let d = 0; d < 40; d++) {
      put(store, `d${d}`, [page(d, d % 3 === 0 ? 'lekeplass Tøyenparken vedtak' : d % 5 === 0 ? 'lekeplassen vedtatt' : 'budsjett')], {
        title: d % 4 === 0 ? 'Lekeplass i parken' : `Sak ${d}`,
      });
    }
    const w = BM25_WEIGHTS;
    for (const query of ['lekeplass vedtak', 'budsjett', 'Tøyenparken lekeplassen', 'lekeplass -budsjett']) {
      const match = store.bm25Leg.plan(store.parse(query))!.match;
      const rows = store.bm25Leg.rows();
      const idf = match.phrases.map((p) => {
        const n = store.bm25Leg.phraseDf(p, rows);
        const v = Math.log((rows - n + 0.5) / (n + 0.5));
        return v > 0 ? v : 1e-6;
      });
      const args = idf.map((_, i) => `, @m${i}`).join('');
      const params = Object.fromEntries(idf.map((v, i) => [`m${i}`, v]));
      const builtin = store.db
        .prepare(
          `SELECT rowid, bm25(chunks_fts, ${w.title}, ${w.heading}, ${w.body}, ${w.exact}) AS s FROM chunks_fts WHERE chunks_fts MATCH @match ORDER BY rowid`,
        )
        .all({ match: match.expr }) as { rowid: number; s: number }[];
      const ours = store.db
        .prepare(
          `SELECT rowid, innsikt_bm25(chunks_fts, ${w.title}, ${w.heading}, ${w.body}, ${w.exact}, 2, 0, 0.5, 0${args}) AS s FROM chunks_fts WHERE chunks_fts MATCH @match ORDER BY rowid`,
        )
        .all({ match: match.expr, ...params }) as { rowid: number; s: number }[];
      expect(builtin.length).toBeGreaterThan(0);
      expect(ours.map((r) => r.rowid)).toEqual(builtin.map((r) => r.rowid));
      for (let i = 0; i < ours.length; i++) expect(ours[i].s).toBeCloseTo(builtin[i].s, 9);
    }
  });

  it.runIf(native)('rejects a call with the wrong number of arguments with a clear error', () => {
    const store = open();
    put(store, 'a', ['lekeplass']);
    expect(() => store.db.prepare(`SELECT innsikt_bm25(chunks_fts, 1, 1) FROM chunks_fts WHERE chunks_fts MATCH 'lekeplass'`).all()).toThrow(
      /innsikt_bm25: expects a weight per column/,
    );
  });
});

describe.runIf(native)('rowids', () => {
  it('never reuses a rowid, even after the highest ones are deleted and the index reopened', () => {
    const file = path.join(tempDir(), 'index.sqlite');
    let store = open({}, file);
    put(store, 'a', ['lekeplass', 'vedtak']);
    put(store, 'b', ['budsjett', 'lekeplass']);
    const before = store.db.prepare(`SELECT max(rowid) FROM chunks`).pluck().get() as number;
    store.deleteDocument('b');
    store.close();
    store = open({}, file);
    put(store, 'c', ['budsjett']);
    expect(store.db.prepare(`SELECT min(rowid) FROM chunks WHERE document_id = 'c'`).pluck().get()).toBe(before + 1);
  });
});

describe.runIf(native)('every match is a candidate', () => {
  // 120 pages; "tiltak" and "plan" are on every page (common); "lekeplass" on 6 (rare).
  function corpus(opts: { internalRare?: number } = {}) {
    const store = open({ common: { share: 0.05, minDf: 10 } });
    for (let d = 0; d < 120; d++) {
      const rare = d % 20 === 0 ? 'lekeplass ' : '';
      const both = d % 2 === 0 ? 'vedtak ' : '';
      put(store, `p${d}`, [page(d, `${rare}${both}tiltak plan`)]);
    }
    for (let d = 0; d < (opts.internalRare ?? 0); d++) {
      // Long enough to escape the short-chunk prior, dense enough to outrank every public page.
      put(store, `i${d}`, [`${'lekeplass '.repeat(12)}KANARIGATE ${d} ${page(d, '')} ${page(d + 1, '')} ${page(d + 2, '')}`], { access: 'internal' });
    }
    return store;
  }

  /** The same ranking done the slow, plain way: every match joined and scored. */
  function joined(store: SqliteStore, q: string, limit: number) {
    const plan = store.bm25Leg.plan(store.parse(q), undefined, { key: 'public', acl: { sql: "(d.access = 'public')", params: {} } })!;
    return (store.bm25Leg as unknown as { joined: (p: unknown, r: unknown) => { ranked: { rowid: number; score: number }[]; total: number } }).joined(plan, {
      limit,
      acl: { sql: "(d.access = 'public')", params: {} },
      filter: { sql: '1 = 1', params: {} },
    });
  }

  it('a rare word and common words: the rows holding only the common words rank and count too', () => {
    const store = corpus();
    const r = store.bm25Rows('lekeplass tiltak', { principal: PUBLIC_PRINCIPAL, limit: 50 });
    expect(r.total).toBe(120);
    // The six with the rare word lead, in the plain ranking's order and scores.
    expect(rankedDocs(store, r.ranked.slice(0, 6)).sort()).toEqual(['p0', 'p100', 'p20', 'p40', 'p60', 'p80']);
    const plain = joined(store, 'lekeplass tiltak', 50);
    expect(r.ranked.map((x) => x.rowid)).toEqual(plain.ranked.map((x) => x.rowid));
    r.ranked.forEach((x, i) => expect(x.score).toBeCloseTo(plain.ranked[i].score, 9));
  });

  it('common words only: every row with either word, as the plain ranking has them', () => {
    const store = corpus();
    const r = store.bm25Rows('vedtak tiltak', { principal: PUBLIC_PRINCIPAL, limit: 20 });
    expect(r.total).toBe(120);
    const plain = joined(store, 'vedtak tiltak', 20);
    expect(r.ranked.map((x) => x.rowid)).toEqual(plain.ranked.map((x) => x.rowid));
    // The rows with both words lead.
    expect(rankedDocs(store, r.ranked).every((d) => Number(d.slice(1)) % 2 === 0)).toBe(true);
  });

  it('canaries: unreadable rows above the first candidate window never surface, nor count', () => {
    // 150 internal pages outrank every public one for "lekeplass": the first window (100) holds
    // only internal rows, so the leg must widen, and must not leak them in results or total.
    const store = corpus({ internalRare: 150 });
    // The premise: all of the best 150 rows are internal.
    const all = store.bm25Rows('lekeplass', { principal: ADMIN_PRINCIPAL, limit: 150 });
    expect(rankedDocs(store, all.ranked).every((d) => d.startsWith('i'))).toBe(true);
    const pub = store.bm25Rows('lekeplass', { principal: PUBLIC_PRINCIPAL, limit: 5 });
    const rare = ['p0', 'p20', 'p40', 'p60', 'p80', 'p100'];
    expect(pub.ranked).toHaveLength(5);
    expect(rankedDocs(store, pub.ranked).every((d) => rare.includes(d))).toBe(true);
    expect(pub.total).toBe(6);
    const staff = store.bm25Rows('lekeplass', { principal: INTERNAL, limit: 5 });
    expect(rankedDocs(store, staff.ranked).every((d) => d.startsWith('i'))).toBe(true);
    expect(staff.total).toBe(156);
    const texts = rankedRecords(store, pub.ranked, PUBLIC_PRINCIPAL)
      .map((c) => c.text)
      .join(' ');
    expect(texts).not.toContain('KANARIGATE');
  });

  it('filters narrow inside the query (joined path) and respect access', () => {
    const store = corpus({ internalRare: 10 });
    put(store, 'x', ['lekeplass i 2019'], { date: '2019-05-01' });
    const r = store.bm25Rows('lekeplass', { principal: PUBLIC_PRINCIPAL, limit: 10, filters: { dateFrom: '2019-01-01', dateTo: '2019-12-31' } });
    expect(rankedDocs(store, r.ranked)).toEqual(['x']);
  });
});

describe.runIf(native)('totals', () => {
  it(`stop counting at ${TOTAL_CAP} readable matches and say so`, () => {
    const store = open();
    const docs = Array.from({ length: 12 }, (_, d) => Array.from({ length: 100 }, (_, p) => page(d * 100 + p, 'tiltak')));
    docs.forEach((pages, d) => put(store, `d${d}`, pages));
    const r = store.bm25Rows('tiltak', { principal: PUBLIC_PRINCIPAL, limit: 10 });
    expect(r.ranked).toHaveLength(10);
    expect(r).toMatchObject({ total: TOTAL_CAP, totalRelation: 'gte' });
    const small = store.bm25Rows('tiltak', { principal: PUBLIC_PRINCIPAL, limit: 10, filters: { documentId: 'd3' } });
    expect(small).toMatchObject({ total: 100, totalRelation: 'eq' });
  });
});

describe.runIf(native)("the statistics are the caller's: documents it cannot read change no score or order", () => {
  // The public pages, alone or beside internal and group copies of every one of them, which
  // double every word's document frequency and change the average length: counted over all
  // rows, a public `mode=bm25` score would tell how many secret chunks hold a word.
  function build(secret: boolean) {
    const store = open({ common: { share: 0.05, minDf: 10 } });
    const text = (d: number) => page(d, `${d % 6 === 0 ? 'kanarinavn ' : ''}${d % 2 === 0 ? 'vedtak ' : ''}tiltak`);
    for (let d = 0; d < 60; d++) put(store, `p${d}`, [text(d)], { title: `Dokument p${d}` });
    if (secret) {
      for (let d = 0; d < 60; d++) {
        const over = d % 2 ? { access: 'internal' as const } : { access: 'internal' as const, groups: ['barnevern'] };
        put(store, `s${d}`, [`${text(d)} ${page(d + 7, 'hemmelig')}`], { title: `Dokument s${d}`, ...over });
      }
    }
    return store;
  }

  it('public scores, rankings and totals are the same with or without the secret copies', () => {
    const clean = build(false);
    const planted = build(true);
    const view = (store: SqliteStore, q: string) => {
      const r = store.bm25Rows(q, { principal: PUBLIC_PRINCIPAL, limit: 50 });
      return { docs: rankedDocs(store, r.ranked), scores: r.ranked.map((x) => x.score), total: r.total };
    };
    for (const q of ['kanarinavn', 'kanarinavn vedtak', 'vedtak tiltak', 'kanarinavn tiltak plan']) {
      const a = view(clean, q);
      const b = view(planted, q);
      expect(b.docs, q).toEqual(a.docs);
      expect(b.total, q).toBe(a.total);
      b.scores.forEach((x, i) => expect(x, `${q} #${i}`).toBeCloseTo(a.scores[i], 12));
    }
    // A caller who reads the copies counts them: its score for the same public row differs.
    const pubTop = planted.bm25Rows('kanarinavn', { principal: PUBLIC_PRINCIPAL, limit: 1 }).ranked[0];
    const internal = planted.bm25Rows('kanarinavn', { principal: INTERNAL, limit: 50 }).ranked.find((x) => x.rowid === pubTop.rowid)!;
    expect(internal.score).not.toBeCloseTo(pubTop.score, 6);
  });
});

describe('row lengths for per-caller averages (chunks.tokens)', () => {
  it("hold FTS5's own row sizes, and an index from before them gets them on open", () => {
    const file = path.join(tempDir(), 'index.sqlite');
    const store = open({}, file);
    for (let d = 0; d < 20; d++) put(store, `d${d}`, [page(d, d % 2 ? 'lekeplass' : 'budsjett vedtak')], { title: `Sak ${d} om parkdrift` });
    const sum = (s: SqliteStore) => s.db.prepare(`SELECT total(tokens) FROM chunks`).pluck().get() as number;
    const written = sum(store);
    expect(written).toBe(store.bm25Leg.averages().tokens);
    // As a file written before the column existed.
    store.db.exec(`DROP INDEX chunks_rowid_doc; CREATE INDEX chunks_rowid_doc ON chunks(rowid, document_id); ALTER TABLE chunks DROP COLUMN tokens;`);
    store.close();
    stores.pop();
    const again = open({}, file);
    expect(sum(again)).toBe(written);
    const covered = (again.db.prepare(`PRAGMA index_info(chunks_rowid_doc)`).all() as { name: string }[]).map((c) => c.name);
    expect(covered).toContain('tokens');
  });
});

describe('the vocabulary table', () => {
  it('knows every indexed stem and exact form, and an index from before it is filled on open', () => {
    const file = path.join(tempDir(), 'index.sqlite');
    const store = open({}, file);
    put(store, 'a', ['Reguleringsplanen for Tøyenparken ble vedtatt.']);
    expect(store.vocab.has('tøyenparken')).toBe(true);
    expect(store.vocab.has('reguleringsplanen')).toBe(true);
    expect(store.vocab.withPrefix('regulering', 10).length).toBeGreaterThan(0);
    // Simulate an index written before the table existed.
    store.db.exec(`DELETE FROM vocab; DELETE FROM meta WHERE key = 'vocab_filled'`);
    store.close();
    stores.pop();
    const again = open({}, file);
    expect(again.vocab.has('tøyenparken')).toBe(true);
    // Decompounding finds the parts through it.
    expect(again.parse('tøyenparkenreguleringsplanen').words[0].alternatives.some((a) => a.kind === 'near')).toBe(true);
  });
});

describe('the tie-breaking vector leg', () => {
  it('is skipped when BM25 fills the list, without changing the first hits', async () => {
    const store = open();
    for (let d = 0; d < 40; d++) put(store, `p${d}`, [page(d, d % 3 ? 'lekeplass Tøyenparken' : 'lekeplass')]);
    for (const q of ['lekeplass', 'lekeplass Tøyenparken']) {
      const opts = { candidates: 20 };
      const skipped = await search(store, embedder, { query: q, mode: 'hybrid', limit: 15, principal: PUBLIC_PRINCIPAL }, opts);
      const always = await search(store, embedder, { query: q, mode: 'hybrid', limit: 15, principal: PUBLIC_PRINCIPAL }, { ...opts, vectorTieBreak: 'always' });
      const bm25 = await search(store, embedder, { query: q, mode: 'bm25', limit: 15, principal: PUBLIC_PRINCIPAL }, opts);
      expect(skipped.results.map((h) => h.chunkId)).toEqual(always.results.map((h) => h.chunkId));
      expect(skipped.results.map((h) => h.chunkId)).toEqual(bm25.results.map((h) => h.chunkId));
    }
  });
});
