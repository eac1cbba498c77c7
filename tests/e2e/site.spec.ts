// The public site. Every built page over HTTP, all at once: what can be read in its HTML and
// headers. Every template in a browser, in Russian and in Arabic (right to left), with
// JavaScript on and off: what needs a browser — layout, axe, what the scripts do and load.
import { expect, test, type Browser, type Page } from '@playwright/test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startServer, type RunningServer } from '../support/server.ts';
import { builtPages } from '../support/pages.ts';
import { expectNoAxeViolations } from '../support/a11y.ts';
import { strictHeaderProblems } from '../support/headers.ts';
import { pageProblems, sameOriginResources, tagsOf } from '../support/html.ts';
import { helpFields, post, urlencoded } from '../support/intake.ts';
import { hydrated } from '../support/forms.ts';
import { getLocale, localeCodes, locales } from '../../src/i18n/locales.ts';
import ru from '../../src/i18n/ui/ru.json' with { type: 'json' };
import en from '../../src/i18n/ui/en.json' with { type: 'json' };
import ar from '../../src/i18n/ui/ar.json' with { type: 'json' };

let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer();
});
test.afterAll(async () => {
  await server?.stop();
});

const allPages = builtPages();
const FORM_PAGE = /\/(help|missing)\/$/;

test('the build has every page in every language', () => {
  const perLocale = (code: string) => allPages.filter((p) => p.startsWith(`/${code}/`)).map((p) => p.slice(code.length + 1));
  for (const { code } of locales) expect(perLocale(code), code).toEqual(perLocale('ru'));
  for (const path of ['/ru/', '/en/', '/ru/faq/', '/en/faq/']) expect(allPages).toContain(path);
});

test('every page over HTTP: its status, language and direction, one h1, the quick exit, strict headers, nothing from another origin', async () => {
  const notFound = (code: string) => (JSON.parse(readFileSync(`src/i18n/ui/${code}.json`, 'utf8')) as typeof ru)['notFound.title'];
  const problems: string[] = [];
  const resources = new Map<string, string>();
  const check = async (path: string, status: number) => {
    const response = await fetch(server.url + path);
    const html = await response.text();
    const found: string[] = [];
    if (response.status !== status) found.push(`status ${response.status}`);
    found.push(...strictHeaderProblems(response.headers, 'headers'));
    if (FORM_PAGE.test(path) && response.headers.get('cache-control') !== 'no-store') found.push('a form that may be cached');
    const code = path.split('/')[1]!;
    const locale = getLocale(code);
    const tags = tagsOf(html);
    const root = tags.find((t) => t.name === 'html');
    if (root?.attrs.get('lang') !== locale.lang || root.attrs.get('dir') !== locale.dir) {
      found.push(`<html lang="${root?.attrs.get('lang')}" dir="${root?.attrs.get('dir')}">, not ${locale.lang} ${locale.dir}`);
    }
    const headings = tags.filter((t) => t.name === 'h1').length;
    if (headings !== 1) found.push(`${headings} h1`);
    // One policy per page: a form page's own (same-origin, so its post carries our Origin) or none.
    const referrers = tags.filter((t) => t.name === 'meta' && t.attrs.get('name') === 'referrer').map((t) => t.attrs.get('content'));
    const referrer = FORM_PAGE.test(path) ? 'same-origin' : 'no-referrer';
    if (status === 200 && (referrers.length !== 1 || referrers[0] !== referrer)) found.push(`referrer policies ${JSON.stringify(referrers)}, not one "${referrer}"`);
    const exit = tags.find((t) => t.name === 'a' && (t.attrs.get('class') ?? '').split(/\s+/).includes('quick-exit__button'));
    if (exit?.attrs.get('href') !== locale.exitUrl) found.push(`quick exit to ${exit?.attrs.get('href')}, not ${locale.exitUrl}`);
    if (status === 404 && !html.includes(`<h1>${notFound(code)}</h1>`)) found.push('the 404 is not in the language of its path');
    found.push(...pageProblems(html, server.url + path));
    for (const resource of sameOriginResources(html, server.url + path)) if (!resources.has(resource)) resources.set(resource, path);
    problems.push(...found.map((p) => `${path}: ${p}`));
  };
  for (const path of allPages) await check(path, 200);
  // On demand: a missing page answers in the language of its path.
  for (const code of localeCodes) await check(`/${code}/no-such-page/`, 404);
  // What the pages load, each once: there, and served with the same headers.
  for (const [resource, page] of resources) {
    const response = await fetch(server.url + resource);
    await response.body?.cancel();
    if (response.status !== 200) problems.push(`${resource} (from ${page}): status ${response.status}`);
    problems.push(...strictHeaderProblems(response.headers, resource));
  }
  expect(problems).toEqual([]);
  expect(resources.size, 'the pages load their styles and scripts').toBeGreaterThanOrEqual(3);
});

