import { expect, test, type Page } from '@playwright/test';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { startServer, type RunningServer } from '../support/server.ts';
import { getLocale, localeCodes, locales } from '../../src/i18n/locales.ts';
import { contacts } from '../../src/site/contacts.ts';
import ru from '../../src/i18n/ui/ru.json' with { type: 'json' };
import en from '../../src/i18n/ui/en.json' with { type: 'json' };

const strings: Record<string, typeof ru> = Object.fromEntries(
  localeCodes.map((code) => [code, JSON.parse(readFileSync(`src/i18n/ui/${code}.json`, 'utf8')) as typeof ru]),
);
/** A text given per language, as a page in `locale` shows it: its own, else its fallback's, else Russian. */
const inLocale = (text: Record<string, string>, locale: string) => text[locale] ?? text[getLocale(locale).fallback] ?? text['ru'];
const langs = locales.map((l) => l.lang).sort();

// The content as written, read straight from the files: the pages must show all of it.
const organizations = readdirSync('content/organizations')
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => yaml.load(readFileSync(join('content/organizations', f), 'utf8')) as {
    name: Record<string, string>;
    kinds: string[];
    phones?: string[];
    hotlines?: string[];
    emails?: string[];
  });
const newsSlugs = readdirSync('content/news/ru').map((f) => f.replace(/\.md$/, ''));

let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer();
});
test.afterAll(async () => {
  await server?.stop();
});

test.use({ javaScriptEnabled: false });
// Independent tests against a server that only serves: both workers take some.
test.describe.configure({ mode: 'parallel' });

/** The names of the organisations listed on the page (their headings in the list). */
const listedNames = (page: Page) => page.locator('.entries > li').locator('h2, h3').allTextContents();

test.describe('where to get help', () => {
  for (const locale of localeCodes) {
    test(`${locale}: the index lists all ${organizations.length} organisations`, async ({ page }) => {
      await page.goto(`${server.url}/${locale}/directory/`);
      const names = await listedNames(page);
      expect(names.sort()).toEqual(organizations.map((o) => inLocale(o.name, locale)).sort());
      await expect(page.getByRole('link', { name: `${strings[locale]!['directory.all']} (${organizations.length})` })).toHaveAttribute('aria-current', 'page');
    });
  }

  test('the filter works without JavaScript: the legal page lists only organisations giving legal help', async ({ page }) => {
    const legal = organizations.filter((o) => o.kinds.includes('legal'));
    await page.goto(`${server.url}/ru/directory/`);
    const filter = page.getByRole('navigation', { name: ru['directory.filter'] });
    const link = filter.getByRole('link', { name: `${ru['kinds.legal']} (${legal.length})` });
    await link.click();
    await expect(page).toHaveURL(`${server.url}/ru/directory/legal/`);
    await expect(page.locator('h1')).toHaveText(ru['kinds.legal']);
    await expect(filter.getByRole('link', { name: new RegExp(`^${ru['kinds.legal']}`) })).toHaveAttribute('aria-current', 'page');
    expect((await listedNames(page)).sort()).toEqual(legal.map((o) => o.name['ru']).sort());
    await expect(page.getByRole('navigation', { name: ru['breadcrumb.label'] }).getByRole('link', { name: ru['nav.directory'] })).toHaveAttribute('href', '/ru/directory/');
  });

  test('every phone is a tel: link of its digits, every address a mailto: link', async ({ page }) => {
    await page.goto(`${server.url}/en/directory/`);
    const list = page.locator('.entries');
    for (const o of organizations) {
      for (const phone of [...(o.phones ?? []), ...(o.hotlines ?? [])]) {
        const link = list.getByRole('link', { name: phone, exact: true });
        await expect(link).toHaveAttribute('href', `tel:+${phone.replace(/\D/g, '')}`);
        await expect(link).toHaveAttribute('dir', 'ltr');
      }
      for (const email of o.emails ?? []) {
        await expect(list.getByRole('link', { name: email, exact: true })).toHaveAttribute('href', `mailto:${email}`);
      }
    }
    // The seed's own grouping is kept, and the hotline is labelled as one.
    await expect(list.getByRole('link', { name: '+7 495 124-2561' })).toHaveAttribute('href', 'tel:+74951242561');
    const alternativa = page.locator('.entries > li', { has: page.getByRole('heading', { name: 'Alternativa', exact: true }) });
    await expect(alternativa.locator('dt', { hasText: en['directory.hotline'] })).toHaveCount(1);
    await expect(alternativa.getByRole('link', { name: 'alterativne.help' })).toHaveAttribute('rel', 'noopener noreferrer');
  });
});

