/**
 * PDF extraction in a small pool of worker threads (ingest/extract/pdf-worker.js).
 *
 * Why workers: pdf.js runs on the thread that calls it, so one pathological PDF could block
 * or crash the whole process. Here every job has a timeout; on timeout (or a crash, or
 * running out of its memory limit) the worker is terminated and a fresh one takes its place
 * for the next job. The pool also lets two files be parsed at once on two cores.
 *
 * Idle workers are unref()'d so they never keep a CLI process alive; shutdownPdfPool()
 * terminates them.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { ExtractionError } from './errors.ts';

export interface RawPdfResult {
  numPages: number;
  pages: { num: number; text: string }[];
  title: string | null;
  messages: string[];
}

interface WorkerOk extends RawPdfResult {
  id: number;
  ok: true;
}
interface WorkerFail {
  id: number;
  ok: false;
  error: { name: string; message: string };
  messages: string[];
}
type WorkerReply = WorkerOk | WorkerFail;

interface Job {
  id: number;
  data: Uint8Array;
  timeoutMs: number;
  resolve: (r: RawPdfResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

const WORKER_URL = new URL('./pdf-worker.js', import.meta.url);
/** Heap limit per worker: a hostile PDF fails with 'too-large' instead of exhausting RAM. */
const WORKER_HEAP_MB = 2048;

let nextId = 1;
const queue: Job[] = [];
const slots = new Set<Slot>();

function envInt(name: string): number | null {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : null;
}

export function poolSize(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return envInt('INNSIKT_EXTRACT_WORKERS') ?? Math.max(1, Math.min(2, cores));
}

export function defaultTimeoutMs(): number {
  return envInt('INNSIKT_EXTRACT_TIMEOUT_MS') ?? 60_000;
}

function spawn(): Slot {
  const worker = new Worker(WORKER_URL, {
    // A clean Node: no tsx loader or test-runner flags from the parent.
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
  });
  const slot: Slot = { worker, job: null, timer: null };
  worker.on('message', (reply: WorkerReply) => onReply(slot, reply));
  worker.on('error', (err: Error & { code?: string }) => onCrash(slot, err));
  worker.on('exit', (code) => {
    if (slots.has(slot)) onCrash(slot, new Error(`the PDF worker exited unexpectedly (exit code ${code})`));
  });
  worker.unref();
  slots.add(slot);
  return slot;
}

/** Removes a slot from the pool, terminating its worker; the next dispatch spawns a fresh one. */
function retire(slot: Slot): void {
  if (slot.timer) clearTimeout(slot.timer);
  slot.timer = null;
  slots.delete(slot);
  void slot.worker.terminate().catch(() => {});
}

function finish(slot: Slot): Job | null {
  const job = slot.job;
  if (slot.timer) clearTimeout(slot.timer);
  slot.timer = null;
  slot.job = null;
  return job;
}

function onReply(slot: Slot, reply: WorkerReply): void {
  const job = slot.job;
  if (!job || reply.id !== job.id) return; // stale
  finish(slot);
  slot.worker.unref();
  if (reply.ok) {
    job.resolve({ numPages: reply.numPages, pages: reply.pages, title: reply.title, messages: reply.messages });
  } else {
    job.reject(mapPdfError(reply.error, reply.messages));
  }
  dispatch();
}

function onCrash(slot: Slot, err: Error & { code?: string }): void {
  const job = finish(slot);
  retire(slot);
  if (job) {
    if (err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      job.reject(
        new ExtractionError(
          'too-large',
          `PDF parsing needed more than the ${WORKER_HEAP_MB} MB memory limit and was stopped. ` +
            'The file is too complex to extract; split it into smaller PDFs or re-save it with a PDF tool and try again.',
          { cause: err },
        ),
      );
    } else {
      job.reject(
        new ExtractionError(
          'corrupt',
          `The PDF parser crashed while reading this file (${err.message}). ` +
            'The file is probably damaged; try re-downloading it or re-saving it with a PDF tool (e.g. `qpdf in.pdf out.pdf`).',
          { cause: err },
        ),
      );
    }
  }
  dispatch();
}

function onTimeout(slot: Slot): void {
  const job = finish(slot);
  retire(slot);
  if (job) {
    job.reject(
      new ExtractionError(
        'timeout',
        `PDF text extraction did not finish within ${job.timeoutMs} ms and was stopped. ` +
          'The file may be pathological (e.g. deeply nested or recursive content). ' +
          'If it is just very large, raise INNSIKT_EXTRACT_TIMEOUT_MS and try again.',
      ),
    );
  }
  dispatch();
}

function dispatch(): void {
  while (queue.length > 0) {
    let slot: Slot | undefined;
    for (const s of slots)
      if (!s.job) {
        slot = s;
        break;
      }
    if (!slot) {
      if (slots.size >= poolSize()) return;
      slot = spawn();
    }
    const job = queue.shift()!;
    slot.job = job;
    slot.worker.ref();
    const s = slot;
    s.timer = setTimeout(() => onTimeout(s), job.timeoutMs);
    try {
      s.worker.postMessage({ id: job.id, data: job.data }, [job.data.buffer as ArrayBuffer]);
    } catch (err) {
      finish(s);
      retire(s);
      job.reject(new ExtractionError('corrupt', `Could not hand the PDF to a worker: ${(err as Error).message}`, { cause: err }));
    }
  }
}

/**
 * Parses a PDF in a worker. `data` must own its whole ArrayBuffer (offset 0, full length,
 * not shared with anything else): it is transferred to the worker and detached here.
 */
export function parsePdfInWorker(data: Uint8Array, timeoutMs: number): Promise<RawPdfResult> {
  if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength || !(data.buffer instanceof ArrayBuffer)) {
    data = data.slice(); // a view into a bigger or shared buffer: transferring it would detach too much
  }
  return new Promise((resolve, reject) => {
    queue.push({ id: nextId++, data, timeoutMs, resolve, reject });
    dispatch();
  });
}

/** Terminates all PDF workers. Queued and running jobs fail with ExtractionError('timeout'). */
export async function shutdownPdfPool(): Promise<void> {
  const cancelled = new ExtractionError('timeout', 'PDF extraction was cancelled because the extractors were shut down.');
  for (const job of queue.splice(0)) job.reject(cancelled);
  const all = [...slots];
  slots.clear();
  await Promise.all(
    all.map(async (slot) => {
      const job = finish(slot);
      if (job) job.reject(cancelled);
      await slot.worker.terminate().catch(() => {});
    }),
  );
}

/** Turns an error reported by pdf.js / pdf-parse into an ExtractionError with advice. */
export function mapPdfError(error: { name: string; message: string }, messages: string[] = []): ExtractionError {
  const reason = error.message || error.name;
  if (error.name === 'PasswordException' || /password/i.test(reason)) {
    return new ExtractionError(
      'encrypted',
      `The PDF is password-protected (pdf.js: ${reason}) and cannot be read. ` +
        'Ask the sender for an unprotected copy, or remove the password (e.g. `qpdf --decrypt --password=PASSWORD in.pdf out.pdf`) and ingest that file.',
    );
  }
  const detail = messages
    .filter((m) => m.trim() !== '')
    .slice(0, 3)
    .join('; ');
  return new ExtractionError(
    'corrupt',
    `The PDF could not be read: ${reason}${detail ? ` (pdf.js: ${detail})` : ''}. ` +
      'The file is damaged or not a valid PDF; try re-downloading it or repairing it (e.g. `qpdf in.pdf out.pdf`) and ingest it again.',
  );
}
