/**
 * The intake, step by step. A form posted without JavaScript: origin → refusals left → parse →
 * bot check → validate → limit → compose → encrypt → keep → (answer) → deliver. One the browser
 * encrypted: origin → refusals left → parse → check the ciphertext (no decryption) and the
 * reference's ticket → bot check → claim the reference → limit → keep → (answer) → deliver.
 * Only what passed every check counts against the limits people share; what was refused for
 * what it held counts against its own address. Each step is its own module; this file only
 * orders them and decides what the applicant is told. Dependencies come in, so tests pass real ones.
 */
import type { PublicKey } from 'openpgp';
import { isAllowedOrigin } from './origin.ts';
import { deliverKept } from './delivery/deliver.ts';
import { formValues } from './echo.ts';
import { encryptApplication } from './encrypt.ts';
import { IntakeError, RateLimitedError, ReferenceTakenError, SealedInvalidError, UnavailableError, ValidationError, type ErrorCode } from './errors.ts';
import type { Outbox } from './delivery/outbox.ts';
import { parseRequest, type BodyLimits } from './parse.ts';
import { addressKey } from './ratelimit/address.ts';
import {
  checkLimits,
  checkRefusals,
  countRefusal,
  type LimitCheck,
  type Limiters,
} from './ratelimit/limiters.ts';
import { newReference } from '../contract/reference.ts';
import { composeReport, padText } from '../contract/report.ts';
import { fieldNames, validateFields, type Application } from '../contract/validate.ts';
import { DEFAULT_MIN_FILL_MS, isBot } from './bot.ts';
import { MAX_PHOTO_BYTES, MAX_PHOTOS, PHOTO_FIELD, SHORT_VALUE_MAX, textLimits } from '../contract/fields.ts';
import { checkSealed, isSealedRequest } from './sealed.ts';
import { MAX_SEALED_PHOTO_BYTES, MAX_SEALED_TEXT_CHARS, SEALED_FIELD, SEALED_PHOTO_FIELD, TICKET_FIELD } from '../contract/sealed.ts';
import { checkTicket } from './ticket.ts';
import type { Envelope, Logger, Mailer, RawSubmission } from './types.ts';
import { isKind, kinds, type Kind } from '../contract/kinds.ts';
import type { UploadedFile } from '../contract/image.ts';
import { digestOf, type UsedReferences } from './used-references.ts';

/**
 * Caps applied before anything is buffered: 3 photos of 5 MB at most, plus the text; encrypted
 * photos are a little larger (their framing), and 3 of them with the report still fit.
 */
export const bodyLimits: BodyLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxParts: 200,
  maxFiles: MAX_PHOTOS,
  fileFields: { [PHOTO_FIELD]: MAX_PHOTO_BYTES, [SEALED_PHOTO_FIELD]: MAX_SEALED_PHOTO_BYTES },
  maxValueChars,
};

const knownNames = new Set<string>([...kinds.flatMap((kind) => fieldNames[kind]), 'reference', TICKET_FIELD, SEALED_FIELD]);

/**
 * Just past each field's limit (twice it, for the CRLF a form sends): enough for the checks to
 * say "too long" and for the form to be put back, and nothing of a value beyond.
 */
function maxValueChars(name: string): number {
  if (name === SEALED_FIELD) return MAX_SEALED_TEXT_CHARS + 1;
  const limit = (textLimits as Record<string, number>)[name];
  if (limit !== undefined) return 2 * limit + 1;
  return knownNames.has(name) ? SHORT_VALUE_MAX + 1 : 0;
}

export interface IntakeDeps {
  limiters: Limiters;
  /** Keys the address hashes and signs the references the server issues. */
  rateLimitSecret: string;
  keys: readonly PublicKey[];
  outbox: Outbox;
  usedReferences: UsedReferences;
  mailer: Mailer;
  logger: Logger;
  /** Origins whose pages may post (from configuration, never from the request). */
  allowedOrigins: readonly string[];
  /** A post filled faster than this many ms is a bot's (BOT_MIN_FILL_MS); DEFAULT_MIN_FILL_MS when unset. */
  botMinFillMs?: number;
  /** Deliveries started after answering; tests and shutdown can wait for them. */
  pending?: Set<Promise<unknown>>;
  /** Counts refusals: one log line per interval and kind of refusal, not one per request. */
  countRefused?: (data: Record<string, unknown>) => void;
}

export type Outcome =
  | {
      ok: true;
      reference: string;
      kind: Kind;
      locale: string | undefined;
      /** The browser encrypted it: the server never had it in the clear. */
      sealed: boolean;
    }
  | {
      ok: false;
      error: IntakeError;
      kind: Kind | undefined;
      locale: string | undefined;
      /** What the person typed, within each field's limits, to put back into the form (never logged). */
      values: Map<string, string[]> | undefined;
    };

