import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createOutboxOnlyMailer, createResendMailer } from '../../../../src/intake/server/delivery/mailer.ts';
import { createMemoryLogger } from '../../../../src/intake/server/logger.ts';
import { createOutbox, type Outbox } from '../../../../src/intake/server/delivery/outbox.ts';
import { backoffSeconds, flushOutbox, startRetryLoop } from '../../../../src/intake/server/delivery/retry.ts';
import type { Envelope } from '../../../../src/intake/server/types.ts';
import { sendsPerReference, startSink, type Sink } from '../../../../scripts/lib/sink.ts';

let sink: Sink;
let root: string;
let outbox: Outbox;

beforeAll(async () => {
  sink = await startSink();
});

afterAll(async () => {
  await sink.close();
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'retry-test-'));
  outbox = createOutbox(join(root, 'outbox'));
  sink.requests.length = 0;
  sink.mode = 'ok';
  sink.delayMs = 0;
  await sink.up();
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function envelope(reference: string, minutesAgo = 0): Envelope {
  const armored = `-----BEGIN PGP MESSAGE-----\n\n${randomBytes(48).toString('base64')}\n-----END PGP MESSAGE-----\n`;
  const createdAt = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  return { reference, kind: 'missing', createdAt, armored, attachments: [], attempts: 0 };
}

function mailer() {
  return createResendMailer({ apiKey: 're_test', baseUrl: sink.url, from: 'intake@example.org', to: ['staff@example.org'], timeoutMs: 2_000 });
}

const sends = () => sendsPerReference(sink);

/** For vi.waitFor: the loop's timers are tens of ms, a busy machine may take seconds. */
const eventually = { timeout: 10_000, interval: 20 };

/** The outbox, counting the rounds of a loop given it (each round lists the outbox once). */
function counting(inner: Outbox): Outbox & { rounds(): number } {
  let rounds = 0;
  return {
    ...inner,
    list: () => {
      rounds += 1;
      return inner.list();
    },
    rounds: () => rounds,
  };
}

/**
 * Waits for three more rounds of the loop: rounds run one after another, so two have finished,
 * and anything the loop would send again it has sent by then.
 */
async function moreRounds(box: ReturnType<typeof counting>): Promise<void> {
  const target = box.rounds() + 3;
  await vi.waitFor(() => expect(box.rounds()).toBeGreaterThanOrEqual(target), eventually);
}

const outboxEmpty = () => vi.waitFor(async () => expect(await outbox.list()).toEqual([]), eventually);

describe('flushOutbox', () => {
  it('tries each envelope once per pass, oldest first, and reports what is still waiting', async () => {
    await outbox.keep(envelope('NEWR-2222', 1));
    await outbox.keep(envelope('AGED-2222', 30));
    sink.mode = 'fail';
    const logger = createMemoryLogger();
    expect(await flushOutbox({ outbox, mailer: mailer(), logger })).toEqual({ delivered: [], waiting: ['AGED-2222', 'NEWR-2222'] });
    expect(sink.requests.map((r) => r.headers['idempotency-key'])).toEqual(['AGED-2222', 'NEWR-2222']);
    expect((await outbox.read('AGED-2222'))?.attempts).toBe(1);
    sink.mode = 'ok';
    expect(await flushOutbox({ outbox, mailer: mailer(), logger })).toEqual({ delivered: ['AGED-2222', 'NEWR-2222'], waiting: [] });
    expect(await outbox.list()).toEqual([]);
    expect(await flushOutbox({ outbox, mailer: mailer(), logger })).toEqual({ delivered: [], waiting: [] });
    expect(sends()).toEqual(new Map([['AGED-2222', 2], ['NEWR-2222', 2]]));
  });

  it('sends nothing with the outbox-only mailer', async () => {
    await outbox.keep(envelope('STAY-2222'));
    const logger = createMemoryLogger();
    expect(await flushOutbox({ outbox, mailer: createOutboxOnlyMailer(), logger })).toEqual({ delivered: [], waiting: ['STAY-2222'] });
    expect((await outbox.read('STAY-2222'))?.attempts).toBe(0);
    expect(logger.entries()).toEqual([expect.objectContaining({ event: 'retry.outbox_only', count: 1, dir: outbox.dir })]);
  });
});

describe('backoffSeconds', () => {
  it('doubles per attempt, is capped, and jitters within the upper half', () => {
    expect(backoffSeconds(0, 30, 3600, () => 0)).toBe(15);
    expect(backoffSeconds(0, 30, 3600, () => 1)).toBe(30);
    expect(backoffSeconds(3, 30, 3600, () => 1)).toBe(240);
    expect(backoffSeconds(3, 30, 3600, () => 0)).toBe(120);
    expect(backoffSeconds(20, 30, 3600, () => 1)).toBe(3600);
    expect(backoffSeconds(5000, 30, 3600, () => 0.5)).toBe(2700);
  });
});

