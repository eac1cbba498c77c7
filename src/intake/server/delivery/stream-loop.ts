/**
 * Delivery from the Redis outbox (stream-outbox.ts): the background loop of each instance, and
 * one pass for `npm run outbox:flush`. Each round takes what Redis hands this consumer (entries
 * another consumer left idle, then entries never handed out), and sends each through
 * `deliverKept` when its retry time has come. What a round does not reach stays held by this
 * consumer and is taken over after the idle time, by any instance: nothing waits on one process.
 */
import { deliverKept } from './deliver.ts';
import { isOutboxOnly, OUTBOX_ONLY } from './mailer.ts';
import { errorCode } from '../logger.ts';
import { repeatEvery, type FlushResult, type RetryLoop } from './retry.ts';
import { UnreadableEnvelopeError, type StreamEntry, type StreamOutbox } from './stream-outbox.ts';
import type { Logger, Mailer } from '../types.ts';

export interface StreamDeps {
  outbox: StreamOutbox;
  mailer: Mailer;
  logger: Logger;
}

/** Entries taken per round, each way (idle ones, new ones). */
const BATCH = 10;
/** Rounds of one flush at most: the pending list is walked in bounded steps. */
const FLUSH_ROUNDS = 100;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

type Settled = 'delivered' | 'waiting' | 'gone';

/**
 * An unreadable envelope is moved aside, so it does not come back every idle period and block
 * nothing else; a store that does not answer is not a broken envelope, and the entry stays.
 */
async function readable<T>(deps: StreamDeps, entry: StreamEntry, read: () => Promise<T>): Promise<T | 'waiting' | 'gone'> {
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof UnreadableEnvelopeError)) {
      deps.logger.error('outbox.read_failed', { reference: entry.reference, error: errorCode(error) });
      return 'waiting';
    }
    deps.logger.error('outbox.unreadable', { reference: entry.reference, error: error.message });
    await deps.outbox.bury(entry.id, entry.reference, error.message);
    return 'gone';
  }
}

/** One entry this consumer holds: sent if due, dropped if it carries nothing, buried if unreadable. */
async function settle(deps: StreamDeps, entry: StreamEntry): Promise<Settled> {
  const { outbox, logger } = deps;
  const { reference } = entry;
  if (reference === null) {
    logger.error('outbox.unreadable', { error: 'entry' });
    await outbox.bury(entry.id, null, 'entry');
    return 'gone';
  }
  const status = await readable(deps, entry, () => outbox.status(reference));
  if (status === 'waiting' || status === 'gone') return status;
  // Delivered by another instance (its entry deleted with it), or an entry no head names.
  if (status === null || status.entry !== entry.id) {
    await outbox.forget(entry.id);
    return 'gone';
  }
  // Not yet: it stays held here and comes back, to whoever takes it, after the idle time.
  if (status.dueAt > Date.now()) return 'waiting';
  const envelope = await readable(deps, entry, () => outbox.read(reference));
  if (envelope === 'waiting' || envelope === 'gone') return envelope;
  if (envelope === null) return 'gone';
  const outcome = await deliverKept({ envelope, outbox, mailer: deps.mailer, logger });
  if (outcome === 'delivered') return 'delivered';
  const after = await outbox.status(reference).catch(() => null);
  if (after !== null && after.attempts > envelope.attempts) {
    logger.info('retry.scheduled', { reference, attempts: after.attempts, retry_in_s: Math.max(0, Math.round((after.dueAt - Date.now()) / 1000)) });
  }
  return 'waiting';
}

/**
 * One round: takes up to a batch each way and settles them one at a time, starting no new send
 * after `budgetMs`, so every entry this round holds is sent well within the idle time. What it
 * did not reach it lets go at once, for the next round of any instance.
 */
async function round(deps: StreamDeps, budgetMs: number, into: FlushResult): Promise<number> {
  const started = Date.now();
  const entries = await deps.outbox.take(BATCH);
  for (const [i, entry] of entries.entries()) {
    if (Date.now() - started > budgetMs) {
      await deps.outbox.release(entries.slice(i).map((e) => e.id));
      break;
    }
    const settled = await settle(deps, entry);
    if (entry.reference !== null && settled !== 'gone') (settled === 'delivered' ? into.delivered : into.waiting).push(entry.reference);
  }
  return entries.length;
}

/**
 * One delivery pass (`npm run outbox:flush`): rounds until nothing more is handed out, at most
 * {@link FLUSH_ROUNDS}; what it still holds at the end is released to the instances at once.
 */
export async function flushStream(deps: StreamDeps): Promise<FlushResult> {
  const result: FlushResult = { delivered: [], waiting: [] };
  if (isOutboxOnly(deps.mailer)) {
    const { waiting } = await deps.outbox.counts();
    deps.logger.info('retry.outbox_only', { count: waiting, dir: deps.outbox.dir });
    return result;
  }
  try {
    for (let i = 0; i < FLUSH_ROUNDS; i++) {
      if ((await round(deps, deps.outbox.claimIdleMs / 2, result)) === 0) break;
    }
  } finally {
    await deps.outbox.release().catch(() => undefined);
  }
  return { delivered: [...new Set(result.delivered)], waiting: [...new Set(result.waiting)].filter((r) => !result.delivered.includes(r)) };
}

/**
 * Starts the loop of this instance: a round every quarter of the idle time (at most every 30 s),
 * and once an hour a sweep of consumers long gone. Timers are unref'd. With the outbox-only
 * mailer it does nothing, and says so once.
 */
export function startStreamLoop(deps: StreamDeps): RetryLoop {
  const { outbox, mailer, logger } = deps;
  if (isOutboxOnly(mailer)) {
    logger.info('retry.off', { error: OUTBOX_ONLY, dir: outbox.dir });
    return { stop: async () => undefined };
  }
  const tickMs = Math.min(30_000, Math.max(10, outbox.claimIdleMs / 4));
  let failing = false;
  let prunedAt = 0;

  async function tick(): Promise<void> {
    await round(deps, outbox.claimIdleMs / 2, { delivered: [], waiting: [] });
    if (Date.now() - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = Date.now();
      await outbox.prune();
    }
    failing = false;
  }

  logger.info('retry.started', { dir: outbox.dir, retry_in_s: Math.round(outbox.claimIdleMs / 1000) });
  return repeatEvery(tickMs, tick, (error) => {
    // Once per outage: the connection itself says when Redis goes and comes back.
    if (!failing) logger.error('retry.failed', { error: errorCode(error), dir: outbox.dir });
    failing = true;
  });
}
