/**
 * Encryption on the device, loaded only when the person sends (or chooses a photo). It fetches
 * the staff's public keys, composes the very report the server would (report.ts), encrypts it
 * and each photo to every key with the same core as the server (pgp.ts), and posts only the
 * ciphertext and the few fields the server must read in the clear. openpgp.js is most of it.
 */
import { armor, config, createMessage, encrypt, enums, readKeys } from 'openpgp/lightweight';
import type { PublicKey } from 'openpgp';
import { applicationAnswerSchema, keysAnswerSchema } from '../contract/answers.ts';
import { ENDPOINT, REQUEST_TIMEOUT_MS } from '../contract/endpoint.ts';
import { armoredKeyBlocks, attachmentName, encryptPhoto, encryptText, pgpOf } from '../contract/pgp.ts';
import { composeReport, padText } from '../contract/report.ts';
import { SEALED_FIELD, SEALED_PHOTO_FIELD, TICKET_FIELD, type SealedFields } from '../contract/sealed.ts';
import { ENCRYPT_FAILED, type SealInput, type SendResult } from './submit.ts';

// Named imports, not the namespace: the bundler keeps only what encryption needs.
const pgp = pgpOf({ armor, config, createMessage, encrypt, enums });

// A reference already in use (409) is asked for again; more than this is not chance.
const MAX_REFERENCE_DRAWS = 3;

/** The keys could not be fetched at all: the connection, not the encryption. */
class Unreachable extends Error {
  override name = 'Unreachable';
}

/** What one keys request gives: the staff keys, the server's clock, and a reference issued with its ticket. */
interface Issued {
  keys: PublicKey[];
  /** The server's clock when it answered: a phone's own clock may be years off. */
  date: Date;
  /** The reference the server issued for this application, and its ticket. */
  reference: string;
  ticket: string;
}

/**
 * The staff's public keys and a reference issued for this application, as the endpoint gives
 * them (never cached). The fingerprints must be those of the keys sent.
 */
async function fetchKeys(): Promise<Issued> {
  const response = await fetch(ENDPOINT, {
    headers: { Accept: 'application/json' },
    cache: 'no-store',
    credentials: 'same-origin',
  }).catch(() => {
    throw new Unreachable();
  });
  if (!response.ok) throw new Unreachable();
  const answer = keysAnswerSchema.parse(await response.json());
  const blocks = armoredKeyBlocks(answer.keys);
  const keys = (await Promise.all(blocks.map((armoredKeys) => readKeys({ armoredKeys, config: pgp.config })))).flat();
  const fingerprints = keys.map((key) => key.getFingerprint().toUpperCase()).sort();
  if (keys.length === 0 || keys.some((key) => key.isPrivate()) || fingerprints.join() !== [...answer.fingerprints].sort().join()) {
    throw new TypeError('the staff keys are not usable');
  }
  const served = Date.parse(response.headers.get('date') ?? '');
  return { keys, date: Number.isNaN(served) ? new Date() : new Date(served), reference: answer.reference, ticket: answer.ticket };
}

/** The request body: the clear fields the server needs, the report and the photos encrypted. */
async function seal(input: SealInput, staff: Issued): Promise<FormData> {
  const { application, photos } = input;
  const { reference } = staff;
  const filledMs = Math.max(0, Math.round(input.filledMs));
  // The report says how long the form took, as the server's does for a post without JS.
  const report = composeReport({ ...application, filled_ms: filledMs }, {
    reference,
    receivedAt: new Date().toISOString(),
    sealed: true,
    photoCount: photos.length,
  });
  // Typed as the server's schema reads them: the compiler checks the island sends what it checks.
  const fields: SealedFields = {
    kind: application.kind,
    locale: application.locale,
    consent: application.consent,
    website: input.website,
    filled_ms: String(filledMs),
    reference,
    [TICKET_FIELD]: staff.ticket,
    [SEALED_FIELD]: await encryptText(pgp, padText(report), staff.keys, staff.date),
  };
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) body.set(name, value);
  for (const [i, photo] of photos.entries()) {
    const bytes = await encryptPhoto(pgp, photo, i + 1, staff.keys, staff.date);
    // The part's file name is readable on the way: the reference and a number, as in the mail.
    body.append(SEALED_PHOTO_FIELD, new Blob([bytes as BlobPart], { type: 'application/octet-stream' }), attachmentName(reference, i + 1));
  }
  return body;
}

