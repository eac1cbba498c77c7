/**
 * The outbox in Redis (`OUTBOX_STORE=redis`), shared by every instance: each kept application is
 * one entry of a stream, and the instances are the consumers of one consumer group. Redis itself
 * records who holds an entry (the group's pending entries list) and hands over what an instance
 * left idle (XAUTOCLAIM), so there is no lease of our own to get wrong. The ciphertext lives
 * beside the stream, one key per part, so no request carries more than one part (Upstash: 10 MB
 * per request, see MAX_PART_BYTES).
 *
 * Keys under `prefix` (`intake:outbox` unless told):
 *   <prefix>:stream                    one entry `{ ref }` per application waiting; group `couriers`
 *   <prefix>:head:<REF>                hash: reference, kind, createdAt, attempts, dueAt, entry, keep, names
 *   <prefix>:part:<REF>:<keep>:<i>     the armored report (0), then each attachment (1..)
 *   <prefix>:dead                      entries `{ ref, entry, reason }` of envelopes that could not be read
 *   <prefix>:probe:<consumer>          written by `probe()` (GET /healthz), expires after a minute
 *
 * Every reply is parsed with zod before it is used: what comes back from a store is input.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { TooLargeError, UnavailableError } from '../errors.ts';
import { kinds } from '../../contract/kinds.ts';
import { ATTACHMENT_NAME } from '../../contract/pgp.ts';
import { MAX_PHOTOS } from '../../contract/fields.ts';
import { isReference, REFERENCE } from '../../contract/reference.ts';
import type { Envelope } from '../types.ts';
import { envelopeSchema, type Outbox } from './outbox.ts';

/**
 * Upstash's documented limit on one request, "10MB" for Free and Pay-as-you-go databases
 * (https://upstash.com/docs/redis/troubleshooting/max_request_size_exceeded), read as 10^7
 * bytes to be safe; a record (one key) may hold 100 MB
 * (https://upstash.com/docs/redis/troubleshooting/max_record_size_exceeded).
 */
export const UPSTASH_MAX_REQUEST_BYTES = 10_000_000;
/**
 * The largest part written in one request. A photo at the cap, encrypted and armored, is about
 * 7.2 MB (MAX_SEALED_PHOTO_BYTES × 4/3 plus line breaks): it fits with room for the command.
 */
export const MAX_PART_BYTES = 8 * 1024 * 1024;
/**
 * Parts are written before the entry that makes them an application, with this expiry: a keep
 * cut short (Redis gone mid-way, the process killed) leaves nothing that lasts. The commit
 * removes the expiry in the same step that adds the entry.
 */
const PART_TTL_MS = 60 * 60 * 1000;
/** `list()` returns at most this many references: the stream is never read whole. */
const LIST_MAX = 1000;
/** Consumers holding nothing and silent this long are old processes: dropped from the group. */
const CONSUMER_GONE_MS = 24 * 60 * 60 * 1000;
const GROUP = 'couriers';

/** An envelope in Redis that can not be read back (a part missing, a field malformed). */
export class UnreadableEnvelopeError extends Error {
  override name = 'UnreadableEnvelopeError';
}

/** A stream entry taken by this consumer; `reference` is null when the entry itself is malformed. */
export interface StreamEntry {
  id: string;
  reference: string | null;
}

/** What the head record says of a kept envelope, without reading its parts. */
export interface EnvelopeStatus {
  /** The stream entry that carries it. */
  entry: string;
  /** Unix ms before which it is not tried again (0: at once). */
  dueAt: number;
  attempts: number;
}

