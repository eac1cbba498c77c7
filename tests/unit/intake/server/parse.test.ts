import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntakeError, TooLargeError, UnsupportedMediaTypeError, ValidationError } from '../../../../src/intake/server/errors.ts';
import { parseRequest, type BodyLimits } from '../../../../src/intake/server/parse.ts';
import { jpeg, png } from '../../../support/images.ts';
import { bodyLimits } from '../../../../src/intake/server/pipeline.ts';
import { textLimits } from '../../../../src/intake/contract/fields.ts';
import { validateFields } from '../../../../src/intake/contract/validate.ts';

const limits: BodyLimits = { maxBytes: 64 * 1024, maxParts: 50, maxFiles: 3, fileFields: { photos: 16 * 1024, sealed_photos: 20 * 1024 } };
const URL_ = 'http://localhost/api/applications';
const URLENCODED = 'application/x-www-form-urlencoded';
const encoder = new TextEncoder();

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request(URL_, { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
}

function formPost(entries: [string, string | File][]): Request {
  const form = new FormData();
  for (const [name, value] of entries) form.append(name, value);
  return post(form);
}

/** A multipart body written byte by byte, for what FormData would never produce. */
function rawMultipart(parts: { headers: string | Uint8Array; body: Uint8Array | string }[], boundary = 'B0und4ry'): Request {
  const bytes = (text: string | Uint8Array) => (typeof text === 'string' ? encoder.encode(text) : text);
  const chunks: Uint8Array[] = [];
  for (const part of parts) {
    chunks.push(encoder.encode(`--${boundary}\r\n`), bytes(part.headers), encoder.encode('\r\n\r\n'));
    chunks.push(typeof part.body === 'string' ? encoder.encode(part.body) : part.body);
    chunks.push(encoder.encode('\r\n'));
  }
  chunks.push(encoder.encode(`--${boundary}--\r\n`));
  return post(new Blob(chunks as BlobPart[]), { 'content-type': `multipart/form-data; boundary=${boundary}` });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function fieldErrors(promise: Promise<unknown>): Promise<Record<string, string>> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).fields;
}

