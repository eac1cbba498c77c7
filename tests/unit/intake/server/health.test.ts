// GET /healthz with the real runtime (staff keys, file outbox, Redis outbox on a real
// redis-server) behind the real handler on a loopback HTTP server: 200 only while this instance
// can keep an application, 503 with nothing more for each thing that stops it, and a bounded
// cost under a flood.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../../src/intake/server/config.ts';
import { createHealth, healthHandler, HEALTH_PATH, type Health } from '../../../../src/intake/server/http/health.ts';
import { intakeHealth } from '../../../../src/intake/server/http/start.ts';
import { createMemoryLogger } from '../../../../src/intake/server/logger.ts';
import { createRuntime, type Runtime } from '../../../../src/intake/server/runtime.ts';
import { openRedisConnection } from '../../../../src/intake/server/store/redis.ts';
import { eccKeyPair, type TestKeyPair } from '../../../support/keys.ts';
import { startRedis, type RunningRedis } from '../../../support/redis.ts';

/** Past the one second a verdict is shared for. */
const PAST_CACHE_MS = 1001;

let dir: string;
let staff: TestKeyPair;
const runtimes: Runtime[] = [];
const servers: http.Server[] = [];
const redises: RunningRedis[] = [];
const admins: Redis[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'health-test-'));
  staff = await eccKeyPair();
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  })));
  for (const admin of admins.splice(0)) admin.disconnect();
  for (const runtime of runtimes.splice(0)) {
    await runtime.delivery.close();
    await runtime.store.close();
  }
  await Promise.all(redises.splice(0).map((redis) => redis.stop()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type MemoryLogger = ReturnType<typeof createMemoryLogger>;

/** A runtime as the server builds it from these variables, with the staff key unless told. */
async function runtimeWith(env: Record<string, string>, publicKey = staff.publicKey): Promise<Runtime & { logger: MemoryLogger }> {
  const logger = createMemoryLogger();
  const outboxDir = join(dir, `outbox-${Math.random().toString(36).slice(2)}`);
  const runtime = await createRuntime(loadConfig({ STAFF_PGP_KEYS: publicKey, OUTBOX_DIR: outboxDir, ...env }), logger);
  runtimes.push(runtime);
  return { ...runtime, logger };
}

async function redis(): Promise<{ server: RunningRedis; admin: Redis }> {
  const server = await startRedis({ durable: true });
  redises.push(server);
  const admin = openRedisConnection(server.url, { commandTimeoutMs: 5000 });
  admins.push(admin);
  await vi.waitFor(() => expect(admin.status).toBe('ready'), { timeout: 10_000, interval: 10 });
  return { server, admin };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The handler on a loopback server, as scripts/serve.mjs mounts it; returns a client for it. */
async function serve(health: Health): Promise<(method?: string) => Promise<Answer>> {
  const handle = healthHandler(health);
  const server = http.createServer((req, res) => handle(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return (method = 'GET') => new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: HEALTH_PATH, method, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

/** The clock moves on (Date only: timers stay real), past the shared verdict. */
function later(ms = PAST_CACHE_MS): void {
  const at = Date.now() + ms;
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(at);
}

function expectUnavailable(answer: Answer): void {
  expect(answer.status).toBe(503);
  // Nothing an outsider could use: not the part that failed, not an error code.
  expect(answer.body).toBe('unavailable\n');
  expect(answer.headers['cache-control']).toBe('no-store');
}

describe('GET /healthz, file outbox', () => {
  it('answers 200 "ok", never cached, while the keys are usable and the outbox takes a write; HEAD has no body; POST is 405', async () => {
    const runtime = await runtimeWith({});
    const get = await serve(intakeHealth(runtime));
    const ok = await get();
    expect(ok).toMatchObject({ status: 200, body: 'ok\n' });
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(await get('HEAD')).toMatchObject({ status: 200, body: '' });
    const post = await get('POST');
    expect(post.status).toBe(405);
    expect(post.headers['allow']).toBe('GET, HEAD');
  });

  it('answers 503 when the outbox can not be written (a file where its folder should be), and the log says which part', async () => {
    const blocker = join(dir, `blocker-${Date.now()}`);
    await writeFile(blocker, 'a file where the outbox directory should be');
    const runtime = await runtimeWith({ OUTBOX_DIR: join(blocker, 'outbox') });
    const get = await serve(intakeHealth(runtime));
    expectUnavailable(await get());
    const said = runtime.logger.entries().filter((e) => e['event'] === 'health.unavailable');
    expect(said).toHaveLength(1);
    expect(said[0]!['error']).toBe('outbox: ENOTDIR');
  });

  it('answers 503 once a staff key has expired since the start, and the log says so once', async () => {
    // Valid at start (a minute old, expiring in ten minutes), as loadStaffKeys demands.
    const expiring = await eccKeyPair({ date: new Date(Date.now() - 60_000), keyExpirationTime: 11 * 60 });
    const runtime = await runtimeWith({}, expiring.publicKey);
    const get = await serve(intakeHealth(runtime));
    expect((await get()).status).toBe(200);
    later(11 * 60_000);
    expectUnavailable(await get());
    later();
    expectUnavailable(await get());
    expect(runtime.logger.entries().filter((e) => e['event'] === 'health.unavailable').map((e) => e['error'])).toEqual(['keys: refused']);
  });

  it('leaves no file behind in the outbox', async () => {
    const runtime = await runtimeWith({});
    const get = await serve(intakeHealth(runtime));
    expect((await get()).status).toBe(200);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(runtime.config.outboxDir)).toEqual([]);
  });
});

describe('GET /healthz, outbox in Redis (OUTBOX_STORE=redis)', () => {
  it('answers 200 while Redis takes writes, 503 while it hangs or refuses writes (full), and 200 again after', async () => {
    const { server, admin } = await redis();
    const runtime = await runtimeWith({ OUTBOX_STORE: 'redis', REDIS_URL: server.url });
    const get = await serve(intakeHealth(runtime));
    expect((await get()).status).toBe(200);

    // Full: with noeviction, a write past maxmemory is refused (OOM), as keeping would be.
    await admin.call('CONFIG', 'SET', 'maxmemory', '1');
    later();
    expectUnavailable(await get());
    await admin.call('CONFIG', 'SET', 'maxmemory', '0');
    later();
    expect((await get()).status).toBe(200);

    // Hung (SIGSTOP): no answer within the probe's 2 s, so 503 without waiting for Redis.
    server.pause();
    later();
    const started = performance.now();
    expectUnavailable(await get());
    expect(performance.now() - started).toBeLessThan(3000);
    server.resume();
    // The probe still waiting on the hung Redis settles first; then a new one passes.
    await vi.waitFor(async () => {
      later();
      expect((await get()).status).toBe(200);
    }, { timeout: 15_000, interval: 200 });
  });

  it('answers 503 at once while that Redis is down', async () => {
    const { server } = await redis();
    const runtime = await runtimeWith({ OUTBOX_STORE: 'redis', REDIS_URL: server.url });
    const get = await serve(intakeHealth(runtime));
    expect((await get()).status).toBe(200);
    await server.kill();
    later();
    const started = performance.now();
    expectUnavailable(await get());
    // Refused at once (no offline queue), not after the probe's timeout.
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a flood of 2000 requests costs one write to Redis per second, and is answered fast', async () => {
    const { server, admin } = await redis();
    const runtime = await runtimeWith({ OUTBOX_STORE: 'redis', REDIS_URL: server.url });
    const health = intakeHealth(runtime);
    const writes = async () => Number(/cmdstat_set:calls=(\d+)/.exec(String(await admin.call('INFO', 'commandstats')))?.[1] ?? 0);
    const before = await writes();
    const started = performance.now();
    const verdicts = await Promise.all(Array.from({ length: 2000 }, () => health.healthy()));
    const elapsed = performance.now() - started;
    expect(verdicts.every(Boolean)).toBe(true);
    expect(await writes()).toBe(before + 1);
    expect(elapsed).toBeLessThan(1000);
    // Over the wire too: 200 GETs at once, all answered, one more write at most.
    const get = await serve(health);
    later();
    const answers = await Promise.all(Array.from({ length: 200 }, () => get()));
    expect(answers.every((a) => a.status === 200 && a.body === 'ok\n')).toBe(true);
    expect(await writes()).toBe(before + 2);
  });
});

describe('GET /healthz, a Redis that holds the limits only', () => {
  it('stays 200 while that Redis is down: the limits are kept in memory and applications are still kept', async () => {
    const { server } = await redis();
    const runtime = await runtimeWith({ REDIS_URL: server.url });
    const get = await serve(intakeHealth(runtime));
    await server.kill();
    later();
    expect((await get()).status).toBe(200);
  });
});

describe('createHealth', () => {
  it('gives every request in the same second one verdict, and never runs a probe again while it still hangs', async () => {
    let calls = 0;
    let release: () => void = () => undefined;
    // The first call hangs until released (a disk or store that stopped answering); later ones pass.
    const hanging = () => {
      calls += 1;
      return calls === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
    };
    let clock = 0;
    const logger = createMemoryLogger();
    const health = createHealth({ probes: { outbox: hanging }, timeoutMs: 50, now: () => clock, logger });
    expect(await Promise.all([health.healthy(), health.healthy(), health.healthy()])).toEqual([false, false, false]);
    expect(calls).toBe(1);
    clock += 500;
    expect(await health.healthy()).toBe(false);
    expect(calls).toBe(1);
    clock += 600;
    // Past the cache, but the first call has not settled: it is not started a second time.
    expect(await health.healthy()).toBe(false);
    expect(calls).toBe(1);
    release();
    await new Promise((resolve) => setImmediate(resolve));
    clock += 1001;
    expect(await health.healthy()).toBe(true);
    expect(calls).toBe(2);
    // One line when it failed, one when it came back: not one per check.
    expect(logger.entries().map((e) => [e['event'], e['error']])).toEqual([
      ['health.unavailable', 'outbox: no answer in 50 ms'],
      ['health.available', undefined],
    ]);
  });
});
