// Attacks from one cheap machine, against the built server: answers that can not grow with what
// was sent, junk that can not use up the limits people share, origins only from configuration,
// and a reference that names one application for its whole life — across restarts, across
// instances that share a Redis, and through the island's own retry in a real browser.
import { expect, test, type Request } from '@playwright/test';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { serverPgp as pgp } from '../../src/intake/server/pgp.ts';
import { encryptText } from '../../src/intake/contract/pgp.ts';
import { newReference } from '../../src/intake/contract/reference.ts';
import { fieldNames } from '../../src/intake/contract/validate.ts';
import { hiddenFields, SHORT_VALUE_MAX, textLimits } from '../../src/intake/contract/fields.ts';
import ru from '../../src/i18n/ui/ru.json' with { type: 'json' };
import { afterHumanDelay, hydrated, shownReference } from '../support/forms.ts';
import { helpFields, mailEnv, mailsFor, marker, post, urlencoded } from '../support/intake.ts';
import { eccKeyPair, type TestKeyPair } from '../support/keys.ts';
import { rawRequest } from '../support/raw-http.ts';
import { startRedis, type RunningRedis } from '../support/redis.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { startSink, type Sink } from '../../scripts/lib/sink.ts';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

test.describe.configure({ mode: 'serial' });

type Answer = { ok: boolean; error?: string; message?: string; reference?: string; fields?: Record<string, string> };
const json = async (response: Response) => (await response.json()) as Answer;
const SECRET = 'b3f1c9e07a4d42a8e5f6d1c2b9a07e3f48d5c6b1a2e9f07d3c4b5a6f1e2d3c4b';

let staff: TestKeyPair;
let staffKey: openpgp.PublicKey;
let keysFile: string;
let sink: Sink;
const servers: RunningServer[] = [];
const redises: RunningRedis[] = [];

test.beforeAll(async () => {
  staff = await eccKeyPair();
  staffKey = await openpgp.readKey({ armoredKey: staff.publicKey });
  keysFile = join(mkdtempSync(join(tmpdir(), 'attacks-')), 'staff.asc');
  writeFileSync(keysFile, staff.publicKey);
  sink = await startSink();
});

test.afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(redises.map((r) => r.stop()));
  await sink?.close();
});

async function serve(env: Record<string, string> = {}, opts: Parameters<typeof startServer>[1] = {}): Promise<RunningServer> {
  const server = await startServer({ STAFF_PGP_KEYS_FILE: keysFile, RATE_LIMIT_SECRET: SECRET, ...mailEnv(sink), ...env }, opts);
  servers.push(server);
  return server;
}

