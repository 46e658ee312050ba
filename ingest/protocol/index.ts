/**
 * The protocol parser: from the extracted pages of a møteprotokoll, møtebok, saksprotokoll,
 * saksliste or saksframlegg to meetings, agenda items, proposals, votes and decisions, each
 * with its pages (see ./types.ts for the schema and the glossary).
 *
 *   const parsed = parseProtocol(pages, { kind: 'møteprotokoll' });
 *   parsed.structure   // { meetings, unparsed }: goes into SILVER
 *   parsed.regions     // which lines belong to which item and decision: for the chunker
 *
 * Layouts understood:
 * - a meeting protocol: a header (utvalg, dato, til stede ...), maybe a saksliste, then one
 *   heading per item ("Sak 18/24 ...", "PS 6/26 ...") with Innstilling / Behandling / Votering /
 *   Vedtak inside (bydel and Elements/ACOS layouts, bokmål and nynorsk);
 * - a saksprotokoll: "<Utvalg>s behandling av sak 14/2026 i møte den 20.05.2026:" then the
 *   treatment, or a "Saksprotokoll i <utvalg> <dato>" header and one item heading;
 * - a møtebok with a SAKSGANG table (one row per body that treated the case) and the decision
 *   of each body under "PTN-139/12 / Tilråding:" and "K-112/12 / Vedtak:": one meeting per row;
 * - a saksframlegg / orienteringssak: one item, its "Forslag til vedtak" as a proposal, no
 *   decision;
 * - an election board protocol (valgprotokoll): the board and its members; the tables of counts
 *   are reported in `unparsed`.
 * Whatever the parser does not understand is still chunked and searchable as plain text.
 */

import type { AgendaItem, ConflictOfInterest, Meeting, PageSpan, Proposal, ProtocolStructure, UnparsedSpan } from '../../indexes/protocol-types.ts';
import type { PageText } from '../../indexes/types.ts';
import { ARCHIVE_ID, normalizeArchiveId, normalizeCaseId, OWNER_LINE } from './case-id.ts';
import { itemOutcome, itemType } from './classify.ts';
import { bodyFromGenitive, type Header, isoDate, parseHeader } from './header.ts';
import { findItems, type ItemStart } from './items.ts';
import { cutAtVotesAndProposals, headingKind, type ItemLayout, layoutItem, PROPOSAL_START, type Section } from './sections.ts';
import { cleanPages, collapse, type Line, pagesOf, spanOf, textOf, toLines } from './text.ts';
import { parseBallots, sentenceBallot, summarize } from './votes.ts';

export type * from '../../indexes/protocol-types.ts';
export { normalizeArchiveId, normalizeCaseId } from './case-id.ts';

/** Lines [from, to) of the clean pages and whose they are. Regions cover every line once, in order. */
export interface Region {
  from: number;
  to: number;
  meeting: number | null;
  item: number | null;
  decision: boolean;
  /** Heading for the chunks of a region shared by several items (a møtebok's saksgang). */
  heading?: string;
}

export interface ParsedProtocol {
  structure: ProtocolStructure;
  /** The pages the parser read (running headers and footers out): what protocol chunks are cut from. */
  pages: PageText[];
  lines: Line[];
  regions: Region[];
}

export interface ParseOptions {
  /**
   * The document kind from understand(): a møteprotokoll may take its date from the first
   * pages when no "Møtedato:" is labelled; a møtebok/saksprotokoll/saksframlegg without item
   * headings is read as one case. Nothing else is used, so re-parsing silver (reindex) gives
   * the same result as ingestion.
   */
  kind?: string;
}

const PROTOCOL_KINDS = new Set(['møteprotokoll', 'møtebok', 'saksprotokoll', 'saksliste', 'saksframlegg']);
const CASE_PAPER = /\b(?:orienteringssak|saksframlegg|saksfremlegg|drøftingssak|beslutningssak|vedtakssak)\s+til\s+(?:møte|behandling)\b/iu;
const TREATMENT_LINE = /\b(?:behandling|handsaming)\s+av\s+sak\s+\d{1,5}\s*\/\s*\d{2,4}\s+i\s+møte/iu;

/** Is this a document the protocol parser should read? */
export function isProtocolCandidate(kind: string, pages: PageText[]): boolean {
  if (PROTOCOL_KINDS.has(kind)) return true;
  const head = pages
    .slice(0, 1)
    .map((p) => p.text)
    .join('\n')
    .slice(0, 3000);
  return CASE_PAPER.test(head) || TREATMENT_LINE.test(head);
}

