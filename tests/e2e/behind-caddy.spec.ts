// The production topology on loopback, with the programs an operator runs: Caddy with
// deploy/Caddyfile (tls internal, HTTP/2) in front of two built-server instances that share one
// redis-server started from deploy/redis.conf (OUTBOX_STORE=redis, TRUST_PROXY=1), mailing
// through the real resend SDK to a local sink. Everything below goes over HTTPS through Caddy,
// and Node clients trust only Caddy's local authority.
import { expect, test, type BrowserContext } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { addressKey } from '../../src/intake/server/ratelimit/address.ts';
import { contacts } from '../../src/site/contacts.ts';
import { openRedisConnection } from '../../src/intake/server/store/redis.ts';
import { helpSample } from '../../scripts/lib/samples.mjs';
import { sendsPerReference, startSink, type Sink } from '../../scripts/lib/sink.ts';
import { startCaddy, type RunningCaddy } from '../support/caddy.ts';
import { afterHumanDelay, fillHelp, fillMissing, hydrated, shownReference } from '../support/forms.ts';
import { createGpgHome, type GpgHome } from '../support/gpg.ts';
import { jpeg } from '../support/images.ts';
import { mailEnv, marker, urlencoded } from '../support/intake.ts';
import { eccKeyPair } from '../support/keys.ts';
import { startRedis, type RunningRedis } from '../support/redis.ts';
import { freePort, startServer, type RunningServer } from '../support/server.ts';
import ru from '../../src/i18n/ui/ru.json' with { type: 'json' };

test.describe.configure({ mode: 'serial' });
// Caddy's certificates come from its own local authority, which Chromium does not know.
test.use({ ignoreHTTPSErrors: true });

// A v3 address tor made (its checksum holds); nothing listens there, the test's onion listener stands in.
const ONION = 'http://f4olf7h45cea4mdcbkz7vcop4m7chztlr4ve5cjm4brsort6jar6mfid.onion';
const SECRET = randomBytes(32).toString('hex');
/** Accepted applications per address and kind: small, so the limit is reached in a few posts. */
const PER_ADDRESS = 3;
const STREAM = 'intake:outbox:stream';

let sink: Sink;
let redis: RunningRedis;
let admin: Redis;
let caddy: RunningCaddy;
let instances: RunningServer[] = [];
let gpg: GpgHome;
const varDir = mkdtempSync(join(tmpdir(), 'topology-'));

test.beforeAll(async () => {
  test.setTimeout(60_000);
  const [startedSink, staff, startedRedis] = await Promise.all([
    startSink(),
    eccKeyPair(),
    startRedis({ config: join(import.meta.dirname, '../../deploy/redis.conf') }),
  ]);
  [sink, redis] = [startedSink, startedRedis];
  gpg = await createGpgHome();
  await gpg.importKey(staff.privateKey);
  const keysFile = join(varDir, 'staff-keys.asc');
  writeFileSync(keysFile, staff.publicKey);
  const [https, a, b] = await Promise.all([freePort(), freePort(), freePort()]);
  const env = {
    ...mailEnv(sink),
    STAFF_PGP_KEYS_FILE: keysFile,
    PUBLIC_URL: `https://localhost:${https}`,
    ONION_URL: ONION,
    REDIS_URL: redis.url,
    OUTBOX_STORE: 'redis',
    TRUST_PROXY: '1',
    RATE_LIMIT_SECRET: SECRET,
    RATE_LIMIT_ADDRESS: `${PER_ADDRESS}/10m`,
    RATE_LIMIT_GLOBAL: '1000/1h',
    // A dead instance's applications are taken over after claimIdleMs(2 s) = 9 s.
    MAIL_TIMEOUT_SECONDS: '2',
    OUTBOX_RETRY_SECONDS: '1',
  };
  // One state folder for both, as the units share /var/lib/alternativa.
  instances = await Promise.all([startServer(env, { varDir, port: a }), startServer(env, { varDir, port: b })]);
  // After the instances listen: Caddy's first health check must find them up.
  caddy = await startCaddy([a, b], { https });
  admin = openRedisConnection(redis.url, { commandTimeoutMs: 5000 });
  await expect.poll(() => admin.status, { timeout: 10_000 }).toBe('ready');
});