const first = (fields: Map<string, string[]> | undefined, name: string) => fields?.get(name)?.[0];
const asKind = (value: string | undefined): Kind | undefined => (isKind(value) ? value : undefined);

/** Refusals caused by what the post held: they count against the address that sent it. */
const chargedCodes = new Set<ErrorCode>(['validation', 'too_large', 'unsupported_media_type', 'sealed_invalid', 'keys_changed', 'reference_taken']);
/** Refusals whose form is put back: the person can fix it, or send it again as it is. */
const echoedCodes = new Set<ErrorCode>(['validation', 'unavailable']);

/** Runs one application through the pipeline; never throws for anything the client sent. */
export async function submitApplication(request: Request, address: string, deps: IntakeDeps): Promise<Outcome> {
  const started = Date.now();
  const key = addressKey(deps.rateLimitSecret, address);
  let fields: Map<string, string[]> | undefined;
  // A refused ciphertext is not put back into a form: nothing in it is the person's typing.
  let sealed = false;
  try {
    const { headers } = request;
    if (!isAllowedOrigin(headers.get('origin'), headers.get('sec-fetch-site'), headers.get('host'), deps.allowedOrigins)) {
      throw new IntakeError('forbidden');
    }
    // An address that used up its refusals is refused before a byte of its body is read.
    throwIfRefused(await checkRefusals(deps.limiters, key));
    try {
      const raw = await parseRequest(request, bodyLimits);
      fields = raw.fields;
      sealed = isSealedRequest(raw);
      return sealed ? await acceptSealed(raw, key, deps, started) : await acceptPlain(raw, key, deps, started);
    } catch (error) {
      if (error instanceof IntakeError && chargedCodes.has(error.code)) await countRefusal(deps.limiters, key);
      throw error;
    }
  } catch (error) {
    const known = error instanceof IntakeError ? error : unexpected(error, deps.logger);
    // The fault of a refused ciphertext names a check, never content: it helps find a broken client.
    const fault = 'fault' in known ? { fault: known.fault } : {};
    deps.countRefused?.({ error: known.code, status: known.status, ...fault });
    const kind = asKind(first(fields, 'kind'));
    const values = !sealed && kind !== undefined && fields !== undefined && echoedCodes.has(known.code) ? formValues(kind, fields) : undefined;
    return { ok: false, error: known, kind, locale: first(fields, 'locale'), values };
  }
}

function throwIfRefused(check: LimitCheck): void {
  if (!check.ok) throw new RateLimitedError(check.retryAfterSeconds, check.scope);
}

async function acceptPlain(raw: RawSubmission, key: string, deps: IntakeDeps, started: number): Promise<Outcome> {
  const kind = asKind(first(raw.fields, 'kind')) ?? 'help';
  if (isBot(raw.fields, deps.botMinFillMs ?? DEFAULT_MIN_FILL_MS)) return botAnswer(kind, first(raw.fields, 'locale'), false, key, deps);
  const result = validateFields(raw.fields, raw.files);
  if (!result.ok) throw new ValidationError(result.fields);
  const application = result.application;
  throwIfRefused(await checkLimits({ limiters: deps.limiters, kind: application.kind, addressKey: key }));
  const envelope = await encryptAndKeep(application, raw.files, deps);
  deps.logger.info('application.kept', { reference: envelope.reference, kind: application.kind, sealed: false, duration_ms: Date.now() - started });
  deliverLater(envelope.reference, deps);
  return { ok: true, reference: envelope.reference, kind: application.kind, locale: application.locale, sealed: false };
}

/** A bot gets an ordinary-looking answer, so it learns nothing; nothing is kept or sent. */
async function botAnswer(kind: Kind, locale: string | undefined, sealed: boolean, key: string, deps: IntakeDeps): Promise<Outcome> {
  await countRefusal(deps.limiters, key);
  deps.countRefused?.({ error: 'bot', kind });
  return { ok: true, reference: newReference(), kind, locale, sealed };
}

/**
 * A checked ciphertext under the reference the server issued to this browser. Its ticket is
 * checked before anything is looked up, so a refusal tells nobody whether a code exists. An
 * exact retry of a post already kept gets the same answer and is not kept or mailed again;
 * a different application under a used reference is refused.
 */
