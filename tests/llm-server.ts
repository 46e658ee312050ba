/**
 * A local OpenAI-compatible server for tests: real node:http on 127.0.0.1 at a random port.
 *
 * - `POST /v1/chat/completions`: streaming (SSE `data: {chunk}` lines, then `data: [DONE]`)
 *   or not, answering with scripted text;
 * - `POST /v1/embeddings`: small deterministic vectors;
 * - error modes: any HTTP status with an OpenAI-style error body (500, 429, 401), a delay
 *   before the response starts, a delay between streamed chunks, or no answer at all;
 * - it records every request (method, path, headers, parsed body) and whether the client
 *   closed the connection before the response was complete (an aborted call).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Script {
  /** The answer, streamed one chunk per SSE event (non-streaming: joined). */
  chunks?: string[];
  /** Shorthand for `chunks`: the text cut into pieces of about `pieceSize` characters. */
  text?: string;
  pieceSize?: number;
  /** Answer with this HTTP status and an OpenAI-style error body instead. */
  status?: number;
  errorMessage?: string;
  /** Wait this long before sending the response headers. */
  delayMs?: number;
  /** Wait this long between streamed chunks. */
  chunkDelayMs?: number;
  /** Never answer (the client must time out or abort). */
  hang?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
  /** The client closed the connection before the response was complete. */
  closedEarly: boolean;
  /** The response was complete. */
  finished: boolean;
  /** Chunks written before the end or the close. */
  chunksSent: number;
}

export interface LlmServer {
  /** Base URL for OPENAI_BASE_URL, e.g. http://127.0.0.1:41234/v1 */
  url: string;
  requests: RecordedRequest[];
  /** Only the chat completion requests. */
  chats(): RecordedRequest[];
  /** The script for every following chat request (a function may choose per request). */
  script(s: Script | ((req: RecordedRequest) => Script)): void;
  /** Scripts used once each, in order, before falling back to `script`. */
  queue(...s: Script[]): void;
  /** Resolves when `pred` holds for some recorded request (polls every 10 ms). */
  waitFor(pred: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  reset(): void;
  close(): Promise<void>;
}

const DEFAULT_TEXT = 'Dette er et testsvar [1].';

function pieces(s: Script): string[] {
  if (s.chunks) return s.chunks;
  const text = s.text ?? DEFAULT_TEXT;
  const size = s.pieceSize ?? 4;
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function embedding(text: string, dims = 8): number[] {
  return Array.from({ length: dims }, (_, i) => (i === 0 ? text.length : ((text.charCodeAt(i % Math.max(1, text.length)) || 0) % 17) - 8));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startLlmServer(): Promise<LlmServer> {
  const requests: RecordedRequest[] = [];
  let fallback: Script | ((req: RecordedRequest) => Script) = { text: DEFAULT_TEXT };
  let queued: Script[] = [];
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      let body: any = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = raw;
      }
      const rec: RecordedRequest = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0],
        headers: req.headers,
        body,
        closedEarly: false,
        finished: false,
        chunksSent: 0,
      };
      requests.push(rec);
      res.on('close', () => {
        if (!res.writableFinished) rec.closedEarly = true;
      });
      res.on('finish', () => (rec.finished = true));
      void handle(rec, res).catch(() => res.destroy());
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(rec: RecordedRequest, res: ServerResponse): Promise<void> {
    if (rec.method === 'POST' && rec.path.endsWith('/embeddings')) {
      const inputs: string[] = Array.isArray(rec.body?.input) ? rec.body.input : [rec.body?.input ?? ''];
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          object: 'list',
          data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: embedding(String(t)) })),
          model: rec.body?.model,
          usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
        }),
      );
      return;
    }
    if (rec.method !== 'POST' || !rec.path.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    const s = queued.length ? queued.shift()! : typeof fallback === 'function' ? fallback(rec) : fallback;
    if (s.hang) return; // never answer; the connection stays open until the client gives up
    if (s.delayMs) await sleep(s.delayMs);
    if (res.destroyed) return;
    if (s.status && s.status >= 400) {
      const type = s.status === 429 ? 'rate_limit_exceeded' : s.status === 401 ? 'invalid_api_key' : 'server_error';
      res.writeHead(s.status, { 'content-type': 'application/json', ...(s.status === 429 ? { 'retry-after': '1' } : {}) });
      res.end(JSON.stringify({ error: { message: s.errorMessage ?? `scripted ${s.status}`, type, code: type } }));
      return;
    }
    const model = rec.body?.model ?? 'test-model';
    const id = `chatcmpl-${requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const parts = pieces(s);
    if (!rec.body?.stream) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: parts.join('') }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 10, completion_tokens: parts.length, total_tokens: 10 + parts.length },
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    for (const p of parts) {
      if (s.chunkDelayMs) await sleep(s.chunkDelayMs);
      if (res.destroyed || res.writableEnded) return;
      res.write(chunk({ content: p }, null));
      rec.chunksSent++;
    }
    if (res.destroyed) return;
    res.write(chunk({}, 'stop'));
    res.end('data: [DONE]\n\n');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    chats: () => requests.filter((r) => r.path.endsWith('/chat/completions')),
    script: (s) => (fallback = s),
    queue: (...s) => queued.push(...s),
    async waitFor(pred, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = requests.find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`llm-server: no matching request within ${timeoutMs} ms (saw ${requests.length})`);
        await sleep(10);
      }
    },
    reset() {
      requests.length = 0;
      queued = [];
      fallback = { text: DEFAULT_TEXT };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
