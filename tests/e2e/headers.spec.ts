// Strict headers on every response of the Node server, and a crawl in Chromium that finds no
// request leaving the origin, no cookie, no console error and no CSP violation.
import { expect, test } from '@playwright/test';
import { startServer, type RunningServer } from '../support/server.ts';
import { builtPages } from '../support/pages.ts';
import { helpFields, post, urlencoded } from '../support/intake.ts';

let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer();
});
test.afterAll(async () => {
  await server?.stop();
});

const pages = builtPages();

function expectStrictHeaders(headers: Headers, label: string) {
  const csp = headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "object-src 'none'"]) {
    expect(csp, `${label}: CSP has ${directive}`).toContain(directive);
  }
  expect(csp, `${label}: no unsafe-inline`).not.toContain('unsafe-inline');
  expect(csp, `${label}: no other origin`).not.toMatch(/https?:\/\//);
  expect(headers.get('referrer-policy'), label).toBe('no-referrer');
  expect(headers.get('x-content-type-options'), label).toBe('nosniff');
  expect(headers.get('cross-origin-opener-policy'), label).toBe('same-origin');
  const permissions = headers.get('permissions-policy') ?? '';
  for (const feature of ['camera=()', 'microphone=()', 'geolocation=()']) expect(permissions, label).toContain(feature);
  expect(headers.get('set-cookie'), `${label}: no cookie`).toBeNull();
  expect(headers.get('strict-transport-security'), `${label}: no HSTS over http`).toBeNull();
}

test('every route answers with the strict headers; forms and the endpoint are never cached', async () => {
  const assets = new Set<string>();
  for (const path of pages) {
    const response = await fetch(server.url + path);
    expect(response.status, path).toBe(200);
    expectStrictHeaders(response.headers, path);
    const html = await response.text();
    for (const m of html.matchAll(/(?:src|href)="(\/[^"]+\.(?:js|css|svg|xml))"/g)) assets.add(m[1]!);
    const noStore = /\/(help|missing)\/$/.test(path);
    if (noStore) expect(response.headers.get('cache-control'), path).toBe('no-store');
  }
  for (const asset of assets) {
    const response = await fetch(server.url + asset);
    expect(response.status, asset).toBe(200);
    expectStrictHeaders(response.headers, asset);
  }
  const others: [string, RequestInit, number][] = [
    ['/', { redirect: 'manual' }, 302],
    ['/ru/no-such-page/', {}, 404],
    ['/api/applications', {}, 200],
  ];
  for (const [path, init, status] of others) {
    const response = await fetch(server.url + path, init);
    expect(response.status, path).toBe(status);
    expectStrictHeaders(response.headers, path);
  }
  // The staff's public keys are the one answer of the endpoint a cache may keep, briefly.
  expect((await fetch(server.url + '/api/applications')).headers.get('cache-control')).toBe('public, max-age=300');
  const api = await post(server.url, urlencoded(helpFields()));
  expect(api.status).toBe(201);
  expectStrictHeaders(api.headers, 'POST /api/applications');
  expect(api.headers.get('cache-control')).toBe('no-store');
});

test('HSTS is sent when the public URL is https', async () => {
  const https = await startServer({ PUBLIC_URL: 'https://help.example.org' });
  try {
    const response = await fetch(https.url + '/ru/');
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d{7,}/);
  } finally {
    await https.stop();
  }
});

test('a crawl of every page: nothing leaves the origin, no cookie, no console error, no CSP violation', async ({ page, context }) => {
  test.setTimeout(180_000);
  const foreign: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url)) foreign.push(r.url());
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${page.url()}: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${page.url()}: ${r.status()} for ${r.url()}`);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  for (const path of pages) {
    // Content pages load nothing after `load`; the form pages hydrate their island when idle.
    const island = /\/(help|missing)\/$/.test(path);
    await page.goto(server.url + path, { waitUntil: island ? 'networkidle' : 'load' });
  }
  expect(foreign).toEqual([]);
  expect(problems).toEqual([]);
  expect(await context.cookies()).toEqual([]);
});