/**
 * One page of each template. `about/` is a fallback in Arabic (shown from English, with the
 * notice); Russian has every page, so there it would be `safety/` again. The answer page exists
 * only as the answer to a post: it is posted for real and shown, as posted, at its address.
 */
const templates: Record<string, { path: string; status?: number; answer?: 'received' | 'refused'; only?: string }> = {
  'index.astro': { path: '' },
  '[page].astro': { path: 'safety/' },
  '[page].astro, fallback': { path: 'about/', only: 'ar' },
  'faq.astro': { path: 'faq/' },
  'directory/index.astro': { path: 'directory/' },
  'directory/[kind].astro': { path: 'directory/legal/' },
  'news/index.astro': { path: 'news/' },
  'news/[slug].astro': { path: 'news/2011-founding/' },
  'missing-persons.astro': { path: 'missing-persons/' },
  'help.astro': { path: 'help/' },
  'missing.astro': { path: 'missing/' },
  'answer.astro, received': { path: 'answer/', answer: 'received' },
  'answer.astro, refused': { path: 'answer/', answer: 'refused' },
  '404.astro': { path: 'no-such-page/', status: 404 },
};
type Template = (typeof templates)[string];

test('every template of src/pages has a page checked in the browser below', () => {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : [relative('src/pages', join(dir, name))]));
  // `/` only redirects (checked below), the RSS feed is XML (content.spec.ts), the endpoint has specs of its own.
  const html = walk('src/pages').filter((f) => f.endsWith('.astro') && f !== 'index.astro').map((f) => f.replace(/^\[locale\]\//, ''));
  expect(html.sort()).toEqual([...new Set(Object.keys(templates).map((name) => name.split(',')[0]!))].sort());
});

/** The HTML of the answer to a plain-form post in `locale`: a reference, or the form with its errors. */
async function answerPage(locale: string, kind: 'received' | 'refused'): Promise<string> {
  const fields = kind === 'received' ? helpFields({ locale }) : helpFields({ locale, message: '', contact_safe: 'yes' });
  const response = await post(server.url, urlencoded(fields), { accept: 'text/html' });
  expect(response.status).toBe(kind === 'received' ? 201 : 400);
  return response.text();
}

/** Opens a template's page in `page`; the answer page is served as posted (`body`). */
async function open(page: Page, url: string, template: Template, body?: string): Promise<void> {
  const status = template.answer === 'received' ? 201 : template.answer === 'refused' ? 400 : (template.status ?? 200);
  if (body !== undefined) await page.route(url, (route) => route.fulfill({ status, contentType: 'text/html; charset=utf-8', body }));
  const response = await page.goto(url);
  expect(response?.status()).toBe(status);
}

/** What every page shows in either language, with or without JavaScript. */
async function expectThePage(page: Page, locale: string) {
  const { lang, dir } = getLocale(locale);
  await expect(page.locator('html')).toHaveAttribute('lang', lang);
  await expect(page.locator('html')).toHaveAttribute('dir', dir);
  await expect(page.locator('h1')).toHaveCount(1);
  await expect(page.locator('h1')).toBeVisible();
  await expect(page.locator('.quick-exit__button')).toBeVisible();
  // The layout follows the direction: the quick exit sits at the start of the line.
  const box = (await page.locator('.quick-exit__button').boundingBox())!;
  const width = page.viewportSize()!.width;
  expect(dir === 'rtl' ? box.x + box.width > width / 2 : box.x < width / 2, `quick exit on the ${dir} start`).toBe(true);
}

