import crypto from 'node:crypto';
/**
 * Staff uploads and actions (issue 15, server/staff.ts) through `app.request()` against a real
 * data directory, a real SQLite store and a real job queue: who sees the staff page and the
 * admins' controls, who may queue what (and that nothing is queued when they may not), the
 * content checks of uploads, hostile file names and titles, the job list with its failed jobs
 * and retry, and the OCR badges read from silver.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import type { SilverDocument } from '../indexes/types.ts';
import { DataDir, documentIdFor } from '../ingest/data-dir.ts';
import { type JobPayload, JobQueue } from '../ingest/queue.ts';
import { createApp } from '../server/app.ts';
import { loadConfig } from '../server/config.ts';
import { ocrSummary } from '../server/ocr-info.ts';
import { checkUpload, safeFileName } from '../server/upload-check.ts';
import { formatDuration, formatRate } from '../views/staff.tsx';
import { pageChunks, silverDoc, tempDir } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const PDF_FILE = path.join(ROOT, 'fixtures/demo/2024-03-14-bydelsutvalget.pdf');
const PDF = fs.readFileSync(PDF_FILE);

const INTERNAL = 'intern-nokkel-0123456789';
const OTHER = 'annen-nokkel-0123456789';
const GROUP = 'barnevern-nokkel-0123456789';
const ADMIN = 'admin-nokkel-0123456789';
const TOKENS = `${INTERNAL}=internal;${OTHER}=internal;${GROUP}=group:barnevern;${ADMIN}=admin`;
const id = (token: string) => `token:${token.slice(0, 4)}…${crypto.createHash('sha256').update(token).digest('hex').slice(0, 12)}`;

const EVIL = '<script>alert(1)</script><div hx-get="/admin">';
const embedder = new LocalHashEmbedder();

let dataDir: DataDir;
let store: SqliteStore;
let queue: JobQueue;
let app: ReturnType<typeof createApp>;

async function put(doc: SilverDocument): Promise<void> {
  const chunks = pageChunks(doc);
  await store.upsertDocument(doc, chunks, await embedder.embed(chunks.map((c) => c.text)), embedder);
  dataDir.stageSilver(doc).commit();
}

interface Req {
  token?: string;
  /** Send the token as a bearer token (the API) instead of the session cookie (a browser). */
  bearer?: boolean;
  method?: string;
  body?: FormData | URLSearchParams;
  htmx?: boolean;
  headers?: Record<string, string>;
}

async function request(a: ReturnType<typeof createApp>, url: string, o: Req = {}) {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) {
    if (o.bearer) headers.authorization = `Bearer ${o.token}`;
    else headers.cookie = `innsikt_token=${o.token}`;
  }
  if (o.htmx) headers['hx-request'] = 'true';
  const res = await a.request(url, { method: o.method ?? (o.body ? 'POST' : 'GET'), headers, body: o.body });
  return { status: res.status, location: res.headers.get('location'), headers: res.headers, text: await res.text() };
}
const req = (url: string, o: Req = {}) => request(app, url, o);

