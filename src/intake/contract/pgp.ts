/**
 * The OpenPGP core both sides share: the settings and the encryption of the report and of each
 * photo. It takes the openpgp module as an argument and uses no Node API, so the server passes
 * the full Node build and the browser the lightweight one, and staff get the same kind of
 * message either way: one GnuPG 2.2 opens.
 */
import type * as OpenPgpModule from 'openpgp';
import type { Config, PublicKey } from 'openpgp';
import type { PhotoType } from './image.ts';
import { REFERENCE_SHAPE } from './reference.ts';

/**
 * What the core uses of the openpgp module: `openpgp` on the server, `openpgp/lightweight` in the
 * browser. Only these names, so the browser's bundler can leave the rest of openpgp.js out.
 */
export type OpenPgp = Pick<typeof OpenPgpModule, 'armor' | 'config' | 'createMessage' | 'encrypt' | 'enums'>;

/** A module together with the settings everything we produce uses. */
export interface Pgp {
  openpgp: OpenPgp;
  config: Config;
}

/**
 * Staff may open mail in GnuPG 2.2, which reads neither v6 keys nor SEIPDv2/AEAD messages: v4
 * keys, no AEAD, no compression (padding already hides the length; compression would leak it
 * back). {@link encryptText} also forces a SEIPDv1 session key, because openpgp.js picks AEAD
 * whenever every recipient key advertises it.
 */
export function pgpOf(openpgp: OpenPgp): Pgp {
  const config: Config = {
    // Key methods (getExpirationTime, isRevoked...) need a full config; top-level calls merge it.
    ...openpgp.config,
    aeadProtect: false,
    v6Keys: false,
    preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
    preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
    showVersion: false,
    showComment: false,
  };
  return { openpgp, config };
}

const ARMOR_BEGIN = '-----BEGIN PGP ';
const ARMOR_KINDS = ['PUBLIC', 'PRIVATE'] as const;

/**
 * Every armored key block in `text`. openpgp.readKeys stops after the first armor block, and a
 * key file exported key by key (or the server's list of staff keys) is several blocks.
 * What `/-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP \1 KEY BLOCK-----/g`
 * matches, found with indexOf in linear time: that pattern read on to the end of the text again
 * for every BEGIN line without its END (quadratic).
 */
export function armoredKeyBlocks(text: string): string[] {
  const blocks: string[] = [];
  // A kind whose END line is not in the rest of the text is in no later part of it either.
  const unended = new Set<string>();
  for (let at = text.indexOf(ARMOR_BEGIN); at !== -1; at = text.indexOf(ARMOR_BEGIN, at + 1)) {
    const header = ARMOR_KINDS.map((kind) => `${ARMOR_BEGIN}${kind} KEY BLOCK-----`).find((h) => text.startsWith(h, at));
    if (header === undefined || unended.has(header)) continue;
    const end = header.replace('BEGIN', 'END');
    const endAt = text.indexOf(end, at + header.length);
    if (endAt === -1) {
      unended.add(header);
    } else {
      blocks.push(text.slice(at, endAt + end.length));
      at = endAt + end.length - 1;
    }
  }
  return blocks;
}

/** The file name extension of each photo type the forms accept. */
export const PHOTO_EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
} satisfies Record<PhotoType, string>;

// A fresh AES-256 session key without an AEAD mode, so the message is SEIPDv1 (see pgpOf).
function sessionKey(): { data: Uint8Array; algorithm: 'aes256' } {
  return { data: crypto.getRandomValues(new Uint8Array(32)), algorithm: 'aes256' };
}

function recipients(keys: readonly PublicKey[]): PublicKey[] {
  if (keys.length === 0) throw new TypeError('no staff key to encrypt to');
  return [...keys];
}

/**
 * The report, as one armored message to every key (one message, several recipients). `date`
 * decides which keys are valid: the browser passes the server's clock, since a phone's clock
 * may be years off and would make valid staff keys look expired or not yet made.
 */
export async function encryptText({ openpgp, config }: Pgp, text: string, keys: readonly PublicKey[], date = new Date()): Promise<string> {
  const message = await openpgp.createMessage({ text, date });
  return openpgp.encrypt({ message, encryptionKeys: recipients(keys), sessionKey: sessionKey(), date, format: 'armored', config });
}

/** A photo before encryption: its bytes and the type sniffed from them. */
export interface PlainPhoto {
  bytes: Uint8Array;
  type: string;
}

/**
 * Photo number `index` (from 1) as a binary message: a third smaller than armor, for the upload
 * from a phone. Inside is a binary literal named `photo-N.<ext>`, so gpg restores it byte for
 * byte; outside, the attachment is named only by the reference.
 */
export async function encryptPhoto(
  { openpgp, config }: Pgp,
  photo: PlainPhoto,
  index: number,
  keys: readonly PublicKey[],
  date = new Date(),
): Promise<Uint8Array> {
  const extension = PHOTO_EXTENSIONS[photo.type];
  if (extension === undefined) throw new TypeError(`photo ${index} has an unsupported type`);
  const message = await openpgp.createMessage({ binary: photo.bytes, filename: `photo-${index}.${extension}`, date, format: 'binary' });
  return openpgp.encrypt({ message, encryptionKeys: recipients(keys), sessionKey: sessionKey(), date, format: 'binary', config });
}

/**
 * The file name of encrypted photo number `index` (from 1), on its way from the browser and
 * attached to the mail: only the reference and the number, no hint of content.
 */
export function attachmentName(reference: string, index: number): string {
  return `${reference}-${index}.pgp`;
}

/** A name {@link attachmentName} makes. */
export const ATTACHMENT_NAME = new RegExp(`^${REFERENCE_SHAPE}-\\d+\\.pgp$`);

/**
 * A binary SEIPDv1 message as ASCII armor (what mail carries), with the CRC-24 checksum line, as
 * openpgp.js's Message.armor writes it for v1: without it, GnuPG 2.2 misreads the END line as
 * data whenever the base64 needs no `=` padding ("invalid radix64 character 2D").
 */
export function armorMessage({ openpgp, config }: Pgp, bytes: Uint8Array): string {
  return openpgp.armor(openpgp.enums.armor.message, bytes, undefined, undefined, undefined, true, config);
}
