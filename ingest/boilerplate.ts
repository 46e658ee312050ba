/**
 * Running headers and footers ("Oslo kommune – Bydel Gamle Oslo", "Side 3 av 12") repeat on
 * every page. Left in the index they inflate term counts and fill snippets, so they are taken
 * out of the text that is chunked. Silver keeps every page exactly as extracted.
 *
 * A line is boilerplate when it sits among the first or last EDGE_LINES lines of a page and,
 * with its digits masked, occurs so on at least half of the pages (and on 3 or more), or when
 * it is a bare page number line.
 */
import type { PageText } from '../indexes/types.ts';

const EDGE_LINES = 3;
const PAGE_NUMBER_LINE = /^\s*(?:side|page|s\.)?\s*\d{1,4}\s*(?:(?:av|of|\/)\s*\d{1,4})?\s*$/i;

const mask = (line: string) => line.trim().replace(/\d+/g, '#').replace(/\s+/g, ' ').toLowerCase();

function edgeIndexes(lines: string[]): number[] {
  const nonEmpty = lines.map((l, i) => (l.trim() ? i : -1)).filter((i) => i >= 0);
  return [...new Set([...nonEmpty.slice(0, EDGE_LINES), ...nonEmpty.slice(-EDGE_LINES)])];
}

export function stripRunningLines(pages: PageText[]): PageText[] {
  const paged = pages.filter((p) => p.num !== null);
  const counts = new Map<string, number>();
  const split = pages.map((p) => p.text.split('\n'));
  if (paged.length >= 3) {
    split.forEach((lines) => {
      for (const key of new Set(edgeIndexes(lines).map((i) => mask(lines[i])))) if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
    });
  }
  const threshold = Math.max(3, Math.ceil(paged.length / 2));
  return pages.map((p, pi) => {
    if (p.num === null) return p;
    const lines = split[pi];
    const drop = new Set(edgeIndexes(lines).filter((i) => PAGE_NUMBER_LINE.test(lines[i]) || (counts.get(mask(lines[i])) ?? 0) >= threshold));
    if (drop.size === 0) return p;
    return { num: p.num, text: lines.filter((_, i) => !drop.has(i)).join('\n') };
  });
}
