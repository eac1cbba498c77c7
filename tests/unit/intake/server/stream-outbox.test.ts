import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import * as openpgp from 'openpgp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_PHOTOS, MAX_PHOTO_BYTES } from '../../../../src/intake/contract/fields.ts';
import { armorMessage } from '../../../../src/intake/contract/pgp.ts';
import { REFERENCE_ALPHABET } from '../../../../src/intake/contract/reference.ts';
import { MAX_SEALED_PHOTO_BYTES } from '../../../../src/intake/contract/sealed.ts';
import { loadConfig } from '../../../../src/intake/server/config.ts';
import { deliverKept } from '../../../../src/intake/server/delivery/deliver.ts';
import { createResendMailer } from '../../../../src/intake/server/delivery/mailer.ts';
import { claimIdleMs, openOutboxStore } from '../../../../src/intake/server/delivery/outbox-store.ts';
import { backoffSeconds } from '../../../../src/intake/server/delivery/retry.ts';
import { flushStream, startStreamLoop } from '../../../../src/intake/server/delivery/stream-loop.ts';
import {
  createStreamOutbox,
  MAX_PART_BYTES,
  UPSTASH_MAX_REQUEST_BYTES,
  type StreamOutbox,
} from '../../../../src/intake/server/delivery/stream-outbox.ts';
import { encryptApplication } from '../../../../src/intake/server/encrypt.ts';
import { UnavailableError } from '../../../../src/intake/server/errors.ts';
import { createMemoryLogger } from '../../../../src/intake/server/logger.ts';
import { serverPgp } from '../../../../src/intake/server/pgp.ts';
import { checkDurability } from '../../../../src/intake/server/store/durability.ts';
import { openRedisConnection } from '../../../../src/intake/server/store/redis.ts';
import { openStore } from '../../../../src/intake/server/store/store.ts';
import { submitApplication, type IntakeDeps } from '../../../../src/intake/server/pipeline.ts';
import { createLimiters } from '../../../../src/intake/server/ratelimit/limiters.ts';
import { createFileUsedReferences } from '../../../../src/intake/server/used-references.ts';
import { helpSample } from '../../../../scripts/lib/samples.mjs';
import type { Envelope, Mailer } from '../../../../src/intake/server/types.ts';
import { eccKeyPair } from '../../../support/keys.ts';
import { startRedis, type RunningRedis } from '../../../support/redis.ts';
import { sendsPerReference, startSink, type Sink } from '../../../../scripts/lib/sink.ts';

let redis: RunningRedis;
let sink: Sink;
let key: openpgp.PublicKey;
/** Connections opened by a test, closed after it. */
const clients: Redis[] = [];
/** Each test has keys of its own in the one server. */
let prefix: string;
let admin: Redis;

beforeAll(async () => {
  [redis, sink] = await Promise.all([startRedis({ durable: true }), startSink()]);
  key = await openpgp.readKey({ armoredKey: (await eccKeyPair()).publicKey });
  admin = openRedisConnection(redis.url, { commandTimeoutMs: 10_000 });
  await ready(admin);
});

afterAll(async () => {
  admin.disconnect();
  await Promise.all([redis.stop(), sink.close()]);
});

beforeEach(async () => {
  prefix = `test:${randomBytes(4).toString('hex')}`;
  sink.requests.length = 0;
  sink.mode = 'ok';
  sink.delayMs = 0;
  await sink.up();
});

afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

/** Commands are refused, not queued, until a connection is ready (as in production). */
async function ready(client: Redis): Promise<void> {
  await vi.waitFor(() => expect(client.status).toBe('ready'), { timeout: 10_000, interval: 10 });
}

async function connect(url: string, commandTimeoutMs = 10_000): Promise<Redis> {
  const client = openRedisConnection(url, { commandTimeoutMs });
  clients.push(client);
  await ready(client);
  return client;
}

/** One instance's view of the shared outbox: its own connection, its own consumer name. */
async function instance(consumer: string, options: { claimIdleMs?: number; url?: string; retryAt?: (attempts: number) => number; commandTimeoutMs?: number } = {}): Promise<StreamOutbox> {
  const client = await connect(options.url ?? redis.url, options.commandTimeoutMs);
  const outbox = createStreamOutbox({ client, consumer, prefix, claimIdleMs: options.claimIdleMs ?? 60_000, ...(options.retryAt ? { retryAt: options.retryAt } : {}) });
  await outbox.ensureGroup();
  return outbox;
}

