/**
 * Marking query hits in text. Matching uses the project's one analysis (the same stems that
 * the index and the snippets use), so "lekeplassen" lights up for the query "lekeplass".
 * Output is always JSX text children: the text is escaped by hono/jsx, never raw HTML.
 */
import { isStopword, stem, tokenizeWithOffsets } from '../indexes/analysis/index.ts';
import { highlightStems } from '../indexes/analysis/query.ts';
import type { SnippetPart } from '../indexes/types.ts';

/** The stems to mark for a query (empty for an empty query). */
export function stemsFor(query: string): Set<string> {
  return query.trim() ? highlightStems(query) : new Set<string>();
}

/** Split `text` into plain and hit parts for `stems`, the same way the snippets do. */
export function highlightParts(text: string, stems: Set<string>): SnippetPart[] {
  if (!text) return [];
  if (stems.size === 0) return [{ text, hit: false }];
  const parts: SnippetPart[] = [];
  let pos = 0;
  for (const t of tokenizeWithOffsets(text)) {
    if (isStopword(t.token) || !stems.has(stem(t.token))) continue;
    if (t.start > pos) parts.push({ text: text.slice(pos, t.start), hit: false });
    const last = parts[parts.length - 1];
    // Adjacent hits separated by nothing are merged; those separated by a space stay apart.
    if (last && last.hit && t.start === pos) last.text += text.slice(t.start, t.end);
    else parts.push({ text: text.slice(t.start, t.end), hit: true });
    pos = t.end;
  }
  if (pos < text.length) parts.push({ text: text.slice(pos), hit: false });
  return parts;
}

/** Render parts with hits in <mark>. Every string is a text child (escaped). */
export function Marked(props: { parts: SnippetPart[] }) {
  return <>{props.parts.map((p) => (p.hit ? <mark>{p.text}</mark> : p.text))}</>;
}
