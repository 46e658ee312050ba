/**
 * Ingestion: file -> BRONZE (original + per-page text) -> SILVER (structured document) ->
 * GOLD (chunks + vectors in the store).
 *
 * Guarantees:
 * - One bad file never stops the others: every failure becomes a result with a reason.
 * - Never half a document: the store replaces a document and all its chunks in one
 *   transaction, and its silver file only becomes visible after that commit.
 * - Idempotent: an unchanged file (same path, same bytes, same access) does nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Embedder } from '../indexes/embeddings/types.ts';
import type { Store } from '../indexes/store.ts';
import type { AccessLevel, Chunk, DocumentKind, SilverDocument } from '../indexes/types.ts';
import { stripRunningLines } from './boilerplate.ts';
import { chunkPages, embeddingText } from './chunk.ts';
import { type DataDir, documentIdFor, sha256 } from './data-dir.ts';
import { ExtractionError, extractBuffer, mediaTypeFor } from './extract/index.ts';
import { protocolChunks } from './protocol/chunks.ts';
import { isProtocolCandidate, type ParsedProtocol, parseProtocol } from './protocol/index.ts';
import { understand } from './understand.ts';

export interface IngestResult {
  file: string;
  documentId: string | null;
  status: 'ok' | 'unchanged' | 'failed';
  reason: string | null;
  pages: number | null;
  chunks: number | null;
  warnings?: string[];
}

export interface IngestContext {
  store: Store;
  embedder: Embedder;
  dataDir: DataDir;
  defaultAccess: AccessLevel;
}

export interface IngestOptions {
  /** Access for new documents, and the new access for existing ones. Unset: keep existing. */
  access?: AccessLevel;
  groups?: string[];
  /** Files processed at once; extraction runs in worker threads, so 3 keeps both cores busy. */
  concurrency?: number;
  onFile?: (result: IngestResult, done: number, total: number) => void;
  onStart?: (total: number) => void;
  /** Progress inside one file (OCR of scanned pages): "OCR 3/26". */
  onProgress?: (file: string, detail: string) => void;
}

/** What an upload or the inbox says about a file, instead of what its path and contents say. */
export interface FileOverrides {
  /** The document's id (default: from the file's absolute path, documentIdFor). */
  id?: string;
  /** The original file name, shown as the source (default: the file's base name). */
  sourceName?: string;
  title?: string;
  kind?: DocumentKind;
  /** Read the file again even when its bytes and access are unchanged (OCR a document anew). */
  force?: boolean;
}

const EMBED_BATCH = 64;

/** Expand files and folders (recursively) into the supported files, in a stable order. */
export function expandPaths(inputs: string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && mediaTypeFor(full)) files.push(full);
    }
  };
  for (const input of inputs) {
    let st: fs.Stats;
    try {
      st = fs.statSync(input);
    } catch {
      missing.push(input);
      continue;
    }
    if (st.isDirectory()) walk(input);
    else files.push(input);
  }
  return { files: [...new Set(files)], missing };
}

/** The protocol parse of a silver document, or null when it is not a protocol. */
export function parseSilverProtocol(doc: Pick<SilverDocument, 'kind' | 'pages'>): ParsedProtocol | null {
  return isProtocolCandidate(doc.kind, doc.pages) ? parseProtocol(doc.pages, { kind: doc.kind }) : null;
}

/**
 * Silver pages -> chunks. A protocol with agenda items is cut by item first (never two items in
 * one chunk, the decision a chunk of its own) and every chunk carries its meeting and item;
 * anything else goes through the ordinary chunker.
 */
export function toChunks(documentId: string, pages: SilverDocument['pages'], protocol: ParsedProtocol | null = null): Chunk[] {
  const drafts =
    protocol && protocol.structure.meetings.some((m) => m.agendaItems.length > 0) ? protocolChunks(protocol) : chunkPages(stripRunningLines(pages));
  return drafts.map((c) => {
    const { context, ...draft } = c as typeof c & { context?: object };
    return { ...draft, ...context, id: `${documentId}:${c.ord}`, documentId };
  });
}

