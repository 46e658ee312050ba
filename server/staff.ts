/**
 * Staff routes (issue 15): uploads, the job list, and the admins' document actions.
 *
 *   GET  /innlesing                         the staff page: upload form and jobs (internal staff)
 *   GET  /innlesing/jobber                  the job list partial (htmx polls it while jobs run)
 *   POST /innlesing/last-opp                upload a file (multipart): checked, saved, queued
 *   POST /innlesing/jobber/:id/prov-igjen   queue a failed job again (admin or its creator)
 *   POST /documents/:id/slett               queue the deletion of a document (admin)
 *   POST /documents/:id/tilgang             queue a change of its access (admin)
 *   POST /documents/:id/ocr                 queue reading it again with OCR (admin)
 *   POST /api/v1/uploads                    the upload, for the API: 202 with the job
 *   GET  /api/v1/jobs/:id                   one job
 *
 * The web server never ingests, OCRs, deletes or changes access itself: it adds jobs to the
 * durable queue in the data directory (ingest/queue.ts), and the worker (`innsikt worker`,
 * which `innsikt serve` runs beside it) works them. So the worker is the index's and silver's
 * only writer, a slow OCR never holds a request, and a change waits its turn behind the
 * uploads before it.
 *
 * Who may do what:
 * - the public: none of it; every route answers 404, as for any page that is not there;
 * - internal staff (internal, or members of a group): upload (public, internal, or protected
 *   for groups they belong to), see their own jobs and uploads they may read, retry their own
 *   failed jobs;
 * - admins: all of that for every job, protected for any group, and the document actions.
 *
 * Forms are POST; the session cookie is SameSite=Strict, and as defence in depth a POST from a
 * browser whose Sec-Fetch-Site or Origin names another site is refused (crossSite()).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { canRead, readerScope } from '../indexes/access.ts';
import type { Store } from '../indexes/store.ts';
import { ACCESS_LEVELS, type AccessLevel, type DocumentKind, type Principal } from '../indexes/types.ts';
import { type DataDir, documentIdFor, writeAtomic } from '../ingest/data-dir.ts';
import { type Job, type JobPayload, JobQueue } from '../ingest/queue.ts';
import { ErrorPage } from '../views/errors.tsx';
import {
  EMPTY_FORM,
  GoneFragment,
  type JobsProps,
  JobsRegion,
  type Notice,
  STAFF_PATH,
  StaffPage,
  type StaffPageProps,
  StaffRegion,
  type UploadFormValues,
} from '../views/staff.tsx';
import type { Config } from './config.ts';
import { checkUpload, type Refusal, safeFileName, tooLarge } from './upload-check.ts';

type Env = { Variables: { principal: Principal } };

/** The document kinds an upload may set (indexes/types.ts DocumentKind, every one: checked below). */
export const DOCUMENT_KINDS = [
  'møteprotokoll',
  'saksprotokoll',
  'møtebok',
  'saksliste',
  'saksframlegg',
  'innsiktsrapport',
  'utredning',
  'rapport',
  'brev',
  'forskrift',
  'annet',
] as const satisfies readonly DocumentKind[];
// A kind added to DocumentKind and not here fails to compile.
const _allKinds: [Exclude<DocumentKind, (typeof DOCUMENT_KINDS)[number]>] extends [never] ? true : never = true;
void _allKinds;

/** Jobs the list shows at most. */
const LIST_LIMIT = 50;
/** Room for the form's other fields and the multipart framing on top of the file itself. */
const FORM_OVERHEAD = 1024 * 1024;
const GROUP_NAME = /^[\p{L}\p{N}][\p{L}\p{N}_.-]{0,63}$/u;
const MAX_TITLE = 300;

export interface StaffContext {
  store: Store;
  dataDir: DataDir;
  config: Config;
  /** The job queue; by default the data directory's (one connection per file in this process). */
  queue?: JobQueue;
}

