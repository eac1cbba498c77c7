// Strict headers on every response of the Node server. Every page is checked in site.spec.ts:
// its headers and HTML over HTTP, and each template in Chromium (no request leaving the origin,
// no cookie, no console error, no CSP violation).
import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import http from 'node:http';
import { connect } from 'node:net';
import { freePort, startServer, type RunningServer } from '../support/server.ts';
import { expectStrictHeaders } from '../support/headers.ts';
import { helpFields, post, urlencoded } from '../support/intake.ts';

let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer();
});
test.afterAll(async () => {
  await server?.stop();
});


/**
 * Every file of the build that is not a page: scripts (the lazy encryption chunks too), styles,
 * feeds, sitemaps, icons; not their precompressed copies, which are how the same URL is sent.
 */
function builtFiles(root = 'dist/client'): string[] {
  const skip = (name: string) => name.startsWith('index.html') || /\.(br|gz)$/.test(name);
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : skip(name) ? [] : [join(dir, name)]));
  return walk(root).map((file) => '/' + relative(root, file).split('\\').join('/'));
}

// Every page, with its headers and what it loads: site.spec.ts.
test('every other route answers with the strict headers; the endpoint is never cached', async () => {
  const files = builtFiles();
  expect(files.some((f) => f.endsWith('.js')) && files.some((f) => f.endsWith('.css'))).toBe(true);
  for (const file of files) {
    const response = await fetch(server.url + file);
    await response.body?.cancel();
    expect(response.status, file).toBe(200);
    expectStrictHeaders(response.headers, file);
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
  // The staff's public keys come with a reference issued for one application: never kept.
  expect((await fetch(server.url + '/api/applications')).headers.get('cache-control')).toBe('no-store');
  const api = await post(server.url, urlencoded(helpFields()));
  expect(api.status).toBe(201);
  expectStrictHeaders(api.headers, 'POST /api/applications');
  expect(api.headers.get('cache-control')).toBe('no-store');
});

interface RawAnswer {
  status: number;
  /** The reason phrase of the status line, which fetch does not show. */
  reason: string;
  headers: Headers;
  body: string;
}

/** One request with the target exactly as given (fetch would normalize it), read with node:http. */
function raw(target: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: server.port, path: target, method: init.method ?? 'GET', headers: init.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (value !== undefined) headers.set(name, [value].flat().join(', '));
        resolve({ status: response.statusCode!, reason: response.statusMessage ?? '', headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    request.on('error', reject);
    request.end(init.body);
  });
}

test('an oddly spelled path is sent to its one spelling, and a form is never cached under another', async () => {
  const odd: [string, string][] = [
    ['//ru/help/', '/ru/help/'],
    ['/ru//help/', '/ru/help/'],
    ['/ru/%68elp/', '/ru/help/'],
    ['/%72u/missing/', '/ru/missing/'],
    ['/./ru/help/', '/ru/help/'],
    ['/ru/%2e%2E/ru/help/', '/ru/help/'],
    ['/ru%2Fhelp/', '/ru/help/'],
    ['/ru\\missing', '/ru/missing'],
    ['/ru/help#top', '/ru/help'],
    ['/ru//answer/?x=1', '/ru/answer/?x=1'],
    ['/api//applications', '/api/applications'],
  ];
  for (const [target, canonical] of odd) {
    for (const method of ['GET', 'HEAD']) {
      const answer = await raw(target, { method });
      const label = `${method} ${target}`;
      expect(answer.status, label).toBe(301);
      expect(answer.headers.get('location'), label).toBe(canonical);
      expect(answer.headers.get('cache-control'), label).toBe('no-store');
      expectStrictHeaders(answer.headers, label);
    }
  }
  for (const canonical of ['/ru/help/', '/ru/missing/', '/ru/help', '/ru/missing']) {
    const answer = await raw(canonical);
    expect(answer.status, canonical).toBe(200);
    expect(answer.headers.get('cache-control'), canonical).toBe('no-store');
  }
  // Content pages keep their caching, and a canonical path is served as it is.
  expect((await raw('/ru//faq/')).headers.get('location')).toBe('/ru/faq/');
  expect((await raw('/ru/faq/')).headers.get('cache-control')).toBe('public, max-age=0');
});

test('an odd spelling takes no body (404) and a malformed target gets a 400, neither cached', async () => {
  const posted = await raw('/api//applications', {
    method: 'POST',
    headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: urlencoded(helpFields()).toString(),
  });
  expect(posted.status).toBe(404);
  expect(posted.headers.get('cache-control')).toBe('no-store');
  for (const target of ['/ru/%zz/', '/ru/%FF/', 'http://evil.example/ru/help/']) {
    const answer = await raw(target);
    expect(answer.status, target).toBe(400);
    expect(answer.headers.get('cache-control'), target).toBe('no-store');
    expectStrictHeaders(answer.headers, target);
  }
});

test("the plain form's answer page has the status line's own reason phrase and a charset", async () => {
  const form = (fields: Record<string, string | string[]>) => raw('/api/applications', {
    method: 'POST',
    headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
    body: urlencoded(fields).toString(),
  });
  const refused = await form({ kind: 'help', locale: 'ru' });
  expect([refused.status, refused.reason]).toEqual([400, 'Bad Request']);
  expect(refused.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(refused.body).toContain('<html');
  const received = await form(helpFields());
  expect([received.status, received.reason]).toEqual([201, 'Created']);
  expect(received.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(received.headers.get('cache-control')).toBe('no-store');
});

test('the language redirect at / tells caches it depends on Accept-Language', async () => {
  const response = await fetch(server.url + '/', { redirect: 'manual', headers: { 'accept-language': 'en-GB,en;q=0.9' } });
  expect(response.status).toBe(302);
  expect(response.headers.get('location')).toBe('/en/');
  expect(response.headers.get('vary')).toMatch(/(^|,\s*)Accept-Language(\s*,|$)/i);
});

test('node dist/server/entry.mjs, run directly, serves nothing', async () => {
  const port = await freePort();
  const child = spawn('node', ['dist/server/entry.mjs'], {
    env: { PATH: `${process.cwd()}/node_modules/.bin:${process.env.PATH}`, HOME: process.env.HOME ?? '/root', HOST: '127.0.0.1', PORT: String(port) },
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const answers = () => new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  let ended = false;
  void exited.then(() => (ended = true));
  try {
    // It ends by itself once its module has loaded (a second or so): until then, or for 2.5 s
    // (many times what the standalone server took to listen), nothing may answer on the port.
    const deadline = Date.now() + 2500;
    let listened = false;
    while (!listened && !ended && Date.now() < deadline) {
      listened = await answers();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(listened, 'something listened on the port').toBe(false);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  }
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
