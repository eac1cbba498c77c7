// Encryption on the device, in Chromium against the built server under its real CSP: what the
// browser sends holds nothing that was typed or attached, GnuPG opens what was kept to exactly
// that, openpgp.js is fetched only once the person sends (or picks a photo), and key changes and
// reference clashes are recovered from without alarming anyone.
import { expect, test, type Page, type Request, type Route } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../support/server.ts';
import { afterHumanDelay, hydrated, shownReference } from '../support/forms.ts';
import { createGpgHome, type GpgHome } from '../support/gpg.ts';
import { jpeg, png } from '../support/images.ts';
import { marker } from '../support/intake.ts';
import { eccKeyPair, rsaKeyPair, type TestKeyPair } from '../support/keys.ts';
import ru from '../../src/i18n/ui/ru.json' with { type: 'json' };
import en from '../../src/i18n/ui/en.json' with { type: 'json' };

test.describe.configure({ mode: 'serial' });

let server: RunningServer;
let staff: TestKeyPair[];
let stranger: TestKeyPair;
const homes: GpgHome[] = [];

test.beforeAll(async () => {
  test.setTimeout(120_000);
  staff = [await eccKeyPair(), await rsaKeyPair()];
  stranger = await eccKeyPair({ name: 'Not staff' });
  for (const pair of staff) {
    const home = await createGpgHome();
    await home.importKey(pair.privateKey);
    homes.push(home);
  }
  const keysFile = join(process.env.TMPDIR ?? '/tmp', `encryption-staff-${Date.now()}.asc`);
  writeFileSync(keysFile, staff.map((k) => k.publicKey).join('\n'));
  // No mail provider: the outbox is the delivery, read back below.
  server = await startServer({ STAFF_PGP_KEYS_FILE: keysFile, RATE_LIMIT_ADDRESS: '500/10m', RATE_LIMIT_GLOBAL: '1000/1h' });
});

test.afterAll(async () => {
  await server?.stop();
  for (const home of homes) await home.cleanup();
});

/** openpgp.js and our module around it: none of it may load with the page. */
const ENCRYPTION_CHUNK = /\/_astro\/(?:encrypt|openpgp|nacl-fast|noble_|legacy_ciphers|argon2id|sha512|unbzip2)[^/]*\.js$/;
// Sorted, as the sent names are compared.
const SEALED_FIELDS = ['consent', 'filled_ms', 'kind', 'locale', 'reference', 'reference_ticket', 'sealed', 'sealed_photos', 'website'];

interface Watch {
  /** Every URL the page requested, in order. */
  requests: string[];
  /** The posts to the endpoint, as sent. */
  posts: Request[];
  problems: string[];
}

