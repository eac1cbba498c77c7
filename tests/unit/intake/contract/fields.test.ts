import { describe, expect, it } from 'vitest';
import { endsAsImage, sniffImageType } from '../../../../src/intake/contract/image.ts';
import {
  contactChannels,
  errorKeys,
  LONG_TEXT_MAX,
  MAX_PHOTO_BYTES,
  MAX_PHOTOS,
  multilineFields,
  PEOPLE_COUNT_MAX,
  SHORT_TEXT_MAX,
  situations,
  textLimits,
} from '../../../../src/intake/contract/fields.ts';
import {
  fieldNames,
  helpSchema,
  missingSchema,
  validateFields,
} from '../../../../src/intake/contract/validate.ts';
import { DEFAULT_MIN_FILL_MS, isBot } from '../../../../src/intake/server/bot.ts';
import type { UploadedFile } from '../../../../src/intake/contract/image.ts';
import { jpeg, png, webp } from '../../../support/images.ts';

type Fields = Record<string, string | string[]>;

const toMap = (fields: Fields) =>
  new Map(Object.entries(fields).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));

const help: Fields = {
  kind: 'help',
  locale: 'ru',
  consent: 'yes',
  contact_safe: 'yes',
  contact_channels: ['whatsapp', 'sms'],
  contact_value: '+7 900 123-45-67',
  contact_time: 'после 21:00',
  reply_language: 'русский',
  website: '',
  filled_ms: '45000',
  for: 'self',
  situation: ['labour', 'documents_taken'],
  danger_now: 'unsure',
  country: 'Россия',
  place: 'Москва, стройка у МКАД',
  people_count: '12',
  name: 'Алишер',
  message: 'У нас забрали паспорта.\nНе платят третий месяц.',
};

const missing: Fields = {
  kind: 'missing',
  locale: 'en',
  consent: 'yes',
  contact_safe: 'no',
  person_name: 'Мария Иванова',
  person_other_names: 'Маша',
  person_birth_date: '1999-04-30',
  person_age: '26',
  person_citizenship: 'Кыргызстан',
  person_description: 'Рост 160, тёмные волосы,\nшрам на левой руке',
  person_phone: '+996 555 000 111',
  person_accounts: 'instagram: @masha\ntelegram: @masha99',
  last_seen_date: '2025-03-01',
  last_seen_place: 'Бишкек, автовокзал',
  circumstances: 'Уехала на работу в Турцию по объявлению, связь пропала.',
  police_report: 'yes',
  police_case: '№ 1234/25',
  applicant_name: 'Айгуль Иванова',
  applicant_relation: 'сестра',
  consent_publish: 'yes',
  consent_show_rescued: 'no',
};