function envelope(reference: string, attachments = 0): Envelope {
  const armor = () => `-----BEGIN PGP MESSAGE-----\n\n${randomBytes(48).toString('base64')}\n-----END PGP MESSAGE-----\n`;
  return {
    reference,
    kind: 'help',
    createdAt: new Date().toISOString(),
    armored: armor(),
    attachments: Array.from({ length: attachments }, (_, i) => ({ filename: `${reference}-${i + 1}.pgp`, armored: armor() })),
    attempts: 0,
  };
}

/** `count` distinct references, `STRM-xyQX`. */
function references(count: number): string[] {
  const a = REFERENCE_ALPHABET;
  return Array.from({ length: count }, (_, i) => `STRM-${a[Math.floor(i / a.length) % a.length]}${a[i % a.length]}QX`);
}

function mailer(timeoutMs = 2_000): Mailer {
  return createResendMailer({ apiKey: 're_test', baseUrl: sink.url, from: 'intake@example.org', to: ['staff@example.org'], timeoutMs });
}

const sends = () => sendsPerReference(sink);

/** Every key of this test's outbox, with its expiry in ms (-1: none). */
async function keysLeft(): Promise<Map<string, number>> {
  const names = (await admin.call('KEYS', `${prefix}:*`)) as string[];
  const left = new Map<string, number>();
  for (const name of names) left.set(name, Number(await admin.call('PTTL', name)));
  return left;
}

const eventually = { timeout: 15_000, interval: 20 };

describe('the Redis outbox, one instance', () => {
  it('keeps on disk before keep resolves, then delivers once and leaves nothing behind', async () => {
    const a = await instance('a');
    const kept = envelope('KEEP-2345', 2);
    await a.keep(kept);
    // Another connection (another instance) reads back exactly what was kept.
    expect(await (await instance('b')).read('KEEP-2345')).toEqual(kept);
    // appendfsync always: the append-only file has it by the time Redis answered.
    const aofDir = join(redis.dir, 'appendonlydir');
    const aof = (await Promise.all((await readdir(aofDir)).map((f) => readFile(join(aofDir, f), 'latin1')))).join('');
    expect(aof).toContain(kept.attachments[1]!.armored);
    expect(aof).toContain('KEEP-2345');
    // The keeping instance holds it (the application's first delivery is its own).
    expect(await a.holds('KEEP-2345')).toBe(true);
    const logger = createMemoryLogger();
    expect(await deliverKept({ envelope: kept, outbox: a, mailer: mailer(), logger })).toBe('delivered');
    expect(sends()).toEqual(new Map([['KEEP-2345', 1]]));
    expect(sink.requests[0]!.body).toMatchObject({ text: kept.armored, attachments: [{ filename: 'KEEP-2345-1.pgp' }, { filename: 'KEEP-2345-2.pgp' }] });
    expect(await a.read('KEEP-2345')).toBeNull();
    expect(await a.counts()).toEqual({ waiting: 0, dead: 0 });
    expect([...(await keysLeft()).keys()]).toEqual([`${prefix}:stream`]);
    // A stale copy is not sent again.
    expect(await deliverKept({ envelope: kept, outbox: a, mailer: mailer(), logger })).toBe('delivered');
    expect(sink.requests).toHaveLength(1);
  });

  it('refuses a second application under a kept reference as the file outbox does (EEXIST), touching neither', async () => {
    const a = await instance('a');
    const first = envelope('TWNS-2345');
    await a.keep(first);
    const error = await a.keep(envelope('TWNS-2345', 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('EEXIST');
    expect(await a.read('TWNS-2345')).toEqual(first);
    expect([...(await keysLeft()).keys()].filter((k) => k.includes(':part:'))).toHaveLength(1);
  });

  it('an instance that does not hold an entry does not send it', async () => {
    const a = await instance('a');
    const b = await instance('b');
    const kept = envelope('HEDD-2345');
    await a.keep(kept);
    const logger = createMemoryLogger();
    expect(await b.holds('HEDD-2345')).toBe(false);
    expect(await deliverKept({ envelope: kept, outbox: b, mailer: mailer(), logger })).toBe('kept');
    expect(sink.requests).toHaveLength(0);
    expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'delivery.held_elsewhere', reference: 'HEDD-2345' }));
    expect((await b.read('HEDD-2345'))?.attempts).toBe(0);
  });
});

