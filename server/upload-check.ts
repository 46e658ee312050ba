/**
 * What an uploaded file is, by its bytes: the check a web upload passes before it is queued.
 * The name's extension says what the sender claims; the first bytes say what it is. A Word
 * document renamed .pdf, a program renamed .txt or an empty file is refused here, with a
 * message (Norwegian for the page, English for the API) that says what the file looked like,
 * instead of failing later in the worker. Extraction (ingest/extract) still checks everything
 * again; this is the early, explainable refusal.
 */
import path from 'node:path';
import { hasPdfHeader, mediaTypeFor } from '../ingest/extract/index.ts';

/** A refusal: the HTTP status and the message in both languages. */
export interface Refusal {
  status: 400 | 403 | 413 | 415;
  no: string;
  en: string;
}

/** Bytes looked at to tell text from binary and to find an HTML tag. */
const SNIFF_BYTES = 64 * 1024;

/** What the first bytes look like, as "et ZIP-arkiv (…)" / "a ZIP archive (…)", or null when they say nothing. */
function binaryKind(b: Uint8Array): { no: string; en: string } | null {
  const starts = (...sig: number[]) => sig.every((x, i) => b[i] === x);
  if (hasPdfHeader(b)) return { no: 'en PDF', en: 'a PDF' };
  if (starts(0x50, 0x4b, 0x03, 0x04) || starts(0x50, 0x4b, 0x05, 0x06))
    return { no: 'et ZIP-arkiv (for eksempel et Word- eller Excel-dokument, .docx/.xlsx)', en: 'a ZIP archive (for example a .docx or .xlsx document)' };
  if (starts(0xd0, 0xcf, 0x11, 0xe0)) return { no: 'et eldre Office-dokument (.doc/.xls/.ppt)', en: 'an old Office document (.doc/.xls/.ppt)' };
  if (starts(0x4d, 0x5a)) return { no: 'et Windows-program (.exe/.dll)', en: 'a Windows program (.exe/.dll)' };
  if (starts(0x7f, 0x45, 0x4c, 0x46)) return { no: 'et program (ELF)', en: 'a program (ELF)' };
  if (starts(0x89, 0x50, 0x4e, 0x47)) return { no: 'et bilde (PNG)', en: 'an image (PNG)' };
  if (starts(0xff, 0xd8, 0xff)) return { no: 'et bilde (JPEG)', en: 'an image (JPEG)' };
  if (starts(0x47, 0x49, 0x46, 0x38)) return { no: 'et bilde (GIF)', en: 'an image (GIF)' };
  if (starts(0x49, 0x49, 0x2a, 0x00) || starts(0x4d, 0x4d, 0x00, 0x2a)) return { no: 'et bilde (TIFF)', en: 'an image (TIFF)' };
  if (starts(0x1f, 0x8b)) return { no: 'et komprimert arkiv (gzip)', en: 'a compressed archive (gzip)' };
  if (starts(0x52, 0x61, 0x72, 0x21)) return { no: 'et komprimert arkiv (RAR)', en: 'a compressed archive (RAR)' };
  if (starts(0x37, 0x7a, 0xbc, 0xaf)) return { no: 'et komprimert arkiv (7z)', en: 'a compressed archive (7z)' };
  if (starts(0x7b, 0x5c, 0x72, 0x74, 0x66)) return { no: 'et RTF-dokument', en: 'an RTF document' };
  return null;
}

/**
 * Text: UTF-8 or Latin-1/Windows-1252 (where every byte is a character, so the decoding itself
 * refuses nothing): no NUL byte, and hardly any control characters other than tab, line
 * breaks, form feed and escape. Binary formats have both within their first kilobytes.
 */
function isText(b: Uint8Array): boolean {
  const head = b.subarray(0, SNIFF_BYTES);
  let controls = 0;
  for (const x of head) {
    if (x === 0) return false;
    if (x < 0x20 && x !== 0x09 && x !== 0x0a && x !== 0x0d && x !== 0x0c && x !== 0x1b) controls++;
  }
  return controls <= head.length / 100 + 2;
}

/** HTML: a doctype or one of the structural tags near the start. */
function looksLikeHtml(b: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(b.subarray(0, 4096)).toLowerCase();
  return /<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<meta\s|<title>|<(?:p|div|h[1-6]|table|article|main)[\s>]/.test(head);
}

