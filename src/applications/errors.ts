/**
 * Errors the intake can answer with. Each has an explicit `name` (it survives bundling)
 * and a `code` that is also the JSON `error` value and the i18n key `errors.<code>`;
 * the HTTP status for each code is decided here and nowhere else.
 */
export type ErrorCode =
  | 'validation'
  | 'rate_limited'
  | 'too_large'
  | 'unsupported_media_type'
  | 'forbidden'
  | 'unavailable'
  | 'method_not_allowed';

export const statusOf: Record<ErrorCode, number> = {
  validation: 400,
  forbidden: 403,
  method_not_allowed: 405,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
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

export class RateLimitedError extends IntakeError {
  override name = 'RateLimitedError';
  /** Seconds until a retry can succeed (for `Retry-After`). */
  readonly retryAfter: number;
  constructor(retryAfter: number) {
    super('rate_limited');
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
