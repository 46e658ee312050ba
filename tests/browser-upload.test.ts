/**
 * Staff uploads in a real browser (issue 15): `innsikt serve --demo` as a child process, with
 * its own ingestion worker child working the queue, driven with headless Chromium.
 *
 * A member of staff signs in through /logg-inn, uploads a scanned PDF (a page image without a
 * text layer, made by tests/scan-fixture.ts, so the worker reads it with Tesseract) and watches
 * the job list go to "ferdig" without a reload; the document carries the "OCR-lest" badge and a
 * search finds it. Then an admin changes its access to internal (an anonymous browser no longer
 * finds it), and deletes it. Every page must run without script or console errors (a CSP
 * violation, a failed htmx request).
 *
 * Skipped without /usr/bin/chromium (never downloads a browser), and without Tesseract.
 */
import fs from 'node:fs';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ARTIFACTS,
  CHROMIUM,
  type DemoServer,
  type ExpectedError,
  HAS_CHROMIUM,
  launchChromium,
  PageProblems,
  RESULT_ITEMS,
  startDemoServer,
} from './browser-harness.ts';
import { tempDir } from './helpers.ts';
import { HAS_OCR_TOOLS, scannedPdf } from './scan-fixture.ts';

if (!HAS_CHROMIUM) console.warn(`[skip] ${CHROMIUM} not found: browser upload tests skipped (install chromium; never "npx playwright install")`);

const STAFF = 'ansatt-nokkel-0123456789';
const ADMIN = 'admin-nokkel-0123456789';
/** A word in no demo document: a hit is the upload and nothing else. */
const WORD = 'zebrafinkeprosjektet';
const TITLE = 'Notat om zebrafinker (skannet)';
const FILE_NAME = 'notat-zebrafinker-skannet.pdf';

let demo: DemoServer | null = null;
let base: string;
let browser: Browser | null = null;
let scan: Buffer;
/** Page errors and console errors, except the browser's line for an answer we asked for (a deleted document's 404). */
const problems = new PageProblems();

function newPage(label: string, expected: ExpectedError[] = []): Promise<{ context: BrowserContext; page: Page }> {
  return problems.newPage(browser!, label, { expected });
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${base}/logg-inn`);
  await page.locator('input#token').fill(token);
  await Promise.all([page.waitForURL(`${base}/`), page.getByRole('button', { name: 'Logg inn' }).click()]);
  expect(await page.locator('header .tilgang').textContent()).toBe('Intern tilgang');
}

/** A one-page text PDF with the word, then "scanned": its page as an image, no text layer. */
async function scannedNote(): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 72 });
  const parts: Buffer[] = [];
  doc.on('data', (b: Buffer) => parts.push(b));
  const done = new Promise<void>((r) => doc.on('end', () => r()));
  doc.fontSize(20).text(`Notat om ${WORD}`);
  doc.moveDown();
  doc
    .fontSize(13)
    .text(
      `Bydelsutvalget ba administrasjonen om en vurdering av ${WORD} i Gamle Oslo. Prosjektet skal gi barn og unge et nytt tilbud ` +
        'på fritidsklubben, og rapporten beskriver kostnader, tidsplan og erfaringer fra andre bydeler.',
    );
  doc.end();
  await done;
  const dir = tempDir('innsikt-scan-src-');
  try {
    const source = path.join(dir, 'tekst.pdf');
    fs.writeFileSync(source, Buffer.concat(parts));
    return await scannedPdf(source, [{ scan: 1 }]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The job's state label in the list, read until it is `state` (the list refreshes itself). */
async function waitForState(page: Page, jobId: string, state: string, timeout = 90_000): Promise<void> {
  await expect.poll(() => page.locator(`#${jobId} .jobbtilstand`).textContent(), { timeout, interval: 250 }).toBe(state);
}

/** The results' titles for a query, as an anonymous or signed-in browser sees them. */
async function resultTitles(page: Page, q: string): Promise<string[]> {
  await page.goto(`${base}/?q=${encodeURIComponent(q)}`);
  await page.locator('#sokestatus').waitFor();
  return page.locator(`${RESULT_ITEMS} .treff-tittel a`).allTextContents();
}

