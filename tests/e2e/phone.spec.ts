// The person on a small, cheap phone, often with JavaScript off. The first screen of home, help
// and missing shows the page's heading and the start of what it is for, with the quick exit and
// the hotline number, without scrolling; every language's home and help page is photographed at
// 360 × 640 for a person to look at; the browser's own "fill in this field" never hides the
// field under the sticky exit bar; the photo button speaks the page's language; the reference
// code someone may copy by hand never breaks inside a group.
import { expect, test, type Browser, type Locator, type Page } from '@playwright/test';
import { helpFields, post, urlencoded } from '../support/intake.ts';
import { hydrated } from '../support/forms.ts';
import { png } from '../support/images.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { contacts } from '../../src/site/contacts.ts';
import { telHref } from '../../src/site/links.ts';
import { locales } from '../../src/i18n/locales.ts';
import ru from '../../src/i18n/ui/ru.json' with { type: 'json' };
import ar from '../../src/i18n/ui/ar.json' with { type: 'json' };

let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer();
});
test.afterAll(async () => {
  await server?.stop();
});

type Box = { x: number; y: number; width: number; height: number };

async function boxOf(locator: Locator, what: string): Promise<Box> {
  const box = await locator.boundingBox();
  expect(box, `${what} is shown`).not.toBeNull();
  return box!;
}

/** Opens `path` in `page`; with JavaScript, a form page once its island has hydrated (it may change the layout). */
async function open(page: Page, path: string, javaScript: boolean) {
  await page.goto(server.url + path);
  if (javaScript && /\/(help|missing)\/$/.test(path)) await hydrated(page);
}

/** What a page is for, as its first screen must show it: the form's first question, or the ways to get help. */
function purpose(page: Page, path: string): [string, Locator][] {
  if (!/\/(help|missing)\/$/.test(path)) {
    return [
      ['the heading of the three ways to get help', page.locator('main h2').first()],
      ['the first way to get help', page.locator('.cards .card').first().locator('h3')],
    ];
  }
  const first = page.locator('form.intake-form .field').first();
  return [
    ['the first question', first.locator('legend, label').first()],
    ['its first answer', first.locator('input:not([type=hidden]), textarea').first()],
  ];
}

const firstScreens = ['ru', 'en', 'ar'].flatMap((code) => [`/${code}/`, `/${code}/help/`, `/${code}/missing/`]);
const hotline = `.hotlines a[href="${telHref(contacts.hotline.display)}"]`;

for (const [width, height] of [[360, 640], [390, 844]] as const) {
  for (const javaScript of [true, false]) {
    test(`at ${width} × ${height}, JavaScript ${javaScript ? 'on' : 'off'}: home, help and missing (ru, en, ar) show the heading, the start of their purpose, the quick exit and the hotline number without scrolling`, async ({ browser }, testInfo) => {
      const context = await browser.newContext({ viewport: { width, height }, javaScriptEnabled: javaScript });
      const page = await context.newPage();
      const positions: Record<string, Record<string, number>> = {};
      const outside: string[] = [];
      for (const path of firstScreens) {
        await open(page, path, javaScript);
        expect(await page.evaluate(() => scrollY), path).toBe(0);
        const shown: [string, Locator][] = [
          ['the heading', page.locator('h1')],
          ...purpose(page, path),
          ['the quick exit', page.locator('.quick-exit__button')],
          ['the hotline number', page.locator(hotline)],
        ];
        const at: Record<string, number> = {};
        for (const [what, locator] of shown) {
          const box = await boxOf(locator, `${path}: ${what}`);
          at[`${what}: top`] = Math.round(box.y);
          at[`${what}: bottom`] = Math.round(box.y + box.height);
          const inside = box.x >= 0 && box.y >= 0 && box.x + box.width <= width && box.y + box.height <= height;
          if (!inside) outside.push(`${path}: ${what} at x ${Math.round(box.x)}–${Math.round(box.x + box.width)}, y ${Math.round(box.y)}–${Math.round(box.y + box.height)}`);
        }
        positions[path] = at;
      }
      await testInfo.attach('positions.json', { body: JSON.stringify(positions, null, 2), contentType: 'application/json' });
      expect(outside, `outside the ${width} × ${height} screen`).toEqual([]);
      await context.close();
    });
  }
}