/** The outbox over a Redis stream, with what its delivery loop needs besides the Outbox calls. */
export interface StreamOutbox extends Outbox {
  /** This process's name in the consumer group. */
  readonly consumer: string;
  /** An entry its consumer has not touched for this long is taken over by another. */
  readonly claimIdleMs: number;
  holds(reference: string): Promise<boolean>;
  /**
   * Entries for this consumer: up to `count` that any consumer left idle past `claimIdleMs`
   * (a dead instance's, or failed ones waiting for their retry), then up to `count` that were
   * never handed out. Each is held by this consumer until delivered or left idle in its turn.
   */
  take(count: number): Promise<StreamEntry[]>;
  /** The head record of `reference`, or null when it has left. */
  status(reference: string): Promise<EnvelopeStatus | null>;
  /** Drops an entry that carries nothing (left) to deliver. */
  forget(id: string): Promise<void>;
  /** Moves the entry of an unreadable envelope to the dead letters; its keys stay for an operator. */
  bury(id: string, reference: string | null, reason: string): Promise<void>;
  /** Applications waiting, and dead letters. */
  counts(): Promise<{ waiting: number; dead: number }>;
  /**
   * Makes entries this consumer holds claimable by any consumer now: `ids` (those a round did
   * not reach), or all it holds (on a clean stop). Returns how many it let go.
   */
  release(ids?: string[]): Promise<number>;
  /** Removes consumers that hold nothing and have been silent a day (processes long gone). */
  prune(): Promise<number>;
  /** Creates the stream and its group if they are missing. */
  ensureGroup(): Promise<void>;
  /**
   * Writes a small key of this consumer's, as keeping writes the parts: throws when Redis would
   * not take a write now (down, out of memory, read-only). For GET /healthz.
   */
  probe(): Promise<void>;
}

export interface StreamOutboxOptions {
  /** A connection of the outbox's own: large parts must not queue the limiters' commands behind them. */
  client: Redis;
  claimIdleMs: number;
  consumer?: string;
  prefix?: string;
  /** When an envelope with this many failed attempts is tried again (Unix ms); at once by default. */
  retryAt?: (attempts: number) => number;
}

const streamId = z.string().regex(/^\d{1,20}-\d{1,20}$/);
// Counts up to 9 digits, times in ms up to 15 (both far past anything real).
const countField = z.string().regex(/^\d{1,9}$/).transform(Number);
const timeField = z.string().regex(/^\d{1,15}$/).transform(Number);
const fieldList = z.array(z.string()).max(64);

const namesSchema = z
  .string()
  .max(1024)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'names are not JSON' });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.string().regex(ATTACHMENT_NAME)).max(MAX_PHOTOS));

const headSchema = z.strictObject({
  reference: z.string().regex(REFERENCE),
  kind: z.enum(kinds),
  createdAt: z.iso.datetime({ offset: true }),
  attempts: countField,
  dueAt: timeField,
  entry: streamId,
  keep: z.string().regex(/^[0-9a-f]{16}$/),
  names: namesSchema,
});

const statusSchema = z.tuple([streamId, timeField, countField]);
const entrySchema = z.tuple([streamId, fieldList.nullable()]);
// Redis 7 answers [cursor, entries, deleted ids]; 6.2 has no third part and may list deleted entries as nil.
const autoclaimSchema = z.tuple([streamId, z.array(entrySchema.nullable()).max(1000)], z.unknown());
const readGroupSchema = z.array(z.tuple([z.string(), z.array(entrySchema).max(1000)])).max(1).nullable();
const commitSchema = z.union([
  z.tuple([z.literal('kept'), streamId, z.union([z.literal(0), z.literal(1)])]),
  z.tuple([z.enum(['exists', 'lost'])]),
]);
const pendingSchema = z.array(z.tuple([streamId, z.string(), z.number(), z.number()])).max(1000);
const consumersSchema = z.array(z.array(z.union([z.string(), z.number()])).max(16)).max(100_000);

// Commit: the head and the stream entry appear together or not at all, the parts lose their
// expiry in the same step, and the entry is handed at once to this instance's consumer, so the
// instance that tells the applicant "received" is the one that mails it (if it dies, its
// pending entry is taken over). The group is created here too if an operator removed it, from
// 0, so nothing already in the stream is skipped.
// KEYS: head, stream, parts...  ARGV: group, consumer, reference, kind, createdAt, attempts, keep, names
const COMMIT = `if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
for i = 3, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then return {'lost'} end
end
for i = 3, #KEYS do redis.call('PERSIST', KEYS[i]) end
redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM')
local id = redis.call('XADD', KEYS[2], '*', 'ref', ARGV[3])
redis.call('HSET', KEYS[1], 'reference', ARGV[3], 'kind', ARGV[4], 'createdAt', ARGV[5], 'attempts', ARGV[6],
  'dueAt', '0', 'entry', id, 'keep', ARGV[7], 'names', ARGV[8])
local read = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', '1', 'STREAMS', KEYS[2], '>')
local got = read and read[1][2][1] and read[1][2][1][1]
if got == id then return {'kept', id, 1} end
return {'kept', id, 0}`;

