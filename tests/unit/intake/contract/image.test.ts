import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, endsAsImage, PNG_SIGNATURE } from '../../../../src/intake/contract/image.ts';
import type { UploadedFile } from '../../../../src/intake/contract/image.ts';
import { jpeg, jpegWithExifThumbnail, png, pngChunk, polyglots, progressiveJpeg, webp, webpExtended } from '../../../support/images.ts';

type ImageType = Exclude<UploadedFile['type'], 'application/octet-stream'>;

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
const ascii = (s: string) => new TextEncoder().encode(s);
const indexOf = (bytes: Uint8Array, needle: number[]) => Buffer.from(bytes).indexOf(Buffer.from(needle));

/** Every valid shape the builders make, by type. */
const valid: [string, ImageType, () => Uint8Array][] = [
  ['baseline JPEG', 'image/jpeg', jpeg],
  ['progressive JPEG', 'image/jpeg', progressiveJpeg],
  ['JPEG with an EXIF thumbnail', 'image/jpeg', jpegWithExifThumbnail],
  ['PNG', 'image/png', () => png(4, 3)],
  ['PNG in several IDAT chunks', 'image/png', () => png(32, 32, 3)],
  ['lossless WebP', 'image/webp', () => webp('lossless')],
  ['lossy WebP', 'image/webp', () => webp('lossy')],
  ['extended WebP', 'image/webp', webpExtended],
];

describe('endsAsImage: real images pass', () => {
  it.each(valid)('accepts a %s', (_, type, build) => {
    expect(endsAsImage(build(), type)).toBe(true);
  });

  it('walks a progressive JPEG through both scans, their RST0 markers and a stuffed FF 00', () => {
    const image = progressiveJpeg();
    expect(indexOf(image, [0xff, 0x00])).toBeGreaterThan(0);
    expect(indexOf(image, [0xff, 0xd0])).toBeGreaterThan(0);
    expect(image.filter((b, i) => b === 0xff && image[i + 1] === 0xda)).toHaveLength(2);
    expect(endsAsImage(image, 'image/jpeg')).toBe(true);
  });

  it('steps over the FFD8…FFD9 of an EXIF thumbnail instead of ending there', () => {
    const image = jpegWithExifThumbnail();
    const thumbnailEnd = indexOf(image, [0xff, 0xd9]) + 2;
    expect(thumbnailEnd).toBeLessThan(image.length);
    expect(endsAsImage(image, 'image/jpeg')).toBe(true);
    expect(endsAsImage(image.subarray(0, thumbnailEnd), 'image/jpeg')).toBe(false);
  });

  it('accepts zero padding after a JPEG and fill bytes before a marker', () => {
    expect(endsAsImage(concat(jpeg(), new Uint8Array(100)), 'image/jpeg')).toBe(true);
    const image = jpeg();
    const dqt = indexOf(image, [0xff, 0xdb]);
    expect(endsAsImage(concat(image.subarray(0, dqt), [0xff, 0xff], image.subarray(dqt)), 'image/jpeg')).toBe(true);
  });
});

