/**
 * The one table of languages. Everything else (routing, the switcher, fallbacks,
 * UI-string files, the sitemap) is derived from it.
 */
export interface Locale {
  /** URL prefix and i18next language code. */
  code: string;
  /** The language's name in itself, as the switcher shows it. */
  label: string;
  /** BCP 47 tag for `<html lang>`. */
  lang: string;
  dir: 'ltr' | 'rtl';
  /** Where a missing page is taken from: the reader's better second language. */
  fallback: string;
}

export const locales = [
  { code: 'ru', label: 'Русский', lang: 'ru', dir: 'ltr', fallback: 'ru' },
  { code: 'en', label: 'English', lang: 'en', dir: 'ltr', fallback: 'ru' },
] as const satisfies readonly Locale[];

export type LocaleCode = (typeof locales)[number]['code'];

export const defaultLocale: LocaleCode = 'ru';

export const localeCodes = locales.map((l) => l.code) as LocaleCode[];

export function isLocale(value: unknown): value is LocaleCode {
  return typeof value === 'string' && (localeCodes as string[]).includes(value);
}

export function getLocale(code: string | undefined): Locale {
  return locales.find((l) => l.code === code) ?? locales[0];
}
