/**
 * The embedder seam: turns texts into vectors for the vector leg of search.
 *
 * The index stores the `id` and `dimensions` of the embedder it was built with. Searching or
 * adding to it with another embedder would compare vectors from different spaces and give
 * quiet nonsense, so the store checks and throws EmbedderMismatchError instead.
 */

export type EmbedKind = 'query' | 'document';

export interface Embedder {
  /** Model and version, e.g. 'local-hash-v1-d2048' or 'openai:text-embedding-3-small:1536'. */
  readonly id: string;
  readonly dimensions: number;
  /** One L2-normalised vector per text, in order. A text with nothing to embed gives zeros. */
  embed(texts: string[], kind?: EmbedKind): Promise<Float32Array[]>;
  /**
   * Get ready to embed (for a remote model: learn its dimensions with one probe request).
   * Call before reading `id` or `dimensions` of an embedder that does not know them yet.
   */
  init?(): Promise<void>;
}

/**
 * An embedder that wraps another (to count, to cache): the same id, dimensions and init;
 * subclasses decide what `embed` adds.
 */
export abstract class WrappedEmbedder implements Embedder {
  constructor(protected readonly inner: Embedder) {}

  get id(): string {
    return this.inner.id;
  }

  get dimensions(): number {
    return this.inner.dimensions;
  }

  async init(): Promise<void> {
    await this.inner.init?.();
  }

  abstract embed(texts: string[], kind?: EmbedKind): Promise<Float32Array[]>;
}

/**
 * Remembers the query embeddings it made, for one request that needs the same query's vector
 * twice (the answer's search and its semantic check): a model call of ~25 ms saved.
 */
export class QueryMemoEmbedder extends WrappedEmbedder {
  private readonly memo = new Map<string, Promise<Float32Array>>();

  async embed(texts: string[], kind?: EmbedKind): Promise<Float32Array[]> {
    if (kind !== 'query') return this.inner.embed(texts, kind);
    return Promise.all(
      texts.map((t) => {
        let v = this.memo.get(t);
        if (!v) {
          v = this.inner.embed([t], 'query').then((r) => r[0]);
          this.memo.set(t, v);
        }
        return v;
      }),
    );
  }
}

/** What the index remembers about the embedder that built it. */
export interface EmbedderIdentity {
  id: string;
  dimensions: number;
}

/**
 * Thrown by the store when the index was built with another embedder than the configured one.
 * Give the two identities (the message is then written here, so it reads the same everywhere),
 * or a message of your own.
 */
export class EmbedderMismatchError extends Error {
  readonly indexEmbedder: EmbedderIdentity | null;
  readonly configuredEmbedder: EmbedderIdentity | null;

  constructor(message: string);
  constructor(indexEmbedder: EmbedderIdentity, configuredEmbedder: EmbedderIdentity);
  constructor(a: string | EmbedderIdentity, configured?: EmbedderIdentity) {
    super(typeof a === 'string' ? a : mismatchMessage(a, configured!));
    this.name = 'EmbedderMismatchError';
    this.indexEmbedder = typeof a === 'string' ? null : { id: a.id, dimensions: a.dimensions };
    this.configuredEmbedder = typeof a === 'string' || !configured ? null : { id: configured.id, dimensions: configured.dimensions };
  }
}

export function mismatchMessage(indexEmbedder: EmbedderIdentity, configured: EmbedderIdentity): string {
  return (
    `The search index was built with the embedding model '${indexEmbedder.id}' (${indexEmbedder.dimensions} dimensions), ` +
    `but the configured embedding model is '${configured.id}' (${configured.dimensions} dimensions). ` +
    'Run `innsikt reindex` to rebuild the index with the configured model, or configure the model the index was built with again ' +
    '(INNSIKT_EMBEDDER, INNSIKT_EMBEDDING_MODEL, INNSIKT_EMBEDDING_DIMENSIONS, INNSIKT_LOCAL_DIMENSIONS).'
  );
}

/** The one check the stores use: the index's embedder (null for a new, empty index) against the configured one. */
export function assertSameEmbedder(indexEmbedder: EmbedderIdentity | null | undefined, configured: EmbedderIdentity): void {
  if (!indexEmbedder) return;
  if (indexEmbedder.id !== configured.id || indexEmbedder.dimensions !== configured.dimensions) {
    throw new EmbedderMismatchError(indexEmbedder, { id: configured.id, dimensions: configured.dimensions });
  }
}

/** Scale a vector to unit length in place (zeros stay zeros). Returns it. */
export function l2normalize<T extends Float32Array>(v: T): T {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  if (sum > 0) {
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}

/** Dot product; the cosine similarity of two L2-normalised vectors. */
export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`dot: vectors of different lengths (${a.length} and ${b.length})`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