describe('the Redis outbox, several instances', () => {
  it('two instances deliver each of 40 applications exactly once, keeping, sending at once and looping together', async () => {
    // Far above any send here, and above the pauses of a loaded test machine: one process plays
    // every instance, and a pause longer than this between a hold and its send is the residual risk.
    const claimIdleMs = 3000;
    const [a, b, c] = await Promise.all([instance('a', { claimIdleMs }), instance('b', { claimIdleMs }), instance('flush', { claimIdleMs })]);
    const logger = createMemoryLogger();
    sink.delayMs = 20;
    const loops = [startStreamLoop({ outbox: a, mailer: mailer(), logger }), startStreamLoop({ outbox: b, mailer: mailer(), logger })];
    const refs = references(40);
    // Were a reference sent twice, the message says whether this process paused past the idle time.
    const pauses = monitorEventLoopDelay({ resolution: 10 });
    pauses.enable();
    try {
      // As the pipeline does: keep, then deliver at once from the instance that kept it.
      const immediate = refs.map(async (reference, i) => {
        const keeper = i % 2 === 0 ? a : b;
        const kept = envelope(reference, i % 3);
        await keeper.keep(kept);
        // Every fourth is left to the loops, as when the instance dies right after answering.
        if (i % 4 !== 3) await deliverKept({ envelope: kept, outbox: keeper, mailer: mailer(), logger });
      });
      // An operator's flush from a third process at the same time.
      const flushing = flushStream({ outbox: c, mailer: mailer(), logger });
      await Promise.all([...immediate, flushing]);
      await vi.waitFor(async () => expect((await a.counts()).waiting).toBe(0), eventually);
      // One more idle period: whatever would be sent twice has been by then.
      await new Promise((r) => setTimeout(r, claimIdleMs + 500));
    } finally {
      pauses.disable();
      await Promise.all(loops.map((l) => l.stop()));
    }
    expect(sends(), `longest pause of the event loop: ${Math.round(pauses.max / 1e6)} ms`).toEqual(new Map(refs.map((r) => [r, 1])));
    expect(await a.counts()).toEqual({ waiting: 0, dead: 0 });
    expect([...(await keysLeft()).keys()]).toEqual([`${prefix}:stream`]);
  });

  it('a consumer that dies holding an entry leaves it to another, which delivers it exactly once after the idle time', async () => {
    const claimIdleMs = 500;
    const a = await instance('a', { claimIdleMs });
    const b = await instance('b', { claimIdleMs });
    const logger = createMemoryLogger();
    const loop = startStreamLoop({ outbox: b, mailer: mailer(), logger });
    try {
      const keptAt = Date.now();
      await a.keep(envelope('DEAD-2345'));
      // a dies: its connection goes, nothing acknowledged, the entry pending in a's name.
      clients[0]!.disconnect();
      await vi.waitFor(() => expect(sends().get('DEAD-2345')).toBe(1), eventually);
      // Not taken over while a could still have been sending it.
      expect(sink.requests[0]!.at - keptAt).toBeGreaterThanOrEqual(claimIdleMs);
      await vi.waitFor(async () => expect((await b.counts()).waiting).toBe(0), eventually);
      expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'delivery.sent', reference: 'DEAD-2345' }));
      await new Promise((r) => setTimeout(r, 3 * claimIdleMs));
    } finally {
      await loop.stop();
    }
    expect(sends()).toEqual(new Map([['DEAD-2345', 1]]));
  });

  it('an instance that stops cleanly hands what it holds to the others at once', async () => {
    const a = await instance('a', { claimIdleMs: 60_000 });
    const b = await instance('b', { claimIdleMs: 60_000 });
    await a.keep(envelope('STPP-2345'));
    expect(await b.take(10)).toEqual([]);
    expect(await a.release()).toBe(1);
    const [taken] = await b.take(10);
    expect(taken?.reference).toBe('STPP-2345');
    expect(await b.holds('STPP-2345')).toBe(true);
    expect(await a.holds('STPP-2345')).toBe(false);
  });

  it('an instance frozen after the provider took the mail: the one taking over sends it again under the same Idempotency-Key', async () => {
    // The residual case: sent, never settled. Resend drops the repeat (same key, within 24 h).
    const claimIdleMs = 300;
    const a = await instance('a', { claimIdleMs });
    const b = await instance('b', { claimIdleMs });
    const kept = envelope('FRZN-2345');
    await a.keep(kept);
    const real = mailer();
    const frozen: Mailer = {
      async send(e) {
        await real.send(e);
        return new Promise<never>(() => undefined);
      },
    };
    void deliverKept({ envelope: kept, outbox: a, mailer: frozen, logger: createMemoryLogger() });
    await vi.waitFor(() => expect(sink.requests).toHaveLength(1), eventually);
    clients[0]!.disconnect();
    const loop = startStreamLoop({ outbox: b, mailer: mailer(), logger: createMemoryLogger() });
    try {
      await vi.waitFor(async () => expect((await b.counts()).waiting).toBe(0), eventually);
    } finally {
      await loop.stop();
    }
    expect(sink.requests.map((r) => r.headers['idempotency-key'])).toEqual(['FRZN-2345', 'FRZN-2345']);
  });
});