/** A body stream that counts how many chunks were pulled and whether it was cancelled. */
function endlessStream(chunkSize: number) {
  const state = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulls += 1;
      controller.enqueue(encoder.encode('a='.padEnd(chunkSize, 'x')));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

describe('parseRequest: media types', () => {
  it.each([
    ['application/json', '{"kind":"help"}'],
    ['text/plain', 'kind=help'],
    ['multipart/mixed; boundary=x', '--x--'],
    ['application/x-www-form-urlencoded-not', 'kind=help'],
  ])('refuses %s with 415', async (type, body) => {
    const error = await rejection(parseRequest(post(body, { 'content-type': type }), limits));
    expect(error).toBeInstanceOf(UnsupportedMediaTypeError);
    expect((error as IntakeError).status).toBe(415);
  });

  it('refuses a body without a content type', async () => {
    const request = new Request(URL_, { method: 'POST', body: new Uint8Array([0x61]) });
    expect(request.headers.get('content-type')).toBeNull();
    expect(await rejection(parseRequest(request, limits))).toBeInstanceOf(UnsupportedMediaTypeError);
  });

  it('reads the media type case-insensitively and ignores a charset parameter', async () => {
    const raw = await parseRequest(post('a=1', { 'content-type': 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' }), limits);
    expect(raw.fields.get('a')).toEqual(['1']);
  });
});

describe('parseRequest: urlencoded', () => {
  it('decodes names and values, keeps repeated values in order', async () => {
    const params = new URLSearchParams([
      ['kind', 'help'],
      ['message', 'Помогите, пожалуйста! 100% & =+'],
      ['contact_channels', 'sms'],
      ['contact_channels', 'whatsapp'],
      ['empty', ''],
    ]);
    const raw = await parseRequest(post(params.toString(), { 'content-type': URLENCODED }), limits);
    expect(raw.files).toEqual([]);
    expect(Object.fromEntries(raw.fields)).toEqual({
      kind: ['help'],
      message: ['Помогите, пожалуйста! 100% & =+'],
      contact_channels: ['sms', 'whatsapp'],
      empty: [''],
    });
  });

  it('follows the WHATWG rules: + is space, a bare % stays, a name without = has an empty value', async () => {
    const raw = await parseRequest(post('a=x+y%20z&b=100%zz%2&&c', { 'content-type': URLENCODED }), limits);
    expect(Object.fromEntries(raw.fields)).toEqual({ a: ['x y z'], b: ['100%zz%2'], c: [''] });
  });

  it('gives an empty map for an empty body', async () => {
    const raw = await parseRequest(post('', { 'content-type': URLENCODED }), limits);
    expect(raw.fields.size).toBe(0);
  });

  it('keeps a U+FFFD the person typed, but refuses invalid UTF-8', async () => {
    const typed = await parseRequest(post('m=%EF%BF%BD', { 'content-type': URLENCODED }), limits);
    expect(typed.fields.get('m')).toEqual(['\ufffd']);
    for (const body of ['m=%FF', 'm=%C3', 'm=%ED%A0%80', '%FF=x']) {
      expect(await fieldErrors(parseRequest(post(body, { 'content-type': URLENCODED }), limits)), body).toEqual({ _form: 'malformed' });
    }
    const rawByte = post(new Uint8Array([0x6d, 0x3d, 0xc3, 0x28]), { 'content-type': URLENCODED });
    expect(await fieldErrors(parseRequest(rawByte, limits))).toEqual({ _form: 'malformed' });
  });

  it('refuses more pairs than maxParts with 413', async () => {
    const body = Array.from({ length: limits.maxParts + 1 }, (_, i) => `f${i}=1`).join('&');
    expect(await rejection(parseRequest(post(body, { 'content-type': URLENCODED }), limits))).toBeInstanceOf(TooLargeError);
    const atLimit = Array.from({ length: limits.maxParts }, (_, i) => `f${i}=1`).join('&');
    expect((await parseRequest(post(atLimit, { 'content-type': URLENCODED }), limits)).fields.size).toBe(limits.maxParts);
  });
});

describe('parseRequest: size caps', () => {
  it('refuses a declared Content-Length over the cap before reading a byte', async () => {
    const { stream, state } = endlessStream(1024);
    const request = post(stream, { 'content-type': URLENCODED, 'content-length': String(limits.maxBytes + 1) });
    const error = await rejection(parseRequest(request, limits));
    expect(error).toBeInstanceOf(TooLargeError);
    expect((error as IntakeError).status).toBe(413);
    expect(state.pulls).toBeLessThanOrEqual(1);
  });

  it('stops reading an undeclared (chunked) body as soon as it passes the cap', async () => {
    const { stream, state } = endlessStream(4096);
    const request = post(stream, { 'content-type': URLENCODED });
    expect(request.headers.get('content-length')).toBeNull();
    expect(await rejection(parseRequest(request, limits))).toBeInstanceOf(TooLargeError);
    // 64 KiB cap / 4 KiB chunks: the 17th chunk passes it; a few more may be buffered ahead.
    expect(state.pulls).toBeLessThan(limits.maxBytes / 4096 + 4);
    expect(state.cancelled).toBe(true);
  });

  it('stops an async-iterable body (what the Node adapter passes) at the cap, cleanly', async () => {
    let yielded = 0;
    async function* socket() {
      for (;;) {
        yielded += 1;
        yield encoder.encode('x'.repeat(4096));
      }
    }
    const request = new Request(URL_, { method: 'POST', body: socket() as unknown as BodyInit, duplex: 'half', headers: { 'content-type': URLENCODED } } as RequestInit);
    expect(await rejection(parseRequest(request, limits))).toBeInstanceOf(TooLargeError);
    expect(yielded).toBeLessThan(limits.maxBytes / 4096 + 4);
    // Let a late enqueue after the cancel surface as an unhandled rejection, if there were one.
    await new Promise((r) => setTimeout(r, 50));
  });

  it('accepts a body of exactly maxBytes', async () => {
    const body = `a=${'x'.repeat(limits.maxBytes - 2)}`;
    const raw = await parseRequest(post(body, { 'content-type': URLENCODED }), limits);
    expect(raw.fields.get('a')?.[0]).toHaveLength(limits.maxBytes - 2);
  });

  it('answers a client that breaks off mid-upload with malformed, not a crash', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('a=1'));
        controller.error(new Error('socket hang up'));
      },
    });
    expect(await fieldErrors(parseRequest(post(stream, { 'content-type': URLENCODED }), limits))).toEqual({ _form: 'malformed' });
  });
});

