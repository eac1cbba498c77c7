import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createCountedEvent, createLogger, createMemoryLogger } from '../../../../src/intake/server/logger.ts';

const CONTENT = 'Меня держат на ферме, телефон +7 900 000-00-00';

describe('logger', () => {
  it('writes one JSON line per event with time, level and event', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
    const logger = createLogger(stream);
    logger.info('delivery.sent', { reference: 'K7M2-PQ4X', kind: 'help', duration_ms: 12.7, attempts: 1 });
    logger.error('outbox_unavailable', { error: 'ENOTDIR' });
    const lines = chunks.join('').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    const first = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(first).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      level: 'info',
      event: 'delivery.sent',
      reference: 'K7M2-PQ4X',
      kind: 'help',
      duration_ms: 13,
      attempts: 1,
    });
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({ level: 'error', error: 'ENOTDIR' });
  });

  it('drops keys that are not whitelisted, and counts them', () => {
    const logger = createMemoryLogger();
    logger.warn('delivery.failed', { reference: 'K7M2-PQ4X', text: CONTENT, fields: { name: CONTENT }, email: 'a@b.org' });
    expect(logger.lines.join('\n')).not.toContain('ферме');
    expect(logger.lines.join('\n')).not.toContain('a@b.org');
    expect(logger.entries()[0]).toMatchObject({ event: 'delivery.failed', reference: 'K7M2-PQ4X', dropped: 3 });
  });

  it('drops whitelisted keys whose values do not have the expected shape', () => {
    const logger = createMemoryLogger();
    logger.info('x', {
      reference: CONTENT,
      references: ['K7M2-PQ4X', CONTENT],
      kind: CONTENT,
      count: CONTENT,
      store: CONTENT,
      fingerprints: ['ABCDEF0123456789ABCDEF0123456789ABCDEF01', CONTENT],
    });
    const entry = logger.entries()[0];
    expect(logger.lines[0]).not.toContain('ферме');
    expect(entry).toMatchObject({ references: ['K7M2-PQ4X'], fingerprints: ['ABCDEF0123456789ABCDEF0123456789ABCDEF01'], dropped: 4 });
  });

  it('keeps free-text errors short and on one line', () => {
    const logger = createMemoryLogger();
    logger.warn('delivery.failed', { error: `first line\nsecond ${'x'.repeat(500)}` });
    const error = logger.entries()[0]?.['error'] as string;
    expect(error).not.toContain('\n');
    expect(error.length).toBeLessThanOrEqual(201);
  });

  it('refuses an event name that is not a code', () => {
    const logger = createMemoryLogger();
    logger.info(CONTENT);
    expect(logger.entries()[0]?.['event']).toBe('invalid_event_name');
  });
});

describe('counted events', () => {
  it('writes one line with the count per interval, not one per event', async () => {
    const logger = createMemoryLogger();
    const count = createCountedEvent(logger, 'application.refused', { intervalMs: 50 });
    for (let i = 0; i < 1000; i++) count();
    expect(logger.lines).toEqual([]);
    await expect.poll(() => logger.entries().map((e) => [e['event'], e['count']])).toEqual([['application.refused', 1000]]);
    count();
    await expect.poll(() => logger.entries().map((e) => e['count'])).toEqual([1000, 1]);
  });

  it('keeps kinds of data apart, at the level asked for, and never more groups than its cap', async () => {
    const logger = createMemoryLogger();
    const count = createCountedEvent(logger, 'application.refused', { intervalMs: 50, level: 'warn' });
    for (let i = 0; i < 3; i++) count({ error: 'validation', status: 400 });
    count({ error: 'too_large', status: 413 });
    // Values the logger would not keep do not make groups of their own.
    for (let i = 0; i < 100; i++) count({ error: 'validation', status: 400, message: `content ${i}` });
    for (let i = 0; i < 100; i++) count({ error: `code_${i}` });
    await expect.poll(() => logger.entries().length).toBeGreaterThan(0);
    const entries = logger.entries();
    expect(entries.length).toBeLessThanOrEqual(32);
    expect(entries.every((e) => e['level'] === 'warn')).toBe(true);
    expect(entries.find((e) => e['error'] === 'validation')).toMatchObject({ count: 103, status: 400 });
    expect(entries.find((e) => e['error'] === 'too_large')).toMatchObject({ count: 1 });
    expect(entries.reduce((n, e) => n + (e['count'] as number), 0)).toBe(204);
    expect(JSON.stringify(entries)).not.toContain('content');
  });
});
