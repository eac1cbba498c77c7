// Every in-site link with a #fragment, on every page of every language, lands on an element with
// that id: a link to a section that a translation lacks would open the page at its top, and the
// person would not find what the link promised (the quick-exit hint, for one). The built pages
// are read from dist/; the pages rendered on request (the 404, the form's answers) are fetched
// from a running server, since they are not in dist/.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtPages } from '../support/pages.ts';
import { helpFields, missingFields, post, urlencoded } from '../support/intake.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { localeCodes } from '../../src/i18n/locales.ts';

const html = (path: string) => readFileSync(join('dist/client', path, 'index.html'), 'utf8');

/** The ids of a page; attribute values in the build are always double-quoted. */
function idsOf(page: string): Set<string> {
  return new Set([...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] ?? ''));
}

/** The in-site links with a fragment on a page at `path` that land on no element with that id. */
function brokenLinks(path: string, page: string, ids: (target: string) => Set<string> | undefined): { checked: number; broken: string[] } {
  const broken: string[] = [];
  let checked = 0;
  for (const [, href = ''] of page.matchAll(/\shref="([^"]*#[^"]*)"/g)) {
    const url = new URL(href.replaceAll('&amp;', '&'), `http://site${path}`);
    if (url.host !== 'site') continue;
    const target = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
    const fragment = decodeURIComponent(url.hash.slice(1));
    checked += 1;
    if (!ids(target)?.has(fragment)) broken.push(`${path} → ${href}`);
  }
  return { checked, broken };
}

const pages = builtPages();
const builtIds = new Map(pages.map((path) => [path, idsOf(html(path))]));

test('every in-site link with a fragment resolves, on every built page, in every language', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const path of pages) {
    const found = brokenLinks(path, html(path), (target) => builtIds.get(target));
    broken.push(...found.broken);
    checked += found.checked;
  }
  expect(broken).toEqual([]);
  // The quick-exit hint alone is on every page.
  expect(checked).toBeGreaterThanOrEqual(pages.length);
});

test.describe('pages rendered on request', () => {
  let server: RunningServer;
  test.beforeAll(async () => {
    // One accepted answer per language: more than the default window allows one address.
    server = await startServer({ RATE_LIMIT_ADDRESS: '100/10m' });
  });
  test.afterAll(async () => {
    await server?.stop();
  });

  test('the 404 and the form answers (received, and the form put back with its errors) link only to fragments that exist, in every language', async () => {
    const broken: string[] = [];
    let checked = 0;
    const check = async (label: string, path: string, response: Response, status: number) => {
      expect(response.status, label).toBe(status);
      const page = await response.text();
      // A link to its own fragments goes to this page (its ids), any other to a built page.
      const found = brokenLinks(path, page, (target) => (target === path ? idsOf(page) : builtIds.get(target)));
      broken.push(...found.broken.map((b) => `${label}: ${b}`));
      checked += found.checked;
    };
    // The answer page of a plain form post: shown at the endpoint's address.
    const answer = (fields: Record<string, string | string[]>) => post(server.url, urlencoded(fields), { accept: 'text/html' });
    for (const locale of localeCodes) {
      await check(`${locale} 404`, `/${locale}/no-such-page/`, await fetch(`${server.url}/${locale}/no-such-page/`), 404);
      await check(`${locale} received`, '/api/applications/', await answer(helpFields({ locale })), 201);
      // Refused with every required field empty: the error summary links to each of them.
      await check(`${locale} help refused`, '/api/applications/', await answer(helpFields({ locale, message: '', for: [] })), 400);
      await check(`${locale} missing refused`, '/api/applications/', await answer(missingFields({ locale, person_name: '', circumstances: '' })), 400);
    }
    expect(broken).toEqual([]);
    // The skip link, the header's link to every section, the exit hint, and the error summaries' links.
    expect(checked).toBeGreaterThanOrEqual(localeCodes.length * 4 * 3);
  });
});
