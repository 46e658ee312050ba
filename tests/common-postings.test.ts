/**
 * The common-word lists (indexes/embedded/common-postings.ts, innsikt_lists_topk in
 * native/innsikt_fts.c): queries of common words only are ranked from them with the same rows,
 * scores and totals as FTS5 gives, before and after rows are added and deleted, in every
 * access scope (canaries), and they are built in steps a time budget can stop.
 */

import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import type { StoredDocument } from '../indexes/store.ts';
import { ADMIN_PRINCIPAL, type Principal, PUBLIC_PRINCIPAL, type SearchFilters } from '../indexes/types.ts';
import { embeddingText } from '../ingest/chunk.ts';
import { pageChunks, rankedDocs, rankedRecords, silverDoc, tempDir } from './helpers.ts';

const native = process.env.INNSIKT_NATIVE !== '0';
const INTERNAL: Principal = { id: 'staff', internal: true, groups: [] };
const embedder = new LocalHashEmbedder();
const EMB = { id: embedder.id, dimensions: embedder.dimensions };
const COMMON = { share: 0.05, minDf: 10 };
const stores: SqliteStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function open(file: string, opts: ConstructorParameters<typeof SqliteStore>[1] = {}): SqliteStore {
  const s = new SqliteStore(file, { common: COMMON, vectorIndex: false, ...opts });
  stores.push(s);
  return s;
}

function put(store: SqliteStore, id: string, text: string, over = {}) {
  const doc = silverDoc(id, [text], over);
  const chunks = pageChunks(doc);
  store.upsertSync(
    doc,
    chunks,
    chunks.map((c) => embedder.embedOne(embeddingText(doc.title, c))),
    EMB,
  );
}

/** Deterministic pages: common words everywhere, in varying numbers, order and company. */
function text(i: number): string {
  const fill = ['bydelen', 'tjenester', 'innbyggere', 'oppfølging', 'rapport', 'kostnader', 'plan', 'skole'];
  const words: string[] = [];
  for (let k = 0; k < 20 + (i % 23) * 4; k++) words.push(fill[(i * 5 + k * 3) % fill.length]);
  if (i % 2 === 0) words.splice(i % 7, 0, 'vedtak');
  if (i % 3 === 0) words.splice(i % 11, 0, 'vedtak', 'tiltak'); // the phrase, in this order
  if (i % 4 === 1) words.splice(i % 5, 0, 'tiltak', 'vedtak'); // both, the other order
  if (i % 5 === 0) words.push('tiltakene', 'vedtatt', 'tiltak');
  if (i % 29 === 0) words.push('lekeplass');
  return words.join(' ') + '.';
}

function corpus(n = 160): { store: SqliteStore; file: string } {
  const file = path.join(tempDir(), 'index.sqlite');
  const store = open(file);
  for (let i = 0; i < n; i++) put(store, `p${i}`, text(i), { title: i % 6 === 0 ? 'Vedtak om tiltak' : `Sak ${i} om skole` });
  return { store, file };
}

const QUERIES = ['vedtak tiltak', 'tiltak vedtak plan', 'tiltak', 'vedtak skole', 'skole', 'vedtak lekeplass'];

/** The same query through the lists (store) and through FTS5 only (plain): identical. */
function expectSame(store: SqliteStore, plain: SqliteStore, query: string, principal: Principal, limit = 40) {
  const a = store.bm25Rows(query, { principal, limit });
  const b = plain.bm25Rows(query, { principal, limit });
  expect(a.total, query).toBe(b.total);
  expect(a.totalRelation).toBe(b.totalRelation);
  expect(a.ranked.length, query).toBe(b.ranked.length);
  for (let i = 0; i < a.ranked.length; i++) {
    expect(a.ranked[i].score, `${query} #${i}`).toBeCloseTo(b.ranked[i].score, 9);
    // Rows of equal score may come in either order.
    if (Math.abs(a.ranked[i].score - b.ranked[i].score) < 1e-12 && a.ranked[i].rowid !== b.ranked[i].rowid) {
      expect(b.ranked.some((x) => x.rowid === a.ranked[i].rowid && Math.abs(x.score - a.ranked[i].score) < 1e-9)).toBe(true);
    }
  }
  return a;
}

