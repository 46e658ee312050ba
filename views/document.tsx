/**
 * One document: metadata, a link to the original file, and the extracted text page by page
 * with the query's hits marked. Document text is hostile: every string from it is a JSX
 * text child (escaped by hono/jsx) and the whole article carries `hx-ignore`, so htmx never
 * processes anything inside it.
 */
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { SimilarDocument } from '../indexes/similar.ts';
import type { StoredDocument } from '../indexes/store.ts';
import type { DocumentMeeting, PageText, Principal } from '../indexes/types.ts';
import type { JobKind } from '../ingest/queue.ts';
import type { OcrPageInfo, OcrSummary } from '../server/ocr-info.ts';
import { accessLabel, documentUrl, fileUrl, formatCount, formatDate, kindLabel, searchUrl } from './format.tsx';
import { highlightParts, Marked, stemsFor } from './highlight.tsx';
import { Layout } from './layout.tsx';
import { meetingUrl } from './protocol.tsx';

export interface DocumentPageProps {
  doc: StoredDocument;
  q: string;
  page: number | null;
  principal: Principal;
  /** The protocol's meetings (readable by the principal), each with its own page. */
  meetings?: DocumentMeeting[];
  /** The text of a passage a summary cited: its paragraphs on the cited page are highlighted. */
  passage?: string | null;
  /** "Lignende dokumenter": the nearest documents the principal may read (indexes/similar.ts). */
  similar?: SimilarDocument[];
  /** Pages read by OCR, from silver (server/ocr-info.ts); null when none was. */
  ocr?: OcrSummary | null;
  /** For admins only: the document's actions and its jobs still in the queue. Never rendered for others. */
  admin?: { pending: { id: number; kind: JobKind }[] } | null;
}

/** 87.4 -> "87 %". */
export const percent = (n: number) => `${Math.round(n)}\u00a0%`;

