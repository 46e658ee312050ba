/**
 * Browsing by the structure of protocols: a meeting with its agenda (each item's decision and
 * vote, with links to its pages in the PDF), one case followed across meetings and bodies as a
 * timeline, and a body's meetings by year. All text comes from documents: rendered as JSX text
 * only, under hx-ignore.
 *
 * Glossary: møte = meeting; sak = agenda item / case; utvalg = body; vedtak = decision;
 * votering = vote; enstemmig = unanimous.
 */
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { AgendaItem } from '../indexes/protocol-types.ts';
import type { BodyMeeting, CaseStep, MeetingView, Principal } from '../indexes/types.ts';
import { documentUrl, fileUrl, formatDate } from './format.tsx';
import { Layout } from './layout.tsx';

export function meetingUrl(documentId: string, index: number): string {
  return `/moter/${encodeURIComponent(documentId)}/${index}`;
}
/** Case URLs use "2024-45" for the normalised "2024/45". */
export function caseUrl(caseNorm: string): string {
  return `/saker/${encodeURIComponent(caseNorm.replace('/', '-'))}`;
}
export function bodyUrl(body: string): string {
  return `/utvalg/${encodeURIComponent(body)}`;
}

const OUTCOME_LABELS: Record<string, string> = {
  vedtatt: 'Vedtatt',
  avvist: 'Avvist',
  utsatt: 'Utsatt',
  'tatt til orientering': 'Tatt til orientering',
};

/** "Vedtatt 9–4", "Vedtatt enstemmig", "Avvist" ... */
export function outcomeText(item: { outcome: string | null; votes: { for: number | null; against: number | null; unanimous: boolean } | null }): string | null {
  const outcome = item.outcome ? (OUTCOME_LABELS[item.outcome] ?? item.outcome) : null;
  const v = item.votes;
  const vote = v ? (v.unanimous ? 'enstemmig' : v.for != null && v.against != null ? `${v.for}–${v.against}` : null) : null;
  if (outcome && vote) return `${outcome} ${vote}`;
  return outcome ?? (vote ? `Votering: ${vote}` : null);
}

function firstPage(item: AgendaItem, span: 'decision' | 'item'): number | null {
  return item.spans[span]?.pageStart ?? item.pages[0] ?? null;
}

function ItemBlock(p: { item: AgendaItem; documentId: string; isPdf: boolean }) {
  const { item } = p;
  const decisionPage = firstPage(item, 'decision');
  const itemPage = firstPage(item, 'item');
  const glance = outcomeText(item);
  return (
    <li class="sak">
      <h3 class="sak-tittel">
        {item.caseId ? <span class="saksnr">{item.caseId}</span> : null} {item.title ?? 'Uten tittel'}
      </h3>
      <p class="sak-meta">
        {glance ? <span class={`utfall utfall-${item.outcome ?? 'ukjent'}`}>{glance}</span> : null}
        {item.caseIdNormalized ? (
          <a href={caseUrl(item.caseIdNormalized)} class="sakslenke">
            Følg saken
          </a>
        ) : null}
        {itemPage != null ? <a href={documentUrl(p.documentId, itemPage, '')}>Side {String(itemPage)}</a> : null}
        {itemPage != null && p.isPdf ? <a href={fileUrl(p.documentId, itemPage)}>PDF</a> : null}
      </p>
      {item.decision ? (
        <div class="vedtak">
          <h4>
            Vedtak
            {decisionPage != null ? (
              <>
                {' '}
                <a href={documentUrl(p.documentId, decisionPage, '')} class="sidelenke">
                  (side {String(decisionPage)})
                </a>
              </>
            ) : null}
          </h4>
          <p class="vedtakstekst">{item.decision}</p>
        </div>
      ) : null}
      {item.votes?.text ? <p class="votering">Votering: {item.votes.text}</p> : null}
      {item.conflictsOfInterest.length ? (
        <p class="inhabil">Inhabil: {item.conflictsOfInterest.map((c) => (c.party ? `${c.name} (${c.party})` : c.name)).join(', ')}</p>
      ) : null}
    </li>
  );
}