function upload(name: string, bytes: Uint8Array | string, fields: Record<string, string | string[]> = {}): FormData {
  const fd = new FormData();
  fd.append('file', new File([typeof bytes === 'string' ? bytes : Buffer.from(bytes)], name));
  for (const [k, v] of Object.entries(fields)) for (const x of Array.isArray(v) ? v : [v]) fd.append(k, x);
  return fd;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
const jobCount = () => queue.db.prepare('SELECT count(*) AS n FROM jobs').get() as { n: number };
const lastJob = () => queue.list({ limit: 1000 }).sort((a, b) => b.id - a.id)[0];

beforeAll(async () => {
  dataDir = new DataDir(tempDir('innsikt-staff-'));
  store = new SqliteStore(dataDir.indexFile);
  queue = new JobQueue(dataDir.queueFile);
  await put(silverDoc('offentlig-1', ['Budsjett for lekeplasser i Tøyenparken.']));
  await put(silverDoc('intern-1', ['Internt notat om hjemmetjenesten.'], { access: 'internal' }));
  await put(silverDoc('skjermet-1', ['Barnevernssak, skjermet.'], { access: 'protected', groups: ['barnevern'] }));
  await put(silverDoc('tekst-1', ['Et notat om kulturhus.'], { mediaType: 'text/plain', source: 'tekst-1.txt', paged: false }));
  const scanned = silverDoc('skannet-1', ['Skannet protokoll om bibliotekfilial.', 'Uleselig side om bibliotekfilial.', 'Tekstlag om bibliotekfilial.'], {
    title: `Skannet ${EVIL}`,
    extraction: { method: 'pdf-text+ocr', warnings: [] },
  });
  scanned.pages[0].ocr = { confidence: 91.2 };
  scanned.pages[1].ocr = { confidence: 42, low: true };
  await put(scanned);
  const config = loadConfig({ INNSIKT_DATA_DIR: dataDir.root, INNSIKT_TOKENS: TOKENS, INNSIKT_CACHE_ENTRIES: '0' });
  app = createApp({ store, embedder, dataDir, config, isReady: () => true, queue });
});

afterAll(() => {
  queue?.close();
  store?.close();
});

describe('the staff page /innlesing', () => {
  it('is a 404 for the public, like any page that is not there, and is not linked for them', async () => {
    const page = await req('/innlesing');
    expect(page.status).toBe(404);
    expect(page.text).toContain('Siden finnes ikke');
    expect(page.text).not.toContain('Last opp');
    // The list's polling after the session ran out: a 404 fragment without a trigger, not a page.
    const poll = await req('/innlesing/jobber', { htmx: true });
    expect(poll.status).toBe(404);
    expect(poll.text.startsWith('<section id="jobber"')).toBe(true);
    expect(poll.text).not.toContain('hx-trigger');
    expect(poll.text).not.toContain('<html');
    expect((await req('/')).text).not.toContain('href="/innlesing"');
    expect((await req('/api/v1/jobs/1')).status).toBe(404);
  });

  it('shows internal staff the upload form, the jobs and the header link', async () => {
    for (const token of [INTERNAL, GROUP, ADMIN]) {
      const page = await req('/innlesing', { token });
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('private, no-store');
      expect(page.text).toContain('<h1>Innlesing av dokumenter</h1>');
      expect(page.text).toMatch(/<form method="post" action="\/innlesing\/last-opp" enctype="multipart\/form-data"/);
      expect(page.text).toContain('hx-post="/innlesing/last-opp"');
      expect(page.text).toContain('name="file"');
      expect(page.text).toContain('name="title"');
      expect(page.text).toContain('name="access"');
      expect(page.text).toContain('<option value="innsiktsrapport">Innsiktsrapport</option>');
      expect(page.text).toContain('id="jobber"');
      expect((await req('/', { token })).text).toContain('href="/innlesing"');
    }
    // Groups: a member picks among their own; an admin writes any; an internal without groups cannot protect.
    expect((await req('/innlesing', { token: GROUP })).text).toContain('<input type="checkbox" name="groups" value="barnevern"/>');
    expect((await req('/innlesing', { token: ADMIN })).text).toContain('id="grupper" name="groups"');
    expect((await req('/innlesing', { token: INTERNAL })).text).toMatch(/value="protected" disabled/);
  });

  it('refuses every upload and action from the public with a 404, and queues nothing', async () => {
    const before = jobCount().n;
    expect((await req('/innlesing/last-opp', { body: upload('a.pdf', PDF) })).status).toBe(404);
    expect((await req('/api/v1/uploads', { body: upload('a.pdf', PDF) })).status).toBe(404);
    expect((await req('/documents/offentlig-1/slett', { body: form({ bekreft: 'ja' }) })).status).toBe(404);
    expect((await req('/documents/offentlig-1/tilgang', { body: form({ access: 'internal' }) })).status).toBe(404);
    expect((await req('/documents/offentlig-1/ocr', { body: form({}) })).status).toBe(404);
    expect(jobCount().n).toBe(before);
  });
});

describe('admins’ document actions', () => {
  it('are rendered for admins only', async () => {
    const admin = await req('/documents/offentlig-1', { token: ADMIN });
    expect(admin.text).toContain('Administrer dokumentet');
    expect(admin.text).toContain('action="/documents/offentlig-1/slett"');
    expect(admin.text).toContain('action="/documents/offentlig-1/tilgang"');
    expect(admin.text).toContain('action="/documents/offentlig-1/ocr"');
    expect(admin.text).toContain('Slett dokument');
    expect(admin.text).toContain('Les på nytt med OCR');
    // No OCR for a text file.
    expect((await req('/documents/tekst-1', { token: ADMIN })).text).not.toContain('/documents/tekst-1/ocr');
    for (const token of [undefined, INTERNAL, GROUP]) {
      const page = await req('/documents/offentlig-1', { token });
      expect(page.status).toBe(200);
      expect(page.text).not.toContain('Administrer dokumentet');
      expect(page.text).not.toContain('/slett');
      expect(page.text).not.toContain('/tilgang"');
    }
  });

  it('cannot be posted by staff who are not admins (403), and nothing is queued', async () => {
    const before = jobCount().n;
    for (const token of [INTERNAL, GROUP]) {
      expect((await req('/documents/offentlig-1/slett', { token, body: form({ bekreft: 'ja' }) })).status).toBe(403);
      expect((await req('/documents/offentlig-1/tilgang', { token, body: form({ access: 'internal' }) })).status).toBe(403);
      expect((await req('/documents/offentlig-1/ocr', { token, body: form({}) })).status).toBe(403);
      // Also not with a bearer token.
      expect((await req('/documents/offentlig-1/slett', { token, bearer: true, body: form({ bekreft: 'ja' }) })).status).toBe(403);
    }
    expect(jobCount().n).toBe(before);
  });

  it('queue a delete (after a confirmation), an access change and an OCR job for an admin', async () => {
    const before = jobCount().n;
    const unconfirmed = await req('/documents/offentlig-1/slett', { token: ADMIN, body: form({}) });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.text).toContain('kryss av for å bekrefte');
    expect(jobCount().n).toBe(before);

    const del = await req('/documents/offentlig-1/slett', { token: ADMIN, body: form({ bekreft: 'ja' }) });
    expect(del.status).toBe(303);
    const job = lastJob();
    expect(del.location).toBe(`/innlesing?lagt-i-ko=${job.id}`);
    expect(job.payload).toEqual({ kind: 'delete', documentId: 'offentlig-1' });
    expect(job.createdBy).toBe(id(ADMIN));
    expect(job.state).toBe('queued');
    // The redirect's page says so, and the document page shows the job waiting.
    const after = await req(del.location!, { token: ADMIN });
    expect(after.text).toContain(`er lagt i kø som jobb ${job.id}`);
    expect((await req('/documents/offentlig-1', { token: ADMIN })).text).toContain(`sletting (jobb ${job.id})`);

    const noGroups = await req('/documents/intern-1/tilgang', { token: ADMIN, body: form({ access: 'protected', groups: '' }) });
    expect(noGroups.status).toBe(400);
    expect(noGroups.text).toContain('Skjermet tilgang krever minst én gruppe');
    expect(jobCount().n).toBe(before + 1);
    const access = await req('/documents/intern-1/tilgang', { token: ADMIN, body: form({ access: 'protected', groups: 'barnevern, helse' }) });
    expect(access.status).toBe(303);
    expect(lastJob().payload).toEqual({ kind: 'access', documentId: 'intern-1', access: 'protected', groups: ['barnevern', 'helse'] });
    const pub = await req('/documents/intern-1/tilgang', { token: ADMIN, body: form({ access: 'public', groups: 'barnevern' }) });
    expect(pub.status).toBe(303);
    expect(lastJob().payload).toEqual({ kind: 'access', documentId: 'intern-1', access: 'public', groups: [] });

    const ocr = await req('/documents/skannet-1/ocr', { token: ADMIN, body: form({}) });
    expect(ocr.status).toBe(303);
    expect(lastJob().payload).toEqual({ kind: 'ocr', documentId: 'skannet-1' });
    expect((await req('/documents/tekst-1/ocr', { token: ADMIN, body: form({}) })).status).toBe(400);
    expect((await req('/documents/finnes-ikke/slett', { token: ADMIN, body: form({ bekreft: 'ja' }) })).status).toBe(404);
    expect(jobCount().n).toBe(before + 4);
  });

  it('refuses a POST from another site (Origin, Sec-Fetch-Site) even with the admin’s cookie', async () => {
    const before = jobCount().n;
    const evil = await req('/documents/offentlig-1/slett', { token: ADMIN, body: form({ bekreft: 'ja' }), headers: { origin: 'https://evil.example' } });
    expect(evil.status).toBe(403);
    const site = await req('/documents/offentlig-1/slett', { token: ADMIN, body: form({ bekreft: 'ja' }), headers: { 'sec-fetch-site': 'cross-site' } });
    expect(site.status).toBe(403);
    const up = await req('/innlesing/last-opp', { token: INTERNAL, body: upload('a.pdf', PDF), headers: { origin: 'null' } });
    expect(up.status).toBe(403);
    expect(jobCount().n).toBe(before);
    // The same origin passes.
    const same = await req('/documents/offentlig-1/ocr', { token: ADMIN, body: form({}), headers: { origin: 'http://localhost', host: 'localhost' } });
    expect(same.status).toBe(303);
    expect(jobCount().n).toBe(before + 1);
  });
});

