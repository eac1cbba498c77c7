/**
 * Encryption on the device, loaded only when the person sends (or chooses a photo). It fetches
 * the staff's public keys, composes the very report the server would (report.ts), encrypts it
 * and each photo to every key with the same core as the server (pgp.ts), and posts only the
 * ciphertext and the few fields the server must read in the clear. openpgp.js is most of it.
 */
import { armor, config, createMessage, encrypt, enums, readKeys } from 'openpgp/lightweight';
import type { PublicKey } from 'openpgp';
import { armoredKeyBlocks, encryptPhoto, encryptText, pgpOf } from '../contract/pgp.ts';
import { composeReport, padText } from '../contract/report.ts';
import { keysAnswerSchema, SEALED_FIELD, SEALED_PHOTO_FIELD, TICKET_FIELD } from '../contract/sealed.ts';
import { ENCRYPT_FAILED, ENDPOINT, type SealInput, type SendResult } from './submit.ts';

// Named imports, not the namespace: the bundler keeps only what encryption needs.
const pgp = pgpOf({ armor, config, createMessage, encrypt, enums });

// Matches the server's whole-request timeout: after that the answer can not come any more.
const SEND_TIMEOUT_MS = 120_000;
// A reference already in use (409) is asked for again; more than this is not chance.
const MAX_REFERENCE_DRAWS = 3;

/** The keys could not be fetched at all: the connection, not the encryption. */
class Unreachable extends Error {
  override name = 'Unreachable';
}

interface StaffKeys {
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
async function fetchKeys(): Promise<StaffKeys> {
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
async function seal(input: SealInput, staff: StaffKeys): Promise<FormData> {
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
  const body = new FormData();
  body.set('kind', application.kind);
  body.set('locale', application.locale);
  body.set('consent', application.consent);
  body.set('website', input.website);
  body.set('filled_ms', String(filledMs));
  body.set('reference', reference);
  body.set(TICKET_FIELD, staff.ticket);
  body.set(SEALED_FIELD, await encryptText(pgp, padText(report), staff.keys, staff.date));
  for (const [i, photo] of photos.entries()) {
    const bytes = await encryptPhoto(pgp, photo, i + 1, staff.keys, staff.date);
    // The part's file name is readable on the way: the reference and a number, as in the mail.
    body.append(SEALED_PHOTO_FIELD, new Blob([bytes as BlobPart], { type: 'application/octet-stream' }), `${reference}-${i + 1}.pgp`);
  }
  return body;
}

/** Posts a sealed body; never throws: a dropped connection or a bad answer is a `failed` result. */
async function post(body: FormData): Promise<SendResult> {
  // AbortSignal.timeout is missing from older phone browsers; a timer works everywhere.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), SEND_TIMEOUT_MS);
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

function resultOf(status: number, data: unknown): SendResult {
  const answer = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  if (status < 300 && answer['ok'] === true && typeof answer['reference'] === 'string') {
    return { type: 'sent', reference: answer['reference'], sealed: answer['sealed'] === true };
  }
  const fields = answer['fields'];
  if (status === 400 && typeof fields === 'object' && fields !== null) {
    return { type: 'invalid', fields: fields as Record<string, string> };
  }
  const failed: SendResult = { type: 'failed', status };
  if (typeof answer['error'] === 'string') failed.error = answer['error'];
  if (typeof answer['message'] === 'string') failed.message = answer['message'];
  if (typeof answer['retryAfter'] === 'number') failed.retryAfter = answer['retryAfter'];
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
