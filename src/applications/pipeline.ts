/**
 * The intake, step by step. A form posted without JavaScript: origin → parse → limit → bot
 * check → validate → compose → encrypt → keep → (answer) → deliver. One the browser encrypted:
 * origin → parse → check the ciphertext (no decryption) → limit → bot check → keep → (answer) →
 * deliver. Each step is its own module; this file only orders them and decides what the
 * applicant is told. Dependencies come in, so tests pass real ones.
 */
import type { PublicKey } from 'openpgp';
import { isSameOrigin } from './address.ts';
import { deliverKept } from './deliver.ts';
import { encryptApplication } from './encrypt.ts';
import { IntakeError, RateLimitedError, ReferenceTakenError, UnavailableError, ValidationError } from './errors.ts';
import type { Outbox } from './outbox.ts';
import { parseRequest, type BodyLimits } from './parse.ts';
import { addressKey, checkLimits, type Limiters } from './ratelimit.ts';
import { newReference } from './reference.ts';
import { composeReport, padText } from './report.ts';
import { isBot, MAX_PHOTO_BYTES, PHOTO_FIELD, validateFields, type Application } from './schema.ts';
import { checkSealed, isSealedRequest, type SealedApplication } from './sealed.ts';
import { MAX_SEALED_PHOTO_BYTES, SEALED_PHOTO_FIELD } from './sealed-schema.ts';
import type { Envelope, Kind, Logger, Mailer, UploadedFile } from './types.ts';

/**
 * Caps applied before anything is buffered: 3 photos of 5 MB at most, plus the text; encrypted
 * photos are a little larger (their framing), and 3 of them with the report still fit.
 */
export const bodyLimits: BodyLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxParts: 200,
  maxFiles: 3,
  fileFields: { [PHOTO_FIELD]: MAX_PHOTO_BYTES, [SEALED_PHOTO_FIELD]: MAX_SEALED_PHOTO_BYTES },
};

export interface IntakeDeps {
  limiters: Limiters;
  rateLimitSecret: string;
  keys: readonly PublicKey[];
  outbox: Outbox;
  mailer: Mailer;
  logger: Logger;
  publicUrl: string;
  /** Deliveries started after answering; tests and shutdown can wait for them. */
  pending?: Set<Promise<unknown>>;
  /** Counts requests refused by the rate limit (logged as a count, not a line each). */
  countRateLimited?: () => void;
}

export type Outcome =
  | {
      ok: true;
      reference: string;
      kind: Kind;
      locale: string | undefined;
      /** The browser encrypted it: the server never had it in the clear. */
      encryptedOnDevice: boolean;
    }
  | {
      ok: false;
      error: IntakeError;
      kind: Kind | undefined;
      locale: string | undefined;
      /** What the person typed, to put back into the form (never logged). */
      values: Map<string, string[]> | undefined;
    };

const first = (fields: Map<string, string[]> | undefined, name: string) => fields?.get(name)?.[0];
const asKind = (value: string | undefined): Kind | undefined => (value === 'help' || value === 'missing' ? value : undefined);

/** Runs one application through the pipeline; never throws for anything the client sent. */
export async function submitApplication(request: Request, address: string, deps: IntakeDeps): Promise<Outcome> {
  const started = Date.now();
  let fields: Map<string, string[]> | undefined;
  // A refused ciphertext is not put back into a form: nothing in it is the person's typing.
  let sealed = false;
  try {
    const { headers } = request;
    if (!isSameOrigin(headers.get('origin'), headers.get('sec-fetch-site'), new URL(request.url), deps.publicUrl)) {
      throw new IntakeError('forbidden');
    }
    const raw = await parseRequest(request, bodyLimits);
    fields = raw.fields;
    if (isSealedRequest(raw)) {
      sealed = true;
      return await acceptSealed(await checkSealed(raw, deps.keys), raw.fields, address, deps, started);
    }
    // The kind decides the window, and it is in the body: parse (capped, cheap) comes first.
    const kind = asKind(first(fields, 'kind')) ?? 'help';
    await limit(kind, address, deps);

    if (isBot(fields)) return botAnswer(kind, first(fields, 'locale'), false, deps, started);
    const result = validateFields(fields, raw.files);
    if (!result.ok) throw new ValidationError(result.fields);
    const application = result.application;
    const envelope = await encryptAndKeep(application, raw.files, deps);
    deps.logger.info('application.kept', { reference: envelope.reference, kind: application.kind, duration_ms: Date.now() - started });
    deliverLater(envelope.reference, deps);
    return { ok: true, reference: envelope.reference, kind: application.kind, locale: application.locale, encryptedOnDevice: false };
  } catch (error) {
    const known = error instanceof IntakeError ? error : unexpected(error, deps.logger);
    // The fault of a refused ciphertext names a check, never content: it helps find a broken client.
    const fault = 'fault' in known ? { fault: known.fault } : {};
    if (known.code === 'rate_limited' && deps.countRateLimited) deps.countRateLimited();
    else deps.logger.info('application.refused', { error: known.code, status: known.status, ...fault, duration_ms: Date.now() - started });
    return { ok: false, error: known, kind: asKind(first(fields, 'kind')), locale: first(fields, 'locale'), values: sealed ? undefined : fields };
  }
}