const ELECTION =
  /\b(?:valgprotokoll|valprotokoll)\s+for\s+(valgstyret|valstyret|stemmestyret|fylkesvalgstyret|fylkesvalstyret|opptellingsvalgstyret|valgstyre|valstyre)\b/iu;
const MEETING_PHRASES: RegExp[] = [
  // "Saksprotokoll i Bydelsutvalget 06.03.2025"
  /^(?:saksprotokoll|møteprotokoll|protokoll|møtebok)\s+(?:i|fra|frå|for)\s+(?<body>.+?)\s+(?:den\s+)?(?<date>\d{1,2}\.\d{1,2}\.\d{4})\b/iu,
  // "Orienteringssak til møte i FMK NIKT tirsdag 10. oktober 2017."
  /\b(?:sak|saksframlegg|saksfremlegg|orienteringssak|framlegg|fremlegg)\s+til\s+møte\s+i\s+(?<body>.+?)\s+(?:(?:mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag|måndag|tysdag|laurdag|sundag)\s+)?(?:den\s+)?(?<date>\d{1,2}\.\s*(?:\p{L}+\s+\d{4}|\d{1,2}\.\d{4}))/iu,
];

export function parseProtocol(rawPages: PageText[], opts: ParseOptions = {}): ParsedProtocol {
  const pages = cleanPages(rawPages);
  const lines = toLines(pages);
  const head = pages
    .slice(0, 2)
    .map((p) => p.text)
    .join('\n')
    .slice(0, 6000);

  const election = ELECTION.exec(head);
  if (election) return electionProtocol(pages, lines, election[1]);

  const { starts, saksliste } = findItems(lines);
  const saksgang = findSaksgang(lines);
  if (saksgang.length > 0 && starts.length === 0) return saksgangProtocol(pages, lines, saksgang);

  const meetingLike = opts.kind === 'møteprotokoll' || opts.kind === 'saksliste';
  if (starts.length === 0) {
    const single = singleCase(pages, lines, opts, head);
    if (single) return single;
    const header = parseHeader(lines, 0, Math.min(lines.length, 80), meetingLike ? head : '');
    // A saksliste (or a notice of meeting) lists items and treats none: the list is the agenda.
    const meeting = meetingOf(
      header,
      saksliste.map((s) => listedItem(s, lines)),
      saksliste,
    );
    const unparsed =
      saksliste.length > 0 ? [] : [whole(lines, 'no agenda item headings found: the text is searchable, but items, votes and decisions were not read')];
    return {
      structure: { meetings: [meeting], unparsed },
      pages,
      lines,
      regions: [{ from: 0, to: lines.length, meeting: 0, item: null, decision: false }],
    };
  }

  const headerEnd = starts[0].line;
  const header = parseHeader(lines, 0, headerEnd, meetingLike ? head : '');
  applyMeetingPhrases(header, lines, 0, headerEnd);
  if (!header.body && starts[0].body) header.body = bodyFromGenitive(starts[0].body);
  if (!header.date && starts[0].date) header.date = isoDate(starts[0].date);
  const headerArchive = findArchive(lines, 0, headerEnd);

  const items: AgendaItem[] = [];
  const regions: Region[] = [];
  const unparsed: UnparsedSpan[] = [];
  if (headerEnd > 0) regions.push({ from: 0, to: headerEnd, meeting: 0, item: null, decision: false });
  starts.forEach((s, k) => {
    const end = k + 1 < starts.length ? starts[k + 1].line : lines.length;
    const built = buildItem(lines, s, end, '');
    if (!built.item.archiveCaseId && starts.length === 1 && headerArchive) {
      built.item.archiveCaseId = headerArchive;
      built.item.archiveCaseIdNormalized = normalizeArchiveId(headerArchive);
    }
    items.push(built.item);
    // Closing lines after the item ("Møtet ble hevet", signatures) belong to the meeting.
    const itemEnd = Math.max(built.contentEnd, built.decision ? built.decision[1] : s.after);
    regions.push(...splitRegion(s.line, itemEnd, 0, k, built.decision));
    if (itemEnd < end) regions.push({ from: itemEnd, to: end, meeting: 0, item: null, decision: false });
    if (built.unparsed) unparsed.push(built.unparsed);
  });
  return { structure: { meetings: [meetingOf(header, items, saksliste)], unparsed }, pages, lines, regions };
}