/**
 * What looks broken on a small screen, measured: anything wider than the screen, a block whose
 * text sticks out of it (a long Kazakh or Uzbek word), and the lines that must stay one line.
 */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    // The lines a block's visible text takes: its text boxes, grouped where they overlap in height.
    const lines = (el: Element) => {
      const rects: DOMRect[] = [];
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement?.closest('.visually-hidden') || !node.textContent?.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        rects.push(...[...range.getClientRects()].filter((r) => r.width > 0));
      }
      let count = 0;
      let bottom = -Infinity;
      for (const r of rects.sort((a, b) => a.top - b.top)) {
        if (r.top >= bottom - 1) count++;
        bottom = Math.max(bottom, r.bottom);
      }
      return count;
    };
    const name = (el: Element) => `<${el.tagName.toLowerCase()} class="${el.className}">${(el.textContent ?? '').trim().slice(0, 40)}`;
    if (document.documentElement.scrollWidth > innerWidth) problems.push(`the page is ${document.documentElement.scrollWidth} px wide`);
    for (const el of document.querySelectorAll('body *')) {
      const style = getComputedStyle(el);
      if (style.display === 'inline' || style.display === 'none' || el.closest('.visually-hidden, .file-pick__input, [hidden]')) continue;
      if (el.scrollWidth > el.clientWidth + 1 && style.overflowX === 'visible') problems.push(`text sticks out of ${name(el)}`);
    }
    for (const selector of ['.quick-exit__hint', '.languages summary']) {
      const el = document.querySelector(selector)!;
      if (lines(el) !== 1) problems.push(`${selector} takes ${lines(el)} lines`);
    }
    const links = [...document.querySelectorAll('.site-header__nav li')].filter((li) => li.getClientRects().length > 0);
    if (new Set(links.map((li) => Math.round(li.getBoundingClientRect().top))).size !== 1) problems.push('the navigation takes more than one line');
    return problems;
  });
}

const barHeight = (page: Page) => page.locator('.quick-exit').evaluate((el) => el.getBoundingClientRect().height);

test("at 360 × 640, every language's home and help page: a screenshot of each, nothing sticking out, one line each for the exit hint, the navigation and the language picker, the exit bar as high everywhere", async ({ browser }, testInfo) => {
  const context = await browser.newContext({ viewport: { width: 360, height: 640 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const bars = new Map<string, number>();
  for (const { code } of locales) {
    for (const [name, path] of [['home', `/${code}/`], ['help', `/${code}/help/`]] as const) {
      await open(page, path, true);
      const file = testInfo.outputPath(`${code}-${name}-360x640.png`);
      await page.screenshot({ path: file });
      await testInfo.attach(`${code}-${name}-360x640.png`, { path: file, contentType: 'image/png' });
      problems.push(...(await layoutProblems(page)).map((p) => `${path}: ${p}`));
      bars.set(path, await barHeight(page));
      // The bar keeps its height on the narrowest phones too: scroll-padding counts on it.
      await page.setViewportSize({ width: 320, height: 640 });
      bars.set(`${path} at 320 px`, await barHeight(page));
      if (await page.evaluate(() => document.documentElement.scrollWidth > innerWidth)) problems.push(`${path}: wider than 320 px`);
      await page.setViewportSize({ width: 360, height: 640 });
    }
  }
  expect(problems).toEqual([]);
  expect(new Set(bars.values()), 'the exit bar is as high on every page, at 360 and at 320 px').toEqual(new Set([bars.get('/ru/')]));
  await context.close();
});

test('without JavaScript the language picker is one closed line that opens from the keyboard, names each language in itself with its lang and hreflang, and marks the current one', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 360, height: 640 }, javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.url}/ru/help/`);
  const picker = page.getByRole('navigation', { name: ru['languages.label'] });
  const summary = picker.locator('summary');
  await expect(summary).toHaveAccessibleName(`${ru['languages.label']}: Русский`);
  const links = picker.getByRole('link');
  await expect(links.first()).toBeHidden();
  await summary.focus();
  await page.keyboard.press('Enter');
  await expect(links).toHaveCount(locales.length);
  for (const [i, { code, label, lang, dir }] of locales.entries()) {
    const link = links.nth(i);
    await expect(link).toBeVisible();
    await expect(link).toHaveText(label);
    await expect(link).toHaveAttribute('lang', lang);
    await expect(link).toHaveAttribute('hreflang', lang);
    await expect(link.locator('span')).toHaveAttribute('dir', dir);
    await expect(link).toHaveAttribute('href', `/${code}/help/`);
    if (code === 'ru') await expect(link).toHaveAttribute('aria-current', 'true');
    else await expect(link).not.toHaveAttribute('aria-current');
    // The open list lies over the page, on the screen, and its links are full tap targets.
    const box = await boxOf(link, label);
    expect(box.x >= 0 && box.x + box.width <= 360 && box.y + box.height <= 640, `${label} on the screen`).toBe(true);
    expect(box.height, `${label} tap target`).toBeGreaterThanOrEqual(24);
  }
  // The keyboard goes from the summary into the list, and a link opens the same page in that language.
  await page.keyboard.press('Tab');
  await expect(links.first()).toBeFocused();
  await links.filter({ hasText: 'العربية' }).click();
  await expect(page).toHaveURL(`${server.url}/ar/help/`);
  await expect(page.locator('h1')).toHaveText(ar['help.title']);
  await context.close();
});

test('on a desktop screen the header keeps its tagline, all its links and the picker on two lines', async ({ browser }, testInfo) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/ru/`);
  await expect(page.locator('.site-header__tagline')).toHaveText(ru['site.tagline']);
  const nav = page.getByRole('navigation', { name: ru['nav.label'] });
  for (const key of ['nav.help', 'nav.missing', 'nav.safety', 'nav.allPages'] as const) await expect(nav.getByRole('link', { name: ru[key] })).toBeVisible();
  await expect(page.locator('.hotlines').getByRole('link', { name: contacts.email })).toBeVisible();
  const header = await boxOf(page.locator('.site-header'), 'the header');
  expect(header.height, 'the header is two short lines').toBeLessThan(110);
  expect(await layoutProblems(page)).toEqual([]);
  const file = testInfo.outputPath('ru-home-1280x800.png');
  await page.screenshot({ path: file });
  await testInfo.attach('ru-home-1280x800.png', { path: file, contentType: 'image/png' });
  await context.close();
});

