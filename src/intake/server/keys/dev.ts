/**
 * The development key pair: generated once for a machine without staff keys, and refused in
 * production however it is given, since its secret half lies on the server.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, realpath, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import * as openpgp from 'openpgp';
import type { PublicKey } from 'openpgp';
import type { Config } from '../config.ts';
import { fingerprintOf, pgpConfig } from '../pgp.ts';
import type { Logger } from '../types.ts';

const DEV_PUBLIC = 'staff.pub.asc';
const DEV_SECRET = 'staff.sec.asc';
/** The user ID of the generated development key: never a staff key. */
const DEV_EMAIL = 'dev-staff@localhost';

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
export async function devKeyProblems(config: Config, keys: PublicKey[], origin: string): Promise<string[]> {
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
export async function devKeys(dir: string, logger: Logger): Promise<string> {
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
      logger.warn('keys.dev_generated', { path: secretPath });
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