// Hold: true only while the entry is pending for this consumer; it then restarts the entry's
// idle clock (XCLAIM by its own holder), so no one takes it over during the send that follows.
// KEYS: head, stream  ARGV: group, consumer
const HOLD = `local entry = redis.call('HGET', KEYS[1], 'entry')
if not entry then return 0 end
local pending = redis.call('XPENDING', KEYS[2], ARGV[1], entry, entry, 1)
if not pending[1] or pending[1][2] ~= ARGV[2] then return 0 end
redis.call('XCLAIM', KEYS[2], ARGV[1], ARGV[2], 0, entry, 'JUSTID')
return 1`;

// Delivered: entry acknowledged and deleted, head and parts gone, in one step. Checks the head
// is still the one the caller read (keep), so it never removes another application.
// KEYS: head, stream, parts...  ARGV: group, entry, keep
const SETTLE = `if redis.call('HGET', KEYS[1], 'keep') ~= ARGV[3] then return 0 end
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
redis.call('DEL', KEYS[1])
return 1`;

// Failed: attempts and the time of the next try, together; nothing if it has left meanwhile.
// KEYS: head  ARGV: attempts, dueAt
const FAILED = `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'attempts', ARGV[1], 'dueAt', ARGV[2])
return 1`;

// Let go: only entries still pending for this consumer, made idle past the claim time so the
// next XAUTOCLAIM of any instance takes them.
// KEYS: stream  ARGV: group, consumer, idle, ids...
const RELEASE = `local released = 0
for i = 4, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if pending[1] and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
    released = released + 1
  end
end
return released`;

// KEYS: stream, dead  ARGV: group, entry, reference, reason
const BURY = `redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('XADD', KEYS[2], '*', 'ref', ARGV[3], 'entry', ARGV[2], 'reason', ARGV[4])
return 1`;

