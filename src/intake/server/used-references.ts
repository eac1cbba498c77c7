/**
 * The record of references in use: a reference names exactly one application. Each record maps
 * an HMAC of the reference (the store never holds the codes themselves) to a digest of the
 * application's ciphertext, so an exact retry of the same post (the island's, after a lost
 * answer) is told apart from a different application under a code already used.
 *
 * Records live in the store the limits use when one is configured (Upstash or Redis: shared by
 * every instance), else as small files beside the outbox (embedded default: they survive
 * restarts). They are kept {@link RECORD_TTL_MS}: far longer than a ticket lives and than the
 * mail provider remembers an idempotency key (Resend: 24 h).
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { withTimeout } from './timeout.ts';
import type { ScriptRunner } from './store/redis.ts';

export const RECORD_TTL_MS = 90 * 24 * 60 * 60 * 1000;

/**
 * What the record says of a reference and a digest: `new` (now claimed for it), `same` (claimed
 * for this very application, not yet kept), `kept` (this very application is kept: nothing to
 * do), `taken` (another application has it).
 */
export type Claim = 'new' | 'same' | 'kept' | 'taken';

export interface UsedReferences {
  /** Claims `reference` for the application with `digest`, or says who has it. */
  claim(reference: string, digest: string): Promise<Claim>;
  /** The application with `digest` is in the outbox now. */
  markKept(reference: string, digest: string): Promise<void>;
  /** Gives up a claim whose application could not be kept (only if it is still this one's). */
  release(reference: string, digest: string): Promise<void>;
}

/** A short digest of a ciphertext and its attachments: equal only for the very same post. */
export function digestOf(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:`).update(part);
  return hash.digest('base64url').slice(0, 32);
}

const KEPT = ':kept';
const PURPOSE = 'alternativa used reference v1';

function recordName(secret: string, reference: string): string {
  return createHmac('sha256', secret).update(`${PURPOSE}\u0000${reference}`).digest('hex').slice(0, 40);
}

function claimOf(value: string | null, digest: string): Claim {
  if (value === null) return 'new';
  if (value === digest) return 'same';
  if (value === `${digest}${KEPT}`) return 'kept';
  return 'taken';
}

// One round trip each, atomic in the store. Plain Redis and Upstash both run these.
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;
const MARK_KEPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1] .. ARGV[3], 'PX', ARGV[2]) end
return 1`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

/** Records in Redis or Upstash (anything that runs Lua scripts), keys under `prefix`. */
export function createStoreUsedReferences(runner: ScriptRunner, secret: string, prefix = 'intake'): UsedReferences {
  const key = (reference: string) => [`${prefix}:reference:${recordName(secret, reference)}`];
  const ttl = String(RECORD_TTL_MS);
  return {
    async claim(reference, digest) {
      const value = await runner.eval(CLAIM, key(reference), [digest, ttl]);
      return claimOf(typeof value === 'string' ? value : null, digest);
    },
    async markKept(reference, digest) {
      await runner.eval(MARK_KEPT, key(reference), [digest, ttl, KEPT]);
    },
    async release(reference, digest) {
      await runner.eval(RELEASE, key(reference), [digest]);
    },
  };
}

/**
 * Records as files in `dir`, one per reference, created exclusively (so two processes on one
 * disk can not both claim a code) and replaced atomically. Records older than the TTL are
 * removed by {@link pruneUsedReferences}.
 */
export function createFileUsedReferences(dir: string, secret: string): UsedReferences {
  const pathOf = (reference: string) => join(dir, recordName(secret, reference));
  const read = async (path: string) => readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  return {
    async claim(reference, digest) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const path = pathOf(reference);
      try {
        // Not fsync'd: the outbox file, written and fsync'd next, is what must survive a power
        // cut. A record lost with it would only let the ticket's own holder use the code again.
        const handle = await open(path, 'wx', 0o600);
        try {
          await handle.writeFile(digest);
        } finally {
          await handle.close();
        }
        return 'new';
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      return claimOf(await read(path), digest);
    },
    async markKept(reference, digest) {
      const path = pathOf(reference);
      if ((await read(path)) !== digest) return;
      const temp = `${path}.tmp`;
      await open(temp, 'w', 0o600).then(async (handle) => {
        await handle.writeFile(`${digest}${KEPT}`).finally(() => handle.close());
      });
      await rename(temp, path);
    },
    async release(reference, digest) {
      const path = pathOf(reference);
      if ((await read(path)) === digest) await unlink(path).catch(() => undefined);
    },
  };
}

/** Removes file records past the TTL; returns how many. */
export async function pruneUsedReferences(dir: string, now = Date.now()): Promise<number> {
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (info !== null && now - info.mtimeMs > RECORD_TTL_MS) {
      await unlink(path).catch(() => undefined);
      removed += 1;
    }
  }
  return removed;
}

/** How long the store may take before the files stand in for it. */
const STORE_TIMEOUT_MS = 1000;

/**
 * The store's records, with `fallback` (the files) standing in whenever the store fails or is
 * slow: help is still accepted, and codes claimed meanwhile are still refused to others on
 * this machine.
 */
export function resilientUsedReferences(store: UsedReferences, fallback: UsedReferences, failed: () => void): UsedReferences {
  const either = <A extends unknown[], R>(run: (records: UsedReferences) => (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await withTimeout(run(store)(...args), STORE_TIMEOUT_MS);
      } catch {
        failed();
        return run(fallback)(...args);
      }
    };
  return {
    claim: either((r) => r.claim),
    markKept: either((r) => r.markKept),
    release: either((r) => r.release),
  };
}
