import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeysChangedError, SealedInvalidError } from '../../../../src/intake/server/errors.ts';
import { serverPgp as pgp } from '../../../../src/intake/server/pgp.ts';
import { encryptPhoto, encryptText } from '../../../../src/intake/contract/pgp.ts';
import { checkSealed, encryptionKeyIds, isSealedRequest } from '../../../../src/intake/server/sealed.ts';
import { MAX_SEALED_PHOTO_BYTES } from '../../../../src/intake/contract/sealed.ts';
import type { RawSubmission } from '../../../../src/intake/server/types.ts';
import type { UploadedFile } from '../../../../src/intake/contract/image.ts';
import { createGpgHome, type GpgHome } from '../../../support/gpg.ts';
import { jpeg, png } from '../../../support/images.ts';
import { eccKeyPair, rsaKeyPair, type TestKeyPair } from '../../../support/keys.ts';

const REFERENCE = 'K7M2-PQ4X';
const TEXT = 'Номер заявки: K7M2-PQ4X\nСообщение: держат на ферме под Ростовом\n';

let staffPairs: TestKeyPair[];
let staff: openpgp.PublicKey[];
let stranger: openpgp.PublicKey;
let home: GpgHome;

beforeAll(async () => {
  const pairs = await Promise.all([eccKeyPair(), rsaKeyPair(), eccKeyPair({ name: 'Not staff' })]);
  staffPairs = pairs.slice(0, 2);
  [staff, stranger] = [
    await Promise.all(staffPairs.map((pair) => openpgp.readKey({ armoredKey: pair.publicKey }))),
    await openpgp.readKey({ armoredKey: pairs[2]!.publicKey }),
  ];
  home = await createGpgHome();
  await home.importKey(staffPairs[1]!.privateKey);
});

afterAll(async () => {
  await home.cleanup();
});

function clearFields(overrides: Record<string, string[]> = {}): Map<string, string[]> {
  return new Map(Object.entries({ kind: ['missing'], locale: ['ru'], consent: ['yes'], website: [''], filled_ms: ['41000'], reference: [REFERENCE], reference_ticket: ['ticket'], ...overrides }));
}

function submission(encrypted: string, photos: Uint8Array[] = [], fields = clearFields()): RawSubmission {
  fields.set('sealed', [encrypted]);
  const files: UploadedFile[] = photos.map((bytes) => ({ field: 'sealed_photos', type: 'application/octet-stream', bytes }));
  return { fields, files };
}

const sealedText = (keys = staff) => encryptText(pgp, TEXT, keys);
const sealedPhoto = (bytes: Uint8Array, keys = staff) => encryptPhoto(pgp, { bytes, type: 'image/jpeg' }, 1, keys);

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}

async function fault(promise: Promise<unknown>): Promise<string> {
  const error = await refusal(promise);
  expect(error).toBeInstanceOf(SealedInvalidError);
  expect((error as SealedInvalidError).status).toBe(400);
  return (error as SealedInvalidError).fault;
}

describe('isSealedRequest', () => {
  it('is true for a request with the ciphertext field or an encrypted photo, false for a plain form', () => {
    expect(isSealedRequest({ fields: new Map([['sealed', ['x']]]), files: [] })).toBe(true);
    expect(isSealedRequest({ fields: new Map(), files: [{ field: 'sealed_photos', type: 'application/octet-stream', bytes: new Uint8Array(1) }] })).toBe(true);
    expect(isSealedRequest({ fields: new Map([['message', ['x']]]), files: [{ field: 'photos', type: 'image/png', bytes: png() }] })).toBe(false);
  });
});

describe('checkSealed: what the island sends', () => {
  it('keeps the report as it came and armors each photo under <REFERENCE>-N.pgp', async () => {
    const armored = await sealedText();
    const photos = [jpeg(), png(3, 2)];
    const sealed = await checkSealed(submission(armored, await Promise.all(photos.map((p) => sealedPhoto(p)))), staff);
    expect(sealed.fields).toEqual({ kind: 'missing', locale: 'ru', consent: 'yes', website: '', filled_ms: '41000', reference: REFERENCE, reference_ticket: 'ticket', sealed: armored });
    // The same message, armored again by the server with the checksum GnuPG 2.2 relies on.
    expect(sealed.armored).toBe(armored);
    expect(sealed.attachments.map((a) => a.filename)).toEqual([`${REFERENCE}-1.pgp`, `${REFERENCE}-2.pgp`]);
    expect((await home.decrypt(sealed.armored)).toString('utf8')).toBe(TEXT);
    for (const [i, attachment] of sealed.attachments.entries()) {
      expect(attachment.armored).toMatch(/^-----BEGIN PGP MESSAGE-----\n\n/);
      expect(Buffer.compare(await home.decrypt(attachment.armored), Buffer.from(photos[i]!))).toBe(0);
    }
  });

  it('accepts the armor a browser form sends (CRLF line breaks) and keeps it with LF', async () => {
    const armored = await sealedText();
    const sealed = await checkSealed(submission(armored.replace(/\n/g, '\r\n')), staff);
    expect(sealed.armored).toBe(armored);
  });

  it('compares recipients with each key\'s current encryption subkey, not its primary key', async () => {
    const ids = await encryptionKeyIds(staff);
    expect(ids).toEqual(staff.map((key) => key.subkeys[0]!.getKeyID().toHex()).sort());
    expect(ids).not.toContain(staff[0]!.getKeyID().toHex());
  });
});