function meetingOf(h: Header, items: AgendaItem[], saksliste: ReturnType<typeof findItems>['saksliste']): Meeting {
  const m: Meeting = {
    body: h.body,
    date: h.date,
    startTime: h.startTime,
    endTime: h.endTime,
    place: h.place,
    attendees: h.attendees,
    absent: h.absent,
    agendaItems: items,
  };
  if (saksliste.length > 0) m.saksliste = saksliste.map(({ line: _line, ...rest }) => rest);
  return m;
}

function applyMeetingPhrases(h: Header, lines: Line[], from: number, to: number): void {
  for (let i = from; i < Math.min(to, from + 60); i++) {
    for (const re of MEETING_PHRASES) {
      const m = re.exec(lines[i].t);
      if (!m?.groups) continue;
      if (!h.body) h.body = collapse(m.groups.body);
      if (!h.date) h.date = isoDate(m.groups.date);
    }
  }
}

function findArchive(lines: Line[], from: number, to: number): string | null {
  for (let i = from; i < to; i++) {
    const m = ARCHIVE_ID.exec(lines[i].t);
    if (m) return collapse(m[1]).replace(/\s*\/\s*/, '/');
  }
  return null;
}

function whole(lines: Line[], reason: string): UnparsedSpan {
  return { ...spanOf(lines, 0, lines.length), reason };
}

function listedItem(s: ReturnType<typeof findItems>['saksliste'][number], lines: Line[]): AgendaItem {
  const prefix = /^([A-Za-zÆØÅæøå.]+)\s/.exec(s.caseId)?.[1] ?? null;
  return {
    caseId: s.caseId,
    caseIdNormalized: s.caseIdNormalized,
    archiveCaseId: null,
    archiveCaseIdNormalized: null,
    title: s.title,
    type: itemType(prefix, s.title),
    treatment: null,
    proposals: [],
    votes: null,
    conflictsOfInterest: [],
    decision: null,
    outcome: null,
    pages: s.page === null ? [] : [s.page],
    spans: { item: spanOf(lines, s.line, s.line + 1) },
  };
}

/** Item [from, to) with its decision lines cut out as a region of their own. */
function splitRegion(from: number, to: number, meeting: number, item: number, decision: [number, number] | null): Region[] {
  if (!decision) return [{ from, to, meeting, item, decision: false }];
  const out: Region[] = [];
  if (decision[0] > from) out.push({ from, to: decision[0], meeting, item, decision: false });
  out.push({ from: decision[0], to: decision[1], meeting, item, decision: true });
  if (to > decision[1]) out.push({ from: decision[1], to, meeting, item, decision: false });
  return out;
}

// ---------------------------------------------------------------------------------------------
// One item

interface Built {
  item: AgendaItem;
  /** Lines of the decision: its heading (if any) to its end. */
  decision: [number, number] | null;
  unparsed: UnparsedSpan | null;
  /** Where the item's own text ends (a closing line or signature), <= its end. */
  contentEnd: number;
}

/** "Helse- og sosialkomiteens innstilling" -> "Helse- og sosialkomiteen"; "Innstilling" -> null. */
function byFromHeading(title: string, label: string | null): string | null {
  if (label) return label;
  const m = /^(.+?)(s)\s+(?:innstilling|tilråding|forslag til vedtak|framlegg til vedtak|forslag til innstilling)$/iu.exec(collapse(title));
  if (m) return m[1];
  const r = /^(rådmannen|kommunedirektøren|bydelsdirektøren|administrasjonen)\b/iu.exec(title);
  return r ? r[1].charAt(0).toUpperCase() + r[1].slice(1) : null;
}

function sectionText(lines: Line[], s: Section, to = s.to): string {
  if (s.col > 0) {
    const first = lines[s.from].raw.slice(s.col);
    const rest = textOf(lines, s.from + 1, to);
    return rest ? `${first.trim()}\n${rest}` : first.trim();
  }
  return textOf(lines, s.from, to);
}

