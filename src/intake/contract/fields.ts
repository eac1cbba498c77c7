/**
 * What the two application forms are made of, shared by the endpoint and the browser islands:
 * field names, option values, limits and error keys. The rules that check them are in
 * validate.ts. These names and values are a contract with the forms, the UI strings and the report.
 */

/** Every error key validation can produce; the UI translates each under `errors.field.<key>`. */
export const errorKeys = [
  'required',
  'too_long',
  'invalid_choice',
  'consent_required',
  'contact_required',
  'contact_channel_required',
  'invalid_email',
  'invalid_date',
  'date_in_future',
  'invalid_number',
  'control_chars',
  'unknown_field',
  'repeated_field',
  'photo_type',
  'photo_extra_data',
  'photo_too_large',
  'photo_count',
  'malformed',
] as const;

export type FieldErrorKey = (typeof errorKeys)[number];

/** Field errors: field name (or `_form`) → error key. */
export type FieldErrors = Record<string, FieldErrorKey>;

/** The pseudo-field for errors that belong to no field the person can see or fix. */
export const FORM_ERROR = '_form';

/** Single-line fields: names, places, phone numbers, handles. */
export const SHORT_TEXT_MAX = 200;
/** Multi-line lists and descriptions of a place: a few lines. */
export const MEDIUM_TEXT_MAX = 1000;
/** The free story: message, circumstances, description of the person. */
export const LONG_TEXT_MAX = 5000;
/** More people than this in one report is a typo or a test, not a fact we act on. */
export const PEOPLE_COUNT_MAX = 10_000;
export const PERSON_AGE_MAX = 120;
/** Dates before this are typos (a birth year of 0990), not facts. */
export const EARLIEST_DATE = '1900-01-01';
export const MAX_PHOTOS = 3;
/** 5 MiB: a phone photo, not a video renamed. */
export const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

/** Answers to "is it safe to contact you?" and "are you in danger now?". */
export const safetyAnswers = ['yes', 'no', 'unsure'] as const;
export const yesNo = ['yes', 'no'] as const;
export const contactChannels = ['call', 'sms', 'whatsapp', 'telegram', 'signal', 'viber', 'email'] as const;
export const situations = ['labour', 'sexual', 'begging', 'child', 'domestic', 'documents_taken', 'other'] as const;
/** Answers to "who needs help?" (field `for`). */
export const helpFor = ['self', 'other'] as const;

/** The options of every choice field: nothing else is accepted, or put back into a form. */
export const choiceOptions = {
  consent: ['yes'],
  contact_safe: safetyAnswers,
  contact_channels: contactChannels,
  for: helpFor,
  danger_now: safetyAnswers,
  situation: situations,
  police_report: yesNo,
  consent_publish: yesNo,
  consent_show_rescued: yesNo,
} as const;

/**
 * Maximum length of every free-text field, in UTF-16 code units (what the browser's `maxlength`
 * counts), after trimming and NFC normalization. Forms set `maxlength` from this.
 */
export const textLimits = {
  contact_value: SHORT_TEXT_MAX,
  contact_time: SHORT_TEXT_MAX,
  reply_language: SHORT_TEXT_MAX,
  country: SHORT_TEXT_MAX,
  place: SHORT_TEXT_MAX,
  name: SHORT_TEXT_MAX,
  message: LONG_TEXT_MAX,
  person_name: SHORT_TEXT_MAX,
  person_other_names: SHORT_TEXT_MAX,
  person_citizenship: SHORT_TEXT_MAX,
  person_description: LONG_TEXT_MAX,
  person_phone: SHORT_TEXT_MAX,
  person_accounts: MEDIUM_TEXT_MAX,
  last_seen_place: MEDIUM_TEXT_MAX,
  circumstances: LONG_TEXT_MAX,
  police_case: SHORT_TEXT_MAX,
  applicant_name: SHORT_TEXT_MAX,
  applicant_relation: SHORT_TEXT_MAX,
} as const;

type TextField = keyof typeof textLimits;

/** Free-text fields rendered as textareas: they may hold line breaks and tabs, the others may not. */
export const multilineFields = [
  'message',
  'person_description',
  'person_accounts',
  'last_seen_place',
  'circumstances',
] as const satisfies readonly TextField[];

/** Checkbox groups: the only fields that may come more than once. */
export const multiValueFields = ['contact_channels', 'situation'] as const;

/** Fields the person never sees: an error in one of them is a broken or forged form, not a typo. */
export const hiddenFields = ['kind', 'locale', 'website', 'filled_ms'] as const;

/** Numbers and dates are short: anything longer is refused before it is trimmed or matched. */
export const SHORT_VALUE_MAX = 32;

/** The field a form's file input uses; only the missing-person form has it. */
export const PHOTO_FIELD = 'photos';
