/**
 * Access control over HTTP on the demo corpus, whose non-public documents carry planted
 * canary words (fixtures/demo/manifest.json): shared by the embedded store's demo tests
 * (tests/demo.test.ts) and Elasticsearch's (tests/es-app.test.ts), so both backends pass the
 * same canaries.
 */
import { expect, it } from 'vitest';
import { readDemoManifest } from '../ingest/demo.ts';
import type { IngestResult } from '../ingest/pipeline.ts';
import type { createApp } from '../server/app.ts';

const manifest = readDemoManifest();

/** Call inside a describe(); `ctx` gives the app and the demo's ingest results once ready. */
export function canaryTests(ctx: () => { app: ReturnType<typeof createApp>; results: IngestResult[] }, tokens: { internal: string; group: string }): void {
  const INTERNAL_TOKEN = tokens.internal;
  const BARNEVERN_TOKEN = tokens.group;
  const get = (url: string, token?: string) => ctx().app.request(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  const nonPublic = manifest.documents.filter((d) => d.access !== 'public');
  const idOf = (file: string) => ctx().results.find((r) => r.file.endsWith(file))!.documentId!;

  it('the demo has non-public documents with canaries', () => {
    expect(nonPublic.length).toBeGreaterThanOrEqual(2);
    expect(manifest.canaries.length).toBeGreaterThanOrEqual(2);
  });

  for (const mode of ['hybrid', 'bm25', 'vector']) {
    it(`anonymous ${mode} search never returns a canary`, async () => {
      for (const c of manifest.canaries) {
        const res = await get(`/api/v1/search?q=${encodeURIComponent(c.word)}&mode=${mode}&limit=100`);
        expect(res.status).toBe(200);
        const { results } = await res.json();
        expect(JSON.stringify(results)).not.toContain(c.word);
        for (const r of results) expect(nonPublic.map((d) => idOf(d.file))).not.toContain(r.documentId);
      }
    });
  }

  it('anonymous HTML search, document pages and files hide non-public documents', async () => {
    for (const c of manifest.canaries) {
      // Search for the canary's first part, so the page does not merely echo the query.
      const page = await (await get(`/?q=${encodeURIComponent(c.word.split('-').slice(0, 2).join(' '))}`)).text();
      expect(page).not.toContain(c.word);
      const id = idOf(c.file);
      expect((await get(`/documents/${id}`)).status).toBe(404);
      expect((await get(`/documents/${id}/file`)).status).toBe(404);
      expect((await get(`/api/v1/documents/${id}`)).status).toBe(404);
    }
  });

  it('staff with a token see internal canaries; only the group sees protected ones', async () => {
    for (const c of manifest.canaries) {
      const asInternal = await (await get(`/api/v1/search?q=${encodeURIComponent(c.word)}&mode=bm25`, INTERNAL_TOKEN)).text();
      const asGroup = await (await get(`/api/v1/search?q=${encodeURIComponent(c.word)}&mode=bm25`, BARNEVERN_TOKEN)).text();
      if (c.access === 'internal') expect(asInternal).toContain(idOf(c.file));
      else {
        expect(asInternal).not.toContain(idOf(c.file));
        expect(asGroup).toContain(idOf(c.file));
        expect((await get(`/documents/${idOf(c.file)}/file`, BARNEVERN_TOKEN)).status).toBe(200);
      }
    }
  });

  it('"Lignende dokumenter" on a document page lists only documents the reader may read', async () => {
    const nonPublicIds = new Set(nonPublic.map((d) => idOf(d.file)));
    const listed = (html: string) =>
      [...(/<nav class="lignende"[\s\S]*?<\/nav>/.exec(html)?.[0] ?? '').matchAll(/href="\/documents\/([^"?]+)/g)].map((m) => decodeURIComponent(m[1]));
    const publicIds = manifest.documents.filter((d) => d.access === 'public').map((d) => idOf(d.file));
    let shownToStaff = 0;
    let shownAtAll = 0;
    for (const id of publicIds) {
      const anon = listed(await (await get(`/documents/${id}`)).text());
      shownAtAll += anon.length;
      for (const other of anon) expect(nonPublicIds.has(other), `${other} listed on the public page of ${id}`).toBe(false);
    }
    // The API's longer list: never a non-public document to the public; internal ones to staff.
    const similar = async (id: string, token?: string) => {
      const res = await get(`/api/v1/documents/${id}/similar?limit=20`, token);
      expect(res.status).toBe(200);
      return ((await res.json()).results as { documentId: string }[]).map((r) => r.documentId);
    };
    for (const id of publicIds) {
      for (const other of await similar(id)) expect(nonPublicIds.has(other), `${other} in the API's similar documents of ${id}`).toBe(false);
      for (const other of await similar(id, INTERNAL_TOKEN)) if (nonPublicIds.has(other)) shownToStaff++;
    }
    for (const d of nonPublic) expect((await get(`/api/v1/documents/${idOf(d.file)}/similar`)).status).toBe(404);
    // The list exists, and staff do get internal documents in it: the filter, not an empty list, keeps them from the public.
    expect(shownAtAll).toBeGreaterThan(0);
    expect(shownToStaff).toBeGreaterThan(0);
  });

  it('rejects an unknown bearer token instead of treating it as anonymous', async () => {
    expect((await get('/api/v1/search?q=budsjett', 'wrong-token-123456')).status).toBe(401);
  });

  it('facet counts, meetings, cases and bodies count and show readable documents only', async () => {
    /** The documents counted by the results page's "Dokumenttype" facet. */
    const kindTotal = (html: string) =>
      [...(/<legend>Dokumenttype<\/legend>([\s\S]*?)<\/fieldset>/.exec(html)?.[1] ?? '').matchAll(/<span class="antall">(\d+)/g)].reduce(
        (a, m) => a + Number(m[1]),
        0,
      );
    for (const c of manifest.canaries) {
      const q = encodeURIComponent(c.word.split('-').slice(0, 2).join(' '));
      const anon = await (await get(`/?q=${q}`)).text();
      const reader = await (await get(`/?q=${q}`, c.access === 'internal' ? INTERNAL_TOKEN : BARNEVERN_TOKEN)).text();
      expect(kindTotal(reader), c.word).toBeGreaterThan(kindTotal(anon));
      const id = idOf(c.file);
      expect((await get(`/moter/${id}/0`)).status).toBe(404);
    }
  });
}
