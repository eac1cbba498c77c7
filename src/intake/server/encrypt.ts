/**
 * Encrypts an application on the server (a form posted without JavaScript) to every staff key.
 * Nothing readable leaves this function: the envelope holds the reference, kind, time and
 * ciphertext only. The OpenPGP work itself is pgp.ts, which the browser shares.
 */
import type { PublicKey } from 'openpgp';
import { serverPgp as pgp } from './pgp.ts';
import { armorMessage, attachmentName, encryptPhoto, encryptText, type PlainPhoto } from '../contract/pgp.ts';
import { isReference } from '../contract/reference.ts';
import type { Envelope } from './types.ts';
import { type Kind } from '../contract/kinds.ts';

/** A composed application, before encryption. `text` is the report, already padded. */
export interface PlainApplication {
  reference: string;
  kind: Kind;
  createdAt: string;
  text: string;
  photos: PlainPhoto[];
}

/** Encrypts the report and each photo to all `keys`; returns a fresh envelope (attempts = 0). */
export async function encryptApplication(application: PlainApplication, keys: readonly PublicKey[]): Promise<Envelope> {
  const { reference, kind, createdAt, text, photos } = application;
  if (!isReference(reference)) throw new TypeError('reference is not a reference code');
  const armored = await encryptText(pgp, text, keys);
  const attachments: Envelope['attachments'] = [];
  for (const [i, photo] of photos.entries()) {
    const bytes = await encryptPhoto(pgp, photo, i + 1, keys);
    attachments.push({ filename: attachmentName(reference, i + 1), armored: armorMessage(pgp, bytes) });
  }
  return { reference, kind, createdAt, armored, attachments, attempts: 0 };
}
