import { mkdtempSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisAdapter, type RedisAdapter } from '../../../../src/intake/server/store/redis.ts';
import { isReference } from '../../../../src/intake/contract/reference.ts';
import { checkTicket, issueReference, TICKET_TTL_MS } from '../../../../src/intake/server/ticket.ts';
import {
  createFileUsedReferences,
  createStoreUsedReferences,
  digestOf,
  pruneUsedReferences,
  RECORD_TTL_MS,
  resilientUsedReferences,
  type UsedReferences,
} from '../../../../src/intake/server/used-references.ts';
import { startRedis, type RunningRedis } from '../../../support/redis.ts';

const SECRET = 'a'.repeat(16) + 'b'.repeat(16) + 'c'.repeat(16);

describe('reference tickets', () => {
  it('sign a fresh reference that only this secret, for this code, within a day, accepts', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    const { reference, ticket } = issueReference(SECRET, now);
    expect(isReference(reference)).toBe(true);
    expect(ticket.length).toBeLessThanOrEqual(40);
    expect(checkTicket(SECRET, reference, ticket, now)).toBe(true);
    expect(checkTicket(SECRET, reference, ticket, now + TICKET_TTL_MS - 1000)).toBe(true);
    expect(checkTicket(SECRET, reference, ticket, now + TICKET_TTL_MS + 1000)).toBe(false);
    expect(checkTicket(`${SECRET}x`, reference, ticket, now)).toBe(false);
    expect(checkTicket(SECRET, issueReference(SECRET, now).reference, ticket, now)).toBe(false);
    // A ticket dated in the future (a forged time) is no ticket.
    const [issued, mac] = ticket.split('.') as [string, string];
    const later = (Number.parseInt(issued, 36) + 3600).toString(36);
    expect(checkTicket(SECRET, reference, `${later}.${mac}`, now)).toBe(false);
    for (const junk of ['', '.', 'x'.repeat(64), `${issued}.${'A'.repeat(22)}`, `${issued}.${mac}=`]) {
      expect(checkTicket(SECRET, reference, junk, now), junk).toBe(false);
    }
  });
});

/** The contract every record store keeps; run against the files and against a real Redis. */
function contract(make: () => UsedReferences) {
  it('claims a code for one application: the same one again is `same`, then `kept`; another is `taken`', async () => {
    const records = make();
    const [a, b] = [digestOf(['ciphertext a']), digestOf(['ciphertext b'])];
    expect(await records.claim('K7M2-PQ4X', a)).toBe('new');
    expect(await records.claim('K7M2-PQ4X', a)).toBe('same');
    expect(await records.claim('K7M2-PQ4X', b)).toBe('taken');
    await records.markKept('K7M2-PQ4X', b);
    expect(await records.claim('K7M2-PQ4X', a)).toBe('same');
    await records.markKept('K7M2-PQ4X', a);
    expect(await records.claim('K7M2-PQ4X', a)).toBe('kept');
    expect(await records.claim('K7M2-PQ4X', b)).toBe('taken');
    // Released only by its own application, and only before it is kept.
    await records.release('K7M2-PQ4X', b);
    await records.release('K7M2-PQ4X', a);
    expect(await records.claim('K7M2-PQ4X', b)).toBe('taken');
    expect(await records.claim('AAAA-BBBB', b)).toBe('new');
    await records.release('AAAA-BBBB', b);
    expect(await records.claim('AAAA-BBBB', a)).toBe('new');
  });

  it('lets exactly one of many concurrent claims of a code win', async () => {
    const records = make();
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => records.claim('RACE-CASE', digestOf([`c${i}`]))));
    expect(claims.filter((c) => c === 'new')).toHaveLength(1);
    expect(claims.filter((c) => c === 'taken')).toHaveLength(19);
  });
}

describe('used references in files (embedded default)', () => {
  let dir = '';
  contract(() => {
    dir = mkdtempSync(join(tmpdir(), 'refs-'));
    return createFileUsedReferences(dir, SECRET);
  });

  it('hold no reference in the clear, survive a new instance, and are pruned after their time', async () => {
    const path = mkdtempSync(join(tmpdir(), 'refs-'));
    await createFileUsedReferences(path, SECRET).claim('K7M2-PQ4X', digestOf(['x']));
    expect(await createFileUsedReferences(path, SECRET).claim('K7M2-PQ4X', digestOf(['y']))).toBe('taken');
    const names = readdirSync(path);
    expect(names.join()).not.toContain('K7M2');
    expect(readFileSync(join(path, names[0]!), 'utf8')).not.toContain('K7M2');
    expect(await pruneUsedReferences(path)).toBe(0);
    const old = new Date(Date.now() - RECORD_TTL_MS - 60_000);
    utimesSync(join(path, names[0]!), old, old);
    expect(await pruneUsedReferences(path)).toBe(1);
    expect(await createFileUsedReferences(path, SECRET).claim('K7M2-PQ4X', digestOf(['y']))).toBe('new');
  });
});

describe('used references in Redis (real redis-server)', () => {
  let redis: RunningRedis;
  let adapter: RedisAdapter;
  beforeAll(async () => {
    redis = await startRedis();
    adapter = createRedisAdapter(redis.url);
    expect(await adapter.ready(5000)).toBe(true);
  });
  afterAll(async () => {
    await adapter.close();
    await redis.stop();
  });

  contract(() => createStoreUsedReferences(adapter, SECRET, `test-${Math.random().toString(36).slice(2)}`));

  it('keep HMACs of the codes, with an expiry past the provider\'s idempotency window', async () => {
    const records = createStoreUsedReferences(adapter, SECRET, 'ttl');
    await records.claim('K7M2-PQ4X', digestOf(['x']));
    const raw = new Redis(redis.url);
    try {
      const keys = await raw.keys('ttl:*');
      expect(keys).toHaveLength(1);
      expect(keys[0]).not.toContain('K7M2');
      const ttl = await raw.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(RECORD_TTL_MS - 60_000);
      expect(ttl).toBeGreaterThan(2 * 24 * 60 * 60 * 1000);
    } finally {
      raw.disconnect();
    }
  });

  it('fall back to the files while the store is down, and say so', async () => {
    const down = await startRedis();
    const client = createRedisAdapter(down.url);
    expect(await client.ready(5000)).toBe(true);
    await down.kill();
    let failures = 0;
    const files = createFileUsedReferences(mkdtempSync(join(tmpdir(), 'refs-')), SECRET);
    const records = resilientUsedReferences(createStoreUsedReferences(client, SECRET), files, () => failures++);
    expect(await records.claim('DEAD-CASE', digestOf(['a']))).toBe('new');
    expect(await records.claim('DEAD-CASE', digestOf(['b']))).toBe('taken');
    expect(failures).toBe(2);
    await client.close();
  });
});
