import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntakeError, ValidationError } from '../../../src/applications/errors.ts';
import { parseRequest } from '../../../src/applications/parse.ts';
import { errorKeys, fieldNames, helpFor, kinds, safetyAnswers, situations, validateFields } from '../../../src/applications/schema.ts';
import type { UploadedFile } from '../../../src/applications/types.ts';

const limits = { maxBytes: 32 * 1024, maxParts: 64, maxFiles: 3, fileFields: { photos: 8 * 1024 } };
const allNames = [...new Set([...fieldNames.help, ...fieldNames.missing, 'photos', '_form', '__proto__', 'constructor'])];

// Any UTF-16 code unit, lone surrogates and controls included.
const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const fieldName = fc.oneof(fc.constantFrom(...allNames), anyText);
const fieldValues = fc.array(fc.oneof(anyText, fc.constantFrom('', 'yes', 'no', 'help', 'missing', 'ru', 'en', '12', '2020-01-01')), { maxLength: 3 });
const anyFields = fc.array(fc.tuple(fieldName, fieldValues), { maxLength: 25 }).map((pairs) => new Map(pairs));
const anyFiles = fc.array(
  fc.record({
    field: fc.constantFrom('photos', 'other'),
    type: fc.constantFrom<UploadedFile['type']>('image/jpeg', 'image/png', 'image/webp', 'application/octet-stream'),
    bytes: fc.uint8Array({ maxLength: 16 }),
  }),
  { maxLength: 5 },
);

/** Either a typed application or only keys from the list: the function's whole contract. */
function expectContract(result: ReturnType<typeof validateFields>): void {
  if (result.ok) {
    expect(kinds).toContain(result.application.kind);
  } else {
    expect(Object.keys(result.fields).length).toBeGreaterThan(0);
    for (const key of Object.values(result.fields)) expect(errorKeys).toContain(key);
  }
}

// Valid help requests built from the option lists and any printable text, to reach the ok path.
const printable = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).filter((s) => /\S/u.test(s) && !/[\u0000-\u001f\u007f-\u009f]/.test(s));
const validHelp = fc.record({
  kind: fc.constant('help'),
  locale: fc.constantFrom('ru', 'en'),
  consent: fc.constant('yes'),
  contact_safe: fc.constantFrom(...safetyAnswers.filter((a) => a !== 'yes')),
  for: fc.constantFrom(...helpFor),
  situation: fc.subarray([...situations]),
  message: printable,
  name: printable,
});

describe('properties', () => {
  it('validateFields: any map of fields and files gives an application or known error keys, never a throw', () => {
    fc.assert(
      fc.property(anyFields, anyFiles, (fields, files) => {
        expectContract(validateFields(fields, files));
      }),
      { numRuns: 2000 },
    );
  });

  it('validateFields: valid help requests pass, and one mutated field still keeps the contract', () => {
    fc.assert(
      fc.property(validHelp, fieldName, fieldValues, (record, name, values) => {
        const fields = new Map(Object.entries(record).map(([k, v]): [string, string[]] => [k, Array.isArray(v) ? v : [v]]));
        const result = validateFields(fields);
        expect(result.ok).toBe(true);
        if (result.ok && result.application.kind === 'help') {
          expect(result.application.message).toBe(record.message.trim().normalize('NFC'));
        }
        fields.set(name, values);
        expectContract(validateFields(fields));
      }),
      { numRuns: 1000 },
    );
  });

  it('parseRequest: any byte body gives fields or a typed intake error, never anything else', async () => {
    const contentType = fc.constantFrom(
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xYz',
      'multipart/form-data',
      'multipart/form-data; boundary="a b"',
      'application/json',
      'text/plain',
    );
    // Bytes that are often almost-multipart, so the parser's deeper paths are reached.
    const piece = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom('--xYz\r\n', '--xYz--\r\n', '\r\n\r\n', 'Content-Disposition: form-data; name="photos"; filename="a"\r\n', 'Content-Disposition: form-data; name="a"\r\n', '%FF', '&', '=', '\xff').map((s) => new TextEncoder().encode(s)),
    );
    const body = fc.array(piece, { maxLength: 20 }).map((pieces) => Uint8Array.from(pieces.flatMap((p) => [...p])));
    await fc.assert(
      fc.asyncProperty(contentType, body, async (type, bytes) => {
        const request = new Request('http://localhost/', { method: 'POST', body: bytes, headers: { 'content-type': type } });
        try {
          const raw = await parseRequest(request, limits);
          expect(raw.fields).toBeInstanceOf(Map);
          expectContract(validateFields(raw.fields, raw.files));
        } catch (error) {
          expect(error).toBeInstanceOf(IntakeError);
          if (error instanceof ValidationError) {
            for (const key of Object.values(error.fields)) expect(errorKeys).toContain(key);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('parseRequest: any fields sent urlencoded or as multipart come back exactly', async () => {
    // Multipart escapes CR, LF and `"` in names (HTML's rule, lossy by design); ours are ASCII words.
    const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((n) => !/[\r\n"]/.test(n));
    const value = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/\r\n?/g, '\n'));
    const entries = fc.array(fc.tuple(name.filter((n) => n !== 'photos'), value), { maxLength: 10 });
    await fc.assert(
      fc.asyncProperty(entries, fc.boolean(), async (pairs, multipart) => {
        const expected = new Map<string, string[]>();
        for (const [k, v] of pairs) expected.set(k, [...(expected.get(k) ?? []), v]);
        const body = multipart ? new FormData() : new URLSearchParams();
        for (const [k, v] of pairs) body.append(k, v);
        const raw = await parseRequest(new Request('http://localhost/', { method: 'POST', body }), limits);
        // FormData sends line breaks as CRLF (HTML's rule); the schema folds them back to LF.
        const received = new Map([...raw.fields].map(([k, vs]) => [k, vs.map((v) => v.replace(/\r\n/g, '\n'))]));
        expect(received).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
});
