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

// The people the organisation rescues are often migrants: from Central Asia (who read Russian
// next), from French- and English-speaking Africa, from Vietnam, refugees from the Middle East.
export const locales = [
  { code: 'ru', label: 'Русский', lang: 'ru', dir: 'ltr', fallback: 'ru' },
  { code: 'en', label: 'English', lang: 'en', dir: 'ltr', fallback: 'ru' },
  { code: 'uz', label: 'Oʻzbekcha', lang: 'uz-Latn', dir: 'ltr', fallback: 'ru' },
  { code: 'tg', label: 'Тоҷикӣ', lang: 'tg', dir: 'ltr', fallback: 'ru' },
  { code: 'ky', label: 'Кыргызча', lang: 'ky', dir: 'ltr', fallback: 'ru' },
  { code: 'kk', label: 'Қазақша', lang: 'kk', dir: 'ltr', fallback: 'ru' },
  { code: 'fr', label: 'Français', lang: 'fr', dir: 'ltr', fallback: 'en' },
  { code: 'vi', label: 'Tiếng Việt', lang: 'vi', dir: 'ltr', fallback: 'en' },
  { code: 'ar', label: 'العربية', lang: 'ar', dir: 'rtl', fallback: 'en' },
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
