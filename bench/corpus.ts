/**
 * The benchmark corpus at scale: real chunks from the shared corpus and the demo, perturbed into
 * as many new chunks as a benchmark size needs.
 *
 * Why not duplicate: a copied chunk has the same words in the same proportions, so BM25's term
 * statistics (document frequencies, lengths) and the vector neighbourhoods would be a repeated
 * pattern, which flatters both legs. Here every synthetic chunk
 * - starts from a real chunk (its heading, its document's title, kind and utvalg),
 * - swaps about half of its paragraphs for paragraphs drawn from any other real chunk, and
 *   shuffles their order,
 * - replaces every number by another of the same length (years stay years, 1990-2025), and
 * - replaces person and place names by other names, consistently within a document, from the
 *   names found in the corpus plus generated Norwegian names, so the vocabulary keeps growing
 *   with the corpus, as it does in real protocols.
 * The result is deterministic: chunk i of document j is the same in every run and at every
 * size, so the 10k index is a prefix of the 100k one.
 *
 * Sources are weighted (see SOURCE_WEIGHTS) so the 147 election protocols do not drown the rest.
 */

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { seededRandom } from '../eval/metrics.ts';
import { SqliteStore } from '../indexes/embedded/sqlite-store.ts';
import { LocalHashEmbedder } from '../indexes/embeddings/local.ts';
import type { AccessLevel, Chunk, DocumentKind, SilverDocument } from '../indexes/types.ts';
import { DataDir } from '../ingest/data-dir.ts';
import { ingestDemo } from '../ingest/demo.ts';
import { shutdownExtractors } from '../ingest/extract/index.ts';
import { ingestPaths } from '../ingest/pipeline.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_CORPUS = path.resolve(ROOT, '../shared/corpus');
export const BULK_DIR = path.join(SHARED_CORPUS, 'bulk-election-protocols');
/** Built indexes and results are cached here (outside the repository). */
export const CACHE_DIR = path.resolve(process.env.BENCH_CACHE || '/tmp/innsikt-bench');

/** Share of synthetic chunks drawn from each source of real chunks. */
const SOURCE_WEIGHTS = { bulk: 0.4, pdfs: 0.35, demo: 0.2, text: 0.05 } as const;
type Source = keyof typeof SOURCE_WEIGHTS;

/**
 * The queries every search benchmark runs: the demo's judged queries (including three about
 * absent topics) and queries about the real protocols.
 */
export function benchQueries(): string[] {
  const demo: string[] = JSON.parse(fs.readFileSync(path.join(ROOT, 'fixtures/expected-queries.json'), 'utf8')).queries.map((q: { query: string }) => q.query);
  const real = [
    'forhåndsstemmer',
    'reguleringsplan Breisås',
    'valgstyret godkjente',
    'manuell foreløpig opptelling',
    'kvalitetsregistre kostnader',
    'sak 139/12',
    'sikkerhet i valgsystemet',
    'stemmesedler forkastet',
    'IKT-drift',
    'valgoppgjør kommunestyret',
    'stemmetillegg personstemmer',
    'fremmøte i prosent',
    'beredskapsstemmesedler',
    'klage på valget',
  ];
  return [...demo, ...real];
}

// --- Seed: the real chunks ---------------------------------------------------------------

export interface SeedChunk {
  source: Source;
  title: string;
  kind: DocumentKind;
  body: string | null;
  heading: string | null;
  paragraphs: string[];
}

/**
 * Ingest the real documents once (cached under CACHE_DIR/seed) and return their chunks.
 * Sources: bulk election protocols, ../shared/corpus/pdfs, ../shared/corpus/text, the demo.
 */