describe('the claim time (how long a dead instance\'s applications wait)', () => {
  it('outlasts two mail timeouts and 5 s more, is the minute it was by default, and follows MAIL_TIMEOUT_SECONDS down', () => {
    expect(claimIdleMs(15_000)).toBe(60_000);
    expect(claimIdleMs(loadConfig({ RESEND_API_KEY: 're_x', STAFF_EMAILS: 'a@b.org', MAIL_FROM: 'c@d.org', MAIL_TIMEOUT_SECONDS: '2' }).mail!.timeoutMs)).toBe(9000);
    for (const seconds of [1, 2, 5, 15, 60, 300]) {
      expect(claimIdleMs(seconds * 1000), `${seconds} s`).toBeGreaterThanOrEqual(2 * seconds * 1000 + 5000);
    }
  });
});

describe('the Redis outbox when delivery fails', () => {
  it('counts attempts, waits the backoff between them, and delivers once when the provider is back', async () => {
    const base = 0.1;
    const retryAt = (attempts: number) => Date.now() + backoffSeconds(attempts, base, 10, () => 1) * 1000;
    const a = await instance('a', { claimIdleMs: 100, retryAt });
    sink.mode = 'fail';
    const logger = createMemoryLogger();
    const kept = envelope('FAYS-2345', 1);
    await a.keep(kept);
    expect(await deliverKept({ envelope: kept, outbox: a, mailer: mailer(), logger })).toBe('kept');
    expect((await a.read('FAYS-2345'))?.attempts).toBe(1);
    const loop = startStreamLoop({ outbox: a, mailer: mailer(), logger });
    try {
      await vi.waitFor(async () => expect((await a.status('FAYS-2345'))?.attempts).toBe(4), eventually);
      // Attempt n + 1 comes base × 2^n after attempt n at the earliest (equal jitter at its top).
      const gaps = sink.requests.slice(1).map((r, i) => r.at - sink.requests[i]!.at);
      gaps.forEach((gap, i) => expect(gap, `wait before attempt ${i + 2}`).toBeGreaterThanOrEqual(base * 2 ** (i + 1) * 1000 - 20));
      expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'retry.scheduled', reference: 'FAYS-2345' }));
      await sink.down();
      sink.mode = 'ok';
      await sink.up();
      await vi.waitFor(async () => expect(await a.read('FAYS-2345')).toBeNull(), eventually);
      const failures = sink.requests.length - 1;
      await new Promise((r) => setTimeout(r, 500));
      expect(sink.requests).toHaveLength(failures + 1);
      expect(sends()).toEqual(new Map([['FAYS-2345', failures + 1]]));
      expect(sink.requests.at(-1)!.headers['idempotency-key']).toBe('FAYS-2345');
    } finally {
      await loop.stop();
    }
  });

  it('an unreadable envelope goes to the dead letters, its keys kept, and the others are delivered', async () => {
    const a = await instance('a', { claimIdleMs: 50 });
    for (const reference of ['GUDD-2345', 'BADH-2345', 'BADP-2345', 'GUDD-2346']) await a.keep(envelope(reference, 1));
    await admin.call('HSET', `${prefix}:head:BADH-2345`, 'kind', 'not-a-kind');
    const part = ((await admin.call('KEYS', `${prefix}:part:BADP-2345:*:1`)) as string[])[0]!;
    await admin.call('DEL', part);
    // An entry no keep wrote, never handed out.
    await admin.call('XADD', `${prefix}:stream`, '*', 'junk', 'x');
    await new Promise((r) => setTimeout(r, 100));
    const logger = createMemoryLogger();
    const result = await flushStream({ outbox: a, mailer: mailer(), logger });
    expect(result.delivered.sort()).toEqual(['GUDD-2345', 'GUDD-2346']);
    expect(sends()).toEqual(new Map([['GUDD-2345', 1], ['GUDD-2346', 1]]));
    expect(await a.counts()).toEqual({ waiting: 0, dead: 3 });
    expect(logger.entries().filter((e) => e['event'] === 'outbox.unreadable')).toHaveLength(3);
    // What could not be read stays for an operator to look at.
    expect(await admin.call('EXISTS', `${prefix}:head:BADH-2345`)).toBe(1);
    expect(await admin.call('EXISTS', `${prefix}:head:BADP-2345`)).toBe(1);
  });
});