/** A plain-form post (no JavaScript): the answer is the HTML page. */
const plainPost = (server: RunningServer, body: URLSearchParams, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/api/applications`, { method: 'POST', body, headers: { origin: server.url, ...headers } });

const from = (address: string) => ({ 'x-forwarded-for': address });

test.describe('answers never grow with what was sent', () => {
  test('a refused plain-form post gets back only the form\'s own fields, each cut to its limit', async () => {
    const server = await serve();
    const limitOf = (name: string) => (textLimits as Record<string, number>)[name] ?? SHORT_VALUE_MAX;
    // The hidden fields are no one's typing (and a filled honeypot is a bot's, answered "received").
    const visible = (name: string) => !(hiddenFields as readonly string[]).includes(name);
    // The largest answer the form can have: every field at its limit, in the character HTML
    // escapes most, and every field in error (its message shown twice).
    const worst: Record<string, string> = { kind: 'missing', locale: 'ru' };
    for (const name of fieldNames.missing) {
      if (!visible(name)) continue;
      worst[name] = `${'"'.repeat(limitOf(name) - 1)}\u0001`;
    }
    const bounded = await plainPost(server, urlencoded(worst));
    expect(bounded.status).toBe(400);
    const bound = (await bounded.text()).length;

    const unknown = marker('unknown');
    const flood: Record<string, string> = { kind: 'missing', locale: 'ru', [unknown]: 'x'.repeat(4_000_000) };
    for (const name of fieldNames.missing) {
      if (!visible(name)) continue;
      flood[name] = `${'"'.repeat(180_000)}${marker('past')}`;
    }
    const answer = await plainPost(server, urlencoded(flood));
    expect(answer.status).toBe(400);
    const page = await answer.text();
    expect(page.length).toBeLessThanOrEqual(bound);
    expect(page).not.toContain(unknown);
    expect(page).not.toContain('ZQX-past');
    // What the person typed is back, cut to the field's limit.
    expect(page).toContain(`>${'&quot;'.repeat(textLimits.circumstances)}<`);
  });

  test('403, 413, 415 and 429 answers put nothing back', async () => {
    const server = await serve({ RATE_LIMIT_REFUSED: '1/10m', TRUST_PROXY: '1' });
    const typed = marker('typed');
    const body = urlencoded(helpFields({ message: typed }));
    const refusals = [
      await plainPost(server, body, { origin: 'http://evil.example' }),
      await plainPost(server, body, { 'content-type': 'text/plain', ...from('198.51.100.1') }),
    ];
    const tooLarge = await rawRequest(server.port, { origin: server.url, headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html', 'content-length': String(40 * 1024 * 1024) }, chunks: [body.toString()] });
    // The refusal window of this address is used up by one bad post; the next is 429.
    expect((await plainPost(server, urlencoded({ kind: 'help' }), from('198.51.100.2'))).status).toBe(400);
    refusals.push(await plainPost(server, body, from('198.51.100.2')));
    expect(refusals.map((r) => r.status)).toEqual([403, 415, 429]);
    expect(tooLarge.status).toBe(413);
    for (const text of [...(await Promise.all(refusals.map((r) => r.text()))), tooLarge.body]) expect(text).not.toContain(typed);
  });
});

test.describe('junk can not lock people out', () => {
  test('300 junk posts from 300 addresses leave the global window to real people', async () => {
    const server = await serve({ TRUST_PROXY: '1', RATE_LIMIT_GLOBAL: '300/1h' });
    const junk = await Promise.all(
      Array.from({ length: 300 }, (_, i) => post(server.url, urlencoded({ kind: 'help' }), from(`10.77.${i >> 8}.${i & 255}`))),
    );
    expect(new Set(junk.map((r) => r.status))).toEqual(new Set([400]));
    const real = await post(server.url, urlencoded(helpFields()), from('203.0.113.7'));
    expect(real.status).toBe(201);
  });

  test('a full global window says so, and never blames the person\'s address', async () => {
    const server = await serve({ TRUST_PROXY: '1', RATE_LIMIT_GLOBAL: '2/1h' });
    for (const address of ['203.0.113.1', '203.0.113.2']) expect((await post(server.url, urlencoded(helpFields()), from(address))).status).toBe(201);
    const refused = await post(server.url, urlencoded(helpFields()), from('203.0.113.3'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = await json(refused);
    expect(body.error).toBe('busy');
    expect(body.message).toContain('Сейчас к нам приходит очень много заявок');
    expect(body.message).not.toContain('адреса');
    // The plain form says the same.
    const page = await (await plainPost(server, urlencoded(helpFields()), from('203.0.113.4'))).text();
    expect(page).toContain('Сейчас к нам приходит очень много заявок');
  });

  test('refusals of one address are limited on a bucket of their own, before the body is read', async () => {
    const server = await serve({ TRUST_PROXY: '1', RATE_LIMIT_REFUSED: '3/10m' });
    const junk = () => post(server.url, urlencoded({ kind: 'help' }), from('198.51.100.9'));
    for (let i = 0; i < 3; i++) expect((await junk()).status).toBe(400);
    const limited = await junk();
    expect(limited.status).toBe(429);
    expect((await json(limited)).error).toBe('rate_limited');
    // A body over the cap from that address is refused at once, unread: 429, not 413.
    const big = await rawRequest(server.port, { origin: server.url, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.9', 'content-length': String(40 * 1024 * 1024) }, chunks: ['kind=help'] });
    expect(big.status).toBe(429);
    // Nobody else is touched.
    expect((await post(server.url, urlencoded(helpFields()), from('198.51.100.10'))).status).toBe(201);
  });

  test('refused ciphertexts count against their address; a retry after a real key change gets through', async () => {
    const server = await serve({ TRUST_PROXY: '1', RATE_LIMIT_REFUSED: '3/10m' });
    const other = await eccKeyPair({ name: 'Old staff key' });
    const address = from('198.51.100.20');
    // A rotation during the visit: the first try is encrypted to the old key, the retry to the new one.
    const stale = await sealedBody(server, { keys: [await openpgp.readKey({ armoredKey: other.publicKey })] });
    expect((await json(await post(server.url, stale.body, address))).error).toBe('keys_changed');
    expect((await post(server.url, (await sealedBody(server)).body, address)).status).toBe(201);
    for (let i = 0; i < 2; i++) {
      const forged = await sealedBody(server, { fields: { reference_ticket: 'mzzzzz.AAAAAAAAAAAAAAAAAAAAAA' } });
      expect((await json(await post(server.url, forged.body, address))).error).toBe('sealed_invalid');
    }
    const flood = await sealedBody(server, { fields: { reference_ticket: '' } });
    expect((await post(server.url, flood.body, address)).status).toBe(429);
  });

  test('a flood of refusals is a few counted log lines, not a line each', async () => {
    // One line per 2 s here (10 s by default): the 200 may fall into two intervals.
    const server = await serve({ TRUST_PROXY: '1', LOG_COUNT_SECONDS: '2' });
    const before = server.logs.length;
    await Promise.all(Array.from({ length: 200 }, (_, i) => post(server.url, urlencoded({ kind: 'help' }), from(`10.78.0.${i}`))));
    const refused = () => server.logs.slice(before).filter((l) => l.includes('application.refused')).map((l) => JSON.parse(l) as Record<string, unknown>);
    await expect.poll(() => refused().reduce((sum, line) => sum + Number(line['count']), 0)).toBe(200);
    for (const line of refused()) expect(line).toMatchObject({ error: 'validation', status: 400 });
    expect(refused().length).toBeLessThanOrEqual(2);
    expect(server.logs.length - before).toBeLessThan(5);
  });

  test('with the shared Redis killed, limits are kept in memory: 12 in a row from one address, 5 accepted', async () => {
    const redis = await startRedis();
    redises.push(redis);
    const server = await serve({ REDIS_URL: redis.url, TRUST_PROXY: '1' });
    await redis.kill();
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await post(server.url, urlencoded(helpFields()), from('198.51.100.30'))).status);
    expect(statuses).toEqual([...Array(5).fill(201), ...Array(7).fill(429)]);
  });
});

test.describe('only our own pages may post', () => {
  test('a page that names itself in Origin and Host (DNS rebinding) is refused', async () => {
    const server = await serve();
    const body = urlencoded(helpFields()).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const rebound = await rawRequest(server.port, { headers: { ...headers, host: 'evil.example', origin: 'http://evil.example' }, chunks: [body] });
    expect(rebound.status).toBe(403);
    const hidden = await rawRequest(server.port, { headers: { ...headers, host: 'evil.example', origin: 'null', 'sec-fetch-site': 'same-origin' }, chunks: [body] });
    expect(hidden.status).toBe(403);
    // In development the configured host and port, in any loopback spelling, are ours.
    for (const origin of [server.url, `http://localhost:${server.port}`]) {
      expect((await rawRequest(server.port, { headers: { ...headers, origin }, chunks: [body] })).status, origin).toBe(201);
    }
  });

  test('with PUBLIC_URL set, only that origin may post', async () => {
    const server = await serve({ PUBLIC_URL: 'https://help.example.org' });
    const body = urlencoded(helpFields());
    expect((await post(server.url, body)).status).toBe(403);
    expect((await post(server.url, urlencoded(helpFields()), { origin: 'https://help.example.org' })).status).toBe(201);
  });
});

