/**
 * The mailers: Resend, and the outbox-only mailer of the embedded default (applications wait
 * in the encrypted outbox until a mail provider is configured).
 */
import { Resend } from 'resend';
import type { Config } from '../config.ts';
import type { Envelope, Mailer } from '../types.ts';

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
