/**
 * Delivery: the Resend mailer, the outbox-only mailer of the embedded default, and the one
 * function that sends a kept envelope and settles its outbox file.
 */
import { Resend } from 'resend';
import type { Config } from '../config.ts';
import { errorCode } from '../logger.ts';
import type { Outbox } from './outbox.ts';
import type { Envelope, Logger, Mailer } from '../types.ts';

/** The error an outbox-only mailer reports: the envelope stays, and retrying is pointless. */
export const OUTBOX_ONLY = 'outbox_only';

/** Options of the Resend mailer. `baseUrl` overrides RESEND_BASE_URL (which the SDK also reads). */
export interface ResendMailerOptions {
  apiKey: string;
  baseUrl?: string | undefined;
  from: string;
  to: string[];
  timeoutMs?: number;
  /** The subject; by default the kind and the reference, nothing else. */
  subject?: (envelope: Envelope) => string;
}

/** Only the kind and the reference: the subject is readable by every server on the way. */
export function subjectOf(envelope: Envelope): string {
  return `Заявка ${envelope.kind} ${envelope.reference}`;
}

/** Short, single line, bounded: a provider message goes to the log. */
function describeFailure(error: { name?: unknown; statusCode?: unknown; message?: unknown }): string {
  const status = typeof error.statusCode === 'number' ? ` ${error.statusCode}` : '';
  const text = `${String(error.name ?? 'error')}${status}: ${String(error.message ?? '')}`;
  return text.replace(/\s+/g, ' ').slice(0, 200);
}

/**
 * A mailer on the resend SDK. The SDK never throws (it returns `{ data, error }`) and has no
 * timeout of its own, but passes `signal` to fetch: AbortSignal.timeout bounds each send.
 * `idempotencyKey` (sent as the Idempotency-Key header) makes a retry after a lost answer safe.
 */
export function createResendMailer(options: ResendMailerOptions): Mailer {
  const { apiKey, baseUrl, from, to, timeoutMs = 15_000, subject = subjectOf } = options;
  // Without a baseUrl option, the SDK reads process.env.RESEND_BASE_URL once, here, at construction.
  // Trailing slashes off in one anchored pass: `/\/+$/` starts again at every slash of a run.
  const resend = new Resend(apiKey, baseUrl === undefined ? undefined : { baseUrl: baseUrl.replace(/^((?:\/*[^/])*)\/*$/, '$1') });
  return {
    async send(envelope) {
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        const { data, error } = await resend.emails.send(
          {
            from,
            to,
            subject: subject(envelope),
            text: envelope.armored,
            attachments: envelope.attachments.map((a) => ({
              filename: a.filename,
              content: Buffer.from(a.armored, 'utf8'),
              contentType: 'application/octet-stream',
            })),
          },
          { idempotencyKey: envelope.reference, signal },
        );
        if (signal.aborted) return { ok: false, error: `timeout after ${timeoutMs} ms` };
        if (error !== null || data === null) return { ok: false, error: describeFailure(error ?? {}) };
        return { ok: true, id: data.id };
      } catch (error) {
        return { ok: false, error: signal.aborted ? `timeout after ${timeoutMs} ms` : describeFailure(error as Error) };
      }
    },
  };
}

/** The embedded default (no RESEND_API_KEY): delivery is staying in the outbox. */
export function createOutboxOnlyMailer(): Mailer & { readonly outboxOnly: true } {
  return {
    outboxOnly: true,
    send: async () => ({ ok: false, error: OUTBOX_ONLY }),
  };
}

/** True for the outbox-only mailer: the retry loop has nothing to do with it. */
export function isOutboxOnly(mailer: Mailer): boolean {
  return (mailer as { outboxOnly?: unknown }).outboxOnly === true;
}

/** The mailer the configuration asks for. */
export function createMailer(config: Config): Mailer {
  return config.mail === undefined ? createOutboxOnlyMailer() : createResendMailer(config.mail);
}

/** What happened to a kept envelope: it left the outbox, or it is still waiting there. */
export type DeliveryOutcome = 'delivered' | 'kept';

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
 * sender in this process delivered meanwhile. Never throws.
 */
export async function deliverKept(options: DeliverKeptOptions): Promise<DeliveryOutcome> {
  const lock = `${options.outbox.dir}\u0000${options.envelope.reference}`;
  if (inFlight.has(lock)) return 'kept';
  inFlight.add(lock);
  try {
    return await deliverLocked(options);
  } finally {
    inFlight.delete(lock);
  }
}

async function deliverLocked({ envelope, outbox, mailer, logger }: DeliverKeptOptions): Promise<DeliveryOutcome> {
  const { reference, kind } = envelope;
  let current: Envelope | null;
  try {
    current = await outbox.read(reference);
  } catch (error) {
    logger.error('outbox_read_failed', { reference, error: errorCode(error) });
    return 'kept';
  }
  if (current === null) return 'delivered';
  const started = performance.now();
  const result = await mailer.send(current);
  const duration_ms = performance.now() - started;
  if (result.ok) {
    logger.info('delivered', { reference, kind, attempts: current.attempts + 1, duration_ms });
    // Idempotency-Key = reference: if this removal fails and it is sent again, Resend drops it.
    await outbox.remove(reference).catch((error: unknown) => logger.error('outbox_remove_failed', { reference, error: errorCode(error) }));
    return 'delivered';
  }
  if (result.error === OUTBOX_ONLY) {
    logger.info('kept_in_outbox', { reference, kind, dir: outbox.dir });
    return 'kept';
  }
  const attempts = current.attempts + 1;
  logger.warn('delivery_failed', { reference, kind, attempts, error: result.error, duration_ms });
  await outbox
    .update({ ...current, attempts })
    .catch((error: unknown) => logger.error('outbox_update_failed', { reference, error: errorCode(error) }));
  return 'kept';
}
