import { z } from 'zod';
import { formatZodError } from '../utils/zod-error.ts';

/**
 * UI strings are flat dotted keys. The default locale's file defines the set of keys:
 * it must give every one of them; other locales may leave keys out (i18next falls back)
 * but may not add keys the default does not know (a typo would never be shown).
 */
export function uiStringsSchema(defaultStrings: Record<string, string>, complete: boolean) {
  const shape = Object.fromEntries(
    Object.keys(defaultStrings).map((key) => {
      const value = z.string().trim().min(1, `"${key}" is empty`);
      return [key, complete ? value : value.optional()];
    }),
  );
  return z.strictObject(shape);
}

/** `{{name}}` placeholders of a string, sorted, so translations can be checked against the default. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)].map((m) => m[1] ?? '').sort();
}

/** Parses one locale's strings or throws a readable error naming the locale and the keys. */
export function parseUiStrings(
  locale: string,
  strings: unknown,
  defaultStrings: Record<string, string>,
  complete: boolean,
): Record<string, string> {
  const result = uiStringsSchema(defaultStrings, complete).safeParse(strings);
  if (!result.success) {
    throw new Error(`UI strings for "${locale}" are invalid:\n${formatZodError(result.error)}`);
  }
  const parsed = result.data as Record<string, string | undefined>;
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === undefined) continue;
    const want = placeholders(defaultStrings[key] ?? '').join(',');
    if (placeholders(value).join(',') !== want) {
      throw new Error(`UI string "${key}" in "${locale}" must use the placeholders [${want}]`);
    }
    clean[key] = value;
  }
  return clean;
}
