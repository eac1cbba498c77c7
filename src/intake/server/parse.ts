/**
 * Reads an application request body into text fields and files, with every cap applied before
 * anything is buffered whole. Only the two encodings an HTML form can send are accepted.
 *
 * Decisions:
 * - Too many parts is a `TooLargeError` (413), like too many bytes: a real form has about forty
 *   parts, so more is a flood, not a mistake the person could correct.
 * - Invalid UTF-8 is a `ValidationError` (`_form: malformed`). Urlencoded bodies are decoded here
 *   byte by byte with a fatal decoder; for multipart, where the platform parser silently puts
 *   U+FFFD in place of bad bytes, the raw text parts are checked with a fatal decoder first, so a
 *   U+FFFD the person really typed is still accepted.
 */
import { TooLargeError, UnsupportedMediaTypeError, ValidationError } from './errors.ts';
import { sniffImageType } from '../contract/image.ts';
import { FORM_ERROR } from '../contract/fields.ts';
import type { RawSubmission } from './types.ts';
import type { UploadedFile } from '../contract/image.ts';

/** Caps on one request body. */
export interface BodyLimits {
  /** Whole body, in bytes; checked against Content-Length and again while reading. */
  maxBytes: number;
  /** Form parts (multipart) or name=value pairs (urlencoded). */
  maxParts: number;
  /** Non-empty file parts. */
  maxFiles: number;
  /** The fields that may carry files, each with the cap of one file in bytes; a file elsewhere is refused. */
  fileFields: Readonly<Record<string, number>>;
  /**
   * How many characters of a field's value are worth reading (0 for a name no form has): a
   * longer value is cut there, and of a urlencoded one no more than that is even decoded, so
   * a value far past its limit costs almost nothing. Unset: every value whole.
   */
  maxValueChars?: (name: string) => number;
}

const MULTIPART = 'multipart/form-data';
const URLENCODED = 'application/x-www-form-urlencoded';
// RFC 2046 §5.1.1: 1 to 70 characters from a restricted set.
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

const malformed = () => new ValidationError({ [FORM_ERROR]: 'malformed' });
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ascii = new TextEncoder();

/**
 * Parses a form post. Throws `UnsupportedMediaTypeError` for any type but the two form
 * encodings, `TooLargeError` over `maxBytes`/`maxParts`, and `ValidationError` for a malformed
 * body, a file in a field not in `fileFields`, too many files or one too large.
 * Photos get their type from their bytes; empty file inputs (nothing chosen) are dropped.
 */
export async function parseRequest(request: Request, limits: BodyLimits): Promise<RawSubmission> {
  const contentType = request.headers.get('content-type') ?? '';
  const type = mediaTypeOf(contentType);
  if (type !== MULTIPART && type !== URLENCODED) throw new UnsupportedMediaTypeError();
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > limits.maxBytes) throw new TooLargeError();
  if (type === URLENCODED) return readUrlencoded(request.body, limits);
  return parseMultipart(await readCapped(request.body, limits.maxBytes), contentType, limits);
}

function mediaTypeOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Reads the stream, giving up as soon as it passes `maxBytes` (a lying or absent Content-Length). */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Buffer<ArrayBuffer>> {
  if (body === null) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = await reader.read().catch(() => {
      // The client went away mid-upload: there is no whole body to answer about.
      throw malformed();
    });
    if (chunk.done) break;
    total += chunk.value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => undefined);
      throw new TooLargeError();
    }
    chunks.push(chunk.value);
  }
  return concat(chunks, total);
}

// A Buffer, not a plain Uint8Array: its indexOf is native (memchr and a substring search), the
// typed array's a loop in JavaScript, which is what a 16 MB body costs most.
function concat(chunks: Uint8Array[], total: number): Buffer<ArrayBuffer> {
  return Buffer.concat(chunks, total) as Buffer<ArrayBuffer>;
}

function addField(fields: Map<string, string[]>, name: string, value: string): void {
  const values = fields.get(name);
  if (values) values.push(value);
  else fields.set(name, [value]);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw malformed();
  }
}

/**
 * WHATWG application/x-www-form-urlencoded parsing, on bytes as they arrive, so bad UTF-8 is
 * caught, not replaced, and nothing is kept whole: of each value only what its field can use
 * is kept (`maxValueChars`; a raw `%XX` is three bytes for one), the rest is skipped unread.
 */
