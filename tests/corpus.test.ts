/**
 * Real public documents from ../shared/corpus: nasty PDFs fail one by one with clear reasons,
 * the rest are searchable, and known queries find the right file and page.
 */

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../indexes/analysis/index.ts';
import { parseQuery } from '../indexes/analysis/query.ts';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { search } from '../indexes/search.ts';
import { ADMIN_PRINCIPAL } from '../indexes/types.ts';
import { DataDir } from '../ingest/data-dir.ts';
import { shutdownExtractors } from '../ingest/extract/index.ts';
import { type IngestResult, ingestPaths } from '../ingest/pipeline.ts';
import { CORPUS, HAS_CORPUS, NO_CORPUS_REASON, tempDir } from './helpers.ts';

describe.skipIf(!HAS_CORPUS)(`real corpus (${HAS_CORPUS ? CORPUS : NO_CORPUS_REASON})`, () => {
  let store: SqliteStore;
  const embedder = new LocalHashEmbedder();
  let dataDir: DataDir;
  let results: IngestResult[];
  const byName = (name: string) => results.find((r) => path.basename(r.file) === name)!;

  beforeAll(async () => {
    dataDir = new DataDir(tempDir());
    store = new SqliteStore(dataDir.indexFile);
    results = await ingestPaths([path.join(CORPUS, 'pdfs'), path.join(CORPUS, 'text')], { store, embedder, dataDir, defaultAccess: 'public' });
  });
  afterAll(async () => {
    store?.close();
    await shutdownExtractors();
  });

  it('fails each unreadable PDF with a specific reason and ingests all the others, scans by OCR', () => {
    const expected: Record<string, string> = {
      'xx_encrypted_aes256-r6_user-usersecret.pdf': 'encrypted',
      'xx_encrypted_user-password_openpassword.pdf': 'encrypted',
      'xx_broken-xref_unreadable.pdf': 'corrupt',
    };
    for (const scan of ['no_namsskogan_valgprotokoll-2019_SCANNED-NO-TEXT.pdf', 'xx_scanned-jbig2-xerox_no-text.pdf'])
      expect(byName(scan).status, scan).toBe('ok');
    for (const [name, code] of Object.entries(expected)) {
      const r = byName(name);
      expect(r.status, name).toBe('failed');
      expect(r.reason, name).toMatch(new RegExp(`^${code}: `));
    }
    const failed = results.filter((r) => r.status === 'failed').map((r) => path.basename(r.file));
    expect(failed.sort()).toEqual(Object.keys(expected).sort());
    expect(results.filter((r) => r.status === 'ok').length).toBeGreaterThanOrEqual(30);
  });

  it('leaves nothing of a failed file in the index or the silver layer', async () => {
    for (const r of results.filter((x) => x.status === 'failed')) {
      expect(await store.getDocument(r.documentId!, ADMIN_PRINCIPAL)).toBeNull();
      expect(dataDir.readSilver(r.documentId!)).toBeNull();
    }
  });

  it('reads garbled text layers by OCR instead of failing', () => {
    const r = byName('xx_non-unicode-cmap_garbage-text.pdf');
    expect(r.status).toBe('ok');
    expect(dataDir.readSilver(r.documentId!)?.extraction.method).toMatch(/ocr/);
  });

  it('finds a number printed on a scanned page, on that page', async () => {
    const r = byName('no_namsskogan_valgprotokoll-2019_SCANNED-NO-TEXT.pdf');
    const silver = dataDir.readSilver(r.documentId!)!;
    // A figure from the scan's own OCR text (the first number of four or more digits after page 1).
    const page = silver.pages.find((p) => p.num! > 1 && /\b\d{3,}\b/.test(p.text))!;
    const number = /\b\d{3,}\b/.exec(page.text)![0];
    const res = await search(store, embedder, { query: number, mode: 'bm25', limit: 20, principal: ADMIN_PRINCIPAL });
    const hit = res.results.find((h) => h.documentId === r.documentId);
    expect(hit, `"${number}" from page ${page.num}`).toBeDefined();
    expect(hit!.pageStart! <= page.num! && page.num! <= hit!.pageEnd!).toBe(true);
  });

  it('ingests plain-text protocols as unpaged documents', async () => {
    const r = byName('no_levanger_kommunestyret_moteprotokoll_2026-03-25_EXCERPT_PS6-PS13.txt');
    expect(r.status).toBe('ok');
    const doc = (await store.getDocument(r.documentId!, ADMIN_PRINCIPAL))!;
    expect(doc.pages[0].num).toBeNull();
    expect(doc.body?.toLowerCase()).toContain('kommunestyret');
  });

  /** The page a hit names must really contain the query's words (by stem). */
  async function pageHasTerms(documentId: string, page: number, query: string): Promise<boolean> {
    const doc = (await store.getDocument(documentId, ADMIN_PRINCIPAL))!;
    const stems = new Set(analyze(doc.pages.find((p) => p.num === page)!.text).stems);
    return parseQuery(query).words.some((t) => stems.has(t.stem));
  }

  it('finds "forhåndsstemmer" in the Oslo valgstyre møtebok on a page that has it', async () => {
    const res = await search(store, embedder, { query: 'forhåndsstemmer', limit: 10, principal: ADMIN_PRINCIPAL });
    const oslo = res.results.find((r) => r.source === 'no_oslo_valgstyrets-motebok_kommunestyrevalget-2019.pdf');
    expect(oslo, 'Oslo møtebok in the top 10').toBeDefined();
    for (const r of res.results) expect(await pageHasTerms(r.documentId, r.page!, 'forhåndsstemmer'), `${r.source} p. ${r.page}`).toBe(true);
  });

  it('finds the Breisås zoning plan documents for "reguleringsplan Breisås"', async () => {
    const res = await search(store, embedder, { query: 'reguleringsplan Breisås', limit: 5, principal: ADMIN_PRINCIPAL });
    expect(res.results.length).toBeGreaterThanOrEqual(3);
    for (const r of res.results.slice(0, 3)) expect(r.source).toMatch(/^no_bo-kommune_.*breisas/);
    expect(await pageHasTerms(res.results[0].documentId, res.results[0].page!, 'Breisås')).toBe(true);
  });

  it('finds a case by its number however it is typed', async () => {
    for (const q of ['139/12', 'sak 139/2012', 'PTN 139/12']) {
      const res = await search(store, embedder, { query: q, limit: 3, principal: ADMIN_PRINCIPAL });
      expect(res.results[0]?.source, q).toBe('no_bo-kommune_motebok_PTN-139-12_K-112-12_breisas-syd_2012.pdf');
    }
  });

  it('finds nynorsk protocols by nynorsk words', async () => {
    const res = await search(store, embedder, { query: 'valstyret', limit: 5, principal: ADMIN_PRINCIPAL });
    expect(res.results.map((r) => r.source)).toContain('no_orsta_valprotokoll-valstyret_kommunestyrevalet-2019.pdf');
  });

  it('re-ingesting the same files changes nothing', async () => {
    const again = await ingestPaths([path.join(CORPUS, 'pdfs', 'no_bo-kommune_planbeskrivelse_breisas-sor_2012.pdf')], {
      store,
      embedder,
      dataDir,
      defaultAccess: 'public',
    });
    expect(again[0].status).toBe('unchanged');
  });
});