const queues = new Map<string, JobQueue>();
function queueFor(dataDir: DataDir): JobQueue {
  let q = queues.get(dataDir.queueFile);
  if (!q) queues.set(dataDir.queueFile, (q = new JobQueue(dataDir.queueFile)));
  return q;
}

export const isStaff = (p: Principal) => p.internal || p.admin === true;

/** Whether this principal may see the job: admins all; others their own and uploads they may read. */
export function canSeeJob(job: Job, principal: Principal): boolean {
  if (principal.admin) return true;
  if (!isStaff(principal)) return false;
  if (job.createdBy !== null && job.createdBy === principal.id) return true;
  const p = job.payload;
  return p.kind === 'ingest' && p.access !== undefined && canRead(readerScope(principal), p.access, p.groups ?? []);
}

export const canRetry = (job: Job, principal: Principal) =>
  job.state === 'failed' && (principal.admin === true || (job.createdBy !== null && job.createdBy === principal.id));

/** The document a job is about, to link to: the one it read, or the one whose access it changed. */
function jobDocument(job: Job): string | null {
  if (job.state !== 'done') return null;
  const r = job.result as { documentId?: unknown } | null;
  if ((job.kind === 'ingest' || job.kind === 'ocr') && typeof r?.documentId === 'string') return r.documentId;
  if (job.payload.kind === 'access') return job.payload.documentId;
  return null;
}