test.describe('without JavaScript, the browser checks required fields itself', () => {
  test.use({ javaScriptEnabled: false, viewport: { width: 360, height: 640 } });

  /** Sends the form from its button at the end of the page, and returns the field the browser moved to. */
  async function sendFromTheEnd(page: Page): Promise<Locator> {
    const button = page.locator('form.intake-form button[type=submit]');
    await button.scrollIntoViewIfNeeded();
    await button.click();
    const id = await page.waitForFunction(() => (document.activeElement?.matches('input, textarea') ? document.activeElement.id : '')).then((h) => h.jsonValue());
    return page.locator(`[id="${id}"]`);
  }

  async function expectInView(page: Page, field: Locator, what: string) {
    const bar = await boxOf(page.locator('.quick-exit'), 'the exit bar');
    const box = await boxOf(field, what);
    expect(box.y, `${what} starts below the exit bar (${Math.round(bar.y + bar.height)} px)`).toBeGreaterThanOrEqual(bar.y + bar.height);
    expect(box.y + box.height, `${what} ends on the screen`).toBeLessThanOrEqual(640);
  }

  test('the field its "fill in this field" points at is below the sticky exit bar and on the screen', async ({ page }) => {
    await page.goto(`${server.url}/ru/help/`);
    // The first question (radios) and, once it is answered, the message (a text area, further down).
    const first = await sendFromTheEnd(page);
    await expect(first).toHaveAttribute('id', 'f-for-self');
    await expectInView(page, first, 'the first answer of "who needs help"');
    // Its question is on the screen too, not under the bar.
    await expectInView(page, page.locator('fieldset:has(#f-for-self) > legend'), 'its question');
    await first.check();
    const message = await sendFromTheEnd(page);
    await expect(message).toHaveAttribute('id', 'f-message');
    await expectInView(page, message, 'the message');
    await expectInView(page, page.locator('label[for="f-message"]'), "the message's label");
  });
});