/** "Forslag fra SV, Ap, R og MDG v/Ahmed Yusuf (SV):" -> by, party, onBehalfOf. */
function proposalHead(head: string): Pick<Proposal, 'by' | 'party' | 'onBehalfOf'> {
  const m = PROPOSAL_START.exec(head);
  const g = m?.groups ?? {};
  const person = (s: string) => {
    const pm = /^(.+?)\s*\(([^)]+)\)\s*$/u.exec(s.trim());
    return pm ? { by: pm[1].trim(), party: pm[2].trim() } : { by: s.trim() || null, party: null };
  };
  if (g.from) {
    const v = /^(.+?)\s+v\/\s*(.+)$/u.exec(g.from);
    if (v) return { ...person(v[2]), onBehalfOf: v[1].trim() };
    // "Forslag fra H" (a party) or "Forslag fra Rolf Haugen" (a person)
    if (/^[\p{Lu}]{1,4}(?:[\p{Ll}]{0,2})?(?:(?:,|\s+og)\s+[\p{Lu}][\p{L}]{0,3})*$/u.test(g.from.trim()))
      return { by: null, party: null, onBehalfOf: g.from.trim() };
    return { ...person(g.from), onBehalfOf: null };
  }
  if (g.by2) return { ...person(g.by2), onBehalfOf: g.behalf2?.trim() ?? null };
  return { by: null, party: null, onBehalfOf: null };
}

const INHABIL = /\binhabil\b/iu;
const NOT_INHABIL = /\b(?:ikke|ikkje)\s+(?:\S+\s+)?inhabil\b|\bhabil\b(?!\w)/iu;

/** Paragraphs of lines [from, to): cut at blank lines, headings and labelled lines ("Arkivsak: ..."). */
function paragraphs(lines: Line[], from: number, to: number): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  const flush = () => {
    if (cur.length) out.push(cur.join(' '));
    cur = [];
  };
  for (let i = from; i < to; i++) {
    const t = lines[i].t;
    if (!t || headingKind(t) || /^[\p{L}][\p{L} .]{1,30}:/u.test(t)) {
      flush();
      continue;
    }
    cur.push(t);
  }
  flush();
  return out;
}

function conflicts(paras: string[]): ConflictOfInterest[] {
  const out: ConflictOfInterest[] = [];
  const sentences = paras.flatMap((p) => p.split(/(?<=[.!?])\s+(?=\p{Lu})/u));
  for (const s of sentences) {
    if (!INHABIL.test(s) || NOT_INHABIL.test(s.replace(/\binhabil\b/giu, ''))) continue;
    if (/\bikke\s+inhabil|\bikkje\s+inhabil/iu.test(s)) continue;
    const m = /^((?:\p{Lu}[\p{L}'’-]*\.?\s+){0,4}\p{Lu}[\p{L}'’-]+)\s*(?:\(([^)]+)\))?/u.exec(s);
    if (!m) continue;
    const name = m[1].trim();
    if (out.some((c) => c.name === name)) continue;
    out.push({ name, party: m[2]?.trim() ?? null, text: s });
  }
  return out;
}

/** An item [start, end): its sections, except those a saksgang line gives to another case. */
function buildItem(lines: Line[], start: ItemStart, end: number, hint: string): Built {
  const layout = layoutItem(lines, start.after, end);
  return assemble(
    lines,
    start,
    end,
    layout,
    layout.sections.filter((s) => !s.owner),
    hint,
  );
}

