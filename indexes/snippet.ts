/**
 * Snippets: the best short window of a chunk for a query, with the matching words marked and
 * the page the window lies on. Matching uses the shared analysis (stems), so "lekeplassen"
 * in the text lights up for the query "lekeplass".
 */
import { isStopword, stem, tokenizeWithOffsets } from './analysis/index.ts';
import type { SnippetPart } from './types.ts';

export const SNIPPET_WORDS = 36;

export interface Snippet {
  parts: SnippetPart[];
  text: string;
  /** Offset of the window start in the chunk text. */
  start: number;
}

export function makeSnippet(text: string, stems: Set<string>, windowWords = SNIPPET_WORDS): Snippet {
  const tokens = tokenizeWithOffsets(text);
  if (tokens.length === 0) return { parts: [{ text: text.slice(0, 240), hit: false }], text: text.slice(0, 240), start: 0 };
  const isHit = tokens.map((t) => !isStopword(t.token) && stems.has(stem(t.token)));

  // Slide a window of `windowWords` tokens; score = distinct stems hit * 10 + total hits.
  let best = 0;
  let bestScore = -1;
  if (stems.size > 0) {
    for (let i = 0; i < tokens.length; i++) {
      if (!isHit[i] && i !== 0) continue; // windows worth trying start at a hit
      const start = Math.max(0, i - 4); // a little context before the first hit
      const end = Math.min(tokens.length, start + windowWords);
      const distinct = new Set<string>();
      let hits = 0;
      for (let j = start; j < end; j++) {
        if (isHit[j]) {
          hits++;
          distinct.add(stem(tokens[j].token));
        }
      }
      const score = distinct.size * 10 + hits;
      if (score > bestScore) {
        bestScore = score;
        best = start;
      }
    }
  }
  const endTok = Math.min(tokens.length, best + windowWords);
  const from = best === 0 ? 0 : tokens[best].start;
  const to = endTok >= tokens.length ? text.length : tokens[endTok - 1].end;

  const parts: SnippetPart[] = [];
  const push = (s: string, hit: boolean) => {
    if (!s) return;
    const clean = s.replace(/\s+/g, ' ');
    const last = parts[parts.length - 1];
    if (last && last.hit === hit) last.text += clean;
    else parts.push({ text: clean, hit });
  };
  if (from > 0) push('… ', false);
  let pos = from;
  for (let j = best; j < endTok; j++) {
    if (!isHit[j]) continue;
    push(text.slice(pos, tokens[j].start), false);
    push(text.slice(tokens[j].start, tokens[j].end), true);
    pos = tokens[j].end;
  }
  push(text.slice(pos, to), false);
  if (to < text.length) push(' …', false);
  // Trim leading whitespace of the first part.
  if (parts.length && !parts[0].hit) parts[0].text = parts[0].text.replace(/^\s+/, '');
  return { parts, text: parts.map((p) => p.text).join(''), start: from };
}

/** The page on which `offset` of a chunk lies. */
export function pageAt(offset: number, pageStart: number | null, pageBreaks: { offset: number; page: number }[]): number | null {
  let page = pageStart;
  for (const b of pageBreaks) {
    if (b.offset <= offset) page = b.page;
    else break;
  }
  return page;
}
