// Requests encrypted in the browser, against the built server with fetch: the server checks the
// ciphertext without decrypting it, keeps and delivers what the island sends, and refuses
// anything else with a localized 4xx — nothing refused is kept or delivered.
// A message to a key the server does not hold is answered 409 `keys_changed`, never 400: the
// server can not tell a key rotated during the visit from a wrong key, and both are answered by
// fetching the keys again (the island does so once, then shows the message).
import { expect, test } from '@playwright/test';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { serverPgp as pgp } from '../../src/intake/server/pgp.ts';
import { encryptPhoto, encryptText } from '../../src/intake/contract/pgp.ts';
import { isReference, newReference } from '../../src/intake/contract/reference.ts';
import { createGpgHome, type GpgHome } from '../support/gpg.ts';
import { jpeg } from '../support/images.ts';
import { filesUnder, mailEnv, mailsFor, marker, post } from '../support/intake.ts';
import { eccKeyPair, type TestKeyPair } from '../support/keys.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { startSink, type Sink } from '../../scripts/lib/sink.ts';

test.describe.configure({ mode: 'serial' });

let server: RunningServer;
let sink: Sink;
let staff: TestKeyPair;
let stranger: TestKeyPair;
let staffKey: openpgp.PublicKey;
let strangerKey: openpgp.PublicKey;
let home: GpgHome;
const secrets: string[] = [];

/** A marked value that must never show up in a log line or a file, whether accepted or refused. */
function secret(name: string): string {
  const value = marker(name);
  secrets.push(value);
  return value;
}

test.beforeAll(async () => {
  test.setTimeout(120_000);
  sink = await startSink();
  [staff, stranger] = [await eccKeyPair(), await eccKeyPair({ name: 'Not staff' })];
  staffKey = await openpgp.readKey({ armoredKey: staff.publicKey });
  strangerKey = await openpgp.readKey({ armoredKey: stranger.publicKey });
  home = await createGpgHome();
  await home.importKey(staff.privateKey);
  const keysFile = join(process.env.TMPDIR ?? '/tmp', `sealed-staff-${Date.now()}.asc`);
  writeFileSync(keysFile, staff.publicKey);
  server = await startServer({
    STAFF_PGP_KEYS_FILE: keysFile,
    ...mailEnv(sink),
    RATE_LIMIT_ADDRESS: '100/10m',
  });
});

test.afterAll(async () => {
  await server?.stop();
  await sink?.close();
  await home?.cleanup();
});

interface Sealed {
  fields?: Record<string, string>;
  text?: string;
  encrypted?: string;
  photos?: Uint8Array[];
}

/**
 * A request as the island builds it, under a reference the server issued (GET); parts can be
 * replaced to forge one.
 */
async function sealed(options: Sealed = {}): Promise<{ body: FormData; reference: string; text: string }> {
  const issued = await issued_();
  const reference = options.fields?.['reference'] ?? issued.reference;
  const text = options.text ?? `Номер заявки: ${reference}\nСообщение: держат на ферме ${secret('sealed')}\n`;
  const body = new FormData();
  const fields = { kind: 'help', locale: 'ru', consent: 'yes', website: '', filled_ms: '42000', reference, reference_ticket: issued.ticket, ...options.fields };
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  body.append('sealed', options.encrypted ?? (await encryptText(pgp, text, [staffKey])));
  for (const [i, photo] of (options.photos ?? []).entries()) {
    body.append('sealed_photos', new Blob([photo as BlobPart]), `${reference}-${i + 1}.pgp`);
  }
  return { body, reference, text };
}

async function issued_(): Promise<{ reference: string; ticket: string }> {
  return (await (await fetch(`${server.url}/api/applications`)).json()) as { reference: string; ticket: string };
}

const json = async (response: Response) => (await response.json()) as { ok: boolean; error?: string; message?: string; reference?: string; sealed?: boolean };
const kept = (reference: string) => join(server.varDir, 'outbox', `${reference}.json`);

async function expectRefused(response: Response, status: number, error: string): Promise<string> {
  expect(response.status).toBe(status);
  const body = await json(response);
  expect(body.ok).toBe(false);
  expect(body.error).toBe(error);
  expect(body.message).toBeTruthy();
  return body.message!;
}

test('GET gives exactly the staff keys the server holds, with the fingerprints gpg shows, and a fresh reference each time', async () => {
  const response = await fetch(`${server.url}/api/applications`);
  expect(response.status).toBe(200);
  // It carries a reference issued for one application: never kept by a browser or a proxy.
  expect(response.headers.get('cache-control')).toBe('no-store');
  const { keys, fingerprints, reference } = (await response.json()) as { keys: string; fingerprints: string[]; reference: string };
  expect(isReference(reference)).toBe(true);
  expect((await issued_()).reference).not.toBe(reference);
  expect(fingerprints).toEqual([staff.fingerprint]);
  // What the privacy page tells people to run.
  const { stdout } = await home.run(['--with-colons', '--show-keys', '--fingerprint'], keys);
  const shown = stdout.toString('utf8').split('\n').filter((l) => l.startsWith('fpr:')).map((l) => l.split(':')[9]);
  expect(shown[0]).toBe(staff.fingerprint);
});

