/**
 * The search result cache (server/result-cache.ts) over a real server and a real SQLite file:
 * repeated queries are answered from it, and access control is never bypassed by it. Any
 * delete, access change or re-ingest, made by this process, another connection or another
 * process (the `innsikt` command), hides the document from the very next request; additions
 * appear within INNSIKT_REFRESH_MS.
 */

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessClause, accessScope } from '../indexes/embedded/access.ts';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import { ADMIN_PRINCIPAL, type Principal, PUBLIC_PRINCIPAL, type SilverDocument } from '../indexes/types.ts';
import { DataDir } from '../ingest/data-dir.ts';
import { shutdownExtractors } from '../ingest/extract/index.ts';
import { ingestPaths } from '../ingest/pipeline.ts';
import { createApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { ResultCache, resultCacheFor } from '../server/result-cache.ts';
import { pageChunks, silverDoc, tempDir } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const INTERNAL = 'intern-nokkel-0123456789';
const INTERNAL_2 = 'intern-nokkel-annen-0123456789';
const GROUP = 'barnevern-nokkel-0123456789';
const ADMIN = 'admin-nokkel-0123456789';
const TOKENS = `${INTERNAL}=internal;${INTERNAL_2}=internal;${GROUP}=group:barnevern;${ADMIN}=admin`;

const embedder = new LocalHashEmbedder();
let dataDir: DataDir;
let store: SqliteStore;
const closers: (() => Promise<void>)[] = [];

beforeAll(() => {
  dataDir = new DataDir(tempDir());
  store = new SqliteStore(dataDir.indexFile);
});
afterAll(async () => {
  for (const close of closers) await close();
  await shutdownExtractors();
  store?.close();
});

async function put(id: string, text: string, over: Partial<SilverDocument> = {}, into: SqliteStore = store): Promise<void> {
  const doc = silverDoc(id, [text], over);
  const chunks = pageChunks(doc);
  into.upsertDocument(doc, chunks, await embedder.embed(chunks.map((c) => c.text)), embedder);
}

/** A real HTTP server on the shared store, configured by `env`. */
async function startServer(env: Record<string, string> = {}, opts: { injectCache?: boolean } = {}) {
  const config = loadConfig({ INNSIKT_DATA_DIR: dataDir.root, INNSIKT_TOKENS: TOKENS, INNSIKT_REFRESH_MS: '60000', ...env });
  const cache = opts.injectCache === false ? undefined : resultCacheFor(store, config);
  const app = createApp({ store, embedder, dataDir, config, isReady: () => true, resultCache: cache });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  const get = async (p: string, o: { token?: string; htmx?: boolean } = {}) => {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.htmx) headers['hx-request'] = 'true';
    const res = await fetch(url + p, { headers });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const api = async (q: string, token?: string, extra = '') => {
    const r = await get(`/api/v1/search?q=${encodeURIComponent(q)}${extra}`, { token });
    expect(r.status, r.text).toBe(200);
    return { body: r.text, ids: (JSON.parse(r.text).results as { documentId: string }[]).map((h) => h.documentId) };
  };
  const partial = async (q: string, token?: string) => (await get(`/?q=${encodeURIComponent(q)}`, { token, htmx: true })).text;
  return { cache: cache!, get, api, partial };
}

function innsikt(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'innsikt.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, INNSIKT_DATA_DIR: dataDir.root },
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe('change stamp (triggers in the database)', () => {
  it('inserted chunks move `add`; deletes, access changes and re-ingests move `revoke`', async () => {
    const s = new SqliteStore(path.join(tempDir(), 'index.sqlite'));
    try {
      expect(await s.changes()).toEqual({ add: 0, revoke: 0 });
      await put('s1', 'Første side om brøyting.', {}, s);
      expect(await s.changes()).toEqual({ add: 1, revoke: 0 });
      await s.setAccess('s1', 'internal', []);
      const afterAccess = (await s.changes())!;
      expect(afterAccess.revoke).toBeGreaterThan(0);
      await put('s1', 'Ny tekst om brøyting.', {}, s);
      const afterReingest = (await s.changes())!;
      expect(afterReingest.revoke).toBeGreaterThan(afterAccess.revoke);
      expect(afterReingest.add).toBe(2);
      await s.deleteDocument('s1');
      expect((await s.changes())!.revoke).toBeGreaterThan(afterReingest.revoke);
      // A new document deletes nothing: only `add` moves.
      const before = (await s.changes())!;
      await put('s2', 'Annet dokument.', {}, s);
      expect(await s.changes()).toEqual({ add: before.add + 1, revoke: before.revoke });
    } finally {
      s.close();
    }
  });

  it('a file whose triggers predate the revocation log gets them replaced on open', async () => {
    const file = path.join(tempDir(), 'index.sqlite');
    const s = new SqliteStore(file);
    await put('t1', 'Gammelt notat.', {}, s);
    for (const [name, on] of [
      ['change_stamp_chunk_delete', 'DELETE ON chunks'],
      ['change_stamp_document_delete', 'DELETE ON documents'],
    ]) {
      s.db.exec(`DROP TRIGGER ${name}; CREATE TRIGGER ${name} AFTER ${on} BEGIN UPDATE change_stamp SET n = n + 1 WHERE kind = 'revoke'; END;`);
    }
    s.close();
    const rw = new SqliteStore(file);
    const before = (await rw.revokedSince(-1))!.to;
    await rw.deleteDocument('t1');
    expect([...(await rw.revokedSince(before))!.documents]).toEqual(['t1']);
    rw.close();
  });

  it('an existing file gets the triggers on open; a read-only store creates nothing and reports null', async () => {
    const file = path.join(tempDir(), 'index.sqlite');
    const s = new SqliteStore(file);
    await put('o1', 'Gammel fil.', {}, s);
    // As a file written before the change stamp existed.
    s.db.exec(`DROP TRIGGER change_stamp_chunk_insert; DROP TRIGGER change_stamp_chunk_delete; DROP TRIGGER change_stamp_chunk_update;
               DROP TRIGGER change_stamp_document_delete; DROP TRIGGER change_stamp_document_update; DROP TABLE change_stamp;`);
    s.close();
    const ro = new SqliteStore(file, { readonly: true });
    expect(await ro.changes()).toBeNull();
    expect(ro.db.prepare(`SELECT count(*) FROM sqlite_master WHERE name LIKE 'change_stamp%'`).pluck().get()).toBe(0);
    ro.close();
    const rw = new SqliteStore(file);
    expect(rw.db.prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'change_stamp%'`).pluck().get()).toBe(5);
    expect(await rw.changes()).toEqual({ add: 0, revoke: 0 });
    await rw.deleteDocument('o1');
    expect((await rw.changes())!.revoke).toBeGreaterThan(0);
    expect([...(await rw.revokedSince(0))!.documents]).toContain('o1');
    rw.close();
    // Without a stamp nothing is cached.
    const cache = new ResultCache({ entries: 10, refreshMs: 1000, stamp: async () => null });
    let computed = 0;
    for (let i = 0; i < 2; i++) await cache.get('k', async () => ++computed);
    expect(computed).toBe(2);
  });
});

describe('access scope of cache keys', () => {
  it('is equal exactly when the access clause is', () => {
    const ps: Principal[] = [
      PUBLIC_PRINCIPAL,
      { id: 'x', internal: false, groups: [] },
      { id: 'i1', internal: true, groups: [] },
      { id: 'i2', internal: true, groups: [] },
      { id: 'g1', internal: true, groups: ['b', 'a'] },
      { id: 'g2', internal: true, groups: ['a', 'b', 'a', ''] },
      { id: 'g3', internal: true, groups: ['a'] },
      { id: 'g4', internal: false, groups: ['a'] },
      ADMIN_PRINCIPAL,
      { id: 'a2', internal: false, groups: ['z'], admin: true },
    ];
    const clause = (p: Principal) => {
      const c = accessClause(p);
      const groups = c.params.acl_groups ? [...new Set(JSON.parse(c.params.acl_groups as string))].sort() : [];
      return JSON.stringify([c.sql, groups]);
    };
    for (const a of ps) for (const b of ps) expect(accessScope(a) === accessScope(b), `${a.id} vs ${b.id}`).toBe(clause(a) === clause(b));
  });
});

describe('result cache over HTTP', () => {
  it('answers a repeated query from the cache with the same body (API, partial, page)', async () => {
    await put('rep-1', 'Referat om vedlikehold av Kampen park og lekeplassen.', { title: 'Kampen park' });
    const srv = await startServer();
    const first = await srv.get('/api/v1/search?q=Kampen+park&limit=5');
    const misses = srv.cache.stats.misses;
    const again = await srv.get('/api/v1/search?limit=5&q=Kampen+park');
    expect(again.text).toBe(first.text);
    expect(again.type).toBe(first.type);
    expect(srv.cache.stats.misses).toBe(misses);
    expect(srv.cache.stats.hits).toBe(1);
    expect(JSON.parse(again.text).results[0].documentId).toBe('rep-1');
    // Another limit is another answer.
    expect(JSON.parse((await srv.get('/api/v1/search?q=Kampen+park&limit=1')).text).results).toHaveLength(1);

    const p1 = await srv.partial('Kampen park');
    const p2 = await srv.partial('Kampen park');
    expect(p2).toBe(p1);
    expect(p1).toContain('Kampen park');
    const page1 = await srv.get('/?q=Kampen+park');
    const page2 = await srv.get('/?q=Kampen+park');
    expect(page2.text).toBe(page1.text);
    expect(page1.text).toContain('<!DOCTYPE html>');
    // The page and its partial share the results and facets; the page is rendered per caller.
    expect(srv.cache.stats.hits).toBe(4);

    // Errors are not cached.
    expect((await srv.get('/api/v1/search?q=Kampen&mode=nonsense')).status).toBe(400);
    expect((await srv.get('/api/v1/search?q=Kampen&mode=nonsense')).status).toBe(400);
    let computed = 0;
    const fail = () =>
      srv.cache.get('failing', async () => {
        computed++;
        throw new Error('search failed');
      });
    await expect(fail()).rejects.toThrow('search failed');
    await expect(fail()).rejects.toThrow('search failed');
    expect(computed).toBe(2);
  });

  it('a document made internal disappears from the very next public request', async () => {
    await put('acl-1', 'Protokoll om kanarifuglvoliere ved Grønland.', { title: 'Voliere' });
    const srv = await startServer();
    expect((await srv.api('kanarifuglvoliere')).ids).toContain('acl-1');
    expect((await srv.api('kanarifuglvoliere')).ids).toContain('acl-1'); // cached
    expect(await srv.partial('kanarifuglvoliere')).toContain('Voliere');
    expect(await srv.partial('kanarifuglvoliere')).toContain('Voliere'); // cached
    const hits = srv.cache.stats.hits;
    expect(hits).toBeGreaterThanOrEqual(2);
    store.setAccess('acl-1', 'internal', []);
    const after = await srv.api('kanarifuglvoliere');
    expect(after.ids).not.toContain('acl-1');
    expect(after.body).not.toContain('kanarifuglvoliere ved');
    const html = await srv.partial('kanarifuglvoliere');
    expect(html).not.toContain('Voliere');
    expect(html).toContain('Ingen treff');
    expect((await srv.api('kanarifuglvoliere', INTERNAL)).ids).toContain('acl-1');
  });

  it('a deleted document and replaced text disappear from the very next request', async () => {
    await put('del-1', 'Notat om sykkelparkeringsanlegg i Vaterland.', { title: 'Sykkelparkering' });
    await put('re-1', 'Notat om gammelt fotgjengerfelt i Tøyengata.', { title: 'Fotgjengerfelt' });
    const srv = await startServer();
    for (let i = 0; i < 2; i++) {
      expect((await srv.api('sykkelparkeringsanlegg')).ids).toContain('del-1');
      expect((await srv.api('fotgjengerfelt', ADMIN)).body).toContain('gammelt');
    }
    store.deleteDocument('del-1');
    expect((await srv.api('sykkelparkeringsanlegg')).ids).not.toContain('del-1');
    expect(await srv.partial('sykkelparkeringsanlegg')).not.toContain('Sykkelparkering');
    await put('re-1', 'Notat om nytt fotgjengerfelt i Tøyengata.', { title: 'Fotgjengerfelt' });
    const re = await srv.api('fotgjengerfelt', ADMIN);
    expect(re.body).not.toContain('gammelt');
    expect(re.body).toContain('nytt');
  });

  it('another connection writing the same file invalidates at once', async () => {
    await put('conn-1', 'Møtebok om vannspeilrehabilitering i Botsparken.', { title: 'Vannspeil' });
    await put('conn-2', 'Rapport om benkeutskifting i Botsparken.', { title: 'Benker' });
    const srv = await startServer();
    for (let i = 0; i < 2; i++) {
      expect((await srv.api('vannspeilrehabilitering')).ids).toContain('conn-1');
      expect((await srv.api('benkeutskifting')).ids).toContain('conn-2');
    }
    const other = new SqliteStore(dataDir.indexFile);
    try {
      other.setAccess('conn-1', 'protected', ['barnevern']);
      expect((await srv.api('vannspeilrehabilitering')).ids).not.toContain('conn-1');
      expect((await srv.api('vannspeilrehabilitering', INTERNAL)).ids).not.toContain('conn-1');
      expect((await srv.api('vannspeilrehabilitering', GROUP)).ids).toContain('conn-1');
      other.deleteDocument('conn-2');
      expect((await srv.api('benkeutskifting')).ids).not.toContain('conn-2');
    } finally {
      other.close();
    }
  });

  it('another process (innsikt ingest --access, innsikt delete) invalidates at once', async () => {
    const work = tempDir();
    const a = path.join(work, 'takterrasse.txt');
    const b = path.join(work, 'lysløype.txt');
    fs.writeFileSync(a, 'Notat om takterrasseprosjektet på Jordal.\n\nBydelen vil bygge en takterrasse.');
    fs.writeFileSync(b, 'Notat om lysløypeforlengelse i Ekebergskogen.\n\nBydelen vil forlenge lysløypa.');
    const results = await ingestPaths([a, b], { store, embedder, dataDir, defaultAccess: 'public' });
    const [idA, idB] = results.map((r) => r.documentId!);
    const srv = await startServer();
    for (let i = 0; i < 2; i++) {
      expect((await srv.api('takterrasseprosjektet')).ids).toContain(idA);
      expect((await srv.api('lysløypeforlengelse')).ids).toContain(idB);
    }
    expect(JSON.parse(innsikt(['ingest', a, '--access', 'internal', '--json'])).files[0].documentId).toBe(idA);
    expect((await srv.api('takterrasseprosjektet')).ids).not.toContain(idA);
    expect(await srv.partial('takterrasseprosjektet')).not.toContain('takterrasseprosjektet på');
    expect((await srv.api('takterrasseprosjektet', INTERNAL)).ids).toContain(idA);
    innsikt(['delete', idB]);
    expect((await srv.api('lysløypeforlengelse')).ids).not.toContain(idB);
  });

  it('principals with different rights never share entries; the same rights do', async () => {
    await put('p-int', 'Internt notat om hemmeligkanarisitron.', { title: 'Internt sitron', access: 'internal' });
    await put('p-grp', 'Barnevernsnotat om hemmeligkanarisitron.', { title: 'Vernet sitron', access: 'protected', groups: ['barnevern'] });
    await put('p-pub', 'Offentlig notat om hemmeligkanarisitron.', { title: 'Offentlig sitron' });
    const srv = await startServer();
    const asInternal = await srv.api('hemmeligkanarisitron', INTERNAL);
    expect(asInternal.ids.sort()).toEqual(['p-int', 'p-pub']);
    expect(await srv.partial('hemmeligkanarisitron', INTERNAL)).toContain('Internt sitron');
    const hits = srv.cache.stats.hits;
    const asPublic = await srv.api('hemmeligkanarisitron');
    expect(asPublic.ids).toEqual(['p-pub']);
    expect(asPublic.body).not.toContain('Internt');
    const html = await srv.partial('hemmeligkanarisitron');
    expect(html).toContain('Offentlig sitron');
    expect(html).not.toContain('Internt sitron');
    expect(html).not.toContain('Vernet sitron');
    expect((await srv.api('hemmeligkanarisitron', GROUP)).ids.sort()).toEqual(['p-grp', 'p-int', 'p-pub']);
    expect((await srv.api('hemmeligkanarisitron', ADMIN)).ids.sort()).toEqual(['p-grp', 'p-int', 'p-pub']);
    expect(srv.cache.stats.hits).toBe(hits);
    // Another token with the same rights shares the internal entry.
    const same = await srv.api('hemmeligkanarisitron', INTERNAL_2);
    expect(same.body).toBe(asInternal.body);
    expect(srv.cache.stats.hits).toBe(hits + 1);
    // The full page names the caller's access, so it is rendered per request from the shared data.
    const page = await srv.get('/?q=hemmeligkanarisitron');
    expect(page.text).not.toContain('Internt sitron');
  });

  it('added documents appear within INNSIKT_REFRESH_MS (refreshed in the background); without additions entries outlive it', async () => {
    const refreshMs = 1500;
    await put('add-1', 'Første notat om solcellepanelsubsidier.', { title: 'Solceller en' });
    const srv = await startServer({ INNSIKT_REFRESH_MS: String(refreshMs), INNSIKT_MAX_STALE_MS: String(refreshMs * 2) });
    const t0 = Date.now();
    const before = await srv.api('solcellepanelsubsidier', undefined, '&mode=bm25');
    expect(before.ids).toEqual(['add-1']);
    await put('add-2', 'Andre notat om solcellepanelsubsidier.', { title: 'Solceller to' });
    const soon = await srv.api('solcellepanelsubsidier', undefined, '&mode=bm25');
    // Within the interval the cached answer may stand (only when the machine was not too slow to tell).
    if (Date.now() - t0 < refreshMs) expect(soon.body).toBe(before.body);
    await new Promise((r) => setTimeout(r, refreshMs + 100));
    // Past the interval: this request may still get the old answer (stale-while-revalidate),
    // but it starts the refresh; the next one, once that is done, has the new document.
    const stale = srv.cache.stats.stale;
    const first = await srv.api('solcellepanelsubsidier', undefined, '&mode=bm25');
    if (first.ids.length === 1) expect(srv.cache.stats.stale).toBe(stale + 1);
    await new Promise((r) => setTimeout(r, 200));
    expect((await srv.api('solcellepanelsubsidier', undefined, '&mode=bm25')).ids.sort()).toEqual(['add-1', 'add-2']);
    // Never staler than INNSIKT_MAX_STALE_MS: after that a request waits for the recomputation.
    await put('add-3', 'Tredje notat om solcellepanelsubsidier.', { title: 'Solceller tre' });
    await new Promise((r) => setTimeout(r, refreshMs * 3 + 100));
    expect((await srv.api('solcellepanelsubsidier', undefined, '&mode=bm25')).ids.sort()).toEqual(['add-1', 'add-2', 'add-3']);
    // No addition since: the entry stays valid past the interval.
    const hits = srv.cache.stats.hits;
    await new Promise((r) => setTimeout(r, refreshMs + 100));
    expect((await srv.api('solcellepanelsubsidier', undefined, '&mode=bm25')).ids.sort()).toEqual(['add-1', 'add-2', 'add-3']);
    expect(srv.cache.stats.hits).toBe(hits + 1);
  });

  it('a delete takes the document out of the entries that show it at once and refreshes them all; an access change drops all', async () => {
    await put('rv-1', 'Notat om tindesklatringsanlegg ved Ekeberg.', { title: 'Klatring' });
    await put('rv-2', 'Notat om skateboardrampefornyelse ved Grønland.', { title: 'Skate' });
    await put('rv-3', 'Annet notat om tindesklatringsanlegg og skateboardrampefornyelse.', { title: 'Begge' });
    await put('rv-5', 'Notat om kajakkutleieordning ved Bjørvika.', { title: 'Kajakk' });
    const srv = await startServer({ INNSIKT_REFRESH_MS: '60000', INNSIKT_MAX_STALE_MS: '60000' });
    for (let i = 0; i < 2; i++) {
      expect((await srv.api('tindesklatringsanlegg')).ids.sort()).toEqual(['rv-1', 'rv-3']);
      expect((await srv.api('skateboardrampefornyelse')).ids.sort()).toEqual(['rv-2', 'rv-3']);
      expect(await srv.partial('skateboardrampefornyelse')).toContain('Begge');
      expect((await srv.api('kajakkutleieordning')).ids).toEqual(['rv-5']);
    }
    // rv-1 goes: the entry that shows it is answered at once without it (redacted, no
    // recomputation on the request path); the others stay as they were. All are refreshed.
    store.deleteDocument('rv-1');
    const { stale, misses, redacted } = srv.cache.stats;
    expect((await srv.api('tindesklatringsanlegg')).ids).toEqual(['rv-3']);
    expect(srv.cache.stats.redacted).toBe(redacted + 1);
    expect((await srv.api('skateboardrampefornyelse')).ids.sort()).toEqual(['rv-2', 'rv-3']);
    expect(await srv.partial('skateboardrampefornyelse')).toContain('Skate');
    expect(srv.cache.stats.misses).toBe(misses);
    expect(srv.cache.stats.stale).toBe(stale + 3);
    // A document the API entry and the results page both show: neither shows it again, both
    // still show the rest (the page is rendered anew from the redacted hits).
    store.deleteDocument('rv-3');
    expect((await srv.api('skateboardrampefornyelse')).ids).toEqual(['rv-2']);
    const page = await srv.partial('skateboardrampefornyelse');
    expect(page).not.toContain('Begge');
    expect(page).toContain('Skate');
    // Nothing left to show: the entry goes and the query is computed again.
    const before3 = srv.cache.stats.misses;
    expect((await srv.api('tindesklatringsanlegg')).ids).toEqual([]);
    expect(srv.cache.stats.misses).toBe(before3 + 1);
    // Who may read what changed: everything goes, even entries that do not show the document.
    await put('rv-4', 'Notat om sandvolleyballbaner ved Kampen.', { title: 'Volleyball' });
    expect((await srv.api('sandvolleyballbaner')).ids).toEqual(['rv-4']);
    const before = srv.cache.stats.misses;
    store.setAccess('rv-4', 'internal', []);
    expect((await srv.api('kajakkutleieordning')).ids).toEqual(['rv-5']);
    expect(srv.cache.stats.misses).toBe(before + 1);
    expect((await srv.api('sandvolleyballbaner')).ids).toEqual([]);
  });

  it('a re-ingest with other rights counts as an access change: every entry goes', async () => {
    await put('ra-1', 'Notat om fuglekassedugnad i Klosterenga.', { title: 'Fuglekasser' });
    await put('ra-2', 'Notat om benkemaling i Klosterenga.', { title: 'Benker' });
    const srv = await startServer({ INNSIKT_REFRESH_MS: '60000', INNSIKT_MAX_STALE_MS: '60000' });
    for (let i = 0; i < 2; i++) {
      expect((await srv.api('fuglekassedugnad')).ids).toEqual(['ra-1']);
      expect((await srv.api('benkemaling')).ids).toEqual(['ra-2']);
    }
    await put('ra-1', 'Notat om fuglekassedugnad i Klosterenga.', { title: 'Fuglekasser', access: 'internal' });
    const misses = srv.cache.stats.misses;
    expect((await srv.api('benkemaling')).ids).toEqual(['ra-2']);
    expect(srv.cache.stats.misses).toBe(misses + 1); // recomputed, not served stale
    expect((await srv.api('fuglekassedugnad')).ids).toEqual([]);
    expect((await srv.api('fuglekassedugnad', INTERNAL)).ids).toEqual(['ra-1']);
  });

  it('a revocation log that cannot say which documents (pruned past the reader) empties the cache', async () => {
    await put('pr-1', 'Notat om isbaneprepareringsmaskin.', { title: 'Isbane' });
    await put('pr-2', 'Notat om akebakkesikring.', { title: 'Akebakke' });
    const srv = await startServer();
    for (let i = 0; i < 2; i++) expect((await srv.api('akebakkesikring')).ids).toEqual(['pr-2']);
    const head = store.db.prepare(`SELECT max(seq) FROM revoke_log`).pluck().get() as number;
    await store.deleteDocument('pr-1');
    store.db.prepare(`DELETE FROM revoke_log WHERE seq <= ?`).run(head + 1); // as if pruned
    expect((await store.revokedSince(head))!.complete).toBe(false);
    const misses = srv.cache.stats.misses;
    expect((await srv.api('akebakkesikring')).ids).toEqual(['pr-2']);
    expect(srv.cache.stats.misses).toBe(misses + 1);
  });

  it('INNSIKT_CACHE_ENTRIES=0 turns the cache off', async () => {
    expect(() => loadConfig({ INNSIKT_CACHE_ENTRIES: '-1' })).toThrow(/INNSIKT_CACHE_ENTRIES/);
    expect(loadConfig({})).toMatchObject({ cacheEntries: 500, refreshMs: 1000 });
    await put('off-1', 'Første notat om grønnsakshageutvidelse.', { title: 'Hage en' });
    const cached = await startServer({}, { injectCache: false });
    const off = await startServer({ INNSIKT_CACHE_ENTRIES: '0' }, { injectCache: false });
    for (const srv of [cached, off]) expect((await srv.api('grønnsakshageutvidelse')).ids).toEqual(['off-1']);
    await put('off-2', 'Andre notat om grønnsakshageutvidelse.', { title: 'Hage to' });
    // Refresh is 60 s: the cached server may still answer without the new document; the uncached never does.
    expect((await off.api('grønnsakshageutvidelse')).ids.sort()).toEqual(['off-1', 'off-2']);
    expect((await cached.api('grønnsakshageutvidelse')).ids).toEqual(['off-1']);
    expect(await off.partial('grønnsakshageutvidelse')).toContain('Hage to');
  });
});