function assemble(lines: Line[], start: ItemStart, end: number, layout: ItemLayout, own: Section[], hint: string, proposalsToo = true): Built {
  const firstWork = own.find((s) => s.kind === 'treatment' || s.kind === 'votes');
  const firstVote = layout.voteRuns[0]?.[0] ?? Infinity;
  let decisionSec = [...own].reverse().find((s) => s.kind === 'decision') ?? null;
  if (!decisionSec) {
    const after = Math.min(firstWork?.line ?? Infinity, firstVote);
    decisionSec = [...own].reverse().find((s) => s.kind === 'innstilling' && s.line > after) ?? null;
  }
  // An owned section (møtebok saksgang) is the decision of its case even with no treatment.
  if (!decisionSec) decisionSec = own.find((s) => s.owner && (s.kind === 'decision' || s.kind === 'innstilling')) ?? null;

  const decisionText = decisionSec ? sectionText(lines, decisionSec) : null;
  const decisionRange: [number, number] | null = decisionSec
    ? [decisionSec.owner || decisionSec.label ? prevLine(lines, decisionSec.line) : decisionSec.line, decisionSec.to]
    : null;
  const inDecision = (i: number) => decisionSec !== null && i >= decisionSec.from && i < decisionSec.to;

  // Proposals: the innstilling the item came with, then those made in the meeting.
  const proposals: Proposal[] = [];
  let innSpan: PageSpan | undefined;
  if (proposalsToo) {
    for (const s of own) {
      if (s.kind !== 'innstilling' || s === decisionSec) continue;
      const to = cutAtVotesAndProposals(layout, s.from, s.to, lines);
      const text = sectionText(lines, s, to);
      if (!text) continue;
      proposals.push({ by: byFromHeading(s.title, s.label), party: null, text, kind: 'innstilling' });
      innSpan ??= spanOf(lines, s.from, to);
    }
    for (const p of layout.proposals) {
      if (inDecision(p.line)) continue;
      let text = textOf(lines, p.from, p.to);
      const head = proposalHead(p.head);
      const behalf = /^På vegne av\s+(.+?),?\s*\n/iu.exec(text + '\n');
      if (behalf && !head.onBehalfOf) {
        head.onBehalfOf = behalf[1].replace(/,\s*$/, '').trim();
        text = text.slice(behalf[0].length).trim();
      }
      if (text) proposals.push({ ...head, text, kind: 'forslag' });
    }
  }

  // Treatment: from the Behandling heading to the votes or decision heading after it.
  const treatSec = own.find((s) => s.kind === 'treatment');
  let treatment: string | null = null;
  let treatSpan: PageSpan | undefined;
  if (treatSec) {
    const stop = own.find((s) => s.line > treatSec.line && (s.kind === 'votes' || s.kind === 'decision' || s === decisionSec));
    const to = stop ? (decisionRange && stop === decisionSec ? decisionRange[0] : stop.line) : layout.contentEnd;
    treatment = sectionText(lines, treatSec, to) || null;
    if (treatment) treatSpan = spanOf(lines, treatSec.from, to);
  }

  // Votes: the vote runs outside the decision; else vote sentences inside the decision (møtebok).
  const runs = layout.voteRuns.filter(([a]) => !inDecision(a));
  let votes = null;
  let votesSpan: PageSpan | undefined;
  if (runs.length > 0) {
    const text = runs.map(([a, b]) => textOf(lines, a, b)).join('\n');
    votes = summarize(parseBallots(text), text);
    votesSpan = {
      pageStart: spanOf(lines, runs[0][0], runs[0][1]).pageStart,
      pageEnd: spanOf(lines, runs[runs.length - 1][0], runs[runs.length - 1][1]).pageEnd,
    };
  }
  if (!votes && decisionText) {
    const ballots = collapse(decisionText)
      .split(/(?<=[.!?])\s+(?=\p{Lu})/u)
      .map(sentenceBallot)
      .filter((b): b is NonNullable<typeof b> => b !== null);
    if (ballots.length > 0) {
      votes = summarize(ballots, ballots.map((b) => b.text).join('\n'));
      votesSpan = spanOf(lines, decisionSec!.from, decisionSec!.to);
    }
  }

  const itemEnd = Math.max(layout.contentEnd, decisionRange?.[1] ?? 0, start.after);
  const archive = findArchive(lines, start.after, Math.min(end, start.after + 8));
  const item: AgendaItem = {
    caseId: start.caseId,
    caseIdNormalized: start.caseIdNormalized,
    archiveCaseId: archive,
    archiveCaseIdNormalized: normalizeArchiveId(archive),
    title: start.title,
    type: itemType(start.prefix, start.title, hint),
    treatment,
    proposals,
    votes,
    conflictsOfInterest: conflicts(paragraphs(lines, start.after, decisionRange ? decisionRange[0] : layout.contentEnd)),
    decision: decisionText || null,
    outcome: itemOutcome(decisionText || null, votes),
    pages: pagesOf(lines, start.line, itemEnd),
    spans: { item: spanOf(lines, start.line, itemEnd) },
  };
  if (innSpan) item.spans.innstilling = innSpan;
  if (treatSpan) item.spans.treatment = treatSpan;
  if (votesSpan) item.spans.votes = votesSpan;
  if (decisionSec && decisionText) item.spans.decision = spanOf(lines, decisionSec.from, decisionSec.to);

  const unparsed =
    decisionSec && !decisionText
      ? { ...spanOf(lines, decisionSec.line, decisionSec.to), reason: `${start.caseId ?? 'item'}: a decision heading with no text under it` }
      : null;
  return { item, decision: decisionRange && decisionText ? decisionRange : null, unparsed, contentEnd: layout.contentEnd };
}