async function readUrlencoded(body: ReadableStream<Uint8Array> | null, limits: BodyLimits): Promise<RawSubmission> {
  const reader = new UrlencodedReader(limits);
  if (body === null) return reader.end();
  const stream = body.getReader();
  let total = 0;
  for (;;) {
    const chunk = await stream.read().catch(() => {
      // The client went away mid-upload: there is no whole body to answer about.
      throw malformed();
    });
    if (chunk.done) return reader.end();
    total += chunk.value.byteLength;
    if (total > limits.maxBytes) {
      stream.cancel().catch(() => undefined);
      throw new TooLargeError();
    }
    try {
      reader.push(Buffer.from(chunk.value.buffer, chunk.value.byteOffset, chunk.value.byteLength));
    } catch (error) {
      stream.cancel().catch(() => undefined);
      throw error;
    }
  }
}

// No form has a name this long: past it, a name can only be unknown, whatever follows.
const MAX_NAME_BYTES = 256;

/** The state of {@link readUrlencoded}: the `name=value` sequence being read, and the fields so far. */
class UrlencodedReader {
  readonly #limits: BodyLimits;
  readonly #fields = new Map<string, string[]>();
  #parts = 0;
  /** Bytes of the current sequence, `=` included: an empty sequence (`&&`) is skipped. */
  #seen = 0;
  /** The current name once its `=` has come, with how many characters of its value count. */
  #name: string | undefined;
  #chars = Number.POSITIVE_INFINITY;
  /** Raw bytes kept of the current name or value, and how many more are worth keeping. */
  #kept: Buffer[] = [];
  #room = 3 * MAX_NAME_BYTES;

  constructor(limits: BodyLimits) {
    this.#limits = limits;
  }

  push(chunk: Buffer): void {
    for (let at = 0; at < chunk.byteLength; ) {
      // Empty sequences (`&&&…`) are skipped, as the standard says, at the cost of a byte each.
      if (this.#seen === 0) while (at < chunk.byteLength && chunk[at] === 0x26) at++;
      if (at >= chunk.byteLength) return;
      const amp = chunk.indexOf(0x26, at);
      const end = amp === -1 ? chunk.byteLength : amp;
      this.#take(chunk, at, end);
      if (amp === -1) return;
      this.#finish();
      at = amp + 1;
    }
  }

  end(): RawSubmission {
    this.#finish();
    return { fields: this.#fields, files: [] };
  }

  #take(chunk: Buffer, from: number, to: number): void {
    this.#seen += to - from;
    if (this.#name === undefined && to > from) {
      // Searched within this piece only: a search to the chunk's end for every `&` would be
      // quadratic in a chunk of `&&&…`.
      const found = chunk.subarray(from, to).indexOf(0x3d);
      const eq = found === -1 ? -1 : from + found;
      if (eq !== -1) {
        this.#keep(chunk, from, eq);
        this.#startValue();
        from = eq + 1;
      }
    }
    this.#keep(chunk, from, to);
  }

  #keep(chunk: Buffer, from: number, to: number): void {
    const length = Math.min(to - from, this.#room);
    if (length <= 0) return;
    // A copy: a slice would keep the whole chunk it came from.
    this.#kept.push(Buffer.from(chunk.subarray(from, from + length)));
    this.#room -= length;
  }

  #takeKept(): Buffer {
    const bytes = Buffer.concat(this.#kept);
    this.#kept = [];
    return bytes;
  }

  #startValue(): void {
    this.#name = decodeUtf8(percentDecode(this.#takeKept(), MAX_NAME_BYTES));
    this.#chars = this.#limits.maxValueChars?.(this.#name) ?? Number.POSITIVE_INFINITY;
    // Enough raw bytes for `3 × chars + 3` decoded ones (see below), each at most `%XX`.
    this.#room = 3 * (3 * this.#chars + 3);
  }

