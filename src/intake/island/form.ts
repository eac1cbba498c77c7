/**
 * What the two forms look like as data: the order fields appear in, the options of each choice
 * group, and the element ids. The error summary, the field components and the tests all derive
 * from this, so a link in the summary always lands on the control it names.
 */
import { choiceOptions as fieldOptions, FORM_ERROR, PHOTO_FIELD } from '../contract/fields.ts';
import type { Kind } from '../contract/kinds.ts';

/** Field name → localized message (what the summary and the fields show). */
export type FieldMessages = Record<string, string>;
/** What was typed, as the endpoint hands it back: field name → values. */
export type FieldValues = Record<string, string[]>;
/** The UI strings the form needs, already in the page's language. */
export type Strings = Record<string, string>;

/**
 * Options of every radio or checkbox group, in the order they are shown: the contract's, but for
 * `consent`, which is one checkbox, not a group (its control's id names no option).
 */
export const choiceOptions: Record<string, readonly string[]> = Object.fromEntries(
  Object.entries(fieldOptions).filter(([name]) => name !== 'consent'),
);

const contactOrder = ['contact_safe', 'contact_channels', 'contact_value', 'contact_time', 'reply_language'];

/** Fields in the order each form shows them; the error summary lists errors in this order. */
export const fieldOrder: Record<Kind, readonly string[]> = {
  help: ['for', 'danger_now', 'situation', 'people_count', 'country', 'place', 'message', 'name', ...contactOrder, 'consent'],
  missing: [
    'person_name', 'person_other_names', 'person_birth_date', 'person_age', 'person_citizenship',
    'person_description', 'person_phone', 'person_accounts',
    'last_seen_date', 'last_seen_place', 'circumstances', 'police_report', 'police_case',
    PHOTO_FIELD, 'applicant_name', 'applicant_relation', ...contactOrder,
    'consent', 'consent_publish', 'consent_show_rescued',
  ],
};

/** The id of a control; radios and checkboxes of a group add their value. */
export function controlId(name: string, option?: string): string {
  return option === undefined ? `f-${name}` : `f-${name}-${option}`;
}

export const errorId = (name: string) => `e-${name}`;
export const hintId = (name: string) => `h-${name}`;

/** Where a summary link goes: the control itself, or the first option of a group (as GOV.UK does). */
export function targetId(name: string): string {
  const first = choiceOptions[name]?.[0];
  return controlId(name, first);
}

/** Errors in the order of the form, the form-wide one (`_form`) first. */
export function orderedErrors(kind: Kind, errors: FieldMessages): [string, string][] {
  const order = fieldOrder[kind];
  const rank = (name: string) => (name === FORM_ERROR ? -1 : order.indexOf(name) === -1 ? order.length : order.indexOf(name));
  return Object.entries(errors).sort(([a], [b]) => rank(a) - rank(b));
}

/**
 * The label or legend of a field, for the error summary. Field strings live under
 * `<kind>.form.<field>.label|legend`, shared ones (contact, consent) under `form.<field>.…`.
 */
export function labelOf(kind: Kind, name: string, s: Strings): string | undefined {
  for (const ns of [`${kind}.form`, 'form']) {
    const text = s[`${ns}.${name}.legend`] ?? s[`${ns}.${name}.label`];
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Fills `{{name}}` placeholders; the island has no i18next, only the strings it was given. */
export function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));
}
