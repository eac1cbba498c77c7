/**
 * The rules of the two forms as zod schemas, shared by the endpoint and the browser islands.
 * Kept on `zod/mini` and free of Node APIs so the islands' bundle stays small.
 */
// A namespace import, not `import { z }`: bundlers can then drop what is unused (the `z` object
// drags in every locale and JSON Schema: about 90 kB gzipped instead of 10 kB for the islands).
import * as z from 'zod/mini';
import { localeCodes } from '../../i18n/locales.ts';
import type { LocaleCode } from '../../i18n/locales.ts';
import {
  choiceOptions, errorKeys, FORM_ERROR, hiddenFields, multilineFields, multiValueFields, PEOPLE_COUNT_MAX,
  PERSON_AGE_MAX, EARLIEST_DATE, PHOTO_FIELD, SHORT_VALUE_MAX, textLimits, type FieldErrorKey, type FieldErrors,
} from './fields.ts';
import { photoError, type UploadedFile } from './image.ts';
import { kinds, type Kind } from './kinds.ts';

type TextField = keyof typeof textLimits;

// C0 and C1 controls and DEL; line breaks and tabs are allowed only where the form has a textarea.
// Also the bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069): nobody types them,
// and they can make text in the staff report read differently from what it is. The marks
// (U+200E/200F, U+061C) that right-to-left keyboards do insert stay allowed.
const CONTROL_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// With the `u` flag a surrogate pair is one code point, so this matches only lone halves,
// which no encoder can turn into UTF-8 for the report.
const LONE_SURROGATE = /[\ud800-\udfff]/u;
const DATE_FORMAT = /^\d{4}-\d{2}-\d{2}$/;
const WHOLE_NUMBER = /^\d{1,9}$/;
// Loose on purpose: it separates an address from a phone number or a handle, nothing more.
// Words are split off first and each is tested anchored, so the work stays linear in the value
// (one unanchored pattern over the whole value retried at every position: 17 s for 80,000 characters).
const NOT_IN_ADDRESS = /[\s,;:<>()[\]"]+/;
// What follows an `@` in the same word: at least one character, a dot, two characters that are not dots.
const EMAIL_DOMAIN = /^.+\.[^.]{2}/;
// UTC+14 is the earliest time zone: a date is in the future only if it is tomorrow there too.
const EARLIEST_ZONE_AHEAD_MS = 14 * 60 * 60 * 1000;

// A question left unanswered reads "choose one of the options", not "fill in this field".
const choiceError = (): FieldErrorKey => 'invalid_choice';

/**
 * At most `max` UTF-16 code units, what the browser's `maxlength` counts (zod's `maxLength`
 * counts code points, so 5000 emoji would pass a limit of 5000). Nothing after it runs when it fails.
 */
function units(max: number) {
  return z.refine<string>((s) => s.length <= max, { error: 'too_long', abort: true });
}

function text(field: TextField) {
  const multiline = (multilineFields as readonly string[]).includes(field);
  const control = multiline ? CONTROL_IN_TEXT : CONTROL_IN_LINE;
  const limit = textLimits[field];
  return z.string().check(
    // No work at all on a value far past its limit: the form sends line breaks as CRLF, so a
    // value the browser let through is at most twice the limit before they are normalized.
    units(2 * limit),
    z.overwrite((s) => s.replace(/\r\n?/g, '\n')),
    z.normalize('NFC'),
    z.trim(),
    z.minLength(1, { error: 'required', abort: true }),
    // The real limit, before any pattern looks at the value.
    units(limit),
    z.refine((s) => !LONE_SURROGATE.test(s), 'malformed'),
    z.refine((s) => !control.test(s), 'control_chars'),
  );
}

function choice<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: choiceError });
}

function choices<const T extends readonly [string, ...string[]]>(values: T) {
  return z.array(choice(values)).check(
    z.refine((list) => new Set(list).size === list.length, 'repeated_field'),
  );
}


function wholeNumber(max: number) {
  return z.pipe(
    z.string().check(
      z.maxLength(SHORT_VALUE_MAX, { error: 'invalid_number', abort: true }),
      z.trim(),
      z.regex(WHOLE_NUMBER, 'invalid_number'),
      z.refine((s) => !WHOLE_NUMBER.test(s) || Number(s) <= max, 'invalid_number'),
    ),
    z.transform((s) => Number(s)),
  );
}

function isCalendarDate(s: string): boolean {
  if (!DATE_FORMAT.test(s) || s < EARLIEST_DATE) return false;
  const date = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === s;
}

