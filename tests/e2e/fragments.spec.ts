// Every in-site link with a #fragment, on every built page of every language, lands on an
// element with that id: a link to a section that a translation lacks would open the page at its
// top, and the person would not find what the link promised (the quick-exit hint, for one).
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtPages } from '../support/pages.ts';

const html = (path: string) => readFileSync(join('dist/client', path, 'index.html'), 'utf8');

/** The ids of a page; attribute values in the build are always double-quoted. */
function idsOf(page: string): Set<string> {
  return new Set([...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] ?? ''));
}

test('every in-site link with a fragment resolves, in every language', () => {
  const pages = builtPages();
  const ids = new Map(pages.map((path) => [path, idsOf(html(path))]));
  const broken: string[] = [];
  let checked = 0;
  for (const path of pages) {
    for (const [, href = ''] of html(path).matchAll(/\shref="([^"]*#[^"]*)"/g)) {
      const url = new URL(href.replaceAll('&amp;', '&'), `http://site${path}`);
      if (url.host !== 'site') continue;
      const target = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
      const fragment = decodeURIComponent(url.hash.slice(1));
      checked += 1;
      if (!ids.get(target)?.has(fragment)) broken.push(`${path} → ${href}`);
    }
  }
  expect(broken).toEqual([]);
  // The quick-exit hint alone is on every page.
  expect(checked).toBeGreaterThanOrEqual(pages.length);
});