/** Records the network and every CSP violation or page error, from before the page loads. */
async function watch(page: Page): Promise<Watch> {
  const seen: Watch = { requests: [], posts: [], problems: [] };
  page.on('request', (r) => seen.requests.push(r.url()));
  // Through a route: Chromium gives the body of a post with file parts only to an interceptor.
  await page.route('**/api/applications', async (route) => {
    if (route.request().method() === 'POST') seen.posts.push(route.request());
    await route.fallback();
  });
  page.on('pageerror', (e) => seen.problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') seen.problems.push(m.text());
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return seen;
}

const encryptionRequests = (seen: Watch) => seen.requests.filter((url) => ENCRYPTION_CHUNK.test(new URL(url).pathname));



/** The multipart body the browser sent, as the server would parse it. */
async function sentForm(request: Request): Promise<{ raw: Buffer; form: FormData }> {
  const raw = request.postDataBuffer();
  expect(raw, 'the request body').not.toBeNull();
  const form = await new Response(new Uint8Array(raw!), { headers: { 'content-type': request.headers()['content-type']! } }).formData();
  return { raw: raw!, form };
}

/** Asserts that no typed value (nor its distinctive marker) is in the bytes, in UTF-8 or UTF-16. */
function expectNoneOf(values: string[], raw: Buffer) {
  for (const value of values) {
    const distinctive = /ZQX-[\w-]+/.exec(value)?.[0] ?? value;
    for (const needle of [value, distinctive]) {
      expect(raw.includes(Buffer.from(needle, 'utf8')), `"${needle}" in the body`).toBe(false);
      expect(raw.includes(Buffer.from(needle, 'utf16le')), `"${needle}" in the body (UTF-16)`).toBe(false);
    }
  }
}

/** The envelope the server kept for `reference` (no mail provider: the outbox is the delivery). */
function kept(reference: string): { armored: string; attachments: { filename: string; armored: string }[] } {
  return JSON.parse(readFileSync(join(server.varDir, 'outbox', `${reference}.json`), 'utf8'));
}

/** A JPEG carrying a marker in a comment segment, so its bytes can be looked for on the wire. */
function markedJpeg(text: string): Uint8Array {
  const base = jpeg();
  const body = Buffer.from(text, 'utf8');
  const comment = Buffer.concat([Buffer.from([0xff, 0xfe, (body.length + 2) >> 8, (body.length + 2) & 0xff]), body]);
  return new Uint8Array(Buffer.concat([base.subarray(0, 2), comment, base.subarray(2)]));
}


test('help: nothing typed leaves the device in the clear, and each staff key opens exactly what was typed', async ({ page }) => {
  const seen = await watch(page);
  const typed = {
    country: `Россия ${marker('country')}`,
    place: `Кирпичный завод у трассы ${marker('place')}`,
    message: `Нас держат на заводе, паспорта забрали.\nВторая строка ${marker('message')}`,
    name: `Марина ${marker('name')}`,
    contact_value: `+7 900 123 45 67 ${marker('contact')}`,
    contact_time: `после 20:00 ${marker('time')}`,
  };
  await page.goto(server.url + '/ru/help/');
  await hydrated(page);
  await page.locator('#f-for-self').check();
  await page.locator('#f-situation-labour').check();
  await page.locator('#f-country').fill(typed.country);
  await page.locator('#f-place').fill(typed.place);
  await page.locator('#f-message').fill(typed.message);
  await page.locator('#f-name').fill(typed.name);
  await page.locator('#f-contact_safe-yes').check();
  await page.locator('#f-contact_channels-signal').check();
  await page.locator('#f-contact_value').fill(typed.contact_value);
  await page.locator('#f-contact_time').fill(typed.contact_time);
  await page.locator('#f-consent').check();
  await afterHumanDelay(page);
  expect(encryptionRequests(seen), 'encryption code before the person sends').toEqual([]);

  await page.getByRole('button', { name: ru['form.submit'] }).click();
  await expect(page.getByRole('heading', { name: ru['answer.received.title'] })).toBeFocused();
  await expect(page.getByText(ru['answer.received.encrypted'])).toBeVisible();
  const reference = await shownReference(page);
  expect(encryptionRequests(seen).some((url) => /\/encrypt\.[^/]*\.js$/.test(url))).toBe(true);

  expect(seen.posts).toHaveLength(1);
  const { raw, form } = await sentForm(seen.posts[0]!);
  expectNoneOf(Object.values(typed), raw);
  expect([...new Set(form.keys())].sort()).toEqual(SEALED_FIELDS.filter((f) => f !== 'sealed_photos'));
  expect(form.get('reference')).toBe(reference);
  // Forms send line breaks as CRLF.
  expect(String(form.get('sealed'))).toMatch(/^-----BEGIN PGP MESSAGE-----\r\n\r\n/);

  const envelope = kept(reference);
  expect(envelope.armored).toBe(String(form.get('sealed')).replace(/\r\n/g, '\n').trim() + '\n');
  for (const home of homes) {
    const opened = await home.decryptDetails(envelope.armored);
    // SEIPDv1 with AES-256, what GnuPG 2.2 reads; no AEAD.
    expect(opened.report).toMatch(/AES256.CFB encrypted data|AES256 encrypted data/);
    expect(opened.report).not.toMatch(/AEAD|OCB|GCM/);
    const plain = opened.data.toString('utf8');
    expect(plain).toContain(`Номер заявки: ${reference}`);
    expect(plain).toContain('Зашифрована на устройстве заявителя: да');
    // The island sends how long the form took; its report says so, as the server's does.
    expect(plain).toMatch(/Время заполнения формы: \d+ с/);
    const json = JSON.parse(plain.slice(plain.indexOf('{'), plain.lastIndexOf('}') + 1)) as { sealed: boolean; application: Record<string, unknown> };
    expect(json.sealed).toBe(true);
    expect(json.application).toMatchObject({ kind: 'help', locale: 'ru', ...typed, situation: ['labour'], contact_channels: ['signal'] });
  }
  expect(seen.problems).toEqual([]);
});

test('missing: photos are encrypted on the device and come out of gpg byte for byte', async ({ page }) => {
  const seen = await watch(page);
  const typed = {
    person_name: `Иванов Иван ${marker('person')}`,
    last_seen_place: `Махачкала, автовокзал ${marker('seen')}`,
    circumstances: `Уехал на стройку по объявлению ${marker('circ')}`,
    applicant_name: `Мария ${marker('applicant')}`,
  };
  const photos = [
    { name: 'Иван на вокзале.jpg', mimeType: 'image/jpeg', buffer: Buffer.from(markedJpeg(marker('photo'))) },
    { name: 'brother.png', mimeType: 'image/png', buffer: Buffer.from(png(20, 10)) },
  ];
  await page.goto(server.url + '/en/missing/');
  await hydrated(page);
  for (const [name, value] of Object.entries(typed)) await page.locator(`#f-${name}`).fill(value);
  await page.locator('#f-police_report-no').check();
  await page.locator('#f-contact_safe-no').check();
  await page.locator('#f-consent').check();
  await page.locator('#f-consent_publish-no').check();
  await page.locator('#f-consent_show_rescued-yes').check();
  expect(encryptionRequests(seen), 'encryption code before a photo is chosen').toEqual([]);
  // Choosing a photo may start loading the encryption code early (photos take longest).
  await page.locator('#f-photos').setInputFiles(photos);
  await afterHumanDelay(page);
  await page.getByRole('button', { name: en['form.submit'] }).click();
  await expect(page.getByRole('heading', { name: en['answer.received.title'] })).toBeFocused();
  await expect(page.getByText('encrypted on this device')).toBeVisible();
  const reference = await shownReference(page);

  const { raw, form } = await sentForm(seen.posts[0]!);
  expectNoneOf([...Object.values(typed), ...photos.map((p) => p.name), 'photo-1.jpg'], raw);
  for (const photo of photos) expect(raw.includes(photo.buffer), 'photo bytes in the body').toBe(false);
  expect([...new Set(form.keys())].sort()).toEqual(SEALED_FIELDS);
  const sentPhotos = form.getAll('sealed_photos') as File[];
  expect(sentPhotos.map((f) => f.name)).toEqual([`${reference}-1.pgp`, `${reference}-2.pgp`]);

  const envelope = kept(reference);
  expect(envelope.attachments.map((a) => a.filename)).toEqual([`${reference}-1.pgp`, `${reference}-2.pgp`]);
  const plain = (await homes[1]!.decrypt(envelope.armored)).toString('utf8');
  for (const value of Object.values(typed)) expect(plain).toContain(value);
  expect(plain).toContain('Фотографии: 2 (отдельными вложениями)');
  for (const [i, attachment] of envelope.attachments.entries()) {
    for (const home of homes) {
      const opened = await home.decryptDetails(attachment.armored);
      expect(Buffer.compare(opened.data, photos[i]!.buffer), `photo ${i + 1}`).toBe(0);
      expect(opened.filename).toBe(['photo-1.jpg', 'photo-2.png'][i]);
    }
  }
  expect(seen.problems).toEqual([]);
});

/** Fills the help form with the least a valid request needs, and sends it. */
async function sendHelp(page: Page, message: string) {
  await page.goto(server.url + '/ru/help/');
  await hydrated(page);
  await page.locator('#f-for-self').check();
  await page.locator('#f-message').fill(message);
  await page.locator('#f-contact_safe-no').check();
  await page.locator('#f-consent').check();
  await afterHumanDelay(page);
  await page.getByRole('button', { name: ru['form.submit'] }).click();
}

/**
 * Answers the keys GET as if the server had `pairs` (a rotation the browser has not seen yet),
 * with the reference and ticket the real server issued.
 */
async function fakeKeys(route: Route, pairs: TestKeyPair[], fingerprints = pairs.map((p) => p.fingerprint)): Promise<void> {
  const issued = (await (await route.fetch()).json()) as Record<string, unknown>;
  const body = JSON.stringify({ ...issued, keys: pairs.map((p) => p.publicKey).join('\n'), fingerprints });
  await route.fulfill({ status: 200, contentType: 'application/json', body });
}

test('keys changed since they were fetched: the island fetches them again and re-encrypts, quietly', async ({ page }) => {
  const seen = await watch(page);
  let served = 0;
  await page.route('**/api/applications', async (route) => {
    if (route.request().method() !== 'GET' || served++ > 0) return route.fallback();
    await fakeKeys(route, [stranger]);
  });
  const answers: number[] = [];
  page.on('response', (r) => {
    if (r.request().method() === 'POST') answers.push(r.status());
  });
  await sendHelp(page, `Ключи сменились ${marker('rotation')}`);
  await expect(page.getByRole('heading', { name: ru['answer.received.title'] })).toBeFocused();
  expect(answers).toEqual([409, 201]);
  expect(served).toBe(2);
  await expect(page.locator('.failure')).toHaveCount(0);
  expect(seen.problems.filter((p) => !p.includes('409'))).toEqual([]);
});

test('keys that still do not match after fetching them again: the person is told, the form stays filled', async ({ page }) => {
  await page.route('**/api/applications', (route) =>
    route.request().method() === 'GET' ? fakeKeys(route, [stranger]) : route.fallback(),
  );
  const message = `Ключи не те ${marker('wrong')}`;
  await sendHelp(page, message);
  const failure = page.locator('.failure');
  await expect(failure.getByRole('heading')).toBeFocused();
  // The number itself comes wrapped in direction marks: compare the words before it.
  await expect(failure).toContainText(ru['errors.keys_changed'].split('{{hotline}}')[0]!);
  await expect(page.locator('#f-message')).toHaveValue(message);
});

test('a reference already taken: the island asks for another one and sends again, quietly', async ({ page }) => {
  const references: string[] = [];
  await page.route('**/api/applications', async (route) => {
    if (route.request().method() !== 'POST') return route.fallback();
    const { form } = await sentForm(route.request());
    references.push(String(form.get('reference')));
    if (references.length > 1) return route.fallback();
    await route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify({ ok: false, error: 'reference_taken', message: ru['errors.reference_taken'] }) });
  });
  await sendHelp(page, `Код занят ${marker('taken')}`);
  await expect(page.getByRole('heading', { name: ru['answer.received.title'] })).toBeFocused();
  expect(references).toHaveLength(2);
  expect(references[1]).not.toBe(references[0]);
  expect(await shownReference(page)).toBe(references[1]);
});

test('keys that are not usable: nothing is sent, and the person is told the browser could not encrypt', async ({ page }) => {
  let posts = 0;
  await page.route('**/api/applications', (route) => {
    if (route.request().method() === 'POST') posts++;
    return route.request().method() === 'GET'
      ? fakeKeys(route, [stranger], ['0'.repeat(40)])
      : route.fallback();
  });
  await sendHelp(page, `Не тот отпечаток ${marker('fingerprint')}`);
  await expect(page.locator('.failure')).toContainText(ru['form.failure.encrypt']);
  expect(posts).toBe(0);
});