test('what the island sends is kept and delivered as it came, and the staff key opens it', async () => {
  const { body, reference, text } = await sealed({ fields: { kind: 'missing' }, photos: [await encryptPhoto(pgp, { bytes: jpeg(), type: 'image/jpeg' }, 1, [staffKey])] });
  const response = await post(server.url, body);
  expect(response.status).toBe(201);
  expect(await json(response)).toEqual({ ok: true, reference, sealed: true });
  const [mail] = await mailsFor(sink, reference);
  const sent = mail!.body as { subject: string; text: string; attachments: { filename: string; content: string }[] };
  expect(sent.subject).toBe(`Заявка missing ${reference}`);
  expect((await home.decrypt(sent.text)).toString('utf8')).toBe(text);
  expect(sent.attachments.map((a) => a.filename)).toEqual([`${reference}-1.pgp`]);
  const photo = await home.decrypt(Buffer.from(sent.attachments[0]!.content, 'base64').toString('utf8'));
  expect(Buffer.compare(photo, Buffer.from(jpeg()))).toBe(0);
});

test('a ciphertext to another key is 409 keys_changed (a rotation or a wrong key), and nothing is kept', async () => {
  for (const keys of [[strangerKey], [staffKey, strangerKey]]) {
    const { body, reference } = await sealed({ encrypted: await encryptText(pgp, `Не тот ключ ${secret('key')}`, keys) });
    await expectRefused(await post(server.url, body), 409, 'keys_changed');
    expect(existsSync(kept(reference))).toBe(false);
  }
});

test('forged or damaged requests are 400 sealed_invalid, localized, and nothing is kept', async () => {
  const armored = await encryptText(pgp, 'x', [staffKey]);
  const lines = armored.trim().split('\n');
  const forged: [string, Sealed][] = [
    ['a truncated message', { encrypted: [...lines.slice(0, -4), lines.at(-1)].join('\n') }],
    ['plain text posing as armor', { encrypted: `-----BEGIN PGP MESSAGE-----\n\n${Buffer.from(`Помогите ${secret('plain')}`).toString('base64')}\n-----END PGP MESSAGE-----\n` }],
    ['junk posing as armor', { encrypted: `-----BEGIN PGP MESSAGE-----\n\nПомогите ${secret('junk')}\n-----END PGP MESSAGE-----\n` }],
    ['a clear-text field beside the ciphertext', { fields: { message: `Помогите ${secret('beside')}` } }],
    ['an unsigned literal message', { encrypted: (await openpgp.createMessage({ text: `Помогите ${secret('literal')}` })).armor(pgp.config) }],
    ['a photo on a help request', { photos: [await encryptPhoto(pgp, { bytes: jpeg(), type: 'image/jpeg' }, 1, [staffKey])] }],
    ['a photo to another key than the text', { fields: { kind: 'missing' }, photos: [await encryptPhoto(pgp, { bytes: jpeg(), type: 'image/jpeg' }, 1, [strangerKey])] }],
    ['a reference that is not one', { fields: { reference: '../../etc' } }],
    ['a reference the server did not issue', { fields: { reference: newReference() } }],
    ['a forged ticket', { fields: { reference_ticket: 'mzzzzz.AAAAAAAAAAAAAAAAAAAAAA' } }],
    ['no ticket', { fields: { reference_ticket: '' } }],
  ];
  for (const [label, options] of forged) {
    const { body, reference } = await sealed(options);
    const response = await post(server.url, body);
    expect(response.status, label).toBe(400);
    expect((await json(response)).error, label).toBe('sealed_invalid');
    expect(existsSync(kept(reference)), label).toBe(false);
  }
  const { body } = await sealed({ fields: { locale: 'en', website: 'x', extra: 'y' } });
  expect(await expectRefused(await post(server.url, body), 400, 'sealed_invalid')).toMatch(/^The encrypted request arrived damaged/);
});

test('another ciphertext under a reference still waiting in the outbox is 409 reference_taken; the kept one is untouched', async () => {
  // A failing provider keeps the first one in the outbox.
  sink.mode = 'fail';
  try {
    const first = await sealed();
    expect((await post(server.url, first.body)).status).toBe(201);
    const armoredIn = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { armored: string }).armored;
    const before = armoredIn(kept(first.reference));
    const again = await sealed({ fields: { reference: first.reference, reference_ticket: first.body.get('reference_ticket') as string } });
    await expectRefused(await post(server.url, again.body), 409, 'reference_taken');
    // Only its delivery attempts may have changed.
    expect(armoredIn(kept(first.reference))).toBe(before);
    expect((await home.decrypt(before)).toString('utf8')).toBe(first.text);
  } finally {
    sink.mode = 'ok';
  }
});

test('a bot filling the honeypot gets an ordinary answer; nothing is kept', async () => {
  const { body, reference } = await sealed({ fields: { website: 'http://spam.example' } });
  const response = await post(server.url, body);
  expect(response.status).toBe(201);
  const answer = await json(response);
  expect(answer.reference).not.toBe(reference);
  expect(existsSync(kept(reference))).toBe(false);
});

test('only what the island sent was delivered; no typed value in any log line or file', async () => {
  const subjects = () => new Set(sink.requests.map((r) => (r.body as { subject: string }).subject));
  // The valid one, and the attempts at the one kept while the provider failed.
  await expect.poll(() => subjects().size).toBe(2);
  const files = filesUnder(server.varDir);
  for (const needle of secrets) {
    expect(server.logs.filter((l) => l.includes(needle)), 'log lines').toEqual([]);
    expect(files.filter((f) => f.text.includes(needle)).map((f) => f.path), 'files').toEqual([]);
  }
  expect(server.logs.filter((l) => /"status":5\d\d|\[ERROR\]/.test(l))).toEqual([]);
});