describe('endsAsImage: data after the image is refused', () => {
  it.each(Object.entries(polyglots()))('refuses the %s polyglot', (_, polyglot) => {
    expect(endsAsImage(polyglot.bytes, polyglot.type)).toBe(false);
  });

  it('refuses data after a JPEG’s EOI, even after zero padding', () => {
    expect(endsAsImage(concat(jpeg(), ascii('MZ')), 'image/jpeg')).toBe(false);
    expect(endsAsImage(concat(jpeg(), [0, 0, 0, 1]), 'image/jpeg')).toBe(false);
    expect(endsAsImage(concat(jpeg(), jpeg()), 'image/jpeg')).toBe(false);
  });

  it('refuses a JPEG with a stray byte between segments', () => {
    const image = jpeg();
    const dqt = indexOf(image, [0xff, 0xdb]);
    expect(endsAsImage(concat(image.subarray(0, dqt), [0x41], image.subarray(dqt)), 'image/jpeg')).toBe(false);
  });

  it('refuses a JPEG without a scan', () => {
    expect(endsAsImage(Uint8Array.of(0xff, 0xd8, 0xff, 0xd9), 'image/jpeg')).toBe(false);
  });

  it.each(valid)('refuses a %s cut short anywhere (mid-segment, mid-scan, mid-chunk)', (_, type, build) => {
    const image = build();
    for (let end = 0; end < image.length; end++) expect(endsAsImage(image.subarray(0, end), type), `cut at ${end}`).toBe(false);
  });

  it('refuses a PNG with a bad CRC', () => {
    const image = png(4, 4);
    const data = indexOf(image, [...ascii('IDAT')]) + 4;
    image[data] = image[data]! ^ 0x01;
    expect(endsAsImage(image, 'image/png')).toBe(false);
  });

  it('refuses a PNG whose first chunk is not IHDR', () => {
    const image = png(4, 4);
    const text = pngChunk('tEXt', ascii('Comment\u0000hi'));
    expect(endsAsImage(concat(PNG_SIGNATURE, text, image.subarray(PNG_SIGNATURE.length)), 'image/png')).toBe(false);
  });

  it('refuses a PNG chunk whose length runs past the end or over 2^31 − 1', () => {
    for (const length of [0x10000, 0x7fffffff, 0x80000000, 0xffffffff]) {
      const image = png(4, 4);
      new DataView(image.buffer).setUint32(indexOf(image, [...ascii('IDAT')]) - 4, length);
      expect(endsAsImage(image, 'image/png'), `length ${length}`).toBe(false);
    }
  });

  it('refuses a WebP with bytes after its RIFF length', () => {
    expect(endsAsImage(concat(webp(), [0x00]), 'image/webp')).toBe(false);
    expect(endsAsImage(concat(webpExtended(), ascii('<html>')), 'image/webp')).toBe(false);
  });

  it('refuses a WebP whose RIFF length lies', () => {
    for (const delta of [-2, -1, 1, 2]) {
      const image = webp();
      const view = new DataView(image.buffer);
      view.setUint32(4, view.getUint32(4, true) + delta, true);
      expect(endsAsImage(image, 'image/webp'), `delta ${delta}`).toBe(false);
    }
  });

  it('refuses a WebP whose chunks do not tile the payload', () => {
    const riff = (payload: Uint8Array) => {
      const head = concat(ascii('RIFF'), [0, 0, 0, 0], ascii('WEBP'));
      new DataView(head.buffer).setUint32(4, payload.length + 4, true);
      return concat(head, payload);
    };
    const chunks = webp().subarray(12);
    // A half chunk header, an unknown chunk running past the end, a non-zero pad byte, no chunk at all.
    expect(endsAsImage(riff(concat(chunks, ascii('EXIF'))), 'image/webp')).toBe(false);
    expect(endsAsImage(riff(concat(chunks, ascii('EXIF'), [0xff, 0, 0, 0], ascii('data'))), 'image/webp')).toBe(false);
    const badPad = Uint8Array.from(chunks);
    badPad[badPad.length - 1] = 0x41;
    expect(endsAsImage(riff(badPad), 'image/webp')).toBe(false);
    expect(endsAsImage(riff(new Uint8Array(0)), 'image/webp')).toBe(false);
    // The first chunk must say how the image is coded.
    expect(endsAsImage(riff(concat(ascii('EXIF'), [2, 0, 0, 0, 0, 0], chunks)), 'image/webp')).toBe(false);
  });

  it('refuses an image under another type’s name, and anything that is not an image', () => {
    expect(endsAsImage(png(), 'image/jpeg')).toBe(false);
    expect(endsAsImage(jpeg(), 'image/webp')).toBe(false);
    expect(endsAsImage(webp(), 'image/png')).toBe(false);
    expect(endsAsImage(jpeg(), 'application/octet-stream')).toBe(false);
  });
});

describe('endsAsImage: properties', () => {
  const anyValid = fc.constantFrom(...valid);

  it('refuses any bytes appended after a valid image (for JPEG: any that are not all zeros)', () => {
    fc.assert(
      fc.property(anyValid, fc.uint8Array({ minLength: 1, maxLength: 64 }), ([, type, build], suffix) => {
        fc.pre(type !== 'image/jpeg' || suffix.some((b) => b !== 0));
        expect(endsAsImage(concat(build(), suffix), type)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on garbage, on its own or written over a valid image', () => {
    const types = fc.constantFrom<UploadedFile['type']>('image/jpeg', 'image/png', 'image/webp', 'application/octet-stream');
    const overwritten = fc
      .tuple(anyValid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat())
      .map(([[, , build], writes, cut]) => {
        const image = build();
        for (const [at, value] of writes) image[at % image.length] = value;
        return image.subarray(0, image.length - (cut % 4));
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 256 }), overwritten), types, (bytes, type) => {
        expect(typeof endsAsImage(bytes, type)).toBe('boolean');
      }),
      { numRuns: 5000 },
    );
  });

  it('computes the same CRC-32 as zlib', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(crc32(bytes)).toBe(zlibCrc32(bytes));
      }),
    );
  });
});

describe('endsAsImage: cost', () => {
  it('walks 5 MiB of worst-case scan data in linear time', () => {
    const image = jpeg();
    const sos = image.length - 3;
    const size = 5 * 1024 * 1024;
    // Fill bytes, stuffed bytes, restart markers, plain data: none ever ends the scan.
    const files = [[0xff], [0xff, 0x00], [0xff, 0xd0], [0x00]].map((pattern) => {
      const scan = new Uint8Array(size).map((_, i) => pattern[i % pattern.length]!);
      return concat(image.subarray(0, sos), scan);
    });
    const started = performance.now();
    for (const file of files) expect(endsAsImage(file, 'image/jpeg')).toBe(false);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
