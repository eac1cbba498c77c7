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
import { sniffImageType } from './image.ts';
import { FORM_ERROR } from './schema.ts';
import type { RawSubmission, UploadedFile } from './types.ts';

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
  const body = await readCapped(request.body, limits.maxBytes);
  return type === URLENCODED ? parseUrlencoded(body, limits) : parseMultipart(body, contentType, limits);
}

function mediaTypeOf(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Reads the stream, giving up as soon as it passes `maxBytes` (a lying or absent Content-Length). */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  if (body === null) return new Uint8Array(0);
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

function concat(chunks: Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
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

// WHATWG application/x-www-form-urlencoded parsing, on bytes, so bad UTF-8 is caught, not replaced.
function parseUrlencoded(body: Uint8Array, limits: BodyLimits): RawSubmission {
  // One sequence past the cap is enough to refuse: 16 MB of `&` is not made 16 million subarrays first.
  const sequences = split(body, 0x26, limits.maxParts + 1);
  if (sequences.length > limits.maxParts) throw new TooLargeError();
  const fields = new Map<string, string[]>();
  for (const sequence of sequences) {
    const eq = sequence.indexOf(0x3d);
    const nameBytes = eq === -1 ? sequence : sequence.subarray(0, eq);
    const value = eq === -1 ? new Uint8Array(0) : sequence.subarray(eq + 1);
    // No form has a name this long: past it, a name can only be unknown, whatever follows.
    const name = decodeUtf8(percentDecode(nameBytes, MAX_NAME_BYTES));
    const chars = limits.maxValueChars?.(name) ?? Number.POSITIVE_INFINITY;
    // A UTF-16 unit is at most three bytes of UTF-8 (and a character cut at the end is dropped).
    addField(fields, name, decodeUtf8(percentDecode(value, 3 * chars + 3)).slice(0, chars));
  }
  return { fields, files: [] };
}

const MAX_NAME_BYTES = 256;

/** The non-empty runs between separators, the first `max` of them at most. */
function split(bytes: Uint8Array, separator: number, max: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let start = 0; start <= bytes.byteLength && parts.length < max; ) {
    const found = bytes.indexOf(separator, start);
    const end = found === -1 ? bytes.byteLength : found;
    if (end > start) parts.push(bytes.subarray(start, end));
    start = end + 1;
  }
  return parts;
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
  const first = needle[0];
  if (first === undefined) return -1;
  for (let i = bytes.indexOf(first, from); i !== -1; i = bytes.indexOf(first, i + 1)) {
    if (startsWithBytes(bytes, needle, i)) return i;
  }
  return -1;
}
