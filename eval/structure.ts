/**
 * Document understanding against gold structure (eval/real-gold.json, issue 13): for each of
 * organisation, body, kind, date and title, precision (of the values we give, the share that
 * are right) and recall (of the values the gold has, the share we give rightly). Null is "not
 * known": giving null costs recall, never precision; a wrong value costs both.
 *
 * A value is right when it equals the gold value, one of its aliases or an `alsoAccept` value,
 * compared without case, spacing or punctuation differences; a body also without its definite
 * ending ("Bydelsutvalg" = "Bydelsutvalget").
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SilverDocument } from '../indexes/types.ts';
import { sha256 } from '../ingest/data-dir.ts';
import { type Half, halfOf, ROOT } from './harness.ts';

interface GoldDocument {
  file: string;
  folder: string;
  organisation: { name: string; type: string; aliases?: string[] } | null;
  body: string | null;
  bodyAliases?: string[];
  kind: string;
  date: string | null;
  title: string | null;
  alsoAccept?: Partial<Record<'organisation' | 'body' | 'kind' | 'date' | 'title', string[]>>;
}

export const FIELDS = ['organisation', 'body', 'kind', 'date', 'title'] as const;
export type Field = (typeof FIELDS)[number];

export interface FieldScore {
  field: Field;
  given: number;
  right: number;
  gold: number;
  found: number;
  precision: number;
  recall: number;
}

export interface StructureRow {
  file: string;
  half: Half;
  field: Field;
  gold: string | null;
  ours: string | null;
  right: boolean;
}

const norm = (s: string) =>
  s
    .toLowerCase()
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
const bodyNorm = (s: string) => norm(s).replace(/(et|en|a)$/u, '');

export const GOLD_FILE = path.join(ROOT, 'eval/real-gold.json');

export function readGold(): GoldDocument[] {
  return (JSON.parse(fs.readFileSync(GOLD_FILE, 'utf8')) as { documents: GoldDocument[] }).documents;
}

function accepted(g: GoldDocument, field: Field): string[] {
  // An accepted organisation may be written as a name or as { name, type }.
  const also = ((g.alsoAccept?.[field] ?? []) as unknown[]).map((a) => (typeof a === 'string' ? a : String((a as { name?: string }).name ?? '')));
  switch (field) {
    case 'organisation':
      return g.organisation ? [g.organisation.name, ...(g.organisation.aliases ?? []), ...also] : also;
    case 'body':
      return g.body ? [g.body, ...(g.bodyAliases ?? []), ...also] : also;
    case 'kind':
      return [g.kind, ...also];
    case 'date':
      return g.date ? [g.date, ...also] : also;
    case 'title':
      return g.title ? [g.title, ...also] : also;
  }
}

function ours(doc: SilverDocument, field: Field): string | null {
  switch (field) {
    case 'organisation':
      return doc.organisation?.name ?? null;
    case 'body':
      return doc.body;
    case 'kind':
      // "annet" says we do not know what it is.
      return doc.kind === 'annet' ? null : doc.kind;
    case 'date':
      return doc.date;
    case 'title':
      return doc.title;
  }
}

function goldValue(g: GoldDocument, field: Field): string | null {
  if (field === 'organisation') return g.organisation?.name ?? null;
  if (field === 'kind') return g.kind === 'annet' ? null : g.kind;
  return g[field];
}

/** Every gold document's fields against the silver of the same bytes. */
export function structureRows(docs: SilverDocument[], corpusFiles: string[]): StructureRow[] {
  const bySha = new Map(docs.map((d) => [d.sha256, d]));
  const shaOf = new Map(corpusFiles.map((f) => [path.basename(f), f]));
  const rows: StructureRow[] = [];
  for (const g of readGold()) {
    const file = shaOf.get(g.file);
    if (!file) throw new Error(`eval/real-gold.json: ${g.file} is not in the corpus`);
    const doc = bySha.get(sha256(fs.readFileSync(file)));
    for (const field of FIELDS) {
      const mine = doc ? ours(doc, field) : null;
      const eq = field === 'body' ? bodyNorm : norm;
      const right = mine != null && accepted(g, field).some((a) => eq(a) === eq(mine));
      rows.push({ file: g.file, half: halfOf('gold', g.file), field, gold: goldValue(g, field), ours: mine, right });
    }
  }
  return rows;
}

export function fieldScores(rows: StructureRow[]): FieldScore[] {
  return FIELDS.map((field) => {
    const r = rows.filter((x) => x.field === field);
    const given = r.filter((x) => x.ours != null).length;
    const right = r.filter((x) => x.right).length;
    const gold = r.filter((x) => x.gold != null).length;
    const found = r.filter((x) => x.gold != null && x.right).length;
    return { field, given, right, gold, found, precision: given ? right / given : 1, recall: gold ? found / gold : 1 };
  });
}