/** "1–3, 5": page numbers as ranges. */
export function pageRanges(nums: number[]): string {
  const sorted = [...new Set(nums)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(j > i ? `${sorted[i]}–${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return out.join(', ');
}

/** "OCR-lest · snittsikkerhet 87 %", which pages, and which are uncertain (flagged, never hidden). */
function OcrNote(props: { ocr: OcrSummary; pageCount: number }) {
  const { ocr } = props;
  const nums = ocr.pages.map((p) => p.num).filter((n): n is number => n != null);
  const low = ocr.pages.filter((p) => p.low && p.num != null).map((p) => p.num as number);
  const which =
    ocr.method === 'pdf-ocr' || (props.pageCount > 0 && nums.length >= props.pageCount) ? 'alle sider' : nums.length ? `side ${pageRanges(nums)}` : null;
  return (
    <div class="ocr-info">
      <p>
        <span class="merke-ocr">OCR-lest</span>
        {ocr.confidence != null ? <span class="ocr-sikkerhet">{` snittsikkerhet ${percent(ocr.confidence)}`}</span> : null}
      </p>
      <p class="ocr-forklaring">
        {`Teksten${which ? ` på ${which}` : ''} er lest maskinelt fra skannede sider (OCR) og kan inneholde feil. Sjekk mot originalen før du siterer.`}
        {low.length ? ` Usikker tekst på ${low.length === 1 ? 'side' : 'sidene'} ${pageRanges(low)}.` : null}
      </p>
    </div>
  );
}

function OcrPageBadges(props: { info: OcrPageInfo }) {
  const { info } = props;
  return (
    <>
      <span class="merke-ocr-side">{info.confidence != null ? `OCR ${percent(info.confidence)}` : 'OCR'}</span>
      {info.low ? <span class="merke-usikker">usikker tekst</span> : null}
    </>
  );
}

const JOB_NAMES: Record<JobKind, string> = { ingest: 'innlesing', ocr: 'OCR', delete: 'sletting', access: 'endring av tilgang', reindex: 'reindeksering' };

/**
 * Admins' actions. Each one only queues a job (server/staff.ts): the worker is the only writer
 * of the index and silver. The POST routes check for an admin themselves.
 */
function AdminPanel(props: { doc: StoredDocument; isPdf: boolean; pending: { id: number; kind: JobKind }[] }) {
  const { doc } = props;
  const base = `/documents/${encodeURIComponent(doc.id)}`;
  return (
    <details class="admin" open={props.pending.length > 0}>
      <summary>Administrer dokumentet</summary>
      {props.pending.length ? (
        <p class="varsel varsel-ok">
          {`Venter i køen: ${props.pending.map((j) => `${JOB_NAMES[j.kind] ?? j.kind} (jobb ${j.id})`).join(', ')}. `}
          <a href="/innlesing">Se innlesing</a>
        </p>
      ) : null}
      <form method="post" action={`${base}/tilgang`} class="admin-skjema">
        <fieldset>
          <legend>Endre tilgang</legend>
          {(['public', 'internal', 'protected'] as const).map((a) => (
            <label class="valg">
              <input type="radio" name="access" value={a} checked={doc.access === a} />
              {` ${accessLabel(a)}`}
            </label>
          ))}
          <label for="admin-grupper">Grupper (for skjermet, kommaseparert)</label>
          <input type="text" id="admin-grupper" name="groups" value={(doc.groups ?? []).join(', ')} />
          <button type="submit" class="knapp-sekundaer">
            Endre tilgang
          </button>
        </fieldset>
      </form>
      {props.isPdf ? (
        <form method="post" action={`${base}/ocr`} class="admin-skjema">
          <button type="submit" class="knapp-sekundaer">
            Les på nytt med OCR
          </button>
          <span class="hjelp"> Leser originalen på nytt; skannede sider leses med OCR.</span>
        </form>
      ) : null}
      <form method="post" action={`${base}/slett`} class="admin-skjema admin-slett">
        <label class="valg">
          <input type="checkbox" name="bekreft" value="ja" required />
          {' Ja, slett dokumentet fra Innsiktsbanken (originalen og teksten)'}
        </label>
        <button type="submit" class="knapp-fare">
          Slett dokument
        </button>
      </form>
      <p class="hjelp">Endringene legges i kø og gjøres av innlesingen, vanligvis i løpet av sekunder.</p>
    </details>
  );
}

function Similar(props: { docs: SimilarDocument[] }) {
  return (
    <nav class="lignende" aria-labelledby="lignende-tittel">
      <h2 id="lignende-tittel" class="lignende-tittel">
        Lignende dokumenter
      </h2>
      <ul>
        {props.docs.map((d) => (
          <li>
            <a href={documentUrl(d.documentId, null, '')}>{d.title || d.source}</a>
            <span class="lignende-meta">{` ${[d.organisation, d.body, formatDate(d.date), kindLabel(d.kind)].filter(Boolean).join(' · ')}`}</span>
          </li>
        ))}
      </ul>
    </nav>
  );
}

const squash = (t: string) => t.replace(/\s+/g, ' ').trim().toLowerCase();

/** Is this paragraph part of the cited passage? */
export function inPassage(paragraph: string, passage: string): boolean {
  const p = squash(paragraph);
  return p.length >= 12 && squash(passage).includes(p);
}

interface Section {
  num: number | null;
  id: string;
  heading: string;
  text: string;
}

/** Paged documents: one section per page; otherwise one section "Tekst". */
export function sectionsOf(doc: Pick<StoredDocument, 'pages' | 'paged'>): Section[] {
  const pages: PageText[] = doc.pages ?? [];
  const numbered = pages.filter((p) => p.num != null);
  if (numbered.length === 0) {
    return [{ num: null, id: 'tekst', heading: 'Tekst', text: pages.map((p) => p.text).join('\n\n') }];
  }
  const seen = new Set<string>();
  const out: Section[] = [];
  for (const p of pages) {
    if (p.num == null) {
      // Stray unnumbered text in a paged document: append to the previous page.
      const last = out[out.length - 1];
      if (last) last.text += '\n\n' + p.text;
      else out.push({ num: null, id: 'tekst', heading: 'Tekst', text: p.text });
      seen.add('tekst');
      continue;
    }
    const id = `side-${p.num}`;
    if (seen.has(id)) {
      out.find((s) => s.id === id)!.text += '\n\n' + p.text;
      continue;
    }
    seen.add(id);
    out.push({ num: p.num, id, heading: `Side ${p.num}`, text: p.text });
  }
  return out;
}

/** Paragraphs on blank lines; single line breaks are kept by CSS (white-space: pre-line). */
/** A line that starts something of its own: a list item, a numbered point, an agenda item. */
const STARTS_LINE = /^\s*(?:[-•*–]\s|\d{1,3}[.)]\s|[a-zæøå][.)]\s|(?:sak|ps|rs|os)\s+\d+\/\d+|vedtak\b|innstilling\b|votering\b|behandling\b)/i;

/**
 * Paragraphs for display. PDF text keeps the PDF's own line wraps; within a paragraph a wrapped
 * line is joined to the next, while a short line (a heading, the end of a paragraph) or a line
 * that starts a list item keeps its break.
 */
export function paragraphs(text: string): string[] {
  const blocks = text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t\f\v]*\n+/)
    .map((p) => p.replace(/^\s*\n|\s+$/g, ''))
    .filter((p) => p.trim() !== '');
  const lengths = blocks
    .flatMap((b) => b.split('\n').map((l) => l.trim().length))
    .filter((n) => n > 0)
    .sort((a, b) => a - b);
  // A4 text lines run 60-100 characters; short pages say little about their own line length.
  const typical = Math.max(60, lengths.length ? lengths[Math.floor(lengths.length * 0.75)] : 80);
  return blocks.map((block) => {
    const lines = block.split('\n');
    let out = lines[0];
    for (let i = 1; i < lines.length; i++) {
      const prev = lines[i - 1].trim();
      const wrapped = prev.length >= typical * 0.7 && !/[:;]$/.test(prev) && !STARTS_LINE.test(lines[i]);
      out += wrapped ? ' ' + lines[i].trim() : '\n' + lines[i];
    }
    return out;
  });
}

function MetaRow(props: { label: string; value: string | null | undefined }) {
  return (
    <tr>
      <th scope="row">{props.label}</th>
      <td>{props.value ? props.value : '–'}</td>
    </tr>
  );
}

export function DocumentPage(p: DocumentPageProps): JSX.Element {
  const { doc, q } = p;
  const query = (q ?? '').trim();
  const stems = stemsFor(query);
  const sections = sectionsOf(doc);
  const isPdf = doc.mediaType === 'application/pdf';
  const active = p.page != null && sections.some((s) => s.num === p.page) ? p.page : null;
  const title = doc.title || doc.source || 'Uten tittel';
  const pageCount = doc.pageCount || sections.filter((s) => s.num != null).length;
  let access = accessLabel(doc.access);
  if (doc.access === 'protected' && doc.groups?.length && (p.principal.internal || p.principal.admin)) {
    access += ` (${doc.groups.join(', ')})`;
  }
  const numbered = sections.filter((s) => s.num != null);
  const ocrPages = new Map((p.ocr?.pages ?? []).filter((x) => x.num != null).map((x) => [x.num as number, x]));

  return (
    <Layout title={title} principal={p.principal} q={q ?? ''}>
      <article class="dokument" hx-ignore="">
        <p class="tilbake">{query ? <a href={searchUrl(query)}>← Tilbake til søket etter «{query}»</a> : <a href="/">← Til søket</a>}</p>
        <h1 class="dokumenttittel">{title}</h1>
        <table class="metadata">
          <caption class="skjult">Om dokumentet</caption>
          <tbody>
            <MetaRow label="Organisasjon" value={doc.organisation} />
            <MetaRow label="Utvalg" value={doc.body} />
            <MetaRow label="Dato" value={formatDate(doc.date)} />
            <MetaRow label="Dokumenttype" value={kindLabel(doc.kind)} />
            {doc.caseNumbers?.length ? <MetaRow label="Saksnummer" value={doc.caseNumbers.join(', ')} /> : null}
            <MetaRow label="Kilde" value={doc.source} />
            <MetaRow label="Sider" value={pageCount ? formatCount(pageCount) : null} />
            <MetaRow label="Tilgang" value={access} />
          </tbody>
        </table>
        {p.ocr ? <OcrNote ocr={p.ocr} pageCount={pageCount} /> : null}
        {p.admin && p.principal.admin === true ? <AdminPanel doc={doc} isPdf={isPdf} pending={p.admin.pending} /> : null}
        {p.meetings?.length ? (
          <nav class="dokument-moter" aria-label="Møter i dokumentet">
            <ul>
              {p.meetings.map((m) => (
                <li>
                  <a href={meetingUrl(doc.id, m.index)}>
                    {`Møte: ${[m.body ?? doc.body ?? '', formatDate(m.date) ?? ''].filter(Boolean).join(' ') || `nr. ${m.index + 1}`}`}
                  </a>
                  {m.items ? <span class="dokument-moter-saker">{` · ${m.items} ${m.items === 1 ? 'sak' : 'saker'}`}</span> : null}
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        <p class="original">
          <a class="knapp" href={fileUrl(doc.id, isPdf ? active : null)}>
            {isPdf ? 'Åpne original (PDF)' : 'Last ned original'}
          </a>
          {isPdf && active != null ? <span class="original-hint"> Åpner på side {String(active)}.</span> : null}
        </p>
        {p.similar?.length ? <Similar docs={p.similar} /> : null}
        {numbered.length > 1 ? (
          <nav class="sidenav" aria-label="Gå til side">
            <p class="sidenav-tittel">Gå til side:</p>
            <ul>
              {numbered.map((s) => (
                <li>
                  <a
                    href={`#${s.id}`}
                    class={[s.num === active ? 'aktiv' : '', ocrPages.get(s.num as number)?.low ? 'usikker' : ''].filter(Boolean).join(' ') || undefined}
                    aria-current={s.num === active ? 'true' : undefined}
                  >
                    {String(s.num)}
                    {ocrPages.get(s.num as number)?.low ? <span class="skjult"> (usikker tekst)</span> : null}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        {query && stems.size > 0 ? (
          <p class="markeringsinfo">
            Treff på «{query}» er markert <mark>slik</mark> i teksten.
          </p>
        ) : null}
        <div class="dokumenttekst">
          {sections.map((s) => {
            const paras = paragraphs(s.text);
            const isActive = s.num != null && s.num === active;
            return (
              <section id={s.id} class={isActive ? 'side aktiv' : 'side'} aria-labelledby={`${s.id}-tittel`}>
                <div class="side-hode">
                  <h2 id={`${s.id}-tittel`} class="side-tittel">
                    {s.heading}
                  </h2>
                  {isActive ? <span class="side-merke">Fra søketreffet</span> : null}
                  {s.num != null && ocrPages.has(s.num) ? <OcrPageBadges info={ocrPages.get(s.num)!} /> : null}
                  {isPdf && s.num != null ? (
                    <a class="side-pdf" href={fileUrl(doc.id, s.num)}>
                      {`Vis side ${s.num} i PDF`}
                    </a>
                  ) : null}
                </div>
                {paras.length ? (
                  paras.map((para) => (
                    <p class={isActive && p.passage && inPassage(para, p.passage) ? 'sitert' : undefined}>
                      <Marked parts={highlightParts(para, stems)} />
                    </p>
                  ))
                ) : (
                  <p class="tom">Ingen tekst på denne siden.</p>
                )}
              </section>
            );
          })}
        </div>
      </article>
    </Layout>
  );
}
