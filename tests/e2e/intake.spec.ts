// The endpoint against the built server with real parts: GnuPG opens what arrives at a local
// Resend sink (through the real resend SDK), and nothing readable is left in logs or files.
import { expect, test } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../support/server.ts';
import { startSink, type Sink } from '../../scripts/lib/sink.ts';
import { createGpgHome, type GpgHome } from '../support/gpg.ts';
import { eccKeyPair, rsaKeyPair, type TestKeyPair } from '../support/keys.ts';
import { jpeg, png } from '../support/images.ts';
import { filesUnder, helpFields, mailEnv, mailsFor, marker, missingFields, multipart, post, urlencoded } from '../support/intake.ts';

test.describe.configure({ mode: 'serial' });

let server: RunningServer;
let sink: Sink;
let staff: TestKeyPair[];
const gpg: GpgHome[] = [];
const sent: string[] = [];

test.beforeAll(async () => {
  test.setTimeout(120_000);
  sink = await startSink();
  staff = [await eccKeyPair(), await rsaKeyPair()];
  for (const key of staff) {
    const home = await createGpgHome();
    await home.importKey(key.privateKey);
    gpg.push(home);
  }
  const keysFile = join(process.env.TMPDIR ?? '/tmp', `staff-${Date.now()}.asc`);
  writeFileSync(keysFile, staff.map((k) => k.publicKey).join('\n'));
  server = await startServer({
    STAFF_PGP_KEYS_FILE: keysFile,
    ...mailEnv(sink),
    STAFF_EMAILS: 'staff@example.org,lead@example.org',
    // Generous, so this file's own posts never hit the limit; the limit is tested below with defaults.
    RATE_LIMIT_ADDRESS: '100/10m',
  });
});

test.afterAll(async () => {
  await server?.stop();
  await sink?.close();
  for (const home of gpg) await home.cleanup();
});

test('a help request posted as a browser would arrives encrypted, and each staff key opens it', async () => {
  const secret = marker('message');
  const fields = helpFields({ message: `Помогите, ${secret}`, place: `Завод ${marker('place')}` });
  sent.push(String(fields['message']), String(fields['place']));
  const response = await post(server.url, urlencoded(fields));
  expect(response.status).toBe(201);
  const { ok, reference } = (await response.json()) as { ok: boolean; reference: string };
  expect(ok).toBe(true);
  expect(reference).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);

  const [mail] = await mailsFor(sink, reference);
  const body = mail!.body as { subject: string; text: string; to: string[]; from: string; attachments?: unknown[] };
  expect(body.subject).toBe(`Заявка help ${reference}`);
  expect(body.to).toEqual(['staff@example.org', 'lead@example.org']);
  expect(mail!.headers['idempotency-key']).toBe(reference);
  expect(body.text).toMatch(/^-----BEGIN PGP MESSAGE-----/);
  expect(JSON.stringify(mail!.body)).not.toContain(secret);
  for (const home of gpg) {
    const plain = (await home.decrypt(body.text)).toString('utf8');
    expect(plain).toContain(`Помогите, ${secret}`);
    expect(plain).toContain(reference);
    expect(plain).toContain(String(fields['place']));
  }
});

test('a missing-person request with photos arrives with byte-identical encrypted photos', async () => {
  const photos = [
    { bytes: jpeg(), name: 'brother.jpg', type: 'image/jpeg' },
    { bytes: png(20, 10), name: 'Иван.png', type: 'image/png' },
  ];
  const fields = missingFields({ circumstances: `Уехал с вербовщиком ${marker('circ')}` });
  sent.push(String(fields['circumstances']));
  const response = await post(server.url, multipart(fields, photos));
  expect(response.status).toBe(201);
  const { reference } = (await response.json()) as { reference: string };
  const [mail] = await mailsFor(sink, reference);
  const body = mail!.body as { subject: string; text: string; attachments: { filename: string; content: string }[] };
  expect(body.subject).toBe(`Заявка missing ${reference}`);
  expect(body.attachments.map((a) => a.filename)).toEqual([`${reference}-1.pgp`, `${reference}-2.pgp`]);
  const plain = (await gpg[0]!.decrypt(body.text)).toString('utf8');
  expect(plain).toContain(String(fields['circumstances']));
  expect(plain).toContain('Иван Петров');
  for (const [i, attachment] of body.attachments.entries()) {
    const armored = Buffer.from(attachment.content, 'base64').toString('utf8');
    const opened = await gpg[1]!.decryptDetails(armored);
    expect(Buffer.compare(opened.data, Buffer.from(photos[i]!.bytes))).toBe(0);
  }
});

test('delivered envelopes leave the outbox', async () => {
  await expect.poll(() => filesUnder(join(server.varDir, 'outbox')).filter((f) => f.path.endsWith('.json')).length).toBe(0);
});

