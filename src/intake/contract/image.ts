/**
 * Photo checks by bytes, shared by the endpoint and the form island (so no Node APIs): which
 * image type a file is, and whether it ends exactly where its image ends. Each check walks the
 * format's own structure once, front to back: time linear in the file, and no copy of it.
 */
import { MAX_PHOTO_BYTES, MAX_PHOTOS, type FieldErrorKey } from './fields.ts';

/** The photo types the forms accept, each recognised by its bytes (sniffImageType). */
export const photoTypes = ['image/jpeg', 'image/png', 'image/webp'] as const;

export type PhotoType = (typeof photoTypes)[number];

/** A file part of a request, already read into memory (size-capped by the parser). */
export interface UploadedFile {
  /** The field name the file came in. */
  field: string;
  /** Type detected from the file's bytes, never from its name or declared type. */
  type: PhotoType | 'application/octet-stream';
  bytes: Uint8Array;
}

/** The eight bytes every PNG file starts with. */
export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  return signature.every((b, i) => bytes[offset + i] === b);
}

/** The image type by magic bytes (JPEG, PNG, WebP), never by name or declared type. */
export function sniffImageType(bytes: Uint8Array): UploadedFile['type'] {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, PNG_SIGNATURE)) return 'image/png';
  // RIFF <4-byte size> WEBP
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) {
    return 'image/webp';
  }
  return 'application/octet-stream';
}

/**
 * Does the file end where its image ends? Bytes after the picture (a script, an archive: a
 * "polyglot" file) would travel to staff inside the photo; some phones also append a video
 * (motion photos), and the person is then asked for a plain copy of the picture. The image's
 * structure is walked to its real end, since the last bytes alone can be forged: JPEG by its
 * segments and scans to EOI, PNG by its checksummed chunks to the first IEND, WebP by the
 * chunks that must fill its RIFF length. Anything truncated or inconsistent is not an image.
 */
export function endsAsImage(bytes: Uint8Array, type: UploadedFile['type']): boolean {
  if (type === 'image/jpeg') return endsAsJpeg(bytes);
  if (type === 'image/png') return endsAsPng(bytes);
  if (type === 'image/webp') return endsAsWebp(bytes);
  return false;
}

function endsAsJpeg(bytes: Uint8Array): boolean {
  const end = jpegEnd(bytes);
  if (end < 0) return false;
  // Some cameras pad the file with zeros after EOI (to a block size). A run of one fixed value
  // carries nothing but its length, so it is let through; any other byte after EOI is refused.
  for (let i = end; i < bytes.length; i++) if (bytes[i] !== 0x00) return false;
  return true;
}

// RST0–RST7: restart markers, inside a scan's entropy-coded data.
const isRestart = (marker: number | undefined) => marker !== undefined && marker >= 0xd0 && marker <= 0xd7;

/** The offset just past the EOI that ends the image, or -1 if the structure is broken. */
function jpegEnd(bytes: Uint8Array): number {
  const n = bytes.length;
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return -1;
  let i = 2;
  let scanned = false;
  while (i < n) {
    // Between segments only a marker may stand, after any number of 0xFF fill bytes: a stray
    // byte here (which libjpeg skips with a warning) is exactly where data could hide.
    if (bytes[i] !== 0xff) return -1;
    while (bytes[i] === 0xff) i++;
    const marker = bytes[i++];
    if (marker === undefined) return -1;
    if (marker === 0xd9) return scanned ? i : -1;
    // TEM and RSTn have no length. 0x00 is a marker only as stuffing inside a scan, and a second
    // SOI would start another image.
    if (marker === 0x01 || isRestart(marker)) continue;
    if (marker === 0x00 || marker === 0xd8 || i + 2 > n) return -1;
    // The length counts its own two bytes, not the marker's. It is how EXIF thumbnails (a whole
    // FFD8…FFD9 inside APP1) are stepped over instead of taken for the end.
    const length = (bytes[i]! << 8) | bytes[i + 1]!;
    if (length < 2 || i + length > n) return -1;
    i += length;
    // SOS: the scan's entropy-coded data follows its header (progressive files have several).
    if (marker === 0xda) {
      i = scanEnd(bytes, i);
      scanned = true;
    }
  }
  return -1;
}

