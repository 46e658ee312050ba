/**
 * The Elasticsearch writer under refusal: a proxy in front of the real cluster (no mock: every
 * request it lets through is answered by Elasticsearch) refuses chosen bulk items the way a
 * loaded or unwilling cluster does, and the store must retry what is retryable (429 and 503,
 * with backoff), report what is not with its reason, and never leave a document half written
 * or two versions of it searchable.
 */

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseQuery } from '../indexes/analysis/query.ts';
import { indexConfig } from '../indexes/config.ts';
import { type ElasticsearchStore, openElasticsearchStore } from '../indexes/elasticsearch/store.ts';
import { ADMIN_PRINCIPAL } from '../indexes/types.ts';
import { dropEs, ES_SKIP, ES_URL, testPrefix } from './es-harness.ts';
import { pageChunks, silverDoc, unitVector } from './helpers.ts';

const DIMS = 8;
const EMB = { id: 'test', dimensions: DIMS };

/** What the proxy does to the next bulk request's items: decide per action line. */
type Refusal = (action: { index?: { _id: string }; delete?: { _id: string } }) => { status: number; type: string } | null;

describe.skipIf(ES_SKIP !== null)(`the bulk writer against refusals${ES_SKIP ? ` (skipped: ${ES_SKIP})` : ''}`, () => {
  let proxy: http.Server;
  let refusals: Refusal[] = [];
  let bulkRequests = 0;
  let store: ElasticsearchStore;

  beforeAll(async () => {
    const target = new URL(ES_URL!);
    proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const refuse = req.url?.startsWith('/_bulk') ? refusals.shift() : undefined;
        if (req.url?.startsWith('/_bulk')) bulkRequests++;
        if (refuse) {
          // Answer this bulk request ourselves: the refused items fail, the others are sent on.
          const lines = body.toString('utf8').split('\n').filter(Boolean);
          const ops: { action: Record<string, { _id: string; _index: string }>; source?: string }[] = [];
          for (let i = 0; i < lines.length; i++) {
            const action = JSON.parse(lines[i]);
            const op: (typeof ops)[number] = { action };
            if (action.index) op.source = lines[++i];
            ops.push(op);
          }
          const decided = ops.map((o) => refuse(o.action));
          const pass = ops.filter((_, i) => !decided[i]);
          const forward = pass.map((o) => JSON.stringify(o.action) + '\n' + (o.source ? o.source + '\n' : '')).join('');
          const send = (passed: { items: unknown[] }) => {
            let j = 0;
            const items = ops.map((o, i) => {
              const verb = Object.keys(o.action)[0];
              const d = decided[i];
              if (!d) return passed.items[j++];
              return {
                [verb]: {
                  _index: o.action[verb]._index,
                  _id: o.action[verb]._id,
                  status: d.status,
                  error: { type: d.type, reason: `refused by the test proxy (${d.status})` },
                },
              };
            });
            res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
            res.end(JSON.stringify({ took: 1, errors: true, items }));
          };
          if (!pass.length) return send({ items: [] });
          const up = http.request(
            {
              agent: false,
              host: target.hostname,
              port: target.port,
              path: req.url,
              method: req.method,
              headers: { ...req.headers, 'content-length': Buffer.byteLength(forward) },
            },
            (r) => {
              const back: Buffer[] = [];
              r.on('data', (c) => back.push(c));
              r.on('end', () => send(JSON.parse(Buffer.concat(back).toString('utf8'))));
            },
          );
          up.end(forward);
          return;
        }
        const up = http.request({ agent: false, host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        up.on('error', (e) => res.destroy(e));
        up.end(body);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    store = await openElasticsearchStore(
      indexConfig({ ELASTICSEARCH_URL: `http://127.0.0.1:${port}`, INNSIKT_ES_PREFIX: testPrefix() }, '/nonexistent').elasticsearch,
    );
  });
  afterEach(() => {
    refusals = [];
  });
  afterAll(async () => {
    if (store) await dropEs(store);
    await new Promise((r) => proxy?.close(r));
  });

  const put = (id: string, pages: string[]) => {
    const doc = silverDoc(id, pages);
    return store.upsertDocument(
      doc,
      pageChunks(doc),
      pageChunks(doc).map((_, i) => unitVector(DIMS, i)),
      EMB,
    );
  };
  const ids = async (q: string) =>
    (await store.rank({ principal: ADMIN_PRINCIPAL, bm25: { query: parseQuery(q), limit: 50 } })).bm25!.ranked.map((r) => r.chunkId).sort();

  it('retries items refused for load (429, 503) until they are in', async () => {
    const before = bulkRequests;
    // The first two bulk requests of the write: every chunk item refused, 429 then 503.
    const chunk = (a: { index?: { _id: string } }) => !!a.index?._id.includes('@');
    refusals.push((a) => (chunk(a) ? { status: 429, type: 'es_rejected_execution_exception' } : null));
    refusals.push((a) => (chunk(a) ? { status: 503, type: 'unavailable_shards_exception' } : null));
    await put('last', ['Snøbrøyting på Tøyen.', 'Strøing av fortau.']);
    expect(bulkRequests - before).toBeGreaterThanOrEqual(4);
    expect(await ids('snøbrøyting strøing')).toEqual(['last:0', 'last:1']);
  });

  it('a chunk refused for good fails its document with the reason, and the old version stands whole', async () => {
    await put('stabil', ['Gammel tekst om lekeplass.', 'Gammel tekst om parkdrift.']);
    refusals.push((a) => (a.index?._id.startsWith('stabil:1@') ? { status: 400, type: 'document_parsing_exception' } : null));
    const other = put('annen', ['Et annet dokument om vinterdrift.']);
    await expect(put('stabil', ['Ny tekst om sykehjem.', 'Ny tekst om hjemmetjenesten.'])).rejects.toThrow(/stabil.*document_parsing_exception/s);
    await other;
    // Neither half of the new version; the old version whole; the other document in.
    expect(await ids('sykehjem hjemmetjenesten')).toEqual([]);
    expect(await ids('lekeplass parkdrift')).toEqual(['stabil:0', 'stabil:1']);
    expect(await ids('vinterdrift')).toEqual(['annen:0']);
    expect((await store.documentMetaUnchecked('stabil'))?.chunkCount).toBe(2);
  });

  it('a replaced document is never searchable twice', async () => {
    await put('bytte', ['Versjon en om ballbinge.']);
    await put('bytte', ['Versjon to om ballbinge.']);
    expect(await ids('ballbinge')).toEqual(['bytte:0']);
    expect((await store.chunks(['bytte:0'], ADMIN_PRINCIPAL)).get('bytte:0')?.text).toContain('Versjon to');
  });
});
