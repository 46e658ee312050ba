/**
 * The chunker: from a document's pages (silver) to the pieces that are indexed and embedded
 * (gold).
 *
 * Glossary (Norwegian domain words kept as they are):
 * - sak / saksnummer: an agenda item and its number, "Sak 45/24", "PS 6/26" (politisk sak),
 *   "RS 4/26" (referatsak), "FO 2/26" (forespørsel), "Saksnr. 139/12".
 * - saksliste: the list of agenda items at the top of a protocol (a table, not headings).
 * - behandling, votering/avstemning, innstilling, vedtak: the discussion of an item, the vote,
 *   the recommendation voted on, and the decision. These are the smaller headings inside an item.
 *
 * How it works:
 * 1. Every page is cut into lines; each line is classed as a heading or as text. A heading is
 *    `major` (an agenda item, a top-level numbered section, `#`/`##`, "Kapittel N") or `minor`
 *    (Vedtak, Innstilling, "1.2 Metode", ALL CAPS, a short title-like line followed by text).
 * 2. Lines become pieces: a heading line is a piece of its own, other lines are grouped into
 *    paragraphs (ended by a blank line, a heading or the end of the page). A paragraph longer
 *    than `maxWords` is cut at sentence ends (at word boundaries if it has none).
 * 3. Pieces are packed into chunks: a major heading always starts a new chunk, a minor one does
 *    when the current chunk already has `minWords`; paragraphs are added up to ~`targetWords`
 *    and never beyond `maxWords`. A small tail is merged back into the chunk before it.
 *
 * Invariants (tested in tests/chunk.test.ts):
 * - No text is lost: the chunk texts, concatenated, contain every non-whitespace character of
 *   the input in order. Only the whitespace between pieces is normalised ("\n\n", "\n" or " ").
 * - One agenda item never shares a chunk with the next item's heading.
 * - `pageBreaks[i].offset` is where page `pageBreaks[i].page`'s text starts in `text`.
 * - Deterministic: same pages and options, same chunks.
 */
import type { PageText } from '../indexes/types.ts';

export interface ChunkOptions {
  /** Pack paragraphs up to about this many words. */
  targetWords?: number;
  /** Never more than this, unless one sentence alone is longer (then cut at words). */
  maxWords?: number;
  /** A chunk smaller than this keeps absorbing paragraphs (up to maxWords) and minor headings. */
  minWords?: number;
}

export interface DraftChunk {
  ord: number;
  /** The headings in force at the chunk's start: "agenda item › sub-heading", or one of them. */
  heading: string | null;
  text: string;
  pageStart: number | null;
  pageEnd: number | null;
  pageBreaks: { offset: number; page: number }[];
}

// Defaults: ~400 words is about 550-650 tokens of Norwegian for an embedding model with a
// 512-8192 token window, and a size at which a snippet still points at one place in a protocol.
const DEFAULTS: Required<ChunkOptions> = { targetWords: 400, maxWords: 500, minWords: 300 };

/** The separator between the path of headings in `DraftChunk.heading`. */
export const HEADING_SEPARATOR = ' › ';

/** The text that is embedded and used for retrieval: title, heading and text on their own lines. */
export function embeddingText(title: string, chunk: { heading: string | null; text: string }): string {
  const parts: string[] = [];
  const t = title.trim();
  if (t) parts.push(t);
  const h = chunk.heading?.trim();
  if (h) parts.push(h);
  parts.push(chunk.text);
  return parts.join('\n');
}