export async function seedChunks(log: (s: string) => void = () => {}): Promise<SeedChunk[]> {
  const dir = new DataDir(path.join(CACHE_DIR, 'seed'));
  const done = path.join(dir.root, 'complete');
  if (!fs.existsSync(done)) {
    fs.rmSync(dir.root, { recursive: true, force: true });
    log('building the seed corpus (real documents, once) ...');
    const store = new SqliteStore(dir.indexFile);
    const ctx = { store, embedder: new LocalHashEmbedder(), dataDir: dir, defaultAccess: 'public' as AccessLevel };
    const parts: [Source, string][] = [
      ['bulk', BULK_DIR],
      ['pdfs', path.join(SHARED_CORPUS, 'pdfs')],
      ['text', path.join(SHARED_CORPUS, 'text')],
    ];
    const sources: Record<string, Source> = {};
    for (const [source, p] of parts) {
      if (!fs.existsSync(p)) continue;
      for (const r of await ingestPaths([p], ctx)) if (r.documentId) sources[r.documentId] = source;
    }
    for (const r of await ingestDemo(ctx)) if (r.documentId) sources[r.documentId] = 'demo';
    await shutdownExtractors();
    store.close();
    fs.writeFileSync(path.join(dir.root, 'sources.json'), JSON.stringify(sources));
    fs.writeFileSync(done, new Date().toISOString());
  }
  const sources: Record<string, Source> = JSON.parse(fs.readFileSync(path.join(dir.root, 'sources.json'), 'utf8'));
  const db = new Database(dir.indexFile, { readonly: true });
  const rows = db
    .prepare(
      `SELECT c.document_id AS doc, c.heading, c.text, d.title, d.kind, d.body
       FROM chunks c JOIN documents d ON d.id = c.document_id ORDER BY c.document_id, c.ord`,
    )
    .all() as { doc: string; heading: string | null; text: string; title: string; kind: DocumentKind; body: string | null }[];
  db.close();
  return rows
    .filter((r) => sources[r.doc])
    .map((r) => ({
      source: sources[r.doc],
      title: r.title,
      kind: r.kind,
      body: r.body,
      heading: r.heading,
      paragraphs: r.text.split(/\n{2,}/).filter((p) => p.trim()),
    }));
}

// --- Perturbation ------------------------------------------------------------------------

/** A small, fast, seedable PRNG (the one the eval's bootstrap uses). */
export const rng = seededRandom;

const FIRST_NAMES = (
  'Anne Inger Kari Marit Ingrid Liv Eva Berit Astrid Bjørg Hilde Anna Solveig Marianne Randi Ida Nina Maria Elisabeth Kristin ' +
  'Jan Per Bjørn Ole Lars Kjell Knut Arne Svein Thomas Hans Geir Tor Morten Terje Odd Erik Martin Andreas John Anders Rune ' +
  'Trond Tore Jon Harald Olav Gunnar Espen Nils Jørgen Kristian Helge Sindre Emil Jonas Magnus Sofie Nora Emma Leah Aisha ' +
  'Mohammed Ali Fatima Omar Yusuf Amina Hassan Zainab Ahmed Sara Maja Ingvild Tuva Frida Silje Linnea Eirik Håkon Øystein Åse'
).split(' ');
const SURNAME_STEMS =
  'Bjørk Haug Lund Berg Strand Vik Moe Dal Nes Hol Brekke Sol Fjeld Ås Myr Li Skog Bakk Hag Sand Øvre Nord Sør Vest Kval Rød Aas Rust Tang Hegg'.split(' ');
const SURNAME_ENDINGS = 'li heim set rud stad vik bakken haugen dal nes land sæter gård seth mo eng vold lie by tveit aker'.split(' ');

/** Capitalised words that are never written in lower case in the corpus: names of people and places. */
function findNames(seeds: SeedChunk[]): string[] {
  const lower = new Set<string>();
  const caps = new Map<string, number>();
  for (const s of seeds) {
    for (const p of s.paragraphs) {
      for (const w of p.split(/[^\p{L}-]+/u)) {
        if (!w) continue;
        if (/^[\p{Lu}][\p{Ll}]+(-[\p{Lu}][\p{Ll}]+)?$/u.test(w)) caps.set(w, (caps.get(w) ?? 0) + 1);
        else if (/^[\p{Ll}]/u.test(w)) lower.add(w);
      }
    }
  }
  // Very frequent capitalised words are headings ("Namnet", "Sak"), not names.
  return [...caps.entries()].filter(([w, n]) => !lower.has(w.toLowerCase()) && n <= 40 && w.length >= 3).map(([w]) => w);
}