async function acceptSealed(raw: RawSubmission, key: string, deps: IntakeDeps, started: number): Promise<Outcome> {
  const sealed = await checkSealed(raw, deps.keys);
  const { kind, locale, reference } = sealed.fields;
  if (!checkTicket(deps.rateLimitSecret, reference, sealed.fields[TICKET_FIELD])) throw new SealedInvalidError('ticket');
  if (isBot(raw.fields, deps.botMinFillMs ?? DEFAULT_MIN_FILL_MS)) return botAnswer(kind, locale, true, key, deps);
  const envelope: Envelope = { reference, kind, createdAt: new Date().toISOString(), armored: sealed.armored, attachments: sealed.attachments, attempts: 0 };
  const kept = await keepOnce(envelope, deps, () => checkLimits({ limiters: deps.limiters, kind, addressKey: key }));
  if (kept === 'taken') throw new ReferenceTakenError();
  if (kept === 'kept') {
    deps.logger.info('application.kept', { reference, kind, sealed: true, duration_ms: Date.now() - started });
    deliverLater(reference, deps);
  } else {
    // A repeat costs a check of the whole ciphertext and counts against no other window: the
    // island repeats a post once or twice after a lost answer, a replay loop far more often.
    await countRefusal(deps.limiters, key);
    deps.countRefused?.({ error: 'repeat', kind });
  }
  return { ok: true, reference, kind, locale, sealed: true };
}

const collided = (error: unknown) => (error as { cause?: { code?: string } }).cause?.code === 'EEXIST';
const digestOfEnvelope = (envelope: Envelope) => digestOf([envelope.armored, ...envelope.attachments.map((a) => a.armored)]);

/**
 * Keeps `envelope` under a reference that names it alone, durably (fsync'd) before the applicant
 * hears "received". `limit` runs only for a new application (an exact retry was counted when it
 * first came). `retry`: this very application is kept already; `taken`: another one has the code.
 */
async function keepOnce(envelope: Envelope, deps: IntakeDeps, limit: () => Promise<LimitCheck>): Promise<'kept' | 'retry' | 'taken'> {
  const { reference } = envelope;
  const digest = digestOfEnvelope(envelope);
  const claim = await deps.usedReferences.claim(reference, digest);
  if (claim === 'taken') return 'taken';
  if (claim === 'kept') return 'retry';
  const release = () => (claim === 'new' ? deps.usedReferences.release(reference, digest).catch(() => undefined) : Promise.resolve());
  if (claim === 'new') {
    const check = await limit().catch(async (error: unknown) => {
      await release();
      throw error;
    });
    if (!check.ok) {
      await release();
      throwIfRefused(check);
    }
  }
  try {
    await deps.outbox.keep(envelope);
  } catch (error) {
    // A file under this code that no record names (kept before records existed, or records lost): not ours.
    if (!collided(error)) {
      await release();
      throw error;
    }
    const waiting = await deps.outbox.read(reference);
    if (claim === 'new' || waiting === null || digestOfEnvelope(waiting) !== digest) {
      await release();
      return 'taken';
    }
  }
  await deps.usedReferences.markKept(reference, digest).catch(() => undefined);
  return claim === 'new' ? 'kept' : 'retry';
}

/**
 * Encrypts under a fresh reference and keeps it. The reference is inside the ciphertext, so in
 * the unlikely case a code is already in use, a new one is drawn and the report encrypted again.
 */
async function encryptAndKeep(application: Application, photos: UploadedFile[], deps: IntakeDeps): Promise<Envelope> {
  for (let attempt = 1; ; attempt++) {
    const reference = newReference();
    const envelope = await encryptApplication(
      {
        reference,
        kind: application.kind,
        createdAt: new Date().toISOString(),
        text: padText(composeReport(application, { reference, receivedAt: new Date().toISOString(), sealed: false, photoCount: photos.length })),
        photos: photos.map((f) => ({ bytes: f.bytes, type: f.type })),
      },
      deps.keys,
    );
    // Limits were counted before: a redrawn code is the same application.
    const kept = await keepOnce(envelope, deps, () => Promise.resolve({ ok: true }));
    if (kept !== 'taken') return envelope;
    if (attempt >= 3) throw new UnavailableError();
  }
}

/** Delivery runs after the answer: a slow or failing mail provider never delays or fails the applicant. */
function deliverLater(reference: string, deps: IntakeDeps): void {
  const task = (async () => {
    const envelope = await deps.outbox.read(reference);
    if (envelope) await deliverKept({ envelope, outbox: deps.outbox, mailer: deps.mailer, logger: deps.logger });
  })().catch((error: unknown) => {
    deps.logger.error('delivery.unexpected', { reference, error: error instanceof Error ? error.name : 'unknown' });
  });
  deps.pending?.add(task);
  void task.finally(() => deps.pending?.delete(task));
}

/** Something we did not foresee: logged by name only (a message could quote input), answered 503. */
function unexpected(error: unknown, logger: Logger): IntakeError {
  logger.error('application.unexpected', { error: error instanceof Error ? error.name : typeof error });
  return new UnavailableError();
}
