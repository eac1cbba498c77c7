/**
 * What the endpoint answers, declared once: the server builds each answer as the type of its
 * schema (`z.input`, so the compiler checks it builds what is declared), and the island parses
 * what arrives with the very same schema. On `zod/mini`, like the other contract files, to keep
 * the island's bundle small.
 */
import * as z from 'zod/mini';
import { isReference } from './reference.ts';
import { MAX_TICKET_CHARS } from './sealed.ts';

/**
 * Why the endpoint refused an application: the `error` of its answer and the UI string
 * `errors.<code>`. The HTTP status of each is decided in src/intake/server/errors.ts.
 */
export const errorCodes = [
  'validation',
  'rate_limited',
  'busy',
  'too_large',
  'unsupported_media_type',
  'forbidden',
  'unavailable',
  'method_not_allowed',
  'sealed_invalid',
  'keys_changed',
  'reference_taken',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/**
 * The upload gate in front of the endpoint (src/intake/server/http/gate.ts) cuts a body that
 * arrives too slowly with a 408 and this code; its message is its own, not an `errors.*` string.
 */
export const TIMEOUT_CODE = 'timeout';

/** Every `error` an answer can carry. */
export const answerErrorCodes = [...errorCodes, TIMEOUT_CODE] as const;

export type AnswerErrorCode = (typeof answerErrorCodes)[number];

const reference = z.string().check(z.refine(isReference));

/**
 * GET: the staff's public keys with their fingerprints, which the island encrypts to, and a
 * reference issued for one application with its ticket.
 */
export const keysAnswerSchema = z.object({
  keys: z.string(),
  fingerprints: z.array(z.string()),
  reference,
  ticket: z.string().check(z.maxLength(MAX_TICKET_CHARS)),
});

export type KeysAnswer = z.input<typeof keysAnswerSchema>;

/** 201: the application is kept under `reference`; `sealed` when the browser encrypted it. */
export const receivedAnswerSchema = z.object({
  ok: z.literal(true),
  reference,
  sealed: z.boolean(),
});

export type ReceivedAnswer = z.input<typeof receivedAnswerSchema>;

/**
 * A refusal: its code, a localized message that says what to do (and whom to call), the
 * localized message of each field at fault, and the seconds to wait where waiting helps.
 */
export const errorAnswerSchema = z.object({
  ok: z.literal(false),
  error: z.enum(answerErrorCodes),
  message: z.string(),
  /** Field name → localized message; only for `validation`. */
  fields: z.optional(z.record(z.string(), z.string())),
  retryAfter: z.optional(z.number()),
});

export type ErrorAnswer = z.input<typeof errorAnswerSchema>;

/** What a POST (or any method but GET) is answered with. */
export const applicationAnswerSchema = z.discriminatedUnion('ok', [receivedAnswerSchema, errorAnswerSchema]);

export type ApplicationAnswer = z.input<typeof applicationAnswerSchema>;
