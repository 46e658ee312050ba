/**
 * The server as a user meets it: started as `innsikt serve` on 127.0.0.1 in its own process.
 *
 * - Memory and start-up: time from spawning the process to the first answered search (module
 *   loading, opening SQLite, loading the int8 vector copy on that first search), resident memory
 *   (VmRSS) after it and after a pass over all queries, and the peak (VmHWM).
 * - HTTP under load: autocannon, 32 connections for 30 s, cycling through the bench queries,
 *   with the result cache on (as configured) and off,
 *   against GET /api/v1/search and the htmx results partial (GET /?q=... with HX-Request),
 *   once with the server idle otherwise and once while another process ingests the bulk
 *   election protocols into the same data directory (round after round, under new paths so
 *   every round is new documents). The load generator runs on the same 2 cores.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { documentIdFor } from '../ingest/data-dir.ts';
import { expandPaths } from '../ingest/pipeline.ts';
import { buildIndex } from './build-index.ts';
import { BULK_DIR, benchQueries, CACHE_DIR, ROOT, sizeLabel } from './corpus.ts';
import { finite, fmt, mb, median, quantile, rssOf, type SectionResult, type Table } from './report.ts';
import { openBenchStore } from './scale.ts';

const require = createRequire(import.meta.url);

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p97_5: number; p99: number; max: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const CLI = path.join(ROOT, 'bin/innsikt.js');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

interface Server {
  proc: ChildProcess;
  port: number;
  base: string;
  /** ms from spawn to the first search answered with 200. */
  firstSearchMs: number;
  stop(): Promise<void>;
}