describe.runIf(native)('common-word lists', () => {
  it('rank queries of common words exactly as FTS5 does, and only those', () => {
    const { store, file } = corpus();
    const built = store.buildCommonPostings({ force: true })!;
    expect(built.done).toBe(true);
    expect(built.phrases).toBeGreaterThan(4);
    const plain = open(file, { commonPostings: false });
    const postings = store.bm25Leg.postings!;
    for (const q of QUERIES) {
      const before = postings.served;
      const r = expectSame(store, plain, q, PUBLIC_PRINCIPAL);
      expect(r.ranked.length, q).toBeGreaterThan(0);
      // Served from the lists: every query but the one with a rare word (no list; FTS5 is fast there).
      expect(postings.served - before, q).toBe(q.includes('lekeplass') ? 0 : 1);
    }
    expect(plain.bm25Leg.postings!.served).toBe(0);
    // The phrase boost was found from positions: rows holding "vedtak tiltak" in that order
    // lead the two-word query, ahead of rows holding both words the other way round.
    const top = rankedDocs(store, store.bm25Rows('vedtak tiltak', { principal: PUBLIC_PRINCIPAL, limit: 5 }).ranked);
    expect(top.every((d) => Number(d.slice(1)) % 3 === 0)).toBe(true);
    // Wider pages (the leg asks again for more) stay the same too.
    expectSame(store, plain, 'tiltak', PUBLIC_PRINCIPAL, 150);
  });

  it('settle the best rows from the phrase boost alone when no other row can reach them', () => {
    // 600 pages hold both words (IDF near zero); 150 hold them as a phrase (large IDF).
    const file = path.join(tempDir(), 'index.sqlite');
    const store = open(file);
    for (let i = 0; i < 600; i++) {
      const phrase = i % 4 === 0 ? 'vedtak tiltak' : 'tiltak skole vedtak';
      const fill = ['bydelen', 'tjenester', 'rapport', 'plan', 'skole', 'kostnader'].filter((_, k) => (i + k) % 3 !== 0).join(' ');
      put(store, `p${i}`, `${fill} ${phrase} ${i % 9 === 0 ? 'vedtak' : ''} ${fill}`);
    }
    store.buildCommonPostings({ force: true });
    const plain = open(file, { commonPostings: false });
    const postings = store.bm25Leg.postings!;
    const r = expectSame(store, plain, 'vedtak tiltak', PUBLIC_PRINCIPAL, 20);
    expect(rankedDocs(store, r.ranked).every((d) => Number(d.slice(1)) % 4 === 0)).toBe(true);
    // Only the phrase's rows were scored, not every row holding both words.
    expect(postings.lastRanked).toBeGreaterThan(0);
    expect(postings.lastRanked).toBeLessThanOrEqual(150);
    // Asking for more than the phrase's rows: every row is ranked, still the same as FTS5.
    expectSame(store, plain, 'vedtak tiltak', PUBLIC_PRINCIPAL, 200);
    expect(postings.lastRanked).toBe(600);
  });

  it('rank every row when rows without the phrase boost can still outrank it', () => {
    // The words on 240 of 600 pages (IDF 0.4): 110 hold them as a phrase once, 130 hold each
    // of them many times apart, and those outrank the phrase's rows.
    const file = path.join(tempDir(), 'index.sqlite');
    const store = open(file);
    for (let i = 0; i < 600; i++) {
      const fill = ['bydelen', 'tjenester', 'rapport', 'plan', 'skole', 'kostnader'].filter((_, k) => (i + k) % 3 !== 0).join(' ');
      const words = i < 110 ? 'vedtak tiltak' : i < 240 ? 'vedtak skole tiltak rapport '.repeat(8) : 'bydelen';
      put(store, `p${i}`, `${fill} ${words} ${fill}`);
    }
    store.buildCommonPostings({ force: true });
    const plain = open(file, { commonPostings: false });
    const r = expectSame(store, plain, 'vedtak tiltak', PUBLIC_PRINCIPAL, 20);
    const top = rankedDocs(store, r.ranked).map((d) => Number(d.slice(1)));
    expect(top.some((i) => i >= 110)).toBe(true); // rows without the phrase made the page
    expect(store.bm25Leg.postings!.lastRanked).toBe(240);
  });

  it('filtered queries: a narrow filter is applied inside the ranking, a wide one by widening; the same as FTS5', async () => {
    const file = path.join(tempDir(), 'index.sqlite');
    const store = open(file);
    for (let i = 0; i < 200; i++) {
      // 2023: one document in ten (narrow); rapport: one in two (wide). Secret 2023 documents
      // dense with the query words must stay out of public results and counts.
      const over = { date: i % 10 === 0 ? '2023-05-04' : '2024-09-12', kind: i % 2 ? 'rapport' : 'møteprotokoll' } as const;
      put(store, `p${i}`, text(i), over);
      if (i % 20 === 0) put(store, `s${i}`, `${'vedtak tiltak '.repeat(5)}KANARIFILTER ${text(i)}`, { ...over, access: 'internal' });
    }
    store.buildCommonPostings({ force: true });
    const plain = open(file, { commonPostings: false });
    const postings = store.bm25Leg.postings!;
    const year = { dateFrom: '2023-01-01', dateTo: '2023-12-31' };
    const cases: [SearchFilters, (d: StoredDocument) => boolean][] = [
      [year, (d) => !!d.date?.startsWith('2023')],
      [{ kind: ['rapport'] }, (d) => d.kind === 'rapport'],
    ];
    for (const [filters, check] of cases) {
      for (const principal of [PUBLIC_PRINCIPAL, INTERNAL]) {
        for (const q of ['vedtak tiltak', 'tiltak']) {
          const served = postings.served;
          const a = store.bm25Rows(q, { principal, limit: 10, filters });
          const b = plain.bm25Rows(q, { principal, limit: 10, filters });
          expect(postings.served, q).toBe(served + 1);
          expect(a.total, `${q} ${JSON.stringify(filters)}`).toBe(b.total);
          expect(a.ranked.map((x) => x.score)).toEqual(b.ranked.map((x) => x.score));
          expect(a.ranked.length).toBeGreaterThan(0);
          const ids = rankedDocs(store, a.ranked);
          for (const id of ids) expect(check((await store.getDocument(id, ADMIN_PRINCIPAL))!), id).toBe(true);
          if (principal === PUBLIC_PRINCIPAL) expect(ids.some((d) => d.startsWith('s'))).toBe(false);
          else if (filters === year) expect(ids.some((d) => d.startsWith('s'))).toBe(true);
        }
      }
    }
    // A filter no row passes: nothing, at once.
    const none = store.bm25Rows('vedtak tiltak', { principal: PUBLIC_PRINCIPAL, limit: 10, filters: { dateFrom: '1990-01-01', dateTo: '1990-12-31' } });
    expect(none).toMatchObject({ ranked: [], total: 0 });
  });

  it('rows added after the build come from FTS5, deleted rows never come back', () => {
    const { store, file } = corpus();
    store.buildCommonPostings({ force: true });
    for (let i = 160; i < 175; i++) put(store, `p${i}`, `${text(i)} vedtak tiltak vedtak tiltak`, { title: 'Vedtak om tiltak, nytt' });
    const gone = ['p0', 'p3', 'p6', 'p9', 'p12'];
    for (const id of gone) store.deleteDocument(id);
    put(store, 'p15', 'erstattet side uten de vanlige ordene'); // replaced: new rowid, old one gone
    const plain = open(file, { commonPostings: false });
    const served = store.bm25Leg.postings!.served;
    for (const q of QUERIES) {
      const r = expectSame(store, plain, q, PUBLIC_PRINCIPAL, 200);
      const ids = rankedDocs(store, r.ranked);
      for (const id of gone) expect(ids).not.toContain(id);
    }
    expect(store.bm25Leg.postings!.served).toBeGreaterThan(served);
    const top = rankedDocs(store, store.bm25Rows('vedtak tiltak', { principal: PUBLIC_PRINCIPAL, limit: 3 }).ranked);
    expect(top.every((d) => Number(d.slice(1)) >= 160)).toBe(true);
  });

  it('canaries: unreadable rows never surface nor count, in any scope', () => {
    const { store, file } = corpus();
    // Dense with the query's words: they would lead the ranking if they leaked.
    for (let i = 0; i < 30; i++) {
      put(store, `secret${i}`, `${'vedtak tiltak '.repeat(6)}KANARILISTE ${text(i)}`, { access: i % 2 ? 'internal' : 'protected', groups: ['barnevern'] });
    }
    store.buildCommonPostings({ force: true });
    const plain = open(file, { commonPostings: false });
    const barnevern: Principal = { id: 'saksbehandler', internal: false, groups: ['barnevern'] };
    for (const principal of [PUBLIC_PRINCIPAL, INTERNAL, barnevern, ADMIN_PRINCIPAL]) {
      for (const q of ['vedtak tiltak', 'tiltak']) {
        const r = expectSame(store, plain, q, principal, 60);
        const ids = rankedDocs(store, r.ranked);
        if (principal === PUBLIC_PRINCIPAL) expect(ids.some((d) => d.startsWith('secret'))).toBe(false);
        else expect(ids.some((d) => d.startsWith('secret'))).toBe(true);
      }
    }
    const pub = store.bm25Rows('vedtak tiltak', { principal: PUBLIC_PRINCIPAL, limit: 60 });
    const texts = rankedRecords(store, pub.ranked, PUBLIC_PRINCIPAL)
      .map((c) => c.text)
      .join(' ');
    expect(texts).not.toContain('KANARILISTE');
  });

  it('are built in steps a time budget can stop; queries read the old lists until the new are complete', async () => {
    const { store, file } = corpus();
    const postings = store.bm25Leg.postings!;
    // No budget at all: the job is planned and kept, nothing is switched to.
    expect(postings.status()).toBe(null);
    const first = store.buildCommonPostings({ budgetMs: 0 })!;
    expect(first.done).toBe(false);
    expect(postings.state()).toBe(null);
    // The dictionary scan itself goes a term at a time within the budget.
    const planned = postings.status()!;
    expect(planned.lists).toBe(0);
    expect(planned.building!.scanning).toBe(true);
    let scans = 0;
    while (postings.status()!.building!.scanning && scans++ < 10_000) store.buildCommonPostings({ budgetMs: 0 });
    expect(scans).toBeGreaterThan(4);
    expect(postings.status()!.building!.left).toBeGreaterThan(4);
    let served = postings.served;
    store.bm25Rows('vedtak tiltak', { principal: PUBLIC_PRINCIPAL, limit: 10 });
    expect(postings.served).toBe(served); // FTS5 ranked: no lists yet
    // Another process (a reopened store) goes on where this one stopped.
    const other = open(file);
    let rounds = 0;
    let step = other.buildCommonPostings({ budgetMs: 1 })!;
    while (!step.done && rounds++ < 500) step = other.buildCommonPostings({ budgetMs: 1 })!;
    expect(step.done).toBe(true);
    expect(rounds).toBeGreaterThan(0);
    const gen1 = postings.state()!;
    expect(gen1.gen).toBe(1);
    const built = postings.status()!;
    expect(built).toMatchObject({ building: null, rowsAfter: 0 });
    expect(built.lists).toBe(store.db.prepare(`SELECT count(*) FROM common_lists`).pluck().get());
    expect(built.bytes).toBe(store.db.prepare(`SELECT sum(length(data)) FROM common_lists`).pluck().get());
    served = postings.served;
    const plain = open(file, { commonPostings: false });
    expectSame(store, plain, 'vedtak tiltak', PUBLIC_PRINCIPAL);
    expect(postings.served).toBe(served + 1);
    // Fresh lists are not rebuilt; after growth past the rebuild share they are (generation 2),
    // by the optimize() that follows every ingest, and the old generation is dropped.
    expect(store.buildCommonPostings()!.phrases).toBe(0);
    for (let i = 160; i < 200; i++) put(store, `p${i}`, text(i));
    expect(postings.status()!.rowsAfter).toBe(40);
    expect((await store.optimize(Number.POSITIVE_INFINITY))[0]).toMatch(/^common-word lists: \d+ written/);
    expect(postings.status()!.building).toBe(null);
    expect(postings.state()!.gen).toBe(2);
    expect(store.db.prepare(`SELECT count(*) FROM common_lists WHERE gen <> 2`).pluck().get()).toBe(0);
    expectSame(store, plain, 'tiltak vedtak plan', PUBLIC_PRINCIPAL);
  });

  it('a read-only store ranks from lists another process wrote, and never writes', () => {
    const { store, file } = corpus();
    const reader = open(file, { readonly: true });
    expect(reader.buildCommonPostings({ force: true })).toBe(null);
    store.buildCommonPostings({ force: true });
    const served = reader.bm25Leg.postings!.served;
    expectSame(reader, open(file, { commonPostings: false }), 'vedtak tiltak', PUBLIC_PRINCIPAL);
    expect(reader.bm25Leg.postings!.served).toBe(served + 1);
  });

  it('innsikt_lists_topk and innsikt_pack reject malformed input with clear errors', () => {
    const { store } = corpus(20);
    const db = store.db;
    expect(() => db.prepare(`SELECT innsikt_lists_topk(x'00', x'00')`).get()).toThrow(/bad spec/);
    const spec = Buffer.from(Int32Array.from([1, 1, 1, 10, 1, 0, 1, 0, 1, 0]).buffer);
    const numbers = Buffer.from(Float64Array.from([10, 150, 0.5, 0.5, 1.2]).buffer);
    expect(() => db.prepare(`SELECT innsikt_lists_topk(?, ?, x'0200000005000000')`).get(spec, numbers)).toThrow(/malformed list/);
    // A valid empty list ranks nothing: the count of matches, then no pairs.
    const out = db.prepare(`SELECT innsikt_lists_topk(?, ?, x'')`).pluck().get(spec, numbers) as Buffer;
    expect(out.readDoubleLE(0)).toBe(0);
    expect(out.length).toBe(8);
    expect(() => db.prepare(`SELECT innsikt_pack(3, x'01')`).get()).toThrow(/innsikt_pack/);
  });
});