describe.skipIf(!HAS_CHROMIUM || !HAS_OCR_TOOLS)('staff uploads in a browser', () => {
  beforeAll(async () => {
    [demo, browser, scan] = await Promise.all([
      startDemoServer({ INNSIKT_TOKENS: `${STAFF}=internal;${ADMIN}=admin`, INNSIKT_OCR_CACHE: '' }, 'innsikt-browser-upload-'),
      launchChromium(),
      scannedNote(),
    ]);
    base = demo.base;
  }, 120_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await demo?.stop();
  }, 30_000);

  afterEach(() => {
    expect(problems.take(), 'page errors / console errors').toEqual([]);
  });

  it('uploads a scanned PDF, watches it to "ferdig", finds it; an admin makes it internal, then deletes it', async () => {
    // The document's 404s after its access change and its deletion are what we check for.
    const gone = [{ status: 404, path: /^\/documents\// }];
    const staff = await newPage('staff');
    const admin = await newPage('admin', gone);
    const anon = await newPage('anonymous', gone);
    try {
      // --- Staff: sign in, go to the staff page from the header, upload ---------------------
      const { page } = staff;
      await signIn(page, STAFF);
      await Promise.all([page.waitForURL(`${base}/innlesing`), page.locator('header').getByRole('link', { name: 'Innlesing' }).click()]);
      await page.waitForFunction(() => 'htmx' in window);
      // A mark on the window: still there at the end means the page was never reloaded.
      await page.evaluate(() => {
        (window as unknown as { innsiktMark: number }).innsiktMark = 42;
      });
      await page.locator('input#fil').setInputFiles({ name: FILE_NAME, mimeType: 'application/pdf', buffer: scan });
      await page.locator('input#tittel').fill(TITLE);
      await page.getByLabel('Offentlig').check();
      await page.locator('select#dokumenttype').selectOption('innsiktsrapport');
      await page.getByRole('button', { name: 'Last opp' }).click();

      const notice = page.locator('.opplasting .varsel-ok');
      await notice.waitFor({ timeout: 15_000 });
      const jobNumber = /jobb (\d+)/.exec((await notice.textContent()) ?? '')?.[1];
      expect(jobNumber, (await notice.textContent()) ?? '').toBeTruthy();
      const jobId = `jobb-${jobNumber}`;
      expect(await page.locator(`#${jobId} .jobb-navn`).textContent()).toBe(FILE_NAME);
      expect(new URL(page.url()).pathname).toBe('/innlesing');
      // The form is fresh again for the next file.
      expect(await page.locator('input#tittel').inputValue()).toBe('');

      // The worker reads it (OCR): the list polls itself until the job is done.
      const seen = new Set<string>();
      const t0 = Date.now();
      await expect
        .poll(
          async () => {
            const state = (await page.locator(`#${jobId} .jobbtilstand`).textContent()) ?? '';
            seen.add(state);
            const progress = await page
              .locator(`#${jobId} .jobb-fremdrift`)
              .textContent({ timeout: 100 })
              .catch(() => null);
            if (progress) seen.add(progress);
            return state;
          },
          { timeout: 90_000, interval: 200 },
        )
        .toBe('ferdig');
      console.log(`[browser-upload] job ${jobNumber} done in ${((Date.now() - t0) / 1000).toFixed(1)} s; seen: ${[...seen].join(' | ')}`);
      expect(await page.evaluate(() => (window as unknown as { innsiktMark?: number }).innsiktMark)).toBe(42);
      // Nothing active any more: the list stopped polling.
      expect(await page.locator('#jobber').getAttribute('hx-trigger')).toBeNull();
      expect(await page.locator(`#${jobId} .jobb-resultat`).textContent()).toBe('1 side');
      await page.screenshot({ path: path.join(ARTIFACTS, 'upload-done.png'), fullPage: true });

      // --- The document: OCR badge; a search finds it, with the OCR badge ------------------
      await Promise.all([page.waitForURL(/\/documents\//), page.locator(`#${jobId}`).getByRole('link', { name: 'Åpne dokumentet' }).click()]);
      const docUrl = page.url();
      expect(await page.locator('h1.dokumenttittel').textContent()).toBe(TITLE);
      expect(await page.locator('.ocr-info .merke-ocr').textContent()).toBe('OCR-lest');
      expect(await page.locator('.ocr-info').textContent()).toMatch(/snittsikkerhet \d+\u00a0%/);
      expect(await page.locator('section#side-1 .merke-ocr-side').textContent()).toMatch(/^OCR \d+\u00a0%$/);
      expect((await page.locator('section#side-1').textContent())?.toLowerCase()).toContain(WORD);
      expect(await page.locator('table.metadata tr', { hasText: 'Dokumenttype' }).locator('td').textContent()).toBe('Innsiktsrapport');
      // Staff who are not admins get no admin controls.
      expect(await page.locator('details.admin').count()).toBe(0);
      await page.screenshot({ path: path.join(ARTIFACTS, 'upload-document.png'), fullPage: true });

      expect(await resultTitles(page, WORD)).toEqual([TITLE]);
      expect(await page.locator(`${RESULT_ITEMS} .treff-tittel .merke-ocr`).first().textContent()).toMatch(/^OCR/);
      expect(await resultTitles(anon.page, WORD)).toEqual([TITLE]); // public for now

      // --- Admin: change its access to internal -------------------------------------------
      await signIn(admin.page, ADMIN);
      await admin.page.goto(docUrl);
      await admin.page.locator('details.admin summary').click();
      await admin.page.locator('details.admin').getByLabel('Intern').check();
      await Promise.all([admin.page.waitForURL(/\/innlesing\?lagt-i-ko=\d+/), admin.page.getByRole('button', { name: 'Endre tilgang' }).click()]);
      const accessJob = `jobb-${new URL(admin.page.url()).searchParams.get('lagt-i-ko')}`;
      expect(await admin.page.locator('main > .varsel-ok').textContent()).toContain('er lagt i kø');
      await waitForState(admin.page, accessJob, 'ferdig', 30_000);

      // The public no longer finds it, nor opens it; staff still do.
      await expect.poll(() => resultTitles(anon.page, WORD), { timeout: 10_000 }).toEqual([]);
      expect((await anon.page.goto(docUrl))?.status()).toBe(404);
      expect(await resultTitles(page, WORD)).toEqual([TITLE]);
      await page.goto(docUrl);
      expect(await page.locator('table.metadata tr', { hasText: 'Tilgang' }).locator('td').textContent()).toBe('Intern');

      // --- Admin: delete it (a confirmation first) ------------------------------------------
      await admin.page.goto(docUrl);
      await admin.page.locator('details.admin summary').click();
      await admin.page.getByLabel('Ja, slett dokumentet').check();
      await Promise.all([admin.page.waitForURL(/\/innlesing\?lagt-i-ko=\d+/), admin.page.getByRole('button', { name: 'Slett dokument' }).click()]);
      const deleteJob = `jobb-${new URL(admin.page.url()).searchParams.get('lagt-i-ko')}`;
      await waitForState(admin.page, deleteJob, 'ferdig', 30_000);
      await admin.page.screenshot({ path: path.join(ARTIFACTS, 'upload-admin-jobs.png'), fullPage: true });
      expect((await admin.page.goto(docUrl))?.status()).toBe(404);
      await expect.poll(() => resultTitles(page, WORD), { timeout: 10_000 }).toEqual([]);
    } finally {
      await Promise.all([staff.context.close(), admin.context.close(), anon.context.close()]);
    }
  }, 180_000);

  it('refuses a Word document renamed .pdf in the page, with the reason', async () => {
    // htmx swaps the 415 answer into the page (the refusal is the test); the browser logs its status.
    const { context, page } = await newPage('refusal', [{ status: 415, path: /^\/innlesing\/last-opp$/ }]);
    try {
      await signIn(page, STAFF);
      await page.goto(`${base}/innlesing`);
      await page.waitForFunction(() => 'htmx' in window);
      const docx = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), Buffer.from('[Content_Types].xml word/document.xml')]);
      await page.locator('input#fil').setInputFiles({ name: 'rapport.pdf', mimeType: 'application/pdf', buffer: docx });
      await page.locator('input#tittel').fill('Behold tittelen');
      await page.getByRole('button', { name: 'Last opp' }).click();
      const error = page.locator('.opplasting .varsel-feil');
      await error.waitFor({ timeout: 10_000 });
      expect(await error.textContent()).toContain('«rapport.pdf» er ikke en PDF: innholdet ser ut som et ZIP-arkiv');
      expect(await page.locator('input#tittel').inputValue()).toBe('Behold tittelen');
      expect(await page.locator('.jobb-navn', { hasText: 'rapport.pdf' }).count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
