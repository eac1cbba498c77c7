import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOutboxOnlyMailer, createResendMailer } from '../../../../src/intake/server/delivery/mailer.ts';
import { createMemoryLogger } from '../../../../src/intake/server/logger.ts';
import { createOutbox, type Outbox } from '../../../../src/intake/server/delivery/outbox.ts';
import { backoffSeconds, flushOutbox, startRetryLoop } from '../../../../src/intake/server/delivery/retry.ts';
import type { Envelope } from '../../../../src/intake/server/types.ts';
import { startSink, type Sink } from '../../../support/sink.ts';

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

/** How many requests the sink got per reference (the Idempotency-Key). */
function sends(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of sink.requests) {
    const reference = String(r.headers['idempotency-key']);
    counts.set(reference, (counts.get(reference) ?? 0) + 1);
  }
  return counts;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('flushOutbox', () => {
  it('tries each envelope once per pass, oldest first, and reports what is still waiting', async () => {
    await outbox.keep(envelope('NEW0-0001', 1));
    await outbox.keep(envelope('OLD0-0001', 30));
    sink.mode = 'fail';
    const logger = createMemoryLogger();
    expect(await flushOutbox({ outbox, mailer: mailer(), logger })).toEqual({ delivered: [], waiting: ['OLD0-0001', 'NEW0-0001'] });
    expect(sink.requests.map((r) => r.headers['idempotency-key'])).toEqual(['OLD0-0001', 'NEW0-0001']);
    expect((await outbox.read('OLD0-0001'))?.attempts).toBe(1);
    sink.mode = 'ok';
    expect(await flushOutbox({ outbox, mailer: mailer(), logger })).toEqual({ delivered: ['OLD0-0001', 'NEW0-0001'], waiting: [] });
    expect(await outbox.list()).toEqual([]);
    expect(await flushOutbox({ outbox, mailer: mailer(), logger })).toEqual({ delivered: [], waiting: [] });
    expect(sends()).toEqual(new Map([['OLD0-0001', 2], ['NEW0-0001', 2]]));
  });

  it('sends nothing with the outbox-only mailer', async () => {
    await outbox.keep(envelope('WAIT-0001'));
    const logger = createMemoryLogger();
    expect(await flushOutbox({ outbox, mailer: createOutboxOnlyMailer(), logger })).toEqual({ delivered: [], waiting: ['WAIT-0001'] });
    expect((await outbox.read('WAIT-0001'))?.attempts).toBe(0);
    expect(logger.entries()).toEqual([expect.objectContaining({ event: 'outbox_only', count: 1, dir: outbox.dir })]);
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
    await outbox.keep(envelope('LOOP-0001'));
    sink.mode = 'fail';
    const logger = createMemoryLogger();
    const loop = startRetryLoop({ outbox, mailer: mailer(), logger, baseSeconds: 0.1, maxSeconds: 10 });
    try {
      await until(() => sink.requests.length >= 2);
      await new Promise((r) => setTimeout(r, 1_500));
      const failures = sink.requests.length;
      // Without backoff a 50 ms tick would have sent ~35 times by now.
      expect(failures).toBeGreaterThanOrEqual(3);
      expect(failures).toBeLessThanOrEqual(8);
      expect((await outbox.read('LOOP-0001'))?.attempts).toBe(failures);
      await sink.down();
      sink.mode = 'ok';
      await sink.up();
      // Reset the backoff so the test does not wait for it: a fresh loop sees the envelope anew.
      await loop.stop();
      const second = startRetryLoop({ outbox, mailer: mailer(), logger, baseSeconds: 0.1, maxSeconds: 10 });
      await until(async () => (await outbox.list()).length === 0);
      await new Promise((r) => setTimeout(r, 500));
      await second.stop();
      expect(sink.requests.length).toBe(failures + 1);
      expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'delivered', reference: 'LOOP-0001' }));
      expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'retry_scheduled', reference: 'LOOP-0001' }));
    } finally {
      await loop.stop();
    }
  });

  it('delivers what waits when the provider comes back after being down', async () => {
    await sink.down();
    await outbox.keep(envelope('DOWN-0001'));
    const logger = createMemoryLogger();
    const loop = startRetryLoop({ outbox, mailer: mailer(), logger, baseSeconds: 0.05, maxSeconds: 0.2 });
    try {
      await until(async () => ((await outbox.read('DOWN-0001'))?.attempts ?? 0) >= 2);
      await sink.up();
      await until(async () => (await outbox.list()).length === 0);
      await new Promise((r) => setTimeout(r, 400));
      expect(sends()).toEqual(new Map([['DOWN-0001', 1]]));
    } finally {
      await loop.stop();
    }
  });

  it('never sends a reference twice when a flush overlaps the loop', async () => {
    const references = ['OVER-0001', 'OVER-0002', 'OVER-0003', 'OVER-0004', 'OVER-0005'];
    for (const reference of references) await outbox.keep(envelope(reference));
    sink.delayMs = 150;
    const logger = createMemoryLogger();
    const loop = startRetryLoop({ outbox, mailer: mailer(), logger, baseSeconds: 0.02, maxSeconds: 1 });
    try {
      await until(() => sink.requests.length >= 1);
      const [a, b] = await Promise.all([
        flushOutbox({ outbox, mailer: mailer(), logger }),
        flushOutbox({ outbox, mailer: mailer(), logger }),
      ]);
      await until(async () => (await outbox.list()).length === 0);
      await new Promise((r) => setTimeout(r, 300));
      expect(sends()).toEqual(new Map(references.map((r) => [r, 1])));
      expect(a.delivered.length + b.delivered.length).toBeLessThanOrEqual(references.length);
    } finally {
      await loop.stop();
    }
  });

  it('does nothing with the outbox-only mailer, and says so once', async () => {
    await outbox.keep(envelope('IDLE-0001'));
    const logger = createMemoryLogger();
    const loop = startRetryLoop({ outbox, mailer: createOutboxOnlyMailer(), logger, baseSeconds: 0.02 });
    await new Promise((r) => setTimeout(r, 200));
    await loop.stop();
    expect(logger.entries()).toEqual([expect.objectContaining({ event: 'retry_loop_off', error: 'outbox_only' })]);
    expect((await outbox.read('IDLE-0001'))?.attempts).toBe(0);
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