export interface SyntheticDocument {
  doc: SilverDocument;
  chunks: Chunk[];
}

/** Access of synthetic documents: mostly public, like a bydel's archive. */
const ACCESS_MIX: { p: number; access: AccessLevel; groups: string[] }[] = [
  { p: 0.85, access: 'public', groups: [] },
  { p: 0.1, access: 'internal', groups: [] },
  { p: 0.02, access: 'protected', groups: ['barnevern'] },
  { p: 0.02, access: 'protected', groups: ['helse'] },
  { p: 0.01, access: 'protected', groups: ['barnevern', 'helse'] },
];

export class SyntheticCorpus {
  private readonly bySource: Record<Source, SeedChunk[]>;
  private readonly allParagraphs: string[];
  private readonly names: string[];
  private readonly nameSet: Set<string>;
  private readonly nameRe: RegExp;
  private readonly nameRunRe: RegExp;

  constructor(readonly seeds: SeedChunk[]) {
    this.bySource = { bulk: [], pdfs: [], demo: [], text: [] };
    for (const s of seeds) this.bySource[s.source].push(s);
    for (const k of Object.keys(this.bySource) as Source[]) if (!this.bySource[k].length) this.bySource[k] = seeds;
    this.allParagraphs = seeds.flatMap((s) => s.paragraphs);
    const found = findNames(seeds);
    this.nameSet = new Set(found);
    const generated: string[] = [];
    for (const a of SURNAME_STEMS) for (const b of SURNAME_ENDINGS) generated.push(a + b);
    this.names = [...new Set([...found, ...FIRST_NAMES, ...generated])];
    const word = String.raw`[\p{Lu}][\p{Ll}]+(?:-[\p{Lu}][\p{Ll}]+)?`;
    this.nameRe = new RegExp(word, 'gu');
    this.nameRunRe = new RegExp(String.raw`${word}(?:[ \t]+${word})+`, 'gu');
  }

  get nameCount(): number {
    return this.names.length;
  }

  /** Document number `j`, with about `chunksPerDoc` chunks. Deterministic in j. */
  document(j: number, chunksPerDoc = 14): SyntheticDocument {
    const r = rng(0x9e3779b9 ^ Math.imul(j + 1, 0x85ebca6b));
    const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
    let u = r();
    let source: Source = 'bulk';
    for (const [k, w] of Object.entries(SOURCE_WEIGHTS) as [Source, number][]) {
      if ((u -= w) <= 0) {
        source = k;
        break;
      }
    }
    const pool = this.bySource[source];
    const base = pick(pool);
    u = r();
    let access = ACCESS_MIX[0];
    for (const a of ACCESS_MIX) {
      if ((u -= a.p) <= 0) {
        access = a;
        break;
      }
    }
    const nameMap = new Map<string, string>();
    const vary = (text: string) => this.vary(text, r, nameMap);
    const year = 1995 + Math.floor(r() * 31);
    const date = `${year}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}`;
    const id = `synt-${String(j).padStart(7, '0')}`;
    const n = Math.max(1, Math.round(chunksPerDoc * (0.5 + r())));
    const chunks: Chunk[] = [];
    // Consecutive chunks of a document come from consecutive real chunks of one source document.
    const seedIdx = pool.indexOf(base);
    for (let i = 0; i < n; i++) {
      const seed = pool[(seedIdx + i) % pool.length];
      const paras = seed.paragraphs.map((p) => (r() < 0.5 ? pick(this.allParagraphs) : p));
      // Shuffle: swap each paragraph with a neighbour at random, so order is local but new.
      for (let k = paras.length - 1; k > 0; k--) {
        if (r() < 0.5) {
          const m = Math.max(0, k - 1 - Math.floor(r() * 3));
          [paras[k], paras[m]] = [paras[m], paras[k]];
        }
      }
      const text = vary(paras.join('\n\n'));
      chunks.push({
        id: `${id}:${i}`,
        documentId: id,
        ord: i,
        heading: seed.heading ? vary(seed.heading) : null,
        text,
        pageStart: i + 1,
        pageEnd: i + 1,
        pageBreaks: [],
      });
    }
    const doc: SilverDocument = {
      id,
      sha256: id.padEnd(64, '0'),
      source: `${id}.pdf`,
      mediaType: 'application/pdf',
      title: vary(base.title),
      kind: base.kind,
      body: base.body,
      date,
      caseNumbers: [],
      access: access.access,
      groups: access.groups,
      // One page per chunk: the pages table holds the document's text, as after real ingestion.
      pages: chunks.map((c, i) => ({ num: i + 1, text: c.text })),
      paged: true,
      extraction: { method: 'pdf-text', warnings: [] },
      ingestedAt: '2026-01-01T00:00:00.000Z',
    };
    return { doc, chunks };
  }

