/**
 * The ingestion worker's durable job queue: one SQLite file in the data directory
 * (queue.sqlite, WAL), written by `innsikt ingest --queue`, the inbox, web uploads and staff
 * actions, and worked by `innsikt worker` (ingest/worker.ts).
 *
 * Claims are per job (one job is one document, or one whole-index reindex): a worker takes the
 * oldest queued job in an IMMEDIATE transaction, so several workers on one machine sharing the
 * data directory never take the same job. (SQLite's locks need a local disk: workers on other
 * machines each have their own data directory and queue, writing to the same Elasticsearch.)
 *
 * Nothing is lost by a kill -9: a claimed job records its worker (host:pid) and a heartbeat.
 * When a worker's process is gone (same host) or its heartbeat is older than STALE_MS, its
 * job is queued again; one that was started MAX_ATTEMPTS times without finishing (it kills
 * its worker) is set aside as failed with the reason, so it never blocks the queue. An
 * interrupted attempt that got further than the one before (more pages read by OCR, which
 * resumes where it stopped) is not counted: a long scan survives restarts of its machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AccessLevel, DocumentKind } from '../indexes/types.ts';

export type JobState = 'queued' | 'running' | 'done' | 'failed';

export type JobPayload =
  | {
      kind: 'ingest';
      /** The file to read (an upload's or the inbox's staged copy, or a path on this machine). */
      file: string;
      access?: AccessLevel;
      groups?: string[];
      id?: string;
      sourceName?: string;
      title?: string;
      docKind?: DocumentKind;
      /** Read again even when unchanged (the "OCR a document" job re-reads its original). */
      force?: boolean;
      /** Inbox files: where the file goes when done (done/ or failed/ with a reason file). */
      inbox?: string;
      /** A staged upload is removed once its job is done (a failed one keeps it for a retry). */
      removeAfter?: boolean;
    }
  | { kind: 'ocr'; documentId: string }
  | { kind: 'reindex' }
  | { kind: 'delete'; documentId: string }
  | { kind: 'access'; documentId: string; access: AccessLevel; groups: string[] };

export type JobKind = JobPayload['kind'];

export interface Job {
  id: number;
  kind: JobKind;
  payload: JobPayload;
  label: string;
  state: JobState;
  attempts: number;
  worker: string | null;
  heartbeat: number | null;
  /** What the job is doing now ("OCR 3/26 pages"). */
  progress: string | null;
  pagesDone: number | null;
  pagesTotal: number | null;
  /** The pages read when an attempt was last interrupted. */
  progressMark: number | null;
  result: unknown;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  createdBy: string | null;
}

/** A job started this many times without finishing (its worker died each time) is set aside. */
export const MAX_ATTEMPTS = 3;
/** A heartbeat older than this means the worker is gone (for workers on another host, or a hung one). */
export const STALE_MS = 60_000;
export const HEARTBEAT_MS = 5_000;

interface Row {
  id: number;
  kind: JobKind;
  payload: string;
  label: string;
  state: JobState;
  attempts: number;
  worker: string | null;
  heartbeat: number | null;
  progress: string | null;
  pages_done: number | null;
  pages_total: number | null;
  progress_mark: number | null;
  result: string | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  created_by: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  label TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  worker TEXT,
  heartbeat INTEGER,
  progress TEXT,
  pages_done INTEGER,
  pages_total INTEGER,
  progress_mark INTEGER,
  result TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  created_by TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, id);
