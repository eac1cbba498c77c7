import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLimiter } from '../../../../src/intake/server/ratelimit/memory.ts';
import { addressGroup, addressKey } from '../../../../src/intake/server/ratelimit/address.ts';
import {
  checkLimits,
  checkRefusals,
  countRefusal,
  createLimiters,
} from '../../../../src/intake/server/ratelimit/limiters.ts';
import { openStore, type Store } from '../../../../src/intake/server/store/store.ts';
import { parseRate } from '../../../../src/intake/server/ratelimit/rates.ts';
import { createRedisAdapter } from '../../../../src/intake/server/store/redis.ts';
import type { Limiter, Logger } from '../../../../src/intake/server/types.ts';
import { startRedis, type RunningRedis } from '../../../support/redis.ts';

type Entry = { level: 'info' | 'warn' | 'error'; event: string; data: Record<string, unknown> | undefined };

function recordingLogger(): Logger & { entries: Entry[] } {
  const entries: Entry[] = [];
  const log = (level: Entry['level']) => (event: string, data?: Record<string, unknown>) => entries.push({ level, event, data });
  return { entries, info: log('info'), warn: log('warn'), error: log('error') };
}

async function sequentially(limiter: Limiter, identifier: string, times: number): Promise<boolean[]> {
  const results: boolean[] = [];
  for (let i = 0; i < times; i++) results.push((await limiter.limit(identifier)).success);
  return results;
}

async function concurrently(limiter: Limiter, identifier: string, times: number): Promise<boolean[]> {
  const results = await Promise.all(Array.from({ length: times }, () => limiter.limit(identifier)));
  return results.map((r) => r.success);
}

const allowed = (results: boolean[]) => results.filter(Boolean).length;

describe('parseRate', () => {
  it('reads count/window into tokens, milliseconds and an upstash duration', () => {
    expect(parseRate('5/10m')).toEqual({ tokens: 5, windowMs: 600_000, duration: '10 m' });
    expect(parseRate('300/1h')).toEqual({ tokens: 300, windowMs: 3_600_000, duration: '1 h' });
    expect(parseRate('10/s')).toEqual({ tokens: 10, windowMs: 1000, duration: '1 s' });
    expect(parseRate(' 2 / 500ms ')).toEqual({ tokens: 2, windowMs: 500, duration: '500 ms' });
    expect(parseRate('1/1d').windowMs).toBe(86_400_000);
  });

  it.each(['', '5', '5/', '/10m', '0/10m', '5/0m', '5/10', '5/10x', 'five/10m', '-5/10m', '5.5/10m'])('refuses %j', (text) => {
    expect(() => parseRate(text)).toThrow(/Invalid rate/);
  });
});