export async function embedChunks(embedder: Embedder, title: string, chunks: Chunk[]): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  for (let i = 0; i < chunks.length; i += EMBED_BATCH) {
    const batch = chunks.slice(i, i + EMBED_BATCH).map((c) => embeddingText(title, c));
    vectors.push(...(await embedder.embed(batch, 'document')));
  }
  return vectors;
}

/** Chunk, embed and store a silver document (used by ingest and by reindex). */
export async function indexSilver(
  ctx: Pick<IngestContext, 'store' | 'embedder'>,
  doc: SilverDocument,
  protocol: ParsedProtocol | null = parseSilverProtocol(doc),
): Promise<number> {
  const chunks = toChunks(doc.id, doc.pages, protocol);
  const vectors = await embedChunks(ctx.embedder, doc.title, chunks);
  await ctx.store.upsertDocument(doc, chunks, vectors, { id: ctx.embedder.id, dimensions: ctx.embedder.dimensions });
  return chunks.length;
}

function sameGroups(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join('\u0000') === [...b].sort().join('\u0000');
}

/** Content being ingested, per store, by hash: a copy waits for its twin to land, then finds it. */
const ingesting = new WeakMap<Store, Map<string, Promise<void>>>();

/** Wait until no other ingestion of these bytes is in flight, then claim them; the result releases. */
async function claimContent(store: Store, hash: string): Promise<() => void> {
  let running = ingesting.get(store);
  if (!running) ingesting.set(store, (running = new Map()));
  for (let other = running.get(hash); other; other = running.get(hash)) await other;
  let release!: () => void;
  running.set(hash, new Promise<void>((r) => (release = r)));
  return () => {
    running.delete(hash);
    release();
  };
}

/** Ingest one file (the worker's job): like ingestPaths for one file, with what its uploader said. */
export async function ingestFile(file: string, ctx: IngestContext, opts: IngestOptions = {}, over: FileOverrides = {}): Promise<IngestResult> {
  return ingestOne(file, ctx, opts, over);
}

