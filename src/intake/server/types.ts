/**
 * Shared shapes of the intake pipeline. Each step lives in its own file and takes its
 * dependencies as arguments, so tests can pass real local services (redis-server, gpg, a sink).
 */
import type { UploadedFile } from '../contract/image.ts';
import type { Kind } from '../contract/kinds.ts';

/** What parse returns: text fields (repeated fields keep every value) and files. */
export interface RawSubmission {
  fields: Map<string, string[]>;
  files: UploadedFile[];
}

/** The answer of a rate limiter: the shape @upstash/ratelimit returns, trimmed to what we use. */
export interface LimitResult {
  success: boolean;
  /** Unix time in ms when the window frees a slot. */
  reset: number;
  remaining: number;
  /** Why an answer did not come from the store: @upstash/ratelimit says `timeout` when it let a request through unchecked. */
  reason?: string;
}

/** Anything that can limit: @upstash/ratelimit's Ratelimit, or the in-process limiter. */
export interface Limiter {
  /** Counts one request and says whether it fits the window. */
  limit(identifier: string): Promise<LimitResult>;
  /** What is left in the window, counting nothing. */
  getRemaining(identifier: string): Promise<{ remaining: number; reset: number }>;
}

/** An encrypted, ready-to-deliver application: what the outbox keeps and the mailer sends. */
export interface Envelope {
  /** The reference code: the only link between applicant and mail; also the idempotency key. */
  reference: string;
  kind: Kind;
  /** ISO time the envelope was created (not secret: it is also the mail's date). */
  createdAt: string;
  /** ASCII-armored OpenPGP message: report + JSON of the application. */
  armored: string;
  /** Encrypted attachments, named only by reference and index (`attachmentName`, e.g. `K7M2-PQ4X-1.pgp`): no hint of content. */
  attachments: { filename: string; armored: string }[];
  /** Delivery attempts so far; the retry loop backs off on this. */
  attempts: number;
}

/** The mailer step's contract: resend underneath; never throws, reports the outcome. */
export interface Mailer {
  send(envelope: Envelope): Promise<{ ok: true; id: string } | { ok: false; error: string }>;
}

/** Structured log: one JSON line per event. Never pass application content in `data`. */
export interface Logger {
  info(event: string, data?: Record<string, unknown>): void;
  warn(event: string, data?: Record<string, unknown>): void;
  error(event: string, data?: Record<string, unknown>): void;
}
