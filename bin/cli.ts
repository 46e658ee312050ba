/**
 * `innsikt`: the command line. Messages are in plain English (the web pages speak Norwegian).
 * The local operator owns the data directory, so the CLI reads as admin unless `--as` says
 * otherwise (e.g. `--as public` to see what the public search page would show).
 */

import fs from 'node:fs';
import path from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { INDEX_BACKENDS, type IndexBackend } from '../indexes/config.ts';
import { MeteredEmbedder } from '../indexes/embeddings/meter.ts';
import type { Embedder } from '../indexes/embeddings/types.ts';
import { type OpenIndex, openEmbedder, openIndex, openStore } from '../indexes/open.ts';
import { parseFilters, parseMode, search, searchJson } from '../indexes/search.ts';
import { ACCESS_LEVELS, type AccessLevel, ADMIN_PRINCIPAL, type Principal, PUBLIC_PRINCIPAL, type SearchFilters, type SearchMode } from '../indexes/types.ts';
import { DataDir } from '../ingest/data-dir.ts';
import { shutdownExtractors } from '../ingest/extract/index.ts';
import { deleteDocument, expandPaths, type IngestResult, ingestPaths } from '../ingest/pipeline.ts';
import { lowerPriority } from '../ingest/priority.ts';
import { JobQueue } from '../ingest/queue.ts';
import { type ReindexResult, reindex } from '../ingest/reindex.ts';
import { Worker } from '../ingest/worker.ts';
import { type Config, loadConfig, searchOptions } from '../server/config.ts';

class UsageError extends Error {}

/** innsikt status: the embedded store's common-word lists (common-postings.ts status()). */
interface CommonLists {
  lists: number;
  bytes: number | null;
  rowsAfter: number;
  building: { scanning: boolean; left: number } | null;
}