  private vary(text: string, r: () => number, nameMap: Map<string, string>): string {
    const numbers = text.replace(/\d+/g, (d) => {
      if (d.length === 4 && (d.startsWith('19') || d.startsWith('20'))) return String(1990 + Math.floor(r() * 36));
      let s = String(1 + Math.floor(r() * 9));
      for (let i = 1; i < d.length; i++) s += Math.floor(r() * 10);
      return s;
    });
    // Only inside a run of two or more capitalised words ("Nils Olav Moen", "Hellesøy
    // Eilertsen"): a lone capitalised word is more often an institution or a heading.
    return numbers.replace(this.nameRunRe, (run) =>
      run.replace(this.nameRe, (w) => {
        if (!this.nameSet.has(w)) return w;
        let to = nameMap.get(w);
        if (!to) nameMap.set(w, (to = this.names[Math.floor(r() * this.names.length)]));
        return to;
      }),
    );
  }
}

/** A batch of synthetic documents with their vectors, and the corpus so far. */
export interface EmbeddedBatch {
  docs: { doc: SilverDocument; chunks: Chunk[]; vectors: Float32Array[] }[];
  /** Chunks and documents made so far, and the ms spent embedding them. */
  chunks: number;
  documents: number;
  embedMs: number;
}

/**
 * The first `size` chunks of the synthetic corpus (documents 0, 1, 2 ..., the last cut to fit),
 * embedded with `embed`, in batches of `perBatch` documents: what every benchmark index is built
 * from, so the same size is the same corpus for every backend.
 */
export function* embeddedBatches(
  corpus: SyntheticCorpus,
  size: number,
  perBatch: number,
  embed: (title: string, c: Chunk) => Float32Array,
): Generator<EmbeddedBatch> {
  let chunks = 0;
  let documents = 0;
  let embedMs = 0;
  while (chunks < size) {
    const docs: EmbeddedBatch['docs'] = [];
    for (let i = 0; i < perBatch && chunks < size; i++) {
      const d = corpus.document(documents++);
      if (chunks + d.chunks.length > size) {
        d.chunks.length = size - chunks;
        d.doc.pages.length = d.chunks.length;
      }
      chunks += d.chunks.length;
      const t = performance.now();
      docs.push({ ...d, vectors: d.chunks.map((c) => embed(d.doc.title, c)) });
      embedMs += performance.now() - t;
    }
    yield { docs, chunks, documents, embedMs };
  }
}

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s.trim());
  if (!m) throw new Error(`bad size "${s}": use e.g. 10k, 100k, 1m`);
  return Math.round(Number(m[1]) * (m[2].toLowerCase() === 'k' ? 1e3 : m[2].toLowerCase() === 'm' ? 1e6 : 1));
}

export function sizeLabel(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
}
