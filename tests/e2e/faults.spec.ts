// Nothing lost: the built server with real parts failing under it — the mail sink down or
// hanging, redis-server killed, the outbox unwritable, the server itself killed mid-way.
import { expect, test } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../support/server.ts';
import { startSink, type Sink } from '../../scripts/lib/sink.ts';
import { startRedis } from '../support/redis.ts';
import { filesUnder, helpFields, mailEnv, mailsFor, post, urlencoded } from '../support/intake.ts';

test.describe.configure({ mode: 'serial' });
test.setTimeout(90_000);

const retryingMailEnv = (sink: Sink) => ({
  ...mailEnv(sink),
  OUTBOX_RETRY_SECONDS: '1',
  MAIL_TIMEOUT_SECONDS: '2',
  RATE_LIMIT_ADDRESS: '100/10m',
});

const outboxed = (server: RunningServer) =>
  filesUnder(join(server.varDir, 'outbox')).filter((f) => f.path.endsWith('.json')).map((f) => f.path);

async function accepted(server: RunningServer): Promise<string> {
  const response = await post(server.url, urlencoded(helpFields()));
  expect(response.status).toBe(201);
  return ((await response.json()) as { reference: string }).reference;
}

test('mail sink down: the applicant is told it was received; the ciphertext waits and is delivered once when the sink returns', async () => {
  const sink = await startSink();
  const server = await startServer(retryingMailEnv(sink));
  try {
    await sink.down();
    const reference = await accepted(server);
    await expect.poll(() => server.logs.some((l) => l.includes(reference) && l.includes('"level":"warn"'))).toBe(true);
    expect(outboxed(server).some((p) => p.endsWith(`${reference}.json`))).toBe(true);
    await sink.up();
    await mailsFor(sink, reference, 30_000);
    await expect.poll(() => outboxed(server).length, { timeout: 10_000 }).toBe(0);
    // More rounds of the loop, seen in its retry of another application the sink now refuses;
    // then the server stops, and its loop and every delivery in flight end with it.
    sink.mode = 'fail';
    const other = await accepted(server);
    const sends = (ref: string) => sink.requests.filter((r) => (r.body as { subject: string }).subject.includes(ref) && r.method === 'POST');
    await expect.poll(() => sends(other).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    await server.stop();
    expect(sends(reference)).toHaveLength(1);
  } finally {
    await server.stop();
    await sink.close();
  }
});

test('mail sink hanging: the request answers at once, the delivery times out and succeeds later', async () => {
  const sink = await startSink();
  const server = await startServer(retryingMailEnv(sink));
  try {
    sink.mode = 'hang';
    const reference = await accepted(server);
    // Answered while the mail attempt still hangs: it has not timed out yet, nor was it given up.
    expect(server.logs.filter((l) => l.includes(reference) && /timeout|delivery\./.test(l))).toEqual([]);
    await expect.poll(() => server.logs.some((l) => l.includes(reference) && /timeout/.test(l)), { timeout: 10_000 }).toBe(true);
    sink.mode = 'ok';
    await expect.poll(() => outboxed(server).length, { timeout: 20_000 }).toBe(0);
    const delivered = await mailsFor(sink, reference);
    expect(delivered.length).toBeGreaterThanOrEqual(2); // the hung attempt and the delivered one
    expect(new Set(delivered.map((r) => r.headers['idempotency-key']))).toEqual(new Set([reference]));
  } finally {
    await server.stop();
    await sink.close();
  }
});

test('redis-server killed mid-run: applications are still accepted, limited in memory meanwhile (logged), and limits come back with it', async () => {
  const redis = await startRedis();
  // Distinct client addresses through the trusted proxy header: the limiter remembers an address
  // it refused in process memory (@upstash/ratelimit's ephemeral cache), which is right.
  // Counted log lines every 2 s (10 s by default), so the test need not wait for one.
  const server = await startServer({ REDIS_URL: redis.url, RATE_LIMIT_ADDRESS: '3/10m', TRUST_PROXY: '1', LOG_COUNT_SECONDS: '2' });
  try {
    const statuses = async (address: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await post(server.url, urlencoded(helpFields()), { 'x-forwarded-for': address });
        out.push(r.status);
        await r.body?.cancel();
      }
      return out;
    };
    // The first check of each limiter loads its script into Redis (two round trips): on a busy
    // machine it can pass the limiter's 1 s timeout and be counted in memory instead. Warm up first.
    await statuses('198.51.100.9', 1);
    expect(await statuses('198.51.100.1', 4)).toEqual([201, 201, 201, 429]);
    await redis.kill();
    expect(await statuses('198.51.100.2', 5)).toEqual([201, 201, 201, 429, 429]);
    // Said once per interval, with a count: fewer lines than failed checks (two limiters per post).
    const failed = () => server.logs.filter((l) => l.includes('ratelimit.store_failed')).map((l) => JSON.parse(l) as { count: number });
    await expect.poll(() => failed().length).toBeGreaterThan(0);
    expect(failed().reduce((sum, line) => sum + line.count, 0)).toBeGreaterThan(failed().length);
    const again = await startRedis({ port: redis.port });
    try {
      await expect.poll(async () => (await statuses('198.51.100.3', 1))[0], { timeout: 20_000 }).toBe(429);
    } finally {
      await again.stop();
    }
  } finally {
    await server.stop();
  }
});

test('outbox not writable: 503 with Retry-After and the hotlines, and no success claimed', async () => {
  const blocker = join(process.env.TMPDIR ?? '/tmp', `not-a-dir-${Date.now()}`);
  writeFileSync(blocker, 'a file where the outbox directory should be');
  const server = await startServer({ OUTBOX_DIR: join(blocker, 'outbox') });
  try {
    const response = await post(server.url, urlencoded(helpFields()), { 'accept-language': 'en' });
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await response.json()) as { ok: boolean; error: string; message: string; reference?: string };
    expect(body.ok).toBe(false);
    expect(body.error).toBe('unavailable');
    expect(body.reference).toBeUndefined();
    expect(body.message).toContain('+7 800 550 7140');
    expect(body.message).toContain('112');
    // The plain form post gets the same refusal as a page.
    const page = await post(server.url, urlencoded(helpFields()), { accept: 'text/html' });
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toBeTruthy();
  } finally {
    await server.stop();
  }
});

test('server killed between keeping and delivering: delivered after restart', async () => {
  const sink = await startSink();
  sink.mode = 'hang';
  const varDir = join(process.env.TMPDIR ?? '/tmp', `alt-crash-${Date.now()}`);
  mkdirSync(varDir, { recursive: true });
  const first = await startServer(retryingMailEnv(sink), { varDir });
  const reference = await accepted(first);
  await first.stop('SIGKILL');
  expect(outboxed(first).some((p) => p.endsWith(`${reference}.json`))).toBe(true);
  sink.mode = 'ok';
  const second = await startServer(retryingMailEnv(sink), { varDir });
  try {
    await expect.poll(() => outboxed(second).length, { timeout: 20_000 }).toBe(0);
    const mails = await mailsFor(sink, reference);
    expect(mails.filter((m) => sink.mode === 'ok' && m.headers['idempotency-key'] === reference).length).toBeGreaterThan(0);
  } finally {
    await second.stop();
    await sink.close();
  }
});
