/**
 * A small, careful HTML-to-text converter. It only reads: nothing in the document is ever
 * executed, fetched or re-parsed (entities are decoded after tags are removed, so
 * "&lt;script&gt;" ends up as the literal text "<script>").
 *
 * - script, style, noscript, template (and svg, math, iframe, object) contents dropped;
 *   <title> becomes the title, not body text;
 * - comments, doctype, CDATA and processing instructions dropped;
 * - block elements become line breaks (paragraph-like ones a blank line), table cells are
 *   separated by a space, <pre> keeps its line breaks, other whitespace collapses as in HTML;
 * - named (common) and numeric character references decoded;
 * - attributes ignored entirely (`<div hx-get="/x">text</div>` -> "text").
 */

export interface HtmlText {
  text: string;
  title?: string;
}

/** Elements whose whole content is dropped. */
const DROP_CONTENT = new Set(['script', 'style', 'noscript', 'template', 'svg', 'math', 'iframe', 'object', 'textarea', 'select']);
/** Elements whose content is raw text up to the matching end tag (no tags inside). */
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'iframe', 'noembed', 'noframes', 'plaintext']);
/** Block elements that end a paragraph: a blank line before and after. */
const PARAGRAPH = new Set([
  'p',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'pre',
  'table',
  'ul',
  'ol',
  'dl',
  'section',
  'article',
  'header',
  'footer',
  'nav',
  'aside',
  'main',
  'figure',
  'address',
  'form',
  'fieldset',
  'details',
  'hr',
  'body',
  'html',
]);
/** Block elements that end a line. */
const LINE = new Set([
  'div',
  'br',
  'li',
  'tr',
  'dt',
  'dd',
  'figcaption',
  'caption',
  'summary',
  'legend',
  'thead',
  'tbody',
  'tfoot',
  'option',
  'label',
  'center',
]);
/** Table cells: separated by a space so cell contents do not run together. */
const CELL = new Set(['td', 'th']);

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00A0',
  shy: '\u00AD',
  aring: 'å',
  Aring: 'Å',
  oslash: 'ø',
  Oslash: 'Ø',
  aelig: 'æ',
  AElig: 'Æ',
  auml: 'ä',
  Auml: 'Ä',
  ouml: 'ö',
  Ouml: 'Ö',
  uuml: 'ü',
  Uuml: 'Ü',
  euml: 'ë',
  Euml: 'Ë',
  iuml: 'ï',
  Iuml: 'Ï',
  aacute: 'á',
  Aacute: 'Á',
  eacute: 'é',
  Eacute: 'É',
  iacute: 'í',
  Iacute: 'Í',
  oacute: 'ó',
  Oacute: 'Ó',
  uacute: 'ú',
  Uacute: 'Ú',
  yacute: 'ý',
  Yacute: 'Ý',
  agrave: 'à',
  Agrave: 'À',
  egrave: 'è',
  Egrave: 'È',
  igrave: 'ì',
  Igrave: 'Ì',
  ograve: 'ò',
  Ograve: 'Ò',
  ugrave: 'ù',
  Ugrave: 'Ù',
  acirc: 'â',
  Acirc: 'Â',
  ecirc: 'ê',
  Ecirc: 'Ê',
  icirc: 'î',
  Icirc: 'Î',
  ocirc: 'ô',
  Ocirc: 'Ô',
  ucirc: 'û',
  Ucirc: 'Û',
  atilde: 'ã',
  Atilde: 'Ã',
  otilde: 'õ',
  Otilde: 'Õ',
  ntilde: 'ñ',
  Ntilde: 'Ñ',
  ccedil: 'ç',
  Ccedil: 'Ç',
  szlig: 'ß',
  eth: 'ð',
  ETH: 'Ð',
  thorn: 'þ',
  THORN: 'Þ',
  yuml: 'ÿ',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  laquo: '«',
  raquo: '»',
  lsquo: '‘',
  rsquo: '’',
  sbquo: '‚',
  ldquo: '“',
  rdquo: '”',
  bdquo: '„',
  bull: '•',
  middot: '·',
  copy: '©',
  reg: '®',
  trade: '™',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  sect: '§',
  para: '¶',
  deg: '°',
  plusmn: '±',
  times: '×',
  divide: '÷',
  frac12: '½',
  frac14: '¼',
  frac34: '¾',
  sup1: '¹',
  sup2: '²',
  sup3: '³',
  micro: 'µ',
  ordf: 'ª',
  ordm: 'º',
  iexcl: '¡',
  iquest: '¿',
  not: '¬',
  macr: '¯',
  acute: '´',
  cedil: '¸',
  uml: '¨',
  curren: '¤',
  brvbar: '¦',
  ensp: '\u2002',
  emsp: '\u2003',
  thinsp: '\u2009',
  zwnj: '\u200C',
  zwj: '\u200D',
  lrm: '\u200E',
  rlm: '\u200F',
  dagger: '†',
  Dagger: '‡',
  permil: '‰',
  lsaquo: '‹',
  rsaquo: '›',
  prime: '′',
  Prime: '″',
  minus: '−',
  larr: '←',
  rarr: '→',
  uarr: '↑',
  darr: '↓',
  harr: '↔',
  le: '≤',
  ge: '≥',
  ne: '≠',
  asymp: '≈',
  infin: '∞',
};
/** The few references browsers also accept without the final semicolon. */
const LEGACY_NO_SEMICOLON = new Set(['amp', 'lt', 'gt', 'quot', 'nbsp', 'AMP', 'LT', 'GT', 'QUOT']);
/** HTML's remapping of numeric references 0x80-0x9F (windows-1252). */
const C1_REMAP: Record<number, number> = {
  128: 0x20ac,
  130: 0x201a,
  131: 0x0192,
  132: 0x201e,
  133: 0x2026,
  134: 0x2020,
  135: 0x2021,
  136: 0x02c6,
  137: 0x2030,
  138: 0x0160,
  139: 0x2039,
  140: 0x0152,
  142: 0x017d,
  145: 0x2018,
  146: 0x2019,
  147: 0x201c,
  148: 0x201d,
  149: 0x2022,
  150: 0x2013,
  151: 0x2014,
  152: 0x02dc,
  153: 0x2122,
  154: 0x0161,
  155: 0x203a,
  156: 0x0153,
  158: 0x017e,
  159: 0x0178,
};