test('the right 4xx for bad requests, localized, never a 5xx', async () => {
  const json = async (r: Response) => (await r.json()) as { ok: boolean; error: string; message: string; fields?: Record<string, string> };

  // The form's own `locale` decides the language of the answer.
  const noConsent = await post(server.url, urlencoded(helpFields({ consent: '' })), { 'accept-language': 'en' });
  expect(noConsent.status).toBe(400);
  const refused = await json(noConsent);
  expect(refused.error).toBe('validation');
  expect(refused.fields?.['consent']).toBe('Без вашего согласия мы не можем обработать заявку');

  const english = await post(server.url, urlencoded(helpFields({ locale: 'en', message: '' })));
  expect((await json(english)).fields?.['message']).toBe('Please fill in this field');

  const spoofed = await post(server.url, multipart(missingFields(), [{ bytes: new TextEncoder().encode('<script>alert(1)</script>'), name: 'x.jpg', type: 'image/jpeg' }]));
  expect(spoofed.status).toBe(400);
  expect((await json(spoofed)).fields?.['photos']).toBe('Фото должно быть в формате JPEG, PNG или WebP');

  const tooLarge = await post(server.url, multipart(missingFields(), [{ bytes: new Uint8Array(17 * 1024 * 1024), name: 'big.jpg', type: 'image/jpeg' }]));
  expect(tooLarge.status).toBe(413);
  expect((await json(tooLarge)).error).toBe('too_large');

  const wrongType = await post(server.url, JSON.stringify(helpFields()), { 'content-type': 'application/json' });
  expect(wrongType.status).toBe(415);
  expect((await json(wrongType)).error).toBe('unsupported_media_type');

  const crossOrigin = await fetch(`${server.url}/api/applications`, {
    method: 'POST',
    body: urlencoded(helpFields()),
    headers: { origin: 'https://evil.example', accept: 'application/json', 'accept-language': 'en' },
  });
  expect(crossOrigin.status).toBe(403);
  const forbidden = await json(crossOrigin);
  expect(forbidden.error).toBe('forbidden');
  expect(forbidden.message).toMatch(/our own site/);

  for (const method of ['PUT', 'DELETE']) {
    const r = await fetch(`${server.url}/api/applications`, { method, headers: { origin: server.url, accept: 'application/json' } });
    expect(r.status, method).toBe(405);
  }
  // GET gives the staff's public keys (tests/e2e/sealed.spec.ts).
  expect((await fetch(`${server.url}/api/applications`)).status).toBe(200);
});

test('the logs and every file the server wrote hold no submitted value', async () => {
  expect(sent.length).toBeGreaterThan(0);
  const files = filesUnder(server.varDir);
  for (const value of sent) {
    const needle = value.split(' ').pop()!;
    expect(server.logs.filter((l) => l.includes(needle)), 'log lines').toEqual([]);
    expect(files.filter((f) => f.text.includes(needle)).map((f) => f.path), 'files').toEqual([]);
  }
});

test.describe('rate limit', () => {
  let limited: RunningServer;
  test.beforeAll(async () => {
    limited = await startServer();
  });
  test.afterAll(async () => {
    await limited?.stop();
  });

  test('11 rapid posts from one address: 5 accepted, then 429 with Retry-After and the hotlines', async () => {
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) {
      last = await post(limited.url, urlencoded(helpFields()));
      statuses.push(last.status);
      if (last.status !== 429) await last.body?.cancel();
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await last!.json()) as { error: string; message: string };
    expect(body.error).toBe('rate_limited');
    expect(body.message).toContain('+7 800 550 7140');
    expect(body.message).toContain('112');
    // The other kind has its own window.
    expect((await post(limited.url, multipart(missingFields()))).status).toBe(201);
  });
});

test.describe('embedded defaults (npm start with nothing configured)', () => {
  let local: RunningServer;
  test.beforeAll(async () => {
    // An empty value is unset: the default threshold, not the test servers' short one.
    local = await startServer({ BOT_MIN_FILL_MS: '' });
  });
  test.afterAll(async () => {
    await local?.stop();
  });

  test('applications wait encrypted in the outbox and the generated dev key opens them', async () => {
    const secret = marker('dev');
    const response = await post(local.url, urlencoded(helpFields({ message: `Тест ${secret}` })));
    expect(response.status).toBe(201);
    const { reference } = (await response.json()) as { reference: string };
    const [file] = filesUnder(join(local.varDir, 'outbox')).filter((f) => f.path.endsWith(`${reference}.json`));
    expect(file, 'outbox file').toBeDefined();
    expect(file!.text).not.toContain(secret);
    const home = await createGpgHome();
    try {
      await home.importKey(filesUnder(join(local.varDir, 'dev-keys')).find((f) => f.path.endsWith('staff.sec.asc'))!.text);
      const envelope = JSON.parse(readFileSync(file!.path, 'utf8')) as { armored: string };
      expect((await home.decrypt(envelope.armored)).toString('utf8')).toContain(`Тест ${secret}`);
    } finally {
      await home.cleanup();
    }
    expect(local.logs.some((l) => l.includes('outbox only'))).toBe(true);
  });

  test('a form sent within 3000 ms of opening the page is a bot\'s: answered as received, nothing kept', async () => {
    const sent = async (filledMs: number) => {
      const response = await post(local.url, urlencoded(helpFields({ filled_ms: String(filledMs) })));
      expect(response.status, `${filledMs} ms`).toBe(201);
      const { reference } = (await response.json()) as { reference: string };
      return filesUnder(join(local.varDir, 'outbox')).some((f) => f.path.endsWith(`${reference}.json`));
    };
    // Kept before it is answered: what is not in the outbox by then never will be.
    expect(await sent(2999)).toBe(false);
    expect(await sent(3000)).toBe(true);
  });

  test('in production, missing configuration stops the start with the variable named', async () => {
    await expect(startServer({ APP_ENV: 'production' })).rejects.toThrow(/STAFF_PGP_KEYS_FILE[\s\S]*RESEND_API_KEY|RESEND_API_KEY[\s\S]*STAFF_PGP_KEYS_FILE/);
  });
});