describe('parseRequest: multipart', () => {
  it('reads text fields, repeated checkboxes and real images typed by their bytes', async () => {
    const raw = await parseRequest(
      formPost([
        ['kind', 'missing'],
        ['person_name', 'Мария'],
        ['contact_channels', 'sms'],
        ['contact_channels', 'email'],
        ['photos', new File([png(4, 3) as BlobPart], 'photo.png', { type: 'image/png' })],
        // The declared type and name lie; the bytes decide.
        ['photos', new File([jpeg() as BlobPart], 'scan.gif', { type: 'image/gif' })],
      ]),
      limits,
    );
    expect(Object.fromEntries(raw.fields)).toEqual({ kind: ['missing'], person_name: ['Мария'], contact_channels: ['sms', 'email'] });
    expect(raw.files.map((f) => [f.field, f.type])).toEqual([
      ['photos', 'image/png'],
      ['photos', 'image/jpeg'],
    ]);
    expect(raw.files[1]?.bytes).toEqual(jpeg());
  });

  it('marks a text file renamed .jpg as octet-stream, which validation refuses as photo_type', async () => {
    const fake = new File(['this is not a photo'], 'photo.jpg', { type: 'image/jpeg' });
    const raw = await parseRequest(formPost([['photos', fake]]), limits);
    expect(raw.files[0]?.type).toBe('application/octet-stream');
    const result = validateFields(new Map([['kind', ['missing']]]), raw.files);
    expect(result).toMatchObject({ ok: false, fields: { photos: 'photo_type' } });
  });

  it('ignores an empty file input, as browsers send it when no file was chosen', async () => {
    const raw = await parseRequest(
      rawMultipart([
        { headers: 'Content-Disposition: form-data; name="kind"', body: 'missing' },
        { headers: 'Content-Disposition: form-data; name="photos"; filename=""\r\nContent-Type: application/octet-stream', body: '' },
      ]),
      limits,
    );
    expect(raw.files).toEqual([]);
    expect([...raw.fields.keys()]).toEqual(['kind']);
    const withoutName = await parseRequest(formPost([['photos', new File([], '')]]), limits);
    expect(withoutName.files).toEqual([]);
    expect(withoutName.fields.size).toBe(0);
  });

  it('caps each file field on its own: encrypted photos may be a little larger than photos', async () => {
    const cap = limits.fileFields['sealed_photos']!;
    const sealed = await parseRequest(formPost([['sealed_photos', new File([new Uint8Array(cap)], 'K7M2-PQ4X-1.pgp')]]), limits);
    expect(sealed.files.map((f) => [f.field, f.type, f.bytes.byteLength])).toEqual([['sealed_photos', 'application/octet-stream', cap]]);
    const over = new File([new Uint8Array(cap + 1)], 'K7M2-PQ4X-1.pgp');
    expect(await fieldErrors(parseRequest(formPost([['sealed_photos', over]]), limits))).toEqual({ sealed_photos: 'photo_too_large' });
  });

  it('refuses files outside the photos field, too many photos and too large ones', async () => {
    const image = () => new File([png() as BlobPart], 'a.png');
    expect(await fieldErrors(parseRequest(formPost([['document', image()]]), limits))).toEqual({ _form: 'unknown_field' });
    const four = Array.from({ length: limits.maxFiles + 1 }, (): [string, File] => ['photos', image()]);
    expect(await fieldErrors(parseRequest(formPost(four), limits))).toEqual({ photos: 'photo_count' });
    const big = new File([new Uint8Array(limits.fileFields['photos']! + 1)], 'big.png');
    expect(await fieldErrors(parseRequest(formPost([['photos', big]]), limits))).toEqual({ photos: 'photo_too_large' });
    const three = await parseRequest(formPost(four.slice(1)), limits);
    expect(three.files).toHaveLength(limits.maxFiles);
  });

  it('refuses text sent in the photos field', async () => {
    expect(await fieldErrors(parseRequest(formPost([['photos', 'not a file']]), limits))).toEqual({ photos: 'photo_type' });
  });

  it.each([
    ['no boundary', 'multipart/form-data', '--x\r\n\r\n--x--'],
    ['an empty boundary', 'multipart/form-data; boundary=', '--\r\n\r\n----'],
    ['a boundary too long', `multipart/form-data; boundary=${'b'.repeat(71)}`, 'x'],
    ['garbage', 'multipart/form-data; boundary=xyz', 'this is not multipart at all'],
    ['a truncated body', 'multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\nabc'],
    ['a part without headers end', 'multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="a"\r\nabc\r\n--xyz--\r\n'],
  ])('answers %s with malformed', async (_, type, body) => {
    expect(await fieldErrors(parseRequest(post(body, { 'content-type': type }), limits))).toEqual({ _form: 'malformed' });
  });

  it('accepts a quoted boundary', async () => {
    const body = '--a b\r\nContent-Disposition: form-data; name="k"\r\n\r\nv\r\n--a b--\r\n';
    const raw = await parseRequest(post(body, { 'content-type': 'multipart/form-data; boundary="a b"' }), limits);
    expect(raw.fields.get('k')).toEqual(['v']);
  });

  it('refuses invalid UTF-8 in a text part or a field name, but not in a file', async () => {
    const bad = Uint8Array.of(0x61, 0xff, 0x62);
    const inText = rawMultipart([{ headers: 'Content-Disposition: form-data; name="message"', body: bad }]);
    expect(await fieldErrors(parseRequest(inText, limits))).toEqual({ _form: 'malformed' });
    const badName = new Uint8Array([...encoder.encode('Content-Disposition: form-data; name="m'), 0xff, 0x22]);
    const inName = rawMultipart([{ headers: badName, body: 'x' }]);
    expect(await fieldErrors(parseRequest(inName, limits))).toEqual({ _form: 'malformed' });
    const inFile = rawMultipart([{ headers: 'Content-Disposition: form-data; name="photos"; filename="a.jpg"', body: Uint8Array.of(0xff, 0xd8, 0xff, 0xff, 0xfe) }]);
    expect((await parseRequest(inFile, limits)).files[0]?.type).toBe('image/jpeg');
    const typed = rawMultipart([{ headers: 'Content-Disposition: form-data; name="message"', body: 'a\ufffdb' }]);
    expect((await parseRequest(typed, limits)).fields.get('message')).toEqual(['a\ufffdb']);
  });

  it('refuses more parts than maxParts with 413', async () => {
    const entries = Array.from({ length: limits.maxParts + 1 }, (_, i): [string, string] => [`f${i}`, 'v']);
    expect(await rejection(parseRequest(formPost(entries), limits))).toBeInstanceOf(TooLargeError);
    expect((await parseRequest(formPost(entries.slice(1)), limits)).fields.size).toBe(limits.maxParts);
  });

  it('caps a multipart body like any other', async () => {
    // Not a FormData body: undici's FormData serializer enqueues after a cancel (an unhandled
    // rejection in the test only; servers get the body as an async iterable, tested below).
    const big = rawMultipart([{ headers: 'Content-Disposition: form-data; name="photos"; filename="a.png"', body: new Uint8Array(limits.maxBytes) }]);
    expect(await rejection(parseRequest(big, limits))).toBeInstanceOf(TooLargeError);
  });
});

