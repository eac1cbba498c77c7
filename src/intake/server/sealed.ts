/**
 * The step for an application the browser encrypted before sending. The server holds no secret
 * key and decrypts nothing: it checks that every part is an OpenPGP message and nothing else —
 * session keys for exactly the staff keys it holds, then one integrity-protected SEIPDv1 packet
 * that GnuPG 2.2 opens — and that nothing readable travels beside it.
 */
import * as openpgp from 'openpgp';
import type { Message, PublicKey } from 'openpgp';
import { KeysChangedError, SealedInvalidError } from './errors.ts';
import { pgpConfig, serverPgp } from './pgp.ts';
import { armorMessage, attachmentName } from '../contract/pgp.ts';
import { MAX_PHOTOS } from '../contract/fields.ts';
import { MAX_SEALED_PHOTO_BYTES, SEALED_FIELD, SEALED_PHOTO_FIELD, sealedSchema, type SealedFields } from '../contract/sealed.ts';
import type { Envelope, RawSubmission } from './types.ts';

/** A checked request: its clear fields, and the ciphertext ready for the outbox. */
export interface SealedApplication {
  fields: SealedFields;
  armored: string;
  attachments: Envelope['attachments'];
}

/** True when the request says it was encrypted in the browser; it is then checked only as such. */
export function isSealedRequest(raw: RawSubmission): boolean {
  return raw.fields.has(SEALED_FIELD) || raw.files.some((file) => file.field === SEALED_PHOTO_FIELD);
}

// Armor as openpgp.js writes it: no header lines (a `Comment:` could carry anything in the
// clear), base64 lines with padding only at the end, an optional checksum. Anything else is not
// what the island sends. Read line by line, each line against an anchored pattern of its own:
// one pattern over the whole armor backtracks through every line it has read when it fails.
const BEGIN = '-----BEGIN PGP MESSAGE-----';
const END = '-----END PGP MESSAGE-----';
const BASE64_LINE = /^[A-Za-z0-9+/]{1,76}$/;
const PADDED_LINE = /^[A-Za-z0-9+/]{0,75}={1,2}$/;
const CHECKSUM_LINE = /^=[A-Za-z0-9+/]{4}$/;

/** The base64 of an armored message, or undefined when the armor is not as openpgp.js writes it. */
function armoredBase64(text: string): string | undefined {
  const lines = text.trimEnd().split(/\r?\n/);
  if (lines.length < 4 || lines[0] !== BEGIN || lines[1] !== '' || lines[lines.length - 1] !== END) return undefined;
  const body = lines.slice(2, -1);
  if (CHECKSUM_LINE.test(body[body.length - 1] ?? '')) body.pop();
  const padded = PADDED_LINE.test(body[body.length - 1] ?? '') ? body.pop() : '';
  return body.every((line) => BASE64_LINE.test(line)) ? body.join('') + padded : undefined;
}

// Refuse what openpgp.js would otherwise skip over: an unknown or broken packet is not ours.
const strict = { ...pgpConfig, ignoreUnsupportedPackets: false, ignoreMalformedPackets: false };

// A key ID of zeros is an anonymous recipient: nobody could check whom it is for.
const WILDCARD = /^0+$/;

function fieldsOf(raw: RawSubmission): SealedFields {
  const entries: [string, string][] = [];
  for (const [name, values] of raw.fields) {
    if (values.length !== 1) throw new SealedInvalidError('fields');
    entries.push([name, values[0] as string]);
  }
  // fromEntries defines own properties, so a field named `__proto__` stays a field (and is refused).
  const parsed = sealedSchema.safeParse(Object.fromEntries(entries));
  if (!parsed.success) throw new SealedInvalidError('fields');
  return parsed.data;
}

/**
 * The binary message inside the armor. The server armors it again itself: openpgp.js does not
 * check the checksum line it reads, and GnuPG 2.2 needs a right one (see armorMessage).
 */
