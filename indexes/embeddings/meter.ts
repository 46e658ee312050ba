/**
 * Counts what an embedder embeds, for the progress line and the throughput of `innsikt ingest`
 * and `innsikt reindex`: a semantic model on 2 cores embeds a few chunks a second, so a long
 * run must say how far it is and how fast it goes.
 */
import { type Embedder, type EmbedKind, WrappedEmbedder } from './types.ts';

export class MeteredEmbedder extends WrappedEmbedder {
  /** Document texts embedded so far, and the time spent waiting for them. */
  texts = 0;
  ms = 0;

  constructor(
    inner: Embedder,
    private readonly onEmbedded?: (m: MeteredEmbedder) => void,
  ) {
    super(inner);
  }

  async embed(texts: string[], kind?: EmbedKind): Promise<Float32Array[]> {
    const t0 = performance.now();
    const out = await this.inner.embed(texts, kind);
    if (kind !== 'query') {
      this.ms += performance.now() - t0;
      this.texts += texts.length;
      this.onEmbedded?.(this);
    }
    return out;
  }

  /** Chunks embedded per second of embedding (0 before the first). */
  rate(): number {
    return this.ms > 0 ? (this.texts * 1000) / this.ms : 0;
  }

  /** e.g. "1 234 chunks embedded, 1.6/s". */
  describe(): string {
    return `${this.texts} chunks embedded${this.ms > 0 ? `, ${this.rate().toFixed(1)}/s` : ''}`;
  }
}
