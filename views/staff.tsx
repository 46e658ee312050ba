/**
 * The staff page /innlesing: upload a document, and the ingestion worker's jobs with their state,
 * progress, errors and a retry button. Only signed-in staff get it (server/staff.ts).
 *
 * File names, titles, labels and error texts are hostile (they come from uploads and from
 * documents): each is a JSX text child, escaped by hono/jsx, and the job list carries
 * `hx-ignore`, so htmx never processes anything inside it. The list region polls
 * (`hx-trigger="every 2s"`, swapping itself outerHTML) only while jobs are queued or running:
 * a list with nothing active comes back without the trigger, and the polling stops.
 */
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { AccessLevel, Principal } from '../indexes/types.ts';
import type { Job, JobState, QueueCounts } from '../ingest/queue.ts';
import { accessLabel, documentUrl, formatCount, kindLabel } from './format.tsx';
import { Layout } from './layout.tsx';

export const STAFF_PATH = '/innlesing';
export const UPLOAD_PATH = '/innlesing/last-opp';
export const JOBS_PATH = '/innlesing/jobber';
export const retryPath = (id: number) => `/innlesing/jobber/${id}/prov-igjen`;

/** What the upload form holds (kept when an upload is refused, except the file). */
export interface UploadFormValues {
  title: string;
  access: AccessLevel;
  groups: string[];
  kind: string;
}

export const EMPTY_FORM: UploadFormValues = { title: '', access: 'internal', groups: [], kind: '' };

/** A job as the list shows it. */
export interface JobRow {
  job: Job;
  /** The document to link to once done, if any. */
  documentId: string | null;
  canRetry: boolean;
}

export interface Estimate {
  pagesPerMinute: number | null;
  secondsLeft: number | null;
}

export interface Notice {
  kind: 'ok' | 'feil';
  text: string;
  /** A link after the text (to the document, to /innlesing). */
  link?: { href: string; text: string };
}

export interface JobsProps {
  rows: JobRow[];
  counts: QueueCounts;
  estimate: Estimate;
  /** Admins see every job; others see theirs and uploads they may read. */
  all: boolean;
}

export interface StaffPageProps extends JobsProps {
  principal: Principal;
  form: UploadFormValues;
  /** The answer to an upload, above the form. */
  uploadNotice?: Notice | null;
  /** What the last action did (a job queued, a refusal), at the top; outside the polled list, so it stays. */
  notice?: Notice | null;
  /** The document kinds the form offers. */
  kinds: readonly string[];
}

export const STATE_LABELS: Record<JobState, string> = { queued: 'i kø', running: 'arbeider', done: 'ferdig', failed: 'feilet' };

const KIND_LABELS: Record<Job['kind'], string> = {
  ingest: 'Innlesing',
  ocr: 'Les på nytt med OCR',
  delete: 'Sletting',
  access: 'Endre tilgang',
  reindex: 'Reindeksering',
};

