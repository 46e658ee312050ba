/**
 * `innsikt worker`: works the durable job queue (ingest/queue.ts) one document at a time, at
 * low priority, until stopped (or, with `once`, until the queue is empty). Jobs come from
 * `innsikt ingest --queue`, web uploads, staff actions and the inbox folder (INNSIKT_INBOX):
 * files dropped there are queued, and moved to done/ or failed/ (with a .reason.txt) when
 * their job ends.
 *
 * Every document is one transaction in the index (the store replaces a document and its
 * chunks at once; silver is renamed into place after that commit), so a kill -9 at any moment
 * leaves either the old or the new document; on restart, the interrupted job runs again
 * (queue.ts recover()), and OCR resumes at the first page not yet read (extract/index.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { type OpenIndex, openIndex } from '../indexes/open.ts';
import type { Config } from '../server/config.ts';
import { DataDir, documentIdFor } from './data-dir.ts';
import { mediaTypeFor } from './extract/index.ts';
import { changeAccess, deleteDocument, type IngestResult, ingestFile } from './pipeline.ts';
import { HEARTBEAT_MS, type Job, type JobPayload, JobQueue, workerName } from './queue.ts';
import { reindex } from './reindex.ts';

export interface WorkerOptions {
  /** Stop when the queue is empty (and the inbox has nothing new) instead of waiting. */
  once?: boolean;
  /** The inbox folder (INNSIKT_INBOX), or null. */
  inbox?: string | null;
  /** How often an idle worker looks for new jobs and inbox files (ms). */
  pollMs?: number;
  signal?: AbortSignal;
  log?: (msg: string) => void;
  /** Each job as it starts, progresses and ends (the command line's progress bar). */
  onJob?: (job: Job, event: 'start' | 'progress' | 'end', detail?: string) => void;
}

export interface WorkerSummary {
  done: number;
  failed: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

export class Worker {
  readonly name = workerName();
  readonly queue: JobQueue;
  readonly dataDir: DataDir;
  private idx: OpenIndex | null = null;
  private dirty = false;
  /** Inbox files seen on the last scan: name -> size:mtime (queued when unchanged on the next). */
  private seen = new Map<string, string>();

  constructor(
    readonly config: Config,
    readonly opts: WorkerOptions = {},
  ) {
    this.dataDir = new DataDir(config.dataDir);
    this.queue = new JobQueue(this.dataDir.queueFile);
  }

  private log(msg: string): void {
    (this.opts.log ?? ((m: string) => console.log(m)))(msg);
  }

  private async index(): Promise<OpenIndex> {
    // Another process's reindex replaced the index file: work on the new one.
    if (this.idx?.store.replaced()) {
      await this.idx.store.close();
      this.idx = null;
    }
    this.idx ??= await openIndex(this.config.index);
    return this.idx;
  }

  async close(): Promise<void> {
    await this.idx?.store.close();
    this.idx = null;
    this.queue.close();
  }

  async run(): Promise<WorkerSummary> {
    const summary: WorkerSummary = { done: 0, failed: 0 };
    const { signal } = this.opts;
    for (let idle = 0; !signal?.aborted; ) {
      const { requeued, failed } = this.queue.recover();
      for (const j of requeued) this.log(`[worker] job ${j.id} (${j.label}) was interrupted: queued again (attempt ${j.attempts + 1})`);
      for (const j of failed) this.log(`[worker] job ${j.id} (${j.label}) set aside: ${j.error}`);
      if (this.opts.inbox) this.scanInbox(this.opts.inbox, idle === 0);
      const job = this.queue.claim(this.name);
      if (!job) {
        if (this.dirty) await this.optimize();
        // --once: a file still being written to the inbox is waited for (it is seen twice first).
        if (this.opts.once && (!this.opts.inbox || idle >= 1)) break;
        idle++;
        await sleep(this.opts.pollMs ?? 1000, signal);
        continue;
      }
      idle = 0;
      const ok = await this.work(job);
      if (ok) summary.done++;
      else summary.failed++;
    }
    return summary;
  }

  private async optimize(): Promise<void> {
    this.dirty = false;
    if (this.config.mergeBudgetMs <= 0) return;
    try {
      for (const note of await (await this.index()).store.optimize(this.config.mergeBudgetMs)) this.log(`[worker] ${note}`);
    } catch (err) {
      this.log(`[worker] optimize failed: ${(err as Error).message}`);
    }
  }

