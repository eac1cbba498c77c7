/**
 * Errors the intake can answer with. Each has an explicit `name` (it survives bundling)
 * and a `code` that is also the JSON `error` value and the i18n key `errors.<code>`; the codes
 * are part of the endpoint's contract (src/intake/contract/answers.ts), and the HTTP status for
 * each code is decided here and nowhere else.
 */
import type { ErrorCode } from '../contract/answers.ts';

export type { ErrorCode };

export const statusOf: Record<ErrorCode, number> = {
  validation: 400,
  forbidden: 403,
  method_not_allowed: 405,
  sealed_invalid: 400,
  keys_changed: 409,
  reference_taken: 409,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  busy: 429,
  unavailable: 503,
};

/** Base class: every refusal of an application is one of these, never a bare Error. */
export class IntakeError extends Error {
  override name = 'IntakeError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string = code) {
    super(message);
    this.code = code;
  }
  get status(): number {
    return statusOf[this.code];
  }
}

/**
 * Field errors: `fields` maps a field name to an error key under `errors.field.*`
 * (e.g. `required`, `too_long`), localized by whoever renders it.
 */
export class ValidationError extends IntakeError {
  override name = 'ValidationError';
  readonly fields: Record<string, string>;
  constructor(fields: Record<string, string>) {
    super('validation');
    this.fields = fields;
  }
}

export class TooLargeError extends IntakeError {
  override name = 'TooLargeError';
  constructor() {
    super('too_large');
  }
}

export class UnsupportedMediaTypeError extends IntakeError {
  override name = 'UnsupportedMediaTypeError';
  constructor() {
    super('unsupported_media_type');
  }
}

/**
 * A limit was reached: this address's (`rate_limited`), or the site's own window for everyone
 * (`busy`), which must never read as the person's fault.
 */
export class RateLimitedError extends IntakeError {
  override name = 'RateLimitedError';
  /** Seconds until a retry can succeed (for `Retry-After`). */
  readonly retryAfter: number;
  constructor(retryAfter: number, scope: 'address' | 'everyone' = 'address') {
    super(scope === 'everyone' ? 'busy' : 'rate_limited');
    this.retryAfter = Math.max(1, Math.ceil(retryAfter));
  }
}

export class UnavailableError extends IntakeError {
  override name = 'UnavailableError';
  readonly retryAfter: number;
  constructor(retryAfter = 60) {
    super('unavailable');
    this.retryAfter = retryAfter;
  }
}

/** Why a message encrypted on the device was refused: for the log only, never shown or echoed. */
export type SealedFault = 'fields' | 'armor' | 'packets' | 'recipients' | 'size' | 'ticket';

/**
 * A request encrypted in the browser that is not what the island sends: a field beside the
 * ciphertext, armor hiding plain text, a cut or foreign packet, parts to different recipients.
 */
export class SealedInvalidError extends IntakeError {
  override name = 'SealedInvalidError';
  readonly fault: SealedFault;
  constructor(fault: SealedFault) {
    super('sealed_invalid');
    this.fault = fault;
  }
}

/**
 * Encrypted to another set of keys than the server holds now. The server can not tell a key
 * rotation during the person's visit from a wrong key; either way nothing is kept, and the
 * island fetches the keys again and encrypts once more.
 */
export class KeysChangedError extends IntakeError {
  override name = 'KeysChangedError';
  constructor() {
    super('keys_changed');
  }
}

/**
 * The reference (issued to this browser with its ticket) already names another application: the
 * island asks for another. Only a ticket's holder can get this answer.
 */
export class ReferenceTakenError extends IntakeError {
  override name = 'ReferenceTakenError';
  constructor() {
    super('reference_taken');
  }
}