/** Posts a sealed body; never throws: a dropped connection or a bad answer is a `failed` result. */
async function post(body: FormData): Promise<SendResult> {
  // AbortSignal.timeout is missing from older phone browsers; a timer works everywhere.
  const abort = new AbortController();
  // After the server's whole-request timeout the answer can not come any more.
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(ENDPOINT, {
      method: 'POST',
      body,
      headers: { Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'same-origin',
      signal: abort.signal,
    });
    const data: unknown = await response.json().catch(() => undefined);
    return resultOf(response.status, data);
  } catch {
    return { type: 'failed' };
  } finally {
    clearTimeout(timer);
  }
}

/** The answer read with the contract's schema: anything it does not declare is a plain failure. */
function resultOf(status: number, data: unknown): SendResult {
  const parsed = applicationAnswerSchema.safeParse(data);
  if (!parsed.success) return { type: 'failed', status };
  const answer = parsed.data;
  if (answer.ok) return status < 300 ? { type: 'sent', reference: answer.reference, sealed: answer.sealed } : { type: 'failed', status };
  if (answer.error === 'validation' && answer.fields !== undefined) return { type: 'invalid', fields: answer.fields };
  const failed: SendResult = { type: 'failed', status, error: answer.error, message: answer.message };
  if (answer.retryAfter !== undefined) failed.retryAfter = answer.retryAfter;
  return failed;
}

/**
 * The last post that got no answer (the connection dropped, or the server could not keep it):
 * sending the same application again re-sends these very bytes, so if the first one did arrive,
 * the server recognises it and nothing reaches staff twice.
 */
let unanswered: { input: SealInput; body: FormData } | undefined;

function samePhotos(a: SealInput['photos'], b: SealInput['photos']): boolean {
  return a.length === b.length && a.every((photo, i) => {
    const other = b[i];
    return other !== undefined && photo.bytes.byteLength === other.bytes.byteLength && photo.bytes.every((byte, j) => byte === other.bytes[j]);
  });
}

/** The same application as before: same answers, same photos (the time on the form aside). */
function sameApplication(a: SealInput, b: SealInput): boolean {
  return JSON.stringify(a.application) === JSON.stringify(b.application) && a.website === b.website && samePhotos(a.photos, b.photos);
}

/** No answer, or the server's own fault: the same bytes may be sent again. */
const unsettled = (result: SendResult) => result.type === 'failed' && (result.status === undefined || result.status >= 500);

/**
 * Encrypts and sends, quietly recovering from the two conflicts a person can do nothing about:
 * keys that changed since they were fetched (fetched again, once) and a reference already in
 * use (another is asked for). Only a second key change is shown, with the server's words.
 */
export async function sendSealed(input: SealInput): Promise<SendResult> {
  if (unanswered !== undefined && sameApplication(unanswered.input, input)) {
    const result = await post(unanswered.body);
    if (!unsettled(result)) unanswered = undefined;
    return result;
  }
  unanswered = undefined;
  let keysChanged = false;
  for (let draws = 1; ; draws++) {
    let body: FormData;
    try {
      body = await seal(input, await fetchKeys());
    } catch (error) {
      return error instanceof Unreachable ? { type: 'failed' } : { type: 'failed', error: ENCRYPT_FAILED };
    }
    const result = await post(body);
    if (unsettled(result)) unanswered = { input, body };
    const conflict = result.type === 'failed' ? result.error : undefined;
    if (conflict === 'keys_changed' && !keysChanged) keysChanged = true;
    else if (conflict !== 'reference_taken' || draws >= MAX_REFERENCE_DRAWS) return result;
  }
}
