/**
 * The summary panel ("Oppsummering") of the search page, the pieces streamed into it, and its
 * page without JavaScript.
 *
 * How it streams (htmx 4.0.1): core htmx reads a response whole (`response.text()`); streaming
 * `text/event-stream` is the job of its hx-sse extension (node_modules/htmx.org/dist/ext/
 * hx-sse.js, which the search page loads). The panel's placeholder issues
 * `hx-get="/oppsummering?q=…"` shortly after load with `hx-swap="none"`; every SSE message is an
 * `<hx-partial>` that says where it goes: the first builds the text box, each text piece and
 * citation is appended to it (`beforeend`), and the last replaces the whole placeholder with
 * the checked answer (`outerHTML`), which also ends the request. Without the extension (or
 * for a plain htmx request) the route answers with that last partial alone.
 *
 * Hostile text: model output and document text are JSX text children only (escaped by
 * hono/jsx); the only links are ours (documentUrl); the text containers carry `hx-ignore`, so
 * htmx processes nothing inside them.
 */
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { Principal, SearchFilters, SearchMode } from '../indexes/types.ts';
import { EXTRACTIVE_LABEL, GENERATED_LABEL, NO_ANSWER_TEXT, NO_DIRECT_ANSWER_TEXT } from '../server/answer/labels.ts';
import { citationsJson, splitClosing } from '../server/answer/support.ts';
import type { AnswerResult, AnswerSentence, Source } from '../server/answer/types.ts';
import { documentUrl, filterLabels, filterParams, formatDate, searchUrl } from './format.tsx';
import { Layout } from './layout.tsx';

export const PANEL_ID = 'oppsummering';
export const CONTENT_ID = 'oppsummering-innhold';
export const TEXT_ID = 'oppsummering-tekst';

/** `/oppsummering?q=…` (+ `mode` when not hybrid, + the search's filters). */
export function answerUrl(q: string, mode: SearchMode = 'hybrid', filters: SearchFilters = {}): string {
  const params = [`q=${encodeURIComponent(q)}`];
  if (mode !== 'hybrid') params.push(`mode=${encodeURIComponent(mode)}`);
  params.push(...filterParams(filters));
  return `/oppsummering?${params.join('&')}`;
}

/** "Avgrenset til: Bydelsutvalget · 2024 · bare vedtak", or nothing without filters. */
function FilterLine(props: { filters: SearchFilters }) {
  const labels = filterLabels(props.filters);
  return labels.length ? <p class="oppsummering-avgrenset">Bygger på treffene avgrenset til: {labels.join(' · ')}</p> : null;
}

function pages(from: number | null, to: number | null): string | null {
  if (from == null) return null;
  return to == null || to === from ? `side ${from}` : `side ${from}–${to}`;
}

/**
 * The summary waits this long after its results are shown. While someone types, each pause of
 * the search-as-you-type (300 ms) swaps in new results and a new panel; a panel replaced within
 * this delay never asks, so a configured model is called for the query the reader stopped at,
 * not for every prefix of it.
 */
export const PANEL_DELAY = '500ms';

/** The placeholder above the results: loads the summary after the results are shown. */
export function AnswerPanel(props: { q: string; mode: SearchMode; filters?: SearchFilters }): JSX.Element {
  const url = answerUrl(props.q, props.mode, props.filters);
  return (
    <section id={PANEL_ID} class="oppsummering" aria-labelledby="oppsummering-tittel">
      <h2 id="oppsummering-tittel" class="oppsummering-tittel">
        Oppsummering
      </h2>
      <div id={CONTENT_ID} class="oppsummering-innhold" aria-busy="true" hx-get={url} hx-trigger={`load delay:${PANEL_DELAY}`} hx-swap="none">
        <p class="oppsummering-venter">
          <span class="spinner" aria-hidden="true"></span> Lager oppsummering …
        </p>
        <noscript>
          <p>
            <a href={url}>Vis oppsummering av treffene</a>
          </p>
        </noscript>
      </div>
    </section>
  );
}

/** A citation link to the cited page of the document, with the question's words marked there. */
function CitationLink(props: { source: Source; page: number | null; q: string }) {
  const { source, page, q } = props;
  const where = pages(page, page) ?? 'uten sidetall';
  return (
    <a
      class="kildehenvisning"
      href={documentUrl(source.documentId, page, q, source.chunkId)}
      title={`${source.title}, ${where}`}
      aria-label={`Kilde ${source.n}: ${source.title}, ${where}`}
    >
      [{String(source.n)}]
    </a>
  );
}

function Sentence(props: { s: AnswerSentence; byN: Map<number, Source>; q: string }) {
  const { s, byN, q } = props;
  const links = s.passages.map((p) => {
    const src = byN.get(p.n);
    return src ? <CitationLink source={src} page={p.page} q={q} /> : null;
  });
  // Citations sit before the closing full stop: "… torg [1]."
  const { body, closing } = links.length ? splitClosing(s.text) : { body: s.text, closing: '' };
  return (
    <>
      <span class={s.supported ? 'setning' : 'setning ustottet'}>{body}</span>
      {links.length ? <> {links}</> : null}
      {closing}
      {s.supported ? null : <span class="ustottet-merke">{s.citations.length ? ' (ikke støttet av kilden)' : ' (uten kilde)'}</span>}{' '}
    </>
  );
}

function paragraphsOf(sentences: AnswerSentence[]): AnswerSentence[][] {
  const out: AnswerSentence[][] = [];
  for (const s of sentences) {
    if (out.length === 0 || s.paragraph) out.push([]);
    out[out.length - 1].push(s);
  }
  return out;
}

