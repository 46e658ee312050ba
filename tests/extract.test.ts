import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanPdfPageText, fixHyphenation, joinLetterSpaced, normalizeText } from '../ingest/extract/clean.ts';
import { decodeEntities, htmlToText } from '../ingest/extract/html.ts';
import {
  type Extraction,
  ExtractionError,
  type ExtractionErrorCode,
  extractBuffer,
  extractFile,
  mediaTypeFor,
  shutdownExtractors,
} from '../ingest/extract/index.ts';
import { assessPage, formatPageRanges } from '../ingest/extract/quality.ts';
import { decodeText } from '../ingest/extract/text.ts';
import { HAS_OCR_TOOLS, pdfPageText, scannedPdf } from './scan-fixture.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '..');
// Real third-party documents live outside the repository (see ../shared/corpus/README.md).
const CORPUS = path.resolve(projectRoot, '../shared/corpus');
const PDFS = path.join(CORPUS, 'pdfs');
const NASTY = path.join(PDFS, 'nasty');
const haveCorpus = fs.existsSync(PDFS);
if (!haveCorpus) {
  console.warn(`[extract.test] skipping corpus tests: ${CORPUS} not found (the shared test corpus is not part of a fresh clone)`);
}

afterAll(async () => {
  await shutdownExtractors();
});

async function codeOf(p: Promise<unknown>): Promise<ExtractionErrorCode | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof ExtractionError) return e.code;
    throw e;
  }
}

// ---------------------------------------------------------------------------------------
describe('clean.ts', () => {
  it('joins letter-spaced runs that pdf-parse splits with tabs', () => {
    expect(cleanPdfPageText('B\tø\tk\to\tm\tm\tu\tn\te \tM\tø\tte\tb\to\tk\nSAKSGANG')).toBe('Bøkommune Møtebok\nSAKSGANG');
    expect(joinLetterSpaced('M ø t e b o k')).toBe('Møtebok');
    // Two spaces are a word boundary; three space-separated letters are too few to join.
    expect(joinLetterSpaced('V E D T A K  S a k')).toBe('VEDTAK  S a k');
  });

  it('does not glue ordinary words, one-letter words or digits', () => {
    expect(cleanPdfPageText('det er i å ha')).toBe('det er i å ha');
    expect(cleanPdfPageText('1 \t2 \t3\n4\t5\t6')).toBe('1 2 3\n4 5 6');
    expect(cleanPdfPageText('Styre/råd/utval \tMøtedato \tSak nr')).toBe('Styre/råd/utval Møtedato Sak nr');
    expect(cleanPdfPageText('a\tb')).toBe('a b'); // two letters are not a run
    expect(joinLetterSpaced('punkt a b c')).toBe('punkt a b c'); // 3 space-separated letters are not enough
  });

  it('turns tabs into spaces and collapses spaces, keeping line and paragraph breaks', () => {
    expect(cleanPdfPageText('Kommunestyret \t17.12.2012\t\t112/12   KVH')).toBe('Kommunestyret 17.12.2012 112/12 KVH');
    expect(cleanPdfPageText('  Første avsnitt.  \nlinje to\n\n\n\nAndre avsnitt.\n \t \nTredje')).toBe('Første avsnitt.\nlinje to\n\nAndre avsnitt.\n\nTredje');
  });

  it('repairs hyphenation at line ends only when lowercase letters continue', () => {
    expect(fixHyphenation('vedtak i kommune-\nstyret i dag')).toBe('vedtak i kommunestyret\ni dag');
    expect(fixHyphenation('kommune-\nstyret\nneste linje')).toBe('kommunestyret\nneste linje');
    expect(cleanPdfPageText('bydels-\nutvalget')).toBe('bydelsutvalget');
    expect(fixHyphenation('plan-\nog bygningsloven')).toBe('plan-\nog bygningsloven'); // suspended compound
    expect(fixHyphenation('Berg-\nOlsen')).toBe('Berg-\nOlsen'); // capital: a real hyphen
    expect(fixHyphenation('PTN-\nsak')).toBe('PTN-\nsak');
    expect(fixHyphenation('e-\npost')).toBe('e-\npost'); // single letter before the hyphen
    expect(fixHyphenation('2012-\n2013')).toBe('2012-\n2013');
    expect(cleanPdfPageText('kommune\u00AD\nstyret')).toBe('kommunestyret'); // soft hyphen
    expect(cleanPdfPageText('human intervention\n. We propose')).toBe('human intervention.\nWe propose');
    expect(cleanPdfPageText('punkt 1\n.\nneste')).toBe('punkt 1.\nneste');
    expect(cleanPdfPageText('Sak 1\n\n. . . 12')).toBe('Sak 1\n\n. . . 12');
  });

  it('removes NUL and control characters and normalises to NFC', () => {
    expect(cleanPdfPageText('M\u0000øte\u0007dato\u0003')).toBe('Møtedato');
    expect(cleanPdfPageText('Tøyen\u200B ba\u0301d')).toBe('Tøyen bád');
    expect(cleanPdfPageText('pa\u030A')).toBe('på');
    expect(cleanPdfPageText('a\r\nb\rc')).toBe('a\nb\nc');
    expect(cleanPdfPageText('\uF0B7 \tOmrådet skal opparbeides')).toBe('• Området skal opparbeides');
    expect(normalizeText('  innrykk\tbeholdes  \r\n\r\n\r\n\r\nslutt\u0000')).toBe('  innrykk\tbeholdes\n\nslutt');
  });
});