/** `host:pid:random`: unique per process, so a new process never inherits what an old one held. */
function defaultConsumer(): string {
  return `${hostname().slice(0, 40)}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

function unavailable(cause: unknown): UnavailableError {
  const error = new UnavailableError();
  error.cause = cause;
  return error;
}

/** A reference already in the outbox: the pipeline tells an exact retry from a collision by this code. */
function collision(): Error {
  return Object.assign(new Error('reference already in the outbox'), { code: 'EEXIST' });
}

function toRecord(flat: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]!] = flat[i + 1]!;
  return record;
}

function entryOf([id, fields]: z.output<typeof entrySchema>): StreamEntry {
  const reference = fields?.length === 2 && fields[0] === 'ref' && isReference(fields[1]!) ? fields[1]! : null;
  return { id, reference };
}

const isNoGroup = (error: unknown) => error instanceof Error && error.message.startsWith('NOGROUP');

/** The outbox in the Redis behind `client`. */
export function createStreamOutbox(options: StreamOutboxOptions): StreamOutbox {
  const { client, claimIdleMs, consumer = defaultConsumer(), prefix = 'intake:outbox', retryAt = () => 0 } = options;
  const stream = `${prefix}:stream`;
  const dead = `${prefix}:dead`;
  const headKey = (reference: string) => {
    if (!isReference(reference)) throw new TypeError('not a reference code');
    return `${prefix}:head:${reference}`;
  };
  const partKeys = (reference: string, keep: string, attachments: number) =>
    Array.from({ length: attachments + 1 }, (_, i) => `${prefix}:part:${reference}:${keep}:${i}`);
  const run = (script: string, keys: string[], args: (string | number)[]) => client.eval(script, keys.length, ...keys, ...args);
  // XAUTOCLAIM walks the pending entries like SCAN: each round goes on where the last stopped.
  let cursor = '0-0';

  async function ensureGroup(): Promise<void> {
    try {
      await client.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
    }
  }

  async function keep(envelope: Envelope): Promise<void> {
    const checked = envelopeSchema.parse(envelope);
    const parts = [checked.armored, ...checked.attachments.map((a) => a.armored)];
    // Never the case for what the pipeline accepts (a photo at the cap is ~7.2 MB armored): a
    // clear refusal rather than a request the store would reject half-way.
    if (parts.some((part) => Buffer.byteLength(part) > MAX_PART_BYTES)) throw new TooLargeError();
    const id = randomBytes(8).toString('hex');
    const keys = partKeys(checked.reference, id, checked.attachments.length);
    const names = JSON.stringify(checked.attachments.map((a) => a.filename));
    try {
      // One part per request, in turn: no request is larger than one part.
      for (const [i, part] of parts.entries()) await client.call('SET', keys[i]!, part, 'PX', String(PART_TTL_MS));
    } catch (error) {
      await client.call('DEL', ...keys).catch(() => undefined);
      throw unavailable(error);
    }
    let reply: z.output<typeof commitSchema>;
    try {
      const args = [GROUP, consumer, checked.reference, checked.kind, checked.createdAt, checked.attempts, id, names];
      reply = commitSchema.parse(await run(COMMIT, [headKey(checked.reference), stream, ...keys], args));
    } catch (error) {
      // The commit may have run with its answer lost: its parts are then the application's, so
      // they are not deleted here; if it did not run, they expire (PART_TTL_MS).
      throw unavailable(error);
    }
    if (reply[0] !== 'kept') {
      await client.call('DEL', ...keys).catch(() => undefined);
      throw unavailable(reply[0] === 'exists' ? collision() : new Error('a part expired before the commit'));
    }
  }

  async function head(reference: string): Promise<z.output<typeof headSchema> | null> {
    const flat = fieldList.parse(await client.call('HGETALL', headKey(reference)));
    if (flat.length === 0) return null;
    const parsed = headSchema.safeParse(toRecord(flat));
    if (!parsed.success || parsed.data.reference !== reference) throw new UnreadableEnvelopeError('head');
    return parsed.data;
  }

  async function read(reference: string): Promise<Envelope | null> {
    const found = await head(reference);
    if (found === null) return null;
    const values: string[] = [];
    // One part per request: a reply carries one part too.
    for (const key of partKeys(reference, found.keep, found.names.length)) {
      const value = z.string().nullable().parse(await client.call('GET', key));
      if (value === null) {
        // Delivered and removed by another instance between the head and this part: gone, not broken.
        const again = await head(reference);
        if (again === null || again.keep !== found.keep) return null;
        throw new UnreadableEnvelopeError('part');
      }
      values.push(value);
    }
    const [armored, ...attached] = values;
    const parsed = envelopeSchema.safeParse({
      reference,
      kind: found.kind,
      createdAt: found.createdAt,
      armored,
      attachments: found.names.map((filename, i) => ({ filename, armored: attached[i] })),
      attempts: found.attempts,
    });
    if (!parsed.success) throw new UnreadableEnvelopeError('envelope');
    return parsed.data;
  }

  async function update(envelope: Envelope): Promise<void> {
    const { reference, attempts } = envelopeSchema.parse(envelope);
    await run(FAILED, [headKey(reference)], [attempts, Math.max(0, Math.round(retryAt(attempts)))]);
  }

  async function remove(reference: string): Promise<void> {
    const nullable = z.string().nullable();
    const [entry, keepId, names] = z.tuple([nullable, nullable, nullable]).parse(await client.call('HMGET', headKey(reference), 'entry', 'keep', 'names'));
    if (entry === null || keepId === null || names === null) return;
    const attachments = namesSchema.safeParse(names);
    const keys = partKeys(reference, keepId, attachments.success ? attachments.data.length : MAX_PHOTOS);
    await run(SETTLE, [headKey(reference), stream, ...keys], [GROUP, entry, keepId]);
  }

  async function holds(reference: string): Promise<boolean> {
    return z.union([z.literal(0), z.literal(1)]).parse(await run(HOLD, [headKey(reference), stream], [GROUP, consumer])) === 1;
  }

  async function take(count: number): Promise<StreamEntry[]> {
    const n = String(count);
    try {
      const [next, claimed] = autoclaimSchema.parse(await client.call('XAUTOCLAIM', stream, GROUP, consumer, String(claimIdleMs), cursor, 'COUNT', n));
      cursor = next;
      const fresh = readGroupSchema.parse(await client.call('XREADGROUP', 'GROUP', GROUP, consumer, 'COUNT', n, 'STREAMS', stream, '>'));
      const entries = [...claimed.filter((e) => e !== null), ...(fresh?.[0]?.[1] ?? [])];
      // An entry deleted after it was handed out has no fields: it was settled, nothing to do.
      return entries.filter(([, fields]) => fields !== null).map(entryOf);
    } catch (error) {
      if (!isNoGroup(error)) throw error;
      await ensureGroup();
      return [];
    }
  }

  async function status(reference: string): Promise<EnvelopeStatus | null> {
    const fields = z.array(z.string().nullable()).length(3).parse(await client.call('HMGET', headKey(reference), 'entry', 'dueAt', 'attempts'));
    if (fields.every((f) => f === null)) return null;
    const parsed = statusSchema.safeParse(fields);
    if (!parsed.success) throw new UnreadableEnvelopeError('head');
    const [entry, dueAt, attempts] = parsed.data;
    return { entry, dueAt, attempts };
  }

  async function forget(id: string): Promise<void> {
    await client.call('XACK', stream, GROUP, streamId.parse(id));
    await client.call('XDEL', stream, id);
  }

  async function bury(id: string, reference: string | null, reason: string): Promise<void> {
    await run(BURY, [stream, dead], [GROUP, streamId.parse(id), reference ?? '', reason]);
  }

  async function counts(): Promise<{ waiting: number; dead: number }> {
    const waiting = z.number().parse(await client.call('XLEN', stream));
    return { waiting, dead: z.number().parse(await client.call('XLEN', dead)) };
  }

  async function release(ids?: string[]): Promise<number> {
    const held = ids ?? pendingSchema.parse(await client.call('XPENDING', stream, GROUP, '-', '+', '100', consumer)).map(([id]) => id);
    if (held.length === 0) return 0;
    const checked = z.array(streamId).max(100).parse(held);
    return z.number().parse(await run(RELEASE, [stream], [GROUP, consumer, claimIdleMs + 1000, ...checked]));
  }

  async function prune(): Promise<number> {
    const consumers = consumersSchema.parse(await client.call('XINFO', 'CONSUMERS', stream, GROUP));
    // Only consumers that hold nothing: deleting one that holds entries would strand them.
    const gone = consumers
      .map((flat) => toRecord(flat.map(String)))
      .filter((c) => c['name'] !== undefined && c['name'] !== consumer && c['pending'] === '0' && Number(c['idle']) > CONSUMER_GONE_MS)
      .slice(0, 100);
    for (const c of gone) await client.call('XGROUP', 'DELCONSUMER', stream, GROUP, c['name']!);
    return gone.length;
  }

  async function probe(): Promise<void> {
    z.literal('OK').parse(await client.call('SET', `${prefix}:probe:${consumer}`, '1', 'PX', '60000'));
  }

  async function list(): Promise<string[]> {
    const entries = z.array(entrySchema).max(LIST_MAX).parse(await client.call('XRANGE', stream, '-', '+', 'COUNT', String(LIST_MAX)));
    return entries.map(entryOf).flatMap((e) => (e.reference === null ? [] : [e.reference]));
  }

  return {
    // Names the consumer too: the log says which instance, and deliver.ts's lock is per consumer.
    dir: `redis:${prefix}/${consumer}`,
    consumer,
    claimIdleMs,
    keep,
    list,
    read,
    update,
    remove,
    holds,
    take,
    status,
    forget,
    bury,
    counts,
    release,
    prune,
    ensureGroup,
    probe,
  };
}
