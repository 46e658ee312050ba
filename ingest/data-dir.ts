/**
 * The data directory (INNSIKT_DATA_DIR) and its medallion layout:
 *
 *   bronze/files/<sha256>.<ext>   the original file, byte for byte, never modified
 *   bronze/text/<sha256>.json     raw per-page text and how it was obtained
 *   bronze/ocr/<sha256>.<lang>.<dpi>.json  pages read by OCR so far (INNSIKT_OCR_CACHE moves it)
 *   silver/<documentId>.json      the structured document (SilverDocument)
 *   queue.sqlite                  the ingestion worker's jobs (ingest/queue.ts)
 *   index.sqlite                  GOLD: chunks, FTS5 and vectors (re-derivable from silver)
 */

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SilverDocument } from '../indexes/types.ts';

export class DataDir {
  constructor(readonly root: string) {}

  get indexFile(): string {
    return path.join(this.root, 'index.sqlite');
  }
  get silverDir(): string {
    return path.join(this.root, 'silver');
  }

  /** Pages already read by OCR, per PDF: a stopped job resumes, a re-ingest reads nothing again. */
  get ocrCacheDir(): string {
    return process.env.INNSIKT_OCR_CACHE ? path.resolve(process.env.INNSIKT_OCR_CACHE) : path.join(this.root, 'bronze', 'ocr');
  }
  get queueFile(): string {
    return path.join(this.root, 'queue.sqlite');
  }

  bronzeFile(sha256: string, ext: string): string {
    return path.join(this.root, 'bronze', 'files', `${sha256}${ext}`);
  }
  bronzeText(sha256: string): string {
    return path.join(this.root, 'bronze', 'text', `${sha256}.json`);
  }
  silverFile(documentId: string): string {
    return path.join(this.silverDir, `${documentId}.json`);
  }

  /** Keep the original bytes (content-addressed, so a second copy costs nothing). */
  writeBronze(sha256: string, ext: string, data: Buffer, text: unknown): void {
    const file = this.bronzeFile(sha256, ext);
    if (!fs.existsSync(file)) writeAtomic(file, data);
    writeAtomic(this.bronzeText(sha256), JSON.stringify(text));
  }

  /** Write silver to a temporary file; commit() makes it visible, abort() removes it. */
  stageSilver(doc: SilverDocument): { commit(): void; abort(): void } {
    const final = this.silverFile(doc.id);
    fs.mkdirSync(path.dirname(final), { recursive: true });
    const tmp = `${final}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(doc, null, 1));
    return {
      commit: () => fs.renameSync(tmp, final),
      abort: () => fs.rmSync(tmp, { force: true }),
    };
  }

  readSilver(documentId: string): SilverDocument | null {
    try {
      return JSON.parse(fs.readFileSync(this.silverFile(documentId), 'utf8')) as SilverDocument;
    } catch {
      return null;
    }
  }

  removeSilver(documentId: string): void {
    fs.rmSync(this.silverFile(documentId), { force: true });
  }

  listSilverIds(): string[] {
    if (!fs.existsSync(this.silverDir)) return [];
    return fs
      .readdirSync(this.silverDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
  }
}

export function writeAtomic(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/**
 * A document's id: a readable slug of the file name plus a short hash of its absolute path,
 * so re-ingesting the same file replaces the same document, and two files that share a
 * name in different folders stay apart.
 */
export function documentIdFor(file: string): string {
  const abs = path.resolve(file);
  const base = path.basename(abs).replace(/\.[^.]+$/, '');
  const slug =
    base
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/æ/gi, 'ae')
      .replace(/ø/gi, 'o')
      .replace(/å/gi, 'a')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'dokument';
  const h = crypto.createHash('sha1').update(abs).digest('hex').slice(0, 8);
  return `${slug}-${h}`;
}
