/**
 * Real, tiny images built in the test itself, so no binary fixture hides in the repository:
 * PNGs of any size (one grey colour, in one or several IDAT chunks), baseline and progressive
 * JPEGs, a JPEG with an EXIF thumbnail, WebPs as libwebp writes them; and the polyglots of
 * issue 11 (data after a real image, dressed up to end like one).
 * Each decodes without a warning in ImageMagick 6 (libjpeg-turbo 2.1, libpng 1.6, libwebp 1.2).
 */
import { crc32, deflateSync } from 'node:zlib';

/** A PNG chunk: length, type, data, and the CRC-32 of type and data. */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.byteLength, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A greyscale PNG of `width` × `height` pixels, its compressed data split over `idats` IDAT chunks. */
export function png(width = 1, height = 1, idats = 1): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, no interlace
  // Each row: filter byte 0, then one grey byte per pixel.
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0;
  const data = deflateSync(rows);
  const part = Math.ceil(data.length / idats);
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      pngChunk('IHDR', header),
      ...Array.from({ length: idats }, (_, i) => pngChunk('IDAT', data.subarray(i * part, (i + 1) * part))),
      pngChunk('IEND', new Uint8Array(0)),
    ]),
  );
}

function segment(marker: number, body: number[]): number[] {
  const length = body.length + 2;
  return [0xff, marker, length >> 8, length & 0xff, ...body];
}

const JFIF = segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
const DQT = segment(0xdb, [0x00, ...Array<number>(64).fill(1)]); // table 0, all ones
// AC table 0 with a single one-bit code: end-of-block.
const DHT_AC_EOB = segment(0xc4, [0x10, 1, ...Array<number>(15).fill(0), 0x00]);

/**
 * A baseline JPEG, 8×8, one mid-grey block: Huffman tables with a single one-bit code each
 * (DC difference category 0, AC end-of-block), so the scan is the two bits `00` plus padding.
 */
export function jpeg(): Uint8Array {
  const bytes = [
    0xff, 0xd8, // SOI
    ...JFIF,
    ...DQT,
    ...segment(0xc0, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]), // SOF0: 8 bit, 8×8, 1 component
    ...segment(0xc4, [0x00, 1, ...Array<number>(15).fill(0), 0x00]), // DHT DC 0: one code, category 0
    ...DHT_AC_EOB,
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]), // SOS
    0x3f, // scan: DC `0`, EOB `0`, padded with ones
    0xff, 0xd9, // EOI
  ];
  return Uint8Array.from(bytes);
}

/**
 * A progressive JPEG, 16×8, two light-grey blocks, in two scans (DC, then AC) with a restart
 * interval of one block, so each scan has an RST0 inside. The DC code of each block is `01`
 * (category 8) and the value 255: `01 11111111`, padded with ones, is 0x7F 0xFF, and that 0xFF
 * is written stuffed as FF 00. The AC scan is one end-of-block per block.
 */
export function progressiveJpeg(): Uint8Array {
  const bytes = [
    0xff, 0xd8, // SOI
    ...JFIF,
    ...DQT,
    ...segment(0xc2, [8, 0, 8, 0, 16, 1, 1, 0x11, 0]), // SOF2: 8 bit, 16 wide, 8 high, 1 component
    ...segment(0xdd, [0, 1]), // DRI: a restart marker after every block
    ...segment(0xc4, [0x00, 0, 2, ...Array<number>(14).fill(0), 0, 8]), // DHT DC 0: `00` category 0, `01` category 8
    ...segment(0xda, [1, 1, 0x00, 0, 0, 0]), // SOS: DC scan (Ss = Se = 0)
    0x7f, 0xff, 0x00, 0xff, 0xd0, 0x7f, 0xff, 0x00,
    ...DHT_AC_EOB,
    ...segment(0xda, [1, 1, 0x00, 1, 63, 0]), // SOS: AC scan (Ss = 1, Se = 63)
    0x7f, 0xff, 0xd0, 0x7f,
    0xff, 0xd9, // EOI
  ];
  return Uint8Array.from(bytes);
}

const u16 = (n: number) => [n >> 8, n & 0xff];
const u32 = (n: number) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
// A TIFF IFD entry, big-endian: tag, type (3 SHORT, 4 LONG), count 1, value left-justified.
const ifdEntry = (tag: number, type: 3 | 4, value: number) => [...u16(tag), ...u16(type), ...u32(1), ...(type === 3 ? [...u16(value), 0, 0] : u32(value))];

/**
 * EXIF as TIFF, big-endian: IFD0 with the orientation; with a thumbnail, IFD1 says where it
 * starts and how long it is, and the thumbnail follows.
 */
