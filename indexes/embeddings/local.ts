/**
 * LocalHashEmbedder: the offline default. No model, no download, no network: a text becomes a
 * signed feature-hashed bag of
 * - stemmed content words (the one analysis in indexes/analysis: tokenize, stopwords out, stem),
 *   weight 1, and
 * - character 3-, 4- and 5-grams of each lowercased word padded as `<word>`, weighted so that a
 *   word's n-grams together count about as much as the word,
 * with sublinear term frequency (1 + ln tf), hashed into D dimensions (FNV-1a 32-bit, sign from
 * another hash bit) and L2-normalised.
 *
 * Why: stems catch inflections (kommunestyret ~ kommunestyre), the n-grams catch Norwegian
 * compounds the stemmer cannot split ("levekårsutfordringer" shares "levek", "utfor", "ringe"
 * with "utfordringer med levekår"). It is a lexical model, not a semantic one: it finds
 * different forms of the same words, never synonyms.
 *
 * Deterministic: the same text and parameters give the same vector on every machine. The `id`
 * names every parameter; bump VERSION whenever the algorithm or a default changes, so an index
 * built by an older version is reported as a mismatch (and rebuilt) instead of silently mixed.
 */
import { isStopword, stem, tokenize } from '../analysis/index.ts';
import { type Embedder, type EmbedKind, l2normalize } from './types.ts';

const VERSION = 'v1';

export interface LocalHashOptions {
  /** Number of dimensions (default 2048). */
  dimensions?: number;
  /** Total weight of one word's n-grams relative to the word's own feature (default 1). */
  ngramWeight?: number;
  /** Shortest and longest character n-gram (defaults 3 and 5). */
  minN?: number;
  maxN?: number;
}

const DEFAULTS = { dimensions: 2048, ngramWeight: 1, minN: 3, maxN: 5 } as const;

// FNV-1a, 32-bit, over UTF-16 code units (all Norwegian letters are single code units).
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
function fnv1a(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}
// Separate namespaces, so the word "abc" and the n-gram "abc" are different features.
const WORD_SEED = fnv1a('w\u0000', FNV_OFFSET);
const GRAM_SEED = fnv1a('g\u0000', FNV_OFFSET);

/** murmur3's finaliser: spreads every input bit over the whole word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface TokenFeatures {
  /** Hash of the stem, or -1 for a stopword. */
  word: number;
  grams: Uint32Array;
  /** Weight of each of this word's n-grams. */
  gramWeight: number;
}

/**
 * Counts features of one text: an open-addressing hash table on typed arrays, cleared through
 * the list of used slots, so embedding a chunk allocates nothing but the output vector.
 */
class FeatureTable {
  private keys: Uint32Array;
  private used: Uint8Array;
  private counts: Float64Array;
  private weights: Float64Array;
  private slots: Int32Array;
  size = 0;

  constructor(capacity = 1 << 14) {
    this.keys = new Uint32Array(capacity);
    this.used = new Uint8Array(capacity);
    this.counts = new Float64Array(capacity);
    this.weights = new Float64Array(capacity);
    this.slots = new Int32Array(capacity);
  }

  add(key: number, weight: number): void {
    if (this.size * 2 >= this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    let i = fmix32(key) & mask;
    while (this.used[i]) {
      if (this.keys[i] === key) {
        this.counts[i] += 1;
        this.weights[i] += weight;
        return;
      }
      i = (i + 1) & mask;
    }
    this.used[i] = 1;
    this.keys[i] = key;
    this.counts[i] = 1;
    this.weights[i] = weight;
    this.slots[this.size++] = i;
  }

  /** Calls fn(key, value) for every feature, value = (1 + ln tf) x mean weight; then clears. */
  drain(fn: (key: number, value: number) => void): void {
    for (let k = 0; k < this.size; k++) {
      const i = this.slots[k];
      const tf = this.counts[i];
      fn(this.keys[i], (1 + Math.log(tf)) * (this.weights[i] / tf));
      this.used[i] = 0;
    }
    this.size = 0;
  }

  private grow(): void {
    const old = { keys: this.keys, counts: this.counts, weights: this.weights, slots: this.slots, size: this.size };
    const cap = this.keys.length * 2;
    this.keys = new Uint32Array(cap);
    this.used = new Uint8Array(cap);
    this.counts = new Float64Array(cap);
    this.weights = new Float64Array(cap);
    this.slots = new Int32Array(cap);
    this.size = 0;
    const mask = cap - 1;
    for (let k = 0; k < old.size; k++) {
      const j = old.slots[k];
      let i = fmix32(old.keys[j]) & mask;
      while (this.used[i]) i = (i + 1) & mask;
      this.used[i] = 1;
      this.keys[i] = old.keys[j];
      this.counts[i] = old.counts[j];
      this.weights[i] = old.weights[j];
      this.slots[this.size++] = i;
    }
  }
}

export class LocalHashEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions: number;
  private readonly ngramWeight: number;
  private readonly minN: number;
  private readonly maxN: number;
  private readonly cache = new Map<string, TokenFeatures>();
  private readonly table = new FeatureTable();