interface SealedOptions {
  fields?: Record<string, string>;
  keys?: openpgp.PublicKey[];
  text?: string;
}

/** A request as the island builds it, under a reference `server` issued. */
async function sealedBody(server: RunningServer, options: SealedOptions = {}) {
  const issued = (await (await fetch(`${server.url}/api/applications`)).json()) as { reference: string; ticket: string };
  const fields = { kind: 'help', locale: 'ru', consent: 'yes', website: '', filled_ms: '42000', reference: issued.reference, reference_ticket: issued.ticket, ...options.fields };
  return { fields, body: await sealedForm(fields, options.text ?? `Заявка ${fields.reference}: ${marker('sealed')}`, options.keys ?? [staffKey]) };
}

async function sealedForm(fields: Record<string, string>, text: string, keys = [staffKey]): Promise<FormData> {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  body.append('sealed', await encryptText(pgp, text, keys));
  return body;
}

const mailCount = (reference: string) => sink.requests.filter((r) => (r.body as { subject?: string } | null)?.subject?.includes(reference)).length;
const outboxOf = (server: RunningServer) => {
  const dir = join(server.varDir, 'outbox');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')) : [];
};

test.describe('a reference names one application for its whole life', () => {
  test('an exact retry gets the same answer and no second mail; another application under the code is refused', async () => {
    const server = await serve();
    const first = await sealedBody(server);
    const accepted = await post(server.url, first.body);
    expect(await json(accepted)).toEqual({ ok: true, reference: first.fields.reference, sealed: true });
    await mailsFor(sink, first.fields.reference);
    // The island's retry after a lost answer: the very same bytes.
    const retry = await post(server.url, first.body);
    expect(retry.status).toBe(201);
    expect((await json(retry)).reference).toBe(first.fields.reference);
    // Someone who saw the code (and even holds its ticket) writes something else under it.
    const swapped = await sealedForm(first.fields, `Подмена ${marker('swap')}`);
    expect((await json(await post(server.url, swapped))).error).toBe('reference_taken');
    // Stopped, it has finished every delivery it started: what it would send twice, it has.
    await server.stop();
    expect(mailCount(first.fields.reference)).toBe(1);
    expect(outboxOf(server)).toEqual([]);
  });

  test('replaying an accepted post over and over counts against its address like junk', async () => {
    const server = await serve({ TRUST_PROXY: '1', RATE_LIMIT_REFUSED: '3/10m' });
    const first = await sealedBody(server);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(server.url, first.body, from('198.51.100.40'))).status);
    expect(statuses).toEqual([201, 201, 201, 201, 429]);
    await mailsFor(sink, first.fields.reference);
    expect(mailCount(first.fields.reference)).toBe(1);
  });

  test('a code without its ticket is refused the same way whether it is used or not', async () => {
    const server = await serve();
    const used = await sealedBody(server);
    expect((await post(server.url, used.body)).status).toBe(201);
    const answers = [];
    for (const reference of [used.fields.reference, newReference()]) {
      for (const ticket of ['', used.fields.reference_ticket, 'mzzzzz.AAAAAAAAAAAAAAAAAAAAAA']) {
        if (reference === used.fields.reference && ticket === used.fields.reference_ticket) continue;
        const response = await post(server.url, await sealedForm({ ...used.fields, reference, reference_ticket: ticket }, 'x'));
        answers.push({ status: response.status, body: await response.text() });
      }
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]!.status).toBe(400);
  });

  test('across a restart, the code stays used', async () => {
    const varDir = mkdtempSync(join(tmpdir(), 'alt-var-'));
    const before = await serve({}, { varDir });
    const first = await sealedBody(before);
    expect((await post(before.url, first.body)).status).toBe(201);
    await mailsFor(sink, first.fields.reference);
    await before.stop();
    const after = await serve({}, { varDir });
    expect((await json(await post(after.url, await sealedForm(first.fields, 'после перезапуска')))).error).toBe('reference_taken');
    expect((await post(after.url, first.body)).status).toBe(201);
    await after.stop();
    expect(mailCount(first.fields.reference)).toBe(1);
  });

  test('across two instances sharing one Redis, the code stays used', async () => {
    const redis = await startRedis();
    redises.push(redis);
    const [a, b] = [await serve({ REDIS_URL: redis.url }), await serve({ REDIS_URL: redis.url })];
    const first = await sealedBody(a!);
    expect((await post(a!.url, first.body)).status).toBe(201);
    await mailsFor(sink, first.fields.reference);
    expect((await json(await post(b!.url, await sealedForm(first.fields, 'на другом сервере')))).error).toBe('reference_taken');
    expect((await post(b!.url, first.body)).status).toBe(201);
    await Promise.all([a!.stop(), b!.stop()]);
    expect(mailCount(first.fields.reference)).toBe(1);
    expect(outboxOf(b!)).toEqual([]);
  });
});

