/**
 * Turns a model's token stream into text pieces and citations, holding back anything that may
 * still become a citation marker: "[1" at the end of one chunk and "]" at the start of the next
 * is shown as one citation, never as "[1" first. Citations of sources that were not given are
 * dropped here already, so an invalid number never reaches the page, even mid-stream.
 */
import { CITATION_MARKER, markerNumbers } from './support.ts';

export type StreamPiece = { type: 'text'; text: string } | { type: 'cite'; n: number };

/** Longest marker we wait for ("[kilde 12, 13, 14]"); a longer bracket is plain text. */
const MAX_MARKER = 32;
/** What the inside of a marker may hold while it is still being written. */
const MARKER_PREFIX = /^\[[\s\d,;a-zæøå]*$/iu;
const MARKER_AT_START = new RegExp(`^${CITATION_MARKER.source}`, 'iu');

export class CitationStream {
  private pending = '';
  /** Citations removed because they named no source. */
  dropped = 0;

  constructor(private readonly sourceCount: number) {}

  /** Feed a chunk; returns what can be shown now. */
  push(chunk: string): StreamPiece[] {
    this.pending += chunk;
    return this.drain(false);
  }

  /** The stream ended: flush what is left (a marker never closed is dropped). */
  end(): StreamPiece[] {
    return this.drain(true);
  }

  private drain(final: boolean): StreamPiece[] {
    const out: StreamPiece[] = [];
    let text = '';
    let s = this.pending;
    for (;;) {
      const open = s.indexOf('[');
      if (open < 0) {
        text += s;
        s = '';
        break;
      }
      text += s.slice(0, open);
      s = s.slice(open);
      const m = MARKER_AT_START.exec(s);
      if (m) {
        const nums = markerNumbers(m[1]);
        const valid = nums.filter((n) => n >= 1 && n <= this.sourceCount);
        this.dropped += nums.length - valid.length;
        if (valid.length) {
          if (text) out.push({ type: 'text', text });
          text = '';
          for (const n of valid) out.push({ type: 'cite', n });
        }
        s = s.slice(m[0].length);
        continue;
      }
      const close = s.indexOf(']');
      const couldBeMarker = close < 0 && s.length <= MAX_MARKER && MARKER_PREFIX.test(s) && /\d|^\[\s*[a-zæøå]*$/iu.test(s);
      if (couldBeMarker && !final) break; // wait for the rest
      if (couldBeMarker && final) {
        if (/\d/.test(s)) this.dropped++;
        s = '';
        break;
      }
      // Not a marker: the bracket is text.
      text += '[';
      s = s.slice(1);
    }
    this.pending = s;
    if (text) out.push({ type: 'text', text });
    return out;
  }
}
