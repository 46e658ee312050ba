/**
 * The answer routes:
 * - `GET /oppsummering?q=…&mode=…` (+ the search page's filters: body, kind, year, from, to,
 *   decisions): the search page's summary panel, over the same filtered results. An htmx request that
 *   accepts `text/event-stream` (the hx-sse extension adds that) gets the answer streamed as
 *   SSE; another htmx request gets the finished panel as one partial; a plain request (no
 *   JavaScript) gets a page.
 * - `POST /api/v1/answer` with `{"question": "...", "mode"?: "hybrid", "filters"?: {...}}`:
 *   the answer JSON.
 *
 * The caller's principal goes into retrieval, so the summary draws only on what the caller may
 * read. Leaving the page or typing a new query closes the stream; that aborts `request.signal`
 * and with it the model call.
 */
import type { Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { parseFilters, parseMode } from '../../indexes/search.ts';
import type { Principal, SearchFilters, SearchMode } from '../../indexes/types.ts';
import { AnswerPage, streamCite, streamDone, streamError, streamStart, streamText } from '../../views/answer.tsx';
import { type Answerer, answerJson, MAX_QUESTION } from './answerer.ts';

type Env = { Variables: { principal: Principal } };

const FAILED = 'Oppsummeringen kunne ikke lages. Søkeresultatene under gjelder fortsatt.';

/** The request's abort signal, also fired when the SSE stream is cancelled by the client. */
function linkedAbort(c: Context): AbortController {
  const ac = new AbortController();
  const raw = c.req.raw.signal;
  if (raw.aborted) ac.abort();
  else raw.addEventListener('abort', () => ac.abort(), { once: true });
  return ac;
}

function filtersFrom(value: unknown): SearchFilters | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new RangeError('"filters" must be an object');
  const f = value as Record<string, unknown>;
  const out: SearchFilters = {};
  const list = (k: 'kind' | 'body') => {
    const v = f[k];
    if (v === undefined) return;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new RangeError(`"filters.${k}" must be a list of strings`);
    out[k] = v as string[];
  };
  list('kind');
  list('body');
  for (const k of ['dateFrom', 'dateTo'] as const) {
    const v = f[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !/^\d{4}(-\d{2}(-\d{2})?)?$/.test(v)) throw new RangeError(`"filters.${k}" must be a date YYYY-MM-DD`);
    out[k] = v;
  }
  if (f.documentId !== undefined) {
    if (typeof f.documentId !== 'string') throw new RangeError('"filters.documentId" must be a string');
    out.documentId = f.documentId;
  }
  return out;
}

export function registerAnswerRoutes(app: Hono<Env>, answerer: Answerer, isReady: () => boolean): void {
  app.post('/api/v1/answer', async (c) => {
    if (!isReady()) return c.json({ error: 'Starting: the index is being built, try again shortly' }, 503);
    let body: Record<string, unknown>;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'Send a JSON body: {"question": "..."}' }, 400);
    }
    const question = typeof body?.question === 'string' ? body.question.trim() : '';
    if (!question) return c.json({ error: 'Missing "question": send {"question": "..."}' }, 400);
    if (question.length > MAX_QUESTION) return c.json({ error: `"question" is longer than ${MAX_QUESTION} characters` }, 400);
    let mode: SearchMode;
    let filters: SearchFilters | undefined;
    try {
      mode = parseMode(body.mode);
      filters = filtersFrom(body.filters);
    } catch (err) {
      return c.json({ error: (err as Error).message }, 400);
    }
    const ac = linkedAbort(c);
    let result: Awaited<ReturnType<Answerer['answer']>>;
    try {
      result = await answerer.answer({ question, principal: c.get('principal'), mode, filters, signal: ac.signal });
    } catch (err) {
      // The client went away: nobody to answer, nothing to log.
      if (ac.signal.aborted) return new Response(null, { status: 499 });
      throw err;
    }
    c.header('Cache-Control', 'private, no-store');
    return c.json(answerJson(result));
  });

  app.get('/oppsummering', async (c) => {
    const principal = c.get('principal');
    const q = (c.req.query('q') ?? '').trim().slice(0, MAX_QUESTION);
    const htmx = c.req.header('hx-request') === 'true';
    c.header('Vary', 'HX-Request, Accept, Cookie');
    c.header('Cache-Control', 'private, no-store');
    let mode: SearchMode = 'hybrid';
    let filters: SearchFilters = {};
    let error: string | null = null;
    try {
      mode = parseMode(c.req.query('mode'));
      filters = parseFilters((k) => c.req.queries(k) ?? []);
    } catch {
      error = 'Ugyldig søkeparameter. Prøv søket på nytt.';
    }
    if (!q) error = 'Skriv et spørsmål eller noen søkeord først.';
    else if (!isReady()) error = 'Innsiktsbanken starter og leser inn dokumenter. Prøv igjen om et øyeblikk.';

    if (!htmx) {
      if (error) return c.html('<!DOCTYPE html>' + String(AnswerPage({ q, mode, filters, result: null, error, principal })), 400);
      const ac = linkedAbort(c);
      try {
        const result = await answerer.answer({ question: q, principal, mode, filters, signal: ac.signal });
        return c.html('<!DOCTYPE html>' + String(AnswerPage({ q, mode, filters, result, error: null, principal })));
      } catch (err) {
        if (ac.signal.aborted) return new Response(null, { status: 499 });
        console.error(`[innsikt] summary page for "${q}" failed: ${(err as Error).stack ?? err}`);
        return c.html('<!DOCTYPE html>' + String(AnswerPage({ q, mode, filters, result: null, error: FAILED, principal })), 500);
      }
    }

    if (error) return c.html(streamError(error));
    const ac = linkedAbort(c);
    const wantsStream = (c.req.header('accept') ?? '').includes('text/event-stream');
    if (!wantsStream) {
      try {
        return c.html(streamDone(await answerer.answer({ question: q, principal, mode, filters, signal: ac.signal }), q));
      } catch (err) {
        if (ac.signal.aborted) return new Response(null, { status: 499 });
        console.error(`[innsikt] summary for "${q}" failed: ${(err as Error).stack ?? err}`);
        return c.html(streamError(FAILED));
      }
    }

    return streamSSE(c, async (stream) => {
      stream.onAbort(() => ac.abort());
      try {
        for await (const ev of answerer.stream({ question: q, principal, mode, filters, signal: ac.signal })) {
          if (ac.signal.aborted) break;
          if (ev.type === 'start') {
            if (ev.mode === 'llm') await stream.writeSSE({ data: streamStart() });
          } else if (ev.type === 'text') await stream.writeSSE({ data: streamText(ev.text) });
          else if (ev.type === 'cite') await stream.writeSSE({ data: streamCite(ev.source, q) });
          else if (ev.type === 'done') await stream.writeSSE({ data: streamDone(ev.result, q) });
        }
      } catch (err) {
        if (ac.signal.aborted) return;
        console.error(`[innsikt] summary stream for "${q}" failed: ${(err as Error).stack ?? err}`);
        await stream.writeSSE({ data: streamError(FAILED) });
      }
    });
  });
}
