/**
 * The search page and its results fragment.
 *
 * Works without JavaScript (plain GET to `/?q=…&mode=…&side=N`). With htmx 4 the input
 * searches as you type and the form, the mode select and the page links fetch only the
 * results fragment (the route answers `HX-Request: true` with <SearchResults/>) and push the
 * URL. htmx 4 does not inherit attributes implicitly, so every element that issues a request
 * carries its own hx-target / hx-push-url / hx-indicator / hx-sync.
 *
 * Browse and filter: the facets (Utvalg, År, Dokumenttype, Bare vedtak, a date range) sit
 * INSIDE #resultater, so they are swapped with the results. Facet values and chips are plain
 * links whose URL carries the whole state (q, mode, sort, filters; page reset), with the same
 * URL in hx-get. The state also travels as form-associated controls (`form="sok"`: hidden
 * inputs for the chosen bodies, kinds and sort; the "Bare vedtak" checkbox; the date fields),
 * so the search form keeps the filters when the query changes, with or without JavaScript
 * (the form's own submit uses FormData, which includes them; the input and select name them
 * in hx-include, since htmx only collects a form's descendants there).
 *
 * All document-derived strings (titles, bodies, headings, snippets, facet values) are JSX
 * text children, escaped by hono/jsx; the result list carries `hx-ignore` and facet values and
 * chips wrap their text in `hx-ignore` spans, so htmx never processes any of it (defence in
 * depth).
 */
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { DocumentGroup, GroupedResponse } from '../indexes/search.ts';
import type { Facets, FacetValue, Principal, SearchFilters, SearchHit, SearchMode } from '../indexes/types.ts';
import { AnswerPanel } from './answer.tsx';
import {
  documentUrl,
  filterParams,
  formatCount,
  formatDate,
  formatSeconds,
  kindLabel,
  MODE_LABELS,
  searchUrl,
  selectedYear,
  truncateParts,
} from './format.tsx';
import { Marked } from './highlight.tsx';
import { Layout } from './layout.tsx';
import { bodyUrl, caseUrl, outcomeText } from './protocol.tsx';

export type SortOrder = 'relevance' | 'date';

export interface SearchPageProps {
  q: string;
  mode: SearchMode;
  page: number;
  perPage: number;
  result: GroupedResponse | null;
  principal: Principal;
  error?: string | null;
  /** Relevance (default) or newest first (`sort=date`). */
  sort?: SortOrder;
  /** The filters in force (from parseFilters). */
  filters?: SearchFilters;
  /** Facet counts for the query (null: none, e.g. no query or an error). */
  facets?: Facets | null;
  /** The hits' documents read by OCR: id -> mean word confidence (null: unknown). The "OCR" badge. */
  ocr?: Record<string, number | null>;
}

export const EXAMPLE_QUERIES = ['budsjett 2025', 'lekeplass', 'Sak 45/24', 'levekår Tøyen', 'sykehjem', 'trafikksikkerhet Grønland'];

/** The id of the results container and of the loading indicator. */
const RESULTS_ID = 'resultater';
const TARGET = `#${RESULTS_ID}`;
const INDICATOR = '#laster';

/** The search form's id: filter controls inside #resultater belong to it by `form="sok"`. */
export const FORM_ID = 'sok';
/** What the search input, the mode select and the filter controls send with their request. */
const INCLUDE = `closest form, [form=${FORM_ID}]`;

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

/** A facet, chip or sort link: like htmxLink, in the search form's request queue. */
function filterLink(url: string): Record<string, string> {
  return { ...htmxLink(url), 'hx-sync': `#${FORM_ID}:replace` };
}

// --- The state in the URL ---------------------------------------------------------------

export interface SearchState {
  q: string;
  mode: SearchMode;
  sort: SortOrder;
  filters: SearchFilters;
}

export { selectedYear };

export function hasFilters(f: SearchFilters | undefined): boolean {
  return !!f && !!(f.body?.length || f.organisation?.length || f.kind?.length || f.dateFrom || f.dateTo || f.decisionsOnly);
}