async function limit(kind: Kind, address: string, deps: IntakeDeps): Promise<void> {
  const result = await checkLimits({ limiters: deps.limiters, kind, addressKey: addressKey(deps.rateLimitSecret, address), logger: deps.logger });
  if (!result.ok) throw new RateLimitedError(result.retryAfterSeconds);
}

/** A bot gets an ordinary-looking answer, so it learns nothing; nothing is kept or sent. */
function botAnswer(kind: Kind, locale: string | undefined, encryptedOnDevice: boolean, deps: IntakeDeps, started: number): Outcome {
  deps.logger.info('application.bot', { kind, duration_ms: Date.now() - started });
  return { ok: true, reference: newReference(), kind, locale, encryptedOnDevice };
}

/**
 * A checked ciphertext: limited like any application (after the check, so a retry after a key
 * change costs the person none of their few requests), then kept under the browser's reference.
 */
async function acceptSealed(sealed: SealedApplication, clear: Map<string, string[]>, address: string, deps: IntakeDeps, started: number): Promise<Outcome> {
  const { kind, locale, reference } = sealed.fields;
  await limit(kind, address, deps);
  if (isBot(clear)) return botAnswer(kind, locale, true, deps, started);
  const envelope: Envelope = { reference, kind, createdAt: new Date().toISOString(), armored: sealed.armored, attachments: sealed.attachments, attempts: 0 };
  try {
    await deps.outbox.keep(envelope);
  } catch (error) {
    // The outbox never overwrites a reference; the browser drew this one, so it draws another.
    if (collided(error)) throw new ReferenceTakenError();
    throw error;
  }
  deps.logger.info('application.kept', { reference, kind, encrypted_on_device: true, duration_ms: Date.now() - started });
  deliverLater(reference, deps);
  return { ok: true, reference, kind, locale, encryptedOnDevice: true };
}

const collided = (error: unknown) => (error as { cause?: { code?: string } }).cause?.code === 'EEXIST';

/**
 * Encrypts under a fresh reference and keeps it on disk (fsync'd) before the applicant hears
 * "received": nothing accepted is lost. The outbox never overwrites a reference, so in the
 * unlikely case a code is already waiting there, a new one is drawn (it is inside the ciphertext).
 */
async function encryptAndKeep(application: Application, photos: UploadedFile[], deps: IntakeDeps): Promise<Envelope> {
  for (let attempt = 1; ; attempt++) {
    const reference = newReference();
    const envelope = await encryptApplication(
      {
        reference,
        kind: application.kind,
        createdAt: new Date().toISOString(),
        text: padText(composeReport(application, { reference, receivedAt: new Date().toISOString(), encryptedOnDevice: false, photoCount: photos.length })),
        photos: photos.map((f) => ({ bytes: f.bytes, type: f.type })),
      },
      deps.keys,
    );
    try {
      await deps.outbox.keep(envelope);
      return envelope;
    } catch (error) {
      if (!collided(error) || attempt >= 3) throw error;
    }
  }
}

/** Delivery runs after the answer: a slow or failing mail provider never delays or fails the applicant. */
function deliverLater(reference: string, deps: IntakeDeps): void {
  const task = (async () => {
    const envelope = await deps.outbox.read(reference);
    if (envelope) await deliverKept({ envelope, outbox: deps.outbox, mailer: deps.mailer, logger: deps.logger });
  })().catch((error: unknown) => {
    deps.logger.error('delivery.failed', { reference, error: error instanceof Error ? error.name : 'unknown' });
  });
  deps.pending?.add(task);
  void task.finally(() => deps.pending?.delete(task));
}

/** Something we did not foresee: logged by name only (a message could quote input), answered 503. */
function unexpected(error: unknown, logger: Logger): IntakeError {
  logger.error('application.unexpected', { error: error instanceof Error ? error.name : typeof error });
  return new UnavailableError();
}
