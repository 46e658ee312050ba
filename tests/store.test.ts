import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { EmbedderMismatchError } from '../indexes/embeddings/types.ts';
import { PUBLIC_PRINCIPAL, ADMIN_PRINCIPAL, type Principal } from '../indexes/types.ts';
import { silverDoc, pageChunks, unitVector, tempDir } from './helpers.ts';

const DIMS = 16;
const EMB = { id: 'test-embedder', dimensions: DIMS };
const INTERNAL: Principal = { id: 'staff', internal: true, groups: [] };
const BARNEVERN: Principal = { id: 'bv', internal: true, groups: ['barnevern'] };
const OTHER_GROUP: Principal = { id: 'helse', internal: true, groups: ['helse'] };

let store: SqliteStore;

function put(id: string, pages: string[], over = {}, axis = 0) {
  const doc = silverDoc(id, pages, over);
  const chunks = pageChunks(doc);
  store.upsertDocument(doc, chunks, chunks.map((_, i) => unitVector(DIMS, axis + i)), EMB);
}

function bm25Ids(q: string, p: Principal) {
  const { ranked } = store.bm25(q, { principal: p, limit: 50 });
  return [...store.chunksByRowid(ranked.map((r) => r.rowid), ADMIN_PRINCIPAL).values()].map((c) => c.documentId);
}

beforeEach(() => {
  store = new SqliteStore(path.join(tempDir(), 'index.sqlite'));
  put('offentlig', ['Bydelsutvalget vedtok ny lekeplass i Tøyenparken.', 'Budsjett for parkdrift 2025.'], {}, 0);
  put('intern', ['Internt notat om lekeplass. Kodeord KANARIINTERN.'], { access: 'internal' }, 5);
  put('skjermet', ['Barnevernssak om lekeplass. Kodeord KANARISKJERMET.'], { access: 'protected', groups: ['barnevern'] }, 9);
});
afterEach(() => store.close());

describe('embedded store: access is filtered inside every query', () => {
  it('BM25 never returns a non-public chunk to the public', () => {
    expect(bm25Ids('kanariintern', PUBLIC_PRINCIPAL)).toEqual([]);
    expect(bm25Ids('kanariskjermet', PUBLIC_PRINCIPAL)).toEqual([]);
    expect(bm25Ids('lekeplass', PUBLIC_PRINCIPAL)).toEqual(['offentlig']);
    expect(store.bm25('kanariintern', { principal: PUBLIC_PRINCIPAL, limit: 1 }).total).toBe(0);
  });

  it('internal staff see internal but not protected documents; group members see theirs', () => {
    expect(bm25Ids('kanariintern', INTERNAL)).toEqual(['intern']);
    expect(bm25Ids('kanariskjermet', INTERNAL)).toEqual([]);
    expect(bm25Ids('kanariskjermet', OTHER_GROUP)).toEqual([]);
    expect(bm25Ids('kanariskjermet', BARNEVERN)).toEqual(['skjermet']);
    expect(new Set(bm25Ids('lekeplass', BARNEVERN))).toEqual(new Set(['offentlig', 'intern', 'skjermet']));
  });

  it('the vector leg filters too, even for the exact vector of a secret chunk', () => {
    const secret = unitVector(DIMS, 9);
    const pub = store.vector(secret, { principal: PUBLIC_PRINCIPAL, limit: 10, minSimilarity: 0.5 });
    const docs = [...store.chunksByRowid(pub.map((r) => r.rowid), ADMIN_PRINCIPAL).values()].map((c) => c.documentId);
    expect(docs).not.toContain('skjermet');
    const bv = store.vector(secret, { principal: BARNEVERN, limit: 1, minSimilarity: 0.5 });
    expect(store.chunksByRowid(bv.map((r) => r.rowid), BARNEVERN).values().next().value?.documentId).toBe('skjermet');
  });

  it('documents, listings and chunk lookups are filtered', () => {
    expect(store.getDocument('intern', PUBLIC_PRINCIPAL)).toBeNull();
    expect(store.getDocument('skjermet', INTERNAL)).toBeNull();
    expect(store.getDocument('skjermet', BARNEVERN)?.pages[0].text).toContain('KANARISKJERMET');
    expect(store.listDocuments(PUBLIC_PRINCIPAL).map((d) => d.id)).toEqual(['offentlig']);
    const all = store.bm25('kodeord', { principal: ADMIN_PRINCIPAL, limit: 10 }).ranked.map((r) => r.rowid);
    expect(all.length).toBe(2);
    expect(store.chunksByRowid(all, PUBLIC_PRINCIPAL).size).toBe(0);
  });

  it('a change of access takes effect on the next read', () => {
    expect(store.setAccess('intern', 'public', [])).toBe(true);
    expect(bm25Ids('kanariintern', PUBLIC_PRINCIPAL)).toEqual(['intern']);
    store.setAccess('intern', 'internal', []);
    expect(bm25Ids('kanariintern', PUBLIC_PRINCIPAL)).toEqual([]);
  });

  it('filters by kind, body and date inside the query', () => {
    put('gammel', ['Lekeplass på Kampen.'], { date: '2019-05-01', body: 'Miljøkomiteen', kind: 'utredning' }, 3);
    const ids = (filters: object) =>
      [...store.chunksByRowid(store.bm25('lekeplass', { principal: ADMIN_PRINCIPAL, limit: 50, filters }).ranked.map((r) => r.rowid), ADMIN_PRINCIPAL).values()].map((c) => c.documentId).sort();
    expect(ids({ dateTo: '2020-01-01' })).toEqual(['gammel']);
    expect(ids({ kind: ['utredning'] })).toEqual(['gammel']);
    expect(ids({ body: ['Bydelsutvalget'] })).toEqual(['intern', 'offentlig', 'skjermet']);
  });
});