async function formOf(request: Request): Promise<FormData> {
  const type = (await request.allHeaders())['content-type'] ?? '';
  return new Response(new Uint8Array(request.postDataBuffer() ?? Buffer.alloc(0)), { headers: { 'content-type': type } }).formData();
}

async function partsOf(form: FormData): Promise<[string, string][]> {
  const parts: [string, string][] = [];
  for (const [name, value] of form) parts.push([name, typeof value === 'string' ? value : Buffer.from(await value.arrayBuffer()).toString('base64')]);
  return parts;
}

test.describe('the island in a real browser', () => {
  test('its retry after a lost answer sends the same parts again: one application, one mail; a swapped ciphertext is refused', async ({ page }) => {
    const server = await serve();
    const posts: Request[] = [];
    let dropAnswer = true;
    await page.route('**/api/applications', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      posts.push(route.request());
      if (!dropAnswer) return route.fallback();
      // The server gets it and answers; the answer is lost on the way back.
      dropAnswer = false;
      await route.fetch();
      await route.abort('connectionreset');
    });
    await page.goto(`${server.url}/ru/help/`);
    await hydrated(page);
    await page.locator('#f-for-self').check();
    await page.locator('#f-message').fill(`Держат на складе ${marker('island')}`);
    await page.locator('#f-contact_safe-no').check();
    await page.locator('#f-consent').check();
    await afterHumanDelay(page);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    await expect(page.locator('#failure-title')).toBeFocused();
    await page.getByRole('button', { name: ru['form.failure.retry'] }).click();
    await expect(page.getByRole('heading', { name: ru['answer.received.title'] })).toBeFocused();
    const reference = await shownReference(page);
    expect(posts).toHaveLength(2);
    // The same parts (each post has a boundary of its own).
    const [sent, again] = await Promise.all(posts.map(formOf));
    expect(await partsOf(again!)).toEqual(await partsOf(sent!));
    await mailsFor(sink, reference);

    // The same post with its ciphertext swapped, from outside the browser.
    const fields = Object.fromEntries([...sent!.entries()].filter(([name]) => name !== 'sealed')) as Record<string, string>;
    expect(fields['reference']).toBe(reference);
    expect((await json(await post(server.url, await sealedForm(fields, `Подмена ${marker('swap')}`)))).error).toBe('reference_taken');
    await server.stop();
    expect(mailCount(reference)).toBe(1);
  });
});