export function countWords(text: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ws =
      c === 32 ||
      (c >= 9 && c <= 13) ||
      c === 160 ||
      c === 0x2028 ||
      c === 0x2029 ||
      c === 0x202f ||
      c === 0x3000 ||
      (c >= 0x2000 && c <= 0x200a) ||
      c === 0xfeff;
    if (ws) inWord = false;
    else if (!inWord) {
      inWord = true;
      n++;
    }
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Heading detection

type HeadingLevel = 'major' | 'minor';

// "Sak 45/24", "Sak nr. 45/2024", "Saksnr. 139/12", "PS 6/26", "RS 4/26", "FO 2/26".
const AGENDA = /^(?:Sak(?:snr\.?|snummer|\s+nr\.?)?|SAK(?:SNR\.?)?|Saksnr\.?|PS|RS|DS|FO|OS|MS|US|KS)\s*\d{1,5}\s*\/\s*(?:\d{4}|\d{2})(?![\d/])/u;
const CHAPTER = /^(?:Kapittel|KAPITTEL|Kap\.|Del|DEL)\s+(?:\d{1,2}|[IVX]{1,5})(?:[\s.:]|$)/u;
// "1 Innledning", "2. Metode", "1.2 Metode", "3.4.1 Funn": number, then a capitalised title.
const NUMBERED = /^(\d{1,2})((?:\.\d{1,2})*)\.?\s+["«(]?\p{Lu}/u;
const MARKDOWN = /^(#{1,6})\s+\S/;
const MINOR_KEYWORDS = new Set(
  [
    'vedtak',
    'innstilling',
    'behandling',
    'votering',
    'avstemning',
    'avstemming',
    'sammendrag',
    'oppsummering',
    'konklusjon',
    'konklusjoner',
    'innledning',
    'bakgrunn',
    'saksopplysninger',
    'sakens bakgrunn',
    'vurdering',
    'vurderinger',
    'kommunedirektørens vurdering',
    'rådmannens vurdering',
    'bydelsdirektørens vurdering',
    'metode',
    'funn',
    'hovedfunn',
    'anbefaling',
    'anbefalinger',
    'tilråding',
    'tilrådning',
    'merknader',
    'vedlegg',
    'saksliste',
    'orienteringer',
    'referatsaker',
    'protokoll',
    'møteprotokoll',
    'saksprotokoll',
    'møtebok',
    'til stede',
    'forfall',
    'protokolltilførsel',
    'protokollmerknad',
    'endelig vedtak',
    'utvalgets vedtak',
    'økonomiske konsekvenser',
    'saksframstilling',
    'saksutredning',
    'dokumenter i saken',
    'forslag i møtet',
    'forslag fremmet i møtet',
    'kilder',
    'litteratur',
    'referanser',
    'forord',
    'innhold',
    'innholdsfortegnelse',
  ].map((s) => s.normalize('NFC')),
);
// "Forslag til vedtak", "Kommunedirektørens innstilling", "Rådmannens forslag til vedtak".
const PROPOSAL = /^(?:\p{L}+(?:s|ets|ens)\s+)?(?:(?:forslag|framlegg)\s+til\s+(?:vedtak|innstilling)|innstilling)$/iu;

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function endsLikeSentence(s: string): boolean {
  return /[.,;:!?]["»”')\]]?$/.test(s);
}

type HeadingKind = 'markdown-major' | 'markdown-minor' | 'agenda' | 'chapter' | 'section' | 'subsection' | 'keyword' | 'caps';
const LEVEL: Record<HeadingKind, HeadingLevel> = {
  'markdown-major': 'major',
  'markdown-minor': 'minor',
  agenda: 'major',
  chapter: 'major',
  section: 'major',
  subsection: 'minor',
  keyword: 'minor',
  caps: 'minor',
};

/** Headings that need no context. `null` for anything else (including title-like lines). */
function strongKind(raw: string): HeadingKind | null {
  const t = collapse(raw);
  if (!t || t.length > 200) return null;
  const words = t.split(' ').length;

  const md = MARKDOWN.exec(t);
  if (md) return md[1].length <= 2 ? 'markdown-major' : 'markdown-minor';

  if (AGENDA.test(t)) {
    // "Sak 45/24 ble utsatt til neste møte, fordi ..." is a sentence, not a heading.
    if (words > 20 || (words > 12 && /[.!?]$/.test(t))) return null;
    return 'agenda';
  }
  if (CHAPTER.test(t) && words <= 14 && !/[.,;]$/.test(t)) return 'chapter';

  const num = NUMBERED.exec(t);
  if (num) {
    if (words > 12 || endsLikeSentence(t) || num[1] === '0' || !titleWords(t.slice(num[0].length - 1), true)) return null;
    return num[2] ? 'subsection' : 'section';
  }

  const key = t.replace(/\s*:$/, '');
  if (/^\p{Lu}/u.test(key) && (MINOR_KEYWORDS.has(key.toLowerCase()) || PROPOSAL.test(key))) return 'keyword';

  // ALL CAPS, short: "VEDTAK", "INNSTILLING", "BAKGRUNN FOR SAKEN". Not tables (column gaps).
  if (words <= 8 && /^\p{Lu}/u.test(t) && !/\s{3,}/.test(raw.trim()) && !/[.,;]$/.test(t) && titleWords(t)) {
    const letters = t.replace(/[^\p{L}]/gu, '');
    if (letters.length >= 4 && letters === letters.toUpperCase() && letters !== letters.toLowerCase()) return 'caps';
  }
  return null;
}

function strongLevel(raw: string): HeadingLevel | null {
  const k = strongKind(raw);
  return k ? LEVEL[k] : null;
}

/**
 * Words, not figures: not a table row ("1 Kjell Hansen ** 2 524,00 965,00") nor a line of a
 * table of contents ("1 Innledning ........ 3"). A year at the end is fine ("Budsjett 2025"), and
 * so is a number after a title ("Vedlegg 2"), except after a section number ("1.2 Metode 7").
 */
function titleWords(t: string, numbered = false): boolean {
  if (/[=*|<>]|\.{3,}|…/.test(t)) return false;
  const tokens = t.split(' ').filter(Boolean);
  const numeric = tokens.filter((w) => /\d/.test(w));
  if (numeric.length > 1) return false;
  const last = tokens[tokens.length - 1] ?? '';
  if (numbered && tokens.length > 1 && /^\d{1,3}$/.test(last)) return false; // "1.2 Metode 7": a page number
  const chars = t.replace(/\s/g, '');
  return (chars.match(/\p{L}/gu)?.length ?? 0) >= chars.length * 0.6;
}

/** A title-like line: short, capitalised, no final punctuation, not a table row or a list item. */
function isTitleLike(raw: string): boolean {
  const trimmed = raw.trim();
  if (!trimmed || /\s{3,}|\t/.test(trimmed)) return false;
  const t = collapse(trimmed);
  if (t.length > 90 || endsLikeSentence(t)) return false;
  if (!/^["«(]?\p{Lu}/u.test(t)) return false;
  if (t.includes(': ')) return false; // "Som nytt medlem velges: Julianne Hjelmstad"
  const words = t.split(' ').length;
  if (words > 11) return false;
  return (t.match(/\p{L}/gu)?.length ?? 0) >= 3 && titleWords(t);
}

/**
 * Is this line a heading? Agenda items, numbered sections, markdown, the usual protocol and
 * report headings and short ALL-CAPS lines are recognised on their own. A short title-like
 * line ("Budsjett 2025") counts only when `next` (the following non-blank line) is given and is
 * text rather than another heading, because on its own it cannot be told from a short line of
 * text.
 */
export function detectHeading(line: string, next?: string): boolean {
  if (strongLevel(line)) return true;
  if (next === undefined || !next.trim()) return false;
  return isTitleLike(line) && strongLevel(next) === null && !/^[\p{Ll}(,]/u.test(next.trim());
}

// ---------------------------------------------------------------------------------------------
// Lines and pieces

interface Line {
  page: number; // index into pages
  start: number; // offsets into the normalised page text, trimmed to non-whitespace
  end: number;
  raw: string; // the line as it stands (untrimmed)
  blank: boolean;
}

interface Piece {
  page: number;
  start: number;
  end: number;
  words: number;
  level: HeadingLevel | null; // null: body text
  title: string; // heading text (collapsed); '' for body text
}

function splitLines(text: string, page: number): Line[] {
  const lines: Line[] = [];
  let pos = 0;
  while (pos <= text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const raw = text.slice(pos, nl);
    const lead = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    lines.push({ page, start: pos + lead, end: pos + lead + trimmed.length, raw, blank: trimmed.length === 0 });
    pos = nl + 1;
  }
  return lines;
}

/** Running headers and footers ("Side 3 av 12", "Levanger kommune") are never headings. */
function runningLines(pagesLines: Line[][]): Set<string> {
  const counts = new Map<string, number>();
  let nonEmpty = 0;
  for (const lines of pagesLines) {
    const content = lines.filter((l) => !l.blank);
    if (content.length === 0) continue;
    nonEmpty++;
    const edge = new Set<string>();
    for (const l of [...content.slice(0, 2), ...content.slice(-2)]) edge.add(runningKey(l.raw));
    for (const k of edge) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const out = new Set<string>();
  if (nonEmpty < 3) return out;
  for (const [k, n] of counts) if (n >= 3 && n >= nonEmpty * 0.4) out.add(k);
  return out;
}

function runningKey(raw: string): string {
  return collapse(raw).toLowerCase().replace(/\d+/g, '#');
}

interface LineClass {
  level: HeadingLevel | null;
  /** This line continues the heading on the line before ("PS 14/26 ... En bærekraftig / kommunesektor"). */
  continuation: boolean;
}

/** Heading levels for every line, using the lines around it. */
function classifyLines(lines: Line[], running: Set<string>): LineClass[] {
  const kinds = lines.map((l) => (l.blank ? null : strongKind(l.raw)));
  const out: LineClass[] = lines.map(() => ({ level: null, continuation: false }));
  const nextContent = (i: number): number => {
    for (let j = i + 1; j < lines.length; j++) if (!lines[j].blank) return j;
    return -1;
  };
  const prevContent = (i: number): number => {
    for (let j = i - 1; j >= 0; j--) if (!lines[j].blank) return j;
    return -1;
  };
  // A wrapped line continues in lower case on the very next line.
  const continued = (i: number): boolean => {
    const n = lines[i + 1];
    return !!n && !n.blank && n.page === lines[i].page && /^[\p{Ll}(,]/u.test(n.raw.trim()) && kinds[i + 1] === null;
  };
  // The saksliste: agenda lines next to other agenda lines (skipping the indented continuation
  // lines of long titles) are a table, not headings. Looking ahead, blank lines are skipped too
  // (a saksliste with a blank line between entries); looking back they are not, or the first
  // real agenda item after the saksliste would count as one of its entries.
  const isAgenda = (i: number) => kinds[i] === 'agenda';
  const agendaNeighbour = (i: number, step: number): boolean => {
    for (let j = i + step, hops = 0; j >= 0 && j < lines.length && hops < 3; j += step) {
      if (lines[j].blank) {
        if (step < 0) return false;
        continue;
      }
      if (isAgenda(j)) return true;
      if (!/^\s{4,}/.test(lines[j].raw)) return false; // not a continuation line
      hops++;
    }
    return false;
  };
  const numberOf = (i: number): number | null => {
    const m = /^(\d{1,2})[.)]?\s/.exec(collapse(lines[i].raw) + ' ');
    return m ? parseInt(m[1], 10) : null;
  };

  let chapter = 0; // the last top-level section number seen
  let chapterStyle: 'dot' | 'plain' | null = null;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.blank || out[i].continuation) continue;
    if (running.has(runningKey(l.raw))) continue;
    const kind = kinds[i];
    let level: HeadingLevel | null = kind ? LEVEL[kind] : null;

    if (kind === 'agenda' && (agendaNeighbour(i, -1) || agendaNeighbour(i, 1))) level = null;
    if (kind === 'agenda' || kind === 'chapter') {
      // A long agenda title wraps: the lower-case line after it is part of the heading.
      if (level && continued(i) && countWords(lines[i + 1].raw) <= 12) out[i + 1].continuation = true;
    } else if (level && kind !== 'keyword' && kind !== 'markdown-major' && kind !== 'markdown-minor' && continued(i)) {
      level = null; // "7 Klikkfarmer, falske / følgere og ..." is a table cell, not a chapter
    }
    if (level && kind === 'section') {
      // "1. Budsjett" followed by "2. ..." is a numbered list, not a chapter; and chapters come
      // in order (1, 2, 3), so "5 Bjørn Johnsen" after chapter 1 is a row of a table. Numbering
      // does not restart, and keeps its style: after "1 Innledning", a "3. Hvilke ..." is an
      // item of a list quoted in the text.
      const n = numberOf(i)!;
      const nx = nextContent(i);
      const pv = prevContent(i);
      const style = /^\d{1,2}\./.test(collapse(l.raw)) ? 'dot' : 'plain';
      if ((nx >= 0 && numberOf(nx) === n + 1) || (pv >= 0 && numberOf(pv) === n - 1 && !kinds[pv])) level = null;
      else if (n !== chapter + 1 || (chapterStyle !== null && style !== chapterStyle)) level = null;
      else {
        chapter = n;
        chapterStyle = style;
      }
    }
    if (level === null && kind === null && isTitleLike(l.raw) && !continued(i)) {
      const pv = i > 0 ? i - 1 : -1;
      const startsBlock = pv < 0 || lines[pv].blank || lines[pv].page !== l.page || out[pv].level !== null || out[pv].continuation;
      const afterSentence = !startsBlock && /[.!?]["»”')]?$/.test(lines[pv].raw.trim()) && collapse(l.raw).split(' ').length <= 8;
      const nx = nextContent(i);
      const followedByText = nx >= 0 && kinds[nx] === null && !running.has(runningKey(lines[nx].raw));
      if ((startsBlock || afterSentence) && followedByText) level = 'minor';
    }
    out[i].level = level;
  }
  return out;
}

/** Cut [start, end) of `text` into ranges of at most ~target words, at sentence ends if possible. */
function splitLong(text: string, start: number, end: number, target: number, max: number): [number, number][] {
  const sentences: [number, number][] = [];
  const body = text.slice(start, end);
  // A sentence ends at . ! ? … (plus closing quotes) followed by space and a capital or digit,
  // unless the word is a known abbreviation or an initial ("Janne K. J. Larsen").
  const END = /[.!?…]["»”')\]]*(\s+)(?=["«“([]?[\p{Lu}\d])/gu;
  let from = 0;
  for (const m of body.matchAll(END)) {
    const punct = m.index!;
    const before = /(\S+)$/.exec(body.slice(Math.max(0, punct - 30), punct + 1))?.[1].toLowerCase() ?? '';
    if (ABBREVIATIONS.has(before) || /^\p{L}\.$/u.test(before)) continue;
    const cut = punct + m[0].length - m[1].length;
    sentences.push([from, cut]);
    from = punct + m[0].length;
  }
  sentences.push([from, body.length]);

  // Even parts rather than full parts and a scrap: 1,300 words become 4 x ~325, not 3 x 400 + 100.
  const total = countWords(body);
  target = Math.max(1, Math.ceil(total / Math.ceil(total / target)));

  // Sentences longer than max are cut at word boundaries.
  const units: [number, number, number][] = []; // start, end, words (relative to body)
  for (const [s, e] of sentences) {
    const w = countWords(body.slice(s, e));
    if (w <= max) {
      units.push([s, e, w]);
      continue;
    }
    const re = /\S+/g;
    re.lastIndex = s;
    let segStart = -1;
    let segEnd = s;
    let n = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(body)) && m.index < e) {
      if (segStart < 0) segStart = m.index;
      segEnd = m.index + m[0].length;
      if (++n === target) {
        units.push([segStart, segEnd, n]);
        segStart = -1;
        n = 0;
      }
    }
    if (n > 0) units.push([segStart, segEnd, n]);
  }

  // Pack sentences greedily up to target words.
  const out: [number, number][] = [];
  let curStart = -1;
  let curEnd = 0;
  let curWords = 0;
  for (const [s, e, w] of units) {
    if (curStart >= 0 && curWords + w > target) {
      out.push([start + curStart, start + curEnd]);
      curStart = -1;
      curWords = 0;
    }
    if (curStart < 0) curStart = s;
    curEnd = e;
    curWords += w;
  }
  if (curStart >= 0) out.push([start + curStart, start + curEnd]);
  return out;
}

const ABBREVIATIONS = new Set(
  'jf. jfr. nr. kr. ca. bl.a. f.eks. m.m. mm. dvs. osv. pkt. kap. st.meld. meld.st. prop. ref. evt. ev. mht. iht. vedr. adm. avd. tlm. mill. mrd. stk. tab. fig. s. o.l. ifm. p.t. pr. jan. feb. mar. apr. jun. jul. aug. sep. sept. okt. nov. des. dr. prof. sml. hhv. inkl. ekskl. el. resp. tilsv.'.split(
    ' ',
  ),
);

function buildPieces(texts: string[], o: Required<ChunkOptions>): Piece[] {
  const pagesLines = texts.map((t, p) => splitLines(t, p));
  const running = runningLines(pagesLines);
  const lines = pagesLines.flat();
  const classes = classifyLines(lines, running);
  const pieces: Piece[] = [];

  let para: { page: number; start: number; end: number } | null = null;
  const endPara = () => {
    if (!para) return;
    const { page, start, end } = para;
    para = null;
    const text = texts[page];
    const words = countWords(text.slice(start, end));
    if (words <= o.maxWords) {
      pieces.push({ page, start, end, words, level: null, title: '' });
      return;
    }
    for (const [s, e] of splitLong(text, start, end, o.targetWords, o.maxWords)) {
      pieces.push({ page, start: s, end: e, words: countWords(text.slice(s, e)), level: null, title: '' });
    }
  };

  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (para && (l.blank || l.page !== para.page)) endPara();
    if (l.blank) continue;
    const level = classes[i].level;
    if (level) {
      endPara();
      let end = l.end;
      while (i + 1 < lines.length && classes[i + 1].continuation) end = lines[++i].end;
      const raw = texts[l.page].slice(l.start, end);
      pieces.push({ page: l.page, start: l.start, end, words: countWords(raw), level, title: headingTitle(raw) });
      continue;
    }
    if (para) para.end = l.end;
    else para = { page: l.page, start: l.start, end: l.end };
  }
  endPara();
  return pieces;
}

function headingTitle(raw: string): string {
  return collapse(raw.replace(/^#{1,6}\s+/, '')).replace(/\s*:$/, '');
}

// ---------------------------------------------------------------------------------------------
// Packing

interface Draft {
  pieces: Piece[];
  words: number;
  heading: string | null;
  startsMajor: boolean;
}

/**
 * Cut pages into chunks. Page text continues across page breaks: a chunk may span pages, and
 * then records where each later page begins. Pages with `num === null` (non-paged input) give
 * null page numbers and no page breaks. Empty pages produce nothing.
 */
export function chunkPages(pages: PageText[], opts: ChunkOptions = {}): DraftChunk[] {
  const o: Required<ChunkOptions> = { ...DEFAULTS, ...stripUndefined(opts) };
  if (!(o.maxWords >= 1)) throw new Error(`chunkPages: maxWords must be at least 1 (got ${o.maxWords})`);
  o.targetWords = Math.max(1, Math.min(o.targetWords, o.maxWords));
  o.minWords = Math.max(0, Math.min(o.minWords, o.targetWords));

  const texts = pages.map((p) => (p.text ?? '').replace(/\r\n?/g, '\n'));
  const pieces = buildPieces(texts, o);

  const drafts: Draft[] = [];
  let major: string | null = null;
  let minor: string | null = null;
  const path = () => (major && minor ? major + HEADING_SEPARATOR + minor : (major ?? minor));
  let cur: Draft = { pieces: [], words: 0, heading: null, startsMajor: false };
  const hasBody = () => cur.pieces.some((p) => p.level === null);

  /**
   * Close the current chunk. With `carry`, headings at its end are taken out and returned:
   * they belong to the text that follows them.
   */
  const flush = (carry: boolean): Piece[] => {
    let k = cur.pieces.length;
    if (carry) while (k > 0 && cur.pieces[k - 1].level !== null) k--;
    if (k === 0) k = cur.pieces.length; // nothing but headings: they stay together
    const carried = cur.pieces.slice(k);
    if (k > 0) {
      cur.pieces.length = k;
      cur.words = cur.pieces.reduce((n, p) => n + p.words, 0);
      drafts.push(cur);
    }
    cur = { pieces: [], words: 0, heading: null, startsMajor: false };
    return carried;
  };
  const add = (p: Piece) => {
    if (cur.pieces.length === 0) cur.heading = path();
    cur.pieces.push(p);
    cur.words += p.words;
  };
  const fits = (w: number) => cur.words + w <= o.targetWords || (cur.words + w <= o.maxWords && cur.words < o.minWords);

  // A queue, because a paragraph may be cut again to fit after the headings that open a chunk.
  const queue = pieces;
  for (let qi = 0; qi < queue.length; qi++) {
    const p = queue[qi];
    if (p.level === 'major') {
      flush(false);
      major = p.title;
      minor = null;
      add(p);
      cur.startsMajor = true;
      continue;
    }
    if (p.level === 'minor') {
      // The chunk is full enough (or has no room): the sub-heading opens a new one. Headings
      // just before it (with no text between) move along with it.
      if (hasBody() && (cur.words >= o.minWords || !fits(p.words))) for (const c of flush(true)) add(c);
      minor = p.title;
      const opens = cur.pieces.length === 0;
      add(p);
      if (opens) cur.heading = path();
      continue;
    }
    if (hasBody() && !fits(p.words)) for (const c of flush(true)) add(c);
    const room = o.maxWords - cur.words;
    if (p.words > room) {
      // Only headings so far (or a remainder cut below) and the paragraph does not fit: cut it once more.
      const parts = splitLong(texts[p.page], p.start, p.end, Math.max(1, room), Math.max(1, room));
      const rest = parts.slice(1).length > 0 ? { ...p, start: parts[1][0], end: p.end } : null;
      add({ ...p, start: parts[0][0], end: parts[0][1], words: countWords(texts[p.page].slice(parts[0][0], parts[0][1])) });
      if (rest) {
        rest.words = countWords(texts[p.page].slice(rest.start, rest.end));
        queue.splice(qi + 1, 0, rest);
      }
      continue;
    }
    add(p);
  }
  flush(false);

  // A small tail of a section goes back into the chunk before it, if that stays within bounds.
  const merged: Draft[] = [];
  for (const d of drafts) {
    const prev = merged[merged.length - 1];
    if (prev && !d.startsMajor && d.words < o.minWords && prev.words + d.words <= o.maxWords) {
      prev.pieces.push(...d.pieces);
      prev.words += d.words;
    } else {
      merged.push(d);
    }
  }

  return merged.map((d, ord) => render(d, ord, pages, texts));
}

function render(d: Draft, ord: number, pages: PageText[], texts: string[]): DraftChunk {
  let text = '';
  const pageBreaks: { offset: number; page: number }[] = [];
  for (let i = 0; i < d.pieces.length; i++) {
    const p = d.pieces[i];
    if (i > 0) {
      const prev = d.pieces[i - 1];
      if (prev.page === p.page) {
        const gap = texts[p.page].slice(prev.end, p.start);
        const nl = gap.split('\n').length - 1;
        text += nl >= 2 ? '\n\n' : nl === 1 ? '\n' : gap.length > 0 ? ' ' : '';
      } else {
        text += '\n\n';
        const num = pages[p.page].num;
        if (num !== null && num !== undefined) pageBreaks.push({ offset: text.length, page: num });
      }
    }
    text += texts[p.page].slice(p.start, p.end);
  }
  const first = pages[d.pieces[0].page].num ?? null;
  const last = pages[d.pieces[d.pieces.length - 1].page].num ?? null;
  return {
    ord,
    heading: d.heading,
    text,
    pageStart: first,
    pageEnd: last,
    pageBreaks: first === null ? [] : pageBreaks,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