describe('embedded store: writes', () => {
  it('replaces a document and all its chunks atomically', () => {
    expect(bm25Ids('parkdrift', ADMIN_PRINCIPAL)).toEqual(['offentlig']);
    put('offentlig', ['Helt ny tekst om sykehjem.'], {}, 0);
    expect(bm25Ids('parkdrift', ADMIN_PRINCIPAL)).toEqual([]);
    expect(bm25Ids('sykehjem', ADMIN_PRINCIPAL)).toEqual(['offentlig']);
    expect(store.getDocument('offentlig', ADMIN_PRINCIPAL)?.chunkCount).toBe(1);
  });

  it('a failed write leaves the previous version whole', () => {
    const doc = silverDoc('offentlig', ['Ny versjon om sykehjem.']);
    expect(() => store.upsertDocument(doc, pageChunks(doc), [new Float32Array(DIMS + 1)], EMB)).toThrow(/dimensions/);
    expect(bm25Ids('parkdrift', ADMIN_PRINCIPAL)).toEqual(['offentlig']);
    expect(bm25Ids('sykehjem', ADMIN_PRINCIPAL)).toEqual([]);
  });

  it('refuses vectors from another embedder and says to reindex', () => {
    const doc = silverDoc('ny', ['tekst']);
    expect(() => store.upsertDocument(doc, pageChunks(doc), [unitVector(DIMS, 1)], { id: 'other', dimensions: DIMS })).toThrow(EmbedderMismatchError);
    expect(() => store.upsertDocument(doc, pageChunks(doc), [unitVector(DIMS, 1)], { id: 'other', dimensions: DIMS })).toThrow(/innsikt reindex/);
  });

  it('deletes a document with all its rows', () => {
    expect(store.deleteDocument('offentlig')).toBe(true);
    expect(store.deleteDocument('offentlig')).toBe(false);
    expect(bm25Ids('parkdrift', ADMIN_PRINCIPAL)).toEqual([]);
    const n = (t: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    expect(n('chunks')).toBe(2);
    expect(n('chunk_vectors')).toBe(2);
  });

  it('ranks title and exact matches above stem-only matches', () => {
    put('tittel', ['Her står det lite.'], { title: 'Sykehjemsplasser i bydelen' }, 11);
    put('tekst', ['Sykehjemsplassene ble diskutert lenge. Mye annen tekst her om mange ting.'], { title: 'Protokoll' }, 12);
    expect(bm25Ids('sykehjemsplasser', ADMIN_PRINCIPAL)[0]).toBe('tittel');
  });
});
