import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../../src/intake/server/config.ts';
import { describeKey, loadStaffKeys } from '../../../../src/intake/server/keys/staff.ts';
import { createMemoryLogger } from '../../../../src/intake/server/logger.ts';
import { createGpgHome } from '../../../support/gpg.ts';
import { eccKeyPair, revokedKeyPair, rsaKeyPair, signOnlyKeyPair, type TestKeyPair } from '../../../support/keys.ts';

let dir: string;
let ecc: TestKeyPair;
let rsa: TestKeyPair;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'keys-test-'));
  [ecc, rsa] = await Promise.all([eccKeyPair(), rsaKeyPair()]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keysFrom(text: string) {
  return loadStaffKeys(loadConfig({ STAFF_PGP_KEYS: text }), createMemoryLogger());
}

/** The ConfigError problems of a rejected load. */
async function refusal(text: string): Promise<string> {
  const error = await keysFrom(text).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems.join('\n');
}

describe('loadStaffKeys from a file or text', () => {
  it('reads every key of a file with several armored keys concatenated', async () => {
    const file = join(dir, 'staff.asc');
    await writeFile(file, `${ecc.publicKey}\n${rsa.publicKey}`);
    const logger = createMemoryLogger();
    const staff = await loadStaffKeys(loadConfig({ STAFF_PGP_KEYS_FILE: file }), logger);
    expect(staff.source).toBe('file');
    expect(staff.fingerprints).toEqual([ecc.fingerprint, rsa.fingerprint]);
    expect(staff.keys).toHaveLength(2);
    const blocks = staff.armored.match(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g) ?? [];
    const reread = await Promise.all(blocks.map((armoredKey) => openpgp.readKey({ armoredKey })));
    expect(reread.map((k) => k.getFingerprint().toUpperCase())).toEqual(staff.fingerprints);
    expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'keys.loaded', source: 'file', count: 2 }));
  });

  it('reads keys given as text, and drops duplicates', async () => {
    const staff = await keysFrom(`${ecc.publicKey}\n${ecc.publicKey}`);
    expect(staff.source).toBe('env');
    expect(staff.fingerprints).toEqual([ecc.fingerprint]);
  });

  it('accepts keys whose newlines were written as \\n (env files)', async () => {
    const staff = await keysFrom(ecc.publicKey.replaceAll('\n', '\\n'));
    expect(staff.fingerprints).toEqual([ecc.fingerprint]);
  });

  it('names the file it can not read', async () => {
    const missing = join(dir, 'absent.asc');
    const error = await loadStaffKeys(loadConfig({ STAFF_PGP_KEYS_FILE: missing }), createMemoryLogger()).catch((e: unknown) => e);
    expect((error as ConfigError).problems).toEqual([`STAFF_PGP_KEYS_FILE: can not read ${missing}: ENOENT`]);
  });

  it('refuses an expired key, naming its fingerprint', async () => {
    const expired = await eccKeyPair({ date: new Date(Date.now() - 3 * 86_400_000), keyExpirationTime: 86_400 });
    const message = await refusal(`${ecc.publicKey}\n${expired.publicKey}`);
    expect(message).toContain(`key ${expired.fingerprint} expired on`);
    expect(message).not.toContain(ecc.fingerprint);
  });

  it('refuses a revoked key, naming its fingerprint', async () => {
    const revoked = await revokedKeyPair();
    expect(await refusal(revoked.publicKey)).toContain(`key ${revoked.fingerprint} is revoked`);
  });

  it('refuses a key that can not encrypt', async () => {
    const signOnly = await signOnlyKeyPair();
    expect(await refusal(signOnly.publicKey)).toContain(`key ${signOnly.fingerprint} can not encrypt`);
  });

  it('refuses a secret key given by mistake', async () => {
    expect(await refusal(ecc.privateKey)).toContain(`key ${ecc.fingerprint} is a SECRET key`);
  });

  it('warns about a key expiring within 30 days', async () => {
    const soon = await eccKeyPair({ keyExpirationTime: 10 * 86_400 });
    const logger = createMemoryLogger();
    await loadStaffKeys(loadConfig({ STAFF_PGP_KEYS: soon.publicKey }), logger);
    expect(logger.entries()).toContainEqual(expect.objectContaining({ event: 'keys.expiring', fingerprints: [soon.fingerprint] }));
  });

  it('describes a key: fingerprint, algorithm, creation, expiry', async () => {
    const [eccKey, rsaKey] = (await keysFrom(`${ecc.publicKey}\n${rsa.publicKey}`)).keys;
    expect(await describeKey(eccKey!)).toEqual({
      fingerprint: ecc.fingerprint,
      algorithm: 'eddsaLegacy ed25519Legacy (v4)',
      created: expect.stringMatching(/^\d{4}-/),
      expires: null,
    });
    expect((await describeKey(rsaKey!)).algorithm).toBe('rsaEncryptSign 2048 (v4)');
  });
});