describe('startRetryLoop', () => {
  it('backs off while the provider fails, then delivers exactly once when it is back', async () => {
    await outbox.keep(envelope('RUNS-2222'));
    sink.mode = 'fail';
    const logger = createMemoryLogger();
    // The top of each jittered wait: attempt n comes base × 2^n after attempt n - 1 at the earliest.
    const base = 0.05;
    const loop = startRetryLoop({ outbox, mailer: mailer(), logger, baseSeconds: base, maxSeconds: 10, random: () => 1 });
    try {
      await vi.waitFor(async () => expect((await outbox.read('RUNS-2222'))?.attempts).toBe(4), eventually);
      const failures = sink.requests.length;
      expect(failures).toBe(4);
      // Without backoff the 25 ms tick would have sent again at every tick.
      const gaps = sink.requests.slice(1).map((r, i) => r.at - sink.requests[i]!.at);
      gaps.forEach((gap, i) => expect(gap, `wait before attempt ${i + 2}`).toBeGreaterThanOrEqual(base * 2 ** (i + 1) * 1000 - 2));
      await sink.down();
      sink.mode = 'ok';
      await sink.up();
      // Reset the backoff so the test does not wait for it: a fresh loop sees the envelope anew.
      await loop.stop();
      const box = counting(outbox);
      const second = startRetryLoop({ outbox: box, mailer: mailer(), logger, baseSeconds: 0.1, maxSeconds: 10 });
      await outboxEmpty();
      await moreRounds(box);
      await second.stop();
      expect(sink.requests.length).toBe(failures + 1);
      expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'delivery.sent', reference: 'RUNS-2222' }));
      expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'retry.scheduled', reference: 'RUNS-2222' }));
    } finally {
      await loop.stop();
    }
  });

  it('delivers what waits when the provider comes back after being down', async () => {
    await sink.down();
    await outbox.keep(envelope('DEAD-2222'));
    const logger = createMemoryLogger();
    const box = counting(outbox);
    const loop = startRetryLoop({ outbox: box, mailer: mailer(), logger, baseSeconds: 0.05, maxSeconds: 0.2 });
    try {
      await vi.waitFor(async () => expect((await outbox.read('DEAD-2222'))?.attempts).toBeGreaterThanOrEqual(2), eventually);
      await sink.up();
      await outboxEmpty();
      await moreRounds(box);
      expect(sends()).toEqual(new Map([['DEAD-2222', 1]]));
    } finally {
      await loop.stop();
    }
  });

  it('never sends a reference twice when a flush overlaps the loop', async () => {
    const references = ['MANY-2222', 'MANY-2223', 'MANY-2224', 'MANY-2225', 'MANY-2226'];
    for (const reference of references) await outbox.keep(envelope(reference));
    sink.delayMs = 150;
    const logger = createMemoryLogger();
    const box = counting(outbox);
    const loop = startRetryLoop({ outbox: box, mailer: mailer(), logger, baseSeconds: 0.02, maxSeconds: 1 });
    try {
      await vi.waitFor(() => expect(sink.requests.length).toBeGreaterThanOrEqual(1), eventually);
      const [a, b] = await Promise.all([
        flushOutbox({ outbox, mailer: mailer(), logger }),
        flushOutbox({ outbox, mailer: mailer(), logger }),
      ]);
      await outboxEmpty();
      await moreRounds(box);
      expect(sends()).toEqual(new Map(references.map((r) => [r, 1])));
      expect(a.delivered.length + b.delivered.length).toBeLessThanOrEqual(references.length);
    } finally {
      await loop.stop();
    }
  });

  it('does nothing with the outbox-only mailer, and says so once', async () => {
    await outbox.keep(envelope('REST-2222'));
    const logger = createMemoryLogger();
    const box = counting(outbox);
    // Under fake timers, a round would have to be scheduled: there is none to wait for.
    vi.useFakeTimers();
    try {
      const working = startRetryLoop({ outbox: counting(outbox), mailer: mailer(), logger: createMemoryLogger(), baseSeconds: 0.02 });
      expect(vi.getTimerCount(), 'a loop with a mailer schedules its first round').toBe(1);
      await working.stop();
      const loop = startRetryLoop({ outbox: box, mailer: createOutboxOnlyMailer(), logger, baseSeconds: 0.02 });
      expect(vi.getTimerCount()).toBe(0);
      await loop.stop();
    } finally {
      vi.useRealTimers();
    }
    expect(box.rounds()).toBe(0);
    expect(logger.entries()).toEqual([expect.objectContaining({ event: 'retry.off', error: 'outbox_only' })]);
    expect((await outbox.read('REST-2222'))?.attempts).toBe(0);
  });

  it('never keeps the process alive (unref timers)', async () => {
    const script = `
      const { startRetryLoop } = await import(${JSON.stringify(resolve('src/intake/server/delivery/retry.ts'))});
      const { createOutbox } = await import(${JSON.stringify(resolve('src/intake/server/delivery/outbox.ts'))});
      const { createResendMailer } = await import(${JSON.stringify(resolve('src/intake/server/delivery/mailer.ts'))});
      const { createMemoryLogger } = await import(${JSON.stringify(resolve('src/intake/server/logger.ts'))});
      startRetryLoop({ outbox: createOutbox(${JSON.stringify(join(root, 'idle'))}),
        mailer: createResendMailer({ apiKey: 'x', baseUrl: 'http://127.0.0.1:9', from: 'a@example.org', to: ['b@example.org'] }),
        logger: createMemoryLogger(), baseSeconds: 30 });`;
    const started = Date.now();
    const code = await new Promise((done) => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' }).on('exit', done));
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
