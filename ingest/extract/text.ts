/** Decoding of text bytes (.txt, .md, .html) with a fallback for Norwegian legacy files. */

export interface Decoded {
  text: string;
  encoding: string;
  warnings: string[];
}

/**
 * Decodes bytes as text. A byte-order mark wins (UTF-8, UTF-16LE/BE). Otherwise strict
 * UTF-8; if that fails, `fallbackLabel` when given and supported (e.g. an HTML meta
 * charset), else windows-1252, the usual encoding of older Norwegian Windows files (a
 * superset of latin1 for printable characters: æ ø å Æ Ø Å decode the same).
 */
export function decodeText(buf: Uint8Array, fallbackLabel?: string | null): Decoded {
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(buf.subarray(3)), encoding: 'utf-8', warnings: [] };
  }
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) {
    return { text: new TextDecoder('utf-16le').decode(buf.subarray(2)), encoding: 'utf-16le', warnings: [] };
  }
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    return { text: new TextDecoder('utf-16be').decode(buf.subarray(2)), encoding: 'utf-16be', warnings: [] };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf), encoding: 'utf-8', warnings: [] };
  } catch {
    // not UTF-8
  }
  if (fallbackLabel) {
    try {
      const dec = new TextDecoder(fallbackLabel);
      if (dec.encoding !== 'utf-8') {
        return {
          text: dec.decode(buf),
          encoding: dec.encoding,
          warnings: [`text is not valid UTF-8; decoded as ${dec.encoding} (declared by the document)`],
        };
      }
    } catch {
      // unknown label: fall through
    }
  }
  return {
    text: new TextDecoder('windows-1252').decode(buf),
    encoding: 'windows-1252',
    warnings: ['text is not valid UTF-8; decoded as windows-1252 (latin1)'],
  };
}