test.afterAll(async () => {
  admin?.disconnect();
  await caddy?.stop();
  await Promise.all(instances.map((instance) => instance.stop()));
  await redis?.stop();
  await sink?.close();
  await gpg?.cleanup();
  rmSync(varDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTPS request to Caddy from `from` (any 127.x address is this machine: each is a client
 * address of its own to Caddy), trusting only Caddy's local authority.
 */
function viaCaddy(method: string, path: string, options: { from?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.request({
      host: '127.0.0.1',
      port: caddy.port,
      servername: 'localhost',
      ca: caddy.ca,
      localAddress: options.from ?? '127.0.0.1',
      method,
      path,
      headers: { host: `localhost:${caddy.port}`, ...options.headers },
      agent: false,
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

/** A plain application post (no JavaScript: the server encrypts), as our own page sends it. */
function apply(fields: Record<string, string | string[]>, options: { from?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return viaCaddy('POST', '/api/applications', {
    ...options,
    headers: { origin: caddy.url, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
    body: urlencoded(fields).toString(),
  });
}

const referenceOf = (answer: Answer) => (JSON.parse(answer.body) as { reference: string }).reference;

/** The instances whose log says they kept `reference`, by index. */
function keptBy(reference: string): number[] {
  return instances.flatMap((instance, i) =>
    instance.logs.some((line) => line.includes('"application.kept"') && line.includes(reference)) ? [i] : []);
}

/** The one instance that kept `reference`: it logs so before it answers, but the log comes over a pipe of its own. */
async function keeper(reference: string): Promise<number> {
  await expect.poll(() => keptBy(reference).length, { message: `the instance that kept ${reference}` }).toBe(1);
  return keptBy(reference)[0]!;
}

function sentBy(reference: string): number[] {
  return instances.flatMap((instance, i) =>
    instance.logs.some((line) => line.includes('"delivery.sent"') && line.includes(reference)) ? [i] : []);
}

/** Resolves once nothing waits in the shared outbox: no send can follow, so counts are final. */
async function outboxEmpty(timeout = 30_000): Promise<void> {
  await expect.poll(async () => Number(await admin.call('XLEN', STREAM)), { timeout, message: 'applications still waiting in the Redis outbox' }).toBe(0);
}

interface Mail {
  subject: string;
  text: string;
  attachments?: { filename: string; content: string }[];
}

function mailOf(reference: string): Mail {
  const found = sink.requests.filter((r) => r.headers['idempotency-key'] === reference);
  expect(found, `mails for ${reference}`).toHaveLength(1);
  return found[0]!.body as Mail;
}

test('pages come over HTTPS with HTTP/2 and carry Onion-Location; through the onion listener they do not, and its forms may post', async () => {
  const session = http2.connect(`https://127.0.0.1:${caddy.port}`, { ca: caddy.ca, servername: 'localhost' });
  try {
    const head = await new Promise<http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader>((resolve, reject) => {
      const stream = session.request({ ':path': '/ru/', ':authority': `localhost:${caddy.port}`, 'accept-encoding': 'br, gzip' });
      stream.on('response', (headers) => {
        resolve(headers);
        stream.close();
      });
      stream.on('error', reject);
      stream.end();
    });
    expect(session.alpnProtocol).toBe('h2');
    expect(head[':status']).toBe(200);
    expect(head['onion-location']).toBe(`${ONION}/ru/`);
    expect(head['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    // Compressed at build time, sent as the browser asks (brotli over HTTPS).
    expect(head['content-encoding']).toBe('br');
  } finally {
    session.close();
  }
  const api = await viaCaddy('GET', '/api/applications');
  expect(api.status).toBe(200);
  expect(api.headers['onion-location']).toBeUndefined();
  const health = await viaCaddy('GET', '/healthz');
  expect([health.status, health.body, health.headers['cache-control']]).toEqual([200, 'ok\n', 'no-store']);

  // What tor hands over: plain http on loopback, with the onion's name as Host.
  const viaOnion = await new Promise<Answer>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: caddy.onionPort, path: '/ru/help/', headers: { host: new URL(ONION).host }, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: '' }));
    }).on('error', reject);
  });
  expect(viaOnion.status).toBe(200);
  expect(viaOnion.headers['onion-location']).toBeUndefined();
  expect(viaOnion.headers['strict-transport-security']).toBeUndefined();
  expect(viaOnion.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
  // A form on the onion's pages posts from the onion's origin: accepted like the domain's.
  const posted = await new Promise<Answer>((resolve, reject) => {
    const body = urlencoded(helpSample).toString();
    const request = http.request({
      host: '127.0.0.1', port: caddy.onionPort, path: '/api/applications', method: 'POST', agent: false,
      headers: { host: new URL(ONION).host, origin: ONION, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) },
    }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
  expect(posted.status).toBe(201);
  await keeper(referenceOf(posted));
});

/** A post of `bytes` zeros sent in chunks without a declared length; answered as soon as Caddy or an instance answers. */
function chunkedPost(bytes: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = https.request({
      host: '127.0.0.1', port: caddy.port, servername: 'localhost', ca: caddy.ca, method: 'POST', path: '/api/applications', agent: false,
      headers: { host: `localhost:${caddy.port}`, origin: caddy.url, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
    }, (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    // Once answered, the rest of the body may be refused (EPIPE): that is the cut.
    request.on('error', (error) => (answered ? undefined : reject(error)));
    const chunk = Buffer.alloc(64 * 1024);
    let sent = 0;
    const pump = () => {
      while (sent < bytes && !answered) {
        sent += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', pump);
      }
      if (!answered) request.end();
    };
    pump();
  });
}

test('a body past the endpoint\'s 16 MiB is refused: by the instance when it says so, by Caddy when it does not', async () => {
  // Declared: the instance refuses it from its Content-Length, in the person's language.
  const declared = await viaCaddy('POST', '/api/applications', {
    headers: { origin: caddy.url, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(17 * 1024 * 1024) },
    body: Buffer.alloc(17 * 1024 * 1024),
  }).catch(() => null);
  expect(declared?.status).toBe(413);
  expect(JSON.parse(declared!.body)).toMatchObject({ ok: false, error: 'too_large' });
  // Undeclared (chunked): Caddy's request_body cap cuts it at 16 MiB with a 413 of its own.
  const undeclared = await chunkedPost(17 * 1024 * 1024);
  expect(undeclared.status).toBe(413);
  expect(undeclared.body).toBe('');
  // Neither instance is taken out of rotation for it: of the next four applications (round robin,
  // with Caddy's own health checks in between) both instances keep some.
  const next = [];
  for (const from of ['127.0.0.40', '127.0.0.41', '127.0.0.42', '127.0.0.43']) next.push(await apply(helpSample, { from }));
  expect(next.map((a) => a.status)).toEqual([201, 201, 201, 201]);
  expect(new Set(await Promise.all(next.map((a) => keeper(referenceOf(a)))))).toEqual(new Set([0, 1]));
});

const MESSAGE = `Нас держат на кирпичном заводе ${marker('message')}`;
const CIRCUMSTANCES = `Уехал на стройку по объявлению ${marker('circumstances')}`;
const photoBytes = Buffer.from(jpeg());

/** Sends one form in Chromium through Caddy and returns the reference the person is shown. */
async function sendForm(context: BrowserContext, kind: 'help' | 'missing', javaScript: boolean, text: string): Promise<string> {
  const page = await context.newPage();
  await page.goto(`${caddy.url}/ru/${kind}/`);
  if (javaScript) await hydrated(page);
  if (kind === 'help') await fillHelp(page, { message: text });
  else {
    await fillMissing(page, { circumstances: text });
    await page.locator('#f-photos').setInputFiles([{ name: 'brother.jpg', mimeType: 'image/jpeg', buffer: photoBytes }]);
  }
  if (javaScript) await afterHumanDelay(page);
  await page.getByRole('button', { name: ru['form.submit'] }).click();
  await expect(page.getByRole('heading', { name: ru['answer.received.title'] })).toBeVisible();
  const reference = await shownReference(page);
  await page.close();
  return reference;
}

test('both forms, with JavaScript on and off, reach the mail sink once each, and GnuPG opens them', async ({ browser }) => {
  const sent: { reference: string; kind: 'help' | 'missing'; text: string; javaScript: boolean }[] = [];
  for (const javaScript of [true, false]) {
    const context = await browser.newContext({ javaScriptEnabled: javaScript, ignoreHTTPSErrors: true });
    try {
      for (const kind of ['help', 'missing'] as const) {
        const text = `${kind === 'help' ? MESSAGE : CIRCUMSTANCES} ${javaScript ? 'js' : 'nojs'}`;
        sent.push({ reference: await sendForm(context, kind, javaScript, text), kind, text, javaScript });
      }
    } finally {
      await context.close();
    }
  }
  await expect.poll(() => sent.filter((s) => sendsPerReference(sink).has(s.reference)).length, { timeout: 20_000 }).toBe(sent.length);
  await outboxEmpty();
  for (const { reference, kind, text, javaScript } of sent) {
    const label = `${kind}, JavaScript ${javaScript ? 'on' : 'off'}`;
    const mail = mailOf(reference);
    expect(mail.subject, label).toBe(`Заявка ${kind} ${reference}`);
    expect(JSON.stringify(mail), label).not.toContain(text);
    const plain = (await gpg.decrypt(mail.text)).toString('utf8');
    expect(plain, label).toContain(text);
    expect(plain, label).toContain(reference);
    if (kind === 'missing') {
      expect(mail.attachments?.map((a) => a.filename), label).toEqual([`${reference}-1.pgp`]);
      const photo = await gpg.decrypt(Buffer.from(mail.attachments![0]!.content, 'base64').toString('utf8'));
      expect(Buffer.compare(photo, photoBytes), label).toBe(0);
    }
  }
});

test('the per-address limit holds across both instances, and an X-Forwarded-For the client sends changes nothing', async () => {
  const from = '127.0.0.9';
  const forged = ['203.0.113.7', '203.0.113.8, 198.51.100.8', '198.51.100.9, 127.0.0.1', '127.0.0.1', '203.0.113.10', '2001:db8::1'];
  const answers: Answer[] = [];
  for (const xff of forged) answers.push(await apply(helpSample, { from, headers: { 'x-forwarded-for': xff } }));
  expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 429, 429, 429]);
  // Round robin: the accepted ones were kept by both instances, so neither counted alone.
  const keepers = await Promise.all(answers.slice(0, PER_ADDRESS).map((a) => keeper(referenceOf(a))));
  expect(new Set(keepers)).toEqual(new Set([0, 1]));
  // The windows in Redis are those of the socket address Caddy saw, and of no forged one.
  const keysOf = async (address: string) => (await admin.call('KEYS', `*${addressKey(SECRET, address)}*`)) as string[];
  expect((await keysOf(from)).length).toBeGreaterThan(0);
  for (const address of ['203.0.113.7', '203.0.113.8', '198.51.100.8', '198.51.100.9', '203.0.113.10', '2001:db8::1']) {
    expect(await keysOf(address), address).toEqual([]);
  }
  // Another address still gets through: the refusals were this address's, not everyone's.
  expect((await apply(helpSample, { from: '127.0.0.10', headers: { 'x-forwarded-for': from } })).status).toBe(201);
});

test('200 applications at once through Caddy: 200 accepted, 200 delivered, none twice', async () => {
  const count = 200;
  const answers = await Promise.all(Array.from({ length: count }, (_, i) =>
    apply({ ...helpSample, message: `${helpSample.message} ${i}` }, { from: `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}` })));
  expect(answers.filter((a) => a.status === 201)).toHaveLength(count);
  const references = answers.map(referenceOf);
  expect(new Set(references).size).toBe(count);
  const keepers = await Promise.all(references.map(keeper));
  expect(new Set(keepers)).toEqual(new Set([0, 1]));
  await expect.poll(() => references.filter((r) => sendsPerReference(sink).has(r)).length, { timeout: 30_000 }).toBe(count);
  await outboxEmpty();
  const sends = sendsPerReference(sink);
  expect(references.filter((r) => sends.get(r) !== 1)).toEqual([]);
});

test('an instance killed right after it answered "received", with the mail provider down, is delivered by the other once the provider is back', async () => {
  await sink.down();
  const answer = await apply(helpSample, { from: '127.0.0.21' });
  expect(answer.status).toBe(201);
  const reference = referenceOf(answer);
  const victim = await keeper(reference);
  await instances[victim]!.stop('SIGKILL');
  const survivor = 1 - victim;
  await sink.up();
  // Taken over once its entry has been idle past the claim time (9 s with MAIL_TIMEOUT_SECONDS=2).
  await expect.poll(() => sendsPerReference(sink).get(reference) ?? 0, { timeout: 30_000 }).toBe(1);
  await outboxEmpty();
  expect(sendsPerReference(sink).get(reference)).toBe(1);
  await expect.poll(() => sentBy(reference)).toEqual([survivor]);
  const plain = (await gpg.decrypt(mailOf(reference).text)).toString('utf8');
  expect(plain).toContain(helpSample.message);
});

test('when no instance can keep an application, pages stay up, the keys still come, and a post gets the hotline, not an empty page', async () => {
  // Redis full: the instance left refuses to keep (its /healthz says 503); the other is dead.
  const survivor = instances.findIndex((instance) => instance.process.exitCode === null && instance.process.signalCode === null);
  const since = caddy.logs.length;
  await admin.call('CONFIG', 'SET', 'maxmemory', '1');
  try {
    // Caddy's next checks of the endpoint's instances (every 10 s) find neither available: the
    // last one answers 503, the dead one nothing. Caddy then has no checked instance for /api/.
    const checked = (port: number, what: string) => caddy.logs.slice(since).some((line) => line.includes(what) && line.includes(`127.0.0.1:${port}`));
    const dead = instances[1 - survivor]!.port;
    await expect.poll(() => checked(instances[survivor]!.port, 'unexpected status code') && checked(dead, 'HTTP request failed'), {
      timeout: 15_000,
      message: 'Caddy finding no instance available for the endpoint',
    }).toBe(true);
    expect((await viaCaddy('GET', '/ru/help/')).status).toBe(200);
    // A GET goes to the instances unchecked: the island still gets the staff keys.
    expect((await viaCaddy('GET', '/api/applications')).status).toBe(200);
    const refused = await apply(helpSample, { from: '127.0.0.50' });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('60');
    expect(refused.headers['cache-control']).toBe('no-store');
    for (const number of [contacts.hotline.display, contacts.police.display]) expect(refused.body).toContain(number);
  } finally {
    await admin.call('CONFIG', 'SET', 'maxmemory', '0');
  }
});