function unarmor(text: string): Uint8Array {
  const base64 = armoredBase64(text);
  if (!base64) throw new SealedInvalidError('armor');
  return new Uint8Array(Buffer.from(base64, 'base64'));
}

async function readBinary(bytes: Uint8Array): Promise<Message<Uint8Array>> {
  if (bytes.byteLength > MAX_SEALED_PHOTO_BYTES) throw new SealedInvalidError('size');
  return openpgp.readMessage({ binaryMessage: bytes, config: strict }).catch(() => {
    throw new SealedInvalidError('packets');
  });
}

// openpgp.js's typings omit the packets' `version`: v3 session keys go with SEIPDv1.
const versionOf = (packet: object): unknown => (packet as { version?: unknown }).version;

/**
 * The recipients' key IDs (hex) of a message that is session keys, then one SEIPDv1 packet, and
 * nothing else: no literal, compressed or signature packet in the clear, no AEAD (gpg 2.2).
 */
function recipientsOf(message: Message<Uint8Array>): string[] {
  const packets = [...message.packets];
  const data = packets.pop();
  const sessionKeys = packets.every((p) => p instanceof openpgp.PublicKeyEncryptedSessionKeyPacket && versionOf(p) === 3);
  const sealed = data instanceof openpgp.SymEncryptedIntegrityProtectedDataPacket && versionOf(data) === 1;
  if (packets.length === 0 || !sessionKeys || !sealed) throw new SealedInvalidError('packets');
  const ids = message.getEncryptionKeyIDs().map((id) => id.toHex());
  if (ids.length !== packets.length || ids.some((id) => WILDCARD.test(id)) || new Set(ids).size !== ids.length) {
    throw new SealedInvalidError('recipients');
  }
  return ids.sort();
}

/**
 * The key IDs openpgp.js encrypts to for these keys today: each key's current encryption
 * subkey, which is what the browser's openpgp.js picks from the same public keys.
 */
export async function encryptionKeyIds(keys: readonly PublicKey[], now = new Date()): Promise<string[]> {
  const subkeys = await Promise.all(keys.map((key) => key.getEncryptionKey(undefined, now, undefined, pgpConfig)));
  return subkeys.map((subkey) => subkey.getKeyID().toHex()).sort();
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

function checkFiles(raw: RawSubmission, fields: SealedFields): Uint8Array[] {
  if (raw.files.some((file) => file.field !== SEALED_PHOTO_FIELD)) throw new SealedInvalidError('fields');
  if (raw.files.length > 0 && fields.kind !== 'missing') throw new SealedInvalidError('fields');
  if (raw.files.length > MAX_PHOTOS) throw new SealedInvalidError('size');
  return raw.files.map((file) => file.bytes);
}

/**
 * Checks an encrypted request against the staff `keys`. Throws SealedInvalidError (400) for
 * anything but what the island sends, KeysChangedError (409) when the parts are encrypted to
 * another set of keys than the server holds (a rotation during the visit, or a wrong key).
 */
export async function checkSealed(raw: RawSubmission, keys: readonly PublicKey[], now = new Date()): Promise<SealedApplication> {
  const fields = fieldsOf(raw);
  const photos = checkFiles(raw, fields);
  const text = unarmor(fields[SEALED_FIELD]);
  const recipients = recipientsOf(await readBinary(text));
  for (const photo of photos) {
    // The browser encrypts every part at once to the same keys: parts that disagree are forged.
    if (!sameList(recipientsOf(await readBinary(photo)), recipients)) throw new SealedInvalidError('recipients');
  }
  if (!sameList(recipients, await encryptionKeyIds(keys, now))) throw new KeysChangedError();
  return {
    fields,
    armored: armorMessage(serverPgp, text),
    attachments: photos.map((bytes, i) => ({ filename: attachmentName(fields.reference, i + 1), armored: armorMessage(serverPgp, bytes) })),
  };
}
