/**
 * Retrying what the outbox holds: one pass (`npm run outbox:flush`), and the background loop in
 * the server process with exponential backoff per envelope.
 */
import { deliverKept } from './deliver.ts';
import { isOutboxOnly, OUTBOX_ONLY } from './mailer.ts';
import { errorCode } from '../logger.ts';
import type { Outbox } from './outbox.ts';
import type { Envelope, Logger, Mailer } from '../types.ts';

export interface RetryDeps {
  outbox: Outbox;
  mailer: Mailer;
  logger: Logger;
}

/** References that left the outbox in this pass, and those still waiting. */
export interface FlushResult {
  delivered: string[];
  waiting: string[];
}

/** Reads an envelope for the loop; a broken file is logged and treated as still waiting. */
async function readOrLog(outbox: Outbox, logger: Logger, reference: string): Promise<Envelope | null | 'unreadable'> {
  try {
    return await outbox.read(reference);
  } catch (error) {
    logger.error('outbox.read_failed', { reference, error: errorCode(error) });
    return 'unreadable';
  }
}

/** One pass over the outbox, oldest first, one envelope at a time. */
export async function flushOutbox({ outbox, mailer, logger }: RetryDeps): Promise<FlushResult> {
  const references = await outbox.list();
  if (isOutboxOnly(mailer)) {
    logger.info('retry.outbox_only', { count: references.length, dir: outbox.dir });
    return { delivered: [], waiting: references };
  }
  const result: FlushResult = { delivered: [], waiting: [] };
  for (const reference of references) {
    const envelope = await readOrLog(outbox, logger, reference);
    // Gone between list and read: someone else delivered it, it is not this pass's.
    if (envelope === null) continue;
    const outcome = envelope === 'unreadable' ? 'kept' : await deliverKept({ envelope, outbox, mailer, logger });
    (outcome === 'delivered' ? result.delivered : result.waiting).push(reference);
  }
  return result;
}

/**
 * Seconds before the next attempt: base × 2^attempts, capped at max, with "equal jitter" (half
 * fixed, half random) so many waiting envelopes do not all hit the provider at once.
 */
export function backoffSeconds(attempts: number, baseSeconds: number, maxSeconds: number, random = Math.random): number {
  const ceiling = Math.min(maxSeconds, baseSeconds * 2 ** Math.min(attempts, 52));
  return ceiling / 2 + (random() * ceiling) / 2;
}

export interface RetryLoopOptions extends RetryDeps {
  baseSeconds: number;
  maxSeconds?: number;
  random?: () => number;
}

/** Handle of the background loop; `stop` waits for an attempt in progress to finish. */
export interface RetryLoop {
  stop(): Promise<void>;
}

/**
 * Starts the background loop. It looks at the outbox every half base interval (at most every
 * 30 s) and sends each envelope when its backoff has passed. The timers are unref'd: the loop
 * never keeps a process alive. With the outbox-only mailer it does nothing, and says so once.
 */
export function startRetryLoop(options: RetryLoopOptions): RetryLoop {
  const { outbox, mailer, logger, baseSeconds, maxSeconds = 3600, random = Math.random } = options;
  if (isOutboxOnly(mailer)) {
    logger.info('retry.off', { error: OUTBOX_ONLY, dir: outbox.dir });
    return { stop: async () => undefined };
  }
  const tickMs = Math.min(30_000, Math.max(10, (baseSeconds * 1000) / 2));
  const dueAt = new Map<string, number>();
  const later = (attempts: number) => Date.now() + backoffSeconds(attempts, baseSeconds, maxSeconds, random) * 1000;

  async function attempt(reference: string): Promise<void> {
    const envelope = await readOrLog(outbox, logger, reference);
    if (envelope === null) return void dueAt.delete(reference);
    if (envelope === 'unreadable') return void dueAt.set(reference, Date.now() + maxSeconds * 1000);
    const outcome = await deliverKept({ envelope, outbox, mailer, logger });
    if (outcome === 'delivered') return void dueAt.delete(reference);
    const after = await readOrLog(outbox, logger, reference);
    const attempts = after !== null && after !== 'unreadable' ? after.attempts : envelope.attempts + 1;
    const next = later(attempts);
    dueAt.set(reference, next);
    logger.info('retry.scheduled', { reference, attempts, retry_in_s: Math.round((next - Date.now()) / 1000) });
  }

  async function tick(stopping: () => boolean): Promise<void> {
    const references = await outbox.list();
    for (const known of dueAt.keys()) if (!references.includes(known)) dueAt.delete(known);
    for (const reference of references) {
      if (stopping()) return;
      const due = dueAt.get(reference);
      // First sighting (new, or found after a restart): try soon, whatever its past attempts.
      if (due === undefined) dueAt.set(reference, later(0));
      else if (due <= Date.now()) await attempt(reference);
    }
  }

  logger.info('retry.started', { dir: outbox.dir, retry_in_s: baseSeconds });
  return repeatEvery(tickMs, tick, (error) => logger.error('retry.failed', { error: errorCode(error), dir: outbox.dir }));
}

/**
 * Runs `tick` every `tickMs` after the last run ended (never two at once), on unref'd timers;
 * a failed run goes to `failed` and the next one comes as usual. `stop` waits for a run in
 * progress; the run can ask `stopping()` to end early.
 */
export function repeatEvery(tickMs: number, tick: (stopping: () => boolean) => Promise<void>, failed: (error: unknown) => void): RetryLoop {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  function schedule(): void {
    timer = setTimeout(() => {
      running = tick(() => stopped)
        .catch(failed)
        .finally(() => {
          if (!stopped) schedule();
        });
    }, tickMs);
    timer.unref();
  }
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