/** A job for the API: no paths of this machine (the staged file, the inbox). */
export function jobJson(job: Job) {
  const { file: _f, inbox: _i, ...payload } = job.payload as JobPayload & { file?: string; inbox?: string };
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: job.id,
    kind: job.kind,
    label: job.label,
    state: job.state,
    attempts: job.attempts,
    progress: job.progress,
    pagesDone: job.pagesDone,
    pagesTotal: job.pagesTotal,
    error: job.error,
    result: job.result,
    documentId: jobDocument(job),
    payload,
    createdBy: job.createdBy,
    createdAt: iso(job.createdAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

/**
 * A browser POST from another site: Sec-Fetch-Site (sent by current browsers) other than
 * same-origin, or else an Origin whose host is not ours. Requests with neither (curl, the API)
 * pass: the session cookie is SameSite=Strict, so a cross-site form cannot carry it anyway.
 */
export function crossSite(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site) return site !== 'same-origin' && site !== 'none';
  const origin = c.req.header('origin');
  if (!origin) return false;
  try {
    return new URL(origin).host !== (c.req.header('host') ?? new URL(c.req.url).host);
  } catch {
    return true; // "null" and other opaque origins
  }
}

const isHtmx = (c: Context) => c.req.header('hx-request') === 'true';

function page(c: Context, body: unknown, status: ContentfulStatusCode = 200): Response {
  c.header('Cache-Control', 'private, no-store');
  return c.html('<!DOCTYPE html>' + String(body), status);
}

function partial(c: Context, body: unknown, status: ContentfulStatusCode = 200): Response {
  c.header('Cache-Control', 'private, no-store');
  c.header('Vary', 'HX-Request, Cookie');
  return c.html(String(body), status);
}

/** Strings of a form field that may be sent once or many times, or as "a, b". */
function strings(v: unknown): string[] {
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list
    .filter((x): x is string => typeof x === 'string')
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

function oneString(v: unknown): string {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' ? x : '';
}

const isFile = (v: unknown): v is File => typeof v === 'object' && v !== null && typeof (v as File).arrayBuffer === 'function' && 'name' in v;

type Checked<T> = { ok: T } | { refusal: Refusal };

/**
 * Access and groups as asked for: protected needs at least one group, and a non-admin may only
 * protect for groups they belong to (they could not read the document otherwise).
 */
export function checkAccess(principal: Principal, accessRaw: string, groupsRaw: string[]): Checked<{ access: AccessLevel; groups: string[] }> {
  const access = (accessRaw || 'internal') as AccessLevel;
  if (!ACCESS_LEVELS.includes(access))
    return { refusal: { status: 400, no: 'Velg tilgang: offentlig, intern eller skjermet.', en: `"access" must be one of ${ACCESS_LEVELS.join(', ')}` } };
  if (access !== 'protected') return { ok: { access, groups: [] } };
  const groups = [...new Set(groupsRaw)];
  const bad = groups.find((g) => !GROUP_NAME.test(g));
  if (bad !== undefined)
    return {
      refusal: {
        status: 400,
        no: 'Et gruppenavn kan bare ha bokstaver, tall, punktum, bindestrek og understrek (høyst 64 tegn).',
        en: 'a group name may hold letters, digits, ".", "-" and "_" only (at most 64 characters)',
      },
    };
  if (groups.length === 0)
    return { refusal: { status: 400, no: 'Skjermet tilgang krever minst én gruppe.', en: '"protected" access needs at least one group in "groups"' } };
  if (!principal.admin) {
    const foreign = groups.filter((g) => !principal.groups.includes(g));
    if (foreign.length)
      return {
        refusal: {
          status: 403,
          no: principal.groups.length
            ? `Du kan bare skjerme dokumenter for grupper du selv er med i (${principal.groups.join(', ')}).`
            : 'Du er ikke med i noen gruppe, så du kan ikke skjerme dokumenter. Velg intern tilgang, eller be en administrator.',
          en: `you may protect documents only for groups you belong to (${principal.groups.join(', ') || 'none'})`,
        },
      };
  }
  return { ok: { access, groups } };
}

interface UploadRequest {
  name: string;
  bytes: Uint8Array;
  title?: string;
  docKind?: DocumentKind;
  access: AccessLevel;
  groups: string[];
}

export function registerStaffRoutes(app: Hono<Env>, ctx: StaffContext): void {
  const { store, dataDir, config } = ctx;
  const queue = ctx.queue ?? queueFor(dataDir);
  const uploadsDir = path.join(dataDir.root, 'uploads');

  const notFoundPage = (c: Context) =>
    page(
      c,
      ErrorPage({ status: 404, title: 'Siden finnes ikke', message: 'Sjekk adressen, eller gå til forsiden og søk.', principal: c.get('principal') }),
      404,
    );

  /**
   * Staff only: everyone else gets the 404 of a page that is not there. (An htmx request, the
   * list's polling after the session ran out, gets the 404 as a fragment without a trigger,
   * which ends the polling instead of swapping a whole page into the list.)
   */
  const staffOnly: MiddlewareHandler<Env> = async (c, next) => {
    if (isStaff(c.get('principal'))) return next();
    if (c.req.path.startsWith('/api/')) return c.json({ error: 'Not found' }, 404);
    return isHtmx(c) ? partial(c, GoneFragment(), 404) : notFoundPage(c);
  };
  /** POSTs from a browser on another site are refused (defence in depth beside SameSite=Strict). */
  const sameSite: MiddlewareHandler<Env> = async (c, next) => {
    if (!c.req.header('authorization') && crossSite(c)) {
      return c.req.path.startsWith('/api/')
        ? c.json({ error: 'Cross-site request refused' }, 403)
        : c.text('Forespørselen kom fra et annet nettsted og ble avvist.', 403);
    }
    await next();
  };
  const adminOnly: MiddlewareHandler<Env> = async (c, next) => {
    const principal = c.get('principal');
    if (!isStaff(principal)) return notFoundPage(c);
    if (!principal.admin)
      return page(
        c,
        ErrorPage({ status: 403, title: 'Bare for administratorer', message: 'Bare administratorer kan slette dokumenter og endre tilgangen.', principal }),
        403,
      );
    await next();
  };

  function jobsProps(principal: Principal): JobsProps {
    const rows = queue
      .list({ limit: principal.admin ? LIST_LIMIT : 500 })
      .filter((j) => canSeeJob(j, principal))
      .slice(0, LIST_LIMIT)
      .map((job) => ({ job, documentId: jobDocument(job), canRetry: canRetry(job, principal) }));
    const { pagesPerMinute, secondsLeft } = queue.estimate();
    return { rows, counts: queue.counts(), estimate: { pagesPerMinute, secondsLeft }, all: principal.admin === true };
  }

  function staffProps(principal: Principal, over: Partial<StaffPageProps> = {}): StaffPageProps {
    return { principal, form: EMPTY_FORM, kinds: DOCUMENT_KINDS, ...jobsProps(principal), ...over };
  }

  /** "Jobb 12 (Sletting: x) er lagt i kø." for the job of a redirect, when the caller may see it. */
  function queuedNotice(principal: Principal, id: number): Notice | null {
    const job = queue.get(id);
    if (!job || !canSeeJob(job, principal)) return null;
    const p = job.payload;
    const docId = p.kind === 'access' || p.kind === 'ocr' ? p.documentId : null;
    return {
      kind: 'ok',
      text: `«${job.label}» er lagt i kø som jobb ${job.id}. Listen under oppdaterer seg selv.`,
      link: docId ? { href: `/documents/${encodeURIComponent(docId)}`, text: 'Til dokumentet' } : undefined,
    };
  }

  const staff = new Hono<Env>();
  staff.use('*', staffOnly);

  staff.get('/', (c) => {
    const principal = c.get('principal');
    const id = Number(c.req.query('lagt-i-ko'));
    const notice = Number.isInteger(id) && id > 0 ? queuedNotice(principal, id) : null;
    return page(c, StaffPage(staffProps(principal, { notice })));
  });

  staff.get('/jobber', (c) => {
    if (!isHtmx(c)) return c.redirect(STAFF_PATH, 303);
    return partial(c, JobsRegion(jobsProps(c.get('principal'))));
  });

  staff.post('/jobber/:id/prov-igjen', sameSite, (c) => {
    const principal = c.get('principal');
    const job = queue.get(Number(c.req.param('id')));
    if (!job || !canSeeJob(job, principal)) return notFoundPage(c);
    if (!canRetry(job, principal)) {
      const message =
        job.state !== 'failed'
          ? `Jobb ${job.id} har ikke feilet (den er ${job.state === 'done' ? 'ferdig' : 'i gang eller i kø'}).`
          : 'Bare den som la jobben i kø, eller en administrator, kan prøve den igjen.';
      return page(c, StaffPage(staffProps(principal, { notice: { kind: 'feil', text: message } })), job.state !== 'failed' ? 409 : 403);
    }
    queue.retry(job.id);
    return c.redirect(`${STAFF_PATH}?lagt-i-ko=${job.id}`, 303);
  });

  /** The multipart body as an upload, or why not. Reads the file into memory (bounded by bodyLimit). */
  async function readUpload(c: Context<Env>): Promise<{ form: UploadFormValues } & Checked<UploadRequest>> {
    const principal = c.get('principal');
    let body: Record<string, unknown>;
    try {
      body = (await c.req.parseBody({ all: true })) as Record<string, unknown>;
    } catch {
      return { form: EMPTY_FORM, refusal: { status: 400, no: 'Skjemaet kom ikke fram helt. Prøv igjen.', en: 'send the upload as multipart/form-data' } };
    }
    const title = oneString(body.title)
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, MAX_TITLE);
    const kind = oneString(body.kind).trim();
    const accessRaw = oneString(body.access).trim();
    const groupsRaw = strings(body.groups);
    const form: UploadFormValues = {
      title,
      access: (ACCESS_LEVELS as readonly string[]).includes(accessRaw) ? (accessRaw as AccessLevel) : 'internal',
      groups: groupsRaw,
      kind: (DOCUMENT_KINDS as readonly string[]).includes(kind) ? kind : '',
    };
    const files = (Array.isArray(body.file) ? body.file : [body.file]).filter(isFile);
    if (files.length === 0) return { form, refusal: { status: 400, no: 'Velg en fil å laste opp.', en: 'missing "file": send the file as a multipart field' } };
    if (files.length > 1) return { form, refusal: { status: 400, no: 'Last opp én fil om gangen.', en: 'send one file per upload' } };
    if (kind && !(DOCUMENT_KINDS as readonly string[]).includes(kind))
      return { form, refusal: { status: 400, no: 'Ukjent dokumenttype.', en: `"kind" must be one of ${DOCUMENT_KINDS.join(', ')}` } };
    const access = checkAccess(principal, accessRaw, groupsRaw);
    if ('refusal' in access) return { form, refusal: access.refusal };
    const file = files[0];
    const name = safeFileName(file.name);
    if (file.size > config.maxFileBytes) return { form, refusal: tooLarge(name, file.size, config.maxFileBytes) };
    const bytes = new Uint8Array(await file.arrayBuffer());
    const refusal = checkUpload(name, bytes, config.maxFileBytes);
    if (refusal) return { form, refusal };
    return {
      form,
      ok: {
        name,
        bytes,
        title: title || undefined,
        docKind: (kind || undefined) as DocumentKind | undefined,
        access: access.ok.access,
        groups: access.ok.groups,
      },
    };
  }

  /**
   * Save the upload under uploads/ and queue it. Its id is that of uploads/<name>, so a new
   * version of a name replaces the old document; but never one the uploader may not read (an
   * upload must not overwrite or re-label another group's document): then the upload becomes
   * a document of its own, and nothing tells the uploader that another one exists.
   */
  function queueUpload(principal: Principal, u: UploadRequest): Job {
    let id = documentIdFor(path.join(uploadsDir, u.name));
    const existing = dataDir.readSilver(id);
    if (existing && !canRead(readerScope(principal), existing.access, existing.groups ?? [])) {
      id = documentIdFor(path.join(uploadsDir, crypto.createHash('sha256').update(principal.id).digest('hex').slice(0, 12), u.name));
    }
    const file = path.join(uploadsDir, `${crypto.randomBytes(8).toString('hex')}-${u.name}`);
    writeAtomic(file, Buffer.from(u.bytes.buffer, u.bytes.byteOffset, u.bytes.byteLength));
    try {
      return queue.add(
        { kind: 'ingest', file, sourceName: u.name, id, title: u.title, docKind: u.docKind, access: u.access, groups: u.groups, removeAfter: true },
        principal.id,
      );
    } catch (err) {
      fs.rmSync(file, { force: true });
      throw err;
    }
  }

  const uploadTooLarge = (c: Context<Env>) => {
    const refusal = tooLarge(null, null, config.maxFileBytes);
    if (c.req.path.startsWith('/api/')) return c.json({ error: refusal.en }, 413);
    const principal = c.get('principal');
    const props = staffProps(principal, { uploadNotice: { kind: 'feil', text: refusal.no } });
    // The connection is closed after the answer: the rest of the body is not read.
    c.header('Connection', 'close');
    return isHtmx(c) ? partial(c, StaffRegion(props), 413) : page(c, StaffPage(props), 413);
  };
  const limit = bodyLimit({ maxSize: config.maxFileBytes + FORM_OVERHEAD, onError: uploadTooLarge });

  staff.post('/last-opp', sameSite, limit, async (c) => {
    const principal = c.get('principal');
    const read = await readUpload(c);
    if ('refusal' in read) {
      const props = staffProps(principal, { form: read.form, uploadNotice: { kind: 'feil', text: read.refusal.no } });
      return isHtmx(c) ? partial(c, StaffRegion(props), read.refusal.status) : page(c, StaffPage(props), read.refusal.status);
    }
    const job = queueUpload(principal, read.ok);
    if (!isHtmx(c)) return c.redirect(`${STAFF_PATH}?lagt-i-ko=${job.id}`, 303);
    const notice: Notice = { kind: 'ok', text: `«${job.label}» er lastet opp og lagt i kø som jobb ${job.id}. Listen under oppdaterer seg selv.` };
    return partial(c, StaffRegion(staffProps(principal, { uploadNotice: notice })));
  });

  app.route(STAFF_PATH, staff);

  // --- The API -----------------------------------------------------------------------------
  app.post('/api/v1/uploads', staffOnly, sameSite, limit, async (c) => {
    const read = await readUpload(c);
    if ('refusal' in read) return c.json({ error: read.refusal.en }, read.refusal.status);
    const job = queueUpload(c.get('principal'), read.ok);
    c.header('Location', `/api/v1/jobs/${job.id}`);
    return c.json({ job: jobJson(job) }, 202);
  });

  app.get('/api/v1/jobs/:id', staffOnly, (c) => {
    const job = queue.get(Number(c.req.param('id')));
    if (!job || !canSeeJob(job, c.get('principal'))) return c.json({ error: 'Not found' }, 404);
    c.header('Cache-Control', 'private, no-store');
    return c.json({ job: jobJson(job) });
  });

  // --- Admins' document actions: each one a job, like an upload -----------------------------
  /** The document, read with the admin's own principal (so it exists), or a 404 page. */
  const withDocument = async (c: Context<Env>) => store.getDocument(c.req.param('id') ?? '', c.get('principal'));
  const queued = (c: Context<Env>, job: Job) => c.redirect(`${STAFF_PATH}?lagt-i-ko=${job.id}`, 303);
  const refused = (c: Context<Env>, status: ContentfulStatusCode, message: string, docId: string) =>
    page(
      c,
      StaffPage(
        staffProps(c.get('principal'), {
          notice: { kind: 'feil', text: message, link: { href: `/documents/${encodeURIComponent(docId)}`, text: 'Tilbake til dokumentet' } },
        }),
      ),
      status,
    );

  app.post('/documents/:id/slett', adminOnly, sameSite, async (c) => {
    const doc = await withDocument(c);
    if (!doc) return notFoundPage(c);
    const form = await c.req.parseBody();
    if (form.bekreft !== 'ja') return refused(c, 400, 'Dokumentet ble ikke slettet: kryss av for å bekrefte slettingen.', doc.id);
    return queued(c, queue.add({ kind: 'delete', documentId: doc.id }, c.get('principal').id));
  });

  app.post('/documents/:id/tilgang', adminOnly, sameSite, async (c) => {
    const doc = await withDocument(c);
    if (!doc) return notFoundPage(c);
    const form = await c.req.parseBody({ all: true });
    const access = checkAccess(c.get('principal'), oneString(form.access).trim(), strings(form.groups));
    if ('refusal' in access) return refused(c, access.refusal.status, `Tilgangen ble ikke endret: ${access.refusal.no}`, doc.id);
    return queued(c, queue.add({ kind: 'access', documentId: doc.id, access: access.ok.access, groups: access.ok.groups }, c.get('principal').id));
  });

  app.post('/documents/:id/ocr', adminOnly, sameSite, async (c) => {
    const doc = await withDocument(c);
    if (!doc) return notFoundPage(c);
    if (doc.mediaType !== 'application/pdf') return refused(c, 400, 'Bare PDF-er kan leses med OCR.', doc.id);
    return queued(c, queue.add({ kind: 'ocr', documentId: doc.id }, c.get('principal').id));
  });
}

/** Jobs still to run for a document (for its admin panel): queued or running deletes, access changes, OCR. */
export function pendingJobsFor(queue: JobQueue, documentId: string): Job[] {
  return queue
    .list({ states: ['queued', 'running'], limit: 500 })
    .filter((j) => (j.payload.kind === 'ingest' ? j.payload.id === documentId : 'documentId' in j.payload && j.payload.documentId === documentId));
}

export { queueFor };