function prevLine(lines: Line[], i: number): number {
  let j = i - 1;
  while (j >= 0 && !lines[j].t) j--;
  return j >= 0 ? j : i;
}

// ---------------------------------------------------------------------------------------------
// Documents of one case: møtebok with saksgang, saksframlegg, orienteringssak

interface SaksgangRow {
  body: string;
  date: string | null;
  caseId: string;
  line: number;
}

const SAKSGANG_ROW = /^(?<body>\p{Lu}.+?)\s+(?<date>\d{1,2}\.\d{1,2}\.\d{4})\s+(?<id>\d{1,5}\/\d{2,4})(?:\s+\S{1,8})?$/u;

function findSaksgang(lines: Line[]): SaksgangRow[] {
  const at = lines.findIndex((l, i) => i < 60 && /^saksgang\b/i.test(l.t));
  if (at < 0) return [];
  const rows: SaksgangRow[] = [];
  for (let i = at + 1; i < Math.min(lines.length, at + 20); i++) {
    const t = lines[i].t;
    if (!t) {
      if (rows.length) break;
      continue;
    }
    const m = SAKSGANG_ROW.exec(t);
    if (m?.groups) rows.push({ body: m.groups.body, date: isoDate(m.groups.date), caseId: m.groups.id, line: i });
    else if (rows.length) break;
  }
  return rows;
}

const TITLE_STOP = /^(?:vedlegg|saksomtale|saksopplysningar|saksopplysninger|sammendrag|samandrag|bakgrunn|hva saken omhandler|saksframstilling)\b/i;

/** The case title of a one-case paper: the first title-like line that is not a label or a table row. */
function caseTitle(lines: Line[], from: number, skip: Set<number>): string | null {
  for (let i = from; i < Math.min(lines.length, from + 60); i++) {
    const t = lines[i].t;
    if (!t || skip.has(i)) continue;
    if (TITLE_STOP.test(t)) break;
    if (/^[\p{L} ./-]{2,40}:/u.test(t) || /:$/.test(t)) continue;
    if (/^(?:oslo kommune|bydel |side \d|saksgang|møtebok|saksframlegg|saksprotokoll|\p{L}+\s?kommune\s+møtebok)/iu.test(t)) continue;
    if (t.split(' ').length < 4 || !/\p{Ll}{3}/u.test(t) || (/[.!?]$/.test(t) && t.split(' ').length > 14)) continue;
    let title = t;
    let j = i + 1;
    while (j < lines.length && lines[j].t && /^\p{Ll}/u.test(lines[j].t) && lines[j].t.length < 80 && t.length > 35) title += ' ' + lines[j++].t;
    return title;
  }
  return null;
}

function singleCase(pages: PageText[], lines: Line[], opts: ParseOptions, head: string): ParsedProtocol | null {
  const paper = CASE_PAPER.exec(head);
  const kindSingle = opts.kind === 'møtebok' || opts.kind === 'saksprotokoll' || opts.kind === 'saksframlegg';
  if (!paper && !kindSingle) return null;
  const header = parseHeader(lines, 0, Math.min(lines.length, 40), '');
  applyMeetingPhrases(header, lines, 0, Math.min(lines.length, 40));
  const title = caseTitle(lines, 0, new Set());
  const start: ItemStart = { line: 0, after: 0, caseId: null, caseIdNormalized: null, prefix: null, title };
  const built = buildItem(lines, start, lines.length, paper ? paper[0] : '');
  const meeting = meetingOf(header, [built.item], []);
  return {
    structure: { meetings: [meeting], unparsed: built.unparsed ? [built.unparsed] : [] },
    pages,
    lines,
    regions: splitRegion(0, lines.length, 0, 0, built.decision),
  };
}