describe('loadStaffKeys with the generated dev pair', () => {
  it('generates the pair once, private secret file, and reuses it', async () => {
    const devDir = join(dir, 'dev-once');
    const config = loadConfig({ DEV_KEYS_DIR: devDir });
    const logger = createMemoryLogger();
    const first = await loadStaffKeys(config, logger);
    const second = await loadStaffKeys(config, logger);
    expect(first.source).toBe('dev');
    expect(second.fingerprints).toEqual(first.fingerprints);
    expect((await stat(join(devDir, 'staff.sec.asc'))).mode & 0o777).toBe(0o600);
    const events = logger.entries().map((e) => e['event']);
    expect(events.filter((e) => e === 'keys.dev_generated')).toHaveLength(1);
    expect(events.filter((e) => e === 'keys.dev_in_use')).toHaveLength(2);
    const published = await openpgp.readKey({ armoredKey: await readFile(join(devDir, 'staff.pub.asc'), 'utf8') });
    expect(published.getFingerprint().toUpperCase()).toBe(first.fingerprints[0]);
    expect(published.keyPacket.version).toBe(4);
  });

  it('gives the same key to concurrent loads in one process', async () => {
    const config = loadConfig({ DEV_KEYS_DIR: join(dir, 'dev-race') });
    const loads = await Promise.all([1, 2, 3, 4].map(() => loadStaffKeys(config, createMemoryLogger())));
    expect(new Set(loads.map((l) => l.fingerprints[0])).size).toBe(1);
  });

  it('gives the same key to two processes starting at once', async () => {
    const devDir = join(dir, 'dev-processes');
    const script = `
      const { loadConfig } = await import(${JSON.stringify(resolve('src/intake/server/config.ts'))});
      const { loadStaffKeys } = await import(${JSON.stringify(resolve('src/intake/server/keys/staff.ts'))});
      const { createMemoryLogger } = await import(${JSON.stringify(resolve('src/intake/server/logger.ts'))});
      const staff = await loadStaffKeys(loadConfig({ DEV_KEYS_DIR: ${JSON.stringify(devDir)} }), createMemoryLogger());
      process.stdout.write(staff.fingerprints[0]);`;
    const run = () => new Promise<string>((done, fail) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`exit ${code}`))));
    });
    const [a, b] = await Promise.all([run(), run()]);
    expect(a).toMatch(/^[0-9A-F]{40}$/);
    expect(b).toBe(a);
  });

  it('writes a secret key GnuPG imports without a passphrase', async () => {
    const devDir = join(dir, 'dev-gpg');
    const staff = await loadStaffKeys(loadConfig({ DEV_KEYS_DIR: devDir }), createMemoryLogger());
    const gpg = await createGpgHome();
    try {
      await gpg.importKey(await readFile(join(devDir, 'staff.sec.asc'), 'utf8'));
      const listed = (await gpg.run(['--with-colons', '--list-secret-keys'])).stdout.toString();
      expect(listed).toContain(staff.fingerprints[0]);
    } finally {
      await gpg.cleanup();
    }
  });

  it('never uses dev keys in production', async () => {
    const config = { ...loadConfig({ DEV_KEYS_DIR: join(dir, 'dev-prod') }), production: true };
    await expect(loadStaffKeys(config, createMemoryLogger())).rejects.toThrow(/never used when APP_ENV=production/);
  });
});

