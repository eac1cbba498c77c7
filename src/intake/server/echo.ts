/**
 * What a refused plain-form post gets back in its form: what the person typed, so nothing is lost
 * to a typo. Only the form's own visible fields, each value within that field's limit; unknown
 * fields, extra values and what no browser form could have sent are dropped. The answer page is
 * therefore never larger than the form with every field at its limit, whatever the post held.
 */
import type { Kind } from '../contract/kinds.ts';
import {
  choiceOptions,
  hiddenFields,
  multilineFields,
  SHORT_VALUE_MAX,
  textLimits,
} from '../contract/fields.ts';
import { fieldNames } from '../contract/validate.ts';

const options: Readonly<Record<string, readonly string[]>> = choiceOptions;
const limits: Readonly<Record<string, number>> = textLimits;
const hidden: readonly string[] = hiddenFields;
const multiline: readonly string[] = multilineFields;

/**
 * `value` cut to `limit` UTF-16 units (what the browser's `maxlength` counts) without splitting
 * a surrogate pair; a textarea's CRLF line breaks count as one, as they do when it is checked.
 */
export function cutToLimit(value: string, limit: number, lines: boolean): string {
  // Cut before normalizing: no work on what lies past the limit.
  let text = value.length > 2 * limit ? value.slice(0, 2 * limit) : value;
  text = lines ? text.replace(/\r\n?/g, '\n') : text;
  if (text.length <= limit) return text;
  const end = text.charCodeAt(limit - 1);
  const splitsPair = end >= 0xd800 && end <= 0xdbff;
  return text.slice(0, splitsPair ? limit - 1 : limit);
}

function valuesOf(name: string, values: readonly string[]): string[] {
  const allowed = options[name];
  if (allowed !== undefined) {
    // A choice: only its own options, each once (checkbox groups may hold several).
    return [...new Set(values.filter((v) => allowed.includes(v)))];
  }
  const first = values[0];
  if (first === undefined) return [];
  const limit = limits[name] ?? SHORT_VALUE_MAX;
  return [cutToLimit(first, limit, multiline.includes(name))];
}

/** The values to put back into the form of `kind`: the form's own fields, within their limits. */
export function formValues(kind: Kind, fields: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const kept = new Map<string, string[]>();
  for (const name of fieldNames[kind]) {
    if (hidden.includes(name)) continue;
    const values = valuesOf(name, fields.get(name) ?? []);
    if (values.length > 0) kept.set(name, values);
  }
  return kept;
}
