import { describe, expect, it } from 'vitest';
import type { GroupedResponse } from '../indexes/search.ts';
import type { StoredDocument } from '../indexes/store.ts';
import type { Facets } from '../indexes/types.ts';
import { type Principal, PUBLIC_PRINCIPAL, type SearchHit } from '../indexes/types.ts';
import { DocumentPage, paragraphs } from '../views/document.tsx';
import { ErrorPage } from '../views/errors.tsx';
import { documentUrl, fileUrl, formatDate, formatSeconds, searchUrl, truncateParts } from '../views/format.tsx';
import { highlightParts, stemsFor } from '../views/highlight.tsx';
import { Layout } from '../views/layout.tsx';
import { caseLabel, pageWindow, SearchPage, type SearchPageProps, SearchResults, type SearchState, selectedYear, stateUrl, toggled } from '../views/search.tsx';

const INTERNAL: Principal = { id: 'ansatt', internal: true, groups: [] };
const EVIL_TITLE = 'Protokoll <script>alert(1)</script>';
const EVIL_SNIPPET = '<div hx-get="/admin">';

/** hono/jsx elements render with toString(); our components are synchronous. */
function render(el: unknown): string {
  const s = String(el);
  expect(typeof s).toBe('string');
  expect(s).not.toContain('[object Promise]');
  return s;
}

function hit(over: Partial<SearchHit> = {}): SearchHit {
  return {
    documentId: 'bu-2024-03-14',
    chunkId: 'bu-2024-03-14:3',
    title: 'Møteprotokoll Bydelsutvalget 14. mars 2024',
    source: 'bu-2024-03-14.pdf',
    organisation: null,
    kind: 'møteprotokoll',
    body: 'Bydelsutvalget',
    date: '2024-03-14',
    access: 'public',
    pageStart: 3,
    pageEnd: 4,
    page: 3,
    score: 0.03,
    snippet: 'Ny lekeplass i Tøyenparken',
    snippetParts: [
      { text: 'Ny ', hit: false },
      { text: 'lekeplass', hit: true },
      { text: ' i Tøyenparken', hit: false },
    ],
    heading: 'Sak 45/24 Lekeplass i Tøyenparken',
    ...over,
  };
}

function result(over: Partial<GroupedResponse> = {}): GroupedResponse {
  return { query: 'lekeplass', mode: 'hybrid', tookMs: 12.3, totalDocuments: 1, groups: [{ best: hit(), more: [] }], ...over };
}

function props(over: Partial<SearchPageProps> = {}): SearchPageProps {
  return { q: 'lekeplass', mode: 'hybrid', page: 1, perPage: 10, result: result(), principal: PUBLIC_PRINCIPAL, error: null, ...over };
}

function doc(over: Partial<StoredDocument> = {}): StoredDocument {
  return {
    id: 'bu-2024-03-14',
    title: 'Møteprotokoll Bydelsutvalget',
    source: 'bu-2024-03-14.pdf',
    organisation: null,
    kind: 'møteprotokoll',
    body: 'Bydelsutvalget',
    date: '2024-03-14',
    access: 'public',
    pageCount: 3,
    chunkCount: 5,
    sha256: 'abc',
    mediaType: 'application/pdf',
    paged: true,
    caseNumbers: ['45/24'],
    groups: [],
    ingestedAt: '2024-04-01T10:00:00Z',
    pages: [
      { num: 1, text: 'Innkalling og saksliste.\nGodkjenning av protokoll.' },
      { num: 2, text: 'Sak 44/24 Budsjett.\n\nVedtak: enstemmig.' },
      { num: 3, text: 'Sak 45/24 Ny lekeplass i Tøyenparken.\n\nLekeplassen skal rustes opp.' },
    ],
    ...over,
  };
}

describe('Layout', () => {
  it('is a full page in Norwegian with title, stylesheet, htmx and the access badge', () => {
    const html = render(
      <Layout title="Søk" principal={PUBLIC_PRINCIPAL}>
        <p>Hei</p>
      </Layout>,
    );
    expect(html.startsWith('<html lang="nb">')).toBe(true);
    expect(html).not.toContain('<!DOCTYPE');
    expect(html).toContain('<meta charset="utf-8"/>');
    expect(html).toContain('name="viewport"');
    expect(html).toContain('<title>Søk – Innsiktsbanken</title>');
    expect(html).toContain('<link rel="stylesheet" href="/static/style.css"/>');
    expect(html).toMatch(/<script src="\/static\/htmx.js" defer(="")?><\/script>/);
    expect(html).toMatch(/<a href="\/" class="produkt">Innsiktsbanken<\/a>/);
    expect(html).toContain('Bydel Gamle Oslo – møteprotokoller og innsiktsrapporter');
    expect(html).toContain('Offentlig innsyn');
    expect(html).not.toContain('Intern tilgang');
    expect(html).toContain('href="#innhold"');
    expect(html).toContain('Hopp til innhold');
    expect(html).toMatch(/<main id="innhold"/);
    expect(html).toContain('<header');
    expect(html).toContain('<p>Hei</p>');
  });

  it('shows "Intern tilgang" for an internal principal', () => {
    const html = render(<Layout title="X" principal={INTERNAL} />);
    expect(html).toContain('Intern tilgang');
    expect(html).not.toContain('Offentlig innsyn');
  });

  it('escapes the title', () => {
    const html = render(<Layout title={EVIL_TITLE} principal={PUBLIC_PRINCIPAL} />);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; – Innsiktsbanken</title>');
  });
});

