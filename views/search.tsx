/**
 * The search page and its results fragment.
 *
 * Works without JavaScript (plain GET to `/?q=…&mode=…&side=N`). With htmx 4 the input
 * searches as you type and the form, the mode select and the page links fetch only the
 * results fragment (the route answers `HX-Request: true` with <SearchResults/>) and push the
 * URL. htmx 4 does not inherit attributes implicitly, so every element that issues a request
 * carries its own hx-target / hx-push-url / hx-indicator / hx-sync.
 *
 * All document-derived strings (titles, bodies, headings, snippets) are JSX text children,
 * escaped by hono/jsx, and the result list carries `hx-ignore` so htmx never processes
 * anything inside it (defence in depth).
 */
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { GroupedResponse, DocumentGroup } from '../indexes/search.ts';
import type { Principal, SearchHit, SearchMode } from '../indexes/types.ts';
import { Layout } from './layout.tsx';
import { AnswerPanel } from './answer.tsx';
import { Marked } from './highlight.tsx';
import {
  MODE_LABELS,
  documentUrl,
  formatCount,
  formatDate,
  formatSeconds,
  kindLabel,
  searchUrl,
  truncateParts,
} from './format.tsx';

export interface SearchPageProps {
  q: string;
  mode: SearchMode;
  page: number;
  perPage: number;
  result: GroupedResponse | null;
  principal: Principal;
  error?: string | null;
}

export const EXAMPLE_QUERIES = [
  'budsjett 2025',
  'lekeplass',
  'Sak 45/24',
  'levekår Tøyen',
  'sykehjem',
  'trafikksikkerhet Grønland',
];

/** The id of the results container and of the loading indicator. */
const RESULTS_ID = 'resultater';
const TARGET = `#${RESULTS_ID}`;
const INDICATOR = '#laster';

/** htmx attributes for a link that loads another results page into #resultater. */
function htmxLink(url: string): Record<string, string> {
  return {
    'hx-get': url,
    'hx-target': TARGET,
    'hx-swap': 'innerHTML show:top',
    'hx-push-url': 'true',
    'hx-indicator': INDICATOR,
  };
}

export function totalPages(totalDocuments: number, perPage: number): number {
  const per = perPage > 0 ? perPage : 10;
  return Math.max(0, Math.ceil(totalDocuments / per));
}

function quoted(q: string): string {
  return `«${q.trim()}»`;
}

function documentCount(n: number): string {
  return `${formatCount(n)} ${n === 1 ? 'dokument' : 'dokumenter'}`;
}

// --- Pieces of the result list -------------------------------------------------------------

function HitMeta(props: { hit: SearchHit }) {
  const h = props.hit;
  const items: string[] = [];
  if (h.body) items.push(h.body);
  const date = formatDate(h.date);
  if (date) items.push(date);
  const kind = kindLabel(h.kind);
  if (kind) items.push(kind);
  if (h.page != null) items.push(`side ${h.page}`);
  if (items.length === 0) return null;
  return (
    <p class="treff-meta">
      {items.map((text, i) => (
        <>
          {i > 0 ? <span class="skille" aria-hidden="true"> · </span> : null}
          <span>{text}</span>
        </>
      ))}
    </p>
  );
}