/** The latest date that is already "today" somewhere on Earth. */
function latestPastDate(): string {
  return new Date(Date.now() + EARLIEST_ZONE_AHEAD_MS).toISOString().slice(0, 10);
}

function pastDate() {
  return z.string().check(
    z.maxLength(SHORT_VALUE_MAX, { error: 'invalid_date', abort: true }),
    z.trim(),
    z.refine(isCalendarDate, 'invalid_date'),
    z.refine((s) => !isCalendarDate(s) || s <= latestPastDate(), 'date_in_future'),
  );
}

const commonShape = {
  locale: z.enum(localeCodes as [LocaleCode, ...LocaleCode[]], { error: choiceError }),
  consent: z.literal('yes', { error: 'consent_required' }),
  contact_safe: choice(choiceOptions.contact_safe),
  contact_channels: z.optional(choices(choiceOptions.contact_channels)),
  contact_value: z.optional(text('contact_value')),
  contact_time: z.optional(text('contact_time')),
  reply_language: z.optional(text('reply_language')),
  // The honeypot: empty values never reach the schema, so any value at all is a bot's.
  website: z.optional(z.string().check(z.maxLength(0, 'malformed'))),
  filled_ms: z.optional(wholeNumber(Number.MAX_SAFE_INTEGER)),
};

const helpShape = {
  kind: z.literal('help'),
  ...commonShape,
  for: choice(choiceOptions.for),
  danger_now: z.optional(choice(choiceOptions.danger_now)),
  situation: z.optional(choices(choiceOptions.situation)),
  country: z.optional(text('country')),
  place: z.optional(text('place')),
  people_count: z.optional(wholeNumber(PEOPLE_COUNT_MAX)),
  name: z.optional(text('name')),
  message: text('message'),
};

const missingShape = {
  kind: z.literal('missing'),
  ...commonShape,
  person_name: text('person_name'),
  person_other_names: z.optional(text('person_other_names')),
  person_birth_date: z.optional(pastDate()),
  person_age: z.optional(wholeNumber(PERSON_AGE_MAX)),
  person_citizenship: z.optional(text('person_citizenship')),
  person_description: z.optional(text('person_description')),
  person_phone: z.optional(text('person_phone')),
  person_accounts: z.optional(text('person_accounts')),
  last_seen_date: z.optional(pastDate()),
  last_seen_place: text('last_seen_place'),
  circumstances: text('circumstances'),
  police_report: z.optional(choice(choiceOptions.police_report)),
  police_case: z.optional(text('police_case')),
  applicant_name: text('applicant_name'),
  applicant_relation: z.optional(text('applicant_relation')),
  consent_publish: choice(choiceOptions.consent_publish),
  consent_show_rescued: choice(choiceOptions.consent_show_rescued),
};

/**
 * Contact details are asked for only when contacting is safe; an e-mail channel needs an
 * address somewhere in the contact value (it may also hold a phone number for other channels).
 * It runs even when other fields failed (`when`), so the person sees every error at once, and
 * therefore reads the half-parsed value defensively.
 */
