/**
 * A disk cache of embeddings for the eval: multilingual-e5-small embeds ~1.6 chunks a second on
 * 2 cores, so the four sets (~3 900 chunks) take ~40 minutes the first time. Every later run, and
 * every index built again in the same run (the Elasticsearch comparison, another option), reads
 * the vectors from the cache instead. The key is the embedder's id, the kind (query or document)
 * and the text: a changed chunk is embedded again, nothing stale is read.
 *
 * Eval only: the product embeds each text once per (re)index and has nothing to gain from it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type Embedder, type EmbedKind, WrappedEmbedder } from '../indexes/embeddings/types.ts';

export class CachedEmbedder extends WrappedEmbedder {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement<[string], { v: Buffer }>;
  private readonly putStmt: Database.Statement<[string, Buffer]>;
  hits = 0;
  misses = 0;

  constructor(
    inner: Embedder,
    file: string,
    private readonly onProgress?: (embedded: number) => void,
  ) {
    super(inner);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS vectors (k TEXT PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID');
    this.getStmt = this.db.prepare('SELECT v FROM vectors WHERE k = ?');
    this.putStmt = this.db.prepare('INSERT OR REPLACE INTO vectors (k, v) VALUES (?, ?)');
  }

  private key(kind: EmbedKind, text: string): string {
    return crypto.createHash('sha256').update(`${this.inner.id}\u0000${kind}\u0000${text}`).digest('base64url');
  }

  async embed(texts: string[], kind: EmbedKind = 'document'): Promise<Float32Array[]> {
    const out: (Float32Array | null)[] = texts.map((t) => {
      const row = this.getStmt.get(this.key(kind, t));
      if (!row) return null;
      this.hits++;
      return new Float32Array(row.v.buffer.slice(row.v.byteOffset, row.v.byteOffset + row.v.byteLength));
    });
    const missing = out.map((v, i) => (v ? -1 : i)).filter((i) => i >= 0);
    if (missing.length > 0) {
      const vectors = await this.inner.embed(
        missing.map((i) => texts[i]),
        kind,
      );
      const put = this.db.transaction(() => {
        missing.forEach((i, k) => {
          out[i] = vectors[k];
          this.putStmt.run(this.key(kind, texts[i]), Buffer.from(vectors[k].buffer, vectors[k].byteOffset, vectors[k].byteLength));
        });
      });
      put();
      this.misses += missing.length;
      this.onProgress?.(this.misses);
    }
    return out as Float32Array[];
  }

  close(): void {
    this.db.close();
  }
}
