/**
 * The Hono app: HTML pages (htmx partials when HX-Request is set), the JSON API and the files.
 * Handlers are plain functions over Web Request/Response, testable with `app.request()`.
 */

import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Context, Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import type { Embedder } from '../indexes/embeddings/types.ts';
import { type GroupedResponse, MAX_LIMIT, parseFilters, parseMode, search, searchDocuments, searchJson } from '../indexes/search.ts';
import { type SimilarDocument, similarDocuments } from '../indexes/similar.ts';
import type { Store } from '../indexes/store.ts';
import { type Facets, type Principal, PUBLIC_PRINCIPAL, type SearchFilters, type SearchMode } from '../indexes/types.ts';
import type { DataDir } from '../ingest/data-dir.ts';
import type { JobQueue } from '../ingest/queue.ts';
import { DocumentPage } from '../views/document.tsx';
import { ErrorPage } from '../views/errors.tsx';
import { LoginPage } from '../views/login.tsx';
import { BodyPage, CasePage, MeetingPage } from '../views/protocol.tsx';
import { SearchPage, type SearchPageProps, SearchResults } from '../views/search.tsx';
import { Answerer } from './answer/answerer.ts';
import { registerAnswerRoutes } from './answer/routes.ts';
import { type Config, searchOptions } from './config.ts';
import { OcrInfo } from './ocr-info.ts';
import { lookupToken, principalFrom, TOKEN_COOKIE, UnknownTokenError } from './principal.ts';
import { type ResultCache, resultCacheFor, resultKey } from './result-cache.ts';
import { pendingJobsFor, queueFor, registerStaffRoutes } from './staff.ts';

export interface AppContext {
  store: Store;
  embedder: Embedder;
  dataDir: DataDir;
  config: Config;
  /** False while the demo corpus is still being ingested on first start. */
  isReady: () => boolean;
  /** The search result cache; by default one as configured (server/result-cache.ts). */
  resultCache?: ResultCache;
  /** The ingestion worker's job queue (uploads, staff actions); by default the data directory's. */
  queue?: JobQueue;
}

/** A results page's data as cached: hits without their whole chunk text, and the facets. */
interface PageResults {
  result: GroupedResponse;
  facets: Facets | null;
  /** The OCR documents among the hits: id -> mean word confidence (server/ocr-info.ts). */
  ocr?: Record<string, number | null>;
  /** The results partial, rendered once for this entry. */
  partial?: string;
}

function withoutText(res: GroupedResponse): GroupedResponse {
  const lean = <T extends { text?: string; pageBreaks?: unknown }>({ text: _t, pageBreaks: _p, ...hit }: T) => hit;
  return { ...res, groups: res.groups.map((g) => ({ best: lean(g.best), more: g.more.map(lean) })) };
}

type Env = { Variables: { principal: Principal } };

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const HTMX_FILE = path.join(path.dirname(require.resolve('htmx.org/package.json')), 'dist', 'htmx.min.js');
// htmx 4 core reads responses whole; its SSE extension streams text/event-stream (the summary).
const HTMX_SSE_FILE = path.join(path.dirname(require.resolve('htmx.org/package.json')), 'dist', 'ext', 'hx-sse.min.js');
const STATIC_DIR = path.resolve(here, '../views/static');
const PER_PAGE = 10;
/** Similar documents one API call returns at most. */
const MAX_SIMILAR = 20;

function html(c: Context, body: unknown, status = 200): Response {
  return c.html('<!DOCTYPE html>' + String(body), status as any);
}

function positiveInt(value: string | undefined, dflt: number, max = Number.MAX_SAFE_INTEGER, min = 1): number {
  if (value === undefined || value === '') return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`"${value}" must be a whole number of at least ${min}`);
  return Math.min(n, max);
}

