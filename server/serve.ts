/**
 * Starting the web server: open the index, listen at once (/healthz answers 503 until ready),
 * ingest the demo corpus on the first start when asked, then report ready.
 *
 * `innsikt reindex` on the embedded store builds a new index file beside the old one and
 * renames it over the old one. The server's connection would go on reading the old (now
 * unlinked) file, so it would never see the new index, nor a delete or access change written
 * to it afterwards. So at most every SWAP_CHECK_MS a request asks the store whether it was
 * replaced (Store.replaced()); when it was, requests wait while the new one is opened (with a
 * new result cache), and the old one is closed once the requests that were using it are done.
 * (Elasticsearch switches its aliases itself: its store is never replaced.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { type OpenIndex, openIndex } from '../indexes/open.ts';
import { DataDir } from '../ingest/data-dir.ts';
import { ingestDemo } from '../ingest/demo.ts';
import { shutdownExtractors } from '../ingest/extract/index.ts';
import { createApp } from './app.ts';
import type { Config } from './config.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/innsikt.js');

/** How often (at most) a request checks whether the index file was replaced. */
export const SWAP_CHECK_MS = 1000;
/**
 * The replaced index stays open at least this long (a streamed summary retrieves its sources
 * after its response started) and, while requests still run on it, at most OLD_INDEX_MAX_MS.
 */
const OLD_INDEX_GRACE_MS = 30_000;
const OLD_INDEX_MAX_MS = 120_000;

interface Generation extends OpenIndex {
  dataDir: DataDir;
  app: ReturnType<typeof createApp>;
  /** The replacement could not be opened: keep serving this one, and stop asking. */
  stuck: boolean;
  /** Requests running on this generation (until their response is returned). */
  running: number;
}

export async function startServer(config: Config, opts: { demo?: boolean } = {}) {
  let ready = false;
  const dataDir = new DataDir(config.dataDir);
  const open = async (): Promise<Generation> => {
    const idx = await openIndex(config.index);
    return { ...idx, dataDir, app: createApp({ ...idx, dataDir, config, isReady: () => ready }), stuck: false, running: 0 };
  };
  let gen = await open();
  let swapping: Promise<void> | null = null;
  let checkedAt = 0;

  const retire = (old: Generation) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      const age = Date.now() - t0;
      if (age < OLD_INDEX_GRACE_MS || (old.running > 0 && age < OLD_INDEX_MAX_MS)) return;
      clearInterval(poll);
      void old.store.close();
    }, 1000);
    poll.unref();
  };

  const swap = async () => {
    try {
      const next = await open();
      const old = gen;
      gen = next;
      console.log(`[innsikt] the index file was replaced (innsikt reindex?): serving the new one (${(await next.store.stats()).documents} documents)`);
      retire(old);
    } catch (err) {
      // Not openable (another embedder, damage): keep serving the old one, and say so once.
      gen.stuck = true;
      console.error(
        `[innsikt] the index file was replaced, but the new one cannot be opened: ${(err as Error).message}. Still serving the old index; restart the server.`,
      );
    }
  };

  const fetch = async (req: Request, env?: unknown): Promise<Response> => {
    const now = Date.now();
    if (ready && !swapping && now - checkedAt >= SWAP_CHECK_MS) {
      checkedAt = now;
      if (!gen.stuck && gen.store.replaced()) swapping = swap().finally(() => (swapping = null));
    }
    if (swapping) await swapping;
    const g = gen;
    g.running++;
    try {
      return await g.app.fetch(req, env);
    } finally {
      g.running--;
    }
  };

  const server = serve({ fetch, port: config.port, hostname: config.host });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${config.port} is in use: choose another with --port or PORT`) : err),
    );
  });
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
  console.log(`Innsiktsbanken listening on ${url} (data: ${config.dataDir})`);

  if (opts.demo && (await gen.store.stats()).documents === 0) {
    console.log('Empty index: ingesting the demo corpus from fixtures/demo ...');
    const t0 = performance.now();
    const results = await ingestDemo({ ...gen, defaultAccess: config.defaultAccess });
    await shutdownExtractors();
    const failed = results.filter((r) => r.status === 'failed');
    for (const f of failed) console.error(`  failed ${f.file}: ${f.reason}`);
    console.log(`Demo corpus ready: ${results.length - failed.length} documents in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
  }
  ready = true;
  console.log(`Ready: open ${url}`);
  const worker = config.serveWorker ? superviseWorker() : null;

  const stop = () => {
    worker?.stop();
    server.close();
    void gen.store.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    server,
    /** The store requests are served from now (it changes when the index file is replaced). */
    store: () => gen.store,
    close: () =>
      new Promise<void>((r) => {
        worker?.stop();
        server.close(() => {
          void gen.store.close().then(() => r());
        });
      }),
  };
}

/**
 * The ingestion worker beside the server (INNSIKT_WORKER=on, the default): `innsikt worker` as
 * a child process, so uploads and staff actions are worked off the request path, at the
 * worker's low priority, and a document that crashes it cannot take the server down. When it
 * dies it is started again (its interrupted job is queued again, or set aside after three
 * crashes: ingest/queue.ts). It stops with the server: its stdin is our pipe.
 */
function superviseWorker(): { stop(): void } {
  let child: ChildProcess | null = null;
  let stopped = false;
  let restarts = 0;
  const start = () => {
    const started = Date.now();
    child = spawn(process.execPath, [BIN, 'worker'], { env: { ...process.env, INNSIKT_WORKER_PARENT: '1' }, stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('exit', (code, signal) => {
      child = null;
      if (stopped) return;
      // A worker that keeps dying at once is restarted more slowly (at most every minute).
      restarts = Date.now() - started > 60_000 ? 0 : restarts + 1;
      const delay = Math.min(60_000, 500 * 2 ** restarts);
      console.error(`[innsikt] the ingestion worker stopped (${signal ?? `exit ${code}`}); starting it again in ${Math.round(delay / 1000)} s`);
      setTimeout(() => !stopped && start(), delay).unref();
    });
  };
  start();
  return {
    stop() {
      stopped = true;
      child?.kill('SIGTERM');
    },
  };
}