describe('SearchPage', () => {
  it('has a search form that works without JavaScript', () => {
    const html = render(SearchPage(props({ q: '', result: null })));
    expect(html).toContain('lang="nb"');
    expect(html).toMatch(/<form action="\/" method="get" role="search"/);
    expect(html).toMatch(/<input type="search" id="q" name="q" value=""/);
    expect(html).toContain('<label for="q" class="sokeetikett">Søk i protokoller og rapporter</label>');
    expect(html).toMatch(/<button type="submit">Søk<\/button>/);
    expect(html).toMatch(/<details class="avansert"><summary>Avansert<\/summary>/);
    expect(html).toContain('<select id="mode" name="mode"');
    expect(html).toContain('<option value="hybrid" selected="">Kombinert</option>');
    expect(html).toContain('<option value="bm25">Nøkkelord</option>');
    expect(html).toContain('<option value="vector">Semantisk</option>');
    expect(html).toContain('<section id="resultater"');
  });

  it('carries the htmx 4 attributes on every element that issues a request', () => {
    const html = render(SearchPage(props({ q: '', result: null })));
    const input = html.match(/<input type="search" id="q"[^>]*>/)![0];
    expect(input).toContain('hx-get="/"');
    expect(input).toContain('hx-trigger="input changed delay:300ms, search"');
    expect(input).toContain('hx-target="#resultater"');
    // The form's own fields and the filter controls inside #resultater that belong to it (form="sok").
    expect(input).toContain('hx-include="closest form, [form=sok]"');
    expect(input).toContain('hx-push-url="true"');
    const form = html.match(/<form action="\/"[^>]*>/)![0];
    expect(form).toContain('hx-get="/"');
    expect(form).toContain('hx-target="#resultater"');
    expect(form).toContain('hx-push-url="true"');
    expect(html).toContain('id="laster" class="htmx-indicator');
    // htmx 2 names that mean something else in htmx 4 are not used.
    expect(html).not.toContain('hx-disable');
  });

  it('keeps the query and mode in the form and opens "Avansert" for a non-default mode', () => {
    const html = render(SearchPage(props({ q: 'levekår "Tøyen"', mode: 'vector' })));
    expect(html).toContain('value="levekår &quot;Tøyen&quot;"');
    expect(html).toContain('<details class="avansert" open="">');
    expect(html).toContain('<option value="vector" selected="">Semantisk</option>');
    expect(html).toContain('<title>Søk: levekår &quot;Tøyen&quot; – Innsiktsbanken</title>');
  });
});

