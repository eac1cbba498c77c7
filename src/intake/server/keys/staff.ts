/**
 * The staff's public keys: read once at start-up, checked, and refused with a clear message
 * naming the fingerprint when a key could not protect an application (expired, revoked, no
 * encryption subkey, or a secret key given by mistake), or, in production, when it is the
 * development key pair however it was given.
 */
import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import type { PublicKey } from 'openpgp';
import { armoredKeyBlocks } from '../../contract/pgp.ts';
import { ConfigError, type Config } from '../config.ts';
import { fingerprintOf, pgpConfig } from '../pgp.ts';
import type { Logger } from '../types.ts';
import { devKeyProblems, devKeys } from './dev.ts';

/** The checked staff keys, and where they came from. */
export interface StaffKeys {
  keys: PublicKey[];
  fingerprints: string[];
  /** All public keys, armored and concatenated (what doctor shows and tests import). */
  armored: string;
  source: 'file' | 'env' | 'dev';
}

/** What an operator needs to recognise a key. */
export interface KeyDescription {
  fingerprint: string;
  algorithm: string;
  created: string;
  /** ISO date, or null when the key never expires. */
  expires: string | null;
}

/** Fingerprint, algorithm, creation and expiry of a key, for logs and `npm run doctor`. */
export async function describeKey(key: PublicKey): Promise<KeyDescription> {
  const info = key.getAlgorithmInfo();
  const bits = info.bits === undefined ? '' : ` ${info.bits}`;
  const curve = info.curve === undefined ? '' : ` ${info.curve}`;
  const expiration = await key.getExpirationTime(undefined, pgpConfig);
  return {
    fingerprint: fingerprintOf(key),
    algorithm: `${info.algorithm}${bits}${curve} (v${key.keyPacket.version})`,
    created: key.getCreationTime().toISOString(),
    expires: expiration instanceof Date ? expiration.toISOString() : null,
  };
}

/** Reads every armored block in `text` (split first: see armoredKeyBlocks). */
async function readArmoredKeys(text: string, origin: string): Promise<PublicKey[]> {
  const blocks = armoredKeyBlocks(text);
  if (blocks.length === 0) {
    throw new ConfigError([`${origin}: no ASCII-armored public key found (export one with gpg --armor --export)`]);
  }
  const keys: PublicKey[] = [];
  for (const [index, block] of blocks.entries()) {
    let read;
    try {
      read = await openpgp.readKeys({ armoredKeys: block, config: pgpConfig });
    } catch (error) {
      throw new ConfigError([`${origin}: key block ${index + 1} can not be read: ${(error as Error).message}`]);
    }
    for (const key of read) {
      if (key.isPrivate()) {
        throw new ConfigError([
          `${origin}: key ${fingerprintOf(key)} is a SECRET key; give the server only public keys (gpg --armor --export)`,
        ]);
      }
      keys.push(key);
    }
  }
  return keys;
}

/** Why a key can not be used to encrypt today, or null when it can. */
async function unusableBecause(key: PublicKey, now: Date): Promise<string | null> {
  const config = pgpConfig;
  if (await key.isRevoked(undefined, undefined, now, config)) return 'is revoked';
  const expiration = await key.getExpirationTime(undefined, config);
  if (expiration instanceof Date && expiration.getTime() <= now.getTime()) {
    return `expired on ${expiration.toISOString().slice(0, 10)}`;
  }
  try {
    await key.getEncryptionKey(undefined, now, undefined, config);
  } catch (error) {
    return `can not encrypt (${(error as Error).message})`;
  }
  return null;
}

/**
 * True while every key can still be encrypted to: a key that expired (or was revoked) since
 * the start would make every application fail to encrypt. For GET /healthz.
 */
export async function keysUsable(keys: readonly PublicKey[], now = new Date()): Promise<boolean> {
  if (keys.length === 0) return false;
  for (const key of keys) if ((await unusableBecause(key, now)) !== null) return false;
  return true;
}

/** Operators get a month's notice: an expired key stops the server at its next start. */
export const EXPIRY_WARNING_DAYS = 30;

async function expiringSoon(keys: PublicKey[], now = new Date()): Promise<string[]> {
  const limit = now.getTime() + EXPIRY_WARNING_DAYS * 86_400_000;
  const soon: string[] = [];
  for (const key of keys) {
    const expiration = await key.getExpirationTime(undefined, pgpConfig);
    if (expiration instanceof Date && expiration.getTime() < limit) soon.push(fingerprintOf(key));
  }
  return soon;
}

/** Checks every key and fails with all the problems at once, each naming its fingerprint. */
async function usableKeys(keys: PublicKey[], origin: string, earlier: string[]): Promise<PublicKey[]> {
  const now = new Date();
  const problems = [...earlier];
  const unique = new Map<string, PublicKey>();
  for (const key of keys) {
    const reason = await unusableBecause(key, now);
    if (reason !== null) problems.push(`${origin}: key ${fingerprintOf(key)} ${reason}`);
    unique.set(fingerprintOf(key), key);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return [...unique.values()];
}

async function readKeyText(config: Config, logger: Logger): Promise<{ text: string; origin: string }> {
  const keys = config.keys;
  if (keys.source === 'env') {
    // Env files and some hosting panels can not hold newlines; accept them written as \n.
    const text = keys.armored.includes('\n') ? keys.armored : keys.armored.replaceAll('\\n', '\n');
    return { text, origin: 'STAFF_PGP_KEYS' };
  }
  if (keys.source === 'dev') {
    if (config.production) throw new ConfigError(['STAFF_PGP_KEYS_FILE: dev keys are never used when APP_ENV=production']);
    return { text: await devKeys(keys.dir, logger), origin: `DEV_KEYS_DIR (${keys.dir})` };
  }
  try {
    return { text: await readFile(keys.file, 'utf8'), origin: `STAFF_PGP_KEYS_FILE (${keys.file})` };
  } catch (error) {
    throw new ConfigError([`STAFF_PGP_KEYS_FILE: can not read ${keys.file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`]);
  }
}

/**
 * Loads and checks the staff keys named by the configuration (file, text, or the generated
 * dev pair). Throws a ConfigError when any key is unusable: the server must not start and
 * accept applications nobody could read.
 */
export async function loadStaffKeys(config: Config, logger: Logger): Promise<StaffKeys> {
  const { text, origin } = await readKeyText(config, logger);
  const read = await readArmoredKeys(text, origin);
  const keys = await usableKeys(read, origin, config.production ? await devKeyProblems(config, read, origin) : []);
  const fingerprints = keys.map(fingerprintOf);
  const source = config.keys.source;
  const expiring = await expiringSoon(keys);
  if (expiring.length > 0) logger.warn('keys.expiring', { fingerprints: expiring });
  if (config.keys.source === 'dev') {
    // Announced as a warning: applications are readable with the secret key lying next to them.
    logger.warn('keys.dev_in_use', { source, dir: config.keys.dir, fingerprints });
  } else {
    logger.info('keys.loaded', { source, count: keys.length, fingerprints });
  }
  return { keys, fingerprints, armored: keys.map((key) => key.armor(pgpConfig)).join('\n'), source };
}