describe('quality.ts', () => {
  it('flags a text layer of glyph codes and control characters, not normal text', () => {
    const garbage = '9DOJSURWRNROO\u0003IRU\u0003YDOJVW\\UHW\u0003L\n+DUVWDG\u0003NRPPXQH\u000f\u00037URPV\u0003RJ\u0003)LQQPDUN';
    expect(assessPage(garbage).garbled).toBe(true);
    const normal = 'Utval for plan, teknikk og næring 23.11.2012 139/12 KVH\nKommunestyret 17.12.2012 112/12 KVH\nSe https://www.bo.kommune.no/ for meir.';
    expect(assessPage(normal).garbled).toBe(false);
    expect(assessPage('1. div 1.4 1 107 787,142857\n2. div 3.0 516 967,333333\n3. div 5.0 310 180,400000').garbled).toBe(false);
    expect(formatPageRanges([5, 1, 2, 3, 9])).toBe('1-3, 5, 9');
  });
});

// ---------------------------------------------------------------------------------------
describe('HTML converter', () => {
  it('strips script/style/noscript/template and keeps text only', () => {
    const html = `<!doctype html><html><head><title>Møte i bydelsutvalget &ndash; 2024</title>
      <style>body { color: red }</style><script>alert("x"); document.write('<p>evil</p>')</script></head>
      <body><h1>Protokoll</h1><noscript>Slå på JavaScript</noscript><template><p>mal</p></template>
      <div hx-get="/x" hx-trigger="load">Innhold fra div</div><!-- kommentar <p>skjult</p> -->
      <p>Første&nbsp;avsnitt med <b>fet</b> tekst.</p><p>Andre<br>linje</p>
      <ul><li>punkt en</li><li>punkt to</li></ul>
      <table><tr><td>Sak</td><td>45/24</td></tr></table></body></html>`;
    const { text, title } = htmlToText(html);
    expect(title).toBe('Møte i bydelsutvalget – 2024');
    expect(text).not.toMatch(/alert|evil|color|JavaScript|mal|kommentar|skjult|hx-get|\/x/);
    expect(text).toContain('Innhold fra div');
    expect(text).toContain('Første avsnitt med fet tekst.');
    expect(text).toContain('Andre\nlinje');
    expect(text).toContain('punkt en\npunkt to');
    expect(text).toContain('Sak 45/24');
    expect(text).toMatch(/Protokoll\n\n/);
  });

  it('decodes named and numeric entities, and never re-parses decoded markup', () => {
    expect(decodeEntities('Bj&oslash;rvika, T&Oslash;YEN, &aelig;&AElig; &aring;&Aring; &amp; &lt;b&gt;')).toBe('Bjørvika, TØYEN, æÆ åÅ & <b>');
    expect(decodeEntities('&#229; &#xE5; &#XC5; &#150; &#0; &ukjent; AT&T')).toBe('å å Å – \uFFFD &ukjent; AT&T');
    const { text } = htmlToText('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
    expect(text).toBe('<script>alert(1)</script>');
  });

  it('takes the title from the first <h1> when there is no <title>, and handles odd markup', () => {
    const { text, title } = htmlToText('<h1 class="x">Sak <em>45/24</em></h1><p title="a>b">Tekst 1 < 2</p><div>uavsluttet');
    expect(title).toBe('Sak 45/24');
    expect(text).toBe('Sak 45/24\n\nTekst 1 < 2\n\nuavsluttet');
  });

  it('extracts an HTML buffer through extractBuffer', async () => {
    const x = await extractBuffer(Buffer.from('<html><body><h1>Vedtak</h1><p>Bydel Gamle Oslo</p></body></html>'), 'text/html; charset=utf-8');
    expect(x).toMatchObject({ paged: false, mediaType: 'text/html', method: 'html', title: 'Vedtak' });
    expect(x.pages).toEqual([{ num: null, text: 'Vedtak\n\nBydel Gamle Oslo' }]);
    expect(await codeOf(extractBuffer(Buffer.from('<script>x()</script>'), 'text/html'))).toBe('empty');
  });
});

// ---------------------------------------------------------------------------------------
describe('text and markdown', () => {
  it('falls back to windows-1252 for latin1 bytes', async () => {
    const latin1 = Buffer.from('Møte på Tøyen\nÆrlig talt', 'latin1');
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(latin1)).toThrow();
    const x = await extractBuffer(latin1, 'text/plain');
    expect(x.pages).toEqual([{ num: null, text: 'Møte på Tøyen\nÆrlig talt' }]);
    expect(x.paged).toBe(false);
    expect(x.method).toBe('text');
    expect(x.warnings.join(' ')).toMatch(/windows-1252/);
    expect(decodeText(Buffer.from('Møte på Tøyen', 'utf8'))).toMatchObject({ text: 'Møte på Tøyen', encoding: 'utf-8', warnings: [] });
    expect(decodeText(Buffer.from('\uFEFFMøte', 'utf8')).text).toBe('Møte');
    expect(decodeText(Buffer.from('\uFEFFMøte', 'utf16le')).text).toBe('Møte');
  });

  it('splits text with form feeds into numbered pages', async () => {
    const x = await extractBuffer(Buffer.from('side en\n\fside to\fside tre\f'), 'text/plain');
    expect(x.paged).toBe(true);
    expect(x.pages).toEqual([
      { num: 1, text: 'side en' },
      { num: 2, text: 'side to' },
      { num: 3, text: 'side tre' },
    ]);
  });

  it('takes the markdown title from the first "# " heading, not from code blocks', async () => {
    const md = '```\n# ikke tittel\n```\n## Under\n# Referat fra bydelsutvalget #\n\nTekst';
    const x = await extractBuffer(Buffer.from(md), 'text/markdown');
    expect(x.method).toBe('markdown');
    expect(x.title).toBe('Referat fra bydelsutvalget');
    expect(x.pages[0].text).toBe(md);
  });

  it('reports empty, unsupported and too-large input with the right code', async () => {
    expect(await codeOf(extractBuffer(Buffer.alloc(0), 'text/plain'))).toBe('empty');
    expect(await codeOf(extractBuffer(Buffer.from(' \n\t\n'), 'text/plain'))).toBe('empty');
    expect(await codeOf(extractBuffer(Buffer.from('x'), 'application/msword'))).toBe('unsupported');
    expect(await codeOf(extractFile(path.join(here, 'nothing.docx')))).toBe('unsupported');
    process.env.INNSIKT_MAX_FILE_MB = '0.00001'; // ~10 bytes
    try {
      const err = await extractBuffer(Buffer.from('Dette er mer enn ti byte.'), 'text/plain').catch((e) => e);
      expect(err).toBeInstanceOf(ExtractionError);
      expect(err.code).toBe('too-large');
      expect(err.message).toMatch(/INNSIKT_MAX_FILE_MB/);
    } finally {
      delete process.env.INNSIKT_MAX_FILE_MB;
    }
  });

  it('maps file extensions to media types', () => {
    expect(mediaTypeFor('a/b/Møtebok.PDF')).toBe('application/pdf');
    expect(mediaTypeFor('x.txt')).toBe('text/plain');
    expect(mediaTypeFor('x.md')).toBe('text/markdown');
    expect(mediaTypeFor('x.markdown')).toBe('text/markdown');
    expect(mediaTypeFor('x.html')).toBe('text/html');
    expect(mediaTypeFor('x.htm')).toBe('text/html');
    expect(mediaTypeFor('x.docx')).toBeNull();
    expect(mediaTypeFor('README')).toBeNull();
  });

  it('rejects a non-PDF given as application/pdf with a clear message', async () => {
    const err = await extractBuffer(Buffer.from('<!DOCTYPE html><html><body>Logg inn</body></html>'), 'application/pdf').catch((e) => e);
    expect(err).toBeInstanceOf(ExtractionError);
    expect(err.code).toBe('corrupt');
    expect(err.message).toMatch(/HTML/);
  });
});

