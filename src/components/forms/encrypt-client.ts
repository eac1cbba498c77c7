/**
 * Encryption on the device, loaded only when the person sends (or chooses a photo). It fetches
 * the staff's public keys, composes the very report the server would (report.ts), encrypts it
 * and each photo to every key with the same core as the server (pgp.ts), and posts only the
 * ciphertext and the few fields the server must read in the clear. openpgp.js is most of it.
 */
import { armor, config, createMessage, encrypt, enums, readKeys } from 'openpgp/lightweight';
import type { PublicKey } from 'openpgp';
import * as z from 'zod/mini';
import { armoredKeyBlocks, encryptPhoto, encryptText, pgpOf } from '../../applications/pgp.ts';
import { newReference } from '../../applications/reference.ts';
import { composeReport, padText } from '../../applications/report.ts';
import { SEALED_FIELD, SEALED_PHOTO_FIELD } from '../../applications/sealed-schema.ts';
import { ENCRYPT_FAILED, ENDPOINT, type SealInput, type SendResult } from './submit.ts';

// Named imports, not the namespace: the bundler keeps only what encryption needs.
const pgp = pgpOf({ armor, config, createMessage, encrypt, enums });

// Matches the server's whole-request timeout: after that the answer can not come any more.
const SEND_TIMEOUT_MS = 120_000;
// A reference the outbox already holds (409) is redrawn; more than this is not chance.
const MAX_REFERENCE_DRAWS = 3;

/** The keys could not be fetched at all: the connection, not the encryption. */
class Unreachable extends Error {
  override name = 'Unreachable';
}

const keysAnswer = z.object({ keys: z.string(), fingerprints: z.array(z.string()) });

interface StaffKeys {
  keys: PublicKey[];
  /** The server's clock when it answered: a phone's own clock may be years off. */
  date: Date;
}

/**
 * The staff's public keys, as the endpoint gives them. `fresh` goes past the browser's cache,
 * after the server said the keys changed. The fingerprints must be those of the keys sent.
 */
async function fetchKeys(fresh: boolean): Promise<StaffKeys> {
  const response = await fetch(ENDPOINT, {
    headers: { Accept: 'application/json' },
    cache: fresh ? 'reload' : 'default',
    credentials: 'same-origin',
  }).catch(() => {
    throw new Unreachable();
  });
  if (!response.ok) throw new Unreachable();
  const answer = keysAnswer.parse(await response.json());
  const blocks = armoredKeyBlocks(answer.keys);
  const keys = (await Promise.all(blocks.map((armoredKeys) => readKeys({ armoredKeys, config: pgp.config })))).flat();
  const fingerprints = keys.map((key) => key.getFingerprint().toUpperCase()).sort();
  if (keys.length === 0 || keys.some((key) => key.isPrivate()) || fingerprints.join() !== [...answer.fingerprints].sort().join()) {
    throw new TypeError('the staff keys are not usable');
  }
  const served = Date.parse(response.headers.get('date') ?? '');
  return { keys, date: Number.isNaN(served) ? new Date() : new Date(served) };
}

/** The request body: the clear fields the server needs, the report and the photos encrypted. */
async function seal(input: SealInput, staff: StaffKeys, reference: string): Promise<FormData> {
  const { application, photos } = input;
  const report = composeReport(application, {
    reference,
    receivedAt: new Date().toISOString(),
    encryptedOnDevice: true,
    photoCount: photos.length,
  });
  const body = new FormData();
  body.set('kind', application.kind);
  body.set('locale', application.locale);
  body.set('consent', application.consent);
  body.set('website', input.website);
  body.set('filled_ms', String(Math.max(0, Math.round(input.filledMs))));
  body.set('reference', reference);
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
    return { type: 'sent', reference: answer['reference'], encryptedOnDevice: answer['encryptedOnDevice'] === true };
  }
  const fields = answer['fields'];
  if (status === 400 && typeof fields === 'object' && fields !== null) {
    return { type: 'invalid', fields: fields as Record<string, string> };
  }
  const failed: SendResult = { type: 'failed' };
  if (typeof answer['error'] === 'string') failed.error = answer['error'];
  if (typeof answer['message'] === 'string') failed.message = answer['message'];
  if (typeof answer['retryAfter'] === 'number') failed.retryAfter = answer['retryAfter'];
  return failed;
}

/**
 * Encrypts and sends, quietly recovering from the two conflicts a person can do nothing about:
 * keys that changed since they were fetched (fetched again past the cache, once) and a reference
 * already taken (a new one is drawn). Only a second key change is shown, with the server's words.
 */
export async function sendSealed(input: SealInput): Promise<SendResult> {
  let fresh = false;
  for (let draws = 1; ; draws++) {
    let body: FormData;
    try {
      body = await seal(input, await fetchKeys(fresh), newReference());
    } catch (error) {
      return error instanceof Unreachable ? { type: 'failed' } : { type: 'failed', error: ENCRYPT_FAILED };
    }
    const result = await post(body);
    const conflict = result.type === 'failed' ? result.error : undefined;
    if (conflict === 'keys_changed' && !fresh) fresh = true;
    else if (conflict !== 'reference_taken' || draws >= MAX_REFERENCE_DRAWS) return result;
  }
}
