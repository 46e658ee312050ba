import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertSameEmbedder,
  createEmbedder,
  dot,
  EmbedderMismatchError,
  EmbeddingRequestError,
  LocalHashEmbedder,
  OpenAIEmbedder,
  openEmbedder,
} from '../indexes/embeddings/index.ts';

const norm = (v: Float32Array) => Math.sqrt(dot(v, v));

describe('LocalHashEmbedder', () => {
  const e = new LocalHashEmbedder();
  const sim = async (a: string, b: string) => {
    const [x, y] = await e.embed([a, b]);
    return dot(x, y);
  };

  it('is deterministic: same text, same vector, across instances, calls and batches', async () => {
    const texts = ['Bydelsutvalget vedtok budsjettet for 2025.', 'Levekårsutfordringer i Gamle Oslo', 'Sak 45/24 Parkdrift'];
    const a = await e.embed(texts);
    const b = await new LocalHashEmbedder().embed(texts);
    const c = await Promise.all(texts.map(async (t) => (await e.embed([t]))[0]));
    for (let i = 0; i < texts.length; i++) {
      expect(Array.from(b[i])).toEqual(Array.from(a[i]));
      expect(Array.from(c[i])).toEqual(Array.from(a[i]));
      expect(Array.from(e.embedOne(texts[i], 'query'))).toEqual(Array.from(a[i]));
    }
  });

  it('returns L2-normalised vectors of the configured size; zeros when there is nothing to embed', async () => {
    const [a, b, empty, punct, stop] = await e.embed([
      'Kommunestyret',
      'Et langt avsnitt om levekår, skole og barnehage i bydelen. '.repeat(40),
      '',
      ' – !! ',
      'hva er det',
    ]);
    for (const v of [a, b, stop]) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(2048);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    // A text of nothing but stopwords is embedded by its stopwords rather than as nothing.
    expect(norm(empty)).toBe(0);
    expect(norm(punct)).toBe(0);
    expect((await new LocalHashEmbedder({ dimensions: 300 }).embed(['x']))[0].length).toBe(300);
  });

  it('puts compounds near their parts, and inflections near each other', async () => {
    const compound = await sim('levekårsutfordringer', 'utfordringer med levekår');
    const unrelated = await sim('levekårsutfordringer', 'budsjett for parkdrift');
    expect(compound).toBeGreaterThan(unrelated + 0.2);
    expect(await sim('kommunestyret', 'kommunestyre')).toBeGreaterThan(0.85);
    expect(await sim('Bydelsutvalgets vedtak om barnehager', 'bydelsutvalget vedtok barnehagene')).toBeGreaterThan(0.5);
  });

  it('has an id that names every parameter', () => {
    expect(new LocalHashEmbedder().id).toBe('local-hash-v1-d2048');
    const ids = [
      new LocalHashEmbedder(),
      new LocalHashEmbedder({ dimensions: 1024 }),
      new LocalHashEmbedder({ dimensions: 4096 }),
      new LocalHashEmbedder({ ngramWeight: 0.5 }),
      new LocalHashEmbedder({ minN: 2 }),
      new LocalHashEmbedder({ maxN: 6 }),
    ].map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new LocalHashEmbedder({ dimensions: 1024 }).dimensions).toBe(1024);
    expect(() => new LocalHashEmbedder({ dimensions: 0 })).toThrow(/dimensions/);
  });

  it('reports its throughput (no timing assertion)', async () => {
    const words =
      'bydelsutvalget vedtok budsjettet for barnehager skoler levekårsutfordringer parkdrift eldreomsorg Gamle Oslo behandling kommunestyret innstilling administrasjonen'.split(
        ' ',
      );
    const chunks = Array.from({ length: 300 }, (_, i) =>
      Array.from({ length: 400 }, (_, j) => words[(i * 31 + j * 7) % words.length] + (j % 9 === 0 ? `${(i + j) % 50}` : '')).join(' '),
    );
    const x = new LocalHashEmbedder();
    const t = performance.now();
    await x.embed(chunks);
    const perSec = Math.round((chunks.length / (performance.now() - t)) * 1000);
    console.log(
      `[embeddings.test] LocalHashEmbedder: ${perSec} chunks/s of 400 words (cold cache, test runner); node bin/run-ts.js indexes/embeddings/bench.ts for the real measurement`,
    );
    expect(perSec).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// A real HTTP server that speaks the OpenAI embeddings protocol.

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: { model: string; input: string[] | string; encoding_format?: string; dimensions?: number };
}

/** The server's embedding of a text: 8 numbers, not normalised, so the client must normalise. */
function serverVector(text: string, dims = 8): number[] {
  const v = Array.from({ length: dims }, (_, i) => (i === 0 ? text.length : ((text.charCodeAt(i % Math.max(1, text.length)) || 0) % 17) - 8));
  return v;
}

type Behaviour = (seen: Seen, res: ServerResponse) => boolean; // true: handled

function startServer(): Promise<{ url: string; seen: Seen[]; behave: (b: Behaviour | null) => void; dims: (n: number) => void; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  let behaviour: Behaviour | null = null;
  let dims = 8;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw ? JSON.parse(raw) : {} };
      seen.push(s);
      if (behaviour && behaviour(s, res)) return;
      if (req.method !== 'POST' || !/\/embeddings(\?|$)/.test(req.url ?? '')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
        return;
      }
      const inputs = Array.isArray(s.body.input) ? s.body.input : [s.body.input];
      const body = {
        object: 'list',
        data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: serverVector(t, dims) })),
        model: s.body.model,
        usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
      };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        seen,
        behave: (b) => (behaviour = b),
        dims: (n) => (dims = n),
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

