/** The server's OpenPGP: the Node build of openpgp.js, set up once for everything it writes or reads. */
import * as openpgp from 'openpgp';
import type { PublicKey } from 'openpgp';
import { pgpOf, type Pgp } from '../contract/pgp.ts';

/**
 * The server's openpgp.js (the Node build) with the settings for everything it produces or
 * reads: GnuPG 2.2-compatible (pgp.ts explains; the browser builds the same from its module).
 */
export const serverPgp: Pgp = pgpOf(openpgp);
export const pgpConfig: openpgp.Config = serverPgp.config;

/** Fingerprint as gpg prints it, so operators can compare them by eye. */
export function fingerprintOf(key: PublicKey): string {
  return key.getFingerprint().toUpperCase();
}
