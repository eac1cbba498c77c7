import { expect, test } from '@playwright/test';
import { startServer, type RunningServer } from '../support/server.ts';
import { builtPages } from '../support/pages.ts';
import { expectNoAxeViolations } from '../support/a11y.ts';
import { getLocale, locales } from '../../src/i18n/locales.ts';
import ru from '../../src/i18n/ui/ru.json' with { type: 'json' };
import en from '../../src/i18n/ui/en.json' with { type: 'json' };

let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer();
});
test.afterAll(async () => {
  await server?.stop();
});

/**
 * Every page in Russian and English; in the other languages the help path (written for them)
 * and one page that falls back, so the run stays within minutes as languages are added.
 */
const fullyChecked = ['ru', 'en'];
const helpPath = ['', 'help/', 'missing/', 'safety/', 'privacy/', 'missing-persons/', 'faq/'];
const allPages = builtPages();
const pages = allPages.filter((path) => {
  const [, locale = '', ...rest] = path.split('/');
  return fullyChecked.includes(locale) || helpPath.includes(rest.join('/'));
});

test('the build has every page in every language', () => {
  const perLocale = (code: string) => allPages.filter((p) => p.startsWith(`/${code}/`)).map((p) => p.slice(code.length + 1));
  for (const { code } of locales) expect(perLocale(code), code).toEqual(perLocale('ru'));
  for (const path of ['/ru/', '/en/', '/ru/faq/', '/en/faq/']) expect(pages).toContain(path);
});

for (const javaScriptEnabled of [true, false]) {
  test.describe(`JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled });
    for (const path of pages) {
      test(`${path} answers 200, stays on the origin and passes axe`, async ({ page, browser }) => {
        const foreign: string[] = [];
        page.on('request', (r) => {
          if (!r.url().startsWith(server.url)) foreign.push(r.url());
        });
        const response = await page.goto(server.url + path);
        expect(response?.status()).toBe(200);
        await expect(page.locator('h1')).toHaveCount(1);
        const locale = getLocale(path.split('/')[1]);
        await expect(page.locator('html')).toHaveAttribute('lang', locale.lang);
        await expect(page.locator('html')).toHaveAttribute('dir', locale.dir);
        await expect(page.locator('.quick-exit__button')).toBeVisible();
        expect(foreign, 'requests to other origins').toEqual([]);
        if (javaScriptEnabled) return expectNoAxeViolations(page, path);
        // Content pages ship no framework JS (the quick-exit script only listens for keys): their
        // DOM is the same with JS off, and axe checked it above. The form pages differ.
        if (!/\/(help|missing)\/$/.test(path)) return;
        // axe itself needs JavaScript: check the JS-off page in a context that runs only axe,
        // with every script of the page blocked.
        // (a context made in a test inherits the test's options: switch JavaScript back on)
        const context = await browser.newContext({ javaScriptEnabled: true });
        const scriptless = await context.newPage();
        await scriptless.route('**/*.js', (route) => route.abort());
        await scriptless.goto(server.url + path);
        await expectNoAxeViolations(scriptless, `${path} (scripts blocked)`);
        await context.close();
      });
    }
  });
}

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

test('a missing page is a 404 in the language of its path', async ({ page }) => {
  const response = await page.goto(server.url + '/en/no-such-page/');
  expect(response?.status()).toBe(404);
  await expect(page.locator('h1')).toHaveText(en['notFound.title']);
  await page.goto(server.url + '/ru/no-such-page/');
  await expect(page.locator('h1')).toHaveText(ru['notFound.title']);
});

test('the language switcher keeps the page', async ({ page }) => {
  await page.goto(server.url + '/ru/faq/');
  await page.getByRole('navigation', { name: ru['languages.label'] }).getByRole('link', { name: 'English' }).click();
  await expect(page).toHaveURL(server.url + '/en/faq/');
  await expect(page.locator('h1')).toHaveText(en['faq.title']);
});

test.describe('quick exit', () => {
  const weather = getLocale('ru').exitUrl;
  test.beforeEach(async ({ page }) => {
    // The neutral site is never really contacted in tests.
    await page.route(`${new URL(weather).origin}/**`, (route) => route.fulfill({ contentType: 'text/html', body: '<title>Погода</title>' }));
  });

  test('the button leaves for a neutral site and hides the page at once', async ({ page }) => {
    await page.goto(server.url + '/ru/faq/');
    await page.getByRole('link', { name: ru['quickExit.label'] }).click();
    await expect(page).toHaveURL(weather);
  });

  test('Shift pressed three times leaves; dots count the presses', async ({ page }) => {
    await page.goto(server.url + '/ru/');
    await page.keyboard.press('Shift');
    await expect(page.locator('.quick-exit__dots')).toHaveText('•');
    await expect(page.locator('.quick-exit [role=status]')).toHaveText(ru['quickExit.pressed'].replace('{{n}}', '1'));
    await page.keyboard.press('Shift');
    await expect(page.locator('.quick-exit__dots')).toHaveText('••');
    await page.keyboard.press('Shift');
    await expect(page).toHaveURL(weather);
  });

  test('another key resets the count', async ({ page }) => {
    await page.goto(server.url + '/ru/');
    await page.keyboard.press('Shift');
    await page.keyboard.press('Shift');
    await page.keyboard.press('a');
    await expect(page.locator('.quick-exit__dots')).toHaveText('');
    await expect(page.locator('.quick-exit [role=status]')).toHaveText(ru['quickExit.reset']);
    await page.keyboard.press('Shift');
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