export function MeetingPage(p: { view: MeetingView; isPdf: boolean; principal: Principal }): JSX.Element {
  const { meeting, documentId } = p.view;
  const title = `${meeting.body ?? 'Møte'} ${formatDate(meeting.date) ?? ''}`.trim();
  const time = meeting.startTime ? `kl. ${meeting.startTime}${meeting.endTime ? `–${meeting.endTime}` : ''}` : null;
  return (
    <Layout title={title} principal={p.principal} q="">
      <article class="mote" hx-ignore="">
        <p class="brodsmule">
          {meeting.body ? <a href={bodyUrl(meeting.body)}>{meeting.body}</a> : null} · <a href={documentUrl(documentId, null, '')}>{p.view.title}</a>
        </p>
        <h1>{title}</h1>
        <p class="mote-meta">{[time, meeting.place].filter(Boolean).join(' · ')}</p>
        {meeting.attendees.length ? (
          <details class="deltakere">
            <summary>
              {`Til stede: ${meeting.attendees.length}`}
              {meeting.absent.length ? ` · Forfall: ${meeting.absent.length}` : ''}
            </summary>
            <ul>
              {meeting.attendees.map((a) => (
                <li>
                  {a.name}
                  {a.party ? ` (${a.party})` : ''}
                  {a.role ? `, ${a.role}` : ''}
                  {a.substituteFor ? `, møtte for ${a.substituteFor}` : ''}
                </li>
              ))}
            </ul>
            {meeting.absent.length ? <p>Forfall: {meeting.absent.map((a) => (a.party ? `${a.name} (${a.party})` : a.name)).join(', ')}</p> : null}
          </details>
        ) : null}
        <h2>Saker</h2>
        {meeting.agendaItems.length ? (
          <ol class="sakliste">
            {meeting.agendaItems.map((item) => (
              <ItemBlock item={item} documentId={documentId} isPdf={p.isPdf} />
            ))}
          </ol>
        ) : (
          <p>Fant ingen saker i dette dokumentet. Teksten er likevel søkbar.</p>
        )}
      </article>
    </Layout>
  );
}

export function CasePage(p: { caseNorm: string; steps: CaseStep[]; principal: Principal }): JSX.Element {
  const shown = p.steps[0]?.item.caseId ?? p.caseNorm;
  const title = p.steps.find((s) => s.item.title)?.item.title ?? '';
  return (
    <Layout title={`Sak ${p.caseNorm}`} principal={p.principal} q="">
      <article class="sak-tidslinje" hx-ignore="">
        <h1>
          {shown} {title}
        </h1>
        <p class="ingress">Saken fulgt gjennom utvalgene, eldste behandling først.</p>
        <ol class="tidslinje">
          {p.steps.map((s) => {
            const page = firstPage(s.item, 'decision');
            const glance = outcomeText(s.item);
            return (
              <li>
                <p class="tidslinje-hode">
                  <strong>{formatDate(s.date) ?? 'Uten dato'}</strong> · {s.body ? <a href={bodyUrl(s.body)}>{s.body}</a> : 'Ukjent utvalg'}
                  {glance ? (
                    <>
                      {' '}
                      · <span class={`utfall utfall-${s.item.outcome ?? 'ukjent'}`}>{glance}</span>
                    </>
                  ) : null}
                </p>
                {s.item.decision ? <p class="vedtakstekst">{s.item.decision}</p> : null}
                <p>
                  <a href={meetingUrl(s.documentId, s.meetingIndex)}>Hele møtet</a> ·{' '}
                  <a href={documentUrl(s.documentId, page, '')}>{page != null ? `${s.title}, side ${page}` : s.title}</a>
                </p>
              </li>
            );
          })}
        </ol>
      </article>
    </Layout>
  );
}

export function BodyPage(p: { body: string; meetings: BodyMeeting[]; principal: Principal }): JSX.Element {
  const byYear = new Map<string, BodyMeeting[]>();
  for (const m of p.meetings) {
    const y = m.date?.slice(0, 4) ?? 'Uten dato';
    if (!byYear.has(y)) byYear.set(y, []);
    byYear.get(y)!.push(m);
  }
  return (
    <Layout title={p.body} principal={p.principal} q="">
      <article class="utvalg" hx-ignore="">
        <h1>{p.body}</h1>
        <p class="ingress">{`${p.meetings.length} møter`}</p>
        {[...byYear.entries()].map(([year, meetings]) => (
          <section>
            <h2>{year}</h2>
            <ul class="moteliste">
              {meetings.map((m) => (
                <li>
                  <a href={meetingUrl(m.documentId, m.index)}>{formatDate(m.date) ?? m.title}</a>
                  {` · ${m.items} saker`}
                </li>
              ))}
            </ul>
          </section>
        ))}
      </article>
    </Layout>
  );
}
