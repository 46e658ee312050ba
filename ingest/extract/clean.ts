/**
 * Pure text clean-up for extracted text. No I/O, no state: every function here maps a
 * string to a string and is unit-tested in tests/extract.test.ts.
 *
 * `cleanPdfPageText` is for text that came out of a PDF text layer (pdf.js), which has
 * layout artefacts: tabs between table cells and between the letters of letter-spaced
 * headings, words hyphenated at line ends, control characters from odd font encodings.
 * `normalizeText` is the lighter clean-up for text that was written as text (.txt, .md,
 * HTML after conversion): it keeps the author's words and spacing and only normalises
 * line ends, control characters and Unicode form.
 */

/** C0/C1 control characters except tab (\t) and line feed (\n), plus DEL. */
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** Zero-width and invisible formatting characters that only get in the way of search. */
const INVISIBLE_CHARS = /[\u200B-\u200D\u2060\uFEFF]/g;
/** Unicode space characters that should be a plain space for search and display. */
const UNICODE_SPACES = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;

/** A Symbol/Wingdings private-use glyph at the start of a line, used as a list bullet. */
const SYMBOL_FONT_BULLET = /^([ \t]*)[\uF000-\uF0FF](?=[ \t])/gm;

/** Words that follow a suspended compound ("plan- og bygningsloven", "barne- eller"): a
 *  hyphen before them at a line end is a real hyphen, not a hyphenation. */
const SUSPENDED_COMPOUND_NEXT = new Set(['og', 'eller', 'samt', 'enn', 'and', 'or', 'nor', 'und', 'oder']);

/** Line ends: \r\n, \r, vertical tab, form feed, line/paragraph separators all become \n. */
function normalizeLineEnds(s: string): string {
  return s.replace(/\r\n?|[\u000B\u000C\u2028]/g, '\n').replace(/\u2029/g, '\n\n');
}

/** Remove control and invisible characters, turn exotic spaces into plain ones. */
function stripControls(s: string): string {
  return s.replace(CONTROL_CHARS, '').replace(INVISIBLE_CHARS, '').replace(UNICODE_SPACES, ' ');
}

/**
 * Joins letters that a PDF laid out one by one ("B\tø\tk\to\tm\tm\tu\tn\te" -> "Bøkommune",
 * "M ø t e b o k" -> "Møtebok") inside one line.
 *
 * A run is a sequence of short letter tokens (1-2 letters) linked by "tight" separators:
 * tabs only, or exactly one space. A separator with both a space and a tab, or two or more
 * spaces, is a word boundary inside letter-spaced text and becomes one space. A run is
 * joined when it has at least 3 tokens of which most are single letters; a run linked only
 * by single spaces must have at least 4 tokens, all single letters, so ordinary text with
 * one-letter words ("i", "å") is never glued. Digits are never joined (table columns
 * "1\t2\t3" stay apart).
 */
export function joinLetterSpaced(line: string): string {
  if (!/[\t ]/.test(line)) return line;
  const parts = line.split(/([\t ]+)/); // even: tokens, odd: separators
  const isShort = (t: string) => /^\p{L}\p{M}*(?:\p{L}\p{M}*)?$/u.test(t);
  const isSingle = (t: string) => /^\p{L}\p{M}*$/u.test(t);
  const tightKind = (sep: string): 'tab' | 'space' | null => (/^\t+$/.test(sep) ? 'tab' : sep === ' ' ? 'space' : null);

  const out: string[] = [];
  let i = 0;
  while (i < parts.length) {
    // Try to grow a run starting at token i.
    if (i % 2 === 0 && isShort(parts[i])) {
      let j = i; // last token index in the run
      let tabs = 0;
      while (j + 2 < parts.length && isShort(parts[j + 2])) {
        const kind = tightKind(parts[j + 1]);
        if (!kind) break;
        if (kind === 'tab') tabs++;
        j += 2;
      }
      const tokens: string[] = [];
      for (let k = i; k <= j; k += 2) tokens.push(parts[k]);
      const singles = tokens.filter(isSingle).length;
      const accept =
        tokens.length >= 3 && (tabs > 0 ? singles >= Math.max(2, Math.ceil(tokens.length * 0.6)) : tokens.length >= 4 && singles === tokens.length);
      if (accept) {
        out.push(tokens.join(''));
        i = j + 1;
        continue;
      }
    }
    out.push(parts[i]);
    i++;
  }
  return out.join('');
}

