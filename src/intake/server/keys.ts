/**
 * The staff's public keys: read once at start-up, checked, and refused with a clear message
 * naming the fingerprint when a key could not protect an application (expired, revoked, no
 * encryption subkey, or a secret key given by mistake), or, in production, when it is the
 * development key pair however it was given.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, realpath, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import * as openpgp from 'openpgp';
import type { PublicKey } from 'openpgp';
import { ConfigError, type Config } from './config.ts';
import { armoredKeyBlocks, pgpOf, type Pgp } from '../contract/pgp.ts';
import type { Logger } from './types.ts';

/**
 * The server's openpgp.js (the Node build) with the settings for everything it produces or
 * reads: GnuPG 2.2-compatible (pgp.ts explains; the browser builds the same from its module).
 */
export const serverPgp: Pgp = pgpOf(openpgp);
export const pgpConfig: openpgp.Config = serverPgp.config;

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

const DEV_PUBLIC = 'staff.pub.asc';
const DEV_SECRET = 'staff.sec.asc';
/** The user ID of the generated development key: never a staff key. */
const DEV_EMAIL = 'dev-staff@localhost';

/** Fingerprint as gpg prints it, so operators can compare them by eye. */
function fingerprintOf(key: PublicKey): string {
  return key.getFingerprint().toUpperCase();
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
async function checkKeys(keys: PublicKey[], origin: string, earlier: string[]): Promise<PublicKey[]> {
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

const PRIVATE_BLOCK = '-----BEGIN PGP PRIVATE KEY BLOCK-----';
/** Of each file beside the key file, the first MiB is searched for a secret key (keys take a few KB). */
const SCAN_BYTES = 1024 * 1024;
/** A folder with more files than this is not searched: the key file belongs in a folder of its own. */
const SCAN_FILES = 1000;
const OWN_KEYS = "give the staff's own public keys (gpg --armor --export) when APP_ENV=production";

async function realOrResolved(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}

/** Whether `path` is `dir` or inside it, symbolic links followed. */
async function isInside(path: string, dir: string): Promise<boolean> {
  const rel = relative(await realOrResolved(dir), await realOrResolved(path));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * The files beside `file` that hold a secret key: named `*.sec.asc`, or with an armored
 * private key block in their first MiB. Only regular files are opened (a FIFO would block the
 * start); those the server may not read are passed over. Null when the folder has too many.
 */
async function secretsBeside(file: string): Promise<string[] | null> {
  const real = await realOrResolved(file);
  const dirs = [...new Set([dirname(file), dirname(real)])];
  const found: string[] = [];
  const buffer = Buffer.alloc(SCAN_BYTES);
  for (const dir of dirs) {
    const names = await readdir(dir).catch(() => []);
    if (names.length > SCAN_FILES) return null;
    for (const name of names) {
      const path = join(dir, name);
      if (path === file || path === real) continue;
      if (name.endsWith('.sec.asc')) {
        found.push(path);
        continue;
      }
      try {
        if (!(await stat(path)).isFile()) continue;
        const handle = await open(path, 'r');
        try {
          const { bytesRead } = await handle.read(buffer, 0, SCAN_BYTES, 0);
          if (buffer.subarray(0, bytesRead).includes(PRIVATE_BLOCK)) found.push(path);
        } finally {
          await handle.close();
        }
      } catch {
        // Unreadable by the server: nothing it could leak either.
      }
    }
  }
  return found;
}

/**
 * In production, the development key pair is refused however it is given: a key file in
 * DEV_KEYS_DIR, a key file with a secret key lying beside it, or a key with the dev key's user
 * ID. Its secret key is on the server, so whoever reads the server reads every application.
 */
async function devKeyProblems(config: Config, keys: PublicKey[], origin: string): Promise<string[]> {
  const problems: string[] = [];
  if (config.keys.source === 'file') {
    const { file } = config.keys;
    if (await isInside(file, config.devKeysDir)) {
      problems.push(`STAFF_PGP_KEYS_FILE: ${file} is in DEV_KEYS_DIR (${config.devKeysDir}), where the development key pair is generated; ${OWN_KEYS}`);
    }
    const secrets = await secretsBeside(file);
    if (secrets === null) {
      problems.push(`STAFF_PGP_KEYS_FILE: the folder of ${file} holds over ${SCAN_FILES} files and can not be checked for secret keys; put the key file in a folder of its own`);
    } else if (secrets.length > 0) {
      problems.push(`STAFF_PGP_KEYS_FILE: a secret key lies beside ${file} (${secrets.join(', ')}); keep secret keys on the staff's devices only, and ${OWN_KEYS}`);
    }
  }
  for (const key of keys) {
    if (key.users.some((user) => user.userID?.email.toLowerCase() === DEV_EMAIL)) {
      problems.push(`${origin}: key ${fingerprintOf(key)} is the development key (${DEV_EMAIL}); ${OWN_KEYS}`);
    }
  }
  return problems;
}

/**
 * Writes `text` to `path` only if nothing is there yet, and never leaves a partial file: the
 * content goes to a private temp file first, then a hard link publishes it, failing with
 * EEXIST when another process got there first.
 */
async function writeOnce(path: string, text: string, mode: number): Promise<boolean> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, text, { mode, flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp);
  }
}

/**
 * The local development key pair: generated once, reused after. The secret half is the source
 * of truth; the public half is derived from whichever secret won a race between two processes.
 */
async function devKeys(dir: string, logger: Logger): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const secretPath = join(dir, DEV_SECRET);
  let armoredSecret = await readIfPresent(secretPath);
  if (armoredSecret === null) {
    const fresh = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      format: 'armored',
      userIDs: [{ name: 'Dev staff key (local only)', email: DEV_EMAIL }],
      config: pgpConfig,
    });
    if (await writeOnce(secretPath, fresh.privateKey, 0o600)) {
      logger.warn('dev_keys_generated', { path: secretPath });
    }
    armoredSecret = await readFile(secretPath, 'utf8');
  }
  const secret = await openpgp.readPrivateKey({ armoredKey: armoredSecret, config: pgpConfig });
  const publicArmored = secret.toPublic().armor(pgpConfig);
  await writeOnce(join(dir, DEV_PUBLIC), publicArmored, 0o644);
  return publicArmored;
}

async function readIfPresent(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
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
  const keys = await checkKeys(read, origin, config.production ? await devKeyProblems(config, read, origin) : []);
  const fingerprints = keys.map(fingerprintOf);
  const source = config.keys.source;
  const expiring = await expiringSoon(keys);
  if (expiring.length > 0) logger.warn('staff_keys_expiring', { fingerprints: expiring });
  if (config.keys.source === 'dev') {
    // Announced as a warning: applications are readable with the secret key lying next to them.
    logger.warn('dev_keys_in_use', { source, dir: config.keys.dir, fingerprints });
  } else {
    logger.info('staff_keys_loaded', { source, count: keys.length, fingerprints });
  }
  return { keys, fingerprints, armored: keys.map((key) => key.armor(pgpConfig)).join('\n'), source };
}