`;

function toJob(r: Row): Job {
  return {
    id: r.id,
    kind: r.kind,
    payload: JSON.parse(r.payload) as JobPayload,
    label: r.label,
    state: r.state,
    attempts: r.attempts,
    worker: r.worker,
    heartbeat: r.heartbeat,
    progress: r.progress,
    pagesDone: r.pages_done,
    pagesTotal: r.pages_total,
    progressMark: r.progress_mark,
    result: r.result ? JSON.parse(r.result) : null,
    error: r.error,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    createdBy: r.created_by,
  };
}

export function labelFor(p: JobPayload): string {
  switch (p.kind) {
    case 'ingest':
      return p.sourceName ?? path.basename(p.file);
    case 'reindex':
      return 'hele indeksen';
    default:
      return p.documentId;
  }
}

const STARTED = Date.now().toString(36);

/**
 * host:pid:start, the owner of a claim. The start time tells a restarted container's worker
 * (same host name, often the same pid) from the one that claimed the job before it died.
 */
export function workerName(pid = process.pid): string {
  return `${os.hostname()}:${pid}:${STARTED}`;
}

function processGone(worker: string): boolean {
  const [host, pidText] = worker.split(':');
  if (host !== os.hostname()) return false;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  // Our own pid under another start time: we are that worker's successor.
  if (pid === process.pid) return worker !== workerName();
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface QueueCounts {
  queued: number;
  running: number;
  done: number;
  failed: number;
}

export class JobQueue {
  readonly db: Database.Database;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  add(payload: JobPayload, createdBy: string | null = null): Job {
    const row = this.db
      .prepare(`INSERT INTO jobs (kind, payload, label, state, created_at, created_by) VALUES (?, ?, ?, 'queued', ?, ?) RETURNING *`)
      .get(payload.kind, JSON.stringify(payload), labelFor(payload), Date.now(), createdBy) as Row;
    return toJob(row);
  }

  get(id: number): Job | null {
    const row = this.db.prepare(`SELECT * FROM jobs WHERE id = ?`).get(id) as Row | undefined;
    return row ? toJob(row) : null;
  }

  /** The newest jobs first; running and queued ones before the finished. */
  list(opts: { limit?: number; states?: JobState[] } = {}): Job[] {
    const states = opts.states ?? ['queued', 'running', 'done', 'failed'];
    const rows = this.db
      .prepare(
        `SELECT * FROM jobs WHERE state IN (${states.map(() => '?').join(',')})
         ORDER BY CASE state WHEN 'running' THEN 0 WHEN 'queued' THEN 1 ELSE 2 END,
                  CASE WHEN state IN ('running', 'queued') THEN id ELSE -coalesce(finished_at, id) END LIMIT ?`,
      )
      .all(...states, opts.limit ?? 100) as Row[];
    return rows.map(toJob);
  }

  counts(): QueueCounts {
    const c: QueueCounts = { queued: 0, running: 0, done: 0, failed: 0 };
    for (const r of this.db.prepare(`SELECT state, count(*) AS n FROM jobs GROUP BY state`).all() as { state: JobState; n: number }[]) c[r.state] = r.n;
    return c;
  }

  /**
   * Queue again the jobs of workers that are gone; set aside (failed) those started
   * MAX_ATTEMPTS times. Returns what it did, for the log.
   */
  recover(now = Date.now()): { requeued: Job[]; failed: Job[] } {
    const requeued: Job[] = [];
    const failed: Job[] = [];
    // An idle worker asks every second: without running jobs, no write lock is taken.
    if (!this.db.prepare(`SELECT 1 FROM jobs WHERE state = 'running' LIMIT 1`).get()) return { requeued, failed };
    const tx = this.db.transaction(() => {
      const running = this.db.prepare(`SELECT * FROM jobs WHERE state = 'running'`).all() as Row[];
      for (const r of running) {
        const stale = r.heartbeat === null || now - r.heartbeat > STALE_MS;
        if (!stale && !(r.worker && processGone(r.worker))) continue;
        const progressed = r.pages_done !== null && r.pages_done > (r.progress_mark ?? 0);
        if (progressed) {
          this.db
            .prepare(`UPDATE jobs SET state = 'queued', worker = NULL, progress = NULL, attempts = attempts - 1, progress_mark = ? WHERE id = ?`)
            .run(r.pages_done, r.id);
          requeued.push(toJob({ ...r, state: 'queued', attempts: r.attempts - 1 }));
        } else if (r.attempts >= MAX_ATTEMPTS) {
          const error =
            `The worker stopped (crashed or was killed) while working on this job ${r.attempts} times; ` +
            'it is set aside so that the queue goes on. Check the file, then retry it.';
          this.db.prepare(`UPDATE jobs SET state = 'failed', error = ?, worker = NULL, progress = NULL, finished_at = ? WHERE id = ?`).run(error, now, r.id);
          failed.push(toJob({ ...r, state: 'failed', error }));
        } else {
          this.db.prepare(`UPDATE jobs SET state = 'queued', worker = NULL, progress = NULL WHERE id = ?`).run(r.id);
          requeued.push(toJob({ ...r, state: 'queued' }));
        }
      }
    });
    tx.immediate();
    return { requeued, failed };
  }

  /** Take the oldest queued job for this worker, or null when there is none. */
  claim(worker = workerName()): Job | null {
    const tx = this.db.transaction(() => {
      const row = this.db.prepare(`SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1`).get() as { id: number } | undefined;
      if (!row) return null;
      const now = Date.now();
      return this.db
        .prepare(
          `UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = ?, heartbeat = ?, started_at = ?,
             progress = NULL, pages_done = NULL, pages_total = NULL, error = NULL WHERE id = ? RETURNING *`,
        )
        .get(worker, now, now, row.id) as Row;
    });
    const row = tx.immediate();
    return row ? toJob(row) : null;
  }

  /** The worker is alive and says how far it got. Returns false when the job is no longer its own. */
  beat(id: number, worker: string, progress?: { text?: string; pagesDone?: number; pagesTotal?: number }): boolean {
    const res = this.db
      .prepare(
        `UPDATE jobs SET heartbeat = ?, progress = coalesce(?, progress), pages_done = coalesce(?, pages_done), pages_total = coalesce(?, pages_total)
         WHERE id = ? AND worker = ? AND state = 'running'`,
      )
      .run(Date.now(), progress?.text ?? null, progress?.pagesDone ?? null, progress?.pagesTotal ?? null, id, worker);
    return res.changes > 0;
  }

  finish(id: number, worker: string, outcome: { state: 'done' | 'failed'; result?: unknown; error?: string | null }): void {
    this.db
      .prepare(
        `UPDATE jobs SET state = ?, result = ?, error = ?, worker = NULL, progress = NULL, finished_at = ? WHERE id = ? AND worker = ? AND state = 'running'`,
      )
      .run(outcome.state, outcome.result === undefined ? null : JSON.stringify(outcome.result), outcome.error ?? null, Date.now(), id, worker);
  }

  /** Queue a failed job again, with a fresh count of attempts. False when it is not failed. */
  retry(id: number): boolean {
    const res = this.db
      .prepare(`UPDATE jobs SET state = 'queued', attempts = 0, error = NULL, result = NULL, finished_at = NULL WHERE id = ? AND state = 'failed'`)
      .run(id);
    return res.changes > 0;
  }

  /**
   * Throughput and what is left: pages per minute of work over the documents finished in the
   * last hour (pages over the time their jobs ran), and an estimate of the time the queue still
   * needs (queued documents at the mean pages per document, plus the running ones' pages left).
   */
  estimate(now = Date.now()): { pagesPerMinute: number | null; pagesPerJob: number | null; secondsLeft: number | null } {
    const r = this.db
      .prepare(
        `SELECT count(*) AS n, sum(json_extract(result, '$.pages')) AS pages, sum(finished_at - started_at) AS ms FROM jobs
         WHERE state = 'done' AND kind IN ('ingest', 'ocr') AND finished_at >= ? AND json_extract(result, '$.status') = 'ok'`,
      )
      .get(now - 3600_000) as { n: number; pages: number | null; ms: number | null };
    if (!r.n || !r.pages || !r.ms) return { pagesPerMinute: null, pagesPerJob: null, secondsLeft: null };
    const perMinute = (r.pages / r.ms) * 60_000;
    const perJob = r.pages / r.n;
    const queued = (this.db.prepare(`SELECT count(*) AS n FROM jobs WHERE state = 'queued' AND kind IN ('ingest', 'ocr')`).get() as { n: number }).n;
    const running = this.db.prepare(`SELECT pages_done, pages_total FROM jobs WHERE state = 'running'`).all() as {
      pages_done: number | null;
      pages_total: number | null;
    }[];
    const runningLeft = running.reduce((s, j) => s + (j.pages_total !== null ? Math.max(0, j.pages_total - (j.pages_done ?? 0)) : perJob), 0);
    return { pagesPerMinute: perMinute, pagesPerJob: perJob, secondsLeft: ((queued * perJob + runningLeft) / perMinute) * 60 };
  }
}
