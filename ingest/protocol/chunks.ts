/**
 * Chunks of a protocol that carry their context: the text is cut by agenda item first (a chunk
 * never holds text of two items), the decision (vedtak) of an item is a chunk of its own, and
 * within those pieces the ordinary chunker (ingest/chunk.ts) cuts by paragraphs and size.
 *
 * Every chunk knows its meeting (body, date), its item (case number, title) and whether it is the
 * decision; its heading starts with "<case number> <title>", so both are searchable now.
 *
 * Invariant (tests/protocol.test.ts): the regions cover every line of the parser's pages once,
 * in order, so the chunk texts together hold every non-whitespace character of those pages
 * (the pages with running headers and footers taken out, as for any document).
 */

import type { AgendaItem, Meeting } from '../../indexes/protocol-types.ts';
import type { PageText } from '../../indexes/types.ts';
import { type ChunkOptions, chunkPages, countWords, type DraftChunk, HEADING_SEPARATOR } from '../chunk.ts';
import { ITEM_HEADING, TREATMENT_HEADING } from './case-id.ts';
import type { ParsedProtocol, Region } from './index.ts';

export interface ChunkContext {
  meetingIndex: number | null;
  meetingBody: string | null;
  meetingDate: string | null;
  itemIndex: number | null;
  caseId: string | null;
  caseIdNormalized: string | null;
  itemTitle: string | null;
  isDecision: boolean;
}

export type ProtocolDraftChunk = DraftChunk & { context: ChunkContext };

/** "PS 6/26 Referatsaker", "Sak 18/24 Sykehjemsplasser ...", "Eventuelt", or null. */
export function itemLabel(item: AgendaItem | null): string | null {
  if (!item) return null;
  const parts = [item.caseId, item.title].filter((x): x is string => !!x && x.trim().length > 0);
  return parts.length ? parts.join(' ') : null;
}

function regionPages(parsed: ParsedProtocol, r: Region): PageText[] {
  const { lines, pages } = parsed;
  const out: PageText[] = [];
  let i = r.from;
  while (i < r.to) {
    const pi = lines[i].pi;
    let j = i;
    while (j + 1 < r.to && lines[j + 1].pi === pi) j++;
    out.push({ num: pages[pi].num, text: pages[pi].text.slice(lines[i].start, lines[j].end) });
    i = j + 1;
  }
  return out;
}

/** The sub-heading the chunker found inside an item, unless it is the item heading itself. */
function minorHeading(heading: string | null): string | null {
  if (!heading) return null;
  const parts = heading.split(HEADING_SEPARATOR);
  const last = parts[parts.length - 1];
  if (parts.length === 1 && (ITEM_HEADING.test(last) || TREATMENT_HEADING.test(last))) return null;
  return last || null;
}

/** The chunker's default maxWords (ingest/chunk.ts DEFAULTS). */
const MAX_WORDS = 500;

/** The pages of a region as one chunk when it has at most `max` words; null when empty or longer. */
function singleChunk(pages: PageText[], max: number): DraftChunk | null {
  const parts = pages.map((p) => ({ num: p.num, text: p.text.replace(/^\s*\n|\s+$/g, '').replace(/\n{3,}/g, '\n\n') })).filter((p) => p.text.trim());
  if (parts.length === 0) return null;
  const words = parts.reduce((n, p) => n + countWords(p.text), 0);
  if (words > max) return null;
  let text = '';
  const pageBreaks: { offset: number; page: number }[] = [];
  parts.forEach((p, k) => {
    if (k > 0) {
      text += '\n\n';
      if (p.num !== null) pageBreaks.push({ offset: text.length, page: p.num });
    }
    text += p.text;
  });
  const first = parts[0].num;
  return { ord: 0, heading: null, text, pageStart: first, pageEnd: parts[parts.length - 1].num, pageBreaks: first === null ? [] : pageBreaks };
}

export function protocolChunks(parsed: ParsedProtocol, opts: ChunkOptions = {}): ProtocolDraftChunk[] {
  const meetings: Meeting[] = parsed.structure.meetings;
  const out: ProtocolDraftChunk[] = [];
  for (const r of parsed.regions) {
    const meeting = r.meeting !== null ? (meetings[r.meeting] ?? null) : null;
    const item = meeting && r.item !== null ? (meeting.agendaItems[r.item] ?? null) : null;
    const label = r.heading ?? itemLabel(item);
    const context: ChunkContext = {
      meetingIndex: meeting ? r.meeting : null,
      meetingBody: meeting?.body ?? null,
      meetingDate: meeting?.date ?? null,
      itemIndex: item ? r.item : null,
      caseId: item?.caseId ?? null,
      caseIdNormalized: item?.caseIdNormalized ?? null,
      itemTitle: item?.title ?? null,
      isDecision: r.decision,
    };
    const sub = regionPages(parsed, r);
    // A piece of an item that fits in one chunk stays one chunk: the chunker's heading rules
    // would otherwise cut a decision at its "Vedtak" line or at a numbered point.
    const whole = label ? singleChunk(sub, opts.maxWords ?? MAX_WORDS) : null;
    for (const c of whole ? [whole] : chunkPages(sub, opts)) {
      let heading = c.heading;
      if (label) {
        const minor = r.decision ? 'Vedtak' : minorHeading(c.heading);
        heading = minor && minor !== label ? `${label}${HEADING_SEPARATOR}${minor}` : label;
      }
      out.push({ ...c, ord: out.length, heading, context });
    }
  }
  return out;
}