const HELP: Record<string, string> = {
  main: `innsikt – search and insight bank for meeting protocols and reports

Usage: innsikt <command> [options]

Commands:
  ingest <file-or-folder>...   Read PDF, .txt, .md and .html files into the index
  search "<query>"             Search the index
  answer "<question>"          A cited summary from the documents
  serve                        Start the web server
  status                       Show what the index holds
  show <documentId>            Print a stored (silver) document
  delete <documentId>          Remove a document from the index
  reindex                      Rebuild the index from the stored silver layer
  worker                       Work the ingestion queue (uploads, inbox, ingest --queue)
  jobs                         List the ingestion queue's jobs; retry a failed one

Run "innsikt <command> --help" for the options of a command.
Data directory: INNSIKT_DATA_DIR (default ./data).`,
  ingest: `Usage: innsikt ingest <file-or-folder>... [options]

Reads PDF, .txt, .md and .html files (folders recursively). Unchanged files are skipped;
changed files replace their old version atomically. One bad file never stops the others.

Options:
  --access <level>   public | internal | protected (new files: INNSIKT_DEFAULT_ACCESS,
                     default public; existing documents keep theirs unless given)
  --groups <a,b>     groups that may read protected documents
  --queue            do not read the files here: queue them for \`innsikt worker\` and return
  --json             print one JSON object with a result per file
  -h, --help         show this help

Scanned pages (no text layer, or an unusable one) are read by OCR (Tesseract) as part of the
run; INNSIKT_OCR=off turns that off.

Exit status: 0 when the run completed (failed files are reported), 1 when every file failed.`,
  worker: `Usage: innsikt worker [--once] [--json]

Works the ingestion queue in the data directory (queue.sqlite): files queued by
\`innsikt ingest --queue\`, uploads from the web page, staff actions (delete, change access,
OCR again, reindex) and the inbox folder INNSIKT_INBOX (files dropped there are ingested and
moved to done/, or to failed/ beside a .reason.txt). One document at a time, at the priority
INNSIKT_INGEST_NICE. A job interrupted by a crash or kill -9 runs again when a worker starts;
one that stopped its worker 3 times is set aside as failed. Several workers may share a data
directory: each job is claimed by one.

Options:
  --once             work until the queue is empty, then exit
  --json             print one JSON object with the counts at the end
  -h, --help         show this help`,
  jobs: `Usage: innsikt jobs [--failed] [--limit <n>] [--json]
       innsikt jobs retry <jobId>

Lists the ingestion queue's jobs (newest first; running and queued ones on top), or queues a
failed job again.`,
  search: `Usage: innsikt search "<query>" [options]

Options:
  --limit <n>        number of results (default 10, max 100)
  --offset <n>       skip the first n results
  --mode <mode>      hybrid (default) | bm25 | vector
  --as <who>         read as: admin (default) | public | internal | group:<name>
  --body <name>      only documents of this body (utvalg); repeatable
  --organisation <name>  only documents issued by this organisation ("Bydel Grünerløkka"); repeatable
  --kind <kind>      only this document kind (møteprotokoll, innsiktsrapport ...); repeatable
  --year <yyyy>      only documents dated in this year
  --from <date>      only documents dated on or after this date (YYYY-MM-DD)
  --to <date>        only documents dated on or before this date (YYYY-MM-DD)
  --decisions        only decisions (vedtak) of agenda items
  --json             print one JSON object
  -h, --help         show this help`,
  answer: `Usage: innsikt answer "<question>" [options]

Answers from the documents with numbered citations [n], each checked against its source.
Without a language model (INNSIKT_LLM=none, the default) the answer is extractive: the most
relevant sentences of the sources, quoted. No source above the relevance floor: says so.

Options:
  --mode <mode>      retrieval: hybrid (default) | bm25 | vector
  --as <who>         read as: admin (default) | public | internal | group:<name>
  --json             print one JSON object
  -h, --help         show this help`,
  serve: `Usage: innsikt serve [options]

Options:
  --port <n>         port (default PORT or 3000)
  --host <addr>      address to listen on (default INNSIKT_HOST or 127.0.0.1)
  --demo             on first start (empty index), ingest the demo corpus in fixtures/demo
  -h, --help         show this help`,
  status: `Usage: innsikt status [--json]

Prints the backend (embedded or elasticsearch, with the cluster's health and the index and
alias names), the number of documents, chunks and pages, the index size and the embedding model.`,
  show: `Usage: innsikt show <documentId> [--json]

Prints the stored silver document (metadata and text per page).`,
  delete: `Usage: innsikt delete <documentId>

Removes the document and all its chunks from the index, and its silver file.`,
  reindex: `Usage: innsikt reindex [--to embedded|elasticsearch] [--json]

Rebuilds the search index from the stored silver documents, without reading the original
files again. Use it after changing the embedding model (INNSIKT_EMBEDDER and friends), or to
move to another backend: --to elasticsearch builds the Elasticsearch indices (ELASTICSEARCH_URL)
from silver, --to embedded the SQLite index in the data directory; then set INNSIKT_INDEX.
The new index is built beside the live one and replaces it only when complete; a running
server switches to it by itself. Do not ingest meanwhile.

Options:
  --to <backend>     embedded | elasticsearch (default: INNSIKT_INDEX)
  --json             print one JSON object
  -h, --help         show this help`,
};

const COMMON = { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } } as const;

function parse(
  args: string[],
  options: ParseArgsConfig['options'],
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function principalFor(as: string | undefined): Principal {
  if (!as || as === 'admin') return ADMIN_PRINCIPAL;
  if (as === 'public') return PUBLIC_PRINCIPAL;
  if (as === 'internal') return { id: 'cli-internal', internal: true, groups: [] };
  if (as.startsWith('group:') && as.length > 6) return { id: 'cli-group', internal: true, groups: as.slice(6).split(',') };
  throw new UsageError(`--as must be admin, public, internal or group:<name>, not "${as}"`);
}

function intOption(value: string | undefined, name: string, dflt: number): number {
  if (value === undefined) return dflt;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number, not "${value}"`);
  return n;
}

function progressBar(done: number, total: number, label: string, detail = ''): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  const name = label.length > 40 ? '…' + label.slice(-39) : label;
  process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${name.padEnd(40)}${detail ? ` ${detail}` : ''}\x1b[K`);
  if (done === total) process.stderr.write('\n');
}

/**
 * A progress bar over files (or documents) that also shows the chunks embedded and their rate,
 * redrawn after every embedding request: one large PDF with a semantic model takes minutes.
 */
