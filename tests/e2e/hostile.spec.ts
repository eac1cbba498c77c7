// Hostile input never hurts: each request gets the right 4xx with a localized message, never a
// 5xx; the server stays up; nothing is kept or delivered.
import { expect, test } from '@playwright/test';
import { connect } from 'node:net';
import { join } from 'node:path';
import { rawRequest, type Raw, type RawOptions } from '../support/raw-http.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { startSink, type Sink } from '../../scripts/lib/sink.ts';
import { jpeg, png } from '../support/images.ts';
import { filesUnder, helpFields, mailEnv, missingFields, multipart, post, urlencoded } from '../support/intake.ts';

test.describe.configure({ mode: 'serial' });

let server: RunningServer;
let sink: Sink;
const HEADERS_TIMEOUT_S = 3;
test.beforeAll(async () => {
  sink = await startSink();
  // A head must be whole within 3 s here (20 s by default), so the slowloris test takes seconds.
  server = await startServer({ ...mailEnv(sink), RATE_LIMIT_ADDRESS: '100000/10m', HEADERS_TIMEOUT_SECONDS: String(HEADERS_TIMEOUT_S) });
});
test.afterAll(async () => {
  await server?.stop();
  await sink?.close();
});

/** A raw request to this spec's server (see support/raw-http.ts). */
const raw = (options: RawOptions) => rawRequest(server.port, { origin: server.url, ...options });

const json = (r: Raw) => JSON.parse(r.body) as { ok: boolean; error: string; message: string; fields?: Record<string, string> };

async function expectRefused(r: Raw | Response, status: number, error: string, field?: string) {
  const body = r instanceof Response ? ((await r.json()) as ReturnType<typeof json>) : json(r);
  expect(r.status).toBe(status);
  expect(body.ok).toBe(false);
  expect(body.error).toBe(error);
  expect(body.message.length).toBeGreaterThan(10);
  if (field) expect(body.fields?.[field], `error at ${field}`).toBeTruthy();
  return body;
}

const boundary = '----hostile';
const part = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const multipartHeaders = { 'content-type': `multipart/form-data; boundary=${boundary}` };
const validParts = Object.entries(helpFields()).flatMap(([n, v]) => [v].flat().map((x) => part(n, x))).join('');

test('bodies over the cap: declared, undeclared (chunked), lying about their length', async () => {
  const big = Buffer.alloc(1024 * 1024, 'a');
  await expectRefused(await raw({ headers: { ...multipartHeaders, 'content-length': String(40 * 1024 * 1024) }, chunks: [validParts] }), 413, 'too_large');
  await expectRefused(await raw({ headers: multipartHeaders, chunked: true, chunks: [validParts, ...Array(20).fill(big)] }), 413, 'too_large');
  await expectRefused(await raw({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, chunked: true, chunks: Array(20).fill(big) }), 413, 'too_large');
});

test('wrong, missing and JSON content types', async () => {
  for (const type of ['text/plain', 'application/json', 'application/xml', 'image/jpeg']) {
    await expectRefused(await raw({ headers: { 'content-type': type }, chunks: [JSON.stringify(helpFields())] }), 415, 'unsupported_media_type');
  }
  await expectRefused(await raw({ chunks: ['kind=help'] }), 415, 'unsupported_media_type');
});

test('malformed multipart: bad boundary, truncated, huge part headers, thousands of parts', async () => {
  await expectRefused(await raw({ headers: { 'content-type': 'multipart/form-data; boundary=other' }, chunks: [validParts + `--${boundary}--\r\n`] }), 400, 'validation', '_form');
  await expectRefused(await raw({ headers: { 'content-type': 'multipart/form-data' }, chunks: [validParts] }), 400, 'validation', '_form');
  await expectRefused(await raw({ headers: multipartHeaders, chunks: [validParts.slice(0, validParts.length - 40)] }), 400, 'validation', '_form');
  const hugeHeader = `--${boundary}\r\nContent-Disposition: form-data; name="message"\r\nX-Junk: ${'x'.repeat(200_000)}\r\n\r\nhi\r\n`;
  const huge = await raw({ headers: multipartHeaders, chunks: [validParts + hugeHeader + `--${boundary}--\r\n`] });
  expect([400, 413]).toContain(huge.status);
  const many = Array.from({ length: 5000 }, (_, i) => part(`f${i}`, 'x')).join('');
  const thousands = await raw({ headers: multipartHeaders, chunks: [validParts + many + `--${boundary}--\r\n`] });
  expect([400, 413]).toContain(thousands.status);
});

test('files: text renamed .jpg, an image with a script appended, a fourth photo', async () => {
  const text = { bytes: new TextEncoder().encode('just text'), name: 'photo.jpg', type: 'image/jpeg' };
  await expectRefused(await post(server.url, multipart(missingFields(), [text])), 400, 'validation', 'photos');
  const script = new TextEncoder().encode('<script>alert(1)</script>');
  for (const image of [jpeg(), png(4, 4)]) {
    const polyglot = { bytes: new Uint8Array([...image, ...script]), name: 'p.jpg', type: 'image/jpeg' };
    const body = await expectRefused(await post(server.url, multipart(missingFields(), [polyglot])), 400, 'validation', 'photos');
    expect(body.fields?.['photos']).toMatch(/лишние данные/);
  }
  const four = Array.from({ length: 4 }, () => ({ bytes: jpeg(), name: 'a.jpg', type: 'image/jpeg' }));
  await expectRefused(await post(server.url, multipart(missingFields(), four)), 400, 'validation', 'photos');
  const photoOnHelp = [{ bytes: jpeg(), name: 'a.jpg', type: 'image/jpeg' }];
  await expectRefused(await post(server.url, multipart(helpFields(), photoOnHelp)), 400, 'validation', '_form');
});