function errorsOf(fields: Fields, files?: UploadedFile[]) {
  const result = validateFields(toMap(fields), files);
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.application)}`);
  return result.fields;
}

function valid(fields: Fields, files?: UploadedFile[]) {
  const result = validateFields(toMap(fields), files);
  if (!result.ok) throw new Error(`expected valid, got ${JSON.stringify(result.fields)}`);
  return result.application;
}

const without = (fields: Fields, ...names: string[]) =>
  Object.fromEntries(Object.entries(fields).filter(([k]) => !names.includes(k)));

function isoDate(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/**
 * A real image of `type` (the structure up to its end is checked); a JPEG is padded to `size`
 * bytes with the zeros that may follow its end, to reach the size cap.
 */
function imageBytes(type: UploadedFile['type'], size: number): Uint8Array {
  if (type === 'image/png') return png();
  if (type === 'image/webp') return webp();
  if (type !== 'image/jpeg') return new Uint8Array(Math.max(size, 16));
  const bytes = new Uint8Array(Math.max(size, jpeg().length));
  bytes.set(jpeg());
  return bytes;
}
const photo = (type: UploadedFile['type'], size = 16): UploadedFile => ({ field: 'photos', type, bytes: imageBytes(type, size) });

describe('validateFields: valid applications', () => {
  it('accepts a full help request in Cyrillic and types its numbers', () => {
    const app = valid(help);
    expect(app).toMatchObject({ kind: 'help', for: 'self', people_count: 12, filled_ms: 45_000, name: 'Алишер' });
    expect(app).not.toHaveProperty('website');
    if (app.kind !== 'help') throw new Error('kind');
    expect(app.situation).toEqual(['labour', 'documents_taken']);
    expect(app.message).toBe('У нас забрали паспорта.\nНе платят третий месяц.');
  });

  it('accepts a full missing-person request with photos', () => {
    const app = valid(missing, [photo('image/jpeg'), photo('image/png'), photo('image/webp')]);
    expect(app).toMatchObject({ kind: 'missing', person_age: 26, consent_publish: 'yes', consent_show_rescued: 'no' });
  });

  it('accepts the minimal help request (no contact when contacting is not safe)', () => {
    const app = valid({ kind: 'help', locale: 'ru', consent: 'yes', contact_safe: 'no', for: 'other', message: 'Помогите' });
    expect(Object.keys(app).sort()).toEqual(['consent', 'contact_safe', 'for', 'kind', 'locale', 'message']);
  });

  it('works on a map built from FormData, as a form island builds it', () => {
    const form = new FormData();
    for (const [name, value] of Object.entries(missing)) for (const v of [value].flat()) form.append(name, v);
    form.append('photos', new File([], ''));
    const fields = new Map<string, string[]>();
    for (const [name, value] of form) if (typeof value === 'string') fields.set(name, [...(fields.get(name) ?? []), value]);
    expect(validateFields(fields)).toMatchObject({ ok: true, application: { kind: 'missing', person_name: 'Мария Иванова' } });
  });

  it('drops empty and blank optional fields instead of keeping empty strings', () => {
    const app = valid({ ...help, name: '   ', country: '', place: '\n' });
    expect(app).not.toHaveProperty('name');
    expect(app).not.toHaveProperty('country');
    expect(app).not.toHaveProperty('place');
  });
});

describe('validateFields: text normalization', () => {
  it('trims, turns CRLF and CR into LF and normalizes to NFC', () => {
    const decomposed = 'Йо\u0308'.normalize('NFD');
    const app = valid({ ...help, name: `  ${decomposed}  `, message: ' строка 1\r\nстрока 2\rстрока 3\t! ' });
    if (app.kind !== 'help') throw new Error('kind');
    expect(app.name).toBe('Йо\u0308'.normalize('NFC'));
    expect(app.name).not.toBe(decomposed);
    expect(app.message).toBe('строка 1\nстрока 2\nстрока 3\t!');
  });

  it('takes spaces within a field\'s room as left blank, and far more than it holds as too long', () => {
    expect(valid({ ...help, name: ' '.repeat(2 * SHORT_TEXT_MAX) })).not.toHaveProperty('name');
    expect(errorsOf({ ...help, name: `${' '.repeat(2 * SHORT_TEXT_MAX + 1)}a` })).toEqual({ name: 'too_long' });
    expect(errorsOf({ ...help, name: ' '.repeat(100_000) })).toEqual({ name: 'too_long' });
    expect(errorsOf({ ...help, people_count: ' '.repeat(1000) })).toEqual({ people_count: 'invalid_number' });
  });

  it('measures length after NFC, so a decomposed text at the limit fits', () => {
    const nfd = 'й'.normalize('NFD').repeat(SHORT_TEXT_MAX);
    expect(nfd.length).toBe(SHORT_TEXT_MAX * 2);
    expect(valid({ ...help, name: nfd })).toMatchObject({ name: 'й'.repeat(SHORT_TEXT_MAX) });
  });

  it.each([
    ['\u0000'],
    ['\u0007'],
    ['\u001b[31m'],
    ['\u007f'],
    ['\u0085'],
    ['\u009b'],
  ])('rejects control character %j in long and short fields', (control) => {
    expect(errorsOf({ ...help, message: `a${control}b`, name: `a${control}b` })).toMatchObject({
      message: 'control_chars',
      name: 'control_chars',
    });
  });

  it('allows line breaks and tabs only in multi-line fields', () => {
    expect(errorsOf({ ...help, name: 'a\nb' })).toEqual({ name: 'control_chars' });
    expect(errorsOf({ ...help, country: 'a\tb' })).toEqual({ country: 'control_chars' });
    for (const field of multilineFields) {
      const base = (fieldNames.help as readonly string[]).includes(field) ? help : missing;
      expect(validateFields(toMap({ ...base, [field]: 'a\n\tb' })).ok, field).toBe(true);
    }
  });

  it('rejects a lone surrogate (it can not be encoded) as malformed', () => {
    expect(errorsOf({ ...help, message: 'a\ud800b' })).toEqual({ message: 'malformed' });
  });

  it.each(Object.entries(textLimits))('limits %s to %i characters', (field, max) => {
    const base = (fieldNames.help as readonly string[]).includes(field) ? help : missing;
    const extras = field === 'contact_value' ? { contact_channels: ['sms'] } : {};
    expect(validateFields(toMap({ ...base, ...extras, [field]: 'я'.repeat(max) })).ok).toBe(true);
    expect(errorsOf({ ...base, ...extras, [field]: 'я'.repeat(max + 1) })).toEqual({ [field]: 'too_long' });
  });

  // The limits a person meets, written out: a change to one is a change to the forms.
  it.each([
    ['help', 'message', 5000],
    ['help', 'name', 200],
    ['help', 'place', 200],
    ['missing', 'circumstances', 5000],
    ['missing', 'last_seen_place', 1000],
    ['missing', 'person_accounts', 1000],
  ] as const)('%s: %s takes %i characters and refuses one more', (kind, field, max) => {
    const base = kind === 'help' ? help : missing;
    expect(validateFields(toMap({ ...base, [field]: 'я'.repeat(max) })).ok).toBe(true);
    expect(errorsOf({ ...base, [field]: 'я'.repeat(max + 1) })).toEqual({ [field]: 'too_long' });
  });

  it('counts as the form\'s maxlength does, in UTF-16 units: an emoji is two', () => {
    expect(validateFields(toMap({ ...help, message: '😀'.repeat(LONG_TEXT_MAX / 2) })).ok).toBe(true);
    expect(errorsOf({ ...help, message: '😀'.repeat(LONG_TEXT_MAX / 2) + 'я' })).toEqual({ message: 'too_long' });
  });
});

describe('validateFields: required fields and choices', () => {
  it.each(['message'])('help needs %s', (field) => {
    expect(errorsOf(without(help, field))).toEqual({ [field]: 'required' });
  });

  it.each(['person_name', 'last_seen_place', 'circumstances', 'applicant_name'])('missing needs %s', (field) => {
    expect(errorsOf(without(missing, field))).toEqual({ [field]: 'required' });
  });

  // An unanswered question asks to choose, not to "fill in this field".
  it.each([
    ['help', 'for'],
    ['help', 'contact_safe'],
    ['missing', 'consent_publish'],
    ['missing', 'consent_show_rescued'],
  ] as const)('%s needs an answer to %s', (kind, field) => {
    expect(errorsOf(without(kind === 'help' ? help : missing, field))).toEqual({ [field]: 'invalid_choice' });
  });

  it('asks for consent, missing or anything but yes', () => {
    expect(errorsOf(without(help, 'consent'))).toEqual({ consent: 'consent_required' });
    expect(errorsOf({ ...help, consent: 'no' })).toEqual({ consent: 'consent_required' });
    expect(errorsOf({ ...help, consent: 'on' })).toEqual({ consent: 'consent_required' });
  });

  it.each([
    ['help', 'for', 'me'],
    ['help', 'danger_now', 'maybe'],
    ['help', 'contact_safe', 'YES'],
    ['missing', 'police_report', 'unsure'],
    ['missing', 'consent_publish', 'unsure'],
    ['missing', 'consent_show_rescued', 'true'],
  ])('%s: rejects %s=%s as invalid_choice', (kind, field, value) => {
    expect(errorsOf({ ...(kind === 'help' ? help : missing), [field]: value })).toEqual({ [field]: 'invalid_choice' });
  });

  it('accepts every option of the checkbox groups and rejects others and duplicates', () => {
    expect(valid({ ...help, situation: [...situations], contact_channels: [...contactChannels], contact_value: 'me@example.org, +7 900' })).toBeTruthy();
    expect(errorsOf({ ...help, situation: ['labour', 'organs'] })).toEqual({ situation: 'invalid_choice' });
    expect(errorsOf({ ...help, contact_channels: ['sms', 'sms'] })).toEqual({ contact_channels: 'repeated_field' });
  });

  it('reports every error at once, across fields and the contact rule', () => {
    expect(errorsOf({ kind: 'help', locale: 'ru', contact_safe: 'yes', people_count: '-1' })).toEqual({
      consent: 'consent_required',
      for: 'invalid_choice',
      message: 'required',
      people_count: 'invalid_number',
      contact_channels: 'contact_channel_required',
      contact_value: 'contact_required',
    });
  });
});

describe('validateFields: contact', () => {
  it('requires a channel and a value only when contacting is safe', () => {
    const noContact = without(help, 'contact_channels', 'contact_value');
    expect(errorsOf(noContact)).toEqual({ contact_channels: 'contact_channel_required', contact_value: 'contact_required' });
    expect(valid({ ...noContact, contact_safe: 'no' })).toBeTruthy();
    expect(valid({ ...noContact, contact_safe: 'unsure' })).toBeTruthy();
    expect(errorsOf(without(help, 'contact_value'))).toEqual({ contact_value: 'contact_required' });
    expect(errorsOf(without(help, 'contact_channels'))).toEqual({ contact_channels: 'contact_channel_required' });
  });

  it.each(contactChannels)('accepts the channel %s alone', (channel) => {
    const value = channel === 'email' ? 'a@example.org' : '+7 900 123-45-67';
    expect(valid({ ...help, contact_channels: [channel], contact_value: value })).toMatchObject({ contact_channels: [channel] });
  });

  it('wants an e-mail address in the value when e-mail is a channel', () => {
    expect(errorsOf({ ...help, contact_channels: ['email'], contact_value: '+7 900 123' })).toEqual({ contact_value: 'invalid_email' });
    expect(errorsOf({ ...help, contact_channels: ['email'], contact_value: 'me@localhost' })).toEqual({ contact_value: 'invalid_email' });
    expect(valid({ ...help, contact_channels: ['email'], contact_value: 'айгуль@почта.рф' })).toBeTruthy();
    expect(valid({ ...help, contact_channels: ['email', 'sms'], contact_value: '+7 900 123, me@example.org' })).toBeTruthy();
    expect(valid({ ...help, contact_channels: ['telegram'], contact_value: '@handle' })).toBeTruthy();
  });
});

describe('validateFields: numbers and dates', () => {
  it.each(['abc', '1.5', '-3', '1e3', String(PEOPLE_COUNT_MAX + 1)])('rejects people_count=%s', (value) => {
    expect(errorsOf({ ...help, people_count: value })).toEqual({ people_count: 'invalid_number' });
  });

  it('accepts people_count from 0 to the maximum', () => {
    expect(valid({ ...help, people_count: '0' })).toMatchObject({ people_count: 0 });
    expect(valid({ ...help, people_count: String(PEOPLE_COUNT_MAX) })).toMatchObject({ people_count: PEOPLE_COUNT_MAX });
  });

  it('accepts ages 0 to 120 only', () => {
    expect(valid({ ...missing, person_age: '0' })).toMatchObject({ person_age: 0 });
    expect(valid({ ...missing, person_age: '120' })).toMatchObject({ person_age: 120 });
    expect(errorsOf({ ...missing, person_age: '121' })).toEqual({ person_age: 'invalid_number' });
    expect(errorsOf({ ...missing, person_age: 'двадцать' })).toEqual({ person_age: 'invalid_number' });
  });

  it.each(['person_birth_date', 'last_seen_date'])('%s: a real past date in YYYY-MM-DD', (field) => {
    expect(valid({ ...missing, [field]: isoDate(-1) })).toBeTruthy();
    expect(valid({ ...missing, [field]: isoDate(0) })).toBeTruthy();
    for (const bad of ['01.03.2025', '2025-02-30', '2025-13-01', '1899-12-31', '2025-3-1', 'вчера']) {
      expect(errorsOf({ ...missing, [field]: bad }), bad).toEqual({ [field]: 'invalid_date' });
    }
    expect(errorsOf({ ...missing, [field]: isoDate(2) })).toEqual({ [field]: 'date_in_future' });
    expect(errorsOf({ ...missing, [field]: '2999-01-01' })).toEqual({ [field]: 'date_in_future' });
  });

  it('accepts either a birth date or an age, or neither', () => {
    expect(valid(without(missing, 'person_age'))).toBeTruthy();
    expect(valid(without(missing, 'person_birth_date'))).toBeTruthy();
    expect(valid(without(missing, 'person_age', 'person_birth_date'))).toBeTruthy();
  });
});

describe('validateFields: form-level errors', () => {
  it('rejects unknown field names, also those of the other kind', () => {
    expect(errorsOf({ ...help, admin: '1' })).toEqual({ _form: 'unknown_field' });
    expect(errorsOf({ ...help, person_name: 'X' })).toEqual({ _form: 'unknown_field' });
    expect(errorsOf({ ...help, __proto__x: '1', constructor: 'x' })).toEqual({ _form: 'unknown_field' });
  });

  it('rejects a single-valued field sent twice, even with equal values', () => {
    expect(errorsOf({ ...help, message: ['a', 'a'] })).toEqual({ message: 'repeated_field' });
    expect(errorsOf({ ...help, for: ['self', 'other'] })).toEqual({ for: 'repeated_field' });
  });

  it('needs exactly one known kind', () => {
    expect(errorsOf(without(help, 'kind'))).toEqual({ _form: 'malformed' });
    expect(errorsOf({ ...help, kind: 'other' })).toEqual({ _form: 'malformed' });
    expect(errorsOf({ ...help, kind: ['help', 'help'] })).toEqual({ _form: 'malformed' });
  });

  it('reports a broken hidden field as a malformed form, not as a field to fix', () => {
    expect(errorsOf({ ...help, locale: 'xx' })).toEqual({ _form: 'malformed' });
    expect(errorsOf(without(help, 'locale'))).toEqual({ _form: 'malformed' });
    expect(errorsOf({ ...help, filled_ms: 'soon' })).toEqual({ _form: 'malformed' });
    expect(errorsOf({ ...help, website: 'http://spam.example' })).toEqual({ _form: 'malformed' });
  });

  it('never leaks a zod message: every key is from the list', () => {
    const result = validateFields(toMap({ kind: 'missing', zzz: 'x', locale: 'de', person_age: 'x', last_seen_date: 'x' }));
    expect(result.ok).toBe(false);
    if (!result.ok) for (const key of Object.values(result.fields)) expect(errorKeys).toContain(key);
  });
});

describe('validateFields: photos', () => {
  it('accepts up to the maximum count and refuses more', () => {
    expect(valid(missing, Array.from({ length: MAX_PHOTOS }, () => photo('image/png')))).toBeTruthy();
    expect(errorsOf(missing, Array.from({ length: MAX_PHOTOS + 1 }, () => photo('image/png')))).toEqual({ photos: 'photo_count' });
  });

  it('refuses what is not an image by its bytes, and images over the size cap', () => {
    expect(errorsOf(missing, [photo('image/jpeg'), photo('application/octet-stream')])).toEqual({ photos: 'photo_type' });
    expect(errorsOf(missing, [photo('image/jpeg', MAX_PHOTO_BYTES + 1)])).toEqual({ photos: 'photo_too_large' });
    expect(valid(missing, [photo('image/jpeg', MAX_PHOTO_BYTES)])).toBeTruthy();
  });

  it('refuses files on a help request or in another field', () => {
    expect(errorsOf(help, [photo('image/png')])).toEqual({ _form: 'unknown_field' });
    expect(errorsOf(missing, [{ ...photo('image/png'), field: 'avatar' }])).toEqual({ _form: 'unknown_field' });
  });

  it('sniffs JPEG, PNG and WebP by magic bytes', () => {
    expect(sniffImageType(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0))).toBe('image/jpeg');
    expect(sniffImageType(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0))).toBe('image/png');
    expect(sniffImageType(new TextEncoder().encode('RIFF\u0000\u0000\u0000\u0000WEBPVP8 '))).toBe('image/webp');
    expect(sniffImageType(new TextEncoder().encode('RIFF\u0000\u0000\u0000\u0000WAVEfmt '))).toBe('application/octet-stream');
    expect(sniffImageType(Uint8Array.of(0x89, 0x50, 0x4e, 0x47))).toBe('application/octet-stream');
    expect(sniffImageType(new Uint8Array(0))).toBe('application/octet-stream');
  });

  it('refuses a photo with bytes appended after the image (a script, a motion-photo video)', () => {
    const script = new TextEncoder().encode('<script>alert(1)</script>');
    for (const type of ['image/jpeg', 'image/png', 'image/webp'] as const) {
      const clean = imageBytes(type, 64);
      expect(endsAsImage(clean, type), type).toBe(true);
      const appended = new Uint8Array([...clean, ...script]);
      expect(endsAsImage(appended, type), type).toBe(false);
      expect(errorsOf(missing, [{ field: 'photos', type, bytes: appended }])).toEqual({ photos: 'photo_extra_data' });
    }
    // Zero padding after a JPEG's end marker is common and harmless.
    expect(endsAsImage(new Uint8Array([...imageBytes('image/jpeg', 32), 0, 0, 0]), 'image/jpeg')).toBe(true);
  });
});

describe('schemas and lists', () => {
  it('field-name lists match the schemas', () => {
    expect([...fieldNames.help].sort()).toEqual(Object.keys(helpSchema.def.shape).sort());
    expect([...fieldNames.missing].sort()).toEqual(Object.keys(missingSchema.def.shape).sort());
    expect(fieldNames.help).toContain('for');
    expect(fieldNames.missing).not.toContain('message');
  });
});

describe('isBot', () => {
  it('flags a filled honeypot and a form sent too fast', () => {
    expect(isBot(toMap({ ...help, website: 'x' }), DEFAULT_MIN_FILL_MS)).toBe(true);
    expect(isBot(toMap({ ...help, website: ['', ' '] }), DEFAULT_MIN_FILL_MS)).toBe(true);
    expect(isBot(toMap({ ...help, filled_ms: '2999' }), DEFAULT_MIN_FILL_MS)).toBe(true);
    expect(isBot(toMap({ ...help, filled_ms: '900' }), 1000)).toBe(true);
  });

  it('lets people through: empty honeypot, slow enough, or no timing (no JavaScript)', () => {
    expect(isBot(toMap(help), DEFAULT_MIN_FILL_MS)).toBe(false);
    expect(isBot(toMap({ ...help, filled_ms: '3000' }), DEFAULT_MIN_FILL_MS)).toBe(false);
    expect(isBot(toMap(without(help, 'filled_ms', 'website')), DEFAULT_MIN_FILL_MS)).toBe(false);
    expect(isBot(toMap({ ...help, filled_ms: '2000' }), 1000)).toBe(false);
  });
});
