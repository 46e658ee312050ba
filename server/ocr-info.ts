/**
 * Which documents were read by OCR, and how sure Tesseract was: for the "OCR-lest" badge on the
 * document page and the "OCR" badge in results. The index does not keep it (its records carry
 * no extraction method); SILVER does (extraction.method, pages[i].ocr), so it is read from
 * there, and only for documents the caller was already given by an access-checked read (a
 * search result, store.getDocument). Reading silver never decides what a caller may see.
 *
 * A small LRU keeps the summary per document, checked against the silver file's mtime and
 * size (one stat per lookup), so a re-ingest or a re-read with OCR shows at once.
 */
import fs from 'node:fs';
import type { SilverDocument } from '../indexes/types.ts';
import type { DataDir } from '../ingest/data-dir.ts';
import { LruCache } from './answer/cache.ts';

export interface OcrPageInfo {
  num: number | null;
  /** Tesseract's mean word confidence on the page, 0-100, or null when it gave none. */
  confidence: number | null;
  /** Below INNSIKT_OCR_MIN_CONFIDENCE when it was read: flagged as uncertain text, not hidden. */
  low: boolean;
}

export interface OcrSummary {
  /** pdf-ocr (every page scanned) or pdf-text+ocr (a text layer with some scanned pages). */
  method: string;
  /** The mean over the OCR pages that have a confidence; null when none has. */
  confidence: number | null;
  /** The pages read by OCR, in order. */
  pages: OcrPageInfo[];
}

const OCR_METHODS = new Set(['pdf-ocr', 'pdf-text+ocr']);

/** The OCR summary of a silver document, or null when no page of it was read by OCR. */
export function ocrSummary(doc: Pick<SilverDocument, 'extraction' | 'pages'>): OcrSummary | null {
  if (!OCR_METHODS.has(doc.extraction?.method)) return null;
  const pages: OcrPageInfo[] = [];
  for (const p of doc.pages ?? []) {
    if (!p.ocr) continue;
    const c = typeof p.ocr.confidence === 'number' && Number.isFinite(p.ocr.confidence) ? p.ocr.confidence : null;
    pages.push({ num: p.num, confidence: c, low: p.ocr.low === true });
  }
  const known = pages.filter((p) => p.confidence !== null).map((p) => p.confidence as number);
  const confidence = known.length ? known.reduce((a, b) => a + b, 0) / known.length : null;
  return { method: doc.extraction.method, confidence, pages };
}

/** Summaries by document id, read from silver once per version of its file. */
export class OcrInfo {
  private cache: LruCache<{ stamp: string; summary: OcrSummary | null }>;

  constructor(
    private readonly dataDir: DataDir,
    entries = 2000,
  ) {
    this.cache = new LruCache(entries);
  }

  /**
   * The summary of a document the caller may read (the caller checked that), or null when it
   * was not read by OCR or has no silver here (Elasticsearch fed by another machine's worker).
   */
  get(documentId: string): OcrSummary | null {
    const file = this.dataDir.silverFile(documentId);
    let stamp: string;
    try {
      const st = fs.statSync(file);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch {
      return null;
    }
    const hit = this.cache.get(documentId);
    if (hit && hit.stamp === stamp) return hit.summary;
    const silver = this.dataDir.readSilver(documentId);
    const summary = silver ? ocrSummary(silver) : null;
    this.cache.set(documentId, { stamp, summary });
    return summary;
  }

  /** documentId -> mean confidence (null: OCR without a confidence) for the OCR documents among `ids`. */
  forResults(ids: Iterable<string>): Record<string, number | null> {
    const out: Record<string, number | null> = {};
    for (const id of new Set(ids)) {
      const s = this.get(id);
      if (s) out[id] = s.confidence;
    }
    return out;
  }
}