  /** Run one claimed job to its end; true when it succeeded. */
  private async work(job: Job): Promise<boolean> {
    this.opts.onJob?.(job, 'start');
    let progress: { text?: string; pagesDone?: number; pagesTotal?: number } | undefined;
    const beat = setInterval(() => {
      this.queue.beat(job.id, this.name, progress);
      progress = undefined;
    }, HEARTBEAT_MS);
    const report = (text: string, pagesDone?: number, pagesTotal?: number) => {
      progress = { text, pagesDone, pagesTotal };
      // Pages read are written at once: an interrupted job that got further is not a crash loop (queue.ts).
      if (pagesDone !== undefined) {
        this.queue.beat(job.id, this.name, progress);
        progress = undefined;
      }
      this.opts.onJob?.(job, 'progress', text);
    };
    let state: 'done' | 'failed' = 'failed';
    let result: unknown;
    let error: string | null = null;
    try {
      ({ state, result, error } = await this.execute(job.payload, report));
    } catch (err) {
      error = (err as Error).message || String(err);
    } finally {
      clearInterval(beat);
    }
    this.queue.finish(job.id, this.name, { state, result, error });
    if (job.payload.kind === 'ingest') this.afterFile(job.payload, state, error);
    this.log(`[worker] job ${job.id} ${job.kind} ${job.label}: ${state}${error ? ` (${error})` : ''}`);
    this.opts.onJob?.({ ...job, state, error }, 'end', error ?? undefined);
    return state === 'done';
  }

  private async execute(
    p: JobPayload,
    report: (text: string, pagesDone?: number, pagesTotal?: number) => void,
  ): Promise<{ state: 'done' | 'failed'; result?: unknown; error: string | null }> {
    const idx = await this.index();
    const ctx = { ...idx, dataDir: this.dataDir, defaultAccess: this.config.defaultAccess };
    const onProgress = (_file: string, detail: string) => {
      const m = /^OCR (\d+)\/(\d+)/.exec(detail);
      report(detail, m ? Number(m[1]) : undefined, m ? Number(m[2]) : undefined);
    };
    const fromResult = (r: IngestResult) => {
      if (r.status === 'ok') this.dirty = true;
      return { state: r.status === 'failed' ? ('failed' as const) : ('done' as const), result: r, error: r.reason && r.status === 'failed' ? r.reason : null };
    };
    switch (p.kind) {
      case 'ingest': {
        if (!fs.existsSync(p.file)) return { state: 'failed', error: `the file ${p.file} is gone (moved or deleted before it was read)` };
        report('leser');
        const r = await ingestFile(
          p.file,
          ctx,
          { access: p.access, groups: p.groups, onProgress },
          { id: p.id, sourceName: p.sourceName, title: p.title, kind: p.docKind, force: p.force },
        );
        return fromResult(r);
      }
      case 'ocr': {
        const silver = this.dataDir.readSilver(p.documentId);
        if (!silver) return { state: 'failed', error: `no document ${p.documentId}` };
        const file = this.dataDir.bronzeFile(silver.sha256, path.extname(silver.source).toLowerCase());
        if (!fs.existsSync(file)) return { state: 'failed', error: `the original file of ${p.documentId} is missing from bronze` };
        report('leser på nytt med OCR');
        const r = await ingestFile(file, ctx, { onProgress }, { id: silver.id, sourceName: silver.source, force: true });
        return fromResult(r);
      }
      case 'delete': {
        const existed = await deleteDocument(ctx, p.documentId);
        this.dirty = true;
        return { state: existed ? 'done' : 'failed', result: { deleted: existed }, error: existed ? null : `no document ${p.documentId}` };
      }
      case 'access': {
        const ok = await changeAccess({ store: idx.store, dataDir: this.dataDir }, p.documentId, p.access, p.groups);
        return { state: ok ? 'done' : 'failed', result: { access: p.access, groups: p.groups }, error: ok ? null : `no document ${p.documentId}` };
      }
      case 'reindex': {
        const r = await reindex(idx.store, this.dataDir, idx.embedder, (d, t) => report(`${d}/${t} dokumenter`));
        // The embedded store's file was replaced: open the new one for the next job.
        await idx.store.close();
        this.idx = null;
        return { state: r.failed.length === 0 ? 'done' : 'failed', result: r, error: r.failed.length ? `${r.failed.length} documents failed` : null };
      }
    }
  }