  #finish(): void {
    if (this.#seen > 0) {
      this.#parts += 1;
      // One sequence past the cap is enough to refuse: the rest is never looked at.
      if (this.#parts > this.#limits.maxParts) throw new TooLargeError();
      if (this.#name === undefined) this.#startValue();
      // A UTF-16 unit is at most three bytes of UTF-8 (and a character cut at the end is dropped).
      const value = decodeUtf8(percentDecode(this.#takeKept(), 3 * this.#chars + 3)).slice(0, this.#chars);
      addField(this.#fields, this.#name as string, value);
    }
    this.#seen = 0;
    this.#name = undefined;
    this.#kept = [];
    this.#room = 3 * MAX_NAME_BYTES;
  }
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/**
 * `+` is a space; a `%` not followed by two hex digits stays as it is (WHATWG URL, percent-decode).
 * Stops after `maxOut` bytes of output, and then also drops a character cut in two at the end, so
 * the bytes still decode as UTF-8.
 */
function percentDecode(bytes: Uint8Array, maxOut = Number.POSITIVE_INFINITY): Uint8Array {
  const out = new Uint8Array(Math.min(bytes.byteLength, maxOut));
  let length = 0;
  for (let i = 0; i < bytes.byteLength; i++) {
    if (length >= out.byteLength) return out.subarray(0, wholeCharacters(out, length));
    const byte = bytes[i] as number;
    const high = byte === 0x25 ? hexValue(bytes[i + 1]) : -1;
    const low = high === -1 ? -1 : hexValue(bytes[i + 2]);
    if (low !== -1) {
      out[length++] = high * 16 + low;
      i += 2;
    } else {
      out[length++] = byte === 0x2b ? 0x20 : byte;
    }
  }
  return out.subarray(0, length);
}

/** The length of `bytes[0, length)` without a UTF-8 sequence cut short at its end. */
function wholeCharacters(bytes: Uint8Array, length: number): number {
  let start = length;
  // Back over continuation bytes (10xxxxxx) to the start of the last sequence, three at most.
  while (start > 0 && length - start < 3 && ((bytes[start - 1] as number) & 0xc0) === 0x80) start--;
  if (start === 0) return length;
  const lead = bytes[start - 1] as number;
  const needs = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return length - (start - 1) >= needs ? length : start - 1;
}

async function parseMultipart(body: Uint8Array<ArrayBuffer>, contentType: string, limits: BodyLimits): Promise<RawSubmission> {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) throw malformed();
  if (checkTextParts(body, boundary) > limits.maxParts) throw new TooLargeError();
  const form = await new Response(body, { headers: { 'content-type': contentType } })
    .formData()
    .catch(() => {
      throw malformed();
    });
  const fields = new Map<string, string[]>();
  const files: UploadedFile[] = [];
  for (const [name, value] of form) {
    if (typeof value !== 'string') {
      if (value.size > 0 || value.name !== '') files.push(await toUpload(name, value, files.length, limits));
    } else if (Object.hasOwn(limits.fileFields, name)) {
      // Some clients send an empty file input as a plain empty part, without a filename.
      if (value !== '') throw new ValidationError({ [name]: 'photo_type' });
    } else {
      addField(fields, name, value.slice(0, limits.maxValueChars?.(name) ?? value.length));
    }
  }
  return { fields, files };
}

async function toUpload(field: string, file: File, previous: number, limits: BodyLimits): Promise<UploadedFile> {
  const maxBytes = Object.hasOwn(limits.fileFields, field) ? limits.fileFields[field] : undefined;
  if (maxBytes === undefined) throw new ValidationError({ [FORM_ERROR]: 'unknown_field' });
  if (previous >= limits.maxFiles) throw new ValidationError({ [field]: 'photo_count' });
  if (file.size > maxBytes) throw new ValidationError({ [field]: 'photo_too_large' });
  const bytes = new Uint8Array(await file.arrayBuffer());
  return { field, type: sniffImageType(bytes), bytes };
}

function boundaryOf(contentType: string): string | undefined {
  for (const parameter of contentType.split(';').slice(1)) {
    const eq = parameter.indexOf('=');
    if (eq === -1 || parameter.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    const value = parameter.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    return BOUNDARY.test(value) ? value : undefined;
  }
  return undefined;
}

const HEADER_END = ascii.encode('\r\n\r\n');
// `--` right after a delimiter closes the body.
const DASHES = ascii.encode('--');
const FILENAME = /;\s*filename\*?\s*=/i;

/**
 * Walks the parts between boundary delimiters, counts them, and checks that every header block
 * and every non-file body is valid UTF-8. Structure errors are left to the platform parser,
 * which rejects them after this.
 */
function checkTextParts(body: Uint8Array, boundary: string): number {
  const delimiter = ascii.encode(`\r\n--${boundary}`);
  // Seen as if a CRLF came before the body, the opening delimiter is like the others.
  let at = startsWithBytes(body, delimiter.subarray(2), 0) ? -2 : indexOfBytes(body, delimiter, 0);
  let count = 0;
  while (at !== -1) {
    const partStart = at + delimiter.byteLength;
    if (startsWithBytes(body, DASHES, partStart)) break;
    const next = indexOfBytes(body, delimiter, partStart);
    count += 1;
    checkPart(body.subarray(partStart, next === -1 ? body.byteLength : next));
    at = next;
  }
  return count;
}

function checkPart(part: Uint8Array): void {
  const headerEnd = indexOfBytes(part, HEADER_END, 0);
  if (headerEnd === -1) return;
  const headers = decodeUtf8(part.subarray(0, headerEnd));
  const disposition = headers.split('\r\n').find((line) => /^content-disposition\s*:/i.test(line)) ?? '';
  if (!FILENAME.test(disposition)) decodeUtf8(part.subarray(headerEnd + HEADER_END.byteLength));
}

function startsWithBytes(bytes: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (at + prefix.byteLength > bytes.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

function indexOfBytes(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  if (needle.byteLength === 0) return -1;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(needle, from);
}