test.describe('the photo button', () => {
  for (const javaScript of [false, true]) {
    test(`JavaScript ${javaScript ? 'on' : 'off'}: is in the page's language, a full tap target, and opens the picker`, async ({ browser }) => {
      const context = await browser.newContext({ viewport: { width: 360, height: 640 }, javaScriptEnabled: javaScript, locale: 'ru-RU' });
      const page = await context.newPage();
      await open(page, '/ar/missing/', javaScript);
      const button = page.locator('label.file-pick__button');
      await expect(button).toHaveText(ar['missing.form.photos.label']);
      const input = page.getByLabel(ar['missing.form.photos.label']);
      await expect(input).toHaveAttribute('type', 'file');
      const box = await boxOf(button, 'the photo button');
      expect(box.width, 'wide enough to tap').toBeGreaterThanOrEqual(44);
      expect(box.height, 'high enough to tap').toBeGreaterThanOrEqual(44);
      // Right to left: the button starts the line on the right.
      const field = await boxOf(page.locator('fieldset:has(.file-pick)'), 'the photo field');
      expect(box.x + box.width, 'at the start of an RTL line').toBeGreaterThan(field.x + field.width - 30);
      // The browser's own button, named in the browser's language, is not shown.
      expect(await input.evaluate((el) => getComputedStyle(el, '::file-selector-button').display)).toBe('none');
      const [chooser] = await Promise.all([page.waitForEvent('filechooser'), button.click()]);
      expect(chooser.isMultiple()).toBe(true);
      const status = page.locator('.file-pick__status');
      if (!javaScript) {
        // Without JS the input itself says what was chosen: as high as a tap target.
        expect((await boxOf(input, 'the input')).height).toBeGreaterThanOrEqual(44);
        await expect(status).toHaveCount(0);
      } else {
        // With JS the island says it in the page's language, and the input is kept for the keyboard only.
        await expect(status).toHaveText(ar['missing.form.photos.none']);
        const photo = { name: 'a.png', mimeType: 'image/png', buffer: Buffer.from(png()) };
        await chooser.setFiles([photo, { ...photo, name: 'b.png' }]);
        await expect(status).toHaveText(ar['missing.form.photos.count'].replace('{{n}}', '2'));
        expect((await boxOf(input, 'the input')).width).toBeLessThanOrEqual(1);
        // From the keyboard, the hidden input's focus shows on the button.
        await input.focus();
        await page.keyboard.press('Tab');
        await page.keyboard.press('Shift+Tab');
        await expect(input).toBeFocused();
        await expect(button).toHaveCSS('outline-style', 'solid');
      }
      await context.close();
    });
  }
});

test.describe('the reference code', () => {
  test.use({ javaScriptEnabled: false });

  /** The answer page of a form posted without JavaScript, shown as the browser gets it, from our origin (its styles are same-origin only). */
  async function answerPage(browser: Browser, width: number, style = '') {
    const response = await post(server.url, urlencoded(helpFields()), { accept: 'text/html' });
    expect(response.status).toBe(201);
    // Served without the site's CSP, so a test may add a style of its own.
    const html = (await response.text()).replace('</head>', `<style>${style}</style></head>`);
    const context = await browser.newContext({ viewport: { width, height: 640 }, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.route(`${server.url}/answer-as-posted`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
    await page.goto(`${server.url}/answer-as-posted`);
    return { page, context };
  }

  /**
   * The line of each group of the code (an inline box that wraps has one client rect per line),
   * and whether it stays inside the code's box.
   */
  const groupLines = (page: Page) =>
    page.locator('.reference .reference__group').evaluateAll((groups) =>
      groups.map((g) => {
        const box = g.closest('.reference')!.getBoundingClientRect();
        const own = g.getBoundingClientRect();
        return { rects: g.getClientRects().length, top: Math.round(own.top), inside: own.left >= box.left && own.right <= box.right };
      }),
    );

  for (const width of [320, 360, 390]) {
    test(`at ${width} px each group of the code sits on one line`, async ({ browser }) => {
      const { page, context } = await answerPage(browser, width);
      await expect(page.locator('.reference')).toHaveCSS('font-size', '32px');
      const groups = await groupLines(page);
      expect(groups).toHaveLength(2);
      for (const group of groups) expect(group).toMatchObject({ rects: 1, inside: true });
      await context.close();
    });
  }

  test('at 320 px with the text twice as large, the code wraps, only at its hyphen, and each group stays in its box', async ({ browser }) => {
    // As a phone set to large text does: everything in rem grows, the code with it.
    const { page, context } = await answerPage(browser, 320, 'html { font-size: 200%; }');
    // Larger than at the usual text size, as large as a group can be and still fit the screen.
    expect(parseFloat(await page.locator('.reference').evaluate((el) => getComputedStyle(el).fontSize))).toBeGreaterThan(32);
    const [first, second] = await groupLines(page);
    expect(second!.top, 'the two groups are on two lines').toBeGreaterThan(first!.top);
    expect([first, second], 'neither group is broken or sticks out').toMatchObject([{ rects: 1, inside: true }, { rects: 1, inside: true }]);
    await context.close();
  });
});