const SUPPORTED = 'PDF, .txt, .md eller .html';

/**
 * Check an uploaded file: its name's extension must be one we read, its bytes must be what the
 * extension says, and its size within `maxBytes`. Returns null when it may be queued.
 */
export function checkUpload(name: string, bytes: Uint8Array, maxBytes: number): Refusal | null {
  const ext = path.extname(name).toLowerCase();
  const type = mediaTypeFor(name);
  if (bytes.length === 0) {
    return { status: 400, no: `«${name}» er tom (0 byte). Sjekk at filen er lagret helt, og last den opp på nytt.`, en: `${name} is empty (0 bytes)` };
  }
  if (bytes.length > maxBytes) return tooLarge(name, bytes.length, maxBytes);
  const seen = binaryKind(bytes);
  const lookedLike = (no: string, en: string): Refusal => ({
    status: 415,
    no: `«${name}» er ikke ${no}: innholdet ser ut som ${seen ? seen.no : 'en binærfil (ikke tekst)'}. Lagre dokumentet som ${SUPPORTED} og last det opp på nytt.`,
    en: `${name} is not ${en}: its content looks like ${seen ? seen.en : 'a binary file (not text)'}. Save it as PDF, .txt, .md or .html and upload it again.`,
  });
  if (!type) {
    return {
      status: 415,
      no: `Filtypen «${ext || '(ingen)'}» støttes ikke${seen ? ` (innholdet ser ut som ${seen.no})` : ''}. Last opp ${SUPPORTED}.`,
      en: `Unsupported file type "${ext || '(none)'}"${seen ? ` (its content looks like ${seen.en})` : ''}: upload PDF, .txt, .md or .html.`,
    };
  }
  if (type === 'application/pdf') {
    if (!hasPdfHeader(bytes)) return lookedLike('en PDF', 'a PDF');
    return null;
  }
  // Text, Markdown, HTML: no binary format's signature, and text bytes.
  if (seen || !isText(bytes)) {
    const what = type === 'text/html' ? ['en HTML-fil', 'an HTML file'] : ['en tekstfil', 'a text file'];
    return lookedLike(what[0], what[1]);
  }
  if (type === 'text/html' && !looksLikeHtml(bytes)) {
    return {
      status: 415,
      no: `«${name}» ser ikke ut som HTML (ingen <html>-, <head>- eller <body>-tagg i starten). Er det ren tekst, gi den endelsen .txt.`,
      en: `${name} does not look like HTML (no <html>, <head> or <body> tag near the start); if it is plain text, name it .txt.`,
    };
  }
  return null;
}

export function tooLarge(name: string | null, size: number | null, maxBytes: number): Refusal {
  const mb = (n: number) => (n / 1024 / 1024).toLocaleString('nb-NO', { maximumFractionDigits: n < 10 * 1024 * 1024 ? 1 : 0 });
  const limit = `${mb(maxBytes)} MB`;
  const what = name ? `«${name}»` : 'Filen';
  return {
    status: 413,
    no: `${what} er ${size !== null ? `${mb(size)} MB, ` : ''}større enn grensen på ${limit}. Del den opp i mindre filer, eller be driften heve grensen (INNSIKT_MAX_FILE_MB).`,
    en: `${name ?? 'The upload'} ${size !== null ? `is ${(size / 1024 / 1024).toFixed(1)} MB, ` : 'is '}above the limit of ${limit} (INNSIKT_MAX_FILE_MB).`,
  };
}

/**
 * A file name as sent by a browser, made safe to store and show: the last path part only (no
 * folders, "..", drive letters), no control or reserved characters, no leading dots, at most
 * 150 characters with its extension kept. Never empty.
 */
export function safeFileName(raw: string): string {
  const last = raw.normalize('NFC').split(/[/\\]/).pop() ?? '';
  let name = last
    .replace(/[\u0000-\u001f\u007f-\u009f<>:"|?*]/g, '_')
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '')
    .trim();
  if (name.length > 150) {
    const ext = path.extname(name).slice(0, 10);
    name = name.slice(0, 150 - ext.length) + ext;
  }
  return name || 'dokument';
}