describe('uploads', () => {
  it('queue a real PDF with the right payload, and keep the file under uploads/', async () => {
    const name = '2024-03-14-bydelsutvalget.pdf';
    const res = await req('/innlesing/last-opp', {
      token: INTERNAL,
      body: upload(name, PDF, { title: 'Møteprotokoll BU mars', access: 'internal', kind: 'møteprotokoll' }),
    });
    expect(res.status).toBe(303);
    const job = lastJob();
    expect(res.location).toBe(`/innlesing?lagt-i-ko=${job.id}`);
    const p = job.payload as Extract<JobPayload, { kind: 'ingest' }>;
    expect(p).toEqual({
      kind: 'ingest',
      file: p.file,
      sourceName: name,
      id: documentIdFor(path.join(dataDir.root, 'uploads', name)),
      title: 'Møteprotokoll BU mars',
      docKind: 'møteprotokoll',
      access: 'internal',
      groups: [],
      removeAfter: true,
    });
    expect(path.dirname(p.file)).toBe(path.join(dataDir.root, 'uploads'));
    expect(path.basename(p.file)).toMatch(new RegExp(`^[0-9a-f]{16}-${name.replace(/\./g, '\\.')}$`));
    expect(fs.readFileSync(p.file).equals(PDF)).toBe(true);
    expect(job.createdBy).toBe(id(INTERNAL));
    expect(job.label).toBe(name);

    // The page it leads to lists the job, queued, and polls while it is.
    const page = await req(res.location!, { token: INTERNAL });
    expect(page.text).toContain(`«${name}» er lagt i kø som jobb ${job.id}`);
    expect(page.text).toMatch(/<section id="jobber"[^>]*hx-get="\/innlesing\/jobber" hx-trigger="every 2s" hx-swap="outerHTML"/);
    expect(page.text).toContain('<span class="jobbtilstand tilstand-queued">i kø</span>');
    expect(page.text).toContain(`Lagt i kø av ${id(INTERNAL)}`);
  });

  it('answers an htmx upload with the region: a fresh form, the notice and the job', async () => {
    const res = await req('/innlesing/last-opp', {
      token: GROUP,
      htmx: true,
      body: upload('notat.txt', 'Et notat om bydelens parker.\n', { access: 'public' }),
    });
    expect(res.status).toBe(200);
    expect(res.text.startsWith('<div id="innlesing"')).toBe(true);
    expect(res.text).not.toContain('<html');
    expect(res.text).toContain(`«notat.txt» er lastet opp og lagt i kø som jobb ${lastJob().id}`);
    expect(res.text).toContain('hx-trigger="every 2s"');
    expect(lastJob().payload).toMatchObject({ kind: 'ingest', sourceName: 'notat.txt', access: 'public', groups: [] });
    expect((lastJob().payload as { docKind?: string }).docKind).toBeUndefined();
    expect((lastJob().payload as { title?: string }).title).toBeUndefined();
  });

  it('has a JSON API: 202 with the job (no server paths), and the job by id for those who may see it', async () => {
    const res = await req('/api/v1/uploads', {
      token: GROUP,
      bearer: true,
      body: upload('barnevern.md', '# Barnevern\n\nTiltak.\n', { access: 'protected', groups: 'barnevern' }),
    });
    expect(res.status).toBe(202);
    const { job } = JSON.parse(res.text);
    expect(res.location).toBe(`/api/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ kind: 'ingest', label: 'barnevern.md', state: 'queued', createdBy: id(GROUP) });
    expect(job.payload).toMatchObject({ access: 'protected', groups: ['barnevern'], sourceName: 'barnevern.md' });
    expect(JSON.stringify(job)).not.toContain(dataDir.root);
    expect(JSON.parse((await req(`/api/v1/jobs/${job.id}`, { token: GROUP, bearer: true })).text).job.id).toBe(job.id);
    expect((await req(`/api/v1/jobs/${job.id}`, { token: ADMIN, bearer: true })).status).toBe(200);
    // Staff outside the group do not see a protected upload's job, neither by id nor in the list.
    expect((await req(`/api/v1/jobs/${job.id}`, { token: INTERNAL, bearer: true })).status).toBe(404);
    expect((await req('/innlesing', { token: INTERNAL })).text).not.toContain('barnevern.md');
    expect((await req('/innlesing', { token: ADMIN })).text).toContain('barnevern.md');
    expect((await req(`/api/v1/jobs/${job.id}`)).status).toBe(404);
    // An API refusal is in English.
    const bad = await req('/api/v1/uploads', { token: INTERNAL, bearer: true, body: upload('x.pdf', 'hei') });
    expect(bad.status).toBe(415);
    expect(JSON.parse(bad.text).error).toMatch(/x\.pdf is not a PDF/);
  });

  it('lets a non-admin protect only for their own groups, and protected needs a group', async () => {
    const before = jobCount().n;
    const foreign = await req('/innlesing/last-opp', { token: GROUP, body: upload('a.pdf', PDF, { access: 'protected', groups: 'helse' }) });
    expect(foreign.status).toBe(403);
    expect(foreign.text).toContain('Du kan bare skjerme dokumenter for grupper du selv er med i (barnevern).');
    const none = await req('/innlesing/last-opp', { token: GROUP, body: upload('a.pdf', PDF, { access: 'protected' }) });
    expect(none.status).toBe(400);
    expect(none.text).toContain('Skjermet tilgang krever minst én gruppe.');
    const internal = await req('/innlesing/last-opp', { token: INTERNAL, body: upload('a.pdf', PDF, { access: 'protected', groups: 'barnevern' }) });
    expect(internal.status).toBe(403);
    expect(internal.text).toContain('Du er ikke med i noen gruppe');
    expect(jobCount().n).toBe(before);
    // An admin may protect for any group.
    expect((await req('/innlesing/last-opp', { token: ADMIN, body: upload('a.pdf', PDF, { access: 'protected', groups: 'helse' }) })).status).toBe(303);
    expect(lastJob().payload).toMatchObject({ access: 'protected', groups: ['helse'] });
  });

  it('never replaces a document the uploader may not read: that upload becomes a document of its own', async () => {
    const name = 'hemmelig.pdf';
    const taken = documentIdFor(path.join(dataDir.root, 'uploads', name));
    await put(silverDoc(taken, ['Hemmelig barnevernssak.'], { access: 'protected', groups: ['barnevern'], source: name }));
    await req('/innlesing/last-opp', { token: INTERNAL, body: upload(name, PDF, { access: 'public' }) });
    const outsider = lastJob().payload as { id: string };
    expect(outsider.id).not.toBe(taken);
    await req('/innlesing/last-opp', { token: GROUP, body: upload(name, PDF, { access: 'protected', groups: 'barnevern' }) });
    expect((lastJob().payload as { id: string }).id).toBe(taken);
  });

  it('refuses what is not what its name says, empty files and unsupported types, in Norwegian, queueing nothing', async () => {
    const before = jobCount().n;
    const docx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), Buffer.from('[Content_Types].xml word/document.xml')]);
    const cases: { name: string; bytes: Uint8Array | string; status: number; message: string }[] = [
      {
        name: 'rapport.pdf',
        bytes: docx,
        status: 415,
        message: '«rapport.pdf» er ikke en PDF: innholdet ser ut som et ZIP-arkiv (for eksempel et Word- eller Excel-dokument, .docx/.xlsx).',
      },
      { name: 'rapport.docx', bytes: docx, status: 415, message: 'Filtypen «.docx» støttes ikke (innholdet ser ut som et ZIP-arkiv' },
      {
        name: 'setup.pdf',
        bytes: Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00', 'latin1'),
        status: 415,
        message: 'innholdet ser ut som et Windows-program (.exe/.dll)',
      },
      {
        name: 'bilde.txt',
        bytes: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]),
        status: 415,
        message: '«bilde.txt» er ikke en tekstfil: innholdet ser ut som et bilde (PNG)',
      },
      { name: 'binær.md', bytes: Buffer.from('abc\x00\x01\x02def', 'latin1'), status: 415, message: 'innholdet ser ut som en binærfil (ikke tekst)' },
      { name: 'side.html', bytes: 'Bare tekst, ingen tagger.', status: 415, message: '«side.html» ser ikke ut som HTML' },
      { name: 'tom.pdf', bytes: new Uint8Array(0), status: 400, message: '«tom.pdf» er tom (0 byte).' },
    ];
    for (const c of cases) {
      const res = await req('/innlesing/last-opp', { token: INTERNAL, body: upload(c.name, c.bytes) });
      expect(res.status, c.name).toBe(c.status);
      expect(res.text, c.name).toContain(c.message.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
      // The form comes back for another try.
      expect(res.text).toContain('name="file"');
      const htmx = await req('/innlesing/last-opp', { token: INTERNAL, htmx: true, body: upload(c.name, c.bytes, { title: 'Behold meg' }) });
      expect(htmx.status).toBe(c.status);
      expect(htmx.text.startsWith('<div id="innlesing"')).toBe(true);
      expect(htmx.text).toContain('value="Behold meg"');
    }
    const missing = await req('/innlesing/last-opp', { token: INTERNAL, body: form({ title: 'x' }) });
    expect(missing.status).toBe(400);
    expect(jobCount().n).toBe(before);
    expect(
      fs.existsSync(path.join(dataDir.root, 'uploads')) ? fs.readdirSync(path.join(dataDir.root, 'uploads')).filter((f) => /rapport|setup|tom/.test(f)) : [],
    ).toEqual([]);
  });

  it('refuses a file above INNSIKT_MAX_FILE_MB, and a body announced too large before reading it', async () => {
    const config = loadConfig({ INNSIKT_DATA_DIR: dataDir.root, INNSIKT_TOKENS: TOKENS, INNSIKT_MAX_FILE_MB: '0.002' });
    const small = createApp({ store, embedder, dataDir, config, isReady: () => true, queue });
    const before = jobCount().n;
    const res = await request(small, '/innlesing/last-opp', { token: INTERNAL, body: upload('stor.pdf', PDF) });
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/«stor\.pdf» er [\d,]+ MB, større enn grensen på 0 MB|«stor\.pdf» er [\d,]+ MB, større enn grensen/);
    const api = await request(small, '/api/v1/uploads', { token: INTERNAL, bearer: true, body: upload('stor.pdf', PDF) });
    expect(api.status).toBe(413);
    expect(JSON.parse(api.text).error).toMatch(/above the limit/);

    // Over HTTP: a Content-Length far above the limit is answered at once, without the body.
    const server = serve({ fetch: small.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((r) => server.once('listening', () => r()));
    try {
      const port = (server.address() as AddressInfo).port;
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const r = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/innlesing/last-opp',
            headers: { cookie: `innsikt_token=${INTERNAL}`, 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(500 * 1024 * 1024) },
          },
          (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          },
        );
        r.on('error', reject);
        r.write('--x\r\n'); // and nothing more: the answer must not wait for 500 MB
      });
      expect(answer.status).toBe(413);
      expect(answer.body).toContain('større enn grensen');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(jobCount().n).toBe(before);
  });

  it('escapes hostile file names and titles, and keeps names to one safe path part', async () => {
    const name = `../../etc/${EVIL}.pdf`;
    const res = await req('/innlesing/last-opp', { token: ADMIN, htmx: true, body: upload(name, PDF, { title: EVIL }) });
    expect(res.status).toBe(200);
    const p = lastJob().payload as Extract<JobPayload, { kind: 'ingest' }>;
    expect(p.sourceName).not.toMatch(/[/\\<>"]/);
    expect(path.dirname(p.file)).toBe(path.join(dataDir.root, 'uploads'));
    expect(p.title).toBe(EVIL); // kept as text; escaped wherever it is shown
    for (const html of [res.text, (await req('/innlesing', { token: ADMIN })).text]) {
      expect(html).not.toContain('<script>alert(1)');
      expect(html).not.toContain('<div hx-get="/admin">');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).toMatch(/<ol class="jobbliste" hx-ignore="">/);
    }
    // The document page escapes a hostile title in the admin panel and the OCR note alike.
    const doc = await req('/documents/skannet-1', { token: ADMIN });
    expect(doc.text).not.toContain('<script>alert(1)');
    expect(doc.text).not.toContain('<div hx-get="/admin">');
  });
});

describe('the job list', () => {
  it('shows a failed job with its error, and retry works for its creator and admins only', async () => {
    const a = queue.add({ kind: 'ingest', file: '/nowhere/a.pdf', sourceName: 'feil-a.pdf', access: 'internal', groups: [] }, id(INTERNAL));
    const b = queue.add({ kind: 'ingest', file: '/nowhere/b.pdf', sourceName: 'feil-b.pdf', access: 'internal', groups: [] }, id(OTHER));
    for (const job of [a, b]) {
      // Claim them as a worker would (older queued jobs are claimed and put back first).
      for (;;) {
        const claimed = queue.claim('test-worker:1');
        expect(claimed).not.toBeNull();
        if (claimed!.id === job.id) break;
        queue.finish(claimed!.id, 'test-worker:1', { state: 'done', result: { status: 'ok', pages: 1 } });
      }
      queue.finish(job.id, 'test-worker:1', { state: 'failed', error: `PDF could not be read: <b onmouseover="x">${job.id}</b>` });
    }
    const page = await req('/innlesing', { token: INTERNAL });
    const item = page.text.slice(page.text.indexOf(`id="jobb-${a.id}"`));
    expect(item).toContain('<span class="jobbtilstand tilstand-failed">feilet</span>');
    expect(item).toContain(`PDF could not be read: &lt;b onmouseover=&quot;x&quot;&gt;${a.id}&lt;/b&gt;`);
    expect(item).toContain(`action="/innlesing/jobber/${a.id}/prov-igjen"`);
    expect(item).toContain('Prøv igjen');
    // Another staff member's failed job: seen (an internal upload), but no retry button for INTERNAL.
    const other = page.text.slice(page.text.indexOf(`id="jobb-${b.id}"`));
    expect(other.slice(0, other.indexOf('</li>'))).not.toContain('prov-igjen');

    expect((await req(`/innlesing/jobber/${b.id}/prov-igjen`, { token: INTERNAL, body: form({}) })).status).toBe(403);
    expect((await req(`/innlesing/jobber/${a.id}/prov-igjen`, { body: form({}) })).status).toBe(404);
    expect(queue.get(b.id)!.state).toBe('failed');

    const retry = await req(`/innlesing/jobber/${a.id}/prov-igjen`, { token: INTERNAL, body: form({}) });
    expect(retry.status).toBe(303);
    expect(retry.location).toBe(`/innlesing?lagt-i-ko=${a.id}`);
    expect(queue.get(a.id)!.state).toBe('queued');
    expect(queue.get(a.id)!.error).toBeNull();
    // Not failed any more: nothing to retry.
    expect((await req(`/innlesing/jobber/${a.id}/prov-igjen`, { token: INTERNAL, body: form({}) })).status).toBe(409);
    // An admin retries anyone's.
    expect((await req(`/innlesing/jobber/${b.id}/prov-igjen`, { token: ADMIN, body: form({}) })).status).toBe(303);
    expect(queue.get(b.id)!.state).toBe('queued');
  });

  it('polls only while something is queued or running, and shows progress and the estimate', async () => {
    // Work the queue off: every job done, one with pages and time for the estimate.
    for (let j = queue.claim('test-worker:1'); j; j = queue.claim('test-worker:1')) {
      queue.finish(j.id, 'test-worker:1', { state: 'done', result: { status: 'ok', documentId: 'offentlig-1', pages: 12 } });
    }
    // Each took a minute.
    queue.db.prepare(`UPDATE jobs SET started_at = finished_at - 60000 WHERE state = 'done'`).run();
    const idle = await req('/innlesing/jobber', { token: ADMIN, htmx: true });
    expect(idle.status).toBe(200);
    expect(idle.text.startsWith('<section id="jobber"')).toBe(true);
    expect(idle.text).not.toContain('hx-trigger');
    expect(idle.text).toContain('I kø: 0 · Arbeider: 0');
    expect(idle.text).toContain('href="/documents/offentlig-1"');
    expect(idle.text).toContain('12 sider');
    expect((await req('/innlesing/jobber', { token: ADMIN })).status).toBe(303);

    const job = queue.add({ kind: 'ingest', file: '/x/skann.pdf', sourceName: 'skann.pdf', access: 'public', groups: [] }, id(ADMIN));
    queue.claim('test-worker:1');
    queue.beat(job.id, 'test-worker:1', { text: 'OCR 3/26 pages', pagesDone: 3, pagesTotal: 26 });
    const busy = await req('/innlesing/jobber', { token: ADMIN, htmx: true });
    expect(busy.text).toContain('hx-get="/innlesing/jobber" hx-trigger="every 2s" hx-swap="outerHTML"');
    expect(busy.text).toContain('<span class="jobbtilstand tilstand-running">arbeider</span>');
    expect(busy.text).toContain('OCR: side 3 av 26');
    expect(busy.text).toContain('<progress class="jobb-linje" max="26" value="3">');
    expect(busy.text).toContain('I kø: 0 · Arbeider: 1');
    const { pagesPerMinute, secondsLeft } = queue.estimate();
    expect(pagesPerMinute).toBeGreaterThan(0);
    expect(busy.text).toContain(`Siste time: ${formatRate(pagesPerMinute!)} sider i minuttet · ${formatDuration(secondsLeft!)} igjen`);
    expect([formatDuration(30), formatDuration(125), formatDuration(4800)]).toEqual(['under ett minutt', 'omtrent 2 min', 'omtrent 1 t 20 min']);
    queue.finish(job.id, 'test-worker:1', { state: 'done', result: { status: 'ok', documentId: 'x', pages: 26 } });
  });
});

describe('OCR badges', () => {
  it('marks an OCR document, its mean confidence and its pages, flagging uncertain ones without hiding them', async () => {
    const page = await req('/documents/skannet-1');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<span class="merke-ocr">OCR-lest</span>');
    expect(page.text).toContain('snittsikkerhet 67\u00a0%'); // (91.2 + 42) / 2
    expect(page.text).toContain('Teksten på side 1–2 er lest maskinelt');
    expect(page.text).toContain('Usikker tekst på side 2.');
    const side = (n: number) =>
      page.text.slice(page.text.indexOf(`<section id="side-${n}"`), page.text.indexOf('</section>', page.text.indexOf(`<section id="side-${n}"`)));
    expect(side(1)).toContain('<span class="merke-ocr-side">OCR 91\u00a0%</span>');
    expect(side(1)).not.toContain('usikker tekst');
    expect(side(2)).toContain('<span class="merke-usikker">usikker tekst</span>');
    expect(side(2)).toContain('Uleselig side om bibliotekfilial.'); // flagged, not hidden
    expect(side(3)).not.toContain('merke-ocr-side');
    expect(page.text).toMatch(/<a href="#side-2" class="usikker">2<span class="skjult"> \(usikker tekst\)<\/span><\/a>/);
    expect((await req('/documents/offentlig-1')).text).not.toContain('OCR-lest');
  });

  it('puts an "OCR" badge on hits from OCR documents in results', async () => {
    const res = await req('/?q=bibliotekfilial');
    expect(res.text).toContain('/documents/skannet-1');
    expect(res.text).toMatch(/<span class="merke-ocr" title="Lest med OCR, snittsikkerhet 67 %">OCR/);
    const other = await req('/?q=lekeplasser');
    expect(other.text).toContain('/documents/offentlig-1');
    expect(other.text).not.toContain('merke-ocr');
  });

  it('summarises silver: the mean over OCR pages with a confidence; none for text-layer documents', () => {
    const doc = silverDoc('s', ['a', 'b', 'c'], { extraction: { method: 'pdf-ocr', warnings: [] } });
    doc.pages[0].ocr = { confidence: 80 };
    doc.pages[1].ocr = { confidence: null };
    doc.pages[2].ocr = { confidence: 60, low: true };
    expect(ocrSummary(doc)).toEqual({
      method: 'pdf-ocr',
      confidence: 70,
      pages: [
        { num: 1, confidence: 80, low: false },
        { num: 2, confidence: null, low: false },
        { num: 3, confidence: 60, low: true },
      ],
    });
    expect(ocrSummary(silverDoc('t', ['a']))).toBeNull();
  });
});

describe('upload checks', () => {
  it('keeps a file name to one safe part', () => {
    expect(safeFileName('C:\\Users\\x\\Møtebok.pdf')).toBe('Møtebok.pdf');
    expect(safeFileName('../../../etc/passwd')).toBe('passwd');
    expect(safeFileName('..')).toBe('dokument');
    expect(safeFileName('.env')).toBe('env');
    expect(safeFileName('a<b>c:"d|e?.pdf')).toBe('a_b_c__d_e_.pdf');
    expect(safeFileName('x\u0000y\n.pdf')).toBe('x_y_.pdf');
    expect(safeFileName(`${'a'.repeat(300)}.pdf`)).toMatch(/^a{146}\.pdf$/);
  });

  it('accepts PDFs with junk before the header, UTF-8 and Latin-1 text, Markdown and HTML', () => {
    const max = 1024 * 1024;
    expect(checkUpload('a.pdf', Buffer.concat([Buffer.alloc(100, 0x20), PDF]), max)).toBeNull();
    expect(checkUpload('a.pdf', Buffer.concat([Buffer.alloc(1100, 0x20), PDF]), max)?.status).toBe(415);
    expect(checkUpload('a.txt', Buffer.from('Møte i bydelsutvalget – vedtak.', 'utf8'), max)).toBeNull();
    expect(checkUpload('a.txt', Buffer.from('Møte i bydelsutvalget, særlig.', 'latin1'), max)).toBeNull();
    expect(checkUpload('a.md', Buffer.from('# Tittel\n\nTekst.'), max)).toBeNull();
    expect(checkUpload('a.html', Buffer.from('\ufeff<!DOCTYPE html><html><body><p>Hei</p></body></html>'), max)).toBeNull();
    expect(checkUpload('a.htm', Buffer.from('<p>Bare et avsnitt</p>'), max)).toBeNull();
    expect(checkUpload('a.txt', PDF, max)?.no).toContain('innholdet ser ut som en PDF');
    expect(checkUpload('a.pdf', PDF, 100)?.status).toBe(413);
  });
});