function exif(thumbnail?: Uint8Array): number[] {
  const ifd1 = 8 + 2 + 12 + 4;
  const thumbnailAt = ifd1 + 2 + 3 * 12 + 4;
  const head = [0x4d, 0x4d, 0x00, 0x2a, ...u32(8), ...u16(1), ...ifdEntry(0x0112, 3, 1)]; // "MM", 42, IFD0: Orientation 1
  if (!thumbnail) return [...head, ...u32(0)];
  const ifd = [...u16(3), ...ifdEntry(0x0103, 3, 6), ...ifdEntry(0x0201, 4, thumbnailAt), ...ifdEntry(0x0202, 4, thumbnail.length), ...u32(0)];
  return [...head, ...u32(ifd1), ...ifd, ...thumbnail];
}

/**
 * A JPEG as a camera writes it: EXIF (APP1) first, whose IFD1 holds a JPEG thumbnail, a
 * whole FFD8…FFD9 of its own, before the picture's own tables and scan.
 */
export function jpegWithExifThumbnail(): Uint8Array {
  const app1 = segment(0xe1, [0x45, 0x78, 0x69, 0x66, 0x00, 0x00, ...exif(jpeg())]); // "Exif\0\0"
  const image = jpeg();
  return Uint8Array.from([...image.subarray(0, 2), ...app1, ...image.subarray(2)]);
}

// Written by ImageMagick 6 with libwebp 1.2.4, 4×4 pixels of #808080:
// `convert -size 4x4 xc:'#808080' -define webp:lossless=true a.webp` and `-quality 50 a.webp`.
// The lossless VP8L chunk has an odd size (17), so a zero pad byte follows it.
const WEBP_LOSSLESS = '524946461e000000574542505650384c110000002f03c000000750c00216b0ff8188e87f0000';
const WEBP_LOSSY = '52494646240000005745425056503820180000005001009d012a0400040002c04c25a40004740000e4400000';

/** A simple-format WebP as libwebp writes it: RIFF, then one VP8L (lossless) or VP8 (lossy) chunk. */
export function webp(coding: 'lossless' | 'lossy' = 'lossless'): Uint8Array {
  return Uint8Array.from(Buffer.from(coding === 'lossless' ? WEBP_LOSSLESS : WEBP_LOSSY, 'hex'));
}

/** An extended WebP: VP8X (canvas 4×4, EXIF flag), the lossless image (odd size, padded), EXIF. */
export function webpExtended(): Uint8Array {
  const riffChunk = (fourcc: string, data: Uint8Array) => {
    const head = Buffer.alloc(8);
    head.write(fourcc, 0, 'latin1');
    head.writeUInt32LE(data.length, 4);
    return Buffer.concat([head, data, Buffer.alloc(data.length % 2)]);
  };
  // Flags: EXIF (bit 3); canvas width − 1 and height − 1 in 24 bits each.
  const vp8x = Buffer.from([0x08, 0, 0, 0, 3, 0, 0, 3, 0, 0]);
  const image = Buffer.from(webp('lossless').subarray(12));
  const chunks = Buffer.concat([riffChunk('VP8X', vp8x), image, riffChunk('EXIF', Uint8Array.from(exif()))]);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(chunks.length + 4, 4);
  head.write('WEBP', 8, 'latin1');
  return new Uint8Array(Buffer.concat([head, chunks]));
}

/**
 * A ZIP of one stored file and a comment, its offsets counted from `at` (where it will sit in
 * the polyglot), so `unzip -t` reads the whole file cleanly.
 */
function zip(name: string, content: Uint8Array, comment: Uint8Array, at: number): Buffer {
  const fileName = Buffer.from(name, 'latin1');
  const crc = crc32(content);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  central.writeUInt32LE(at, 42);
  const centralAt = at + local.length + fileName.length + content.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(centralAt, 16);
  end.writeUInt16LE(comment.length, 20);
  return Buffer.concat([local, fileName, content, central, fileName, end, comment]);
}

const HTML = Buffer.from('<html><body><script>alert(document.domain)</script></body></html>', 'latin1');

/** A file with data after a real image, and how it would be uploaded. */
export interface Polyglot {
  bytes: Uint8Array;
  name: string;
  type: 'image/jpeg' | 'image/png';
}

/**
 * The three polyglots of issue 11, point 8, each made to end the way its image type ends:
 * a JPEG followed by a ZIP whose comment ends in FF D9, a JPEG followed by HTML and FF D9, and
 * a PNG followed by HTML and a second, valid IEND chunk.
 */
export function polyglots(): Record<'jpegZip' | 'jpegHtml' | 'pngHtml', Polyglot> {
  const image = jpeg();
  const archive = zip('note.txt', Buffer.from('hidden\n'), Buffer.from([0x6f, 0x6b, 0xff, 0xd9]), image.length);
  return {
    jpegZip: { bytes: new Uint8Array(Buffer.concat([image, archive])), name: 'zip.jpg', type: 'image/jpeg' },
    jpegHtml: { bytes: new Uint8Array(Buffer.concat([image, HTML, Buffer.from([0xff, 0xd9])])), name: 'html.jpg', type: 'image/jpeg' },
    pngHtml: { bytes: new Uint8Array(Buffer.concat([png(4, 4), HTML, pngChunk('IEND', new Uint8Array(0))])), name: 'html.png', type: 'image/png' },
  };
}