/**
 * `/?q=…&mode=…&sort=date&body=…&kind=…&year=…|from=…&to=…&decisions=1&side=N`. Defaults
 * (hybrid, relevance, page 1) are left out, so without filters this is exactly searchUrl().
 */
export function stateUrl(s: SearchState, page = 1): string {
  const params: string[] = [];
  if (s.q) params.push(`q=${encodeURIComponent(s.q)}`);
  if (s.mode !== 'hybrid') params.push(`mode=${encodeURIComponent(s.mode)}`);
  if (s.sort === 'date') params.push('sort=date');
  params.push(...filterParams(s.filters));
  if (page > 1) params.push(`side=${page}`);
  return params.length ? `/?${params.join('&')}` : '/';
}

const toggle = (list: string[] | undefined, value: string): string[] => (list?.includes(value) ? list.filter((v) => v !== value) : [...(list ?? []), value]);

/** The state with one facet value switched on or off (a year replaces the date range). */
export function toggled(s: SearchState, dim: FacetDim, value: string): SearchState {
  const f: SearchFilters = { ...s.filters };
  if (dim === 'year') {
    const on = selectedYear(f) === value;
    delete f.dateFrom;
    delete f.dateTo;
    if (!on) {
      f.dateFrom = `${value}-01-01`;
      f.dateTo = `${value}-12-31`;
    }
  } else {
    f[dim] = toggle(f[dim], value);
  }
  return { ...s, filters: f };
}

