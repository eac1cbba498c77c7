import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/intake/server/config.ts';
import {
  createMailer,
  createOutboxOnlyMailer,
  createResendMailer,
  isOutboxOnly,
} from '../../../../src/intake/server/delivery/mailer.ts';
import { deliverKept } from '../../../../src/intake/server/delivery/deliver.ts';
import { encryptApplication } from '../../../../src/intake/server/encrypt.ts';
import { createMemoryLogger } from '../../../../src/intake/server/logger.ts';
import { createOutbox, type Outbox } from '../../../../src/intake/server/delivery/outbox.ts';
import type { Envelope } from '../../../../src/intake/server/types.ts';
import { createGpgHome, type GpgHome } from '../../../support/gpg.ts';
import { eccKeyPair } from '../../../support/keys.ts';
import { startSink, type Sink } from '../../../../scripts/lib/sink.ts';

const MARK_TEXT = 'МАРКЕР-ТЕКСТА: Светлана, склад в Подольске';
const MARK_PHOTO = 'MARKER-PHOTO-BYTES-7f3a';

let sink: Sink;
let gpg: GpgHome;
let key: openpgp.PublicKey;
let root: string;
let outbox: Outbox;

beforeAll(async () => {
  const pair = await eccKeyPair();
  key = await openpgp.readKey({ armoredKey: pair.publicKey });
  gpg = await createGpgHome();
  await gpg.importKey(pair.privateKey);
  sink = await startSink();
});

afterAll(async () => {
  await sink.close();
  await gpg.cleanup();
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'deliver-test-'));
  outbox = createOutbox(join(root, 'outbox'));
  sink.requests.length = 0;
  sink.mode = 'ok';
  await sink.up();
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function keptEnvelope(reference = 'K7M2-PQ4X'): Promise<Envelope> {
  const photo = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...Buffer.from(MARK_PHOTO)]);
  const envelope = await encryptApplication(
    { reference, kind: 'help', createdAt: new Date().toISOString(), text: MARK_TEXT, photos: [{ bytes: photo, type: 'image/jpeg' }] },
    [key],
  );
  await outbox.keep(envelope);
  return envelope;
}

function mailer(timeoutMs = 15_000) {
  return createResendMailer({ apiKey: 're_test_key', baseUrl: sink.url, from: 'Intake <intake@example.org>', to: ['staff@example.org'], timeoutMs });
}

describe('createResendMailer through the real resend SDK', () => {
  it('sends ciphertext only: subject = kind + reference, idempotency key = reference, photos attached', async () => {
    const envelope = await keptEnvelope();
    const logger = createMemoryLogger();
    expect(await deliverKept({ envelope, outbox, mailer: mailer(), logger })).toBe('delivered');
    expect(await outbox.list()).toEqual([]);
    expect(sink.requests).toHaveLength(1);
    const request = sink.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/emails');
    expect(request.headers['idempotency-key']).toBe('K7M2-PQ4X');
    expect(request.headers['authorization']).toBe('Bearer re_test_key');
    const body = request.body as { subject: string; text: string; to: string[]; from: string; attachments: { filename: string; content: string }[] };
    expect(body.subject).toBe('Заявка help K7M2-PQ4X');
    expect(body.to).toEqual(['staff@example.org']);
    expect(body.text).toBe(envelope.armored);
    expect(body.attachments).toHaveLength(1);
    expect(body.attachments[0]!.filename).toBe('K7M2-PQ4X-1.pgp');
    const attached = Buffer.from(body.attachments[0]!.content, 'base64').toString('utf8');
    expect(attached).toBe(envelope.attachments[0]!.armored);
    // The provider sees no plaintext, in any encoding...
    const seen = JSON.stringify(request);
    for (const marker of [MARK_TEXT, 'Светлана', MARK_PHOTO, Buffer.from(MARK_PHOTO).toString('base64').slice(0, 16), 'photo-1']) {
      expect(seen).not.toContain(marker);
      expect(attached).not.toContain(marker);
    }
    // ...while staff, with their key, read both.
    expect((await gpg.decrypt(body.text)).toString('utf8')).toBe(MARK_TEXT);
    expect((await gpg.decrypt(attached)).toString('latin1')).toContain(MARK_PHOTO);
    expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'delivery.sent', reference: 'K7M2-PQ4X', attempts: 1 }));
  });

  it('reads RESEND_BASE_URL from the environment when no baseUrl is given', async () => {
    const saved = process.env['RESEND_BASE_URL'];
    process.env['RESEND_BASE_URL'] = sink.url;
    try {
      const fromEnv = createResendMailer({ apiKey: 're_env', from: 'intake@example.org', to: ['staff@example.org'] });
      const envelope = await keptEnvelope('ENVS-2222');
      expect(await fromEnv.send(envelope)).toEqual({ ok: true, id: expect.stringMatching(/^sink-/) });
      expect(sink.requests.map((r) => r.headers['idempotency-key'])).toEqual(['ENVS-2222']);
    } finally {
      if (saved === undefined) delete process.env['RESEND_BASE_URL'];
      else process.env['RESEND_BASE_URL'] = saved;
    }
  });

  it('builds the mailer the configuration names', async () => {
    expect(isOutboxOnly(createMailer(loadConfig({})))).toBe(true);
    const configured = createMailer(loadConfig({
      RESEND_API_KEY: 're_cfg', RESEND_BASE_URL: `${sink.url}/`, MAIL_FROM: 'intake@example.org', STAFF_EMAILS: 'a@example.org,b@example.org',
    }));
    expect(isOutboxOnly(configured)).toBe(false);
    expect((await configured.send(await keptEnvelope('CNFG-2222'))).ok).toBe(true);
    expect((sink.requests[0]?.body as { to: string[] }).to).toEqual(['a@example.org', 'b@example.org']);
  });
});