describe('SearchResults', () => {
  it('is only the inner content of #resultater', () => {
    const html = render(SearchResults(props()));
    expect(html).not.toContain('<html');
    expect(html).not.toContain('<form');
    expect(html).not.toContain('id="resultater"');
    expect(html).toContain('role="status" aria-live="polite"');
  });

  it('shows the intro with example links when nothing is typed', () => {
    const html = render(SearchResults(props({ q: '', result: null })));
    expect(html).toContain('href="/?q=budsjett%202025"');
    expect(html).toContain('href="/?q=Sak%2045%2F24"');
    expect(html).toContain('href="/?q=lekeplass"');
    expect((html.match(/<li><a href="\/\?q=/g) ?? []).length).toBeGreaterThanOrEqual(4);
  });

  it('shows an error in an alert box', () => {
    const html = render(SearchResults(props({ error: 'Ugyldig søkeparameter <b>x</b>', result: null })));
    expect(html).toMatch(/role="alert">Ugyldig søkeparameter &lt;b&gt;x&lt;\/b&gt;</);
  });

  it('shows the no-hits message with tips', () => {
    const html = render(SearchResults(props({ q: 'xyzzy', result: result({ query: 'xyzzy', totalDocuments: 0, groups: [] }) })));
    expect(html).toContain('Ingen treff for «xyzzy»');
    expect((html.match(/Ingen treff/g) ?? []).length).toBe(1);
    expect(html).toContain('Sjekk stavemåten');
    expect(html).toContain('færre eller andre ord');
    expect(html).not.toContain('<ol');
  });

  it('lists hits with link, metadata, heading, marked snippet, status and time', () => {
    const html = render(SearchResults(props({ result: result({ totalDocuments: 23 }) })));
    expect(html).toContain('23 dokumenter for «lekeplass»');
    expect(html).toContain('0,012 s');
    expect(html).toContain('<ol class="treffliste" start="1" hx-ignore="">');
    expect(html).toContain('href="/documents/bu-2024-03-14?side=3&amp;q=lekeplass#side-3"');
    expect(html).toContain('<span>Bydelsutvalget</span>');
    expect(html).toContain('<span>14. mars 2024</span>');
    expect(html).toContain('<span>Møteprotokoll</span>');
    expect(html).toContain('<span>side 3</span>');
    expect(html).toContain('<p class="treff-overskrift">Sak 45/24 Lekeplass i Tøyenparken</p>');
    expect(html).toContain('<p class="treff-utdrag">Ny <mark>lekeplass</mark> i Tøyenparken</p>');
  });

  it('says "1 dokument" in the singular', () => {
    const html = render(SearchResults(props()));
    expect(html).toContain('1 dokument for «lekeplass»');
  });

  it('leaves out side and anchor when the hit has no page, and encodes ids and queries', () => {
    const best = hit({ documentId: 'a/b c', page: null, date: null });
    const html = render(SearchResults(props({ q: 'vei & bro', result: result({ groups: [{ best, more: [] }] }) })));
    expect(html).toContain('href="/documents/a%2Fb%20c?q=vei%20%26%20bro"');
    expect(html).not.toContain('#side-');
    expect(html).not.toMatch(/<span>side /);
  });

  it('escapes hostile titles, headings and snippets', () => {
    const best = hit({
      title: EVIL_TITLE,
      heading: '<img src=x onerror=alert(1)>',
      snippetParts: [
        { text: EVIL_SNIPPET + ' om ', hit: false },
        { text: '<script>alert(1)</script>', hit: true },
      ],
    });
    const more = [
      hit({
        page: 7,
        snippetParts: [
          { text: EVIL_SNIPPET, hit: false },
          { text: 'lekeplass', hit: true },
        ],
      }),
    ];
    const html = render(SearchResults(props({ result: result({ groups: [{ best, more }] }) })));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<div hx-get');
    expect(html).not.toContain('hx-get="/admin"');
    expect(html).not.toContain('<img');
    expect(html).toContain('Protokoll &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;div hx-get=&quot;/admin&quot;&gt;');
    expect(html).toContain('<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('wraps every hit part in <mark> and nothing else', () => {
    const best = hit({
      snippetParts: [
        { text: '… om ', hit: false },
        { text: 'lekeplassen', hit: true },
        { text: ' ved ', hit: false },
        { text: 'lekeplass', hit: true },
        { text: ' …', hit: false },
      ],
    });
    const html = render(SearchResults(props({ result: result({ groups: [{ best, more: [] }] }) })));
    expect(html).toContain('… om <mark>lekeplassen</mark> ved <mark>lekeplass</mark> …');
    expect((html.match(/<mark>/g) ?? []).length).toBe(2);
  });

  it('links "Mer fra dette dokumentet" to the other pages', () => {
    const more = [hit({ chunkId: 'x:7', page: 7 }), hit({ chunkId: 'x:9', page: 9 })];
    const html = render(SearchResults(props({ result: result({ groups: [{ best: hit(), more }] }) })));
    expect(html).toContain('Mer fra dette dokumentet');
    expect(html).toContain('href="/documents/bu-2024-03-14?side=7&amp;q=lekeplass#side-7">Side 7</a>');
    expect(html).toContain('href="/documents/bu-2024-03-14?side=9&amp;q=lekeplass#side-9">Side 9</a>');
  });

  it('paginates: page 2 of 3', () => {
    const groups = Array.from({ length: 10 }, (_, i) => ({ best: hit({ documentId: `d${i}` }), more: [] }));
    const html = render(SearchResults(props({ mode: 'bm25', page: 2, result: result({ mode: 'bm25', totalDocuments: 25, groups }) })));
    expect(html).toContain('25 dokumenter for «lekeplass», side 2 av 3');
    expect(html).toContain('<ol class="treffliste" start="11"');
    const nav = html.match(/<nav class="sidevelger"[\s\S]*?<\/nav>/)![0];
    expect(nav).toContain('aria-label="Sider i søkeresultatet"');
    expect(nav).toMatch(/<a href="\/\?q=lekeplass&amp;mode=bm25" rel="prev"[^>]*>Forrige<\/a>/);
    expect(nav).toMatch(/<a href="\/\?q=lekeplass&amp;mode=bm25&amp;side=3" rel="next"[^>]*>Neste<\/a>/);
    expect(nav).toMatch(/<a href="\/\?q=lekeplass&amp;mode=bm25&amp;side=2" aria-current="page"/);
    expect(nav).toMatch(/<a href="\/\?q=lekeplass&amp;mode=bm25" aria-label="Side 1"/);
    expect(nav).toMatch(/<a href="\/\?q=lekeplass&amp;mode=bm25&amp;side=3" aria-label="Side 3"/);
    // Every page link also works through htmx.
    const links = nav.match(/<a [^>]*>/g)!;
    expect(links.length).toBe(5);
    for (const a of links) {
      const href = a.match(/href="([^"]*)"/)![1];
      expect(a).toContain(`hx-get="${href}"`);
      expect(a).toContain('hx-target="#resultater"');
      expect(a).toContain('hx-push-url="true"');
    }
  });

  it('has no Forrige on the first page, no Neste on the last, and no nav for one page', () => {
    const first = render(SearchResults(props({ page: 1, result: result({ totalDocuments: 25 }) })));
    expect(first).not.toContain('Forrige');
    expect(first).toContain('Neste');
    const last = render(SearchResults(props({ page: 3, result: result({ totalDocuments: 25 }) })));
    expect(last).toContain('Forrige');
    expect(last).not.toContain('Neste');
    const one = render(SearchResults(props({ page: 1, result: result({ totalDocuments: 10 }) })));
    expect(one).not.toContain('sidevelger');
  });

  it('collapses long page ranges', () => {
    expect(pageWindow(1, 3)).toEqual([1, 2, 3]);
    expect(pageWindow(6, 20)).toEqual([1, null, 4, 5, 6, 7, 8, null, 20]);
    expect(pageWindow(1, 10)).toEqual([1, 2, 3, null, 10]);
  });

  it('explains a page past the end', () => {
    const html = render(SearchResults(props({ page: 9, result: result({ totalDocuments: 3, groups: [] }) })));
    expect(html).toContain('Det finnes ikke flere treff på side 9.');
    expect(html).toContain('href="/?q=lekeplass"');
  });
});

describe('browse and filter (facets, chips, sorting)', () => {
  const EVIL_BODY = '<script>alert(1)</script>"&\'';
  function facets(over: Partial<Facets> = {}): Facets {
    return {
      body: [
        { value: 'Bydelsutvalget', count: 5 },
        { value: 'Eldrerådet', count: 2 },
      ],
      year: [
        { value: '2025', count: 1 },
        { value: '2024', count: 10 },
      ],
      kind: [
        { value: 'møteprotokoll', count: 9 },
        { value: 'innsiktsrapport', count: 1 },
      ],
      organisation: [],
      decisions: 4,
      ...over,
    };
  }
  const links = (html: string) => [...html.matchAll(/<a [^>]*>/g)].map((m) => m[0]);
  const hrefOf = (a: string) => a.match(/href="([^"]*)"/)![1].replace(/&amp;/g, '&');
  const panelOf = (html: string) => html.match(/<details class="fasetter"[\s\S]*?<\/details>\s*<div class="resultat-hoved">/)![0];

  it('offers the issuing organisation as a facet, a chip and a hidden control of the form', () => {
    const orgs = facets({
      organisation: [
        { value: 'Bydel Grünerløkka', count: 3 },
        { value: EVIL_BODY, count: 1 },
      ],
    });
    const panel = panelOf(render(SearchResults(props({ result: result({ totalDocuments: 4 }), facets: orgs }))));
    expect(panel).toContain('<legend>Organisasjon</legend>');
    expect(panel).toMatch(
      /href="\/\?q=lekeplass&amp;organisation=Bydel%20Gr%C3%BCnerl%C3%B8kka"[^>]*><span class="fasett-navn" hx-ignore="">Bydel Grünerløkka<\/span><span class="antall">3/,
    );
    expect(panel).not.toContain('<script>alert(1)');
    const chosen = render(SearchResults(props({ result: result({ totalDocuments: 3 }), facets: orgs, filters: { organisation: ['Bydel Grünerløkka'] } })));
    expect(chosen).toContain('<input type="hidden" name="organisation" value="Bydel Grünerløkka" form="sok"/>');
    // A removable chip that drops the organisation and keeps the query.
    expect(chosen).toMatch(/<a href="\/\?q=lekeplass" id="fjern-organisation-[^"]*" class="brikke"[^>]*>.*?<span class="brikke-etikett">Organisasjon<\/span>/s);
  });

  it('shows the facets with counts beside the results, as fieldsets with legends', () => {
    const html = render(SearchResults(props({ result: result({ totalDocuments: 12 }), facets: facets() })));
    expect(html).toContain('<div class="resultat-oppsett"><details class="fasetter" id="avgrens"><summary class="fasetter-knapp">Avgrens søket</summary>');
    const panel = panelOf(html);
    for (const legend of ['Utvalg', 'År', 'Dokumenttype', 'Vedtak', 'Dato']) expect(panel).toContain(`<legend>${legend}</legend>`);
    expect(panel).toMatch(
      /href="\/\?q=lekeplass&amp;body=Bydelsutvalget"[^>]*><span class="fasett-navn" hx-ignore="">Bydelsutvalget<\/span><span class="antall">5<span class="skjult"> dokumenter<\/span><\/span><\/a>/,
    );
    expect(panel).toMatch(/href="\/\?q=lekeplass&amp;year=2024"[^>]*>.*?>2024<\/span><span class="antall">10</);
    // Kinds show their label and filter by the stored value.
    expect(panel).toMatch(
      /href="\/\?q=lekeplass&amp;kind=m%C3%B8teprotokoll"[^>]*><span class="fasett-navn" hx-ignore="">Møteprotokoll<\/span><span class="antall">9/,
    );
    expect(panel).toMatch(/<span class="antall">1<span class="skjult"> dokument<\/span>/);
    // "Bare vedtak" is a labelled checkbox of the search form, with its count.
    expect(panel).toMatch(/<input type="checkbox" id="f-vedtak" name="decisions" value="1" form="sok"[^>]*hx-get="\/"[^>]*>/);
    expect(panel).not.toMatch(/id="f-vedtak"[^>]*checked/);
    expect(panel).toMatch(/<label for="f-vedtak">Bare vedtak <span class="antall">4<\/span>/);
    // The date range: labelled date fields of the search form, and a submit button for it.
    expect(panel).toContain('<label for="f-fra">Fra</label><input type="date" id="f-fra" name="from" value="" form="sok"/>');
    expect(panel).toContain('<label for="f-til">Til</label><input type="date" id="f-til" name="to" value="" form="sok"/>');
    expect(panel).toContain('<button type="submit" form="sok" class="knapp-liten">Bruk datoer</button>');
    // Every facet link also works through htmx, into #resultater, pushing its own URL.
    const facetLinks = links(panel);
    expect(facetLinks.length).toBe(6);
    for (const a of facetLinks) {
      expect(a).toContain(`hx-get="${a.match(/href="([^"]*)"/)![1]}"`);
      expect(a).toContain('hx-target="#resultater"');
      expect(a).toContain('hx-push-url="true"');
      expect(a).not.toContain('aria-current');
    }
    // Sorting, with the current order marked.
    expect(html).toMatch(/<a href="\/\?q=lekeplass" id="sorter-relevance" aria-current="true"[^>]*>Relevans<\/a>/);
    expect(html).toMatch(/<a href="\/\?q=lekeplass&amp;sort=date" id="sorter-date" hx-get="\/\?q=lekeplass&amp;sort=date"[^>]*>Nyeste først<\/a>/);
    // No chips without filters.
    expect(html).not.toContain('class="brikke"');
  });

  it('facet, chip and sort URLs keep q, mode and sort, and go back to page 1', () => {
    const html = render(
      SearchResults(
        props({
          q: 'vei & bro',
          mode: 'bm25',
          page: 3,
          sort: 'date',
          filters: { body: ['Eldrerådet'] },
          facets: facets(),
          result: result({ mode: 'bm25', totalDocuments: 40 }),
        }),
      ),
    );
    const hrefs = links(html.replace(/<nav class="sidevelger"[\s\S]*?<\/nav>/, ''))
      .map(hrefOf)
      .filter((h) => h.startsWith('/?'));
    expect(hrefs.length).toBeGreaterThanOrEqual(9);
    for (const h of hrefs) {
      const u = new URL(h, 'http://x');
      expect(u.searchParams.get('q'), h).toBe('vei & bro');
      expect(u.searchParams.get('mode'), h).toBe('bm25');
      expect(u.searchParams.has('side'), h).toBe(false);
    }
    // Only the "Relevans" link drops the sort.
    expect(hrefs.filter((h) => new URL(h, 'http://x').searchParams.get('sort') !== 'date')).toEqual(['/?q=vei%20%26%20bro&mode=bm25&body=Eldrer%C3%A5det']);
    // Choosing another body adds it; the chosen one toggles off.
    expect(hrefs).toContain('/?q=vei%20%26%20bro&mode=bm25&sort=date&body=Eldrer%C3%A5det&body=Bydelsutvalget');
    expect(hrefs).toContain('/?q=vei%20%26%20bro&mode=bm25&sort=date');
    // Page links keep the filters and the sort.
    const nav = html.match(/<nav class="sidevelger"[\s\S]*?<\/nav>/)![0];
    expect(nav).toContain('href="/?q=vei%20%26%20bro&amp;mode=bm25&amp;sort=date&amp;body=Eldrer%C3%A5det&amp;side=4"');
    // The search form keeps the chosen body and the sort when the query changes.
    expect(html).toContain('<input type="hidden" name="body" value="Eldrerådet" form="sok"/>');
    expect(html).toContain('<input type="hidden" name="sort" value="date" form="sok"/>');
  });

  it('marks chosen values (aria-current) and shows them as removable chips', () => {
    const filters = { body: ['Bydelsutvalget'], kind: ['innsiktsrapport'], dateFrom: '2024-01-01', dateTo: '2024-12-31', decisionsOnly: true };
    const html = render(SearchResults(props({ filters, facets: facets(), result: result({ totalDocuments: 3 }) })));
    expect(html).toContain('<summary class="fasetter-knapp">Avgrens søket (4 valgt)</summary>');
    const current = links(panelOf(html)).filter((a) => a.includes('aria-current="true"'));
    expect(current.map(hrefOf).sort()).toEqual(
      [
        '/?q=lekeplass&kind=innsiktsrapport&year=2024&decisions=1', // body off
        '/?q=lekeplass&body=Bydelsutvalget&year=2024&decisions=1', // kind off
        '/?q=lekeplass&body=Bydelsutvalget&kind=innsiktsrapport&decisions=1', // year off
      ].sort(),
    );
    for (const a of current) expect(a).toContain('class="fasettverdi valgt"');
    expect(html).toMatch(/id="f-vedtak"[^>]*checked=""/);
    // A whole year fills the date fields (the form then carries from/to).
    expect(html).toContain('id="f-fra" name="from" value="2024-01-01"');
    expect(html).toContain('id="f-til" name="to" value="2024-12-31"');
    const chips = html.match(/<div class="valgte-filtre">[\s\S]*?<\/div>/)![0];
    expect(chips).toContain('<h2 class="skjult">Valgte filtre</h2>');
    const chipLinks = links(chips);
    expect(chipLinks.length).toBe(5); // 4 chips + "Fjern alle filtre"
    expect(chips).toContain(
      '<span class="skjult">Fjern filter: </span><span class="brikke-etikett">Utvalg</span> <span class="brikke-verdi" hx-ignore="">Bydelsutvalget</span>',
    );
    expect(chips).toContain('<span class="brikke-etikett">Type</span> <span class="brikke-verdi" hx-ignore="">Innsiktsrapport</span>');
    expect(chips).toContain('<span class="brikke-etikett">År</span> <span class="brikke-verdi" hx-ignore="">2024</span>');
    expect(chips).toContain('<span class="brikke-verdi" hx-ignore="">Bare vedtak</span>');
    expect(chipLinks.map(hrefOf)).toContain('/?q=lekeplass&body=Bydelsutvalget&kind=innsiktsrapport&year=2024');
    expect(chips).toMatch(/<a href="\/\?q=lekeplass" class="fjern-alle"[^>]*>Fjern alle filtre<\/a>/);
    for (const a of chipLinks) expect(a).toContain('hx-target="#resultater"');
    // The summary takes the same filters: the panel asks for the filtered results' summary.
    expect(html).toContain('hx-get="/oppsummering?q=lekeplass&amp;body=Bydelsutvalget&amp;kind=innsiktsrapport&amp;year=2024&amp;decisions=1"');
    expect(render(SearchResults(props({ facets: facets() })))).toContain('hx-get="/oppsummering?q=lekeplass"');
  });

  it('shows date chips and lists a chosen value the query no longer matches', () => {
    const html = render(
      SearchResults(props({ filters: { body: ['Valgstyret'], dateFrom: '2024-03-01' }, facets: facets(), result: result({ totalDocuments: 0, groups: [] }) })),
    );
    expect(html).toContain('<span class="brikke-etikett">Fra</span> <span class="brikke-verdi" hx-ignore="">1. mars 2024</span>');
    expect(html).not.toContain('>Til</span>');
    expect(html).toMatch(
      /href="\/\?q=lekeplass&amp;from=2024-03-01" id="f-body-[a-z0-9]+" class="fasettverdi valgt" aria-current="true"[^>]*><span class="fasett-navn" hx-ignore="">Valgstyret<\/span><span class="antall">0</,
    );
    // No hits with filters: a way out.
    expect(html).toContain('Ingen treff for «lekeplass»');
    expect(html).toMatch(/<a href="\/\?q=lekeplass"[^>]*>Søk uten filtrene<\/a>/);
  });

  it('escapes hostile facet values and chips', () => {
    const html = render(
      SearchResults(
        props({ filters: { body: [EVIL_BODY], kind: ['<img src=x onerror=alert(1)>'] }, facets: facets({ body: [{ value: EVIL_BODY, count: 3 }] }) }),
      ),
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('<span class="fasett-navn" hx-ignore="">&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;</span>');
    expect(html).toContain('<span class="brikke-verdi" hx-ignore="">&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;</span>');
    expect(html).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;&#39;" form="sok"');
    expect(html).toContain(`body=${encodeURIComponent(EVIL_BODY).replace(/'/g, '&#39;')}`);
    // Ids of facet values are derived, never the value itself.
    for (const id of html.matchAll(/ id="([^"]*)"/g)) expect(id[1]).toMatch(/^[a-z0-9-]+$/);
  });

  it('leaves the facets out without a query, on an error, and when nothing matches at all', () => {
    expect(render(SearchResults(props({ q: '', result: null, facets: facets() })))).not.toContain('fasetter');
    const err = render(SearchResults(props({ error: 'Ugyldig søkeparameter. Prøv søket på nytt.', result: null, facets: null })));
    expect(err).not.toContain('fasetter');
    expect(err).not.toContain('form="sok"');
    const none = render(
      SearchResults(
        props({ result: result({ totalDocuments: 0, groups: [] }), facets: facets({ body: [], organisation: [], year: [], kind: [], decisions: 0 }) }),
      ),
    );
    expect(none).not.toContain('fasetter');
    expect(none).not.toContain('sortering');
  });

  it('builds state URLs: defaults left out, a year for a whole-year range', () => {
    const s: SearchState = { q: 'a b', mode: 'hybrid', sort: 'relevance', filters: {} };
    expect(stateUrl(s)).toBe('/?q=a%20b');
    expect(stateUrl(s, 2)).toBe('/?q=a%20b&side=2');
    const y = toggled(s, 'year', '2024');
    expect(y.filters).toEqual({ dateFrom: '2024-01-01', dateTo: '2024-12-31' });
    expect(selectedYear(y.filters)).toBe('2024');
    expect(stateUrl(y)).toBe('/?q=a%20b&year=2024');
    expect(toggled(y, 'year', '2024').filters).toEqual({});
    expect(stateUrl({ ...s, filters: { dateFrom: '2024-01-01', dateTo: '2024-06-30' } })).toBe('/?q=a%20b&from=2024-01-01&to=2024-06-30');
    expect(stateUrl(toggled(toggled(s, 'kind', 'brev'), 'kind', 'rapport'))).toBe('/?q=a%20b&kind=brev&kind=rapport');
    expect(stateUrl(toggled({ ...s, filters: { kind: ['brev'] } }, 'kind', 'brev'))).toBe('/?q=a%20b');
  });

  it('shows an agenda item at a glance: case link, outcome and vote, a "Vedtak" badge, the body linked', () => {
    const item = {
      caseId: '22/24',
      caseIdNormalized: '2024/22',
      itemTitle: 'Lekeplass',
      isDecision: true,
      outcome: 'vedtatt',
      votes: { for: 9, against: 4, unanimous: false },
      meetingIndex: 0,
    };
    const html = render(SearchResults(props({ result: result({ groups: [{ best: hit({ item }), more: [] }] }) })));
    expect(html).toContain(
      '<p class="treff-sak"><a href="/saker/2024-22" class="sakslenke">Sak 22/24</a><span class="skille" aria-hidden="true"> · </span><span class="utfall utfall-vedtatt">Vedtatt 9–4</span> <span class="merke-vedtak">Vedtak</span></p>',
    );
    expect(html).toContain('<span><a href="/utvalg/Bydelsutvalget">Bydelsutvalget</a></span>');
    // Inside the hx-ignore list.
    expect(html.indexOf('treff-sak')).toBeGreaterThan(html.indexOf('<ol class="treffliste" start="1" hx-ignore="">'));
    // Not a decision, unanimous; an id that names itself is kept as written.
    const other = render(
      SearchResults(
        props({
          result: result({
            groups: [
              { best: hit({ item: { ...item, caseId: 'PS 3/24', isDecision: false, votes: { for: null, against: null, unanimous: true } } }), more: [] },
            ],
          }),
        }),
      ),
    );
    expect(other).toContain('>PS 3/24</a><span class="skille" aria-hidden="true"> · </span><span class="utfall utfall-vedtatt">Vedtatt enstemmig</span></p>');
    expect(other).not.toContain('merke-vedtak');
    // Hits that are not agenda items: no glance line, the body as plain text.
    const plain = render(SearchResults(props()));
    expect(plain).not.toContain('treff-sak');
    expect(plain).toContain('<span>Bydelsutvalget</span>');
    expect(plain).not.toContain('/utvalg/');
    expect(caseLabel({ caseId: null, caseIdNormalized: '2024/22' })).toBe('Sak 2024/22');
    expect(caseLabel({ caseId: 'Sak 12/25', caseIdNormalized: '2025/12' })).toBe('Sak 12/25');
    expect(caseLabel({ caseId: null, caseIdNormalized: null })).toBeNull();
  });

  it('escapes a hostile case id and body in the glance line', () => {
    const item = { caseId: '<b>1</b>', caseIdNormalized: null, itemTitle: null, isDecision: false, outcome: '<i>x</i>', votes: null, meetingIndex: 0 };
    const html = render(SearchResults(props({ result: result({ groups: [{ best: hit({ item, body: EVIL_BODY }), more: [] }] }) })));
    expect(html).not.toContain('<b>1');
    expect(html).not.toContain('<i>x');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<span>&lt;b&gt;1&lt;/b&gt;</span>');
    expect(html).toContain(`href="/utvalg/${encodeURIComponent(EVIL_BODY).replace(/'/g, '&#39;')}"`);
  });
});

describe('DocumentPage', () => {
  it('links each meeting of a protocol to its meeting page', () => {
    const meetings = [
      { index: 0, body: 'Bydelsutvalget', date: '2024-03-14', items: 5 },
      { index: 1, body: '<script>x</script>', date: null, items: 1 },
    ];
    const html = render(DocumentPage({ doc: doc(), q: '', page: null, principal: PUBLIC_PRINCIPAL, meetings }));
    expect(html).toContain('<nav class="dokument-moter" aria-label="Møter i dokumentet">');
    expect(html).toContain('<a href="/moter/bu-2024-03-14/0">Møte: Bydelsutvalget 14. mars 2024</a><span class="dokument-moter-saker"> · 5 saker</span>');
    expect(html).toContain('<a href="/moter/bu-2024-03-14/1">Møte: &lt;script&gt;x&lt;/script&gt;</a><span class="dokument-moter-saker"> · 1 sak</span>');
    expect(html).not.toContain('<script>x');
    expect(render(DocumentPage({ doc: doc(), q: '', page: null, principal: PUBLIC_PRINCIPAL }))).not.toContain('dokument-moter');
  });

  it('renders metadata, the PDF link at the requested page and one section per page', () => {
    const html = render(DocumentPage({ doc: doc(), q: 'lekeplass', page: 3, principal: PUBLIC_PRINCIPAL }));
    expect(html.startsWith('<html lang="nb">')).toBe(true);
    expect(html).toContain('<h1 class="dokumenttittel">Møteprotokoll Bydelsutvalget</h1>');
    expect(html).toContain('<th scope="row">Utvalg</th><td>Bydelsutvalget</td>');
    expect(html).toContain('<th scope="row">Dato</th><td>14. mars 2024</td>');
    expect(html).toContain('<th scope="row">Dokumenttype</th><td>Møteprotokoll</td>');
    expect(html).toContain('<th scope="row">Kilde</th><td>bu-2024-03-14.pdf</td>');
    expect(html).toContain('<th scope="row">Sider</th><td>3</td>');
    expect(html).toContain('<th scope="row">Tilgang</th><td>Offentlig</td>');
    expect(html).toContain('href="/documents/bu-2024-03-14/file#page=3">Åpne original (PDF)</a>');
    expect(html).toContain('href="/?q=lekeplass"');
    for (const n of [1, 2, 3]) expect(html).toContain(`<section id="side-${n}" class="side`);
    expect(html).toContain('<section id="side-3" class="side aktiv"');
    expect(html).toContain('<section id="side-1" class="side"');
    expect(html).toMatch(/<h2 id="side-2-tittel" class="side-tittel">Side 2<\/h2>/);
    expect(html).toContain('aria-label="Gå til side"');
    expect(html).toContain('<a href="#side-1">1</a>');
    expect(html).toContain('<a href="#side-3" class="aktiv" aria-current="true">3</a>');
    expect(html).toContain('<article class="dokument" hx-ignore="">');
  });

  it('splits paragraphs on blank lines, keeps line breaks and marks query hits by stem', () => {
    const html = render(DocumentPage({ doc: doc(), q: 'lekeplass', page: null, principal: PUBLIC_PRINCIPAL }));
    expect(html).toContain('<p>Sak 45/24 Ny <mark>lekeplass</mark> i Tøyenparken.</p><p><mark>Lekeplassen</mark> skal rustes opp.</p>');
    expect(html).toContain('<p>Innkalling og saksliste.\nGodkjenning av protokoll.</p>');
    expect(html).not.toContain('class="side aktiv"');
    expect(html).toContain('href="/documents/bu-2024-03-14/file#page=1">Åpne original (PDF)</a>');
  });

  it('escapes hostile document text and never marks anything without a query', () => {
    const evil = doc({
      title: EVIL_TITLE,
      source: '"><script>x</script>.pdf',
      pages: [{ num: 1, text: `${EVIL_SNIPPET}klikk</div>\n\n<a href="javascript:alert(1)">lenke</a> <img src=x onerror=alert(1)>` }],
    });
    const html = render(DocumentPage({ doc: evil, q: '', page: 1, principal: PUBLIC_PRINCIPAL }));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('hx-get="/admin"');
    expect(html).not.toContain('href="javascript:');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<mark>');
    expect(html).toContain('&lt;div hx-get=&quot;/admin&quot;&gt;klikk&lt;/div&gt;');
    expect(html).toContain('&lt;a href=&quot;javascript:alert(1)&quot;&gt;lenke&lt;/a&gt;');
    expect(html).toContain('<title>Protokoll &lt;script&gt;alert(1)&lt;/script&gt; – Innsiktsbanken</title>');
    expect(html).not.toContain('Tilbake til søket');
  });

  it('offers "Last ned original" and one "Tekst" section for non-paged documents', () => {
    const d = doc({ mediaType: 'text/plain', paged: false, pageCount: 0, pages: [{ num: null, text: 'Ren tekst.\n\nAndre avsnitt.' }] });
    const html = render(DocumentPage({ doc: d, q: '', page: null, principal: INTERNAL }));
    expect(html).toContain('>Last ned original</a>');
    expect(html).not.toContain('Åpne original (PDF)');
    expect(html).toContain('<section id="tekst" class="side"');
    expect(html).toContain('>Tekst</h2>');
    expect(html).not.toContain('id="side-');
    expect(html).toContain('Intern tilgang');
  });

  it('labels internal and protected access', () => {
    expect(render(DocumentPage({ doc: doc({ access: 'internal' }), q: '', page: null, principal: INTERNAL }))).toContain('<td>Intern</td>');
    expect(render(DocumentPage({ doc: doc({ access: 'protected', groups: ['barnevern'] }), q: '', page: null, principal: INTERNAL }))).toContain(
      '<td>Skjermet (barnevern)</td>',
    );
  });
});

describe('ErrorPage', () => {
  it('shows status, title and message with a way back', () => {
    const html = render(ErrorPage({ status: 404, title: 'Fant ikke dokumentet', message: 'Dokumentet finnes ikke.', principal: PUBLIC_PRINCIPAL }));
    expect(html).toContain('lang="nb"');
    expect(html).toContain('<title>Fant ikke dokumentet – Innsiktsbanken</title>');
    expect(html).toContain('Feilkode 404');
    expect(html).toContain('<h1>Fant ikke dokumentet</h1>');
    expect(html).toContain('Dokumentet finnes ikke.');
    expect(html).toContain('href="/"');
  });
});

describe('formatting helpers', () => {
  it('formats dates in Norwegian', () => {
    expect(formatDate('2024-03-14')).toBe('14. mars 2024');
    expect(formatDate('2025-01-01')).toBe('1. januar 2025');
    expect(formatDate('2023-12-31')).toBe('31. desember 2023');
    expect(formatDate('2024-05')).toBe('mai 2024');
    expect(formatDate(null)).toBeNull();
    expect(formatDate('')).toBeNull();
    expect(formatDate('ukjent')).toBe('ukjent');
  });

  it('formats seconds with a decimal comma', () => {
    expect(formatSeconds(12.3)).toBe('0,012 s');
    expect(formatSeconds(1534)).toBe('1,534 s');
    expect(formatSeconds(0)).toBe('0,000 s');
  });

  it('builds URLs', () => {
    expect(searchUrl('')).toBe('/');
    expect(searchUrl('a b', 'hybrid', 1)).toBe('/?q=a%20b');
    expect(searchUrl('a', 'vector', 2)).toBe('/?q=a&mode=vector&side=2');
    expect(documentUrl('x', 4, 'q')).toBe('/documents/x?side=4&q=q#side-4');
    expect(documentUrl('x', null, '')).toBe('/documents/x');
    expect(documentUrl('javascript:alert(1)', null, '')).toBe('/documents/javascript%3Aalert(1)');
    expect(fileUrl('x', null)).toBe('/documents/x/file#page=1');
    expect(fileUrl('x', 5)).toBe('/documents/x/file#page=5');
  });

  it('splits paragraphs and highlights with the shared analysis', () => {
    expect(paragraphs('a\nb\n\n\nc\r\n\r\nd')).toEqual(['a\nb', 'c', 'd']);
    // PDF line wraps inside a paragraph are joined; list items and short lines keep their break.
    const long = 'Bydelsutvalget ber bydelsdirektøren om å legge frem en plan for rehabilitering av';
    expect(paragraphs(`${long}\nlekeplassen i Tøyenparken.\n1. Planen skal være klar i mai.\n2. Kostnaden dekkes.`)).toEqual([
      `${long} lekeplassen i Tøyenparken.\n1. Planen skal være klar i mai.\n2. Kostnaden dekkes.`,
    ]);
    const parts = highlightParts('Lekeplassene og en lekeplass', stemsFor('lekeplass'));
    expect(parts.filter((p) => p.hit).map((p) => p.text)).toEqual(['Lekeplassene', 'lekeplass']);
    expect(parts.map((p) => p.text).join('')).toBe('Lekeplassene og en lekeplass');
    expect(highlightParts('og i på', stemsFor('og'))).toEqual([{ text: 'og i på', hit: false }]);
  });

  it('truncates snippet parts on a word boundary', () => {
    const parts = truncateParts(
      [
        { text: 'aaaa bbbb cccc dddd', hit: false },
        { text: 'hit', hit: true },
      ],
      12,
    );
    expect(parts.map((p) => p.text).join('')).toBe('aaaa bbbb …');
  });
});
