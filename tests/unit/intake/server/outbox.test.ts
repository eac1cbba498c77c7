import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as openpgp from 'openpgp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptApplication } from '../../../../src/intake/server/encrypt.ts';
import { UnavailableError } from '../../../../src/intake/server/errors.ts';
import { createOutbox } from '../../../../src/intake/server/delivery/outbox.ts';
import type { Envelope } from '../../../../src/intake/server/types.ts';
import { eccKeyPair } from '../../../support/keys.ts';

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'outbox-test-'));
  dir = join(root, 'outbox');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const CRASH_BODY = `-----BEGIN PGP MESSAGE-----\n${'A'.repeat(4_000_000)}`;

/** Runs a process that keeps envelopes in `target` in a loop, and SIGKILLs it after `delay` ms. */
async function killWhileKeeping(target: string, delay: number): Promise<void> {
  const script = `
    const { createOutbox } = await import(${JSON.stringify(resolve('src/intake/server/delivery/outbox.ts'))});
    const outbox = createOutbox(${JSON.stringify(target)});
    const body = ${JSON.stringify('-----BEGIN PGP MESSAGE-----\n')} + 'A'.repeat(4_000_000);
    process.stdout.write('ready');
    for (let i = 0; ; i++) {
      // A real reference for each: the outbox takes no other (digits 2-9 only, no 0 or 1).
      const reference = 'CRSH-' + [...i.toString(8).padStart(4, '0')].map((d) => '23456789'[Number(d)]).join('');
      await outbox.keep({ reference, kind: 'help', createdAt: new Date().toISOString(), armored: body, attachments: [], attempts: 0 });
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((ready) => child.stdout.once('data', () => ready()));
  await new Promise((r) => setTimeout(r, delay));
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

function armored(size = 64): string {
  return `-----BEGIN PGP MESSAGE-----\n\n${randomBytes(size).toString('base64')}\n-----END PGP MESSAGE-----\n`;
}

function envelope(reference: string, createdAt = '2025-11-25T10:00:00.000Z', size = 64): Envelope {
  return {
    reference,
    kind: 'help',
    createdAt,
    armored: armored(size),
    attachments: [{ filename: `${reference}-1.pgp`, armored: armored() }],
    attempts: 0,
  };
}

describe('outbox', () => {
  it('keeps, lists oldest first, reads, updates and removes envelopes', async () => {
    const outbox = createOutbox(dir);
    expect(await outbox.list()).toEqual([]);
    const newest = envelope('CCCC-4444', '2025-11-25T12:00:00.000Z');
    const oldest = envelope('BBBB-3333', '2025-11-24T08:00:00.000Z');
    const middle = envelope('AAAA-2222', '2025-11-25T09:00:00.000Z');
    for (const e of [newest, oldest, middle]) await outbox.keep(e);
    expect(await outbox.list()).toEqual(['BBBB-3333', 'AAAA-2222', 'CCCC-4444']);
    expect(await outbox.read('AAAA-2222')).toEqual(middle);
    await outbox.update({ ...middle, attempts: 3 });
    expect((await outbox.read('AAAA-2222'))?.attempts).toBe(3);
    // An update keeps its place in the queue.
    expect(await outbox.list()).toEqual(['BBBB-3333', 'AAAA-2222', 'CCCC-4444']);
    await outbox.remove('AAAA-2222');
    await outbox.remove('AAAA-2222');
    expect(await outbox.read('AAAA-2222')).toBeNull();
    expect(await outbox.list()).toEqual(['BBBB-3333', 'CCCC-4444']);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'BBBB-3333.json'))).mode & 0o777).toBe(0o600);
  });

  it('never resurrects a removed envelope on update', async () => {
    const outbox = createOutbox(dir);
    const e = envelope('AWAY-2222');
    await outbox.keep(e);
    await outbox.remove(e.reference);
    await outbox.update({ ...e, attempts: 1 });
    expect(await outbox.list()).toEqual([]);
  });

  it('never overwrites a kept envelope with another of the same reference', async () => {
    const outbox = createOutbox(dir);
    const first = envelope('SAME-2222');
    await outbox.keep(first);
    await expect(outbox.keep(envelope('SAME-2222'))).rejects.toBeInstanceOf(UnavailableError);
    expect(await outbox.read('SAME-2222')).toEqual(first);
    expect(await readdir(dir)).toEqual(['SAME-2222.json']);
  });

  it('names files only after valid reference codes', async () => {
    const outbox = createOutbox(dir);
    await expect(outbox.keep(envelope('../../etc/x'))).rejects.toThrow();
    await expect(outbox.keep({ ...envelope('NEAT-2222'), reference: 'lower-case' })).rejects.toThrow();
    await expect(outbox.read('../outbox/X')).rejects.toThrow(TypeError);
    await expect(outbox.remove('A/B')).rejects.toThrow(TypeError);
    await writeFile(join(root, 'evil.json'), '{}');
    await outbox.keep(envelope('NEAT-2222'));
    await writeFile(join(dir, 'notes.txt'), 'ignored');
    expect(await outbox.list()).toEqual(['NEAT-2222']);
  });

  it('writes only ciphertext to disk', async () => {
    const pair = await eccKeyPair();
    const key = await openpgp.readKey({ armoredKey: pair.publicKey });
    const marker = 'Ольга держит паспорт у себя';
    const e = await encryptApplication(
      { reference: 'K7M2-PQ4X', kind: 'help', createdAt: new Date().toISOString(), text: marker, photos: [] },
      [key],
    );
    await createOutbox(dir).keep(e);
    const onDisk = await readFile(join(dir, 'K7M2-PQ4X.json'), 'utf8');
    expect(onDisk).toContain('-----BEGIN PGP MESSAGE-----');
    expect(onDisk).not.toContain(marker);
    expect(onDisk).not.toContain(Buffer.from(marker).toString('base64').slice(0, 12));
  });

  it('throws UnavailableError when the directory can not be written (even as root)', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'not a directory');
    const outbox = createOutbox(join(file, 'outbox'));
    const error = await outbox.keep(envelope('BUST-2222')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).status).toBe(503);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ENOTDIR');
  });

  it('ignores temp files, and cleans those older than an hour', async () => {
    const outbox = createOutbox(dir);
    await outbox.keep(envelope('KEPT-2222'));
    const stale = join(dir, '.AGED-2222.0123456789ab.tmp');
    const fresh = join(dir, '.NEWR-2222.0123456789ab.tmp');
    await writeFile(stale, '{"partial":');
    await writeFile(fresh, '{"partial":');
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    expect(await outbox.list()).toEqual(['KEPT-2222']);
    expect((await readdir(dir)).sort()).toEqual(['.NEWR-2222.0123456789ab.tmp', 'KEPT-2222.json']);
  });

  it('never shows a partial file to a reader while a large envelope is written', async () => {
    const outbox = createOutbox(dir);
    const big = envelope('HUGE-2222', '2025-11-25T10:00:00.000Z', 8_000_000);
    let writing = true;
    const reader = (async () => {
      while (writing) {
        const found = await outbox.read('HUGE-2222');
        if (found !== null) {
          expect(found.armored).toBe(big.armored);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    await outbox.keep(big);
    writing = false;
    await reader;
    expect((await outbox.read('HUGE-2222'))?.armored).toBe(big.armored);
  });

  it('leaves only complete envelopes when the writing process is killed mid-write', async () => {
    // Several kills at different moments: one may land between writes, three rarely all do.
    for (const [round, delay] of [250, 400, 550].entries()) {
      const target = join(root, `crash-${round}`);
      await killWhileKeeping(target, delay);
      const outbox = createOutbox(target);
      const references = await outbox.list();
      expect(references.length).toBeGreaterThan(0);
      for (const reference of references) {
        expect((await outbox.read(reference))?.armored).toBe(CRASH_BODY);
      }
      const names = await readdir(target);
      expect(names.filter((n) => !n.endsWith('.json')).every((n) => /^\.CRSH-\d{4}\.[0-9a-f]{12}\.tmp$/.test(n))).toBe(true);
    }
  });
});