describe('the Redis outbox when Redis fails', () => {
  it('refuses at once with 503 while Redis is down, and writes nothing', async () => {
    const own = await startRedis();
    const a = await instance('a', { url: own.url });
    await own.kill();
    const started = Date.now();
    const error = await a.keep(envelope('DWNN-2345', 3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('an application kept survives Redis killed at once after (SIGKILL), and is delivered once when it is back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stream-outbox-'));
    const first = await startRedis({ durable: true, dir });
    let second: RunningRedis | undefined;
    try {
      const a = await instance('a', { url: first.url });
      const kept = envelope('KYYD-2345', 1);
      await a.keep(kept);
      await first.kill();
      second = await startRedis({ durable: true, dir, port: first.port });
      await ready(clients[0]!);
      expect(await a.read('KYYD-2345')).toEqual(kept);
      // The group's pending list came back too: still held by the instance that kept it.
      expect(await a.holds('KYYD-2345')).toBe(true);
      expect(await deliverKept({ envelope: kept, outbox: a, mailer: mailer(), logger: createMemoryLogger() })).toBe('delivered');
      expect(sends()).toEqual(new Map([['KYYD-2345', 1]]));
    } finally {
      await second?.stop();
      await first.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses within its command timeout while Redis hangs, and nothing is left that lasts', async () => {
    const own = await startRedis();
    try {
      const a = await instance('a', { url: own.url, commandTimeoutMs: 300 });
      own.pause();
      const started = Date.now();
      const error = await a.keep(envelope('HANG-2345', 1)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnavailableError);
      expect(Date.now() - started).toBeLessThan(3_000);
      own.resume();
      const check = await connect(own.url);
      const names = ((await check.call('KEYS', `${prefix}:*`)) as string[]).filter((n) => n !== `${prefix}:stream`);
      expect(await check.call('XLEN', `${prefix}:stream`)).toBe(0);
      // A part written before the hang may remain, with its expiry; no head, no entry.
      for (const name of names) expect(name).toMatch(/:part:/);
      for (const name of names) expect(Number(await check.call('PTTL', name))).toBeGreaterThan(0);
    } finally {
      own.resume();
      await own.stop();
    }
  });

  it('a keep refused half-way leaves no head and no entry, and the same application kept again is delivered once', async () => {
    const own = await startRedis();
    try {
      const a = await instance('a', { url: own.url });
      const check = await connect(own.url);
      // Redis refuses any argument over 1 MB: the report is written, the photo is not.
      await check.call('CONFIG', 'SET', 'proto-max-bulk-len', '1mb');
      const big = { ...envelope('HAFF-2345'), attachments: [{ filename: 'HAFF-2345-1.pgp', armored: `-----BEGIN PGP MESSAGE-----\n\n${'A'.repeat(1_500_000)}\n-----END PGP MESSAGE-----\n` }] };
      expect(await a.keep(big).catch((e: unknown) => e)).toBeInstanceOf(UnavailableError);
      expect(await check.call('EXISTS', `${prefix}:head:HAFF-2345`)).toBe(0);
      expect(await check.call('XLEN', `${prefix}:stream`)).toBe(0);
      for (const name of (await check.call('KEYS', `${prefix}:*`)) as string[]) {
        if (name !== `${prefix}:stream`) expect(Number(await check.call('PTTL', name)), name).toBeGreaterThan(0);
      }
      await check.call('CONFIG', 'SET', 'proto-max-bulk-len', '512mb');
      await ready(clients[0]!);
      await a.keep(big);
      expect(await deliverKept({ envelope: big, outbox: a, mailer: mailer(), logger: createMemoryLogger() })).toBe('delivered');
      expect(sends()).toEqual(new Map([['HAFF-2345', 1]]));
    } finally {
      await own.stop();
    }
  });
});

describe('the Redis outbox and Upstash\'s limits', () => {
  it('keeps three photos at the cap one part per request, none over 8 MiB, and delivers them', async () => {
    // A photo at the cap, encrypted in the browser, with its framing at its largest.
    const sealed = armorMessage(serverPgp, randomBytes(MAX_SEALED_PHOTO_BYTES));
    expect(sealed.length).toBeLessThan(MAX_PART_BYTES);
    // The command around a part (SET, key, PX, expiry) is under 200 bytes.
    expect(MAX_PART_BYTES + 200).toBeLessThan(UPSTASH_MAX_REQUEST_BYTES);
    const own = await startRedis();
    try {
      const a = await instance('a', { url: own.url });
      // Any argument over the part limit would be refused by this server.
      await (await connect(own.url)).call('CONFIG', 'SET', 'proto-max-bulk-len', String(MAX_PART_BYTES));
      const photo = () => {
        const bytes = new Uint8Array(randomBytes(MAX_PHOTO_BYTES));
        bytes.set([0xff, 0xd8, 0xff, 0xe0]);
        return { bytes, type: 'image/jpeg' as const };
      };
      const photos = Array.from({ length: MAX_PHOTOS }, photo);
      const kept = await encryptApplication({ reference: 'FUUU-2345', kind: 'missing', createdAt: new Date().toISOString(), text: 'report', photos }, [key]);
      for (const attachment of kept.attachments) expect(attachment.armored.length).toBeLessThan(MAX_PART_BYTES);
      await a.keep(kept);
      expect(await a.read('FUUU-2345')).toEqual(kept);
      expect(await deliverKept({ envelope: kept, outbox: a, mailer: mailer(40_000), logger: createMemoryLogger() })).toBe('delivered');
      const body = sink.requests[0]!.body as { attachments: { filename: string; content: string }[] };
      expect(body.attachments.map((x) => x.filename)).toEqual(['FUUU-2345-1.pgp', 'FUUU-2345-2.pgp', 'FUUU-2345-3.pgp']);
      expect(Buffer.from(body.attachments[2]!.content, 'base64').toString('utf8')).toBe(kept.attachments[2]!.armored);
    } finally {
      await own.stop();
    }
  }, 60_000);

  it('refuses a part over the limit before writing anything', async () => {
    const a = await instance('a');
    const huge = { ...envelope('HUGE-2345'), armored: `-----BEGIN PGP MESSAGE-----\n\n${'A'.repeat(MAX_PART_BYTES)}` };
    expect((await a.keep(huge).catch((e: unknown) => e) as { code?: string }).code).toBe('too_large');
    expect([...(await keysLeft()).keys()]).toEqual([`${prefix}:stream`]);
  });
});

describe('durability of the Redis behind the outbox', () => {
  it('says what to change when Redis would not keep what it acknowledged', async () => {
    expect(await checkDurability(admin)).toEqual({ verdict: 'durable', findings: [] });
    // A directory of its own: CONFIG SET appendonly yes writes its files there.
    const dir = await mkdtemp(join(tmpdir(), 'stream-outbox-'));
    const own = await startRedis({ dir });
    try {
      const client = await connect(own.url);
      const off = await checkDurability(client);
      expect(off.verdict).toBe('not_durable');
      expect(off.findings[0]).toMatch(/appendonly is no.*appendonly yes and appendfsync always/);
      await client.call('CONFIG', 'SET', 'appendonly', 'yes');
      await client.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
      const some = await checkDurability(client);
      expect(some.findings).toEqual([expect.stringMatching(/appendfsync is everysec/), expect.stringMatching(/allkeys-lru.*noeviction/)]);
      // A production start on such a Redis stops, naming the setting.
      const config = loadConfig({
        APP_ENV: 'production', STAFF_PGP_KEYS: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----', STAFF_EMAILS: 'staff@example.org', MAIL_FROM: 'intake@example.org',
        RESEND_API_KEY: 're_x', RATE_LIMIT_SECRET: 'd3384a38a79d8c94b2fbcffbfc14a4252547f4794858c432094e3c0939a99c17', REDIS_URL: own.url, OUTBOX_STORE: 'redis',
      });
      await expect(openOutboxStore(config, createMemoryLogger())).rejects.toThrow(/appendfsync is everysec/);
    } finally {
      // Not SIGTERM: while it writes its first append-only file Redis refuses to shut down
      // ("Writing initial AOF, can't exit") and does not try again.
      await own.kill();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens the outbox OUTBOX_STORE names: files by default, the stream with redis', async () => {
    const files = await openOutboxStore(loadConfig({}), createMemoryLogger());
    expect(files.outbox.dir).toBe(loadConfig({}).outboxDir);
    const logger = createMemoryLogger();
    const shared = await openOutboxStore(loadConfig({ OUTBOX_STORE: 'redis', REDIS_URL: redis.url }), logger);
    try {
      expect(shared.outbox.dir).toMatch(/^redis:intake:outbox\//);
      expect(await shared.counts()).toEqual({ waiting: 0, dead: 0 });
      expect(logger.entries().filter((e) => e['event'] === 'outbox.not_durable')).toEqual([]);
    } finally {
      await shared.close();
    }
  });
});

describe('the pipeline on the Redis outbox', () => {
  const origin = 'http://127.0.0.1:4321';
  function post(): Request {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(helpSample)) for (const v of [value].flat()) body.append(name, v);
    return new Request(`${origin}/api/applications`, { method: 'POST', body, headers: { origin, accept: 'application/json' } });
  }
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  async function deps(outbox: StreamOutbox, logger = createMemoryLogger()): Promise<IntakeDeps> {
    const dir = await mkdtemp(join(tmpdir(), 'stream-pipeline-'));
    dirs.push(dir);
    return {
      limiters: createLimiters(openStore({ kind: 'memory' })),
      rateLimitSecret: 'x'.repeat(32),
      keys: [key],
      outbox,
      usedReferences: createFileUsedReferences(dir, 'x'.repeat(32)),
      mailer: mailer(),
      logger,
      allowedOrigins: [origin],
      pending: new Set(),
    };
  }

  it('answers "received" once Redis holds the application, and the instance that kept it mails it once', async () => {
    const a = await instance('a', { claimIdleMs: 2000 });
    const b = await instance('b', { claimIdleMs: 2000 });
    const loop = startStreamLoop({ outbox: b, mailer: mailer(), logger: createMemoryLogger() });
    try {
      const logger = createMemoryLogger();
      const intake = await deps(a, logger);
      const outcome = await submitApplication(post(), '203.0.113.7', intake);
      expect(outcome.ok).toBe(true);
      const reference = outcome.ok ? outcome.reference : '';
      // Before any delivery, the application is in Redis for every instance to see.
      expect((await b.read(reference))?.reference).toBe(reference);
      await Promise.all(intake.pending ?? []);
      expect(sends()).toEqual(new Map([[reference, 1]]));
      expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'delivery.sent', reference }));
      await new Promise((r) => setTimeout(r, 2500));
      expect(sends()).toEqual(new Map([[reference, 1]]));
      expect(await a.counts()).toEqual({ waiting: 0, dead: 0 });
    } finally {
      await loop.stop();
    }
  });

  it('answers 503 and mails nothing while Redis is down', async () => {
    const own = await startRedis();
    const a = await instance('a', { url: own.url });
    await own.kill();
    const outcome = await submitApplication(post(), '203.0.113.8', await deps(a));
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? 0 : outcome.error.status).toBe(503);
    expect(sink.requests).toHaveLength(0);
  });
});