describe('addressKey', () => {
  const secret = 'test-secret-0123456789-0123456789';

  it('is a keyed SHA-256 that hides the address', () => {
    const key = addressKey(secret, '203.0.113.7');
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toContain('203');
    expect(addressKey('another-secret-0123456789-0123456', '203.0.113.7')).not.toBe(key);
    expect(addressKey(secret, '203.0.113.8')).not.toBe(key);
  });

  it('groups IPv6 addresses by their /64, whatever their spelling', () => {
    const same = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0000:0000:0000:0001', '[2001:db8:1:2::abcd]', 'fe80::1%eth0'.replace('fe80::', '2001:db8:1:2::')];
    const keys = new Set(same.map((a) => addressKey(secret, a)));
    expect(keys.size).toBe(1);
    expect(addressGroup('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey(secret, '2001:db8:1:3::1')).not.toBe(addressKey(secret, '2001:db8:1:2::1'));
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(addressGroup('1::')).toBe('1:0:0:0::/64');
    expect(addressGroup('::2:3:4:5:6:7:8')).toBe('0:2:3:4::/64');
  });

  it('treats IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(addressGroup('::ffff:198.51.100.20')).toBe('198.51.100.20');
    expect(addressGroup('::FFFF:c633:6414')).toBe('198.51.100.20');
    expect(addressGroup('0:0:0:0:0:ffff:198.51.100.20')).toBe('198.51.100.20');
    expect(addressKey(secret, '::ffff:198.51.100.20')).toBe(addressKey(secret, '198.51.100.20'));
    // An embedded IPv4 elsewhere (NAT64) is still an IPv6 client.
    expect(addressGroup('64:ff9b::198.51.100.20')).toBe('64:ff9b:0:0::/64');
  });

  it('keeps what it can not parse as it is (one shared bucket)', () => {
    expect(addressGroup(' unknown ')).toBe('unknown');
    expect(addressKey(secret, '')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('memory limiter', () => {
  it('allows exactly 5 of 10, sequentially and concurrently, per identifier', async () => {
    const limiter = createMemoryLimiter({ tokens: 5, windowMs: 600_000 });
    expect(await sequentially(limiter, 'a', 10)).toEqual([true, true, true, true, true, false, false, false, false, false]);
    expect(allowed(await concurrently(limiter, 'b', 10))).toBe(5);
    expect(allowed(await sequentially(limiter, 'a', 3))).toBe(0);
  });

  it('slides: the previous window weighs by its remaining overlap', async () => {
    let now = 1_000_000 * 60_000; // the start of a window
    const limiter = createMemoryLimiter({ tokens: 10, windowMs: 60_000, now: () => now });
    expect(allowed(await sequentially(limiter, 'x', 10))).toBe(10);
    const refused = await limiter.limit('x');
    expect(refused).toEqual({ success: false, reset: now + 60_000, remaining: 0 });
    // A quarter into the next window, 75 % of the previous 10 still count: 7 (floored) → 3 free.
    now += 60_000 + 15_000;
    const next = await sequentially(limiter, 'x', 5);
    expect(next).toEqual([true, true, true, false, false]);
    // Two windows later, nothing of the past weighs.
    now += 120_000;
    expect(allowed(await sequentially(limiter, 'x', 12))).toBe(10);
  });

  it('reports remaining tokens like upstash', async () => {
    const limiter = createMemoryLimiter({ tokens: 3, windowMs: 1000, now: () => 5000 });
    expect((await limiter.limit('r')).remaining).toBe(2);
    expect((await limiter.limit('r')).remaining).toBe(1);
    expect((await limiter.limit('r')).remaining).toBe(0);
    expect(await limiter.limit('r')).toMatchObject({ success: false, remaining: 0, reset: 6000 });
  });

  it('prunes identifiers whose windows have passed, and caps how many it keeps', async () => {
    let now = 0;
    const limiter = createMemoryLimiter({ tokens: 1, windowMs: 1000, now: () => now, maxKeys: 100 });
    for (let i = 0; i < 100; i++) await limiter.limit(`k${i}`);
    expect(limiter.size).toBe(100);
    // Past the cap the oldest is forgotten.
    await limiter.limit('newcomer');
    expect(limiter.size).toBe(100);
    expect((await limiter.limit('k0')).success).toBe(true);
    expect((await limiter.limit('newcomer')).success).toBe(false);
    now += 2500;
    await limiter.limit('later');
    expect(limiter.size).toBe(1);
  });
});

describe('checkLimits (in-process store)', () => {
  const store = openStore({ kind: 'memory' });

  it('refuses past the address limit, with a Retry-After, per kind, blaming the address', async () => {
    const limiters = createLimiters(store, { address: '2/10m', global: '100/1h' });
    const check = () => checkLimits({ limiters, kind: 'help', addressKey: 'k1' });
    expect(await check()).toEqual({ ok: true });
    expect(await check()).toEqual({ ok: true });
    const refused = await check();
    expect(refused).toMatchObject({ ok: false, scope: 'address' });
    if (!refused.ok) {
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(600);
    }
    // Another kind has its own window, another address too.
    expect(await checkLimits({ limiters, kind: 'missing', addressKey: 'k1' })).toEqual({ ok: true });
    expect(await checkLimits({ limiters, kind: 'help', addressKey: 'k2' })).toEqual({ ok: true });
  });

  it('applies the global cap across addresses, says it is everyone\'s, and a refused address does not spend it', async () => {
    const limiters = createLimiters(store, { address: '1/10m', global: parseRate('3/1h') });
    const check = (key: string) => checkLimits({ limiters, kind: 'help', addressKey: key });
    expect(await check('a')).toEqual({ ok: true });
    for (let i = 0; i < 5; i++) expect(await check('a')).toMatchObject({ ok: false, scope: 'address' });
    expect(await check('b')).toEqual({ ok: true });
    expect(await check('c')).toEqual({ ok: true });
    expect(await check('d')).toMatchObject({ ok: false, scope: 'everyone' });
  });

  it('counts refusals per address in a window of their own, which the other windows never see', async () => {
    const limiters = createLimiters(store, { address: '5/10m', global: '2/1h', refused: '3/10m' });
    for (let i = 0; i < 3; i++) {
      expect(await checkRefusals(limiters, 'junk')).toEqual({ ok: true });
      await countRefusal(limiters, 'junk');
    }
    expect(await checkRefusals(limiters, 'junk')).toMatchObject({ ok: false, scope: 'address' });
    // Looking counts nothing: another address, and the global window, are untouched.
    for (let i = 0; i < 10; i++) await checkRefusals(limiters, 'person');
    expect(await checkRefusals(limiters, 'person')).toEqual({ ok: true });
    expect(await checkLimits({ limiters, kind: 'help', addressKey: 'person' })).toEqual({ ok: true });
    expect(await checkLimits({ limiters, kind: 'help', addressKey: 'other' })).toEqual({ ok: true });
  });

  it('limits in memory when the store throws, and says so once per interval without the address', async () => {
    const broken = { kind: 'redis', client: brokenRunner(), ready: () => Promise.resolve(false), close: () => Promise.resolve() } as unknown as Store;
    const log = recordingLogger();
    const limiters = createLimiters(broken, { address: '2/10m', logger: log, logIntervalMs: 100 });
    const results = [];
    for (let i = 0; i < 5; i++) results.push((await checkLimits({ limiters, kind: 'missing', addressKey: 'secret-key-of-address' })).ok);
    expect(results).toEqual([true, true, false, false, false]);
    expect(await checkRefusals(limiters, 'secret-key-of-address')).toEqual({ ok: true });
    expect(log.entries).toEqual([]);
    await expect.poll(() => log.entries.length).toBe(1);
    expect(log.entries[0]).toMatchObject({ level: 'warn', event: 'ratelimit.store_failed', data: { store: 'redis' } });
    // Five address checks, the global one for the two allowed, and one look at the refusals.
    expect(log.entries[0]?.data?.['count']).toBe(8);
    expect(JSON.stringify(log.entries)).not.toContain('secret-key-of-address');
  });
});

/** A script runner whose store is down: every call fails at once. */
function brokenRunner() {
  const down = () => Promise.reject(new Error('store down'));
  return { evalsha: down, eval: down };
}

describe('Redis store (real redis-server)', () => {
  let redis: RunningRedis;
  let store: Store;
  const logger = recordingLogger();

  beforeAll(async () => {
    redis = await startRedis();
    store = openStore({ kind: 'redis', url: redis.url }, logger);
    expect(await store.ready(5000)).toBe(true);
  });

  afterAll(async () => {
    await store.close();
    await redis.stop();
  });

  const fresh = (options: Parameters<typeof createLimiters>[1] = {}) =>
    createLimiters(store, { address: '5/10m', prefix: `test-${randomUUID()}`, ...options });

  it('plain Redis refuses the upstash shebang, and the adapter strips it and maps its hash', async () => {
    const raw = new Redis(redis.url);
    try {
      const script = '#!lua flags=allow-key-locking\nreturn 42';
      await expect(raw.call('EVAL', script, 0)).rejects.toThrow(/flag/i);
      if (store.kind !== 'redis') throw new Error('store kind');
      const upstashHash = createHash('sha1').update(script).digest('hex');
      await expect(store.client.evalsha(upstashHash, [], [])).rejects.toThrow(/NOSCRIPT/);
      expect(await store.client.eval(script, [], [])).toBe(42);
      expect(await store.client.evalsha(upstashHash, [], [])).toBe(42);
    } finally {
      raw.disconnect();
    }
  });

  it('allows exactly 5 of 10 sequentially', async () => {
    const limiters = fresh();
    expect(await sequentially(limiters.address.help, 'seq', 10)).toEqual([true, true, true, true, true, false, false, false, false, false]);
  });

  it('allows exactly 5 of 10 concurrently (the Lua script is atomic)', async () => {
    // No ephemeral cache can help here: all ten are in flight before any answer comes back.
    const limiters = fresh();
    expect(allowed(await concurrently(limiters.address.help, 'par', 10))).toBe(5);
    // A second limiter object on the same keys (another server process) sees the same count.
    const again = createLimiters(store, { address: '5/10m', prefix: 'shared' });
    const other = createLimiters(store, { address: '5/10m', prefix: 'shared' });
    expect(allowed([...(await concurrently(again.address.help, 'p2', 5)), ...(await concurrently(other.address.help, 'p2', 5))])).toBe(5);
  });

  it('keeps the global window across addresses', async () => {
    const limiters = fresh({ global: '3/1h' });
    const results = [];
    for (const key of ['a', 'b', 'c', 'd', 'e']) results.push((await checkLimits({ limiters, kind: 'help', addressKey: key })).ok);
    expect(results).toEqual([true, true, true, false, false]);
  });
});

describe('Redis store outages', () => {
  const started: RunningRedis[] = [];
  const stores: Store[] = [];

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(started.splice(0).map((r) => r.stop()));
  });

  it('limits in process memory while redis-server is killed, and in Redis again once it is back on the same port', async () => {
    const first = await startRedis();
    started.push(first);
    const logger = recordingLogger();
    const store = openStore({ kind: 'redis', url: first.url }, logger);
    stores.push(store);
    expect(await store.ready(5000)).toBe(true);
    const limiters = createLimiters(store, { address: '5/10m', prefix: `outage-${randomUUID()}`, logger, logIntervalMs: 200 });
    const check = (key: string) => checkLimits({ limiters, kind: 'help', addressKey: key });

    expect(allowed(await Promise.all(Array.from({ length: 6 }, async () => (await check('before')).ok)))).toBe(5);
    await first.kill();
    await expect.poll(() => logger.entries.some((e) => e.event === 'ratelimit.redis_down')).toBe(true);
    const during = [];
    for (let i = 0; i < 12; i++) during.push((await check('during')).ok);
    // Twelve in a row from one address: the window holds, in memory.
    expect(during).toEqual([true, true, true, true, true, false, false, false, false, false, false, false]);
    await expect.poll(() => logger.entries.filter((e) => e.event === 'ratelimit.store_failed').length).toBe(1);
    const failures = logger.entries.filter((e) => e.event === 'ratelimit.store_failed');
    // Each check asks the address window and, while it allows, the global one.
    expect(failures[0]).toMatchObject({ level: 'warn', data: { store: 'redis', count: 17 } });
    expect(JSON.stringify(logger.entries)).not.toMatch(/during|before/);
    expect(logger.entries.filter((e) => e.event === 'ratelimit.redis_down')).toHaveLength(1);

    const second = await startRedis({ port: first.port });
    started.push(second);
    expect(await store.ready(10_000)).toBe(true);
    expect(await sequentially(limiters.address.help, 'after', 10)).toEqual([true, true, true, true, true, false, false, false, false, false]);
    expect(logger.entries.some((e) => e.event === 'ratelimit.redis_up')).toBe(true);
  });

  it('limits in memory on a hung redis-server (connected, never answering) after the timeout', async () => {
    const redis = await startRedis();
    started.push(redis);
    const logger = recordingLogger();
    const store = openStore({ kind: 'redis', url: redis.url }, logger);
    stores.push(store);
    expect(await store.ready(5000)).toBe(true);
    const limiters = createLimiters(store, { address: '1/10m', timeoutMs: 300, prefix: `hung-${randomUUID()}` });
    redis.pause();
    try {
      expect(await checkLimits({ limiters, kind: 'help', addressKey: 'k' })).toEqual({ ok: true });
      expect(await checkLimits({ limiters, kind: 'help', addressKey: 'k' })).toMatchObject({ ok: false, scope: 'address' });
      expect(await checkRefusals(limiters, 'k')).toEqual({ ok: true });
    } finally {
      redis.resume();
    }
  });

  it('limits in memory on a store that accepts connections but never becomes ready', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const logger = recordingLogger();
    const adapter = createRedisAdapter(`redis://127.0.0.1:${port}`, { logger });
    stores.push({ kind: 'redis', client: adapter, ready: (t) => adapter.ready(t), close: () => adapter.close() });
    expect(await adapter.ready(300)).toBe(false);
    const limiters = createLimiters({ kind: 'redis', client: adapter, ready: (t) => adapter.ready(t), close: () => adapter.close() }, { address: '1/10m' });
    expect(await checkLimits({ limiters, kind: 'missing', addressKey: 'k' })).toEqual({ ok: true });
    expect(await checkLimits({ limiters, kind: 'missing', addressKey: 'k' })).toMatchObject({ ok: false });
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => silent.close(r));
  });
});