function codePointToString(cp: number): string {
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\uFFFD';
  const mapped = C1_REMAP[cp];
  return String.fromCodePoint(mapped ?? cp);
}

/** Decodes character references (&aring; &#229; &#xE5;). Unknown names stay as written. */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,7})|([A-Za-z][A-Za-z0-9]{1,31}))(;?)/g, (m, dec, hex, name, semi) => {
    if (dec !== undefined) return codePointToString(parseInt(dec, 10));
    if (hex !== undefined) return codePointToString(parseInt(hex, 16));
    const lower = name.toLowerCase();
    if (semi) {
      if (name in NAMED_ENTITIES) return NAMED_ENTITIES[name];
      if (LEGACY_NO_SEMICOLON.has(name)) return NAMED_ENTITIES[lower];
      return m;
    }
    if (LEGACY_NO_SEMICOLON.has(name)) return NAMED_ENTITIES[lower];
    return m;
  });
}

function collapse(s: string): string {
  return s.replace(/[ \t\n\r\f]+/g, ' ');
}

/** Finds the end of a start/end tag beginning at `i` ('<'), honouring quoted attribute values. */
function tagEnd(html: string, i: number): number {
  let quote: string | null = null;
  for (let j = i + 1; j < html.length; j++) {
    const c = html[j];
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      // Quotes only open an attribute value after '='.
      let k = j - 1;
      while (k > i && /\s/.test(html[k])) k--;
      if (html[k] === '=') quote = c;
    } else if (c === '>') {
      return j;
    }
  }
  return -1;
}