/**
 * Joins words hyphenated at a line end: "kommune-\nstyret har" -> "kommunestyret\nhar".
 * Only when the hyphen follows at least two lowercase letters and the next line starts with
 * a lowercase letter; never before "og"/"eller" (suspended compounds such as
 * "plan- og bygningsloven"). The completed word stays on the first line and the line break
 * moves after it, so the line structure is kept.
 */
export function fixHyphenation(text: string): string {
  return text.replace(
    /(\p{Ll}\p{M}*\p{Ll}\p{M}*)[-\u2010\u00AD]\n(\p{Ll}[\p{L}\p{M}\p{N}]*)([^\S\n]*)/gu,
    (match: string, before: string, next: string, _spaces: string, offset: number, whole: string) => {
      if (SUSPENDED_COMPOUND_NEXT.has(next.toLowerCase())) return match;
      const after = whole.charAt(offset + match.length);
      // If the fragment was the whole next line, the newline after it already ends the line.
      return after === '' || after === '\n' ? before + next : `${before}${next}\n`;
    },
  );
}

/** Trim each line, collapse runs of spaces, and keep at most one blank line between paragraphs. */
function tidyLines(text: string, collapseSpaces: boolean): string {
  const lines = text.split('\n').map((l) => {
    const t = collapseSpaces ? l.replace(/[ \t]+/g, ' ').trim() : l.replace(/[ \t]+$/, '');
    return t;
  });
  return lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
}

/**
 * Cleans the text of one PDF page (from pdf.js via pdf-parse).
 * - line ends normalised, NUL and other control characters removed, Unicode NFC;
 * - Symbol-font bullets (private-use U+F0xx at a line start) become "•";
 * - letter-spaced runs joined ("B\tø\tk\to\tm\tm\tu\tn\te" -> "Bøkommune");
 * - remaining tabs become spaces, runs of spaces collapse, lines are trimmed;
 * - hyphenation at line ends repaired ("kommune-\nstyret" -> "kommunestyret");
 * - punctuation stranded at a line start moved back to its word ("intervention\n. We" -> "intervention.\nWe");
 * - line breaks kept, with at most one blank line between paragraphs.
 */
export function cleanPdfPageText(raw: string): string {
  let s = normalizeLineEnds(raw);
  // Soft hyphens: at a line end they mark a hyphenation (handled below); elsewhere drop them.
  s = s.replace(/\u00AD(?!\n)/g, '');
  s = stripControls(s).normalize('NFC');
  // Bullets from Symbol/Wingdings fonts arrive as private-use code points (U+F0B7, U+F0A7...).
  s = s.replace(/\uF020/g, ' ').replace(SYMBOL_FONT_BULLET, '$1•'); // U+F020: Symbol-font space
  s = s
    .split('\n')
    .map((line) => joinLetterSpaced(line).replace(/\t/g, ' ').replace(/ {2,}/g, ' ').trim())
    .join('\n');
  s = fixHyphenation(s);
  s = s.replace(/\u00AD/g, '');
  // Punctuation that pdf.js put at the start of the next line belongs to the word before it.
  s = s.replace(/([\p{L}\p{N})"”’])\n([.,;:!?]+)( |(?=\n)|$)/gu, (_m, word: string, punct: string, space: string) =>
    space === ' ' ? `${word}${punct}\n` : `${word}${punct}`,
  );
  return tidyLines(s, true);
}

/**
 * Light clean-up for text that was authored as text (.txt, .md, converted HTML): line ends,
 * control characters, invisible characters, Unicode NFC, trailing spaces, at most one blank
 * line in a row. Words, indentation and tabs inside lines are kept as written.
 */
export function normalizeText(raw: string): string {
  let s = normalizeLineEnds(raw);
  s = s.replace(/\u00AD/g, '');
  s = stripControls(s).normalize('NFC');
  return tidyLines(s, false);
}