/**
 * Where a scan's entropy-coded data ends: at the 0xFF that starts the next marker (other than
 * RSTn, which stays inside the scan), or at the file's end if it is cut short. 0xFF 0x00 is a
 * stuffed 0xFF data byte. A run of 0xFF counts as one, as in libjpeg's `jpeg_fill_bit_buffer`.
 */
function scanEnd(bytes: Uint8Array, start: number): number {
  let i = start;
  while (i < bytes.length) {
    if (bytes[i] !== 0xff) {
      i++;
      continue;
    }
    let next = i + 1;
    while (bytes[next] === 0xff) next++;
    if (bytes[next] !== 0x00 && !isRestart(bytes[next])) return i;
    i = next + 1;
  }
  return bytes.length;
}

// PNG, §5.3: a chunk's length may not exceed 2^31 − 1.
const PNG_MAX_LENGTH = 0x7fffffff;

function endsAsPng(bytes: Uint8Array): boolean {
  if (!startsWith(bytes, PNG_SIGNATURE)) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = PNG_SIGNATURE.length;
  let sawData = false;
  // Each chunk: length (4), type (4), data (length), CRC-32 of type and data (4).
  while (i + 12 <= bytes.length) {
    const length = view.getUint32(i);
    const crcAt = i + 8 + length;
    if (length > PNG_MAX_LENGTH || crcAt + 4 > bytes.length || !isChunkType(bytes, i + 4)) return false;
    const type = fourcc(bytes, i + 4);
    if (i === PNG_SIGNATURE.length && (type !== 'IHDR' || length !== 13)) return false;
    // The CRC is what tells a real chunk from bytes that merely look like one.
    if (crc32(bytes, i + 4, crcAt) !== view.getUint32(crcAt)) return false;
    i = crcAt + 4;
    if (type === 'IDAT') sawData = true;
    // The first IEND ends the image: a second one after appended data proves nothing.
    if (type === 'IEND') return length === 0 && sawData && i === bytes.length;
  }
  return false;
}

// PNG, §5.4: chunk type codes are four ASCII letters.
function isChunkType(bytes: Uint8Array, at: number): boolean {
  for (let i = at; i < at + 4; i++) {
    const c = bytes[i]! | 0x20;
    if (c < 0x61 || c > 0x7a) return false;
  }
  return true;
}

function endsAsWebp(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n < 12 || !startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) || !startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The RIFF size counts every byte after its first eight, the chunks' pad bytes included, so it
  // ends where the file ends. With "WEBP" and even-padded chunks it is even: RIFF's own pad
  // byte after an odd size can not occur, and an odd size fails the tiling below.
  if (view.getUint32(4, true) + 8 !== n) return false;
  let i = 12;
  // Each chunk: fourcc (4), size (4, little-endian), data (size), one zero pad byte if odd.
  while (i < n) {
    if (i + 8 > n) return false;
    const size = view.getUint32(i + 4, true);
    const padAt = i + 8 + size;
    const end = padAt + (size % 2);
    if (end > n || (size % 2 === 1 && bytes[padAt] !== 0x00)) return false;
    // The first chunk says how the image is coded: lossy, lossless or extended.
    if (i === 12 && !['VP8 ', 'VP8L', 'VP8X'].includes(fourcc(bytes, i))) return false;
    i = end;
  }
  return i > 12;
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

// The CRC-32 of PNG, gzip and ZIP: reflected polynomial 0xEDB88320, one table entry per byte value.
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

/** The CRC-32 (as PNG chunks and ZIP use it) of `bytes` from `start` up to, not including, `end`. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * What is wrong with a form's photos, checked in this order: how many, their type, their size,
 * then the walk through each image, which never runs on a file past its limit.
 */
export function photoError(files: readonly UploadedFile[]): FieldErrorKey | undefined {
  if (files.length > MAX_PHOTOS) return 'photo_count';
  if (files.some((f) => f.type === 'application/octet-stream')) return 'photo_type';
  if (files.some((f) => f.bytes.byteLength > MAX_PHOTO_BYTES)) return 'photo_too_large';
  if (files.some((f) => !endsAsImage(f.bytes, f.type))) return 'photo_extra_data';
  return undefined;
}