/** Records requests to other origins, errors, CSP violations and failed loads, from before the page loads. */
async function watch(page: Page) {
  const seen = { foreign: [] as string[], problems: [] as string[] };
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url)) seen.foreign.push(r.url());
  });
  page.on('console', (m) => {
    // Chromium logs the status of a page that is a 404 (or a refused post's answer) itself.
    if (m.location().url === page.url() && /^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return;
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) seen.problems.push(m.text());
  });
  page.on('pageerror', (e) => seen.problems.push(e.message));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.request().isNavigationRequest()) seen.problems.push(`${r.status()} for ${r.url()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return seen;
}

/**
 * axe needs JavaScript, and Chromium runs none with JavaScript off (not even Playwright's own
 * evaluate): the no-JS page is checked as the same DOM in a context that blocks every script
 * of the page, which is what a browser without JS shows.
 */
async function expectNoAxeViolationsWithoutScripts(browser: Browser, url: string, html: string, label: string) {
  // A context made in a test inherits the test's options: switch JavaScript back on.
  const context = await browser.newContext({ javaScriptEnabled: true });
  try {
    const copy = await context.newPage();
    await copy.route('**/*.js', (route) => route.abort());
    await copy.route(url, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
    await copy.goto(url);
    await expect(copy.locator('form[novalidate]')).toHaveCount(0);
    await expectNoAxeViolations(copy, `${label} (scripts blocked)`);
  } finally {
    await context.close();
  }
}

test.describe('every template in a browser', () => {
  // Independent tests against a server that only serves: both workers take some.
  test.describe.configure({ mode: 'parallel' });

  for (const locale of ['ru', 'ar']) {
    for (const [name, template] of Object.entries(templates)) {
      if (template.only !== undefined && template.only !== locale) continue;
      const label = `${locale}: ${name} (/${locale}/${template.path})`;

      test(`${label}: with JavaScript and without, whole, passing axe, with no request elsewhere, error, CSP violation or cookie`, async ({ browser, page, context }) => {
        const url = `${server.url}/${locale}/${template.path}`;
        const body = template.answer === undefined ? undefined : await answerPage(locale, template.answer);

        const seen = await watch(page);
        await open(page, url, template, body);
        await expectThePage(page, locale);
        const island = FORM_PAGE.test(`/${template.path}`) || template.answer === 'refused';
        // Hydrated when idle; it fetches the staff keys only when the person sends.
        if (island) await hydrated(page);
        const withScripts = await page.content();
        await expectNoAxeViolations(page, label);
        expect(seen.foreign, 'requests to other origins').toEqual([]);
        expect(seen.problems).toEqual([]);
        expect(await context.cookies()).toEqual([]);

        const scriptless = await browser.newContext({ javaScriptEnabled: false });
        try {
          const plain = await scriptless.newPage();
          const foreign: string[] = [];
          plain.on('request', (r) => {
            if (!r.url().startsWith(server.url)) foreign.push(r.url());
          });
          await open(plain, url, template, body);
          await expectThePage(plain, locale);
          if (island) await expect(plain.locator('form button[type=submit]')).toBeVisible();
          expect(foreign, 'requests to other origins without JavaScript').toEqual([]);
          const withoutScripts = await plain.content();
          // The same DOM as with JavaScript (no island: the quick exit's script only listens for
          // keys) is what axe has just checked; a different one is checked again.
          if (withoutScripts !== withScripts) await expectNoAxeViolationsWithoutScripts(browser, url, withoutScripts, `${label}, no JavaScript`);
          else expect(island, 'the island changes its page').toBe(false);
        } finally {
          await scriptless.close();
        }
      });
    }
  }
});

test('/ sends the reader to the language they ask for, Russian by default', async ({ request }) => {
  const to = async (lang?: string) => {
    const r = await request.get(server.url + '/', { maxRedirects: 0, headers: lang ? { 'accept-language': lang } : {} });
    expect(r.status()).toBe(302);
    return r.headers()['location'];
  };
  expect(await to('en-GB,en;q=0.9')).toBe('/en/');
  expect(await to('de-DE')).toBe('/ru/');
  expect(await to()).toBe('/ru/');
});

test('the language switcher keeps the page', async ({ page }) => {
  // The picker is a closed <details> until it is opened (tests/e2e/phone.spec.ts tests it in full).
  const choose = async (label: string, language: string) => {
    const picker = page.getByRole('navigation', { name: label });
    await picker.locator('summary').click();
    await picker.getByRole('link', { name: language }).click();
  };
  await page.goto(server.url + '/ru/faq/');
  await choose(ru['languages.label'], 'English');
  await expect(page).toHaveURL(server.url + '/en/faq/');
  await expect(page.locator('h1')).toHaveText(en['faq.title']);
  await choose(en['languages.label'], 'العربية');
  await expect(page).toHaveURL(server.url + '/ar/faq/');
  await expect(page.locator('h1')).toHaveText(ar['faq.title']);
});

test.describe('quick exit', () => {
  const weather = getLocale('ru').exitUrl;
  /** Visits of the neutral site (it is never really contacted in tests). */
  let exits = 0;
  let held = Promise.resolve();
  let release = () => undefined as void;
  /** What the page showed when the browser began to leave it (`beforeunload`). */
  let leaving: unknown;
  test.beforeEach(async ({ page }) => {
    exits = 0;
    leaving = undefined;
    // The neutral site answers only on `release()`: the page stays between leaving and arriving.
    held = new Promise<void>((resolve) => (release = resolve));
    await page.route(`${new URL(weather).origin}/**`, async (route) => {
      exits += 1;
      await held;
      await route.fulfill({ contentType: 'text/html', body: '<title>Погода</title>' });
    });
    // Read in the page itself: Playwright's own reads wait for the navigation to end.
    await page.exposeBinding('sawLeaving', (_source, state: unknown) => void (leaving ??= state));
    await page.addInitScript(() => {
      addEventListener('beforeunload', () => {
        const shown = [...document.body.children].filter((e) => getComputedStyle(e).visibility !== 'hidden');
        const status = document.querySelector('.quick-exit [role=status]')?.textContent;
        (window as unknown as { sawLeaving(state: unknown): void }).sawLeaving({ url: location.href, shown: shown.map((e) => e.className || e.localName), status });
      });
    });
  });

  /** Hidden at once: when the browser starts for the neutral site, only the exit bar shows, saying so. */
  async function expectLeftHidden(page: Page, url: string) {
    await expect.poll(() => leaving, 'the page as the browser left it').toEqual({ url, shown: ['quick-exit'], status: ru['quickExit.leaving'] });
    await expect.poll(() => exits, 'the neutral site asked for').toBe(1);
    release();
    await expect(page).toHaveURL(weather);
  }

  /** After a press that must not leave: the count shows it was taken, and nothing left. */
  async function expectStayed(page: Page, dots: string) {
    // Set in the same handler that would have left, so by now it would have.
    await expect(page.locator('.quick-exit__dots')).toHaveText(dots);
    await expect(page.locator('body')).not.toHaveClass(/is-leaving/);
    await expect(page.locator('main')).toBeVisible();
    expect([exits, leaving], 'the neutral site asked for, the page left').toEqual([0, undefined]);
  }

  test('the button leaves for a neutral site and hides the page at once', async ({ page }) => {
    await page.goto(server.url + '/ru/faq/');
    await page.getByRole('link', { name: ru['quickExit.label'] }).click({ noWaitAfter: true });
    await expectLeftHidden(page, server.url + '/ru/faq/');
  });

  test('Shift pressed three times leaves; dots count the presses', async ({ page }) => {
    await page.goto(server.url + '/ru/');
    await page.keyboard.press('Shift');
    await expect(page.locator('.quick-exit__dots')).toHaveText('•');
    await expect(page.locator('.quick-exit [role=status]')).toHaveText(ru['quickExit.pressed'].replace('{{n}}', '1'));
    await page.keyboard.press('Shift');
    await expect(page.locator('.quick-exit__dots')).toHaveText('••');
    await page.keyboard.press('Shift');
    await expectLeftHidden(page, server.url + '/ru/');
  });

  test('another key resets the count', async ({ page }) => {
    await page.goto(server.url + '/ru/');
    await page.keyboard.press('Shift');
    await page.keyboard.press('Shift');
    await page.keyboard.press('a');
    await expect(page.locator('.quick-exit__dots')).toHaveText('');
    await expect(page.locator('.quick-exit [role=status]')).toHaveText(ru['quickExit.reset']);
    await page.keyboard.press('Shift');
    await expectStayed(page, '•');
    await expect(page).toHaveURL(server.url + '/ru/');
  });

  test('the count resets after five seconds', async ({ page }) => {
    await page.clock.install();
    await page.goto(server.url + '/ru/');
    await page.keyboard.press('Shift');
    await page.keyboard.press('Shift');
    await page.clock.runFor(5100);
    await expect(page.locator('.quick-exit__dots')).toHaveText('');
    await page.keyboard.press('Shift');
    await expectStayed(page, '•');
    await expect(page).toHaveURL(server.url + '/ru/');
  });

  test('without JavaScript it is a plain link to the neutral site', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const exit = getLocale('en').exitUrl;
    await page.route(`${new URL(exit).origin}/**`, (route) => route.fulfill({ contentType: 'text/html', body: '<title>Weather</title>' }));
    await page.goto(server.url + '/en/');
    await page.getByRole('link', { name: en['quickExit.label'] }).click();
    await expect(page).toHaveURL(exit);
    await context.close();
  });
});