function normalised(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / n);
}

describe('OpenAIEmbedder against a real local OpenAI-compatible server', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    srv = await startServer();
  });
  afterAll(async () => {
    await srv.close();
  });
  const reset = () => {
    srv.seen.length = 0;
    srv.behave(null);
    srv.dims(8);
  };

  it('sends model, input batches and encoding_format float, and returns normalised Float32Arrays in order', async () => {
    reset();
    const e = new OpenAIEmbedder({ model: 'test-embed', apiKey: 'sk-test', baseURL: `${srv.url}/v1`, batchSize: 2, maxRetries: 0 });
    const texts = ['Sak 45/24 Budsjett 2025', 'Levekår i Gamle Oslo\nmed linjeskift', 'Parkdrift'];
    const out = await e.embed(texts, 'document');
    expect(srv.seen).toHaveLength(2);
    const inputs = srv.seen.map((s) => s.body.input as string[]).sort((a, b) => b.length - a.length);
    expect(inputs).toEqual([texts.slice(0, 2), texts.slice(2)]); // newlines kept
    for (const s of srv.seen) {
      expect(s.method).toBe('POST');
      expect(s.url).toBe('/v1/embeddings');
      expect(s.headers.authorization).toBe('Bearer sk-test');
      expect(s.body.model).toBe('test-embed');
      expect(s.body.encoding_format).toBe('float');
      expect(s.body.dimensions).toBeUndefined();
    }
    expect(out).toHaveLength(3);
    out.forEach((v, i) => {
      expect(v).toBeInstanceOf(Float32Array);
      expect(norm(v)).toBeCloseTo(1, 5);
      normalised(serverVector(texts[i])).forEach((x, k) => expect(v[k]).toBeCloseTo(x, 5));
    });
    expect(e.dimensions).toBe(8);
    expect(e.id).toBe('openai:test-embed:8');
  });

  it('learns its dimensions from one probe request in init()', async () => {
    reset();
    srv.dims(12);
    const e = new OpenAIEmbedder({ model: 'probe-model', apiKey: 'sk-test', baseURL: `${srv.url}/v1`, maxRetries: 0 });
    expect(() => e.id).toThrow(/init\(\)|INNSIKT_EMBEDDING_DIMENSIONS/);
    await e.init();
    expect(srv.seen).toHaveLength(1);
    expect(e.dimensions).toBe(12);
    expect(e.id).toBe('openai:probe-model:12');
    await e.init(); // known now: no second probe
    expect(srv.seen).toHaveLength(1);
  });

  it('asks for configured dimensions, and says clearly when the server ignores them', async () => {
    reset();
    const ok = new OpenAIEmbedder({ model: 'text-embedding-3-small', apiKey: 'k', baseURL: `${srv.url}/v1`, dimensions: 8, maxRetries: 0 });
    expect(ok.id).toBe('openai:text-embedding-3-small:8'); // known without a request
    await ok.embed(['a']);
    expect(srv.seen[0].body.dimensions).toBe(8);

    const wrong = new OpenAIEmbedder({ model: 'nomic-embed-text', apiKey: 'k', baseURL: `${srv.url}/v1`, dimensions: 768, maxRetries: 0 });
    await expect(wrong.embed(['a'])).rejects.toThrow(/returned 8-dimensional embeddings.*INNSIKT_EMBEDDING_DIMENSIONS is 768/);
  });

  it('adds query and document prefixes, names them in the id, and sends no empty texts', async () => {
    reset();
    const e = new OpenAIEmbedder({
      model: 'nomic-embed-text',
      baseURL: `${srv.url}/v1`,
      queryPrefix: 'search_query: ',
      documentPrefix: 'search_document: ',
      maxRetries: 0,
    });
    const [q] = await e.embed(['levekår'], 'query');
    const [d, empty] = await e.embed(['levekår i bydelen', '   '], 'document');
    expect(srv.seen.map((s) => s.body.input)).toEqual([['search_query: levekår'], ['search_document: levekår i bydelen']]);
    expect(srv.seen[0].headers.authorization).toBe('Bearer not-needed'); // local servers need no key
    expect(norm(q)).toBeCloseTo(1, 5);
    expect(norm(d)).toBeCloseTo(1, 5);
    expect(norm(empty)).toBe(0);
    expect(empty.length).toBe(8);
    expect(e.id).toMatch(/^openai:nomic-embed-text:8:q=/);
    expect(await e.embed([])).toEqual([]);
  });

  it('turns 401 into a clear error that names the key, without retrying', async () => {
    reset();
    srv.behave((_s, res) => {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: 'Incorrect API key provided: sk-wrong.', type: 'invalid_request_error', code: 'invalid_api_key' } }));
      return true;
    });
    const e = new OpenAIEmbedder({ model: 'test-embed', apiKey: 'sk-wrong', baseURL: `${srv.url}/v1`, maxRetries: 3 });
    const err = await e.embed(['a']).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(EmbeddingRequestError);
    expect((err as EmbeddingRequestError).status).toBe(401);
    expect((err as Error).message).toMatch(/HTTP 401: Incorrect API key provided: sk-wrong\. Check OPENAI_API_KEY\./);
    expect((err as Error).message).toContain(srv.url);
    expect(srv.seen).toHaveLength(1);
  });

  it('turns 500 into a clear error, and retries it when allowed', async () => {
    reset();
    srv.behave((_s, res) => {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'model crashed', type: 'server_error' } }));
      return true;
    });
    const e = new OpenAIEmbedder({ model: 'test-embed', apiKey: 'k', baseURL: `${srv.url}/v1`, maxRetries: 0 });
    await expect(e.embed(['a'])).rejects.toThrow(/HTTP 500: model crashed\. The embedding server failed; try again later\./);

    reset();
    let failures = 1;
    srv.behave((_s, res) => {
      if (failures-- <= 0) return false;
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'busy', type: 'server_error' } }));
      return true;
    });
    const retrying = new OpenAIEmbedder({ model: 'test-embed', apiKey: 'k', baseURL: `${srv.url}/v1`, maxRetries: 1 });
    const [v] = await retrying.embed(['a']);
    expect(norm(v)).toBeCloseTo(1, 5);
    expect(srv.seen).toHaveLength(2);
  });

  it('says the server is unreachable when nothing listens', async () => {
    const dead = await startServer();
    await dead.close();
    const e = new OpenAIEmbedder({ model: 'm', baseURL: `${dead.url}/v1`, maxRetries: 0, timeoutMs: 5000 });
    await expect(e.embed(['a'])).rejects.toThrow(/reachable.*OPENAI_BASE_URL/);
  });

  it('is configured from the environment: OpenAI-compatible server by base URL', async () => {
    reset();
    const e = await openEmbedder({ INNSIKT_EMBEDDER: 'openai', OPENAI_BASE_URL: `${srv.url}/v1`, INNSIKT_EMBEDDING_MODEL: 'bge-m3' });
    expect(e.id).toBe('openai:bge-m3:8');
    expect(srv.seen).toHaveLength(1); // the probe
    expect(srv.seen[0].body.model).toBe('bge-m3');
  });

  it('is configured from the environment: Azure OpenAI, with api-key header, deployment path and api-version', async () => {
    reset();
    const e = await openEmbedder({
      INNSIKT_EMBEDDER: 'azure',
      AZURE_OPENAI_API_KEY: 'azure-key',
      AZURE_OPENAI_ENDPOINT: `${srv.url}/`,
      AZURE_OPENAI_API_EMBEDDINGS_DEPLOYMENT_NAME: 'emb-small',
      INNSIKT_EMBEDDING_BATCH_SIZE: '16',
    });
    expect(e.id).toBe('azure:emb-small:8');
    const [v] = await e.embed(['Sak 45/24']);
    expect(norm(v)).toBeCloseTo(1, 5);
    const last = srv.seen[srv.seen.length - 1];
    expect(last.url).toBe('/openai/deployments/emb-small/embeddings?api-version=2024-10-21');
    expect(last.headers['api-key']).toBe('azure-key');
    expect(last.body.input).toEqual(['Sak 45/24']);
    expect(last.body.encoding_format).toBe('float');
  });
});

