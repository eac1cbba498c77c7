/**
 * Encrypts an application to every staff key. Nothing readable leaves this function: the
 * envelope holds the reference, kind, time and ciphertext only.
 */
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import type { Message, MaybeStream, PublicKey } from 'openpgp';
import { pgpConfig } from './keys.ts';
import { referencePattern, type Envelope, type Kind } from './types.ts';

/** A composed application, before encryption. `text` is the report, already padded. */
export interface PlainApplication {
  reference: string;
  kind: Kind;
  createdAt: string;
  text: string;
  photos: { bytes: Uint8Array; type: string }[];
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
};

/**
 * One message, several recipients. The session key is made here, without an AEAD mode:
 * openpgp.js would otherwise choose SEIPDv2 whenever every recipient key advertises it, and
 * a staff member opening mail in GnuPG 2.2 could not read it (see `pgpConfig`).
 */
async function encryptTo(message: Message<MaybeStream<Uint8Array | string>>, keys: readonly PublicKey[]): Promise<string> {
  return openpgp.encrypt({
    message,
    encryptionKeys: [...keys],
    sessionKey: { data: randomBytes(32), algorithm: 'aes256' },
    format: 'armored',
    config: pgpConfig,
  });
}

/**
 * The photo travels as a binary literal named `photo-N.<ext>` inside the ciphertext, so gpg
 * restores it byte for byte; outside, the attachment is only `<REFERENCE>-N.pgp`.
 */
async function encryptPhoto(
  reference: string,
  index: number,
  photo: PlainApplication['photos'][number],
  keys: readonly PublicKey[],
): Promise<Envelope['attachments'][number]> {
  const extension = EXTENSIONS[photo.type];
  if (extension === undefined) throw new TypeError(`photo ${index} has an unsupported type`);
  const message = await openpgp.createMessage({ binary: photo.bytes, filename: `photo-${index}.${extension}`, format: 'binary' });
  return { filename: `${reference}-${index}.pgp`, armored: await encryptTo(message, keys) };
}

/** Encrypts the report and each photo to all `keys`; returns a fresh envelope (attempts = 0). */
export async function encryptApplication(application: PlainApplication, keys: readonly PublicKey[]): Promise<Envelope> {
  const { reference, kind, createdAt, text, photos } = application;
  if (!referencePattern.test(reference)) throw new TypeError('reference is not a reference code');
  if (keys.length === 0) throw new TypeError('no staff key to encrypt to');
  const armored = await encryptTo(await openpgp.createMessage({ text }), keys);
  const attachments: Envelope['attachments'] = [];
  for (const [i, photo] of photos.entries()) {
    attachments.push(await encryptPhoto(reference, i + 1, photo, keys));
  }
  return { reference, kind, createdAt, armored, attachments, attempts: 0 };
}