const TIME = new Intl.DateTimeFormat('nb-NO', { timeZone: 'Europe/Oslo', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

export function formatTime(ms: number): string {
  return TIME.format(new Date(ms));
}

/** "under ett minutt", "omtrent 4 min", "omtrent 1 t 20 min". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return 'under ett minutt';
  const min = Math.round(seconds / 60);
  if (min < 60) return `omtrent ${min} min`;
  const h = Math.floor(min / 60);
  const rest = min % 60;
  return `omtrent ${h} t${rest ? ` ${rest} min` : ''}`;
}

/** 12 -> "12", 3.25 -> "3,3" (pages per minute). */
export function formatRate(perMinute: number): string {
  return perMinute.toLocaleString('nb-NO', { maximumFractionDigits: perMinute < 10 ? 1 : 0 });
}

/** The worker's progress text in Norwegian: "OCR 3/26 pages" -> "OCR: side 3 av 26". */
export function progressText(job: Pick<Job, 'progress' | 'pagesDone' | 'pagesTotal'>): string | null {
  const m = job.progress ? /^OCR (\d+)\/(\d+)/.exec(job.progress) : null;
  if (m) return `OCR: side ${m[1]} av ${m[2]}`;
  if (job.progress === 'leser') return 'leser filen';
  if (job.progress) return job.progress;
  if (job.pagesDone != null && job.pagesTotal != null) return `side ${job.pagesDone} av ${job.pagesTotal}`;
  return null;
}

function who(createdBy: string | null): string {
  if (!createdBy) return 'kommandolinjen';
  if (createdBy === 'inbox') return 'innboksmappen';
  return createdBy;
}

function jobDetail(job: Job): string | null {
  const p = job.payload;
  if (p.kind === 'access') return `til ${accessLabel(p.access).toLowerCase()}${p.groups.length ? ` (${p.groups.join(', ')})` : ''}`;
  if (p.kind === 'ingest') {
    const parts: string[] = [];
    if (p.title) parts.push(`tittel «${p.title}»`);
    if (p.access) parts.push(`${accessLabel(p.access).toLowerCase()}${p.groups?.length ? ` (${p.groups.join(', ')})` : ''}`);
    if (p.docKind) parts.push((kindLabel(p.docKind) ?? p.docKind).toLowerCase());
    return parts.length ? parts.join(' · ') : null;
  }
  return null;
}

function resultText(job: Job): string | null {
  const r = job.result as { status?: string; pages?: number | null; chunks?: number | null } | null;
  if (!r || typeof r !== 'object') return null;
  if (r.status === 'unchanged') return 'uendret (samme fil som før)';
  if (typeof r.pages === 'number') return `${formatCount(r.pages)} ${r.pages === 1 ? 'side' : 'sider'}`;
  return null;
}

function NoticeBox(props: { notice: Notice }) {
  const n = props.notice;
  return (
    <p class={n.kind === 'ok' ? 'varsel varsel-ok' : 'varsel varsel-feil'} role={n.kind === 'ok' ? 'status' : 'alert'}>
      {n.text}
      {n.link ? (
        <>
          {' '}
          <a href={n.link.href}>{n.link.text}</a>
        </>
      ) : null}
    </p>
  );
}

function JobItem(props: { row: JobRow }) {
  const { job, documentId, canRetry } = props.row;
  const progress = job.state === 'running' ? progressText(job) : null;
  const detail = jobDetail(job);
  const result = job.state === 'done' ? resultText(job) : null;
  return (
    <li class={`jobb jobb-${job.state}`} id={`jobb-${job.id}`}>
      <div class="jobb-hode">
        <span class={`jobbtilstand tilstand-${job.state}`}>{STATE_LABELS[job.state]}</span>
        <span class="jobb-navn">{job.label}</span>
        <span class="jobb-type">{`${KIND_LABELS[job.kind] ?? job.kind} · jobb ${job.id}`}</span>
      </div>
      {detail ? <p class="jobb-detalj">{detail}</p> : null}
      <p class="jobb-meta">
        {`Lagt i kø av ${who(job.createdBy)} `}
        <time datetime={new Date(job.createdAt).toISOString()}>{formatTime(job.createdAt)}</time>
        {job.finishedAt ? (
          <>
            {' · ferdig '}
            <time datetime={new Date(job.finishedAt).toISOString()}>{formatTime(job.finishedAt)}</time>
          </>
        ) : null}
        {job.attempts > 1 ? ` · forsøk ${job.attempts}` : null}
      </p>
      {progress ? <p class="jobb-fremdrift">{progress}</p> : null}
      {job.state === 'running' && job.pagesDone != null && job.pagesTotal ? (
        <progress class="jobb-linje" max={String(job.pagesTotal)} value={String(job.pagesDone)}>
          {`${job.pagesDone} av ${job.pagesTotal}`}
        </progress>
      ) : null}
      {result ? <p class="jobb-resultat">{result}</p> : null}
      {job.state === 'failed' && job.error ? (
        <p class="jobb-feil">
          <span class="jobb-feil-etikett">Feil: </span>
          {job.error}
        </p>
      ) : null}
      {documentId || canRetry ? (
        <div class="jobb-handlinger">
          {documentId ? (
            <a class="jobb-dokument" href={documentUrl(documentId, null, '')}>
              Åpne dokumentet
            </a>
          ) : null}
          {canRetry ? (
            <form method="post" action={retryPath(job.id)} class="jobb-prov-igjen">
              <button type="submit" class="knapp-sekundaer">
                Prøv igjen
              </button>
            </form>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

/** The job list region: counts, estimate, the jobs. Polls itself while anything is queued or running. */
export function JobsRegion(p: JobsProps): JSX.Element {
  const active = p.counts.queued + p.counts.running > 0;
  const poll = active ? { 'hx-get': JOBS_PATH, 'hx-trigger': 'every 2s', 'hx-swap': 'outerHTML' } : {};
  const { pagesPerMinute, secondsLeft } = p.estimate;
  return (
    <section id="jobber" class="jobber" aria-labelledby="jobber-tittel" data-aktiv={active ? 'ja' : 'nei'} {...poll}>
      <h2 id="jobber-tittel">Jobber</h2>
      <p class="kotall">
        {`I kø: ${formatCount(p.counts.queued)} · Arbeider: ${formatCount(p.counts.running)} · Ferdig: ${formatCount(p.counts.done)} · Feilet: ${formatCount(p.counts.failed)}`}
      </p>
      {pagesPerMinute ? (
        <p class="koestimat">
          {`Siste time: ${formatRate(pagesPerMinute)} sider i minuttet`}
          {active && secondsLeft != null ? ` · ${formatDuration(secondsLeft)} igjen` : null}
        </p>
      ) : null}
      <p class="jobb-hvem">{p.all ? 'Du ser alle jobber.' : 'Du ser dine egne jobber og opplastinger du har tilgang til.'}</p>
      {p.rows.length ? (
        <ol class="jobbliste" hx-ignore="">
          {p.rows.map((row) => (
            <JobItem row={row} />
          ))}
        </ol>
      ) : (
        <p class="ingen-jobber">Ingen jobber å vise ennå.</p>
      )}
    </section>
  );
}

function UploadForm(p: { principal: Principal; form: UploadFormValues; kinds: readonly string[] }) {
  const { principal, form } = p;
  const admin = principal.admin === true;
  const canProtect = admin || principal.groups.length > 0;
  return (
    <form
      method="post"
      action={UPLOAD_PATH}
      enctype="multipart/form-data"
      class="opplasting-skjema"
      hx-post={UPLOAD_PATH}
      hx-target="#innlesing"
      hx-swap="outerHTML"
      hx-indicator="#opplasting-laster"
    >
      <div class="felt">
        <label for="fil">Fil</label>
        <input
          type="file"
          id="fil"
          name="file"
          required
          accept=".pdf,.txt,.md,.markdown,.html,.htm,application/pdf,text/plain,text/markdown,text/html"
          aria-describedby="fil-hjelp"
        />
        <p id="fil-hjelp" class="hjelp">
          PDF (også skannet), .txt, .md eller .html. Samme filnavn på nytt erstatter det forrige dokumentet.
        </p>
      </div>
      <div class="felt">
        <label for="tittel">Tittel (valgfri)</label>
        <input type="text" id="tittel" name="title" maxlength={300} value={form.title} aria-describedby="tittel-hjelp" />
        <p id="tittel-hjelp" class="hjelp">
          Tom: tittelen hentes fra dokumentet.
        </p>
      </div>
      <fieldset class="felt">
        <legend>Tilgang</legend>
        {(['public', 'internal', 'protected'] as const).map((a) => (
          <label class="valg">
            <input type="radio" name="access" value={a} checked={form.access === a} disabled={a === 'protected' && !canProtect} />
            {` ${accessLabel(a)}`}
            <span class="hjelp">
              {a === 'public'
                ? ' – alle kan lese det'
                : a === 'internal'
                  ? ' – ansatte og folkevalgte som er logget inn'
                  : canProtect
                    ? ' – bare gruppene du velger'
                    : ' – du er ikke med i noen gruppe'}
            </span>
          </label>
        ))}
      </fieldset>
      {canProtect ? (
        admin ? (
          <div class="felt">
            <label for="grupper">Grupper (for skjermet, kommaseparert)</label>
            <input type="text" id="grupper" name="groups" value={form.groups.join(', ')} />
          </div>
        ) : (
          <fieldset class="felt">
            <legend>Grupper (for skjermet)</legend>
            {principal.groups.map((g) => (
              <label class="valg">
                <input type="checkbox" name="groups" value={g} checked={form.groups.includes(g)} />
                {` ${g}`}
              </label>
            ))}
          </fieldset>
        )
      ) : null}
      <div class="felt">
        <label for="dokumenttype">Dokumenttype (valgfri)</label>
        <select id="dokumenttype" name="kind">
          <option value="" selected={form.kind === ''}>
            Finn ut fra innholdet
          </option>
          {p.kinds.map((k) => (
            <option value={k} selected={form.kind === k}>
              {kindLabel(k) ?? k}
            </option>
          ))}
        </select>
      </div>
      <div class="felt knapper">
        <button type="submit" class="knapp">
          Last opp
        </button>
        <span id="opplasting-laster" class="htmx-indicator">
          Laster opp …
        </span>
      </div>
    </form>
  );
}

/** The part an upload replaces: the form (fresh, or with the values of a refused upload), its notice and the jobs. */
export function StaffRegion(p: StaffPageProps): JSX.Element {
  return (
    <div id="innlesing" class="innlesing">
      <section class="opplasting" aria-labelledby="opplasting-tittel">
        <h2 id="opplasting-tittel">Last opp et dokument</h2>
        {p.uploadNotice ? <NoticeBox notice={p.uploadNotice} /> : null}
        <UploadForm principal={p.principal} form={p.form} kinds={p.kinds} />
      </section>
      <JobsRegion rows={p.rows} counts={p.counts} estimate={p.estimate} all={p.all} />
    </div>
  );
}

/** What a request for the list or an upload gets when the caller is not (or no longer) signed-in staff. */
export function GoneFragment(): JSX.Element {
  return (
    <section id="jobber" class="jobber">
      <p class="varsel varsel-feil" role="alert">
        Siden finnes ikke, eller du er ikke logget inn. <a href="/logg-inn">Logg inn</a>
      </p>
    </section>
  );
}

export function StaffPage(p: StaffPageProps): JSX.Element {
  return (
    <Layout title="Innlesing" principal={p.principal} q="">
      <h1>Innlesing av dokumenter</h1>
      <p class="ingress">
        Last opp protokoller og rapporter. Filene leses inn i bakgrunnen (skannede sider med OCR); listen under viser hvor langt hver jobb har kommet.
      </p>
      {p.notice ? <NoticeBox notice={p.notice} /> : null}
      <StaffRegion {...p} />
    </Layout>
  );
}