async function startServer(dataDir: string, firstQuery: string, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], {
    env: { ...process.env, INNSIKT_DATA_DIR: dataDir, INNSIKT_HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  let exited = false;
  proc.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`the server exited before answering (data dir ${dataDir})`);
    try {
      const r = await fetch(`${base}/api/v1/search?q=${encodeURIComponent(firstQuery)}`);
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const firstSearchMs = performance.now() - t0;
  return {
    proc,
    port,
    base,
    firstSearchMs,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

function paths(queries: string[]) {
  return {
    api: queries.map((q) => ({ method: 'GET', path: `/api/v1/search?q=${encodeURIComponent(q)}` })),
    page: queries.map((q) => ({ method: 'GET', path: `/?q=${encodeURIComponent(q)}`, headers: { 'HX-Request': 'true' } })),
  };
}

// --- Memory and start-up ----------------------------------------------------------------------

export async function memorySection(size: number, repeat: number): Promise<Omit<SectionResult, 'section' | 'size' | 'at' | 'load' | 'seconds'>> {
  const idx = await buildIndex(size);
  openBenchStore(idx).store.close(); // the int8 vector copy is saved, as after a server's first start
  const queries = benchQueries();
  const p = paths(queries);
  const first: number[] = [];
  const rssFirst: number[] = [];
  const rssSteady: number[] = [];
  const peak: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const s = await startServer(idx.dir, queries[r % queries.length]);
    first.push(s.firstSearchMs);
    rssFirst.push(rssOf(s.proc.pid!)?.rss ?? NaN);
    for (const req of [...p.api, ...p.page]) {
      const res = await fetch(s.base + req.path, { headers: (req as { headers?: Record<string, string> }).headers });
      await res.arrayBuffer();
    }
    const m = rssOf(s.proc.pid!);
    rssSteady.push(m?.rss ?? NaN);
    peak.push(m?.peak ?? NaN);
    await s.stop();
    console.log(`  start ${r + 1}/${repeat}: first search after ${fmt(s.firstSearchMs, 0)} ms, RSS ${fmt(mb(m?.rss ?? NaN), 0)} MB`);
  }
  const row = (name: string, xs: number[], unit: (x: number) => number, d = 0) => [name, fmt(unit(median(xs)), d), fmt(unit(quantile(xs, 0.95)), d)];
  return {
    tables: [
      {
        title: `Server start-up and memory at ${idx.label} chunks (median and p95 of ${repeat} starts)`,
        header: ['figure', 'median', 'p95'],
        rows: [
          row('spawn to first answered search, ms', first, (x) => x),
          row('RSS after the first search, MB', rssFirst, mb),
          row(`RSS after ${p.api.length + p.page.length} more searches (API + results page), MB`, rssSteady, mb),
          row('peak RSS (VmHWM), MB', peak, mb),
        ],
        notes: ['The first search includes starting Node and tsx, opening SQLite, loading the saved int8 vector copy and the search itself.'],
      },
    ],
    notes: [],
    data: {
      firstSearchMs: median(first),
      firstSearchP95Ms: quantile(first, 0.95),
      rssMB: mb(median(rssSteady)),
      rssFirstMB: mb(median(rssFirst)),
      peakMB: mb(median(peak)),
      label: sizeLabel(size),
    },
  };
}

// --- HTTP under load --------------------------------------------------------------------------

/**
 * Ingest the bulk protocols into dataDir round after round until stopped. The pipeline skips a
 * file whose bytes it already holds, so every round starts by deleting the previous round's
 * documents (through the store, like `innsikt delete`): each round is real work, and the
 * deletions are writes the server has to follow too.
 */
function ingestLoop(dataDir: string): { stop: () => Promise<number> } {
  let stopped = false;
  let current: ChildProcess | null = null;
  let rounds = 0;
  const ids = expandPaths([BULK_DIR]).files.map(documentIdFor);
  const clear = () => {
    const store = new SqliteStore(path.join(dataDir, 'index.sqlite'), { vectorIndex: false });
    try {
      for (const id of ids) store.deleteDocument(id);
    } finally {
      store.close();
    }
  };
  const loop = (async () => {
    while (!stopped) {
      clear();
      current = spawn(process.execPath, [CLI, 'ingest', BULK_DIR, '--json'], {
        env: { ...process.env, INNSIKT_DATA_DIR: dataDir },
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      await new Promise((r) => current!.once('exit', r));
      if (!stopped) rounds++;
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      current?.kill('SIGTERM');
      await loop;
      return rounds;
    },
  };
}

function indexCounts(file: string): { documents: number; pages: number; chunks: number } {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT (SELECT count(*) FROM documents) AS documents, (SELECT coalesce(sum(page_count), 0) FROM documents) AS pages, (SELECT count(*) FROM chunks) AS chunks`,
      )
      .get() as {
      documents: number;
      pages: number;
      chunks: number;
    };
  } finally {
    db.close();
  }
}

export async function httpSection(
  size: number,
  opts: { repeat: number; duration: number; connections: number },
): Promise<Omit<SectionResult, 'section' | 'size' | 'at' | 'load' | 'seconds'>> {
  const idx = await buildIndex(size);
  openBenchStore(idx).store.close();
  // A copy of the cached index: the ingestion below changes it.
  const dataDir = path.join(CACHE_DIR, `http-data-${idx.label}`);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  for (const f of fs.readdirSync(idx.dir)) if (f.startsWith('index.sqlite')) fs.cpSync(path.join(idx.dir, f), path.join(dataDir, f), { recursive: true });
  const queries = benchQueries();
  const p = paths(queries);
  const rows: (string | number)[][] = [];
  const data: SectionResult['data'] = { label: idx.label };
  // The product as configured (result cache on), then every request computed.
  for (const cache of [true, false]) {
    const server = await startServer(dataDir, queries[0], cache ? {} : { INNSIKT_CACHE_ENTRIES: '0' });
    for (const req of [...p.api, ...p.page])
      await (await fetch(server.base + req.path, { headers: (req as { headers?: Record<string, string> }).headers })).arrayBuffer();
    try {
      for (const ingesting of [false, true]) {
        for (const [endpoint, requests] of [
          ['GET /api/v1/search', p.api],
          ['GET /?q= (htmx partial)', p.page],
        ] as const) {
          const runs: { r: AutocannonResult; pagesPerSec: number; rss: number; rounds: number; ingested: number }[] = [];
          for (let rep = 0; rep < opts.repeat; rep++) {
            const loop = ingesting ? ingestLoop(dataDir) : null;
            // Pages ingested during the run: followed through the documents table every second.
            let ingestedPages = 0;
            let last = indexCounts(path.join(dataDir, 'index.sqlite'));
            const follow = setInterval(() => {
              const now = indexCounts(path.join(dataDir, 'index.sqlite'));
              if (now.pages > last.pages) ingestedPages += now.pages - last.pages;
              last = now;
            }, 1000);
            let maxRss = 0;
            const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssOf(server.proc.pid!)?.rss ?? 0)), 500);
            const t0 = performance.now();
            const r = await autocannon({ url: server.base, connections: opts.connections, duration: opts.duration, requests });
            const secs = (performance.now() - t0) / 1000;
            clearInterval(sampler);
            clearInterval(follow);
            const rounds = loop ? await loop.stop() : 0;
            if (!r.requests.total) {
              // Nothing answered within autocannon's 10 s timeout: there is no latency to report.
              for (const k of ['p50', 'p90', 'p97_5', 'p99', 'max', 'average'] as const) r.latency[k] = NaN;
            }
            runs.push({ r, pagesPerSec: ingestedPages / secs, rss: maxRss, rounds, ingested: ingestedPages });
            console.log(
              `  ${endpoint}${cache ? '' : ' (no result cache)'}${ingesting ? ' while ingesting' : ''} run ${rep + 1}: ${fmt(r.requests.average, 0)} req/s, p99 ${r.latency.p99} ms, errors ${r.errors + r.timeouts + r.non2xx}` +
                (ingesting ? `, ingested ${ingestedPages} pages (${fmt(ingestedPages / secs, 1)} pages/s, ${rounds} full rounds)` : ''),
            );
          }
          const m = (f: (x: (typeof runs)[number]) => number) => median(finite(runs.map(f)));
          const rps = runs.map((x) => x.r.requests.average);
          const p99 = finite(runs.map((x) => x.r.latency.p99));
          const errors = runs.reduce((a, x) => a + x.r.errors + x.r.timeouts + x.r.non2xx, 0);
          rows.push([
            endpoint,
            cache ? 'on' : 'off',
            ingesting ? 'yes' : 'no',
            fmt(median(rps), 0),
            fmt(quantile(rps, 0.05), 0),
            fmt(
              m((x) => x.r.latency.p50),
              0,
            ),
            fmt(
              m((x) => x.r.latency.p97_5),
              0,
            ),
            fmt(median(p99), 0),
            fmt(quantile(p99, 0.95), 0),
            String(errors),
            ingesting
              ? fmt(
                  m((x) => x.pagesPerSec),
                  1,
                )
              : '–',
            fmt(mb(m((x) => x.rss)), 0),
          ]);
          const key = `${endpoint.startsWith('GET /api') ? 'api' : 'page'}${ingesting ? 'Ingesting' : 'Idle'}${cache ? '' : 'NoCache'}`;
          data[`${key}Rps`] = median(rps);
          data[`${key}P99`] = median(p99);
          data[`${key}Errors`] = errors;
        }
      }
    } finally {
      await server.stop();
    }
  }
  const table: Table = {
    title: `HTTP under load at ${idx.label} chunks: autocannon, ${opts.connections} connections × ${opts.duration} s, ${queries.length} queries in turn (median of ${opts.repeat} runs)`,
    header: [
      'endpoint',
      'result cache',
      'ingesting',
      'req/s',
      'req/s worst run',
      'p50 ms',
      'p97.5 ms',
      'p99 ms',
      'p99 worst run',
      'errors',
      'ingested pages/s',
      'server peak RSS MB',
    ],
    rows,
    notes: [
      'Server: `innsikt serve` on 127.0.0.1 (one Node process), public principal. "ingesting": `innsikt ingest` of the 147 bulk protocols into the same data directory ' +
        "in a second process, round after round for the whole run (each round first deletes the previous one's documents, since the pipeline skips bytes it already holds); " +
        'its pages/s is what it achieved beside the load. autocannon runs in the benchmark process, a third process on the same 2 cores. Timeouts (10 s) count as errors. ' +
        'errors = connection errors + timeouts + non-2xx answers, summed over the runs; latencies are of the answered requests (– when none was answered). ' +
        'Result cache "on" is the product as configured (server/result-cache.ts: repeated queries are answered from memory; new documents become visible within ' +
        'INNSIKT_REFRESH_MS = 1 s on an idle server, after that the old answer is served while it is recomputed in the background on at most half of the ' +
        "server's time, for up to INNSIKT_MAX_STALE_MS = 10 s; deletions and access changes clear it at once, e.g. after every round's deletions); " +
        '"off" (INNSIKT_CACHE_ENTRIES=0) computes every request.',
    ],
  };
  return { tables: [table], notes: [], data };
}