function embeddingProgress(embedder: Embedder) {
  let done = 0;
  let total = 0;
  let label = '';
  const metered = new MeteredEmbedder(embedder, (m) => {
    if (done < total) progressBar(done, total, label, m.describe());
  });
  return {
    embedder: metered,
    start(n: number) {
      total = n;
      progressBar(0, total, '');
    },
    file(d: number, n: number, name: string) {
      done = d;
      total = n;
      label = name;
      progressBar(done, total, label, metered.describe());
    },
    /** Progress inside a file (OCR pages), shown while it is the one being read. */
    detail(name: string, text: string) {
      if (done < total) progressBar(done, total, name, text);
    },
  };
}

/** The configured index and the data directory (silver, bronze) beside it. */
async function open(config: Config, opts: { checkEmbedder?: boolean } = {}): Promise<OpenIndex & { dataDir: DataDir }> {
  const dataDir = new DataDir(config.dataDir);
  return { ...(await openIndex(config.index, opts)), dataDir };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

async function cmdIngest(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parse(args, { access: { type: 'string' }, groups: { type: 'string' }, queue: { type: 'boolean' } });
  if (values.help) return help('ingest');
  if (positionals.length === 0) throw new UsageError('ingest needs at least one file or folder');
  const access = values.access as AccessLevel | undefined;
  if (access !== undefined && !ACCESS_LEVELS.includes(access)) throw new UsageError(`--access must be one of ${ACCESS_LEVELS.join(', ')}`);
  const groups = values.groups
    ? String(values.groups)
        .split(',')
        .map((g) => g.trim())
        .filter(Boolean)
    : undefined;
  if (access === 'protected' && !groups?.length) throw new UsageError('--access protected needs --groups <name,...>');
  if (values.queue) return queueFiles(positionals, { access, groups }, config, !!values.json);
  lowerPriority(config.ingestNice);
  const idx = await open(config);
  const t0 = performance.now();
  const progress = embeddingProgress(idx.embedder);
  let results: IngestResult[];
  try {
    results = await ingestPaths(
      positionals,
      { ...idx, embedder: progress.embedder, defaultAccess: config.defaultAccess },
      {
        access,
        groups,
        onStart: (total) => progress.start(total),
        onFile: (r, done, total) => progress.file(done, total, path.basename(r.file)),
        onProgress: (file, detail) => progress.detail(path.basename(file), detail),
      },
    );
    // New documents leave FTS5 segments behind; every query reads each of them.
    if (config.mergeBudgetMs > 0 && results.some((r) => r.status === 'ok')) {
      const notes = await idx.store.optimize(config.mergeBudgetMs);
      if (!values.json) for (const n of notes) console.log(n);
    }
  } finally {
    await idx.store.close();
    await shutdownExtractors();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (values.json) {
    process.stdout.write(
      JSON.stringify({
        files: results.map((r) => ({ file: r.file, documentId: r.documentId, status: r.status, reason: r.reason, pages: r.pages, chunks: r.chunks })),
      }) + '\n',
    );
  } else {
    for (const r of results) {
      const detail = r.status === 'failed' ? r.reason : `${r.pages ?? '?'} pages, ${r.chunks ?? '?'} chunks`;
      console.log(`${r.status.padEnd(9)} ${r.file}  (${detail})`);
      for (const w of r.warnings ?? []) console.log(`          warning: ${w}`);
    }
    const count = (s: string) => results.filter((r) => r.status === s).length;
    console.log(`\n${results.length} files in ${seconds.toFixed(1)} s: ${count('ok')} ok, ${count('unchanged')} unchanged, ${count('failed')} failed`);
    if (progress.embedder.texts > 0) console.log(`${progress.embedder.describe()} with ${idx.embedder.id}`);
  }
  return results.length > 0 && results.every((r) => r.status === 'failed') ? 1 : 0;
}

async function cmdSearch(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parse(args, {
    limit: { type: 'string' },
    offset: { type: 'string' },
    mode: { type: 'string' },
    as: { type: 'string' },
    body: { type: 'string', multiple: true },
    organisation: { type: 'string', multiple: true },
    kind: { type: 'string', multiple: true },
    year: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    decisions: { type: 'boolean' },
  });
  if (values.help) return help('search');
  let filters: SearchFilters;
  try {
    filters = parseFilters((k) => {
      const v = (values as Record<string, unknown>)[k];
      return v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [String(v)];
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const query = positionals.join(' ').trim();
  if (!query) throw new UsageError('search needs a query, e.g. innsikt search "budsjett 2025"');
  let mode: SearchMode;
  try {
    mode = parseMode(values.mode);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const limit = intOption(values.limit as string | undefined, '--limit', 10);
  const offset = intOption(values.offset as string | undefined, '--offset', 0);
  const principal = principalFor(values.as as string | undefined);
  const idx = await open(config);
  try {
    const res = await search(idx.store, idx.embedder, { query, mode, limit, offset, filters, principal }, searchOptions(config));
    if (values.json) {
      process.stdout.write(JSON.stringify(searchJson(res)) + '\n');
    } else {
      console.log(`${res.total} matches for "${query}" (${res.mode}, ${res.tookMs} ms)\n`);
      res.results.forEach((h, i) => {
        const pages = h.pageStart === null ? '' : h.pageStart === h.pageEnd ? `p. ${h.pageStart}` : `pp. ${h.pageStart}-${h.pageEnd}`;
        console.log(`${String(offset + i + 1).padStart(3)}. ${h.title}  [${h.source}${pages ? ', ' + pages : ''}]  score ${h.score}`);
        console.log(`     ${h.snippet}\n`);
      });
    }
  } finally {
    await idx.store.close();
  }
  return 0;
}

async function cmdAnswer(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parse(args, { mode: { type: 'string' }, as: { type: 'string' } });
  if (values.help) return help('answer');
  const question = positionals.join(' ').trim();
  if (!question) throw new UsageError('answer needs a question, e.g. innsikt answer "Hva ble vedtatt om budsjett 2025?"');
  let mode: SearchMode;
  try {
    mode = parseMode(values.mode);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const principal = principalFor(values.as as string | undefined);
  const { Answerer, answerJson, EXTRACTIVE_LABEL } = await import('../server/answer/answerer.ts');
  const idx = await open(config);
  try {
    const answerer = new Answerer({ store: idx.store, embedder: idx.embedder, config });
    const result = await answerer.answer({ question, principal, mode });
    const json = answerJson(result);
    if (values.json) {
      process.stdout.write(JSON.stringify(json) + '\n');
    } else if (json.noAnswer) {
      console.log(`${json.answer}.`);
    } else {
      if (result.notice) console.log(`Note: the language model failed, so this is the extractive summary (${result.notice})\n`);
      console.log(json.mode === 'extractive' ? `(${EXTRACTIVE_LABEL})\n` : `(${result.model})\n`);
      console.log(json.answer + '\n');
      for (const c of json.citations) {
        const pages = c.pageStart === null ? '' : c.pageStart === c.pageEnd ? `, p. ${c.pageStart}` : `, pp. ${c.pageStart}-${c.pageEnd}`;
        console.log(`[${c.n}] ${c.title} [${c.source}${pages}]${c.supported ? '' : '  (NOT SUPPORTED by this source)'}`);
        console.log(`    "${c.quote}"`);
      }
    }
  } finally {
    await idx.store.close();
  }
  return 0;
}

async function cmdStatus(args: string[], config: Config): Promise<number> {
  const { values } = parse(args, {});
  if (values.help) return help('status');
  const idx = await open(config, { checkEmbedder: false });
  try {
    const s = await idx.store.stats();
    const backend = await idx.store.status();
    const mismatch = s.embedder && s.chunks > 0 && (s.embedder.id !== idx.embedder.id || s.embedder.dimensions !== idx.embedder.dimensions);
    const out = {
      backend: idx.store.backend,
      documents: s.documents,
      chunks: s.chunks,
      pages: s.pages,
      indexBytes: s.indexBytes,
      dataDir: config.dataDir,
      embedder: s.embedder ?? { id: idx.embedder.id, dimensions: idx.embedder.dimensions },
      configuredEmbedder: { id: idx.embedder.id, dimensions: idx.embedder.dimensions },
      needsReindex: !!mismatch,
      byAccess: s.byAccess,
      byKind: s.byKind,
      commonLists: (backend.commonLists as CommonLists | undefined) ?? null,
      queue: queueStatus(config),
      [idx.store.backend]: backend,
    };
    if (values.json) process.stdout.write(JSON.stringify(out) + '\n');
    else {
      console.log(`Backend:         ${out.backend}`);
      if (idx.store.backend === 'elasticsearch') {
        const es = backend as { url?: string; health?: string; version?: string; aliases?: Record<string, string> };
        console.log(`Cluster:         ${es.url} (Elasticsearch ${es.version ?? '?'}, health ${es.health ?? '?'})`);
        for (const [alias, index] of Object.entries(es.aliases ?? {})) console.log(`                 ${alias} -> ${index}`);
      }
      console.log(`Data directory:  ${out.dataDir}`);
      console.log(
        `Documents:       ${out.documents}  (${
          Object.entries(s.byAccess)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ') || 'none'
        })`,
      );
      console.log(`Pages:           ${out.pages}`);
      console.log(`Chunks:          ${out.chunks}`);
      console.log(`Index size:      ${formatBytes(out.indexBytes)}`);
      console.log(`Embedding model: ${out.embedder.id} (${out.embedder.dimensions} dimensions)`);
      const cl = out.commonLists;
      if (cl) {
        const size = cl.bytes === null ? '' : ` (${formatBytes(cl.bytes)})`;
        const built = cl.lists ? `${cl.lists} lists${size}, ${cl.rowsAfter} chunks added since` : 'no lists yet';
        const b = cl.building;
        const next = b ? `; new lists under way (${b.scanning ? 'finding the common words' : `${b.left} left to write`}; the next ingest goes on)` : '';
        console.log(`Common words:    ${built}${next}`);
      }
      const q = out.queue;
      if (q) {
        console.log(`Queue:           ${q.counts.queued} queued, ${q.counts.running} running, ${q.counts.done} done, ${q.counts.failed} failed`);
        for (const j of q.current) console.log(`  working on:    job ${j.id} ${j.label}${j.progress ? ` (${j.progress})` : ''}`);
        if (q.pagesPerMinute !== null) console.log(`  speed:         ${q.pagesPerMinute} pages per minute (last hour)`);
        if (q.secondsLeft !== null && q.counts.queued + q.counts.running > 0) console.log(`  time left:     about ${formatDuration(q.secondsLeft)}`);
      }
      if (mismatch) console.log(`\nThe configured model is ${idx.embedder.id}: run \`innsikt reindex\` to rebuild the index with it.`);
    }
  } finally {
    await idx.store.close();
  }
  return 0;
}

async function cmdShow(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help('show');
  const id = positionals[0];
  if (!id) throw new UsageError('show needs a document id (see innsikt search --json)');
  const idx = await open(config, { checkEmbedder: false });
  try {
    const silver = idx.dataDir.readSilver(id);
    if (!silver || !(await idx.store.getDocument(id, ADMIN_PRINCIPAL))) {
      console.error(`No document with id "${id}".`);
      return 1;
    }
    if (values.json) process.stdout.write(JSON.stringify(silver) + '\n');
    else {
      console.log(`${silver.title}\n${'='.repeat(Math.min(silver.title.length, 80))}`);
      console.log(`id: ${silver.id}\nsource: ${silver.source}\nkind: ${silver.kind}\nbody: ${silver.body ?? '-'}\ndate: ${silver.date ?? '-'}`);
      console.log(`access: ${silver.access}${silver.groups.length ? ' (' + silver.groups.join(', ') + ')' : ''}\npages: ${silver.pages.length}`);
      if (silver.caseNumbers.length) console.log(`case numbers: ${silver.caseNumbers.join(', ')}`);
      for (const w of silver.extraction.warnings) console.log(`warning: ${w}`);
    }
  } finally {
    await idx.store.close();
  }
  return 0;
}

async function cmdDelete(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parse(args, {});
  if (values.help) return help('delete');
  const id = positionals[0];
  if (!id) throw new UsageError('delete needs a document id');
  const idx = await open(config, { checkEmbedder: false });
  try {
    const existed = await deleteDocument(idx, id);
    if (values.json) process.stdout.write(JSON.stringify({ documentId: id, deleted: existed }) + '\n');
    else console.log(existed ? `Deleted ${id}.` : `No document with id "${id}".`);
    return existed ? 0 : 1;
  } finally {
    await idx.store.close();
  }
}

async function cmdReindex(args: string[], config: Config): Promise<number> {
  const { values } = parse(args, { to: { type: 'string' } });
  if (values.help) return help('reindex');
  const to = (values.to as IndexBackend | undefined) ?? config.index.backend;
  if (!INDEX_BACKENDS.includes(to)) throw new UsageError(`--to must be ${INDEX_BACKENDS.join(' or ')}, not "${values.to}"`);
  lowerPriority(config.ingestNice);
  const dataDir = new DataDir(config.dataDir);
  const embedder = await openEmbedder(config.index);
  const store = await openStore(config.index, to);
  const progress = embeddingProgress(embedder);
  let res: ReindexResult;
  try {
    res = await reindex(store, dataDir, progress.embedder, (done, total) => progress.file(done, total, 'reindex'));
  } finally {
    await store.close();
  }
  if (values.json) process.stdout.write(JSON.stringify({ ...res, backend: to, embedder: { id: embedder.id, dimensions: embedder.dimensions } }) + '\n');
  else {
    console.log(
      `Reindexed ${res.documents} documents (${res.chunks} chunks) with ${embedder.id} into ${to} (${res.target}) in ${(res.tookMs / 1000).toFixed(1)} s (${progress.embedder.describe()}).`,
    );
    if (to !== config.index.backend) console.log(`Set INNSIKT_INDEX=${to} to search it.`);
    for (const f of res.failed) console.log(`failed ${f.documentId}: ${f.reason}`);
  }
  return res.failed.length && !res.documents ? 1 : 0;
}

async function cmdServe(args: string[], config: Config): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' }, host: { type: 'string' }, demo: { type: 'boolean' } });
  if (values.help) return help('serve');
  const port = intOption(values.port as string | undefined, '--port', config.port);
  const { startServer } = await import('../server/serve.ts');
  await startServer({ ...config, port, host: (values.host as string | undefined) ?? config.host }, { demo: !!values.demo });
  return -1; // keep running
}

/** `innsikt ingest --queue`: the files become jobs for `innsikt worker`. */
function queueFiles(inputs: string[], opts: { access?: AccessLevel; groups?: string[] }, config: Config, json: boolean): number {
  const { files, missing } = expandPaths(inputs);
  const queue = new JobQueue(new DataDir(config.dataDir).queueFile);
  try {
    const jobs = files.map((f) => queue.add({ kind: 'ingest', file: path.resolve(f), access: opts.access, groups: opts.groups }, 'cli'));
    if (json)
      process.stdout.write(
        JSON.stringify({ queued: jobs.map((j) => ({ jobId: j.id, file: j.payload.kind === 'ingest' ? j.payload.file : null })), missing }) + '\n',
      );
    else {
      for (const m of missing) console.log(`failed    ${m}  (no such file or folder)`);
      console.log(
        `Queued ${jobs.length} file${jobs.length === 1 ? '' : 's'} (jobs ${jobs.length ? `${jobs[0].id}-${jobs[jobs.length - 1].id}` : '-'}). Run \`innsikt worker\` to read them; \`innsikt status\` shows progress.`,
      );
    }
    return files.length === 0 ? 1 : 0;
  } finally {
    queue.close();
  }
}

async function cmdWorker(args: string[], config: Config): Promise<number> {
  const { values } = parse(args, { once: { type: 'boolean' } });
  if (values.help) return help('worker');
  lowerPriority(config.ingestNice);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Started by `innsikt serve`: stop with it (its end of our stdin closes when it exits).
  if (process.env.INNSIKT_WORKER_PARENT === '1') {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
  const worker = new Worker(config, {
    once: !!values.once,
    inbox: config.inbox,
    signal: controller.signal,
    log: values.json ? () => {} : (m) => console.log(m),
    onJob: (job, event, detail) => {
      if (values.json || !process.stderr.isTTY) return;
      if (event === 'end') process.stderr.write('\r\x1b[K');
      else progressBar(0, 1, job.label, detail ?? 'started');
    },
  });
  if (!values.json) console.log(`[worker] ${worker.name} working the queue in ${worker.dataDir.queueFile}${config.inbox ? `; inbox ${config.inbox}` : ''}`);
  let summary: { done: number; failed: number };
  try {
    summary = await worker.run();
  } finally {
    await worker.close();
    await shutdownExtractors();
  }
  if (values.json) process.stdout.write(JSON.stringify(summary) + '\n');
  else console.log(`[worker] stopped: ${summary.done} jobs done, ${summary.failed} failed`);
  return 0;
}

async function cmdJobs(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parse(args, { failed: { type: 'boolean' }, limit: { type: 'string' } });
  if (values.help) return help('jobs');
  const queue = new JobQueue(new DataDir(config.dataDir).queueFile);
  try {
    if (positionals[0] === 'retry') {
      const id = Number(positionals[1]);
      if (!Number.isInteger(id) || id <= 0) throw new UsageError('jobs retry needs a job id');
      const ok = queue.retry(id);
      console.log(ok ? `Job ${id} queued again.` : `Job ${id} is not a failed job.`);
      return ok ? 0 : 1;
    }
    if (positionals.length) throw new UsageError(`unknown jobs subcommand "${positionals[0]}"`);
    const jobs = queue.list({ limit: intOption(values.limit as string | undefined, '--limit', 30), states: values.failed ? ['failed'] : undefined });
    if (values.json) process.stdout.write(JSON.stringify({ jobs }) + '\n');
    else {
      if (jobs.length === 0) console.log('No jobs.');
      for (const j of jobs) {
        const when = new Date(j.finishedAt ?? j.startedAt ?? j.createdAt).toISOString().slice(0, 19).replace('T', ' ');
        console.log(`${String(j.id).padStart(5)}  ${j.state.padEnd(7)} ${j.kind.padEnd(7)} ${when}  ${j.label}${j.progress ? `  [${j.progress}]` : ''}`);
        if (j.error) console.log(`       ${j.error}`);
      }
    }
    return 0;
  } finally {
    queue.close();
  }
}

/** innsikt status: the queue's part. */
function queueStatus(config: Config): {
  counts: ReturnType<JobQueue['counts']>;
  current: { id: number; label: string; progress: string | null }[];
  pagesPerMinute: number | null;
  secondsLeft: number | null;
} | null {
  const file = new DataDir(config.dataDir).queueFile;
  if (!fs.existsSync(file)) return null;
  const queue = new JobQueue(file);
  try {
    const est = queue.estimate();
    return {
      counts: queue.counts(),
      current: queue.list({ states: ['running'] }).map((j) => ({ id: j.id, label: j.label, progress: j.progress })),
      pagesPerMinute: est.pagesPerMinute === null ? null : Math.round(est.pagesPerMinute * 10) / 10,
      secondsLeft: est.secondsLeft === null ? null : Math.round(est.secondsLeft),
    };
  } finally {
    queue.close();
  }
}

function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function help(cmd: string): number {
  console.log(HELP[cmd] ?? HELP.main);
  return 0;
}

const COMMANDS: Record<string, (args: string[], config: Config) => Promise<number>> = {
  ingest: cmdIngest,
  search: cmdSearch,
  answer: cmdAnswer,
  serve: cmdServe,
  status: cmdStatus,
  show: cmdShow,
  delete: cmdDelete,
  reindex: cmdReindex,
  worker: cmdWorker,
  jobs: cmdJobs,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') return help(rest[0] ?? 'main');
  const run = COMMANDS[cmd];
  if (!run) throw new UsageError(`unknown command "${cmd}"`);
  return run(rest, loadConfig());
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    if (err instanceof UsageError) {
      console.error(`innsikt: ${err.message}\nRun "innsikt --help" for usage.`);
      process.exitCode = 2;
    } else {
      console.error(`innsikt: ${(err as Error).message}`);
      if (process.env.INNSIKT_DEBUG) console.error((err as Error).stack);
      process.exitCode = 1;
    }
  },
);