  constructor(opts: LocalHashOptions = {}) {
    const dimensions = opts.dimensions ?? DEFAULTS.dimensions;
    const ngramWeight = opts.ngramWeight ?? DEFAULTS.ngramWeight;
    const minN = opts.minN ?? DEFAULTS.minN;
    const maxN = opts.maxN ?? DEFAULTS.maxN;
    if (!Number.isInteger(dimensions) || dimensions < 2 || dimensions > 65536) {
      throw new Error(`LocalHashEmbedder: dimensions must be a whole number from 2 to 65536 (got ${dimensions})`);
    }
    if (!(ngramWeight >= 0) || !Number.isFinite(ngramWeight)) throw new Error(`LocalHashEmbedder: ngramWeight must be >= 0 (got ${ngramWeight})`);
    if (!Number.isInteger(minN) || !Number.isInteger(maxN) || minN < 1 || maxN < minN || maxN > 12) {
      throw new Error(`LocalHashEmbedder: need 1 <= minN <= maxN <= 12 (got ${minN}..${maxN})`);
    }
    this.dimensions = dimensions;
    this.ngramWeight = ngramWeight;
    this.minN = minN;
    this.maxN = maxN;
    // Every parameter is in the id; the defaults give the short form.
    let id = `local-hash-${VERSION}-d${dimensions}`;
    if (ngramWeight !== DEFAULTS.ngramWeight || minN !== DEFAULTS.minN || maxN !== DEFAULTS.maxN) id += `-g${minN}-${maxN}w${ngramWeight}`;
    this.id = id;
  }

  async init(): Promise<void> {}

  /** The work is synchronous; the interface is async like every other embedder's. */
  async embed(texts: string[], kind?: EmbedKind): Promise<Float32Array[]> {
    return texts.map((t) => this.embedOne(t, kind));
  }

  /** One text, synchronously. Queries and documents are embedded the same way. */
  embedOne(text: string, _kind?: EmbedKind): Float32Array {
    const out = new Float32Array(this.dimensions);
    const tokens = tokenize(text);
    // A text of nothing but stopwords ("hva er det") is embedded by its stopwords rather than
    // as nothing, like the analysis does for queries.
    let content = 0;
    for (const t of tokens) if (!isStopword(t)) content++;
    const keepStopwords = content === 0;

    const table = this.table;
    for (const t of tokens) {
      const f = this.features(t);
      if (f.word < 0 && !keepStopwords) continue;
      table.add(f.word < 0 ? fnv1a(stem(t), WORD_SEED) : f.word, 1);
      const g = f.grams;
      const w = f.gramWeight;
      for (let i = 0; i < g.length; i++) table.add(g[i], w);
    }
    const d = this.dimensions;
    table.drain((key, value) => {
      const h = fmix32(key);
      // Index from the mixed hash, sign from a bit of another mix of it.
      const sign = fmix32(h ^ 0x9e3779b9) & 1 ? -1 : 1;
      out[h % d] += sign * value;
    });
    return l2normalize(out);
  }

  private features(token: string): TokenFeatures {
    let f = this.cache.get(token);
    if (f) return f;
    const word = isStopword(token) ? -1 : fnv1a(stem(token), WORD_SEED);
    // Numbers get no n-grams: "2025" and "2024" should not look alike.
    const grams = /\d/.test(token) ? new Uint32Array(0) : this.ngrams(token);
    // n-grams share the word's weight: together (as a vector norm) they count ngramWeight.
    const gramWeight = grams.length > 0 ? this.ngramWeight / Math.sqrt(grams.length) : 0;
    f = { word, grams, gramWeight };
    if (this.cache.size >= 200_000) this.cache.clear();
    this.cache.set(token, f);
    return f;
  }

  private ngrams(token: string): Uint32Array {
    const p = `<${token}>`;
    const out: number[] = [];
    for (let i = 0; i < p.length; i++) {
      let h = GRAM_SEED;
      for (let n = 1; n <= this.maxN && i + n <= p.length; n++) {
        h ^= p.charCodeAt(i + n - 1);
        h = Math.imul(h, FNV_PRIME);
        if (n >= this.minN) out.push(h >>> 0);
      }
    }
    return Uint32Array.from(out);
  }
}
