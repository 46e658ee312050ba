/**
 * The store contract: one suite, run against every backend (the embedded SQLite store always;
 * Elasticsearch when ELASTICSEARCH_URL names a cluster, and in CI, where INNSIKT_ES_REQUIRED=1
 * makes a missing cluster a failure instead of a skip). Everything goes through the Store
 * interface (indexes/store.ts): access with canaries, filters, totals, facets, replace,
 * delete, change counters, rebuild.
 */

import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ParsedQuery, parseQuery } from '../indexes/analysis/query.ts';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { EmbedderMismatchError } from '../indexes/embeddings/types.ts';
import type { Store } from '../indexes/store.ts';
import { ADMIN_PRINCIPAL, type Principal, PUBLIC_PRINCIPAL, type SearchFilters, type SilverDocument } from '../indexes/types.ts';
import { esBackend } from './es-harness.ts';
import { pageChunks, silverDoc, tempDir, unitVector } from './helpers.ts';

const DIMS = 16;
const EMB = { id: 'test-embedder', dimensions: DIMS };
const INTERNAL: Principal = { id: 'staff', internal: true, groups: [] };
const BARNEVERN: Principal = { id: 'bv', internal: true, groups: ['barnevern'] };
const OTHER_GROUP: Principal = { id: 'helse', internal: true, groups: ['helse'] };

interface Backend {
  name: string;
  skip: string | null;
  open(): Promise<Store>;
  /** Remove what open() created. */
  dispose(store: Store): Promise<void>;
}

const embedded: Backend = {
  name: 'embedded',
  skip: null,
  open: async () => new SqliteStore(path.join(tempDir(), 'index.sqlite')),
  dispose: async (s) => s.close(),
};

