/**
 * Throwaway staff key pairs for tests. RSA generation is slow on two cores: make one per file.
 */
import * as openpgp from 'openpgp';

export interface TestKeyPair {
  publicKey: string;
  privateKey: string;
  fingerprint: string;
}

async function pair(generated: { publicKey: string; privateKey: string }): Promise<TestKeyPair> {
  const key = await openpgp.readKey({ armoredKey: generated.publicKey });
  return { ...generated, fingerprint: key.getFingerprint().toUpperCase() };
}

export interface EccOptions {
  name?: string;
  /** Seconds after `date` when the key expires. */
  keyExpirationTime?: number;
  /** Creation date (in the past, with keyExpirationTime, makes an already expired key). */
  date?: Date;
  /** e.g. `{ aeadProtect: true }` makes a key that advertises SEIPDv2 support. */
  config?: openpgp.PartialConfig;
}

/** A v4 curve25519Legacy pair, like GnuPG 2.2 makes and reads. */
export async function eccKeyPair(options: EccOptions = {}): Promise<TestKeyPair> {
  const name = options.name ?? 'Test staff ECC';
  return pair(await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    format: 'armored',
    userIDs: [{ name, email: 'ecc@staff.example.org' }],
    ...(options.keyExpirationTime === undefined ? {} : { keyExpirationTime: options.keyExpirationTime }),
    ...(options.date === undefined ? {} : { date: options.date }),
    ...(options.config === undefined ? {} : { config: options.config }),
  }));
}

/** An RSA 2048 pair. */
export async function rsaKeyPair(): Promise<TestKeyPair> {
  return pair(await openpgp.generateKey({
    type: 'rsa',
    rsaBits: 2048,
    format: 'armored',
    userIDs: [{ name: 'Test staff RSA', email: 'rsa@staff.example.org' }],
  }));
}

/** A pair whose public key carries a revocation signature. */
export async function revokedKeyPair(): Promise<TestKeyPair> {
  const base = await eccKeyPair({ name: 'Revoked staff' });
  const key = await openpgp.readPrivateKey({ armoredKey: base.privateKey });
  const revoked = await openpgp.revokeKey({ key, format: 'armored' });
  return { ...base, publicKey: revoked.publicKey };
}

/** A pair without an encryption subkey (signing only). */
export async function signOnlyKeyPair(): Promise<TestKeyPair> {
  return pair(await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    format: 'armored',
    userIDs: [{ name: 'Sign only', email: 'sign@staff.example.org' }],
    subkeys: [{ sign: true }],
  }));
}