// ---------------------------------------------------------------------------------------
describe.skipIf(!haveCorpus)('PDF extraction on the real corpus', () => {
  afterEach(() => {
    delete process.env.INNSIKT_EXTRACT_TIMEOUT_MS;
  });

  it('extracts the Bø møtebok: 2 pages, letter-spaced heading joined', async () => {
    const x = await extractFile(path.join(PDFS, 'no_bo-kommune_motebok_PTN-139-12_K-112-12_breisas-syd_2012.pdf'));
    expect(x).toMatchObject({ paged: true, mediaType: 'application/pdf', method: 'pdf-text' });
    expect(x.pages.map((p) => p.num)).toEqual([1, 2]);
    // The PDF draws "Bøkommune" glyph by glyph at overlapping positions with no space glyph
    // between "Bø" and "kommune" (pdftotext gives "B / øk / m / o / u / n / e"), so the text
    // layer really says "Bøkommune"; pdf-parse alone gave "B\tø\tk\to\tm\tm\tu\tn\te".
    expect(x.pages[0].text.startsWith('Bøkommune Møtebok\n')).toBe(true);
    expect(x.pages[0].text).toContain('Endring av reguleringsplan for Breisås syd, 2. gongs handsaming');
    expect(x.pages[1].text).toContain('Breisås syd');
    expect(x.pages[1].text).toContain('Som PTN-utvalet (plan, teknikk, næring) - vedteke med 14 mot 10 røyster.');
    // Paragraph structure survives as blank lines.
    expect(x.pages[0].text).toMatch(/ettersyn\. Frist for å kome med\nmerknader vart sett til 01\.11\.12\.\n\nDet har kome/);
    expect(x.pages[1].text).toContain('• Området skal opparbeides som enkel balløkke');
    expect(x.pages.every((p) => !/[\t\u0000]/.test(p.text))).toBe(true);
    expect(x.title).toBeUndefined(); // its Title is "Microsoft Word - 181201_3_P.doc"
  });

  it('takes a PDF title from the document info when it is a real title', async () => {
    const x = await extractFile(path.join(PDFS, 'no_kmd_veileder-manuell-forelopig-opptelling-valgforskriften-37a_2019.pdf'));
    expect(x.title).toBe('Veileder om manuell foreløpig opptelling etter valgforskriften § 37a');
  });

  it('extracts the Oslo valgstyrets møtebok with the right pages', async () => {
    const x = await extractFile(path.join(PDFS, 'no_oslo_valgstyrets-motebok_kommunestyrevalget-2019.pdf'));
    expect(x.pages).toHaveLength(109);
    expect(x.pages.map((p) => p.num)).toEqual(Array.from({ length: 109 }, (_, i) => i + 1));
    // pdftotext finds "forhåndsstemmer" on pages 7, 22, 25 and 26.
    const withWord = x.pages.filter((p) => /forhåndsstemmer\b/i.test(p.text)).map((p) => p.num);
    expect(withWord).toEqual([7, 22, 25, 26]);
    expect(x.pages[6].text).toContain('B Foreløpig opptelling av forhåndsstemmer');
    expect(x.pages[1].text).toContain('Valgprotokoll for valgstyret - Kommunestyrevalget 2019');
    expect(x.warnings).toEqual([]);
  });

  it("keeps the caller's buffer intact (extractBuffer copies once, then transfers)", async () => {
    const buf = fs.readFileSync(path.join(PDFS, 'no_eigersund_stemmestyrets-motebok_egersund-krets_2019.pdf'));
    const size = buf.length;
    const x = await extractBuffer(buf, 'application/pdf');
    expect(x.pages.length).toBe(5);
    expect(buf.length).toBe(size);
    expect(buf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  /** What each nasty file really does (checked against pdftotext/pdfinfo), text layer only (OCR off; see below). */
  const NASTY_EXPECTED: Record<string, { code: ExtractionErrorCode | 'ok'; check?: (x: Extraction) => void }> = {
    'no_bo-kommune_plankart_breisas-syd_2012_A1-MAP.pdf': {
      code: 'ok',
      check: (x) => expect(x.pages[0].text).toContain('TEGNFORKLARING'),
    },
    'no_harstad_valgprotokoll-2019_GARBLED-TEXT-LAYER.pdf': {
      code: 'ok',
      check: (x) => {
        expect(x.pages).toHaveLength(46);
        expect(x.warnings.join('\n')).toMatch(/garbled on all pages/);
      },
    },
    'no_namsskogan_valgprotokoll-2019_SCANNED-NO-TEXT.pdf': { code: 'no-text' },
    'no_sande-mr_valprotokoll-2019_SCANNED-WITH-OCR-ERRORS.pdf': {
      code: 'ok',
      check: (x) => {
        expect(x.pages).toHaveLength(16);
        expect(x.pages[0].text).toContain('Sande kommune, Møre og Romsdal fylke');
        expect(x.warnings.join('\n')).not.toMatch(/garbled/); // OCR errors, but readable
      },
    },
    'xx_broken-xref_unreadable.pdf': { code: 'corrupt' }, // pdftotext gets no text either
    'xx_corrupt-zlib-checksum.pdf': {
      code: 'ok',
      // pdf.js silently stops at the damaged stream: pdftotext recovers a few more lines.
      check: (x) => expect(x.pages[0].text).toContain('Beautiful is better than ugly.'),
    },
    'xx_encrypted_aes256-r6_user-usersecret.pdf': { code: 'encrypted' },
    'xx_encrypted_user-password_openpassword.pdf': { code: 'encrypted' },
    'xx_excel-table-print.pdf': { code: 'ok', check: (x) => expect(x.pages[0].text).toBe('1 2 3\n4 5 6\n7 8 9') },
    'xx_gov-form-tables-fields_irs-f1040nr.pdf': {
      code: 'ok',
      check: (x) => {
        expect(x.pages).toHaveLength(5);
        expect(x.pages[0].text).toContain('U.S. Nonresident Alien Income Tax Return');
      },
    },
    'xx_non-unicode-cmap_garbage-text.pdf': { code: 'ok', check: (x) => expect(x.warnings.join('\n')).toMatch(/garbled/) },
    'xx_recursive-xobjects_evil.pdf': {
      code: 'ok',
      check: (x) => {
        expect(x.pages[0].text).toContain('Hello world');
        expect(x.warnings.join('\n')).toMatch(/circular reference/);
      },
    },
    'xx_scanned-jbig2-xerox_no-text.pdf': { code: 'no-text' },
    'xx_two-column_academic-paper.pdf': {
      code: 'ok',
      check: (x) => expect(x.pages[0].text).toContain('Preemptive Information Extraction using Unrestricted Relation Discovery'),
    },
  };

  it('knows every file in pdfs/nasty', () => {
    const files = fs
      .readdirSync(NASTY)
      .filter((f) => f.toLowerCase().endsWith('.pdf'))
      .sort();
    expect(files).toEqual(Object.keys(NASTY_EXPECTED).sort());
  });

  for (const [file, want] of Object.entries(NASTY_EXPECTED)) {
    it(`nasty/${file} -> ${want.code}`, { timeout: 30_000 }, async () => {
      const started = Date.now();
      let x: Extraction | null = null;
      let err: unknown = null;
      try {
        x = await extractFile(path.join(NASTY, file), { timeoutMs: 20_000, ocr: { enabled: false } });
      } catch (e) {
        err = e;
      }
      expect(Date.now() - started).toBeLessThan(20_000);
      if (want.code === 'ok') {
        expect(err).toBeNull();
        expect(x!.pages.some((p) => p.text.trim() !== '')).toBe(true);
        want.check?.(x!);
      } else {
        expect(err).toBeInstanceOf(ExtractionError);
        const e = err as ExtractionError;
        expect(e.code).toBe(want.code);
        expect(e.message).toContain(file);
        if (want.code === 'encrypted') expect(e.message).toMatch(/password/i);
        if (want.code === 'no-text') expect(e.message).toMatch(/needs OCR, which is turned off here \(INNSIKT_OCR=off\)/);
        if (want.code === 'corrupt') expect(e.message).toMatch(/Invalid Root reference/); // pdf.js' reason
      }
    });
  }

  it('extracts all nasty files in parallel as one batch, without hanging', { timeout: 60_000 }, async () => {
    const files = Object.keys(NASTY_EXPECTED);
    const started = Date.now();
    const codes = await Promise.all(files.map((f) => codeOf(extractFile(path.join(NASTY, f), { timeoutMs: 30_000, ocr: { enabled: false } }))));
    expect(codes).toEqual(files.map((f) => NASTY_EXPECTED[f].code));
    expect(Date.now() - started).toBeLessThan(45_000);
  });

  it('times out, replaces the worker, and goes on working', { timeout: 30_000 }, async () => {
    const big = path.join(PDFS, 'no_vestland-fylkeskommune_valprotokoll-fylkesvalstyret-del2_2019.pdf');
    const small = path.join(PDFS, 'no_bo-kommune_motebok_PTN-139-12_K-112-12_breisas-syd_2012.pdf');
    const err = await extractFile(big, { timeoutMs: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(ExtractionError);
    expect(err.code).toBe('timeout');
    expect(err.message).toMatch(/INNSIKT_EXTRACT_TIMEOUT_MS/);
    process.env.INNSIKT_EXTRACT_TIMEOUT_MS = '1';
    expect(await codeOf(extractFile(small))).toBe('timeout'); // the env default applies
    delete process.env.INNSIKT_EXTRACT_TIMEOUT_MS;
    const x = await extractFile(small);
    expect(x.pages).toHaveLength(2);
  });

  it('can be shut down and used again', { timeout: 30_000 }, async () => {
    const small = path.join(PDFS, 'no_fmk-nikt_orienteringssak-flytting-av-rapporteket_2017.pdf');
    const pending = extractFile(small).catch((e) => e);
    await shutdownExtractors();
    const r = await pending;
    // Either it finished before the shutdown or it was cancelled with a clear error.
    if (r instanceof Error) expect((r as ExtractionError).code).toBe('timeout');
    await shutdownExtractors(); // twice is fine
    const x = await extractFile(small);
    expect(x.pages.length).toBe(2);
  });

  it('does not keep a CLI process alive when idle (no shutdown call)', { timeout: 30_000 }, async () => {
    const file = path.join(PDFS, 'no_bo-kommune_motebok_PTN-139-12_K-112-12_breisas-syd_2012.pdf');
    const script = `
      import { extractFile } from ${JSON.stringify(path.join(projectRoot, 'ingest/extract/index.ts'))};
      const x = await extractFile(${JSON.stringify(file)});
      console.log('pages=' + x.pages.length);`;
    const started = Date.now();
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: projectRoot, timeout: 20_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
    expect(out.trim()).toBe('pages=2');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

/**
 * OCR (issue 15) of the real scans and the garbled text layer, through the shared OCR cache
 * (vitest.config.ts sets INNSIKT_OCR_CACHE), so only a cold run reads the 67 pages.
 */
describe.skipIf(!haveCorpus || !HAS_OCR_TOOLS)('OCR of scanned and garbled PDFs from the real corpus', () => {
  it('reads the scanned Namsskogan protocol page by page, with its municipality and numbers', { timeout: 600_000 }, async () => {
    const x = await extractFile(path.join(NASTY, 'no_namsskogan_valgprotokoll-2019_SCANNED-NO-TEXT.pdf'));
    expect(x.method).toBe('pdf-ocr');
    expect(x.pages.map((p) => p.num)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(x.pages[0].text).toMatch(/Valgprotokoll for valgstyret i\s+Namsskogan kommune/);
    expect(x.pages.every((p) => p.ocr && p.ocr.confidence !== null && p.ocr.confidence > 0 && p.ocr.confidence <= 100)).toBe(true);
    expect(x.pages.filter((p) => p.ocr?.low).length).toBeLessThanOrEqual(2);
  });

  it('replaces an unusable (garbled) text layer by OCR, and says nothing is garbled any more', { timeout: 600_000 }, async () => {
    const x = await extractFile(path.join(NASTY, 'no_harstad_valgprotokoll-2019_GARBLED-TEXT-LAYER.pdf'));
    expect(x.method).toBe('pdf-ocr');
    expect(x.pages).toHaveLength(46);
    expect(x.pages[0].text).toContain('Harstad kommune');
    expect(x.warnings.join('\n')).not.toMatch(/garbled/);
  });

  it('OCRs only the scanned pages of a mixed document, keeping its page numbers', { timeout: 120_000 }, async () => {
    const from = path.join(projectRoot, 'fixtures/demo/2024-03-14-bydelsutvalget.pdf');
    const pdf = await scannedPdf(from, [{ text: 'Forside med tekstlag: Bydel Gamle Oslo, innkalling.' }, { scan: 2 }, { text: 'Vedlegg med tekstlag.' }]);
    const seen: number[] = [];
    const x = await extractBuffer(pdf, 'application/pdf', { ocr: { onPage: (d) => seen.push(d) } });
    expect(x.method).toBe('pdf-text+ocr');
    expect(x.pages.map((p) => [p.num, !!p.ocr])).toEqual([
      [1, false],
      [2, true],
      [3, false],
    ]);
    expect(x.pages[0].text).toContain('Forside med tekstlag');
    // Page 2 of the source, read from its image.
    const words = pdfPageText(from, 2)
      .split(/\s+/)
      .filter((w) => /^\p{L}{6,}$/u.test(w));
    const got = new Set(x.pages[1].text.split(/[\s.,:;()]+/));
    expect(words.filter((w) => got.has(w)).length / words.length).toBeGreaterThan(0.9);
    expect(seen).toEqual([1]);
  });
});

describe.skipIf(!haveCorpus)('text files from the real corpus', () => {
  it('extracts a Levanger saksprotokoll as one unpaged page', async () => {
    const x = await extractFile(path.join(CORPUS, 'text/no_levanger_ungdomsradet_saksprotokoll_sak-14-2026.txt'));
    expect(x).toMatchObject({ paged: false, mediaType: 'text/plain', method: 'text', warnings: [] });
    expect(x.pages).toHaveLength(1);
    expect(x.pages[0].num).toBeNull();
    expect(x.pages[0].text).toMatch(/^Ungdomsrådets behandling av sak 14\/2026/);
    expect(x.pages[0].text).toContain('Avstemning:\nEnstemmig vedtatt.\n\nVedtak:');
  });
});