/** The finished answer: label, notice, text with citations, source list. */
export function AnswerBody(props: { result: AnswerResult; q: string }): JSX.Element {
  const { result, q } = props;
  if (result.noAnswer) {
    return (
      <div class="oppsummering-svar" hx-ignore="">
        {result.notice ? <p class="varsel oppsummering-varsel">{result.notice}</p> : null}
        {result.about.length ? (
          <>
            <p class="oppsummering-ingen">{NO_DIRECT_ANSWER_TEXT}. Treffene handler om:</p>
            <ul class="oppsummering-om">
              {result.about.map((d) => (
                <li>
                  <a href={documentUrl(d.documentId, null, q)}>{d.title || d.source}</a>
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p class="oppsummering-ingen">{NO_ANSWER_TEXT}.</p>
        )}
      </div>
    );
  }
  const byN = new Map(result.sources.map((s) => [s.n, s]));
  const cited = citationsJson(result.sentences, result.sources);
  const unsupported = result.sentences.filter((s) => !s.supported).length;
  return (
    <div class="oppsummering-svar" hx-ignore="">
      {result.notice ? (
        <p class="varsel oppsummering-varsel" role="status">
          {result.notice}
        </p>
      ) : null}
      <p class={result.mode === 'extractive' ? 'oppsummering-merke utdrag' : 'oppsummering-merke generert'}>
        {result.mode === 'extractive' ? EXTRACTIVE_LABEL : GENERATED_LABEL}
      </p>
      <div class="oppsummering-tekst">
        {paragraphsOf(result.sentences).map((para) => (
          <p>
            {para.map((s) => (
              <Sentence s={s} byN={byN} q={q} />
            ))}
          </p>
        ))}
      </div>
      {unsupported > 0 ? (
        <p class="oppsummering-hjelp">
          {unsupported === 1 ? 'Én setning' : `${unsupported} setninger`} er merket fordi kilden ikke støtter den. Les kildene før du bruker svaret.
        </p>
      ) : null}
      {cited.length ? (
        <>
          <h3 class="kilder-tittel">Kilder</h3>
          <ol class="kildeliste">
            {cited.map((c) => {
              const src = byN.get(c.n)!;
              const meta = [src.body, formatDate(src.date), pages(c.pageStart, c.pageEnd)].filter(Boolean).join(' · ');
              return (
                <li value={String(c.n)} id={`kilde-${c.n}`}>
                  <a href={documentUrl(c.documentId, c.pageStart, q, src.chunkId)}>{c.title || c.source}</a>
                  {meta ? <span class="kilde-meta"> – {meta}</span> : null}
                  {c.supported ? null : <span class="ustottet-merke"> (kilden støtter ikke alt som viser hit)</span>}
                  <q class="kilde-sitat">{c.quote}</q>
                </li>
              );
            })}
          </ol>
        </>
      ) : null}
    </div>
  );
}

// --- The streamed pieces (each one SSE message) ------------------------------------------

function partial(target: string, swap: string, inner: string): string {
  return `<hx-partial hx-target="#${target}" hx-swap="${swap}">${inner}</hx-partial>`;
}

/** First message of a model answer: the label and the empty text box the pieces go into. */
export function streamStart(): string {
  return partial(
    CONTENT_ID,
    'innerHTML',
    String(
      <>
        <p class="oppsummering-merke generert">{GENERATED_LABEL}</p>
        <p id={TEXT_ID} class="oppsummering-tekst strommer" hx-ignore="" aria-live="off"></p>
      </>,
    ),
  );
}

/** A piece of text, appended. Escaped: model output is never markup. */
export function streamText(text: string): string {
  return partial(TEXT_ID, 'beforeend', String(<>{text}</>));
}

/** A citation, appended as our own link to the source's best page. */
export function streamCite(source: Source, q: string): string {
  return partial(TEXT_ID, 'beforeend', String(<CitationLink source={source} page={source.page} q={q} />));
}

/** Last message: the checked answer replaces the placeholder (and its pending request). */
export function streamDone(result: AnswerResult, q: string): string {
  return partial(CONTENT_ID, 'outerHTML', String(<FinishedContent>{<AnswerBody result={result} q={q} />}</FinishedContent>));
}

/** Last message when the answer failed: the results below still stand. */
export function streamError(message: string): string {
  return partial(
    CONTENT_ID,
    'outerHTML',
    String(
      <FinishedContent>
        <p class="varsel varsel-feil">{message}</p>
      </FinishedContent>,
    ),
  );
}

function FinishedContent(props: { children?: any }) {
  return (
    <div id={CONTENT_ID} class="oppsummering-innhold ferdig" aria-busy="false">
      {props.children}
    </div>
  );
}

// --- Without JavaScript ----------------------------------------------------------------------

export function AnswerPage(props: {
  q: string;
  mode: SearchMode;
  filters?: SearchFilters;
  result: AnswerResult | null;
  error: string | null;
  principal: Principal;
}): JSX.Element {
  const { q, result } = props;
  const filters = props.filters ?? {};
  return (
    <Layout title={`Oppsummering: ${q}`} principal={props.principal} q={q}>
      <div class="oppsummering-side">
        <p class="tilbake">
          <a href={searchUrl(q, props.mode, 1, filters)}>← Tilbake til søket etter «{q}»</a>
        </p>
        <section id={PANEL_ID} class="oppsummering" aria-labelledby="oppsummering-tittel">
          <h1 id="oppsummering-tittel" class="oppsummering-tittel">
            Oppsummering: «{q}»
          </h1>
          <FilterLine filters={filters} />
          <div id={CONTENT_ID} class="oppsummering-innhold ferdig">
            {props.error ? <p class="varsel varsel-feil">{props.error}</p> : result ? <AnswerBody result={result} q={q} /> : null}
          </div>
        </section>
      </div>
    </Layout>
  );
}