/** A møtebok with a SAKSGANG table: one meeting per row, each decision under its "PTN-139/12" line. */
function saksgangProtocol(pages: PageText[], lines: Line[], rows: SaksgangRow[]): ParsedProtocol {
  const skip = new Set<number>(rows.map((r) => r.line));
  const sgLine = lines.findIndex((l) => /^saksgang\b/i.test(l.t));
  for (let i = sgLine; i <= rows[rows.length - 1].line; i++) skip.add(i);
  const title = caseTitle(lines, 0, skip);
  const layout = layoutItem(lines, 0, lines.length);
  const archive = findArchive(lines, 0, Math.min(lines.length, 40));
  const meetings: Meeting[] = [];
  const decisions: { meeting: number; range: [number, number] }[] = [];
  rows.forEach((row, k) => {
    const norm = normalizeCaseId(row.caseId);
    const owned = (s: Section) => {
      if (!s.owner) return false;
      const m = OWNER_LINE.exec(s.owner);
      return !!m?.groups && normalizeCaseId(m.groups.id) === norm;
    };
    // Sections under a "PTN-139/12" line are that case's; an unmarked decision is the last
    // body's (unless it has a marked one); the rest (rådmannens tilråding ...) is the first body's.
    const last = k === rows.length - 1;
    const lastHasOwn = layout.sections.some((s) => s.kind === 'decision' && owned(s));
    const own = layout.sections.filter((s) => owned(s) || (!s.owner && (s.kind === 'decision' ? last && !lastHasOwn : k === 0)));
    const start: ItemStart = { line: 0, after: 0, caseId: row.caseId, caseIdNormalized: norm, prefix: null, title };
    const built = assemble(lines, start, lines.length, layout, own, '', k === 0);
    built.item.archiveCaseId = archive;
    built.item.archiveCaseIdNormalized = normalizeArchiveId(archive);
    // Proposals made in the meeting are the first body's; the later body voted on its tilråding.
    if (k > 0) built.item.proposals = [];
    meetings.push({ body: row.body, date: row.date, startTime: null, endTime: null, place: null, attendees: [], absent: [], agendaItems: [built.item] });
    if (built.decision) decisions.push({ meeting: k, range: built.decision });
  });
  // Regions: the shared text goes with the first meeting's item, each decision with its own.
  decisions.sort((a, b) => a.range[0] - b.range[0]);
  const regions: Region[] = [];
  const shared = [rows.map((r) => r.caseId).join(', '), title].filter(Boolean).join(' ');
  let at = 0;
  for (const d of decisions) {
    if (d.range[0] > at) regions.push({ from: at, to: d.range[0], meeting: 0, item: 0, decision: false, heading: shared });
    regions.push({ from: d.range[0], to: d.range[1], meeting: d.meeting, item: 0, decision: true });
    at = d.range[1];
  }
  if (at < lines.length) regions.push({ from: at, to: lines.length, meeting: 0, item: 0, decision: false, heading: shared });
  return { structure: { meetings, unparsed: [] }, pages, lines, regions };
}

// ---------------------------------------------------------------------------------------------
// Election board protocols (valgprotokoll): members, and the tables left unparsed

const MEMBER_ROW = /^(?<name>\p{Lu}[\p{L}\-' ]+?)\s+(?<role>Leder|Nestleder|Medlem|Varamedlem|Leiar|Nestleiar|Sekretær)\b/u;

function electionProtocol(pages: PageText[], lines: Line[], board: string): ParsedProtocol {
  const attendees: Meeting['attendees'] = [];
  let date: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    if (!date && /^A1\s/.test(lines[i].t)) date = isoDate(lines[i].t);
    if (!/^(?:navn|namn)\s+funksjon\b/i.test(lines[i].t)) continue;
    for (let j = i + 1; j < lines.length; j++) {
      const m = MEMBER_ROW.exec(lines[j].t);
      if (!m?.groups) break;
      attendees.push({ name: m.groups.name.trim(), role: m.groups.role.toLowerCase(), party: null, substituteFor: null });
    }
    break;
  }
  const body = board.charAt(0).toUpperCase() + board.slice(1).toLowerCase();
  return {
    structure: {
      meetings: [{ body, date, startTime: null, endTime: null, place: null, attendees, absent: [], agendaItems: [] }],
      unparsed: [
        whole(
          lines,
          'valgprotokoll: an election board form whose sections (A–E) are tables of counts, not agenda items; the text is searchable as plain chunks',
        ),
      ],
    },
    pages,
    lines,
    regions: [{ from: 0, to: lines.length, meeting: 0, item: null, decision: false }],
  };
}
