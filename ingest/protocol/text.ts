/**
 * The text the protocol parser reads: the pages with their running headers and footers taken
 * out, cut into lines that remember their page and their place in the page text.
 *
 * The same clean pages are what protocol chunks are cut from (ingest/protocol/chunks.ts), so a
 * line index is enough to say where an item or a decision starts and ends, and no text other
 * than running lines is dropped.
 */

import type { PageText } from '../../indexes/types.ts';
import { stripRunningLines } from '../boilerplate.ts';

export interface Line {
  /** Index into the clean pages. */
  pi: number;
  /** The page number (PageText.num). */
  page: number | null;
  /** Offsets of the line in the clean page text ([start, end), without the newline). */
  start: number;
  end: number;
  raw: string;
  /** Whitespace collapsed and trimmed; '' for a blank line. */
  t: string;
}

export const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Column cells of a table row: runs of 2+ spaces or tabs separate cells. */
export const cells = (raw: string): string[] =>
  raw
    .trim()
    .split(/\s{2,}|\t/)
    .map((c) => c.trim())
    .filter(Boolean);

const EDGE = 3;
const mask = (line: string) => collapse(line).replace(/\d+/g, '#').toLowerCase();

/**
 * stripRunningLines needs 3 pages to call a line running; a two-page protocol keeps its footer
 * ("Oslo kommune – Bydel Gamle Oslo Bydelsutvalget · 06.03.2025"), which would end up inside a
 * decision that crosses the page break. Here a line of 3+ words at the edge of every page of a
 * 2-page document, identical with digits masked, is a running line too.
 */
function stripTwoPageFooters(pages: PageText[]): PageText[] {
  const paged = pages.filter((p) => p.num !== null);
  if (paged.length !== 2 || pages.length !== 2) return pages;
  const split = pages.map((p) => p.text.split('\n'));
  const edges = split.map((lines) => {
    const idx = lines.map((l, i) => (l.trim() ? i : -1)).filter((i) => i >= 0);
    return new Set([...idx.slice(0, EDGE), ...idx.slice(-EDGE)]);
  });
  const keys = edges.map((set, pi) => new Set([...set].map((i) => mask(split[pi][i])).filter((k) => k.split(' ').length >= 3)));
  const common = [...keys[0]].filter((k) => keys[1].has(k));
  if (common.length === 0) return pages;
  return pages.map((p, pi) => ({
    num: p.num,
    text: split[pi].filter((l, i) => !(edges[pi].has(i) && common.includes(mask(l)))).join('\n'),
  }));
}

/** The pages the parser and the protocol chunker read. */
export function cleanPages(pages: PageText[]): PageText[] {
  return stripTwoPageFooters(stripRunningLines(pages)).map((p) => ({ num: p.num, text: (p.text ?? '').replace(/\r\n?/g, '\n') }));
}

export function toLines(pages: PageText[]): Line[] {
  const out: Line[] = [];
  pages.forEach((p, pi) => {
    let start = 0;
    for (const raw of p.text.split('\n')) {
      out.push({ pi, page: p.num, start, end: start + raw.length, raw, t: collapse(raw) });
      start += raw.length + 1;
    }
  });
  return out;
}

/** The text of lines [from, to), line breaks kept, trimmed of blank lines at both ends. */
export function textOf(lines: Line[], from: number, to: number): string {
  let a = from;
  let b = to;
  while (a < b && !lines[a].t) a++;
  while (b > a && !lines[b - 1].t) b--;
  return lines
    .slice(a, b)
    .map((l) => l.raw.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

/** Sorted distinct page numbers of lines [from, to) that hold text. */
export function pagesOf(lines: Line[], from: number, to: number): number[] {
  const set = new Set<number>();
  for (let i = from; i < to; i++) if (lines[i].t && lines[i].page !== null) set.add(lines[i].page!);
  return [...set].sort((x, y) => x - y);
}

export function spanOf(lines: Line[], from: number, to: number): { pageStart: number | null; pageEnd: number | null } {
  const p = pagesOf(lines, from, to);
  return { pageStart: p[0] ?? null, pageEnd: p[p.length - 1] ?? null };
}