const contactRule = z.superRefine(
  (value: Record<string, unknown>, ctx) => {
    const channels = Array.isArray(value['contact_channels']) ? value['contact_channels'] : [];
    const contact = typeof value['contact_value'] === 'string' ? value['contact_value'] : '';
    if (value['contact_safe'] === 'yes') {
      if (channels.length === 0) {
        ctx.addIssue({ code: 'custom', message: 'contact_channel_required', path: ['contact_channels'] });
      }
      if (contact === '') {
        ctx.addIssue({ code: 'custom', message: 'contact_required', path: ['contact_value'] });
      }
    }
    // A value past its limit has its own error already: no pattern runs on it.
    const checkable = contact !== '' && contact.length <= textLimits.contact_value;
    if (channels.includes('email') && checkable && !hasEmailAddress(contact)) {
      ctx.addIssue({ code: 'custom', message: 'invalid_email', path: ['contact_value'] });
    }
  },
  { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
);

/** True when one of the words of `value` looks like an e-mail address (linear in its length). */
export function hasEmailAddress(value: string): boolean {
  for (const word of value.split(NOT_IN_ADDRESS)) {
    const parts = word.split('@');
    for (let i = 1; i < parts.length; i++) {
      if (parts[i - 1] !== '' && EMAIL_DOMAIN.test(parts[i] ?? '')) return true;
    }
  }
  return false;
}

/** A request for help (for oneself or someone else). */
export const helpSchema = z.strictObject(helpShape).check(contactRule);

/** A request to search for a missing person, with the consents that govern what we may do. */
export const missingSchema = z.strictObject(missingShape).check(contactRule);

export type HelpApplication = z.output<typeof helpSchema>;
export type MissingApplication = z.output<typeof missingSchema>;
/** A validated application; `kind` tells which. */
export type Application = HelpApplication | MissingApplication;

/** The field names of each kind: forms render from these, and no other name is accepted. */
export const fieldNames = {
  help: Object.keys(helpShape) as (keyof typeof helpShape)[],
  missing: Object.keys(missingShape) as (keyof typeof missingShape)[],
} as const satisfies Record<Kind, readonly string[]>;


const schemas = { help: helpSchema, missing: missingSchema } as const;

/** The outcome of {@link validateFields}. */
export type ValidationResult = { ok: true; application: Application } | { ok: false; fields: FieldErrors };

/**
 * Turns raw form fields (as `parseRequest` or a `FormData` produce them: checkbox groups as
 * repeated values) and uploaded files into a typed application, or into field → error key.
 * Every error is one of {@link errorKeys}; zod's own messages never leave this function.
 */
export function validateFields(fields: Map<string, string[]>, files: UploadedFile[] = []): ValidationResult {
  const kind = kindOf(fields);
  if (kind === undefined) return { ok: false, fields: { [FORM_ERROR]: 'malformed' } };
  const errors: FieldErrors = {};
  const input = collectInput(fields, kind, errors);
  checkPhotos(kind, files, errors);
  const result = schemas[kind].safeParse(input, { error: fallbackError });
  if (!result.success) {
    for (const issue of result.error.issues) {
      const field = fieldOf(issue.path);
      // A hidden field can not be shown or fixed by the person: it is a broken or forged form.
      addError(errors, field, field === FORM_ERROR ? 'malformed' : keyOf(issue.message));
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, fields: errors };
  if (!result.success) return { ok: false, fields: { [FORM_ERROR]: 'malformed' } };
  return { ok: true, application: result.data };
}

function kindOf(fields: Map<string, string[]>): Kind | undefined {
  const values = fields.get('kind');
  const value = values?.length === 1 ? values[0] : undefined;
  return kinds.find((k) => k === value);
}

function collectInput(fields: Map<string, string[]>, kind: Kind, errors: FieldErrors): Record<string, unknown> {
  const allowed: readonly string[] = fieldNames[kind];
  // Only whitelisted names become keys, so a field called `__proto__` can not reach either object.
  const input: Record<string, unknown> = {};
  for (const [name, values] of fields) {
    if (!allowed.includes(name)) {
      addError(errors, FORM_ERROR, 'unknown_field');
    } else if ((multiValueFields as readonly string[]).includes(name)) {
      if (values.length > 0) input[name] = values;
    } else if (values.length > 1) {
      addError(errors, name, 'repeated_field');
    } else if (values[0] !== undefined && !isBlank(name, values[0])) {
      input[name] = values[0];
    }
  }
  return input;
}

/**
 * An empty answer, as a form sends for a field left alone. Only a value that fits its field can
 * be blank (twice a text's limit, for the CRLF a form sends): far more spaces than the field
 * holds are too long, not empty, and are never trimmed.
 */
function isBlank(name: string, value: string): boolean {
  const limit = name in textLimits ? 2 * textLimits[name as TextField] : SHORT_VALUE_MAX;
  return value.length <= limit && value.trim() === '';
}

function checkPhotos(kind: Kind, files: UploadedFile[], errors: FieldErrors): void {
  if (files.length === 0) return;
  if (kind !== 'missing' || files.some((f) => f.field !== PHOTO_FIELD)) {
    addError(errors, FORM_ERROR, 'unknown_field');
    return;
  }
  const problem = photoError(files);
  if (problem) addError(errors, PHOTO_FIELD, problem);
}

// Used by zod only for issues whose schema names no key of its own.
function fallbackError(issue: { code?: string; input?: unknown }): FieldErrorKey {
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'required';
  if (issue.code === 'invalid_value') return 'invalid_choice';
  return 'malformed';
}

function fieldOf(path: readonly PropertyKey[]): string {
  const field = path[0];
  if (typeof field !== 'string') return FORM_ERROR;
  return (hiddenFields as readonly string[]).includes(field) ? FORM_ERROR : field;
}

function keyOf(message: string): FieldErrorKey {
  return errorKeys.find((k) => k === message) ?? 'malformed';
}

function addError(errors: FieldErrors, field: string, key: FieldErrorKey): void {
  // The first error per field is the one worth showing.
  errors[field] ??= key;
}