test.describe('news', () => {
  test('the index is newest first, with dates in the locale’s own format and only as precise as known', async ({ page }) => {
    await page.goto(`${server.url}/ru/news/`);
    const times = page.locator('.news-list time');
    await expect(times).toHaveCount(newsSlugs.length);
    expect(await times.evaluateAll((els) => els.map((e) => e.getAttribute('datetime')))).toEqual(['2018-04', '2018', '2016', '2011']);
    await expect(times.first()).toHaveText(new Intl.DateTimeFormat('ru', { year: 'numeric', month: 'long', timeZone: 'UTC' }).format(new Date('2018-04-01')));
    await expect(times.first()).toHaveText('апрель 2018 г.');
    await page.goto(`${server.url}/en/news/`);
    await expect(page.locator('.news-list time').first()).toHaveText('April 2018');
    await expect(page.locator('.news-list time').last()).toHaveText('2011');
  });

  test('a post has breadcrumbs back to the news', async ({ page }) => {
    await page.goto(`${server.url}/en/news/2011-founding/`);
    const crumbs = page.getByRole('navigation', { name: en['breadcrumb.label'] });
    await expect(crumbs.getByRole('link', { name: en['news.title'] })).toHaveAttribute('href', '/en/news/');
    await expect(page.locator('main time')).toHaveAttribute('datetime', '2011');
  });

  for (const locale of localeCodes) {
    test(`${locale}: the RSS feed is XML, linked from the index, and lists every post with absolute links`, async ({ page, request }) => {
      await page.goto(`${server.url}/${locale}/news/`);
      const href = await page.locator('head link[rel="alternate"][type="application/rss+xml"]').getAttribute('href');
      expect(href).toBe(`/${locale}/news/rss.xml`);
      const response = await request.get(server.url + href);
      expect(response.status()).toBe(200);
      const xml = await response.text();
      // The browser's own XML parser: a malformed feed yields a <parsererror> document.
      const feed = await page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'application/xml');
        return {
          error: doc.querySelector('parsererror')?.textContent ?? null,
          language: doc.querySelector('channel > language')?.textContent,
          links: [...doc.querySelectorAll('item > link')].map((l) => l.textContent ?? ''),
        };
      }, xml);
      expect(feed.error).toBeNull();
      expect(feed.language).toBe(getLocale(locale).lang);
      expect(feed.links.map((l) => new URL(l).pathname).sort()).toEqual(newsSlugs.map((s) => `/${locale}/news/${s}/`).sort());
      for (const link of feed.links) expect(link).toMatch(/^https?:\/\//);
    });
  }
});

test.describe('missing persons', () => {
  test('with no notices published, the page says so and links to the request form', async ({ page }) => {
    const noticeFiles = localeCodes.flatMap((l) => (existsSync(`content/notices/${l}`) ? readdirSync(`content/notices/${l}`) : []));
    test.skip(noticeFiles.length > 0, 'notices are published');
    for (const locale of localeCodes) {
      const t = strings[locale]!;
      await page.goto(`${server.url}/${locale}/missing-persons/`);
      await expect(page.getByText(t['notices.none'])).toBeVisible();
      await expect(page.getByRole('link', { name: t['notices.report'] })).toHaveAttribute('href', `/${locale}/missing/`);
      await expect(page.locator('main img')).toHaveCount(0);
    }
  });
});

test.describe('sitemap and head', () => {
  test('sitemap-index.xml is built, and every page has hreflang alternates for every locale', async ({ request }) => {
    expect(existsSync('dist/client/sitemap-index.xml')).toBe(true);
    const index = await (await request.get(`${server.url}/sitemap-index.xml`)).text();
    const sitemapUrl = index.match(/<loc>([^<]+)<\/loc>/)![1]!;
    const sitemap = readFileSync(join('dist/client', new URL(sitemapUrl).pathname), 'utf8');
    const urls = [...sitemap.matchAll(/<url>(.*?)<\/url>/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(0);
    for (const entry of urls) {
      const loc = entry.match(/<loc>([^<]+)<\/loc>/)![1]!;
      expect(new URL(loc).pathname, 'no form answers or API in the sitemap').not.toMatch(/\/(answer|api)\//);
      expect([...entry.matchAll(/hreflang="([^"]+)"/g)].map((m) => m[1]).sort(), loc).toEqual(langs);
    }
    expect(sitemap).toContain('/ru/directory/legal/</loc>');
  });

  test('a page rendered on request (the 404) links to the running server: its own port, or PUBLIC_URL', async () => {
    /** The origins of a 404 page's canonical and hreflang links. */
    const origins = async (url: string) => {
      const response = await fetch(`${url}/kk/no-such-page/`);
      expect(response.status).toBe(404);
      const links = [...(await response.text()).matchAll(/<link rel="(canonical|alternate)"[^>]*? href="([^"]+)"/g)];
      expect(links.length, 'the canonical link and one alternate per language').toBe(1 + locales.length);
      expect(new URL(links[0]![2]!).pathname).toBe('/kk/no-such-page/');
      return new Set(links.map(([, , href]) => new URL(href!).origin));
    };
    // The test servers listen on a free port; the build wrote its pages for the default, 4321.
    const built = readFileSync('dist/client/kk/index.html', 'utf8').match(/<link rel="canonical" href="([^"]+)"/)![1]!;
    expect(new URL(built).port, 'the build is not on this port').not.toBe(String(server.port));
    expect(await origins(server.url)).toEqual(new Set([server.url]));
    const published = await startServer({ PUBLIC_URL: 'https://help.example.org' });
    try {
      expect(await origins(published.url)).toEqual(new Set(['https://help.example.org']));
    } finally {
      await published.stop();
    }
  });

  test('a nested page has a canonical link to itself and alternates in each language', async ({ page }) => {
    await page.goto(`${server.url}/ru/directory/legal/`);
    expect(new URL((await page.locator('link[rel=canonical]').getAttribute('href'))!).pathname).toBe('/ru/directory/legal/');
    for (const { code, lang } of locales) {
      const href = await page.locator(`link[rel=alternate][hreflang="${lang}"]`).getAttribute('href');
      expect(new URL(href!).pathname).toBe(`/${code}/directory/legal/`);
    }
  });
});

test('every language labels its numbers with its own colon: "Police\u00a0: 112" in French, "Police: 112" in English', async ({ page }) => {
  for (const code of localeCodes) {
    await page.goto(`${server.url}/${code}/`);
    const police = page.locator('.hotlines li').nth(1);
    const colon = code === 'fr' ? '\u00a0:' : ':';
    expect(await police.textContent(), code).toBe(`${strings[code]!['hotlines.police']}${colon} ${contacts.police.display}`);
  }
});