/** Converts an HTML document or fragment to text with paragraph structure. */
export function htmlToText(html: string): HtmlText {
  // Text pieces and line breaks (1 = new line, 2 = new paragraph). Adjacent breaks merge to
  // the stronger one, so "</li><li>" is one line break, not two.
  const out: (string | 1 | 2)[] = [];
  let title: string | undefined;
  let h1: string | null = null;
  let h1Depth = 0;
  let h1Buf = '';
  let preDepth = 0;
  let i = 0;
  const n = html.length;

  const emitText = (raw: string) => {
    if (raw === '') return;
    const text = decodeEntities(preDepth > 0 ? raw : collapse(raw));
    out.push(text);
    if (h1Depth > 0) h1Buf += text;
  };
  const emitBreak = (b: 1 | 2) => out.push(b);

  /** Skips to just after `</name ...>` (case-insensitive); returns the raw content. */
  const skipRaw = (name: string, from: number): { content: string; next: number } => {
    const re = new RegExp(`</${name}(?=[\\s/>])[^>]*>`, 'ig');
    re.lastIndex = from;
    const m = re.exec(html);
    if (!m) return { content: html.slice(from), next: n };
    return { content: html.slice(from, m.index), next: m.index + m[0].length };
  };

  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      emitText(html.slice(i));
      break;
    }
    if (lt > i) emitText(html.slice(i, lt));
    i = lt;
    // Comments, doctype, CDATA, processing instructions.
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end === -1 ? n : end + 3;
      continue;
    }
    if (html.startsWith('<![CDATA[', i)) {
      const end = html.indexOf(']]>', i + 9);
      emitText(html.slice(i + 9, end === -1 ? n : end).replace(/&/g, '&amp;'));
      i = end === -1 ? n : end + 3;
      continue;
    }
    if (html[i + 1] === '!' || html[i + 1] === '?') {
      const end = html.indexOf('>', i + 2);
      i = end === -1 ? n : end + 1;
      continue;
    }
    const m = /^<(\/?)([A-Za-z][A-Za-z0-9:-]*)/.exec(html.slice(i, i + 64));
    if (!m) {
      // A lone '<' is text.
      emitText('&lt;');
      i += 1;
      continue;
    }
    const closing = m[1] === '/';
    const name = m[2].toLowerCase();
    const end = tagEnd(html, i);
    if (end === -1) break; // unterminated tag at the end of the input: drop it
    const selfClosing = html[end - 1] === '/';
    i = end + 1;

    if (!closing && DROP_CONTENT.has(name) && !selfClosing) {
      if (RAW_TEXT.has(name)) {
        i = skipRaw(name, i).next;
      } else {
        // Skip to the matching end tag, counting nested elements of the same name.
        let depth = 1;
        const re = new RegExp(`<(/?)${name}(?=[\\s/>])[^>]*>`, 'ig');
        re.lastIndex = i;
        let mm: RegExpExecArray | null;
        let next = n;
        while ((mm = re.exec(html))) {
          if (mm[1] === '/') depth--;
          else if (!mm[0].endsWith('/>')) depth++;
          if (depth === 0) {
            next = mm.index + mm[0].length;
            break;
          }
        }
        i = next;
      }
      continue;
    }
    if (!closing && name === 'title') {
      const { content, next } = skipRaw('title', i);
      const v = collapse(decodeEntities(content)).trim();
      if (v && title === undefined) title = v;
      i = next;
      continue;
    }
    if (!closing && RAW_TEXT.has(name)) {
      // xmp, plaintext etc.: their content is text.
      const { content, next } = skipRaw(name, i);
      emitText(content.replace(/&/g, '&amp;'));
      i = next;
      continue;
    }
    if (name === 'pre') preDepth = Math.max(0, preDepth + (closing ? -1 : 1));
    if (name === 'h1') {
      if (!closing) {
        h1Depth++;
      } else if (h1Depth > 0) {
        h1Depth--;
        if (h1Depth === 0 && h1 === null && h1Buf.trim()) h1 = collapse(h1Buf).trim();
        h1Buf = '';
      }
    }
    if (PARAGRAPH.has(name)) emitBreak(2);
    else if (LINE.has(name)) emitBreak(1);
    else if (CELL.has(name) && !closing) out.push(' ');
  }

  // Assemble: trim spaces around line breaks, at most one blank line in a row.
  let joined = '';
  let pending = 0;
  for (const piece of out) {
    if (typeof piece === 'number') {
      pending = Math.max(pending, piece);
    } else if (pending > 0 && piece.trim() === '') {
      // whitespace between blocks
    } else {
      if (pending > 0) joined += '\n'.repeat(pending);
      pending = 0;
      joined += piece;
    }
  }
  const text = joined
    .replace(/\u00A0/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\n+$/g, '');
  const result: HtmlText = { text };
  const t = title ?? h1 ?? undefined;
  if (t) result.title = t;
  return result;
}

/** The charset an HTML document declares in its first bytes (<meta charset> or http-equiv). */
export function sniffHtmlCharset(buf: Uint8Array): string | null {
  const head = new TextDecoder('latin1').decode(buf.subarray(0, 2048));
  const m = /<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)/i.exec(head);
  return m ? m[1].toLowerCase() : null;
}