describe('deliverKept when delivery fails', () => {
  async function failedDelivery(timeoutMs = 15_000) {
    const envelope = await keptEnvelope();
    const logger = createMemoryLogger();
    const started = Date.now();
    const outcome = await deliverKept({ envelope, outbox, mailer: mailer(timeoutMs), logger });
    const elapsed = Date.now() - started;
    const kept = await outbox.read(envelope.reference);
    return { envelope, outcome, kept, logger, elapsed };
  }

  it('keeps the ciphertext with attempts + 1 when the provider answers 500', async () => {
    sink.mode = 'fail';
    const { envelope, outcome, kept, logger } = await failedDelivery();
    expect(outcome).toBe('kept');
    expect(kept).toEqual({ ...envelope, attempts: 1 });
    const failure = logger.entries().find((e) => e['event'] === 'delivery.failed');
    expect(failure).toMatchObject({ reference: 'K7M2-PQ4X', attempts: 1, error: expect.stringContaining('500') });
  });

  it('keeps it when the provider is down', async () => {
    await sink.down();
    const { envelope, outcome, kept } = await failedDelivery();
    expect(outcome).toBe('kept');
    expect(kept).toEqual({ ...envelope, attempts: 1 });
  });

  it('keeps it, in bounded time, when the provider never answers', async () => {
    sink.mode = 'hang';
    const { envelope, outcome, kept, elapsed, logger } = await failedDelivery(400);
    expect(outcome).toBe('kept');
    expect(elapsed).toBeLessThan(3_000);
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(sink.requests).toHaveLength(1);
    expect(kept).toEqual({ ...envelope, attempts: 1 });
    expect(logger.entries().find((e) => e['event'] === 'delivery.failed')?.['error']).toMatch(/timeout/);
  });

  it('counts attempts across failures', async () => {
    sink.mode = 'fail';
    const envelope = await keptEnvelope();
    for (let i = 0; i < 3; i++) await deliverKept({ envelope, outbox, mailer: mailer(), logger: createMemoryLogger() });
    expect((await outbox.read(envelope.reference))?.attempts).toBe(3);
  });
});

describe('deliverKept, once per reference', () => {
  it('never sends one reference twice at the same time', async () => {
    const envelope = await keptEnvelope();
    const logger = createMemoryLogger();
    const outcomes = await Promise.all([1, 2, 3].map(() => deliverKept({ envelope, outbox, mailer: mailer(), logger })));
    expect(outcomes.filter((o) => o === 'delivered')).toHaveLength(1);
    expect(sink.requests).toHaveLength(1);
    // A stale copy of a delivered envelope is not sent again.
    expect(await deliverKept({ envelope, outbox, mailer: mailer(), logger })).toBe('delivered');
    expect(sink.requests).toHaveLength(1);
  });
});

describe('the outbox-only mailer', () => {
  it('leaves the envelope in the outbox untouched and says where it is', async () => {
    const envelope = await keptEnvelope();
    const logger = createMemoryLogger();
    const mailer = createOutboxOnlyMailer();
    expect(isOutboxOnly(mailer)).toBe(true);
    expect(await mailer.send(envelope)).toEqual({ ok: false, error: 'outbox_only' });
    expect(await deliverKept({ envelope, outbox, mailer, logger })).toBe('kept');
    expect(await outbox.read(envelope.reference)).toEqual(envelope);
    expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'delivery.kept', dir: outbox.dir }));
    expect(sink.requests).toHaveLength(0);
  });
});
