/**
 * Sentences of protocol text and of model answers, with their offsets in the original text
 * (so a sentence can name its page through the chunk's page breaks).
 *
 * PDF text keeps the PDF's line wraps, so a single line break is usually not a boundary.
 * Hard boundaries: a blank line; a line break before a list item ("1. ", "- ", "a) ");
 * a line break after a short line without closing punctuation (a heading: "Vedtak",
 * "Votering", "Sak 41/24 Trafikksikkerhet …"). Inside a block a sentence ends at . ! or ?
 * followed by space and a capital letter, digit, quote or bracket, unless the word before the
 * full stop is a known abbreviation ("f.eks.", "kr.", "nr.") or an initial ("H. Strand").
 */

export interface SentenceSpan {
  /** The sentence with whitespace collapsed and a leading list marker removed. */
  text: string;
  /** Offsets of the sentence in the original text. */
  start: number;
  end: number;
  /** Ends with . ! ? (or a closing quote after one): a sentence, not a heading or list stub. */
  terminal: boolean;
  /** Starts a new block (blank line, list item or heading before it). */
  blockStart: boolean;
}

/** Lowercased abbreviations (without their final full stop) after which a sentence goes on. */
const ABBREVIATIONS = new Set(
  `f.eks bl.a dvs m.m osv ca kr nr pkt jf jfr mv m.v evt iht ift vedr tlf kl st sml o.l m.fl mfl hhv ref avd
  inkl ekskl gnr bnr adm dir mill mrd stk tab fig kap s e.l pr ang nb obs ordf nestl repr sek adr mnd år ev
  mht vha etc e.g i.e mr mrs dr no vs approx dept`.split(/\s+/),
);

const LIST_ITEM = /^[ \t]*(?:[-•*–][ \t]+|\d{1,3}[.)][ \t]+|[a-zæøå][.)][ \t]+)/i;
const SHORT_LINE = 50;

interface Block {
  start: number;
  end: number;
}

/** Cut text into blocks at blank lines, list items and after heading-like short lines. */
function blocks(text: string): Block[] {
  const out: Block[] = [];
  const lines: { start: number; end: number }[] = [];
  let pos = 0;
  while (pos <= text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl === -1 ? text.length : nl;
    lines.push({ start: pos, end });
    if (nl === -1) break;
    pos = nl + 1;
  }
  let cur: Block | null = null;
  let prev = '';
  for (const l of lines) {
    const line = text.slice(l.start, l.end);
    const trimmed = line.trim();
    if (!trimmed) {
      if (cur) out.push(cur);
      cur = null;
      prev = '';
      continue;
    }
    const prevIsHeading = prev !== '' && prev.length < SHORT_LINE && !/[.!?,;:–-]["»)\]]?$/.test(prev);
    // A line that ends in a hyphen goes on ("valgloven § 9-" / "9. Valgstyret …" is § 9-9).
    const continues = /[-–]$/.test(prev);
    if (cur && !continues && (LIST_ITEM.test(line) || prevIsHeading)) {
      out.push(cur);
      cur = null;
    }
    if (!cur) cur = { start: l.start, end: l.end };
    else cur.end = l.end;
    prev = trimmed;
  }
  if (cur) out.push(cur);
  return out;
}

/** The word (letters, digits and inner dots) that ends just before `dot`. */
function wordBefore(text: string, dot: number, min: number): string {
  let i = dot;
  while (i > min && /[\p{L}\p{N}.]/u.test(text[i - 1])) i--;
  return text.slice(i, dot);
}

function isBoundary(text: string, dot: number, blockStart: number): boolean {
  if (text[dot] !== '.') return true; // ! and ?
  const word = wordBefore(text, dot, blockStart);
  if (!word) return true;
  const lower = word.toLowerCase().replace(/^\.+/, '');
  if (ABBREVIATIONS.has(lower)) return false;
  if (/^\p{Lu}$/u.test(word)) return false; // an initial: "H. Strand"
  // A number opening its line is a list marker ("1. Bydelsutvalget ber …"), not a sentence.
  // (After a line ending in a hyphen it is the rest of a number: "§ 9-" / "9.")
  if (/^\d{1,3}$/.test(word) && /(^|[^-–]\n)[ \t]*$/.test(text.slice(blockStart, dot - word.length))) return false;
  return true;
}

function clean(s: string): string {
  return s.replace(LIST_ITEM, '').replace(/\s+/g, ' ').trim();
}

/** Split `text` into sentences (and heading-like fragments, flagged `terminal: false`). */
export function splitSentences(text: string): SentenceSpan[] {
  const out: SentenceSpan[] = [];
  // End: . ! ? (repeated), optional closing quote/bracket, whitespace, then a sentence start.
  const END = /[.!?]+["»”)\]]?(?=\s+["«“([]?[\p{Lu}\p{N}])/gu;
  for (const b of blocks(text)) {
    let from = b.start;
    let first = true;
    const segment = text.slice(b.start, b.end);
    for (const m of segment.matchAll(END)) {
      const dot = b.start + m.index!;
      if (!isBoundary(text, dot, b.start)) continue;
      const end = dot + m[0].length;
      push(from, end, first);
      first = false;
      from = end;
    }
    push(from, b.end, first);
  }
  return out;

  function push(start: number, end: number, blockStart: boolean) {
    while (start < end && /\s/.test(text[start])) start++;
    while (end > start && /\s/.test(text[end - 1])) end--;
    if (end <= start) return;
    const raw = text.slice(start, end);
    const cleaned = clean(raw);
    if (!cleaned) return;
    out.push({ text: cleaned, start, end, terminal: /[.!?]["»”)\]]?$/.test(cleaned), blockStart });
  }
}
