// PDF text extraction worker (worker_threads). Plain JavaScript on purpose: the app runs
// through tsx's loader, which worker threads do not inherit, so this file must run in bare
// Node. It is started by ingest/extract/pdf.ts; it never touches the file system except to
// read pdf.js' own CMap and standard-font data.
//
// Protocol (one job at a time per worker):
//   in : { id, data: Uint8Array }          (data's ArrayBuffer is transferred, not copied)
//   out: { id, ok: true, numPages, pages: [{ num, text }], title, messages }
//        { id, ok: false, error: { name, message }, messages }
//
// Text assembly: like pdf-parse's own getPageText (same line and cell thresholds, a tab
// between distant cells on one line), with two changes:
// - glyphs that overlap the previous item on the same line are glued to it instead of being
//   split by a tab (some Word->PostScript PDFs position every glyph of a heading at nearly
//   the same x, which pdf-parse turns into "B\tø\tk\to..." );
// - a blank line is emitted where the vertical gap between two lines is clearly larger than
//   the page's usual line spacing, so paragraphs survive for chunking.

import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { PDFParse } from 'pdf-parse';

if (!parentPort) throw new Error('pdf-worker.js must be started as a worker thread');

// pdf.js prints its warnings/errors with console.log/console.error. Collect them per job so
// they become extraction warnings instead of noise on the CLI's output.
let messages = [];
const collect = (...args) => {
  if (messages.length < 200) messages.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
};
console.log = collect;
console.info = collect;
console.warn = collect;
console.error = collect;
console.debug = collect;

const require = createRequire(import.meta.url);
let pdfjsDir = null;
try {
  // Resolve pdfjs-dist from pdf-parse's location, so it is the copy pdf-parse uses.
  const fromPdfParse = createRequire(require.resolve('pdf-parse'));
  pdfjsDir = path.dirname(fromPdfParse.resolve('pdfjs-dist/package.json'));
} catch {
  pdfjsDir = null; // CMaps/standard fonts unavailable: pdf.js still extracts most text
}

const LINE_THRESHOLD = 4.6; // same as pdf-parse: a y change above this starts a new line
const CELL_THRESHOLD = 7; // same as pdf-parse: a gap above this on one line is a cell break

class LayoutPDFParse extends PDFParse {
  /** Replaces pdf-parse's getPageText (called by getText for every page). */
  async getPageText(page) {
    const viewport = page.getViewport({ scale: 1 });
    const content = await page.getTextContent({ includeMarkedContent: false, disableNormalization: false });
    const lines = []; // { text, y, h }
    let parts = [];
    let lineY;
    let lineH = 0;
    let lastX;
    let lastStartX;
    let lastY;
    const endLine = () => {
      const text = parts.join('');
      if (text.trim() !== '') lines.push({ text, y: lineY, h: lineH });
      parts = [];
      lineY = undefined;
      lineH = 0;
      lastX = undefined;
      lastStartX = undefined;
    };
    for (const item of content.items) {
      if (!('str' in item)) continue;
      const [x, y] = viewport.convertToViewportPoint(item.transform[4], item.transform[5]);
      if (parts.length > 0 && lastY !== undefined && Math.abs(lastY - y) > LINE_THRESHOLD) endLine();
      if (item.str !== '') {
        if (parts.length > 0 && lastX !== undefined) {
          if (x - lastX > CELL_THRESHOLD) parts.push('\t');
          else if (x < lastStartX - CELL_THRESHOLD) parts.push('\t'); // drawn out of order
          // overlapping or adjacent: glue
        }
        if (lineY === undefined) lineY = y;
        parts.push(item.str);
        lineH = Math.max(lineH, item.height || 0);
        lastX = x + (item.width || 0);
        lastStartX = x;
        lastY = y;
      }
      if (item.hasEOL) endLine();
    }
    endLine();
    return joinLines(lines);
  }
}

/** Joins lines with \n, and with \n\n where the vertical gap shows a paragraph break. */
function joinLines(lines) {
  if (lines.length === 0) return '';
  // Usual line spacing on this page, relative to font size.
  const ratios = [];
  for (let i = 1; i < lines.length; i++) {
    const d = lines[i].y - lines[i - 1].y;
    const h = Math.max(lines[i].h, lines[i - 1].h);
    if (h > 0 && d > 0 && d < 3 * h) ratios.push(d / h);
  }
  ratios.sort((a, b) => a - b);
  const usual = ratios.length >= 3 ? ratios[Math.floor(ratios.length / 2)] : null;
  const paragraphRatio = usual === null ? 1.75 : Math.max(usual * 1.35, 1.3);
  let out = lines[0].text;
  for (let i = 1; i < lines.length; i++) {
    const d = lines[i].y - lines[i - 1].y;
    const h = Math.max(lines[i].h, lines[i - 1].h);
    const paragraph = h > 0 && (d < -h || d / h > paragraphRatio);
    out += (paragraph ? '\n\n' : '\n') + lines[i].text;
  }
  return out;
}

async function extract(data) {
  const parser = new LayoutPDFParse({
    data,
    verbosity: 1, // errors and warnings, collected into `messages`
    isEvalSupported: false,
    useSystemFonts: false,
    disableFontFace: true,
    enableXfa: false,
    stopAtErrors: false,
    ...(pdfjsDir
      ? {
          cMapUrl: path.join(pdfjsDir, 'cmaps') + path.sep,
          cMapPacked: true,
          standardFontDataUrl: path.join(pdfjsDir, 'standard_fonts') + path.sep,
        }
      : {}),
  });
  try {
    const result = await parser.getText();
    let title = null;
    try {
      const doc = await parser.load();
      const meta = await doc.getMetadata();
      const t = meta?.info?.Title;
      if (typeof t === 'string') title = t;
    } catch {
      title = null;
    }
    return { numPages: result.total, pages: result.pages.map((p) => ({ num: p.num, text: p.text })), title };
  } finally {
    await parser.destroy().catch(() => {});
  }
}

parentPort.on('message', async (msg) => {
  const { id, data } = msg;
  messages = [];
  try {
    const res = await extract(data);
    parentPort.postMessage({ id, ok: true, ...res, messages });
  } catch (err) {
    const name = err && typeof err === 'object' && 'name' in err ? String(err.name) : 'Error';
    const message = err && typeof err === 'object' && 'message' in err ? String(err.message) : String(err);
    parentPort.postMessage({ id, ok: false, error: { name, message }, messages });
  }
});
