/**
 * The ingestion worker (issue 15): the durable queue, kill -9 at any moment, a job that kills
 * its worker three times, the inbox folder. Real processes (`innsikt worker` as a child process,
 * killed with SIGKILL), real SQLite, real PDFs, real OCR.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobQueue, MAX_ATTEMPTS, workerName } from '../ingest/queue.ts';
import { dropEs, ES_SKIP, esEnv, openTestEs, testPrefix } from './es-harness.ts';
import { tempDir } from './helpers.ts';
import { HAS_OCR_TOOLS, scannedPdf } from './scan-fixture.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/innsikt.js');
const DEMO = path.join(ROOT, 'fixtures/demo');

function env(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    INNSIKT_DATA_DIR: dataDir,
    INNSIKT_EMBEDDER: 'local',
    INNSIKT_INDEX: 'embedded',
    INNSIKT_INGEST_NICE: '0',
    INNSIKT_OCR_CACHE: '',
    ...extra,
  };
}

function cli(args: string[], e: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: e, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function startWorker(e: NodeJS.ProcessEnv): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'worker', '--once'], { env: e, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited };
}

/** Copies of demo PDFs [from, to) in `dir`, with a scan of `pages` pages of another one inserted at `at`. */
async function sourceFiles(dir: string, [from, to]: [number, number], scan: { name: string; from: string; pages: number; at: number }): Promise<string[]> {
  const files = fs
    .readdirSync(DEMO)
    .filter((f) => f.endsWith('.pdf'))
    .slice(from, to)
    .map((f) => {
      fs.copyFileSync(path.join(DEMO, f), path.join(dir, f));
      return path.join(dir, f);
    });
  const file = path.join(dir, scan.name);
  fs.writeFileSync(
    file,
    await scannedPdf(
      path.join(DEMO, scan.from),
      Array.from({ length: scan.pages }, (_, i) => ({ scan: i + 1 })),
    ),
  );
  files.splice(scan.at, 0, file);
  return files;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything a search can see, by id, without the time of ingestion. */
function snapshot(dataDir: string) {
  const db = new Database(path.join(dataDir, 'index.sqlite'), { readonly: true });
  try {
    const docs = db.prepare(`SELECT * FROM documents ORDER BY id`).all() as Record<string, unknown>[];
    for (const d of docs) delete d.ingested_at;
    const chunks = db.prepare(`SELECT id, document_id, ord, heading, text, page_start, page_end, page_breaks FROM chunks ORDER BY id`).all();
    const pages = db.prepare(`SELECT document_id, idx, num, text FROM pages ORDER BY document_id, idx`).all();
    const vectors = (db.prepare(`SELECT count(*) AS n FROM chunk_vectors WHERE rowid IN (SELECT rowid FROM chunks)`).get() as { n: number }).n;
    const silver: Record<string, unknown> = {};
    for (const f of fs.readdirSync(path.join(dataDir, 'silver'))) {
      expect(f.endsWith('.json'), `a leftover in silver: ${f}`).toBe(true);
      const doc = JSON.parse(fs.readFileSync(path.join(dataDir, 'silver', f), 'utf8'));
      delete doc.ingestedAt;
      silver[f] = doc;
    }
    return { docs, chunks, pages, vectors, silver };
  } finally {
    db.close();
  }
}

describe('the job queue', () => {
  it('gives each job to one worker, requeues a dead worker’s job and sets aside one that died three times', () => {
    const dir = tempDir();
    const a = new JobQueue(path.join(dir, 'queue.sqlite'));
    const b = new JobQueue(path.join(dir, 'queue.sqlite'));
    try {
      const j1 = a.add({ kind: 'ingest', file: '/x/one.pdf' });
      a.add({ kind: 'ingest', file: '/x/two.pdf' });
      // Two connections claim alternately: never the same job.
      const c1 = a.claim('host-a:1');
      const c2 = b.claim('host-b:2');
      expect(c1?.id).toBe(j1.id);
      expect(c2?.id).not.toBe(c1?.id);
      expect(a.claim('host-a:1')).toBeNull();
      expect(a.counts()).toEqual({ queued: 0, running: 2, done: 0, failed: 0 });

      // A worker on this host whose process is gone: its job is queued again at once.
      const dead = workerName(2 ** 22 + 12345); // above Linux's pid_max default: never a live process
      a.db.prepare(`UPDATE jobs SET worker = ? WHERE id = ?`).run(dead, c1!.id);
      // Another host's worker that still beats: left alone.
      expect(a.recover().requeued.map((j) => j.id)).toEqual([c1!.id]);
      expect(a.get(c2!.id)?.state).toBe('running');

      // Started MAX_ATTEMPTS times without finishing: failed, with the reason; the queue goes on.
      for (let i = 2; i < MAX_ATTEMPTS; i++) {
        expect(a.claim(dead)?.id).toBe(c1!.id);
        a.recover();
      }
      expect(a.claim(dead)?.attempts).toBe(MAX_ATTEMPTS);
      const { failed } = a.recover();
      expect(failed.map((j) => j.id)).toEqual([c1!.id]);
      expect(a.get(c1!.id)?.error).toMatch(/3 times/);

      // A stale heartbeat (a hung worker, or one on another machine) counts as gone too.
      a.db.prepare(`UPDATE jobs SET heartbeat = ? WHERE id = ?`).run(Date.now() - 10 * 60_000, c2!.id);
      expect(a.recover().requeued.map((j) => j.id)).toEqual([c2!.id]);

      // An interrupted attempt that read more pages than the one before is not counted.
      const c3 = a.claim(dead)!;
      a.beat(c3.id, dead, { pagesDone: 4, pagesTotal: 10 });
      expect(a.recover().requeued[0]).toMatchObject({ id: c3.id, attempts: c3.attempts - 1 });
      const c4 = a.claim(dead)!;
      a.beat(c4.id, dead, { pagesDone: 4, pagesTotal: 10 }); // resumed from the cache, no further
      a.recover();
      expect(a.get(c4.id)?.attempts).toBe(c4.attempts);
      a.db.prepare(`UPDATE jobs SET state = 'failed' WHERE id = ?`).run(c1!.id);

      // Retry: queued again with a fresh count.
      expect(a.retry(c1!.id)).toBe(true);
      expect(a.get(c1!.id)).toMatchObject({ state: 'queued', attempts: 0, error: null });
      expect(a.retry(c1!.id)).toBe(false);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe.skipIf(!HAS_OCR_TOOLS)('the worker under kill -9', () => {
  const files: string[] = [];
  let src: string;

  beforeAll(async () => {
    src = tempDir('innsikt-worker-src-');
    // A scanned protocol (five image-only pages) fourth: OCR is the slow part a kill often lands in.
    files.push(...(await sourceFiles(src, [0, 12], { name: 'skannet-protokoll.pdf', from: '2024-03-14-bydelsutvalget.pdf', pages: 5, at: 3 })));
  }, 60_000);

  afterAll(() => fs.rmSync(src, { recursive: true, force: true }));

  it('loses nothing: after kills at any moment and a restart, the index equals a clean run’s', { timeout: 240_000 }, async () => {
    const clean = tempDir();
    const r = await cli(['ingest', ...files], env(clean));
    expect(r.code, r.stderr).toBe(0);

    const killed = tempDir();
    const e = env(killed);
    expect((await cli(['ingest', '--queue', ...files], e)).code).toBe(0);
    // Kills at moments of every kind: during start-up, in the middle of a text PDF, in the
    // middle of the scan's OCR (twice: OCR resumes at its next page), right after a document
    // was committed, and at plain times.
    const queueFile = path.join(killed, 'queue.sqlite');
    const scanJob = files.indexOf(files.find((f) => f.endsWith('skannet-protokoll.pdf'))!) + 1;
    const job = (id: number) => {
      const q = new JobQueue(queueFile);
      try {
        return { job: q.get(id), done: q.counts().done };
      } finally {
        q.close();
      }
    };
    const running = () => {
      const q = new JobQueue(queueFile);
      try {
        return q.list({ states: ['running'] });
      } finally {
        q.close();
      }
    };
    const moments: ((startDone: number) => boolean)[] = [
      () => false, // killed by the time limit below, during start-up
      () => running().some((j) => j.id !== scanJob), // in the middle of a text PDF
      () => (job(scanJob).job?.pagesDone ?? 0) >= 1,
      () => (job(scanJob).job?.pagesDone ?? 0) >= 2,
      (startDone) => job(1).done > startDone,
      () => false,
    ];
    const limits = [1000, 30_000, 60_000, 60_000, 30_000, 2500];
    let kills = 0;
    for (const [i, when] of moments.entries()) {
      const startDone = job(1).done;
      const w = startWorker(e);
      const t0 = Date.now();
      while (w.child.exitCode === null && Date.now() - t0 < limits[i] && !when(startDone)) await sleep(25);
      if (w.child.exitCode === null) {
        w.child.kill('SIGKILL');
        kills++;
      } else console.log(`[worker.test] moment ${i}: the worker had finished the queue (${job(1).done} done)`);
      await w.exited;
    }
    expect(kills).toBeGreaterThanOrEqual(4);
    const last = startWorker(e);
    expect(await last.exited).toBe(0);

    const q = new JobQueue(path.join(killed, 'queue.sqlite'));
    const jobs = q.list();
    q.close();
    expect(jobs.filter((j) => j.state !== 'done').map((j) => `${j.label}: ${j.state} ${j.error}`)).toEqual([]);
    expect(Math.max(...jobs.map((j) => j.attempts))).toBeGreaterThan(1); // some job really was interrupted

    const a = snapshot(clean);
    const b = snapshot(killed);
    expect(b.docs.length).toBe(files.length);
    expect(b.docs).toEqual(a.docs);
    expect(b.chunks).toEqual(a.chunks);
    expect(b.pages).toEqual(a.pages);
    expect(b.vectors).toBe(b.chunks.length);
    expect(b.silver).toEqual(a.silver);
    // The scanned protocol was read by OCR, with its page numbers.
    const scan = Object.values(b.silver).find((d) => (d as { source: string }).source === 'skannet-protokoll.pdf') as {
      extraction: { method: string };
      pages: { num: number; ocr?: { confidence: number } }[];
    };
    expect(scan.extraction.method).toBe('pdf-ocr');
    expect(scan.pages.map((p) => p.num)).toEqual([1, 2, 3, 4, 5]);
    expect(scan.pages.every((p) => typeof p.ocr?.confidence === 'number')).toBe(true);

    // And searches give the same results, scores included.
    for (const query of ['budsjett', 'Bydelsutvalget vedtak', 'protokoll']) {
      const [x, y] = await Promise.all([cli(['search', query, '--json'], env(clean)), cli(['search', query, '--json'], e)]);
      const hits = (s: string) => (JSON.parse(s) as { results: { chunkId: string; score: number }[] }).results.map((h) => [h.chunkId, h.score]);
      expect(hits(y.stdout), query).toEqual(hits(x.stdout));
    }
  });

  it('sets aside a document that kills its worker three times, and goes on with the queue', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const e = env(dir);
    const scan = files.find((f) => f.endsWith('skannet-protokoll.pdf'))!;
    const other = files.find((f) => !f.endsWith('skannet-protokoll.pdf'))!;
    expect((await cli(['ingest', '--queue', scan, other], e)).code).toBe(0);
    const queueFile = path.join(dir, 'queue.sqlite');
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const w = startWorker(e);
      // Wait until it is working on the scan (job 1), then kill it: a crash on that document.
      for (let t = 0; t < 300; t++) {
        const q = new JobQueue(queueFile);
        const job = q.get(1);
        q.close();
        if (job?.state === 'running' && job.attempts === i + 1) break;
        await sleep(50);
      }
      w.child.kill('SIGKILL');
      await w.exited;
    }
    const last = startWorker(e);
    expect(await last.exited).toBe(0);
    const q = new JobQueue(queueFile);
    try {
      expect(q.get(1)).toMatchObject({ state: 'failed', attempts: MAX_ATTEMPTS });
      expect(q.get(1)?.error).toMatch(/crashed or was killed.*3 times/);
      expect(q.get(2)?.state).toBe('done');
      // Retry from the queue: it is read this time.
      expect(q.retry(1)).toBe(true);
    } finally {
      q.close();
    }
    expect(await startWorker(e).exited).toBe(0);
    const jobs = await cli(['jobs', '--json'], e);
    const byId = new Map((JSON.parse(jobs.stdout) as { jobs: { id: number; state: string }[] }).jobs.map((j) => [j.id, j.state]));
    expect(byId.get(1)).toBe('done');
    const status = await cli(['status', '--json'], e);
    expect(JSON.parse(status.stdout).queue.counts).toEqual({ queued: 0, running: 0, done: 2, failed: 0 });
  });
});

describe.skipIf(ES_SKIP !== null || !HAS_OCR_TOOLS)(`two workers on one Elasticsearch${ES_SKIP ? ` (skipped: ${ES_SKIP})` : ''}`, () => {
  it('share the queue (each job claimed once), survive a kill -9 and leave the index a clean run leaves', { timeout: 240_000 }, async () => {
    const src = tempDir('innsikt-worker-es-src-');
    const files = await sourceFiles(src, [8, 16], { name: 'skannet-saksliste.pdf', from: '2024-06-13-bydelsutvalget.pdf', pages: 2, at: 8 });
    const cleanPrefix = testPrefix();
    const sharedPrefix = testPrefix();
    try {
      const clean = env(tempDir(), esEnv(cleanPrefix));
      const r = await cli(['ingest', ...files], clean);
      expect(r.code, r.stderr).toBe(0);

      const dir = tempDir();
      const e = env(dir, esEnv(sharedPrefix));
      expect((await cli(['ingest', '--queue', ...files], e)).code).toBe(0);
      // Two workers at once; the first is killed while the scan is being read, then restarted.
      const a = startWorker(e);
      const b = startWorker(e);
      const queueFile = path.join(dir, 'queue.sqlite');
      const scanJob = files.length;
      for (let t = 0; t < 2400; t++) {
        const q = new JobQueue(queueFile);
        const j = q.get(scanJob);
        q.close();
        if (j?.state === 'running' || j?.state === 'done') break;
        await sleep(50);
      }
      a.child.kill('SIGKILL');
      await a.exited;
      const c = startWorker(e);
      expect(await b.exited).toBe(0);
      expect(await c.exited).toBe(0);
      const q = new JobQueue(queueFile);
      const jobs = q.list();
      q.close();
      expect(jobs.map((j) => j.state)).toEqual(files.map(() => 'done'));

      const [x, y] = await Promise.all([cli(['status', '--json'], clean), cli(['status', '--json'], e)]);
      const stats = (s: string) => {
        const j = JSON.parse(s);
        return { documents: j.documents, chunks: j.chunks, pages: j.pages };
      };
      expect(stats(y.stdout)).toEqual(stats(x.stdout));
      expect(stats(y.stdout).documents).toBe(files.length);
      for (const query of ['budsjett', 'Bydelsutvalget vedtak', 'skannet', 'protokoll']) {
        const [m, n] = await Promise.all([cli(['search', query, '--json', '--limit', '20'], clean), cli(['search', query, '--json', '--limit', '20'], e)]);
        const hits = (s: string) => (JSON.parse(s) as { results: { chunkId: string; score: number }[] }).results.map((h) => [h.chunkId, h.score]);
        expect(hits(n.stdout), query).toEqual(hits(m.stdout));
      }
    } finally {
      for (const prefix of [cleanPrefix, sharedPrefix]) await dropEs(await openTestEs(prefix)).catch(() => {});
      fs.rmSync(src, { recursive: true, force: true });
    }
  });
});

describe('the inbox folder', () => {
  it('ingests dropped files and moves them to done/ or failed/ with the reason', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const inbox = path.join(dir, 'inbox');
    fs.mkdirSync(inbox);
    fs.copyFileSync(path.join(DEMO, '2024-03-05-helse-og-sosialkomiteen.pdf'), path.join(inbox, 'helse.pdf'));
    fs.writeFileSync(path.join(inbox, 'ødelagt.pdf'), '<html><body>Logg inn</body></html>');
    fs.writeFileSync(path.join(inbox, 'notat.docx'), 'PK\u0003\u0004');
    const e = env(dir, { INNSIKT_INBOX: inbox });
    const w = startWorker({ ...e });
    expect(await w.exited).toBe(0);
    expect(fs.readdirSync(path.join(inbox, 'done'))).toEqual(['helse.pdf']);
    expect(fs.readdirSync(path.join(inbox, 'failed')).sort()).toEqual(['notat.docx', 'notat.docx.reason.txt', 'ødelagt.pdf', 'ødelagt.pdf.reason.txt']);
    expect(fs.readFileSync(path.join(inbox, 'failed', 'ødelagt.pdf.reason.txt'), 'utf8')).toMatch(/HTML page/);
    expect(fs.readFileSync(path.join(inbox, 'failed', 'notat.docx.reason.txt'), 'utf8')).toMatch(/unsupported file type/);
    expect(
      fs
        .readdirSync(inbox)
        .filter((f) => !f.startsWith('.'))
        .sort(),
    ).toEqual(['done', 'failed']);
    const found = await cli(['search', 'helse', '--json'], e);
    expect((JSON.parse(found.stdout) as { results: { source: string }[] }).results.map((r) => r.source)).toContain('helse.pdf');
  });
});
