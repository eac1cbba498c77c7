import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptApplication, type PlainApplication } from '../../../../src/intake/server/encrypt.ts';
import { createGpgHome, type GpgHome } from '../../../support/gpg.ts';
import { eccKeyPair, rsaKeyPair, type TestKeyPair } from '../../../support/keys.ts';

const TEXT = 'Заявка: помощь\nИмя: Марина Ш.\nГде: ферма под Ростовом, паспорт забрали\nКак связаться: только SMS после 22:00\n   \n\n';
const MARKER = 'ферма под Ростовом';

let ecc: TestKeyPair;
let rsa: TestKeyPair;
let eccHome: GpgHome;
let rsaHome: GpgHome;
let keys: openpgp.PublicKey[];

function jpeg(size: number): Uint8Array {
  const bytes = randomBytes(size);
  bytes.set([0xff, 0xd8, 0xff, 0xe0], 0);
  return new Uint8Array(bytes);
}

function png(size: number): Uint8Array {
  const bytes = randomBytes(size);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0);
  return new Uint8Array(bytes);
}

function application(photos: PlainApplication['photos'] = []): PlainApplication {
  return { reference: 'K7M2-PQ4X', kind: 'missing', createdAt: '2025-11-25T21:00:00.000Z', text: TEXT, photos };
}

beforeAll(async () => {
  [ecc, rsa] = await Promise.all([eccKeyPair(), rsaKeyPair()]);
  keys = await Promise.all([ecc, rsa].map((pair) => openpgp.readKey({ armoredKey: pair.publicKey })));
  [eccHome, rsaHome] = await Promise.all([createGpgHome(), createGpgHome()]);
  // Each home holds only one staff secret key: each recipient must be able to open it alone.
  await eccHome.importKey(ecc.privateKey);
  await rsaHome.importKey(rsa.privateKey);
});

afterAll(async () => {
  await Promise.all([eccHome.cleanup(), rsaHome.cleanup()]);
});

describe('encryptApplication', () => {
  it('makes one message for both staff keys that real gpg opens with either secret key', async () => {
    const envelope = await encryptApplication(application(), keys);
    const message = await openpgp.readMessage({ armoredMessage: envelope.armored });
    const recipients = message.getEncryptionKeyIDs().map((id) => id.toHex());
    const subkeys = keys.map((key) => key.subkeys[0]!.getKeyID().toHex());
    expect(recipients.sort()).toEqual(subkeys.sort());
    for (const home of [eccHome, rsaHome]) {
      const opened = await home.decryptDetails(envelope.armored);
      expect(opened.data.toString('utf8')).toBe(TEXT);
      // SEIPDv1 (MDC), AES-256: what GnuPG 2.2 reads.
      expect(opened.report).toMatch(/AES256.CFB encrypted data|AES256 encrypted data/);
      expect(opened.report).not.toMatch(/AEAD|OCB|GCM/);
    }
  });

  it('encrypts each photo separately; gpg restores it byte for byte under photo-N.ext', async () => {
    const photos = [{ bytes: jpeg(300_000), type: 'image/jpeg' }, { bytes: png(5_000), type: 'image/png' }];
    const envelope = await encryptApplication(application(photos), keys);
    expect(envelope.attachments.map((a) => a.filename)).toEqual(['K7M2-PQ4X-1.pgp', 'K7M2-PQ4X-2.pgp']);
    for (const home of [eccHome, rsaHome]) {
      for (const [i, attachment] of envelope.attachments.entries()) {
        const opened = await home.decryptDetails(attachment.armored);
        expect(Buffer.compare(opened.data, Buffer.from(photos[i]!.bytes))).toBe(0);
        expect(opened.filename).toBe(['photo-1.jpg', 'photo-2.png'][i]);
      }
    }
  });

  it('armors photos of every length so that gpg 2.2 reads them (the CRC-24 line it relies on)', async () => {
    // Three lengths in a row: one of them makes base64 without `=` padding, which gpg misreads without the checksum.
    const photos = [0, 1, 2].map((n) => ({ bytes: jpeg(1000 + n), type: 'image/jpeg' }));
    const envelope = await encryptApplication(application(photos), keys);
    for (const [i, attachment] of envelope.attachments.entries()) {
      expect(attachment.armored).toMatch(/^=[A-Za-z0-9+/]{4}$/m);
      expect(Buffer.compare(await eccHome.decrypt(attachment.armored), Buffer.from(photos[i]!.bytes))).toBe(0);
    }
  });

  it('puts nothing readable in the envelope', async () => {
    const envelope = await encryptApplication(application([{ bytes: jpeg(1000), type: 'image/jpeg' }]), keys);
    expect(Object.keys(envelope).sort()).toEqual(['armored', 'attachments', 'attempts', 'createdAt', 'kind', 'reference']);
    expect(envelope).toMatchObject({ reference: 'K7M2-PQ4X', kind: 'missing', createdAt: '2025-11-25T21:00:00.000Z', attempts: 0 });
    const serialized = JSON.stringify(envelope);
    expect(serialized).not.toContain(MARKER);
    // Names and types are looked for outside the ciphertexts: base64 holds any three letters by chance.
    const clear = JSON.stringify({ ...envelope, armored: '', attachments: envelope.attachments.map((a) => ({ ...a, armored: '' })) });
    expect(clear).not.toContain('photo-1');
    expect(clear).not.toContain('jpg');
    expect(envelope.armored).not.toMatch(/^(Version|Comment):/m);
  });

  it('stays readable by GnuPG 2.2 even when every key advertises SEIPDv2 (AEAD)', async () => {
    const modern = await eccKeyPair({ config: { aeadProtect: true } });
    const key = await openpgp.readKey({ armoredKey: modern.publicKey });
    const features = (await key.getPrimaryUser()).selfCertification.features?.[0] ?? 0;
    // RFC 9580 feature flag 0x08: "I can read SEIPDv2"; openpgp.js then picks AEAD by itself.
    expect(features & 0x08).toBe(0x08);
    const home = await createGpgHome();
    try {
      await home.importKey(modern.privateKey);
      const envelope = await encryptApplication(application(), [key]);
      expect((await home.decrypt(envelope.armored)).toString('utf8')).toBe(TEXT);
    } finally {
      await home.cleanup();
    }
  });

  it('refuses a reference that is not a reference code, and an unknown photo type', async () => {
    await expect(encryptApplication({ ...application(), reference: '../../etc/passwd' }, keys)).rejects.toThrow(TypeError);
    await expect(encryptApplication(application([{ bytes: jpeg(10), type: 'image/gif' }]), keys)).rejects.toThrow(/unsupported type/);
    await expect(encryptApplication(application(), [])).rejects.toThrow(/no staff key/);
  });
});