export function createApp(ctx: AppContext): Hono<Env> {
  const app = new Hono<Env>();
  const { store, embedder, config } = ctx;
  const results = ctx.resultCache ?? resultCacheFor(store, config);
  const queue = ctx.queue ?? queueFor(ctx.dataDir);
  // Read from silver, for documents an access-checked read has already given the caller.
  const ocrInfo = new OcrInfo(ctx.dataDir);

  const pageHeaders = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      // htmx adds a small inline style for its request indicators.
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      objectSrc: ["'none'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
    },
    referrerPolicy: 'same-origin',
  });
  // Original files get their own headers (a page CSP would stop the browser's PDF viewer).
  app.use('*', (c, next) => (/^\/documents\/[^/]+\/file$/.test(c.req.path) ? next() : pageHeaders(c, next)));

  // Resolve the caller once per request. A bad bearer token is a 401; a stale cookie is dropped.
  app.use('*', async (c, next) => {
    try {
      c.set('principal', principalFrom(c, config.tokens));
    } catch (err) {
      if (!(err instanceof UnknownTokenError)) throw err;
      if (c.req.header('authorization')) return c.json({ error: err.message }, 401);
      deleteCookie(c, TOKEN_COOKIE, { path: '/' });
      c.set('principal', PUBLIC_PRINCIPAL);
    }
    await next();
  });

  app.get('/healthz', async (c) => {
    if (!ctx.isReady()) return c.json({ status: 'starting' }, 503);
    return c.json({ status: 'ok', backend: store.backend, documents: (await store.stats()).documents, embedder: embedder.id });
  });

  app.get('/static/htmx.js', (c) => {
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(fs.readFileSync(HTMX_FILE), 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
  app.get('/static/hx-sse.js', (c) => {
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(fs.readFileSync(HTMX_SSE_FILE), 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
  app.get('/static/style.css', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(fs.readFileSync(path.join(STATIC_DIR, 'style.css')), 200, { 'Content-Type': 'text/css; charset=utf-8' });
  });

  // --- JSON API ---------------------------------------------------------------------------
  app.get('/api/v1/search', async (c) => {
    const q = c.req.query('q') ?? '';
    let mode: SearchMode;
    let limit: number;
    let offset: number;
    let filters: SearchFilters;
    try {
      mode = parseMode(c.req.query('mode'));
      limit = positiveInt(c.req.query('limit'), 10, MAX_LIMIT);
      offset = positiveInt(c.req.query('offset'), 0, Number.MAX_SAFE_INTEGER, 0);
      filters = parseFilters((k) => c.req.queries(k) ?? []);
    } catch (err) {
      return c.json({ error: (err as Error).message }, 400);
    }
    if (!q.trim()) return c.json({ error: 'Missing query: add ?q=...' }, 400);
    const principal = c.get('principal');
    const { body } = await results.get(
      resultKey('api/search', principal, { q, mode, limit, offset, filters }),
      async () => {
        const json = searchJson(await search(store, embedder, { query: q, mode, limit, offset, filters, principal }, searchOptions(config)));
        return { body: JSON.stringify(json), shows: json.results.map((r) => r.documentId) };
      },
      {
        shows: (v) => v.shows,
        redact: (v, revoked) => {
          // A deleted or replaced document's hits go at once; the rest stands until refreshed.
          const json = JSON.parse(v.body) as ReturnType<typeof searchJson>;
          const results = json.results.filter((r) => !revoked.has(r.documentId));
          if (results.length === 0) return null;
          return { body: JSON.stringify({ ...json, results }), shows: results.map((r) => r.documentId) };
        },
      },
    );
    return c.body(body, 200, { 'Content-Type': 'application/json' });
  });

  app.get('/api/v1/documents/:id', async (c) => {
    const doc = await store.getDocument(c.req.param('id'), c.get('principal'));
    if (!doc) return c.json({ error: 'Document not found' }, 404);
    return c.json(doc);
  });

  // "More like this": the documents nearest to this one that the caller may read (indexes/similar.ts).
  app.get('/api/v1/documents/:id/similar', async (c) => {
    const principal = c.get('principal');
    let limit: number;
    try {
      limit = positiveInt(c.req.query('limit'), 5, MAX_SIMILAR);
    } catch (err) {
      return c.json({ error: (err as Error).message }, 400);
    }
    const doc = await store.getDocument(c.req.param('id'), principal);
    if (!doc) return c.json({ error: 'Document not found' }, 404);
    try {
      const similar = await similarDocuments(store, embedder, doc, principal, { limit, minSimilarity: config.minSimilarity });
      return c.json({ documentId: doc.id, embedder: embedder.id, results: similar });
    } catch (err) {
      console.error(`[innsikt] similar documents failed for ${doc.id}: ${(err as Error).message}`);
      return c.json({ error: 'The embedding model did not answer; try again later' }, 503);
    }
  });

  // --- Answers (cited summaries): POST /api/v1/answer and the summary panel /oppsummering ---
  registerAnswerRoutes(app, new Answerer({ store, embedder, config }), ctx.isReady);

  // --- Pages ------------------------------------------------------------------------------
  app.get('/', async (c) => {
    const principal = c.get('principal');
    const q = (c.req.query('q') ?? '').slice(0, 500);
    const props: SearchPageProps = {
      q,
      mode: 'hybrid',
      page: 1,
      perPage: PER_PAGE,
      result: null,
      principal,
      error: null,
      sort: 'relevance',
      filters: {},
      facets: null,
    };
    let status = 200;
    try {
      props.mode = parseMode(c.req.query('mode'));
      props.page = positiveInt(c.req.query('side'), 1, 1000);
      const sort = c.req.query('sort') ?? '';
      if (sort !== '' && sort !== 'relevance' && sort !== 'date') throw new RangeError(`Unknown sort "${sort}"`);
      props.sort = sort === 'date' ? 'date' : 'relevance';
      props.filters = parseFilters((k) => c.req.queries(k) ?? []);
    } catch {
      // The page (or, for htmx, the results region: htmx 4 swaps error responses) says so.
      props.error = 'Ugyldig søkeparameter. Prøv søket på nytt.';
      props.filters = {};
      status = 400;
    }
    const partial = c.req.header('hx-request') === 'true';
    // Search as you type (the last word as a prefix) only for requests from the search input: a
    // facet, sort or page link asks for exactly what its URL gives on reload. (With filters, a
    // whole word can be "unknown" inside the filtered set, and would otherwise become a prefix.)
    const typing = partial && c.req.header('hx-source') === 'input#q';
    c.header('Vary', 'HX-Request, HX-Source, Cookie');
    let cached: PageResults | null = null;
    if (q.trim() && !props.error) {
      if (!ctx.isReady()) props.error = 'Innsiktsbanken starter og leser inn dokumenter. Prøv igjen om et øyeblikk.';
      else {
        const compute = async (): Promise<PageResults> => {
          const result = await searchDocuments(
            store,
            embedder,
            { query: q, mode: props.mode, limit: PER_PAGE, offset: (props.page - 1) * PER_PAGE, principal, filters: props.filters },
            { ...searchOptions(config), prefixLast: typing, sort: props.sort },
          );
          // Let waiting requests in between the two halves: on a busy server (refreshes while
          // documents are added) no single task holds the event loop for both.
          await new Promise((r) => setImmediate(r));
          let facets: Facets | null = null;
          try {
            // Counted inside the store's query with the caller's access, like the search itself.
            facets = await store.facets(result.parsed!, { principal, filters: props.filters });
          } catch (err) {
            // The results stand without facets (and are not cached).
            console.error(`[innsikt] facet counts failed for "${q}": ${(err as Error).stack ?? err}`);
          }
          // The hits are the caller's already: their silver says which were read by OCR.
          const ocr = ocrInfo.forResults(result.groups.map((g) => g.best.documentId));
          return { result: withoutText(result), facets, ocr };
        };
        const key = resultKey('page', principal, { q, mode: props.mode, page: props.page, sort: props.sort, typing, filters: props.filters });
        try {
          cached = await results.get(key, compute, {
            keep: (r) => r.facets !== null,
            shows: (r) => r.result.groups.map((g) => g.best.documentId),
            redact: (r, revoked) => {
              const groups = r.result.groups.filter((g) => !revoked.has(g.best.documentId));
              return groups.length === 0 ? null : { result: { ...r.result, groups }, facets: r.facets, ocr: r.ocr };
            },
          });
          props.result = cached.result;
          props.facets = cached.facets;
          props.ocr = cached.ocr;
        } catch (err) {
          // htmx 4 swaps error responses too: answer with the results region and a message.
          console.error(`[innsikt] search failed for "${q}": ${(err as Error).stack ?? err}`);
          props.error = 'Søket feilet. Prøv igjen om litt, eller med andre ord.';
        }
      }
    }
    if (partial) {
      // The partial depends on the key's parameters only (not on the principal's name).
      if (cached) return c.html((cached.partial ??= String(SearchResults(props))), status as any);
      return c.html(String(SearchResults(props)), status as any);
    }
    return html(c, SearchPage(props), status);
  });

  app.get('/documents/:id', async (c) => {
    const principal = c.get('principal');
    const doc = await store.getDocument(c.req.param('id'), principal);
    // The same 404 for "missing" and "not yours": existence of a document is itself information.
    if (!doc)
      return html(
        c,
        ErrorPage({ status: 404, title: 'Fant ikke dokumentet', message: 'Dokumentet finnes ikke, eller du har ikke tilgang til det.', principal }),
        404,
      );
    let page: number | null = null;
    try {
      page = c.req.query('side') ? positiveInt(c.req.query('side'), 1) : null;
    } catch {
      page = null;
    }
    const meetings = await store.meetingsOfDocument(doc.id, principal);
    const cited = c.req.query('kilde');
    const chunk = cited ? (await store.chunks([cited], principal)).get(cited) : undefined;
    const passage = chunk && chunk.documentId === doc.id ? chunk.text : null;
    // Similar documents are a help, not the page: without them (the model's server is down) it still renders.
    let similar: SimilarDocument[] = [];
    try {
      similar = await similarDocuments(store, embedder, doc, principal, { minSimilarity: config.minSimilarity });
    } catch (err) {
      console.error(`[innsikt] similar documents failed for ${doc.id}: ${(err as Error).message}`);
    }
    // Silver only after the access-checked read above: per-page OCR confidence is not in the index.
    const ocr = ocrInfo.get(doc.id);
    const admin = principal.admin ? { pending: pendingJobsFor(queue, doc.id).map((j) => ({ id: j.id, kind: j.kind })) } : null;
    if (admin) c.header('Cache-Control', 'private, no-store');
    return html(c, DocumentPage({ doc, q: c.req.query('q') ?? '', page, principal, meetings, passage, similar, ocr, admin }));
  });

  app.get('/documents/:id/file', async (c) => {
    const principal = c.get('principal');
    const doc = await store.getDocument(c.req.param('id'), principal);
    if (!doc) return c.text('Fant ikke dokumentet, eller du har ikke tilgang til det.', 404);
    const ext = path.extname(doc.source).toLowerCase();
    const file = ctx.dataDir.bronzeFile(doc.sha256, ext);
    if (!fs.existsSync(file)) return c.text('Originalfilen mangler i datakatalogen.', 410);
    const type = doc.mediaType === 'text/html' || doc.mediaType === 'text/markdown' ? 'text/plain; charset=utf-8' : doc.mediaType;
    const name = doc.source.replace(/["\\\r\n]/g, '_');
    return c.body(fs.readFileSync(file), 200, {
      'Content-Type': type,
      'Content-Disposition': `inline; filename="${name.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(doc.source)}`,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
      'Cache-Control': principal.internal ? 'private, no-store' : 'public, max-age=3600',
    });
  });

  // --- Browsing protocols: meetings, cases, bodies -----------------------------------------
  const notFound = (c: Context, what: string) =>
    html(
      c,
      ErrorPage({
        status: 404,
        title: `Fant ikke ${what}`,
        message: `${what.charAt(0).toUpperCase() + what.slice(1)} finnes ikke, eller du har ikke tilgang.`,
        principal: c.get('principal'),
      }),
      404,
    );

  app.get('/moter/:id/:idx', async (c) => {
    const idx = Number(c.req.param('idx'));
    const view = Number.isInteger(idx) && idx >= 0 ? await store.getMeeting(c.req.param('id'), idx, c.get('principal')) : null;
    if (!view) return notFound(c, 'møtet');
    const isPdf = view.source.toLowerCase().endsWith('.pdf');
    return html(c, MeetingPage({ view, isPdf, principal: c.get('principal') }));
  });

  app.get('/saker/:case', async (c) => {
    const m = /^(\d{4})-(\d{1,6})$/.exec(c.req.param('case'));
    if (!m) return notFound(c, 'saken');
    const caseNorm = `${m[1]}/${Number(m[2])}`;
    const steps = await store.getCase(caseNorm, c.get('principal'));
    if (!steps.length) return notFound(c, 'saken');
    return html(c, CasePage({ caseNorm, steps, principal: c.get('principal') }));
  });

  app.get('/utvalg/:body', async (c) => {
    const body = c.req.param('body');
    const meetings = await store.meetingsOfBody(body, c.get('principal'));
    if (!meetings.length) return notFound(c, 'utvalget');
    return html(c, BodyPage({ body, meetings, principal: c.get('principal') }));
  });

  // --- Staff: uploads, the job list, admins' document actions (server/staff.ts) -------------
  registerStaffRoutes(app, { store, dataDir: ctx.dataDir, config, queue });

  // --- Signing in with an access token (staff) ----------------------------------------------
  app.get('/logg-inn', (c) => html(c, LoginPage({ principal: c.get('principal'), error: null })));
  app.post('/logg-inn', async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    const principal = token ? lookupToken(config.tokens, token) : null;
    if (!principal) return html(c, LoginPage({ principal: PUBLIC_PRINCIPAL, error: 'Ukjent tilgangsnøkkel.' }), 401);
    setCookie(c, TOKEN_COOKIE, token, { path: '/', httpOnly: true, sameSite: 'Strict', secure: c.req.url.startsWith('https:'), maxAge: 60 * 60 * 12 });
    return c.redirect('/', 303);
  });
  app.post('/logg-ut', (c) => {
    deleteCookie(c, TOKEN_COOKIE, { path: '/' });
    return c.redirect('/', 303);
  });

  app.notFound((c) =>
    c.req.path.startsWith('/api/')
      ? c.json({ error: 'Not found' }, 404)
      : html(
          c,
          ErrorPage({
            status: 404,
            title: 'Siden finnes ikke',
            message: 'Sjekk adressen, eller gå til forsiden og søk.',
            principal: c.get('principal') ?? PUBLIC_PRINCIPAL,
          }),
          404,
        ),
  );
  app.onError((err, c) => {
    console.error(`[innsikt] ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    if (c.req.path.startsWith('/api/')) return c.json({ error: 'Internal error: see the server log' }, 500);
    return html(
      c,
      ErrorPage({
        status: 500,
        title: 'Noe gikk galt',
        message: 'En feil oppstod. Prøv igjen, eller kontakt bydelen hvis feilen vedvarer.',
        principal: c.get('principal') ?? PUBLIC_PRINCIPAL,
      }),
      500,
    );
  });

  return app;
}