describe('loadStaffKeys in production refuses the dev pair however it is given', () => {
  let devDir: string;
  let devFingerprint: string;

  beforeAll(async () => {
    devDir = join(dir, 'dev-given');
    devFingerprint = (await loadStaffKeys(loadConfig({ DEV_KEYS_DIR: devDir }), createMemoryLogger())).fingerprints[0]!;
  });

  /** A production configuration reading `file`, with the dev pair in `devDir`. */
  const productionWith = (env: NodeJS.ProcessEnv) => ({ ...loadConfig({ DEV_KEYS_DIR: devDir, ...env }), production: true });

  async function productionRefusal(env: NodeJS.ProcessEnv): Promise<string[]> {
    const error = await loadStaffKeys(productionWith(env), createMemoryLogger()).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }

  /** A folder of its own holding `files` (name → content). */
  async function folder(name: string, files: Record<string, string>): Promise<string> {
    const path = join(dir, name);
    await mkdir(path, { recursive: true });
    for (const [file, text] of Object.entries(files)) await writeFile(join(path, file), text);
    return path;
  }

  it('the public key file of DEV_KEYS_DIR: every reason at once, each saying what to do', async () => {
    const file = join(devDir, 'staff.pub.asc');
    const lines = await productionRefusal({ STAFF_PGP_KEYS_FILE: file });
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^STAFF_PGP_KEYS_FILE: ${file} is in DEV_KEYS_DIR \\(${devDir}\\).*gpg --armor --export`)),
      expect.stringMatching(/^STAFF_PGP_KEYS_FILE: a secret key lies beside .*staff\.sec\.asc.*gpg --armor --export/),
      expect.stringMatching(new RegExp(`key ${devFingerprint} is the development key \\(dev-staff@localhost\\).*gpg --armor --export`)),
    ]);
  });

  it('a key file reached through a link into DEV_KEYS_DIR', async () => {
    const linked = join(await folder('linked', {}), 'staff.asc');
    await symlink(join(devDir, 'staff.pub.asc'), linked);
    expect((await productionRefusal({ STAFF_PGP_KEYS_FILE: linked }))[0]).toMatch(/is in DEV_KEYS_DIR/);
  });

  it('the dev public key copied elsewhere, or given as text', async () => {
    const copied = join(await folder('copied', {}), 'staff.asc');
    await copyFile(join(devDir, 'staff.pub.asc'), copied);
    expect(await productionRefusal({ STAFF_PGP_KEYS_FILE: copied })).toEqual([expect.stringContaining(`key ${devFingerprint} is the development key`)]);
    const text = await readFile(copied, 'utf8');
    expect(await productionRefusal({ STAFF_PGP_KEYS: `${ecc.publicKey}\n${text}` })).toEqual([
      expect.stringMatching(new RegExp(`^STAFF_PGP_KEYS: key ${devFingerprint} is the development key`)),
    ]);
  });

  it('a staff key with a secret key beside it, by name or by content', async () => {
    const byName = await folder('beside-name', { 'staff.asc': ecc.publicKey, 'old.sec.asc': 'anything' });
    expect(await productionRefusal({ STAFF_PGP_KEYS_FILE: join(byName, 'staff.asc') })).toEqual([
      expect.stringContaining(`a secret key lies beside ${join(byName, 'staff.asc')} (${join(byName, 'old.sec.asc')})`),
    ]);
    const byContent = await folder('beside-content', { 'staff.asc': ecc.publicKey, 'backup.txt': `notes\n${rsa.privateKey}` });
    expect((await productionRefusal({ STAFF_PGP_KEYS_FILE: join(byContent, 'staff.asc') }))[0]).toContain(join(byContent, 'backup.txt'));
  });

  it('loads staff keys kept in a folder without secrets; the same dev setups load outside production', async () => {
    const clean = await folder('clean', { 'staff.asc': `${ecc.publicKey}\n${rsa.publicKey}`, 'README': 'public keys of the staff', 'rsa.pub.asc': rsa.publicKey });
    const staff = await loadStaffKeys(productionWith({ STAFF_PGP_KEYS_FILE: join(clean, 'staff.asc') }), createMemoryLogger());
    expect(staff.fingerprints).toEqual([ecc.fingerprint, rsa.fingerprint]);
    const dev = await loadStaffKeys(loadConfig({ DEV_KEYS_DIR: devDir, STAFF_PGP_KEYS_FILE: join(devDir, 'staff.pub.asc') }), createMemoryLogger());
    expect(dev.fingerprints).toEqual([devFingerprint]);
  });
});
