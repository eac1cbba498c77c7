/**
 * The one function that sends a kept envelope and settles its outbox file, used by the
 * pipeline right after an application is kept, by the retry loop and by `npm run outbox:flush`.
 */
import { errorCode } from '../logger.ts';
import type { Envelope, Logger, Mailer } from '../types.ts';
import { OUTBOX_ONLY } from './mailer.ts';
import type { Outbox } from './outbox.ts';

/** What happened to a kept envelope: it left the outbox, or it is still waiting there. */
export type Delivery = 'delivered' | 'kept';

export interface DeliverKeptOptions {
  envelope: Envelope;
  outbox: Outbox;
  mailer: Mailer;
  logger: Logger;
}

/** References being sent right now, per outbox: one send per reference at a time in this process. */
const inFlight = new Set<string>();

/**
 * Sends a kept envelope; delivered → removed from the outbox, failed → attempts + 1, kept.
 * Holds a per-reference lock and re-reads the file under it, so a flush and the retry loop
 * overlapping never send one reference twice. 'delivered' also covers an envelope that another
 * sender in this process delivered meanwhile. An outbox shared between instances is asked
 * whether this one holds the envelope before it is sent (`Outbox.holds`). Never throws.
 */
export async function deliverKept(options: DeliverKeptOptions): Promise<Delivery> {
  const lock = `${options.outbox.dir}\u0000${options.envelope.reference}`;
  if (inFlight.has(lock)) return 'kept';
  inFlight.add(lock);
  try {
    return await deliverLocked(options);
  } finally {
    inFlight.delete(lock);
  }
}

async function deliverLocked({ envelope, outbox, mailer, logger }: DeliverKeptOptions): Promise<Delivery> {
  const { reference, kind } = envelope;
  let current: Envelope | null;
  try {
    current = await outbox.read(reference);
  } catch (error) {
    logger.error('outbox.read_failed', { reference, error: errorCode(error) });
    return 'kept';
  }
  if (current === null) return 'delivered';
  // A shared outbox (several instances): send only what Redis says this instance holds now.
  if (outbox.holds !== undefined && !(await holdsOrLog(outbox, reference, logger))) return 'kept';
  const started = performance.now();
  const result = await mailer.send(current);
  const duration_ms = performance.now() - started;
  if (result.ok) {
    logger.info('delivery.sent', { reference, kind, attempts: current.attempts + 1, duration_ms });
    // Idempotency-Key = reference: if this removal fails and it is sent again, Resend drops it.
    await outbox.remove(reference).catch((error: unknown) => logger.error('outbox.remove_failed', { reference, error: errorCode(error) }));
    return 'delivered';
  }
  if (result.error === OUTBOX_ONLY) {
    logger.info('delivery.kept', { reference, kind, dir: outbox.dir });
    return 'kept';
  }
  const attempts = current.attempts + 1;
  logger.warn('delivery.failed', { reference, kind, attempts, error: result.error, duration_ms });
  await outbox
    .update({ ...current, attempts })
    .catch((error: unknown) => logger.error('outbox.update_failed', { reference, error: errorCode(error) }));
  return 'kept';
}

/** Whether this process may send `reference` now; a store that can not say means no. */
async function holdsOrLog(outbox: Outbox, reference: string, logger: Logger): Promise<boolean> {
  try {
    const held = (await outbox.holds?.(reference)) ?? true;
    if (!held) logger.info('delivery.held_elsewhere', { reference });
    return held;
  } catch (error) {
    logger.error('outbox.hold_failed', { reference, error: errorCode(error) });
    return false;
  }
}
