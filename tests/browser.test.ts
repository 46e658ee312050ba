/**
 * The web UI in a real browser: the server as a child process (`innsikt serve --demo` over a
 * temporary data directory), driven with headless Chromium through playwright-core.
 *
 * Covers search as you type (htmx input trigger, hx-push-url, back button), opening a result
 * at the right page of the document, the link to the original PDF, the form without
 * JavaScript, and the no-hits message. Every page must run without script errors or console
 * errors (a CSP violation, a failed htmx request, …). Screenshots go to tests/artifacts/.
 *
 * Skipped when /usr/bin/chromium is missing (never downloads a browser).
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, CHROMIUM, type DemoServer, HAS_CHROMIUM, launchChromium, PageProblems, RESULT_ITEMS, ROOT, startDemoServer } from './browser-harness.ts';

if (!HAS_CHROMIUM) console.warn(`[skip] ${CHROMIUM} not found: browser tests skipped (install chromium; never "npx playwright install")`);

const QUERY = 'lekeplass Tøyenparken';
const EXPECTED: { query: string; expect: { file: string; page: number }[] }[] = JSON.parse(
  fs.readFileSync(path.join(ROOT, 'fixtures/expected-queries.json'), 'utf8'),
).queries;
const EXPECTED_PAGES = EXPECTED.find((q) => q.query === QUERY)!.expect;

let demo: DemoServer | null = null;
let base: string;
let browser: Browser | null = null;

/** Page errors and console errors from every page of every test, checked after each test. */
const problems = new PageProblems();

function newPage(label: string, options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
  return problems.newPage(browser!, label, { context: options });
}