function MoreFromDocument(props: { group: DocumentGroup; q: string }) {
  const { group, q } = props;
  if (group.more.length === 0) return null;
  return (
    <div class="mer">
      <p class="mer-tittel">Mer fra dette dokumentet</p>
      <ul>
        {group.more.map((hit) => (
          <li>
            <a href={documentUrl(hit.documentId, hit.page, q)}>{hit.page != null ? `Side ${hit.page}` : 'Tekst'}</a>
            {': '}
            <span class="mer-utdrag">
              <Marked parts={truncateParts(hit.snippetParts, 110)} />
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function ResultItem(props: { group: DocumentGroup; q: string }) {
  const hit = props.group.best;
  return (
    <li class="treff">
      <h2 class="treff-tittel">
        <a href={documentUrl(hit.documentId, hit.page, props.q)}>{hit.title || hit.source || 'Uten tittel'}</a>
      </h2>
      <HitMeta hit={hit} />
      {hit.heading ? <p class="treff-overskrift">{hit.heading}</p> : null}
      <p class="treff-utdrag">
        <Marked parts={hit.snippetParts.length ? hit.snippetParts : [{ text: hit.snippet, hit: false }]} />
      </p>
      <MoreFromDocument group={props.group} q={props.q} />
    </li>
  );
}

/** Page numbers to show: first, last, and two either side of the current page; null = gap. */
export function pageWindow(current: number, total: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let n = 1; n <= total; n++) {
    if (n === 1 || n === total || Math.abs(n - current) <= 2) out.push(n);
    else if (out[out.length - 1] !== null) out.push(null);
  }
  return out;
}

function Pagination(props: { q: string; mode: SearchMode; page: number; pages: number }) {
  const { q, mode, page, pages } = props;
  if (pages <= 1) return null;
  const link = (n: number) => searchUrl(q, mode, n);
  return (
    <nav class="sidevelger" aria-label="Sider i søkeresultatet">
      <ul>
        {page > 1 ? (
          <li>
            <a href={link(page - 1)} rel="prev" class="forrige" {...htmxLink(link(page - 1))}>
              Forrige
            </a>
          </li>
        ) : null}
        {pageWindow(page, pages).map((n) =>
          n === null ? (
            <li class="gap" aria-hidden="true">
              …
            </li>
          ) : n === page ? (
            <li>
              <a href={link(n)} aria-current="page" aria-label={`Side ${n}, gjeldende side`} {...htmxLink(link(n))}>
                {String(n)}
              </a>
            </li>
          ) : (
            <li>
              <a href={link(n)} aria-label={`Side ${n}`} {...htmxLink(link(n))}>
                {String(n)}
              </a>
            </li>
          ),
        )}
        {page < pages ? (
          <li>
            <a href={link(page + 1)} rel="next" class="neste" {...htmxLink(link(page + 1))}>
              Neste
            </a>
          </li>
        ) : null}
      </ul>
    </nav>
  );
}

function Intro() {
  return (
    <div class="intro">
      <p>
        Søk i møteprotokoller, saksprotokoller og innsiktsrapporter fra Bydel Gamle Oslo. Du kan søke på tema, steder,
        utvalg eller saksnummer.
      </p>
      <p class="eksempler-tittel">Eksempler:</p>
      <ul class="eksempler">
        {EXAMPLE_QUERIES.map((example) => (
          <li>
            <a href={searchUrl(example)}>{example}</a>
          </li>
        ))}
      </ul>
    </div>
  );
}

function NoHits(props: { q: string; mode: SearchMode }) {
  return (
    <div class="ingen-treff">
      <p class="ingen-treff-melding">Noen tips:</p>
      <ul class="tips">
        <li>Sjekk stavemåten.</li>
        <li>Prøv færre eller andre ord, for eksempel et sted, et utvalg eller et saksnummer («Sak 45/24»).</li>
        {props.mode !== 'hybrid' ? (
          <li>
            Prøv <a href={searchUrl(props.q, 'hybrid')}>kombinert søk</a> i stedet for søkemetoden{' '}
            {`«${MODE_LABELS[props.mode]}»`}.
          </li>
        ) : null}
      </ul>
    </div>
  );
}

// --- Exports -------------------------------------------------------------------------------

/** ONLY the inner content of #resultater: returned alone for htmx requests. */
export function SearchResults(p: SearchPageProps): JSX.Element {
  const q = p.q ?? '';
  const hasQuery = q.trim() !== '';
  const result = p.result;
  const pages = result ? totalPages(result.totalDocuments, p.perPage) : 0;

  let status = '';
  if (p.error) status = 'Søket kunne ikke gjennomføres.';
  else if (hasQuery && result && result.totalDocuments > 0) {
    status = `${documentCount(result.totalDocuments)} for ${quoted(q)}`;
    if (pages > 1) status += `, side ${p.page} av ${pages}`;
  } else if (hasQuery) status = `Ingen treff for ${quoted(q)}`;

  let body: any;
  if (p.error) {
    body = (
      <div class="varsel varsel-feil" role="alert">
        {p.error}
      </div>
    );
  } else if (!hasQuery) {
    body = <Intro />;
  } else if (!result || result.totalDocuments === 0) {
    body = <NoHits q={q} mode={p.mode} />;
  } else if (result.groups.length === 0) {
    body = (
      <div class="ingen-treff">
        <p>
          Det finnes ikke flere treff på side {String(p.page)}.{' '}
          <a href={searchUrl(q, p.mode, 1)} {...htmxLink(searchUrl(q, p.mode, 1))}>
            Gå til første side
          </a>
          .
        </p>
      </div>
    );
  } else {
    const start = (Math.max(1, p.page) - 1) * (p.perPage > 0 ? p.perPage : 10) + 1;
    body = (
      <>
        {p.page === 1 ? <AnswerPanel q={q} mode={p.mode} /> : null}
        <ol class="treffliste" start={start} hx-ignore="">
          {result.groups.map((group) => (
            <ResultItem group={group} q={q} />
          ))}
        </ol>
        <Pagination q={q} mode={p.mode} page={p.page} pages={pages} />
      </>
    );
  }

  return (
    <>
      <div class={status ? 'resultat-status' : 'resultat-status tom'}>
        <p id="sokestatus" role="status" aria-live="polite">
          {status}
        </p>
        {hasQuery && result && !p.error ? (
          <p class="soketid">
            {MODE_LABELS[result.mode] ?? MODE_LABELS[p.mode]} · {formatSeconds(result.tookMs)}
          </p>
        ) : null}
      </div>
      {body}
    </>
  );
}

export function SearchForm(p: { q: string; mode: SearchMode }) {
  // Shared by the form, the input and the select: the one results target and one request
  // queue (the form's), where a newer request replaces an older one still in flight.
  const common = {
    'hx-get': '/',
    'hx-target': TARGET,
    'hx-push-url': 'true',
    'hx-indicator': INDICATOR,
  };
  return (
    <form action="/" method="get" role="search" class="sokeskjema" {...common} hx-sync="this:replace">
      <label for="q" class="sokeetikett">
        Søk i protokoller og rapporter
      </label>
      <div class="sokefelt">
        <input
          type="search"
          id="q"
          name="q"
          value={p.q}
          placeholder="f.eks. lekeplass Tøyenparken eller Sak 45/24"
          autocomplete="off"
          spellcheck={false}
          aria-describedby="sokestatus"
          {...common}
          hx-trigger="input changed delay:300ms, search"
          hx-include="closest form"
          hx-sync="closest form:replace"
        />
        <button type="submit">Søk</button>
        <span id="laster" class="htmx-indicator laster" aria-hidden="true">
          <span class="spinner"></span>
          Søker …
        </span>
      </div>
      <details class="avansert" open={p.mode !== 'hybrid'}>
        <summary>Avansert</summary>
        <div class="avansert-innhold">
          <label for="mode">Søkemetode</label>
          <select
            id="mode"
            name="mode"
            {...common}
            hx-trigger="change"
            hx-include="closest form"
            hx-sync="closest form:replace"
          >
            {(Object.keys(MODE_LABELS) as SearchMode[]).map((m) => (
              <option value={m} selected={m === p.mode}>
                {MODE_LABELS[m]}
              </option>
            ))}
          </select>
          <p class="hjelp">
            Kombinert gir best treff i de fleste tilfeller. Nøkkelord finner eksakte ord og saksnummer. Semantisk finner
            tekst om samme tema, også med andre ord.
          </p>
        </div>
      </details>
    </form>
  );
}

export function SearchPage(p: SearchPageProps): JSX.Element {
  const title = p.q.trim() ? `Søk: ${p.q.trim()}` : 'Søk';
  return (
    <Layout title={title} principal={p.principal}>
      <div class="sokeside">
        <h1 class="sidetittel">Finn vedtak, saker og innsikt</h1>
        <SearchForm q={p.q} mode={p.mode} />
        <section id={RESULTS_ID} class="resultater" aria-label="Søkeresultater">
          <SearchResults {...p} />
        </section>
      </div>
      {/* htmx's SSE extension streams the summary panel (views/answer.tsx); after htmx itself. */}
      <script src="/static/hx-sse.js" defer></script>
    </Layout>
  );
}