  /** Inbox files: to done/, or to failed/ beside a file that says why. */
  private afterFile(p: Extract<JobPayload, { kind: 'ingest' }>, state: 'done' | 'failed', error: string | null): void {
    try {
      if (p.inbox) {
        const name = p.sourceName ?? path.basename(p.file);
        const dir = path.join(p.inbox, state === 'done' ? 'done' : 'failed');
        fs.mkdirSync(dir, { recursive: true });
        const target = freeName(dir, name);
        fs.renameSync(p.file, target);
        if (state === 'failed') fs.writeFileSync(`${target}.reason.txt`, `${error ?? 'failed'}\n`);
      } else if (p.removeAfter && state === 'done') fs.rmSync(p.file, { force: true });
      // A failed upload keeps its staged file, so that "Prøv igjen" (queue.retry) can read it again.
    } catch (err) {
      this.log(`[worker] could not move ${p.file}: ${(err as Error).message}`);
    }
  }

  /**
   * Queue the inbox's new files: a file is taken when its size and time are the same on two
   * scans in a row (a copy still being written is not), by renaming it into .processing/ (one
   * worker wins the rename). Files left in .processing/ without a job (a kill between the
   * rename and the queueing) are queued again.
   */
  scanInbox(inbox: string, firstScan = false): number {
    const processing = path.join(inbox, '.processing');
    let queued = 0;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(inbox, { withFileTypes: true });
    } catch (err) {
      if (firstScan) this.log(`[worker] cannot read the inbox ${inbox}: ${(err as Error).message}`);
      return 0;
    }
    const now = new Map<string, string>();
    for (const e of entries) {
      if (!e.isFile() || e.name.startsWith('.') || e.name.endsWith('.reason.txt')) continue;
      const full = path.join(inbox, e.name);
      let st: fs.Stats;
      try {
        st = fs.statSync(full);
      } catch {
        continue;
      }
      const sig = `${st.size}:${st.mtimeMs}`;
      now.set(e.name, sig);
      if (this.seen.get(e.name) !== sig) continue;
      fs.mkdirSync(processing, { recursive: true });
      const staged = path.join(processing, `${Date.now()}-${process.pid}-${e.name}`);
      try {
        fs.renameSync(full, staged);
      } catch {
        continue; // another worker took it
      }
      this.queueInboxFile(inbox, staged, e.name);
      queued++;
    }
    this.seen = now;
    // Orphans: staged, but their job was never written.
    try {
      const known = new Set(
        (this.queue.db.prepare(`SELECT json_extract(payload, '$.file') AS f FROM jobs WHERE state IN ('queued', 'running')`).all() as { f: string }[]).map(
          (r) => r.f,
        ),
      );
      for (const f of fs.existsSync(processing) ? fs.readdirSync(processing) : []) {
        const staged = path.join(processing, f);
        const st = fs.statSync(staged);
        if (known.has(staged) || Date.now() - st.mtimeMs < 10_000) continue;
        this.queueInboxFile(inbox, staged, f.replace(/^\d+-\d+-/, ''));
        queued++;
      }
    } catch (err) {
      this.log(`[worker] inbox: ${(err as Error).message}`);
    }
    return queued;
  }

  private queueInboxFile(inbox: string, staged: string, name: string): void {
    if (!mediaTypeFor(name)) {
      const dir = path.join(inbox, 'failed');
      fs.mkdirSync(dir, { recursive: true });
      const target = freeName(dir, name);
      fs.renameSync(staged, target);
      fs.writeFileSync(`${target}.reason.txt`, `unsupported file type "${path.extname(name) || '(none)'}": use PDF, .txt, .md or .html\n`);
      return;
    }
    // The id of the file as if it had stayed in the inbox: a new version of a name replaces the old.
    const job = this.queue.add({ kind: 'ingest', file: staged, sourceName: name, id: documentIdFor(path.join(inbox, name)), inbox }, 'inbox');
    this.log(`[worker] inbox: queued ${name} as job ${job.id}`);
  }
}

/** name, or "name (2).ext" when it is taken. */
function freeName(dir: string, name: string): string {
  const ext = path.extname(name);
  const base = name.slice(0, name.length - ext.length);
  let target = path.join(dir, name);
  for (let i = 2; fs.existsSync(target); i++) target = path.join(dir, `${base} (${i})${ext}`);
  return target;
}