describe.skipIf(!HAS_CHROMIUM)('web UI in a browser', () => {
  beforeAll(async () => {
    [demo, browser] = await Promise.all([startDemoServer(), launchChromium()]);
    base = demo.base;
  }, 90_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await demo?.stop();
  }, 30_000);

  afterEach(() => {
    expect(problems.take(), 'page errors / console errors').toEqual([]);
  });

  it('searches as you type, pushes the URL and goes back', async () => {
    const { context, page } = await newPage('search');
    try {
      await page.goto(`${base}/`);
      await expect.poll(() => page.locator('.intro .eksempler li').count(), { timeout: 10_000 }).toBeGreaterThan(0);
      // htmx must be loaded and have processed the input before we type.
      await page.waitForFunction(() => 'htmx' in window);

      const input = page.locator('input#q');
      await input.click();
      await input.pressSequentially(QUERY, { delay: 20 }); // real key events, no Enter
      // The debounced request for the full query answers, and its URL is pushed.
      await page.waitForURL((url) => url.searchParams.get('q') === QUERY, { timeout: 10_000 });
      await expect.poll(() => page.locator('#sokestatus').textContent(), { timeout: 10_000 }).toContain(`«${QUERY}»`);
      await page.locator(RESULT_ITEMS).first().waitFor();

      expect(page.url()).toContain('q=lekeplass');
      expect(await page.locator('form.sokeskjema').count()).toBe(1); // swapped the fragment, not a page
      const items = page.locator(RESULT_ITEMS);
      expect(await items.count()).toBeGreaterThanOrEqual(3);
      const firstThree = await Promise.all(
        [0, 1, 2].map(async (i) => ({
          title: (await items.nth(i).locator('.treff-tittel a').textContent()) ?? '',
          marks: await items.nth(i).locator('.treff-utdrag mark').count(),
        })),
      );
      expect(
        firstThree.some((r) => /Tøyenparken/i.test(r.title) || r.marks > 0),
        JSON.stringify(firstThree),
      ).toBe(true);
      expect(await page.locator(`${RESULT_ITEMS} mark`).count()).toBeGreaterThan(0);
      const markText = (await page.locator(`${RESULT_ITEMS} mark`).allTextContents()).join(' ').toLowerCase();
      expect(markText).toMatch(/lekeplass|tøyenpark/);
      // The input keeps what was typed (the swap replaced only #resultater).
      expect(await input.inputValue()).toBe(QUERY);
      await page.screenshot({ path: path.join(ARTIFACTS, 'search.png'), fullPage: true });

      // Back: to the empty search (or an earlier, shorter query pushed while typing).
      await page.goBack();
      await page.waitForURL((url) => url.searchParams.get('q') !== QUERY, { timeout: 10_000 });
      const back = new URL(page.url());
      const backQ = back.searchParams.get('q') ?? '';
      expect(back.pathname).toBe('/');
      expect(QUERY.startsWith(backQ), `back to q="${backQ}"`).toBe(true);
      if (backQ === '') {
        await expect.poll(() => page.locator('#resultater .intro').count(), { timeout: 10_000 }).toBe(1);
        expect(await page.locator(RESULT_ITEMS).count()).toBe(0);
        expect(await input.inputValue()).toBe('');
      } else {
        await expect.poll(() => page.locator('#sokestatus').textContent(), { timeout: 10_000 }).toContain(`«${backQ}»`);
      }
      await page.screenshot({ path: path.join(ARTIFACTS, 'search-back.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('opens the first result at the right page, with a link to that page of the PDF', async () => {
    const { context, page } = await newPage('document');
    try {
      await page.goto(`${base}/?q=${encodeURIComponent(QUERY)}`);
      const first = page.locator(`${RESULT_ITEMS} .treff-tittel a`).first();
      await first.waitFor();
      await Promise.all([page.waitForURL((url) => url.pathname.startsWith('/documents/')), first.click()]);
      await page.waitForLoadState('load');

      const url = new URL(page.url());
      expect(url.pathname).toMatch(/^\/documents\/[^/]+$/);
      const side = url.searchParams.get('side');
      expect(side, page.url()).toMatch(/^\d+$/);
      const n = Number(side);
      expect(url.hash).toBe(`#side-${n}`);
      expect(url.searchParams.get('q')).toBe(QUERY);

      // The page from the hit: present, marked as the active one, scrolled into view, with marks.
      const section = page.locator(`section#side-${n}`);
      expect(await section.count()).toBe(1);
      expect(await section.getAttribute('class')).toContain('aktiv');
      expect(await section.locator('.side-merke').textContent()).toContain('Fra søketreffet');
      const viewport = page.viewportSize()!;
      await expect
        .poll(
          async () => {
            const box = await section.boundingBox();
            return box != null && box.y >= -5 && box.y < viewport.height * 0.5;
          },
          { timeout: 5_000 },
        )
        .toBe(true);
      expect(await section.locator('mark').count()).toBeGreaterThan(0);

      // The hit is one of the judged pages for this query.
      const source = (await page.locator('table.metadata tr', { hasText: 'Kilde' }).locator('td').textContent())?.trim();
      expect(
        EXPECTED_PAGES.some((e) => e.file === source && e.page === n),
        `${source} page ${n} not among the expected pages for «${QUERY}»`,
      ).toBe(true);

      const original = page.getByRole('link', { name: 'Åpne original (PDF)' });
      const href = await original.getAttribute('href');
      expect(href).toMatch(new RegExp(`^/documents/[^/]+/file#page=${n}$`));
      expect(href!.split('#')[0]).toBe(`${url.pathname}/file`);
      const pdf = await page.request.get(new URL(href!, page.url()).href);
      expect(pdf.status()).toBe(200);
      expect(pdf.headers()['content-type']).toMatch(/^application\/pdf/);
      expect((await pdf.body()).subarray(0, 5).toString('latin1')).toBe('%PDF-');

      await page.screenshot({ path: path.join(ARTIFACTS, 'document.png') });
      await page.screenshot({ path: path.join(ARTIFACTS, 'document-full.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('works without JavaScript: server-rendered results and a plain form submit', async () => {
    const { context, page } = await newPage('no-js', { javaScriptEnabled: false });
    try {
      await page.goto(`${base}/?q=budsjett`);
      expect(await page.locator(RESULT_ITEMS).count()).toBeGreaterThan(0);
      expect(await page.locator('#sokestatus').textContent()).toContain('«budsjett»');
      expect(await page.locator('input#q').inputValue()).toBe('budsjett');

      await page.locator('input#q').fill('sykehjem');
      await Promise.all([page.waitForURL((url) => url.searchParams.get('q') === 'sykehjem'), page.locator('form.sokeskjema button[type="submit"]').click()]);
      expect(page.url()).toContain('q=sykehjem');
      expect(await page.locator(RESULT_ITEMS).count()).toBeGreaterThan(0);
      expect(await page.locator('#sokestatus').textContent()).toContain('«sykehjem»');
      expect(await page.locator(`${RESULT_ITEMS} mark`).count()).toBeGreaterThan(0);
      expect(await page.locator('input#q').inputValue()).toBe('sykehjem');
      await page.screenshot({ path: path.join(ARTIFACTS, 'no-js.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('says "Ingen treff" for a word that is nowhere', async () => {
    const { context, page } = await newPage('no-hits');
    try {
      await page.goto(`${base}/`);
      await page.waitForFunction(() => 'htmx' in window);
      const input = page.locator('input#q');
      await input.click();
      await input.pressSequentially('xqzvlk', { delay: 20 });
      const status = page.locator('#resultater #sokestatus', { hasText: 'Ingen treff for «xqzvlk»' });
      await status.waitFor({ timeout: 10_000 });
      await page.locator('#resultater .ingen-treff .tips').waitFor();
      expect(await page.locator(RESULT_ITEMS).count()).toBe(0);
      await page.waitForURL((url) => url.searchParams.get('q') === 'xqzvlk');
      await page.screenshot({ path: path.join(ARTIFACTS, 'no-hits.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('filters by a body facet through htmx, pushes the URL and goes back', async () => {
    const { context, page } = await newPage('facets');
    try {
      await page.goto(`${base}/?q=budsjett`);
      await page.waitForFunction(() => 'htmx' in window);
      await page.locator(RESULT_ITEMS).first().waitFor();
      const before = await page.locator('#sokestatus').textContent();
      // Wide screen: the facets are a sidebar, visible without opening "Avgrens søket".
      const facet = page.locator('#resultater fieldset.fasett', { hasText: 'Utvalg' }).locator('a.fasettverdi', { hasText: 'Bydelsutvalget' });
      expect(await facet.isVisible()).toBe(true);
      const count = Number(await facet.locator('.antall').evaluate((e) => e.firstChild?.textContent ?? ''));
      expect(count).toBeGreaterThan(0);
      expect(await page.locator('#resultater fieldset.fasett a.fasettverdi').count()).toBeGreaterThan(3);

      await facet.click();
      await page.waitForURL((url) => url.searchParams.getAll('body').join() === 'Bydelsutvalget', { timeout: 10_000 });
      await expect.poll(() => page.locator('#sokestatus').textContent(), { timeout: 10_000 }).toContain(`${count} dokument`);
      expect(new URL(page.url()).searchParams.get('q')).toBe('budsjett');
      expect(await page.locator('form.sokeskjema').count()).toBe(1); // swapped the fragment, not a page
      const bodies = await page.locator(`${RESULT_ITEMS} .treff-meta > span:first-child`).allTextContents();
      expect(bodies.length).toBe(count > 10 ? 10 : count);
      for (const b of bodies) expect(b).toBe('Bydelsutvalget');
      // Chosen: marked in the facet (focus kept on it), and a removable chip.
      const chosen = page.locator('#resultater a.fasettverdi[aria-current="true"]');
      expect(await chosen.textContent()).toContain('Bydelsutvalget');
      expect(await page.evaluate(() => document.activeElement?.classList.contains('fasettverdi'))).toBe(true);
      expect(await page.locator('#resultater .valgte-filtre a.brikke').textContent()).toContain('Bydelsutvalget');
      // A new query keeps the filter (the hidden body input belongs to the search form).
      await page.locator('input#q').fill('budsjett 2025');
      await page.waitForURL((url) => url.searchParams.get('q') === 'budsjett 2025', { timeout: 10_000 });
      await expect.poll(() => page.locator('#sokestatus').textContent(), { timeout: 10_000 }).toContain('«budsjett 2025»');
      expect(new URL(page.url()).searchParams.getAll('body')).toEqual(['Bydelsutvalget']);
      for (const b of await page.locator(`${RESULT_ITEMS} .treff-meta > span:first-child`).allTextContents()) expect(b).toBe('Bydelsutvalget');
      await page.mouse.move(0, 0);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(ARTIFACTS, 'facets.png'), fullPage: false });

      // Back twice: to the unfiltered results.
      await page.goBack();
      await page.waitForURL((url) => url.searchParams.get('q') === 'budsjett', { timeout: 10_000 });
      await page.goBack();
      await page.waitForURL((url) => !url.searchParams.has('body'), { timeout: 10_000 });
      await expect.poll(() => page.locator('#sokestatus').textContent(), { timeout: 10_000 }).toBe(before);
      expect(await page.locator('#resultater a.fasettverdi[aria-current="true"]').count()).toBe(0);
      expect(await page.locator('#resultater .valgte-filtre').count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  // Hostile document text (script tags, hx-* attributes in PDFs) is covered in views.test.tsx;
  // the demo corpus has none.
});
