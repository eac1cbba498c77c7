/**
 * Reference codes: the only link between an applicant and the mail staff receive. Short enough
 * to write on a hand or read over a bad phone line, in an alphabet without look-alikes
 * (no 0/O, no 1/I/L). Uses Web Crypto only, so the browser and Node share it.
 */

/** 31 symbols: digits 2–9 and A–Z without I, L and O. */
export const REFERENCE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

const GROUP_LENGTH = 4;
/** A reference's shape, unanchored, for patterns that hold one (file names: `<reference>.json`). */
export const REFERENCE_SHAPE = `[${REFERENCE_ALPHABET}]{${GROUP_LENGTH}}-[${REFERENCE_ALPHABET}]{${GROUP_LENGTH}}`;
/** A well-formed reference, `XXXX-XXXX` in the alphabet above. */
export const REFERENCE = new RegExp(`^${REFERENCE_SHAPE}$`);
// The largest multiple of the alphabet size that fits in a byte: bytes at or above it are
// drawn again, so every symbol is equally likely (a plain `% 31` would favour the first 8).
const UNBIASED_BYTE_LIMIT = 256 - (256 % REFERENCE_ALPHABET.length);

function randomSymbols(count: number): string {
  let out = '';
  const bytes = new Uint8Array(count * 2);
  while (out.length < count) {
    crypto.getRandomValues(bytes);
    for (const byte of bytes) {
      if (byte < UNBIASED_BYTE_LIMIT && out.length < count) out += REFERENCE_ALPHABET[byte % REFERENCE_ALPHABET.length];
    }
  }
  return out;
}

/** A new random reference, `XXXX-XXXX` (about 39.6 bits). */
export function newReference(): string {
  const symbols = randomSymbols(GROUP_LENGTH * 2);
  return `${symbols.slice(0, GROUP_LENGTH)}-${symbols.slice(GROUP_LENGTH)}`;
}

/** True for a well-formed reference (upper case, as {@link newReference} makes them). */
export function isReference(value: string): boolean {
  return REFERENCE.test(value);
}

/** The reference spaced for reading aloud or dictating: `K 7 M 2 - P Q 4 X`. */
export function formatForReading(reference: string): string {
  return reference
    .split('-')
    .map((group) => [...group].join(' '))
    .join(' - ');
}