describe('createEmbedder', () => {
  it('defaults to the local embedder', () => {
    expect(createEmbedder({}).id).toBe('local-hash-v1-d2048');
    expect(createEmbedder({ INNSIKT_EMBEDDER: 'local', INNSIKT_LOCAL_DIMENSIONS: '512' }).id).toBe('local-hash-v1-d512');
  });

  it('says what is missing or wrong', () => {
    expect(() => createEmbedder({ INNSIKT_EMBEDDER: 'openai' })).toThrow(/OPENAI_API_KEY.*OPENAI_BASE_URL/);
    expect(() => createEmbedder({ INNSIKT_EMBEDDER: 'azure', AZURE_OPENAI_API_KEY: 'k' })).toThrow(/AZURE_OPENAI_ENDPOINT.*DEPLOYMENT_NAME/);
    expect(() => createEmbedder({ INNSIKT_EMBEDDER: 'bert' })).toThrow(/local, e5, openai or azure/);
    expect(() => createEmbedder({ INNSIKT_LOCAL_DIMENSIONS: 'many' })).toThrow(/INNSIKT_LOCAL_DIMENSIONS must be a positive whole number/);
    expect(() => createEmbedder({ INNSIKT_EMBEDDER: 'openai', OPENAI_API_KEY: 'k', INNSIKT_EMBEDDING_DIMENSIONS: '0' })).toThrow(
      /INNSIKT_EMBEDDING_DIMENSIONS/,
    );
  });

  it('uses OpenAI with a key, Azure when only Azure is configured', () => {
    const o = createEmbedder({ INNSIKT_EMBEDDER: 'openai', OPENAI_API_KEY: 'sk', INNSIKT_EMBEDDING_DIMENSIONS: '256' });
    expect(o.id).toBe('openai:text-embedding-3-small:256');
    const a = createEmbedder({
      INNSIKT_EMBEDDER: 'openai',
      AZURE_OPENAI_API_KEY: 'k',
      AZURE_OPENAI_API_INSTANCE_NAME: 'res',
      AZURE_OPENAI_API_DEPLOYMENT_NAME: 'dep',
      INNSIKT_EMBEDDING_DIMENSIONS: '1536',
    });
    expect(a.id).toBe('azure:dep:1536');
  });
});

describe('EmbedderMismatchError', () => {
  it('says which model built the index, which is configured, and to reindex', () => {
    const built = { id: 'local-hash-v1-d2048', dimensions: 2048 };
    const configured = { id: 'openai:text-embedding-3-small:1536', dimensions: 1536 };
    const err = new EmbedderMismatchError(built, configured);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('EmbedderMismatchError');
    expect(err.message).toContain("built with the embedding model 'local-hash-v1-d2048' (2048 dimensions)");
    expect(err.message).toContain("configured embedding model is 'openai:text-embedding-3-small:1536' (1536 dimensions)");
    expect(err.message).toContain('innsikt reindex');
    expect(() => assertSameEmbedder(built, configured)).toThrow(EmbedderMismatchError);
    expect(() => assertSameEmbedder(built, { ...built })).not.toThrow();
    expect(() => assertSameEmbedder(null, configured)).not.toThrow();
    expect(new EmbedderMismatchError('own message').message).toBe('own message');
  });
});