async function ingestOne(file: string, ctx: IngestContext, opts: IngestOptions, over: FileOverrides = {}): Promise<IngestResult> {
  const result: IngestResult = { file, documentId: null, status: 'failed', reason: null, pages: null, chunks: null };
  let release: (() => void) | undefined;
  const sourceName = over.sourceName ?? path.basename(file);
  try {
    const mediaType = mediaTypeFor(sourceName) ?? mediaTypeFor(file);
    if (!mediaType) {
      result.reason = `unsupported file type "${path.extname(file) || '(none)'}": use PDF, .txt, .md or .html`;
      return result;
    }
    const data = await fs.promises.readFile(file);
    const hash = sha256(data);
    // Two copies in one batch would both miss the other in the twin check below.
    release = await claimContent(ctx.store, hash);
    const id = over.id ?? documentIdFor(file);
    result.documentId = id;
    const existing = await ctx.store.documentMetaUnchecked(id);
    const access = opts.access ?? existing?.access ?? ctx.defaultAccess;
    const groups = access === 'protected' ? (opts.groups ?? (opts.access ? [] : existing?.groups) ?? []) : [];
    if (access === 'protected' && groups.length === 0) {
      result.reason = 'access "protected" needs at least one group (--groups name,name)';
      return result;
    }

    // Unchanged only when its silver is there too: a run stopped between the index's commit and
    // silver's (kill -9) is done again, not skipped.
    const silverNow = existing && existing.sha256 === hash ? ctx.dataDir.readSilver(id) : null;
    const sameOverrides =
      !silverNow || ((over.title === undefined || over.title === silverNow.title) && (over.kind === undefined || over.kind === silverNow.kind));
    if (existing && existing.sha256 === hash && silverNow && sameOverrides && !over.force) {
      result.pages = existing.pageCount;
      result.chunks = existing.chunkCount;
      if (existing.access === access && sameGroups(existing.groups, groups)) {
        result.status = 'unchanged';
        return result;
      }
      // Same bytes, new access: change it everywhere at once, and in silver too.
      await changeAccess(ctx, id, access, groups);
      result.status = 'ok';
      return result;
    }

    // The same bytes under another path (a copy in another folder) with the same access: one
    // document, not two results for every query.
    if (!existing && !over.force) {
      const twin = (await ctx.store.documentsWithShaUnchecked(hash)).find((d) => d.id !== id && d.access === access && sameGroups(d.groups, groups));
      if (twin) {
        result.documentId = twin.id;
        result.status = 'unchanged';
        result.reason = `same content as ${twin.source}, already ingested as ${twin.id}`;
        return result;
      }
    }

    const extraction = await extractBuffer(data, mediaType, {
      ocr: { cacheDir: ctx.dataDir.ocrCacheDir, sha256: hash, onPage: opts.onProgress && ((d, t) => opts.onProgress?.(file, `OCR ${d}/${t} pages`)) },
    });
    const pages = extraction.pages;
    ctx.dataDir.writeBronze(hash, path.extname(sourceName).toLowerCase(), data, {
      sha256: hash,
      source: sourceName,
      method: extraction.method,
      warnings: extraction.warnings,
      pages,
    });
    const facts = understand(pages, sourceName, extraction.title);
    if (over.title?.trim()) facts.title = over.title.trim();
    if (over.kind) facts.kind = over.kind;
    const protocol = parseSilverProtocol({ kind: facts.kind, pages });
    const doc: SilverDocument = {
      id,
      sha256: hash,
      source: sourceName,
      mediaType,
      ...facts,
      access,
      groups,
      ...(protocol ? { meetings: protocol.structure.meetings, unparsed: protocol.structure.unparsed } : {}),
      pages,
      paged: extraction.paged,
      extraction: { method: extraction.method, warnings: extraction.warnings },
      ingestedAt: new Date().toISOString(),
    };
    const staged = ctx.dataDir.stageSilver(doc);
    try {
      result.chunks = await indexSilver(ctx, doc, protocol);
      staged.commit();
    } catch (err) {
      staged.abort();
      throw err;
    }
    result.pages = pages.length;
    result.status = 'ok';
    if (extraction.warnings.length) result.warnings = extraction.warnings;
    return result;
  } catch (err) {
    result.status = 'failed';
    result.reason = err instanceof ExtractionError ? `${err.code}: ${err.message}` : (err as Error).message || String(err);
    return result;
  } finally {
    release?.();
  }
}

export async function ingestPaths(inputs: string[], ctx: IngestContext, opts: IngestOptions = {}): Promise<IngestResult[]> {
  const { files, missing } = expandPaths(inputs);
  const total = files.length + missing.length;
  opts.onStart?.(total);
  const results: IngestResult[] = [];
  let done = 0;
  for (const m of missing) {
    const r: IngestResult = { file: m, documentId: null, status: 'failed', reason: 'no such file or folder', pages: null, chunks: null };
    results.push(r);
    opts.onFile?.(r, ++done, total);
  }
  const ordered: IngestResult[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      ordered[i] = await ingestOne(files[i], ctx, opts);
      opts.onFile?.(ordered[i], ++done, total);
    }
  };
  const concurrency = Math.max(1, opts.concurrency ?? 3);
  await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
  return results.concat(ordered);
}

/**
 * Change a document's access in the index and in silver, without reading it again (a re-ingest
 * of the same bytes with new access, or a staff action through the worker). False when the
 * document is in neither.
 */
export async function changeAccess(ctx: Pick<IngestContext, 'store' | 'dataDir'>, id: string, access: AccessLevel, groups: string[]): Promise<boolean> {
  if (access === 'protected' && groups.length === 0) throw new Error('access "protected" needs at least one group');
  const g = access === 'protected' ? groups : [];
  const changed = await ctx.store.setAccess(id, access, g);
  const silver = ctx.dataDir.readSilver(id);
  if (silver) ctx.dataDir.stageSilver({ ...silver, access, groups: g }).commit();
  return changed || silver !== null;
}

/** Remove a document from the index and its silver file. Bronze stays (content-addressed). */
export async function deleteDocument(ctx: Pick<IngestContext, 'store' | 'dataDir'>, id: string): Promise<boolean> {
  const existed = await ctx.store.deleteDocument(id);
  ctx.dataDir.removeSilver(id);
  return existed;
}