describe('values far past their limit (the endpoint\'s caps)', () => {
  const form = (fields: Record<string, string>) =>
    new Request('http://127.0.0.1/api/applications', { method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

  it('are read only a little past the limit, and still refused as too long, not as damaged', async () => {
    for (const char of ['a', 'м', '\u3000', '😀', '%']) {
      const raw = await parseRequest(form({ kind: 'help', message: `x${char.repeat(1_000_000)}`, contact_value: `x${char.repeat(100_000)}` }), bodyLimits);
      expect(raw.fields.get('message')?.[0]?.length, char).toBe(2 * textLimits.message + 1);
      const result = validateFields(raw.fields);
      expect(result.ok).toBe(false);
      if (!result.ok) expect([result.fields['message'], result.fields['contact_value']], char).toEqual(['too_long', 'too_long']);
    }
  });

  it('of a field no form has are not read at all, and the name is refused', async () => {
    const raw = await parseRequest(form({ kind: 'help', [`n${'x'.repeat(10_000)}`]: 'y'.repeat(1_000_000), extra: 'z'.repeat(1000) }), bodyLimits);
    expect(raw.fields.get('extra')).toEqual(['']);
    expect([...raw.fields.keys()].every((name) => name.length <= 256)).toBe(true);
    const result = validateFields(raw.fields);
    expect(result.ok || result.fields['_form']).toBe('unknown_field');
  });
});

describe('urlencoded bodies read as they arrive', () => {
  /** A request whose body comes in the given pieces, as a slow network delivers it. */
  const trickled = (body: Uint8Array, sizes: number[]) => {
    let at = 0;
    let i = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= body.byteLength) return controller.close();
        const size = Math.max(1, sizes[i++ % sizes.length] ?? 1);
        controller.enqueue(body.slice(at, at + size));
        at += size;
      },
    });
    return new Request('http://127.0.0.1/api/applications', { method: 'POST', body: stream, duplex: 'half', headers: { 'content-type': 'application/x-www-form-urlencoded' } } as RequestInit);
  };

  it('give the same fields however the body is cut into pieces', async () => {
    const limits: BodyLimits = { maxBytes: 1 << 20, maxParts: 200, maxFiles: 0, fileFields: {} };
    const entry = fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 40 }));
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }), async (entries, sizes) => {
        const text = new URLSearchParams(entries).toString();
        const whole = await parseRequest(new Request('http://127.0.0.1/', { method: 'POST', body: text, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), limits);
        const pieces = await parseRequest(trickled(new TextEncoder().encode(`&${text}&&`), sizes), limits);
        expect([...pieces.fields]).toEqual([...whole.fields]);
        const expected = new Map<string, string[]>();
        for (const [name, value] of entries) expected.set(name, [...(expected.get(name) ?? []), value]);
        expect([...whole.fields]).toEqual([...expected]);
      }),
      { numRuns: 200 },
    );
  });

  it('cut a value past its limit the same way in pieces as whole', async () => {
    const body = new TextEncoder().encode(new URLSearchParams({ kind: 'help', message: `${'мир '.repeat(20_000)}`, name: '%'.repeat(5000) }).toString());
    const whole = await parseRequest(trickled(body, [body.byteLength]), bodyLimits);
    const pieces = await parseRequest(trickled(body, [1, 2, 3, 700]), bodyLimits);
    expect([...pieces.fields]).toEqual([...whole.fields]);
    expect(whole.fields.get('message')?.[0]).toHaveLength(2 * textLimits.message + 1);
  });
});