describe('checkSealed: refused as not what the island sends (400)', () => {
  it('refuses a clear-text field beside the ciphertext, a repeated or missing field, a bad reference', async () => {
    const armored = await sealedText();
    expect(await fault(checkSealed(submission(armored, [], clearFields({ message: ['Помогите'] })), staff))).toBe('fields');
    expect(await fault(checkSealed(submission(armored, [], clearFields({ kind: ['help', 'missing'] })), staff))).toBe('fields');
    const withoutConsent = clearFields();
    withoutConsent.delete('consent');
    expect(await fault(checkSealed(submission(armored, [], withoutConsent), staff))).toBe('fields');
    expect(await fault(checkSealed(submission(armored, [], clearFields({ reference: ['../../etc/passwd'] })), staff))).toBe('fields');
    const proto = clearFields();
    proto.set('__proto__', ['x']);
    expect(await fault(checkSealed(submission(armored, [], proto), staff))).toBe('fields');
  });

  it('refuses photos on a help request, files in another field and more than three photos', async () => {
    const armored = await sealedText();
    const photo = await sealedPhoto(jpeg());
    expect(await fault(checkSealed(submission(armored, [photo], clearFields({ kind: ['help'] })), staff))).toBe('fields');
    const elsewhere = submission(armored);
    elsewhere.files.push({ field: 'photos', type: 'image/jpeg', bytes: jpeg() });
    expect(await fault(checkSealed(elsewhere, staff))).toBe('fields');
    expect(await fault(checkSealed(submission(armored, [photo, photo, photo, photo]), staff))).toBe('size');
    const huge = new Uint8Array(MAX_SEALED_PHOTO_BYTES + 1);
    huge.set(photo);
    expect(await fault(checkSealed(submission(armored, [huge]), staff))).toBe('size');
  });

  it('refuses plain text posing as armor, armor headers and a message that is not encrypted', async () => {
    const junk = '-----BEGIN PGP MESSAGE-----\n\nПомогите, меня держат на ферме\n-----END PGP MESSAGE-----\n';
    expect(await fault(checkSealed(submission(junk), staff))).toBe('armor');
    const base64Plain = `-----BEGIN PGP MESSAGE-----\n\n${Buffer.from('Помогите, меня держат на ферме').toString('base64')}\n-----END PGP MESSAGE-----\n`;
    expect(await fault(checkSealed(submission(base64Plain), staff))).toBe('packets');
    const armored = await sealedText();
    const commented = armored.replace('-----BEGIN PGP MESSAGE-----\n', '-----BEGIN PGP MESSAGE-----\nComment: держат на ферме\n');
    expect(await fault(checkSealed(submission(commented), staff))).toBe('armor');
    const literal = (await openpgp.createMessage({ text: TEXT })).armor(pgp.config);
    expect(await fault(checkSealed(submission(literal), staff))).toBe('packets');
    const signed = await openpgp.sign({ message: await openpgp.createMessage({ text: TEXT }), signingKeys: await openpgp.readPrivateKey({ armoredKey: staffPairs[0]!.privateKey }), format: 'armored' });
    expect(await fault(checkSealed(submission(signed), staff))).toBe('packets');
    expect(await fault(checkSealed(submission('Помогите'), staff))).toBe('armor');
  });

  it('refuses padding in the middle of the base64 and a wrong armor type', async () => {
    const lines = (await sealedText()).split('\n');
    lines[3] = `${lines[3]!.slice(0, -2)}==`;
    expect(await fault(checkSealed(submission(lines.join('\n')), staff))).toBe('armor');
    const key = staffPairs[0]!.publicKey;
    expect(await fault(checkSealed(submission(key), staff))).toBe('armor');
  });

  it('refuses a truncated message, text or photo', async () => {
    const lines = (await sealedText()).trim().split('\n');
    const truncated = [...lines.slice(0, -3), lines.at(-1)].join('\n') + '\n';
    expect(await fault(checkSealed(submission(truncated), staff))).toBe('packets');
    const photo = await sealedPhoto(jpeg());
    expect(await fault(checkSealed(submission(await sealedText(), [photo.subarray(0, photo.byteLength - 40)]), staff))).toBe('packets');
  });

  it('refuses SEIPDv2 (AEAD), which GnuPG 2.2 can not open', async () => {
    const aead = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: TEXT }),
      encryptionKeys: staff,
      sessionKey: { data: crypto.getRandomValues(new Uint8Array(32)), algorithm: 'aes256', aeadAlgorithm: 'ocb' },
      format: 'armored',
      config: { ...pgp.config, aeadProtect: true },
    });
    expect(await fault(checkSealed(submission(aead), staff))).toBe('packets');
  });

  it('refuses anonymous recipients and parts encrypted to different keys', async () => {
    const anonymous = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: TEXT }),
      encryptionKeys: staff,
      wildcard: true,
      format: 'armored',
      config: pgp.config,
    });
    expect(await fault(checkSealed(submission(anonymous), staff))).toBe('recipients');
    const photoToOthers = await sealedPhoto(jpeg(), [staff[0]!, stranger]);
    expect(await fault(checkSealed(submission(await sealedText(), [photoToOthers]), staff))).toBe('recipients');
  });
});

describe('checkSealed: encrypted to other keys than the server holds (409 keys_changed)', () => {
  it('treats a stranger\'s key, a missing staff key and an extra key alike: the island fetches the keys again', async () => {
    for (const keys of [[stranger], [staff[0]!], [...staff, stranger]]) {
      const error = await refusal(checkSealed(submission(await sealedText(keys)), staff));
      expect(error).toBeInstanceOf(KeysChangedError);
      expect((error as KeysChangedError).status).toBe(409);
    }
  });

  it('accepts the same message once the server holds those keys (a rotation caught up)', async () => {
    const armored = await sealedText([staff[0]!, stranger]);
    await expect(checkSealed(submission(armored), [staff[0]!, stranger])).resolves.toMatchObject({ armored });
  });
});