/** A short, stable, safe id for a facet value (focus is restored by id after a swap). */
function valueId(prefix: string, value: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return `${prefix}-${(h >>> 0).toString(36)}`;
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

/** Items in a row with " · " between them (a separator screen readers skip). */
function Dotted(props: { items: any[] }) {
  return (
    <>
      {props.items.map((item, i) => (
        <>
          {i > 0 ? (
            <span class="skille" aria-hidden="true">
              {' '}
              ·{' '}
            </span>
          ) : null}
          {item}
        </>
      ))}
    </>
  );
}

function HitMeta(props: { hit: SearchHit }) {
  const h = props.hit;
  const items: any[] = [];
  // The body page lists meetings of protocols: link the body only for hits from an agenda item.
  if (h.body) items.push(h.item ? <a href={bodyUrl(h.body)}>{h.body}</a> : h.body);
  // Who issued it: thirty protocols of thirty municipalities read alike otherwise.
  if (h.organisation) items.push(h.organisation);
  const date = formatDate(h.date);
  if (date) items.push(date);
  const kind = kindLabel(h.kind);
  if (kind) items.push(kind);
  if (h.page != null) items.push(`side ${h.page}`);
  if (items.length === 0) return null;
  return (
    <p class="treff-meta">
      <Dotted items={items.map((text) => <span>{text}</span>)} />
    </p>
  );
}

/** "Sak 22/24" for "22/24" or "2024/22"; as written when it names itself ("Sak 12/25", "PS 3/24"). */
export function caseLabel(item: { caseId: string | null; caseIdNormalized: string | null }): string | null {
  const id = item.caseId?.trim() || item.caseIdNormalized;
  if (!id) return null;
  return /^\d/.test(id) ? `Sak ${id}` : id;
}

/** The agenda item at a glance: "Sak 22/24 · Vedtatt 9–4", then a "Vedtak" badge for a decision. */
export function ItemGlance(props: { item: NonNullable<SearchHit['item']> }) {
  const { item } = props;
  const label = caseLabel(item);
  const outcome = outcomeText(item);
  const facts: any[] = [];
  if (label)
    facts.push(
      item.caseIdNormalized ? (
        <a href={caseUrl(item.caseIdNormalized)} class="sakslenke">
          {label}
        </a>
      ) : (
        <span>{label}</span>
      ),
    );
  if (outcome) facts.push(<span class={`utfall utfall-${item.outcome ?? 'ukjent'}`}>{outcome}</span>);
  if (facts.length === 0 && !item.isDecision) return null;
  return (
    <p class="treff-sak">
      <Dotted items={facts} />
      {item.isDecision ? (
        <>
          {facts.length ? ' ' : null}
          <span class="merke-vedtak">Vedtak</span>
        </>
      ) : null}
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

/** "OCR" on a hit whose text was read from scanned pages, with the mean confidence as its title. */
function OcrBadge(props: { confidence: number | null }) {
  const c = props.confidence;
  return (
    <span class="merke-ocr" title={c != null ? `Lest med OCR, snittsikkerhet ${Math.round(c)} %` : 'Lest med OCR'}>
      OCR
      {c != null ? <span class="skjult">{` (snittsikkerhet ${Math.round(c)} %)`}</span> : null}
    </span>
  );
}

function ResultItem(props: { group: DocumentGroup; q: string; ocr?: number | null }) {
  const hit = props.group.best;
  return (
    <li class="treff">
      <h2 class="treff-tittel">
        <a href={documentUrl(hit.documentId, hit.page, props.q)}>{hit.title || hit.source || 'Uten tittel'}</a>
        {props.ocr !== undefined ? (
          <>
            {' '}
            <OcrBadge confidence={props.ocr} />
          </>
        ) : null}
      </h2>
      <HitMeta hit={hit} />
      {hit.item ? <ItemGlance item={hit.item} /> : null}
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

function Pagination(props: { state: SearchState; page: number; pages: number }) {
  const { state, page, pages } = props;
  if (pages <= 1) return null;
  const link = (n: number) => stateUrl(state, n);
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

// --- Facets, chosen filters and sorting -------------------------------------------------------

/** Facet values shown before "Vis alle". */
const FACET_SHOWN = 8;

type FacetDim = 'body' | 'organisation' | 'kind' | 'year';

function FacetLink(props: { state: SearchState; dim: FacetDim; value: FacetValue; selected: boolean; label: string }) {
  const { state, dim, value, selected, label } = props;
  const url = stateUrl(toggled(state, dim, value.value));
  return (
    <li>
      <a
        href={url}
        id={valueId(`f-${dim}`, value.value)}
        class={selected ? 'fasettverdi valgt' : 'fasettverdi'}
        aria-current={selected ? 'true' : undefined}
        {...filterLink(url)}
      >
        <span class="fasett-navn" hx-ignore="">
          {label}
        </span>
        <span class="antall">
          {formatCount(value.count)}
          <span class="skjult">{value.count === 1 ? ' dokument' : ' dokumenter'}</span>
        </span>
      </a>
    </li>
  );
}

/** One facet as a group of toggle links; chosen values first stay visible, the tail folds away. */
function FacetGroup(props: { legend: string; dim: FacetDim; values: FacetValue[]; selected: string[]; state: SearchState; label?: (v: string) => string }) {
  const chosen = new Set(props.selected);
  // A chosen value the query no longer matches is still listed (count 0), so it can be undone here too.
  const missing = [...chosen].filter((v) => !props.values.some((x) => x.value === v));
  const values = [...props.values, ...missing.map((value) => ({ value, count: 0 }))];
  if (values.length === 0) return null;
  const shown = values.filter((v, i) => i < FACET_SHOWN || chosen.has(v.value));
  const rest = values.filter((v, i) => !(i < FACET_SHOWN || chosen.has(v.value)));
  const item = (v: FacetValue) => (
    <FacetLink state={props.state} dim={props.dim} value={v} selected={chosen.has(v.value)} label={props.label ? props.label(v.value) : v.value} />
  );
  return (
    <fieldset class="fasett">
      <legend>{props.legend}</legend>
      <ul class="fasettliste">{shown.map(item)}</ul>
      {rest.length ? (
        <details class="fasett-flere">
          <summary>{`Vis alle (${values.length})`}</summary>
          <ul class="fasettliste">{rest.map(item)}</ul>
        </details>
      ) : null}
    </fieldset>
  );
}

function activeFilterCount(f: SearchFilters): number {
  return (
    (f.body?.length ?? 0) +
    (f.organisation?.length ?? 0) +
    (f.kind?.length ?? 0) +
    (selectedYear(f) ? 1 : (f.dateFrom ? 1 : 0) + (f.dateTo ? 1 : 0)) +
    (f.decisionsOnly ? 1 : 0)
  );
}

/** The filter panel: a sidebar on wide screens, a folded "Avgrens søket" on narrow ones. */
function FacetPanel(props: { state: SearchState; facets: Facets | null }) {
  const { state } = props;
  const f = state.filters;
  const facets = props.facets ?? { body: [], organisation: [], year: [], kind: [], decisions: 0 };
  const year = selectedYear(f);
  const active = activeFilterCount(f);
  const control = {
    'hx-get': '/',
    'hx-target': TARGET,
    'hx-push-url': 'true',
    'hx-indicator': INDICATOR,
    'hx-include': `#${FORM_ID}, [form=${FORM_ID}]`,
    'hx-sync': `#${FORM_ID}:replace`,
  };
  return (
    <details class="fasetter" id="avgrens">
      <summary class="fasetter-knapp">{active ? `Avgrens søket (${active} valgt)` : 'Avgrens søket'}</summary>
      <div class="fasetter-innhold">
        <h2 class="fasetter-tittel">Avgrens søket</h2>
        <FacetGroup legend="Organisasjon" dim="organisation" values={facets.organisation} selected={f.organisation ?? []} state={state} />
        <FacetGroup legend="Utvalg" dim="body" values={facets.body} selected={f.body ?? []} state={state} />
        <FacetGroup legend="År" dim="year" values={facets.year} selected={year ? [year] : []} state={state} />
        <FacetGroup legend="Dokumenttype" dim="kind" values={facets.kind} selected={f.kind ?? []} state={state} label={(k) => kindLabel(k) ?? k} />
        <fieldset class="fasett">
          <legend>Vedtak</legend>
          <div class="avkrysning">
            <input type="checkbox" id="f-vedtak" name="decisions" value="1" form={FORM_ID} checked={!!f.decisionsOnly} {...control} hx-trigger="change" />
            <label for="f-vedtak">
              Bare vedtak <span class="antall">{formatCount(facets.decisions)}</span>
              <span class="skjult">{facets.decisions === 1 ? ' dokument' : ' dokumenter'}</span>
            </label>
          </div>
          <noscript>
            <button type="submit" form={FORM_ID} class="knapp-liten">
              Bruk
            </button>
          </noscript>
        </fieldset>
        <fieldset class="fasett datoer">
          <legend>Dato</legend>
          <div class="datofelt">
            <label for="f-fra">Fra</label>
            <input type="date" id="f-fra" name="from" value={f.dateFrom ?? ''} form={FORM_ID} />
          </div>
          <div class="datofelt">
            <label for="f-til">Til</label>
            <input type="date" id="f-til" name="to" value={f.dateTo ?? ''} form={FORM_ID} />
          </div>
          {/* Submits the search form (with all filters): through htmx when it is loaded. */}
          <button type="submit" form={FORM_ID} class="knapp-liten">
            Bruk datoer
          </button>
        </fieldset>
      </div>
    </details>
  );
}

/** The chosen bodies, kinds and sort as hidden controls of the search form. */
function StateInputs(props: { state: SearchState }) {
  const { filters: f, sort } = props.state;
  return (
    <>
      {(f.body ?? []).map((b) => (
        <input type="hidden" name="body" value={b} form={FORM_ID} />
      ))}
      {(f.organisation ?? []).map((o) => (
        <input type="hidden" name="organisation" value={o} form={FORM_ID} />
      ))}
      {(f.kind ?? []).map((k) => (
        <input type="hidden" name="kind" value={k} form={FORM_ID} />
      ))}
      {sort === 'date' ? <input type="hidden" name="sort" value="date" form={FORM_ID} /> : null}
    </>
  );
}

interface Chip {
  id: string;
  label: string;
  value: string;
  remove: SearchState;
}

function chipsOf(state: SearchState): Chip[] {
  const f = state.filters;
  const without = (g: SearchFilters): SearchState => ({ ...state, filters: g });
  const out: Chip[] = [];
  for (const b of f.body ?? [])
    out.push({ id: valueId('fjern-body', b), label: 'Utvalg', value: b, remove: without({ ...f, body: f.body!.filter((x) => x !== b) }) });
  for (const o of f.organisation ?? [])
    out.push({
      id: valueId('fjern-organisation', o),
      label: 'Organisasjon',
      value: o,
      remove: without({ ...f, organisation: f.organisation!.filter((x) => x !== o) }),
    });
  for (const k of f.kind ?? [])
    out.push({ id: valueId('fjern-kind', k), label: 'Type', value: kindLabel(k) ?? k, remove: without({ ...f, kind: f.kind!.filter((x) => x !== k) }) });
  const year = selectedYear(f);
  if (year) out.push({ id: 'fjern-year', label: 'År', value: year, remove: without({ ...f, dateFrom: undefined, dateTo: undefined }) });
  else {
    if (f.dateFrom) out.push({ id: 'fjern-from', label: 'Fra', value: formatDate(f.dateFrom) ?? f.dateFrom, remove: without({ ...f, dateFrom: undefined }) });
    if (f.dateTo) out.push({ id: 'fjern-to', label: 'Til', value: formatDate(f.dateTo) ?? f.dateTo, remove: without({ ...f, dateTo: undefined }) });
  }
  if (f.decisionsOnly) out.push({ id: 'fjern-decisions', label: '', value: 'Bare vedtak', remove: without({ ...f, decisionsOnly: undefined }) });
  return out;
}

/** The chosen filters as removable chips, and "Fjern alle filtre". */
function ChosenFilters(props: { state: SearchState }) {
  const chips = chipsOf(props.state);
  if (chips.length === 0) return null;
  const none = stateUrl({ ...props.state, filters: {} });
  return (
    <div class="valgte-filtre">
      <h2 class="skjult">Valgte filtre</h2>
      <ul>
        {chips.map((c) => {
          const url = stateUrl(c.remove);
          return (
            <li>
              <a href={url} id={c.id} class="brikke" title="Fjern filter" {...filterLink(url)}>
                <span class="skjult">Fjern filter: </span>
                {c.label ? (
                  <>
                    <span class="brikke-etikett">{c.label}</span>{' '}
                  </>
                ) : null}
                <span class="brikke-verdi" hx-ignore="">
                  {c.value}
                </span>
                <span class="brikke-kryss" aria-hidden="true">
                  ×
                </span>
              </a>
            </li>
          );
        })}
      </ul>
      {chips.length > 1 ? (
        <a href={none} class="fjern-alle" {...filterLink(none)}>
          Fjern alle filtre
        </a>
      ) : null}
    </div>
  );
}

function SortChoice(props: { state: SearchState }) {
  const { state } = props;
  const option = (sort: SortOrder, text: string) => {
    const url = stateUrl({ ...state, sort });
    const current = state.sort === sort;
    return (
      <li>
        <a href={url} id={`sorter-${sort}`} aria-current={current ? 'true' : undefined} {...filterLink(url)}>
          {text}
        </a>
      </li>
    );
  };
  return (
    <div class="sortering" role="group" aria-labelledby="sorter-tittel">
      <span id="sorter-tittel">Sorter:</span>
      <ul>
        {option('relevance', 'Relevans')}
        {option('date', 'Nyeste først')}
      </ul>
    </div>
  );
}

function Intro() {
  return (
    <div class="intro">
      <p>Søk i møteprotokoller, saksprotokoller og innsiktsrapporter fra Bydel Gamle Oslo. Du kan søke på tema, steder, utvalg eller saksnummer.</p>
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

function NoHits(props: { state: SearchState }) {
  const { state } = props;
  const filtered = hasFilters(state.filters);
  const unfiltered = stateUrl({ ...state, filters: {} });
  const hybrid = stateUrl({ ...state, mode: 'hybrid' });
  return (
    <div class="ingen-treff">
      <p class="ingen-treff-melding">Noen tips:</p>
      <ul class="tips">
        {filtered ? (
          <li>
            <a href={unfiltered} {...filterLink(unfiltered)}>
              Søk uten filtrene
            </a>{' '}
            – de valgte filtrene kan utelukke treffene.
          </li>
        ) : null}
        <li>Sjekk stavemåten.</li>
        <li>Prøv færre eller andre ord, for eksempel et sted, et utvalg eller et saksnummer («Sak 45/24»).</li>
        {state.mode !== 'hybrid' ? (
          <li>
            Prøv <a href={hybrid}>kombinert søk</a> i stedet for søkemetoden {`«${MODE_LABELS[state.mode]}»`}.
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
  const state: SearchState = { q, mode: p.mode, sort: p.sort ?? 'relevance', filters: p.filters ?? {} };
  const filtered = hasFilters(state.filters);

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
    body = <NoHits state={state} />;
  } else if (result.groups.length === 0) {
    const first = stateUrl(state, 1);
    body = (
      <div class="ingen-treff">
        <p>
          Det finnes ikke flere treff på side {String(p.page)}.{' '}
          <a href={first} {...htmxLink(first)}>
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
        {/* The summary draws on the same filtered results (/oppsummering takes the filters too). */}
        {p.page === 1 ? <AnswerPanel q={q} mode={p.mode} filters={state.filters} /> : null}
        <ol class="treffliste" start={start} hx-ignore="">
          {result.groups.map((group) => (
            <ResultItem group={group} q={q} ocr={p.ocr && Object.hasOwn(p.ocr, group.best.documentId) ? p.ocr[group.best.documentId] : undefined} />
          ))}
        </ol>
        <Pagination state={state} page={p.page} pages={pages} />
      </>
    );
  }

  const browsing = hasQuery && !p.error;
  const facets = p.facets ?? null;
  const anyFacet =
    !!facets && (facets.body.length > 0 || facets.organisation.length > 0 || facets.year.length > 0 || facets.kind.length > 0 || facets.decisions > 0);
  const panel = browsing && (anyFacet || filtered);
  const showSort = browsing && (state.sort === 'date' || (result?.totalDocuments ?? 0) > 1);
  const tools =
    browsing && (filtered || showSort) ? (
      <div class="verktoylinje">
        <ChosenFilters state={state} />
        {showSort ? <SortChoice state={state} /> : null}
      </div>
    ) : null;

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
      {browsing ? <StateInputs state={state} /> : null}
      {panel ? (
        <div class="resultat-oppsett">
          <FacetPanel state={state} facets={facets} />
          <div class="resultat-hoved">
            {tools}
            {body}
          </div>
        </div>
      ) : (
        <>
          {tools}
          {body}
        </>
      )}
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
    <form action="/" method="get" role="search" class="sokeskjema" id={FORM_ID} {...common} hx-sync="this:replace">
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
          hx-include={INCLUDE}
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
          <select id="mode" name="mode" {...common} hx-trigger="change" hx-include={INCLUDE} hx-sync="closest form:replace">
            {(Object.keys(MODE_LABELS) as SearchMode[]).map((m) => (
              <option value={m} selected={m === p.mode}>
                {MODE_LABELS[m]}
              </option>
            ))}
          </select>
          <p class="hjelp">
            Kombinert gir best treff i de fleste tilfeller. Nøkkelord finner eksakte ord og saksnummer. Semantisk finner tekst om samme tema, også med andre
            ord.
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