test('fields repeated, unknown, too long, invalid UTF-8, control characters, bidi overrides', async () => {
  const form = (fields: Record<string, string | string[]>) => post(server.url, urlencoded(fields));
  await expectRefused(await form({ ...helpFields(), message: ['one', 'two'] }), 400, 'validation', 'message');
  await expectRefused(await form({ ...helpFields(), admin: 'true' }), 400, 'validation', '_form');
  await expectRefused(await form(helpFields({ name: 'x'.repeat(100_000) })), 400, 'validation', 'name');
  await expectRefused(await form(helpFields({ message: 'x'.repeat(5001) })), 400, 'validation', 'message');
  await expectRefused(await raw({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, chunks: [Buffer.concat([Buffer.from(urlencoded(helpFields()).toString() + '&name='), Buffer.from([0xc3, 0x28, 0xff])])] }), 400, 'validation');
  await expectRefused(await raw({ headers: multipartHeaders, chunks: [Buffer.concat([Buffer.from(validParts + `--${boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n`), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(`\r\n--${boundary}--\r\n`)])] }), 400, 'validation');
  await expectRefused(await form(helpFields({ name: 'Анна\u0007' })), 400, 'validation', 'name');
  await expectRefused(await form(helpFields({ message: 'Платить \u202Eвсё\u202C' })), 400, 'validation', 'message');
  // Header injection: a line break in a one-line field never reaches a header; it is refused.
  await expectRefused(await form(helpFields({ contact_value: 'a@b.org\r\nBcc: all@example.org' })), 400, 'validation', 'contact_value');
});

test('HTML and script in every field: kept as text, shown escaped when the form comes back', async () => {
  const evil = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>';
  const fields = Object.fromEntries(Object.entries(helpFields()).map(([k, v]) => [k, ['kind', 'locale', 'for', 'situation', 'danger_now', 'contact_safe', 'contact_channels', 'consent', 'website', 'reply_language'].includes(k) ? v : evil]));
  // As JSON the messages are ours, never the input echoed.
  const body = await expectRefused(await post(server.url, urlencoded({ ...fields, message: '' })), 400, 'validation', 'message');
  expect(JSON.stringify(body)).not.toContain('<script>');
  // As a page the typed values come back escaped.
  const page = await post(server.url, urlencoded({ ...fields, message: '' }), { accept: 'text/html' });
  expect(page.status).toBe(400);
  const html = await page.text();
  expect(html).not.toContain(evil);
  expect(html).toContain('&lt;script&gt;');
});

test('a missing or foreign Origin is refused before the body is read', async () => {
  const noOrigin = await fetch(`${server.url}/api/applications`, { method: 'POST', body: urlencoded(helpFields()), headers: { accept: 'application/json' } });
  await expectRefused(noOrigin, 403, 'forbidden');
  const foreign = await fetch(`${server.url}/api/applications`, { method: 'POST', body: urlencoded(helpFields()), headers: { accept: 'application/json', origin: 'null' } });
  await expectRefused(foreign, 403, 'forbidden');
});

test('other methods are refused; GET gives only the public keys and an issued reference, never cached', async () => {
  for (const method of ['PUT', 'DELETE', 'PATCH']) {
    const r = await raw({ method, headers: { 'content-type': 'application/x-www-form-urlencoded' }, chunks: ['kind=help'] });
    expect(r.status, method).toBe(405);
    expect(r.headers['allow']).toContain('POST');
    expect(r.headers['cache-control'], method).toBe('no-store');
  }
  // A body or a query on the GET changes nothing: it reads nothing from the request.
  const keys = await raw({ method: 'GET', headers: { 'content-type': 'application/x-www-form-urlencoded' }, chunks: ['kind=help'] });
  expect(keys.status).toBe(200);
  expect(keys.headers['cache-control']).toBe('no-store');
  const body = JSON.parse(keys.body) as { keys: string; fingerprints: string[] };
  expect(Object.keys(body).sort()).toEqual(['fingerprints', 'keys', 'reference', 'ticket']);
  expect(body.keys).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
  expect(body.keys).not.toContain('PRIVATE');
  expect(body.fingerprints).toEqual([expect.stringMatching(/^[0-9A-F]{40}$/)]);
});

test('a slow client sending its headers a line at a time is cut off (slowloris)', async () => {
  const started = Date.now();
  const closed = await new Promise<number>((resolve) => {
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`POST /api/applications HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    const drip = setInterval(() => socket.write(`X-Slow-${Date.now()}: 1\r\n`), 500);
    socket.on('close', () => {
      clearInterval(drip);
      resolve(Date.now() - started);
    });
  });
  // A line every half second never completes the head: it is cut at the timeout (checked every second).
  expect(closed).toBeGreaterThan(HEADERS_TIMEOUT_S * 1000 - 500);
  expect(closed).toBeLessThan(HEADERS_TIMEOUT_S * 1000 + 5000);
});

test('after all that: the server is up, nothing was kept or delivered, no 5xx was logged', async () => {
  expect((await fetch(server.url + '/ru/')).status).toBe(200);
  expect(sink.requests).toEqual([]);
  expect(filesUnder(join(server.varDir, 'outbox')).filter((f) => f.path.endsWith('.json'))).toEqual([]);
  expect(server.logs.filter((l) => /"status":5\d\d|\[ERROR\]/.test(l))).toEqual([]);
});