const BACKENDS: Backend[] = [embedded, esBackend()];

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip !== null)(`store contract: ${backend.name}${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, () => {
    let store: Store;

    const put = async (id: string, pages: string[], over: Partial<SilverDocument> = {}, axis = 0) => {
      const doc = silverDoc(id, pages, over);
      const chunks = pageChunks(doc);
      await store.upsertDocument(
        doc,
        chunks,
        chunks.map((_, i) => unitVector(DIMS, axis + i)),
        EMB,
      );
    };
    const q = (text: string): Promise<ParsedQuery> => store.vocabulary(text).then((v) => parseQuery(text, undefined, v));
    const bm25 = async (text: string, p: Principal, filters?: SearchFilters, limit = 50) =>
      (await store.rank({ principal: p, filters, bm25: { query: await q(text), limit } })).bm25!;
    const bm25Ids = async (text: string, p: Principal, filters?: SearchFilters) => (await bm25(text, p, filters)).ranked.map((r) => r.documentId);
    const vectorIds = async (v: Float32Array, p: Principal, limit = 10) =>
      (await store.rank({ principal: p, vector: { embedding: async () => v, limit, minSimilarity: 0.5 } })).vector!.map((r) => r.documentId);

    beforeEach(async () => {
      store = await backend.open();
      await put('offentlig', ['Bydelsutvalget vedtok ny lekeplass i Tøyenparken.', 'Budsjett for parkdrift 2025.'], {}, 0);
      await put('intern', ['Internt notat om lekeplass. Kodeord KANARIINTERN.'], { access: 'internal' }, 5);
      await put('skjermet', ['Barnevernssak om lekeplass. Kodeord KANARISKJERMET.'], { access: 'protected', groups: ['barnevern'] }, 9);
    });
    afterEach(async () => backend.dispose(store));

    describe('access is filtered inside every query', () => {
      it('BM25 never returns a non-public chunk to the public, and counts none', async () => {
        expect(await bm25Ids('kanariintern', PUBLIC_PRINCIPAL)).toEqual([]);
        expect(await bm25Ids('kanariskjermet', PUBLIC_PRINCIPAL)).toEqual([]);
        expect(await bm25Ids('lekeplass', PUBLIC_PRINCIPAL)).toEqual(['offentlig']);
        expect((await bm25('kanariintern', PUBLIC_PRINCIPAL)).total).toBe(0);
        expect((await bm25('lekeplass', PUBLIC_PRINCIPAL)).total).toBe(1);
        expect((await bm25('lekeplass', ADMIN_PRINCIPAL)).total).toBe(3);
      });

      it('internal staff see internal but not protected documents; group members see theirs', async () => {
        expect(await bm25Ids('kanariintern', INTERNAL)).toEqual(['intern']);
        expect(await bm25Ids('kanariskjermet', INTERNAL)).toEqual([]);
        expect(await bm25Ids('kanariskjermet', OTHER_GROUP)).toEqual([]);
        expect(await bm25Ids('kanariskjermet', BARNEVERN)).toEqual(['skjermet']);
        expect(new Set(await bm25Ids('lekeplass', BARNEVERN))).toEqual(new Set(['offentlig', 'intern', 'skjermet']));
      });

      it('the vector leg filters too, even for the exact vector of a secret chunk', async () => {
        const secret = unitVector(DIMS, 9);
        expect(await vectorIds(secret, PUBLIC_PRINCIPAL)).not.toContain('skjermet');
        expect(await vectorIds(secret, INTERNAL)).not.toContain('skjermet');
        expect((await vectorIds(secret, BARNEVERN, 1))[0]).toBe('skjermet');
      });

      it('documents, listings, chunk lookups and unmatched words are filtered', async () => {
        expect(await store.getDocument('intern', PUBLIC_PRINCIPAL)).toBeNull();
        expect(await store.getDocument('skjermet', INTERNAL)).toBeNull();
        expect((await store.getDocument('skjermet', BARNEVERN))?.pages[0].text).toContain('KANARISKJERMET');
        expect((await store.listDocuments(PUBLIC_PRINCIPAL)).map((d) => d.id)).toEqual(['offentlig']);
        const all = (await bm25('kodeord', ADMIN_PRINCIPAL)).ranked.map((r) => r.chunkId);
        expect(all.length).toBe(2);
        expect((await store.chunks(all, PUBLIC_PRINCIPAL)).size).toBe(0);
        expect((await store.chunks(all, ADMIN_PRINCIPAL)).size).toBe(2);
        expect(await store.unmatchedWords(await q('kanariintern lekeplass'), PUBLIC_PRINCIPAL)).toEqual(['kanariintern']);
        expect(await store.unmatchedWords(await q('kanariintern lekeplass'), INTERNAL)).toEqual([]);
      });

      it('facet counts count only readable documents', async () => {
        const pub = await store.facets(await q('lekeplass'), { principal: PUBLIC_PRINCIPAL });
        expect(pub.body).toEqual([{ value: 'Bydelsutvalget', count: 1 }]);
        const bv = await store.facets(await q('lekeplass'), { principal: BARNEVERN });
        expect(bv.body).toEqual([{ value: 'Bydelsutvalget', count: 3 }]);
        expect(bv.year).toEqual([{ value: '2024', count: 3 }]);
        expect((await store.facets(await q('kanariskjermet'), { principal: INTERNAL })).kind).toEqual([]);
      });

      it('public scores never depend on documents the public cannot read', { timeout: 90_000 }, async () => {
        // Public documents without the query words, so that its words have an IDF worth comparing.
        for (let i = 0; i < 6; i++) await put(`fyll-${i}`, [`Referat nummer ${i} om vinterdrift og snøbrøyting.`], {}, 6);
        const before = (await bm25('lekeplass budsjett', PUBLIC_PRINCIPAL)).ranked.map((r) => [r.chunkId, r.score.toFixed(6)]);
        // Many non-public chunks holding the query words would change IDFs counted over all rows.
        for (let i = 0; i < 6; i++) {
          await put(
            `hemmelig-${i}`,
            ['Lekeplass lekeplass budsjett. Internt.'],
            { access: i % 2 ? 'internal' : 'protected', groups: i % 2 ? [] : ['barnevern'] },
            3,
          );
        }
        const after = (await bm25('lekeplass budsjett', PUBLIC_PRINCIPAL)).ranked.map((r) => [r.chunkId, r.score.toFixed(6)]);
        expect(after).toEqual(before);
        expect(Number(before[0][1])).toBeGreaterThan(0.001);
        // A public document that becomes internal leaves the public statistics at once.
        await put('flytt', ['Lekeplass og budsjett, to ganger: lekeplass budsjett.'], {}, 7);
        expect((await bm25('lekeplass budsjett', PUBLIC_PRINCIPAL)).ranked.map((r) => r.documentId)).toContain('flytt');
        await store.setAccess('flytt', 'internal', []);
        // Elasticsearch lets go of the deleted copy within a retention-lease sync (~30 s).
        await (store as { settled?: () => Promise<void> }).settled?.();
        const moved = (await bm25('lekeplass budsjett', PUBLIC_PRINCIPAL)).ranked.map((r) => [r.chunkId, r.score.toFixed(6)]);
        expect(moved).toEqual(before);
        // The readers' own scores do count them.
        const staff = (await bm25('lekeplass budsjett', INTERNAL)).ranked.find((r) => r.documentId === 'offentlig')!;
        expect(staff.score.toFixed(6)).not.toBe(before[0][1]);
      });

      it('a change of access takes effect on the next read, everywhere', async () => {
        expect(await store.setAccess('intern', 'public', [])).toBe(true);
        expect(await bm25Ids('kanariintern', PUBLIC_PRINCIPAL)).toEqual(['intern']);
        expect((await store.getDocument('intern', PUBLIC_PRINCIPAL))?.access).toBe('public');
        await store.setAccess('intern', 'internal', []);
        expect(await bm25Ids('kanariintern', PUBLIC_PRINCIPAL)).toEqual([]);
        expect(await store.getDocument('intern', PUBLIC_PRINCIPAL)).toBeNull();
        expect(await vectorIds(unitVector(DIMS, 5), PUBLIC_PRINCIPAL)).not.toContain('intern');
        await store.setAccess('intern', 'protected', ['barnevern']);
        expect(await bm25Ids('kanariintern', INTERNAL)).toEqual([]);
        expect(await bm25Ids('kanariintern', BARNEVERN)).toEqual(['intern']);
        expect(await store.setAccess('finnes-ikke', 'public', [])).toBe(false);
      });
    });

    describe('filters, totals, facets', () => {
      it('filters by kind, body, date, document and decisions inside both legs', async () => {
        await put('gammel', ['Lekeplass på Kampen.'], { date: '2019-05-01', body: 'Miljøkomiteen', kind: 'utredning' }, 3);
        const ids = async (filters: SearchFilters) => (await bm25Ids('lekeplass', ADMIN_PRINCIPAL, filters)).sort();
        expect(await ids({ dateTo: '2020-01-01' })).toEqual(['gammel']);
        expect(await ids({ dateFrom: '2020-01-01' })).toEqual(['intern', 'offentlig', 'skjermet']);
        expect(await ids({ kind: ['utredning'] })).toEqual(['gammel']);
        expect(await ids({ body: ['Bydelsutvalget'] })).toEqual(['intern', 'offentlig', 'skjermet']);
        expect(await ids({ documentId: 'intern' })).toEqual(['intern']);
        expect(await ids({ decisionsOnly: true })).toEqual([]);
        const vec = await store.rank({
          principal: ADMIN_PRINCIPAL,
          filters: { kind: ['utredning'] },
          vector: { embedding: async () => unitVector(DIMS, 0), limit: 10, minSimilarity: -1 },
        });
        expect(vec.vector!.map((r) => r.documentId)).toEqual(['gammel']);
      });

      it('filters and counts by the issuing organisation, only readable documents, and finds every chunk by its name', async () => {
        await put('bykle', ['Lekeplass ved skolen.', 'Budsjett for vinteren.'], { organisation: { name: 'Bykle kommune', type: 'kommune' } }, 3);
        await put('sagene', ['Lekeplass i parken.'], { organisation: { name: 'Bydel Sagene', type: 'bydel' }, access: 'internal' }, 4);
        const ids = async (filters: SearchFilters, p = ADMIN_PRINCIPAL) => (await bm25Ids('lekeplass', p, filters)).sort();
        expect(await ids({ organisation: ['Bykle kommune'] })).toEqual(['bykle']);
        expect(await ids({ organisation: ['Bykle kommune', 'Bydel Sagene'] })).toEqual(['bykle', 'sagene']);
        expect(await ids({ organisation: ['Bydel Sagene'] }, PUBLIC_PRINCIPAL)).toEqual([]);
        const pub = await store.facets(await q('lekeplass'), { principal: PUBLIC_PRINCIPAL, filters: { organisation: ['Bykle kommune'] } });
        expect(pub.organisation).toEqual([{ value: 'Bykle kommune', count: 1 }]);
        const all = await store.facets(await q('lekeplass'), { principal: ADMIN_PRINCIPAL });
        expect(all.organisation).toEqual([
          { value: 'Bydel Sagene', count: 1 },
          { value: 'Bykle kommune', count: 1 },
        ]);
        // The second page never names Bykle; the organisation is in every chunk's title field.
        const byName = await bm25('budsjett bykle', ADMIN_PRINCIPAL);
        expect(byName.ranked[0]).toMatchObject({ documentId: 'bykle' });
        expect((await store.chunks([byName.ranked[0].chunkId], ADMIN_PRINCIPAL)).get(byName.ranked[0].chunkId)).toMatchObject({
          organisation: 'Bykle kommune',
        });
      });

      it('ranks title and exact matches above stem-only matches', async () => {
        await put('tittel', ['Her står det lite.'], { title: 'Sykehjemsplasser i bydelen' }, 11);
        await put('tekst', ['Sykehjemsplassene ble diskutert lenge. Mye annen tekst her om mange ting.'], { title: 'Protokoll' }, 12);
        expect((await bm25Ids('sykehjemsplasser', ADMIN_PRINCIPAL))[0]).toBe('tittel');
      });

      it('totals count every readable match; the limit cuts only the list', async () => {
        for (let i = 0; i < 12; i++) await put(`mange-${i}`, [`Snøbrøyting på gate ${i}.`], {}, i);
        const r = await bm25('snøbrøyting', PUBLIC_PRINCIPAL, undefined, 5);
        expect(r.ranked.length).toBe(5);
        expect(r.total).toBe(12);
        expect(r.totalRelation).toBe('eq');
        // Each hit names its document and date (for grouping and sorting by date).
        expect(r.ranked[0]).toMatchObject({ documentId: expect.stringMatching(/^mange-/), date: '2024-03-14' });
      });

      it('facets count matching documents per body, year and kind, each without its own filter', async () => {
        await put('gammel', ['Lekeplass på Kampen.'], { date: '2019-05-01', body: 'Miljøkomiteen', kind: 'utredning' }, 3);
        const f = await store.facets(await q('lekeplass'), { principal: ADMIN_PRINCIPAL, filters: { body: ['Miljøkomiteen'] } });
        expect(f.body).toEqual([
          { value: 'Bydelsutvalget', count: 3 },
          { value: 'Miljøkomiteen', count: 1 },
        ]);
        expect(f.year).toEqual([{ value: '2019', count: 1 }]);
        expect(f.kind).toEqual([{ value: 'utredning', count: 1 }]);
        expect(f.decisions).toBe(0);
      });
    });

    describe('writes', () => {
      it('replaces a document and all its chunks', async () => {
        expect(await bm25Ids('parkdrift', ADMIN_PRINCIPAL)).toEqual(['offentlig']);
        await put('offentlig', ['Helt ny tekst om sykehjem.'], {}, 0);
        expect(await bm25Ids('parkdrift', ADMIN_PRINCIPAL)).toEqual([]);
        expect(await bm25Ids('sykehjem', ADMIN_PRINCIPAL)).toEqual(['offentlig']);
        expect((await store.getDocument('offentlig', ADMIN_PRINCIPAL))?.chunkCount).toBe(1);
        expect(await store.documentMetaUnchecked('offentlig')).toMatchObject({ pageCount: 1, chunkCount: 1, access: 'public' });
      });

      it('a re-ingest with other rights moves the document between readers at once', async () => {
        await put('offentlig', ['Bydelsutvalget vedtok ny lekeplass i Tøyenparken.'], { access: 'protected', groups: ['helse'] }, 0);
        expect(await bm25Ids('tøyenparken', PUBLIC_PRINCIPAL)).toEqual([]);
        expect(await bm25Ids('tøyenparken', OTHER_GROUP)).toEqual(['offentlig']);
        expect((await store.documentsWithShaUnchecked('x'.repeat(64))).map((d) => d.id).sort()).toEqual(['intern', 'offentlig', 'skjermet']);
      });

      it('a failed write leaves the previous version whole', async () => {
        const doc = silverDoc('offentlig', ['Ny versjon om sykehjem.']);
        await expect(store.upsertDocument(doc, pageChunks(doc), [new Float32Array(DIMS + 1)], EMB)).rejects.toThrow(/dimensions/);
        expect(await bm25Ids('parkdrift', ADMIN_PRINCIPAL)).toEqual(['offentlig']);
        expect(await bm25Ids('sykehjem', ADMIN_PRINCIPAL)).toEqual([]);
      });

      it('refuses vectors from another embedder and says to reindex', async () => {
        const doc = silverDoc('ny', ['tekst']);
        await expect(store.upsertDocument(doc, pageChunks(doc), [unitVector(DIMS, 1)], { id: 'other', dimensions: DIMS })).rejects.toThrow(
          EmbedderMismatchError,
        );
        await expect(store.upsertDocument(doc, pageChunks(doc), [unitVector(DIMS, 1)], { id: 'other', dimensions: DIMS })).rejects.toThrow(/innsikt reindex/);
        expect(await store.embedderInfo()).toEqual(EMB);
      });

      it('deletes a document with all its chunks', async () => {
        expect(await store.deleteDocument('offentlig')).toBe(true);
        expect(await store.deleteDocument('offentlig')).toBe(false);
        expect(await bm25Ids('parkdrift', ADMIN_PRINCIPAL)).toEqual([]);
        expect(await vectorIds(unitVector(DIMS, 0), ADMIN_PRINCIPAL)).not.toContain('offentlig');
        expect(await store.getDocument('offentlig', ADMIN_PRINCIPAL)).toBeNull();
        const s = await store.stats();
        expect(s).toMatchObject({ documents: 2, chunks: 2, pages: 2, byAccess: { internal: 1, protected: 1 } });
      });

      it('change counters: adds move `add`; deletes, access changes and replacements move `revoke` and name the document', async () => {
        const start = (await store.changes())!;
        const log = (await store.revokedSince(-1))!.to;
        await put('ny', ['Nytt dokument.'], {}, 2);
        const added = (await store.changes())!;
        expect(added.add).toBeGreaterThan(start.add);
        expect(added.revoke).toBe(start.revoke);
        await store.setAccess('ny', 'internal', []);
        const changed = (await store.changes())!;
        expect(changed.revoke).toBeGreaterThan(added.revoke);
        const r = (await store.revokedSince(log))!;
        expect([...r.documents]).toContain('ny');
        expect(r.readers).toBe(true);
        await store.deleteDocument('offentlig');
        const r2 = (await store.revokedSince(r.to))!;
        expect([...r2.documents]).toEqual(['offentlig']);
        expect(await store.revokedSince(r2.to)).toMatchObject({ documents: new Set(), readers: false, complete: true });
        expect(r2.readers).toBe(false);
        expect(r2.complete).toBe(true);
      });

      it('a rebuild is invisible until committed, and replaces the index whole', async () => {
        const rebuild = await store.rebuild();
        const doc = silverDoc('ombygget', ['Ombygd indeks om vinterdrift.']);
        const chunks = pageChunks(doc);
        await rebuild.store.upsertDocument(
          doc,
          chunks,
          chunks.map(() => unitVector(DIMS, 4)),
          EMB,
        );
        if (store.backend === 'elasticsearch') expect(await bm25Ids('vinterdrift', ADMIN_PRINCIPAL)).toEqual([]);
        await rebuild.commit();
        // The embedded store closes itself on commit (its file was replaced): open it again.
        if (store.replaced() || store.backend === 'embedded') store = await reopen(store);
        expect(await bm25Ids('vinterdrift', ADMIN_PRINCIPAL)).toEqual(['ombygget']);
        expect(await bm25Ids('lekeplass', ADMIN_PRINCIPAL)).toEqual([]);
        expect((await store.stats()).documents).toBe(1);
      });

      it('an aborted rebuild leaves the index as it was', async () => {
        const rebuild = await store.rebuild();
        const doc = silverDoc('ombygget', ['Ombygd indeks om vinterdrift.']);
        await rebuild.store.upsertDocument(doc, pageChunks(doc), [unitVector(DIMS, 4)], EMB);
        await rebuild.abort();
        expect(await bm25Ids('vinterdrift', ADMIN_PRINCIPAL)).toEqual([]);
        expect(new Set(await bm25Ids('lekeplass', ADMIN_PRINCIPAL))).toEqual(new Set(['offentlig', 'intern', 'skjermet']));
      });
    });

    /** The same backend's store at the same place, opened again (after a rebuild replaced it). */
    async function reopen(old: Store): Promise<Store> {
      if (old instanceof SqliteStore) return new SqliteStore(old.file);
      return (await import('./es-harness.ts')).reopenEs(old);
    }
  });
}

afterAll(async () => {
  await (await import('./es-harness.ts')).disposeAll();
});
