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
  /**
   * Where the quick exit goes: a neutral page in this language that opens from Russia and
   * Central Asia (a blocked site shows a "blocked" page or hangs, worse than no exit).
   */
  exitUrl: string;
}

// The people the organisation rescues are often migrants: from Central Asia (who read Russian
// next), from French- and English-speaking Africa, from Vietnam, refugees from the Middle East.
export const locales = [
  { code: 'ru', label: 'Русский', lang: 'ru', dir: 'ltr', fallback: 'ru', exitUrl: 'https://yandex.ru/pogoda/' },
  { code: 'en', label: 'English', lang: 'en', dir: 'ltr', fallback: 'ru', exitUrl: 'https://www.google.com/search?q=weather' },
  { code: 'uz', label: 'Oʻzbekcha', lang: 'uz-Latn', dir: 'ltr', fallback: 'ru', exitUrl: 'https://yandex.uz/pogoda/' },
  { code: 'tg', label: 'Тоҷикӣ', lang: 'tg', dir: 'ltr', fallback: 'ru', exitUrl: 'https://yandex.ru/pogoda/' },
  { code: 'ky', label: 'Кыргызча', lang: 'ky', dir: 'ltr', fallback: 'ru', exitUrl: 'https://yandex.ru/pogoda/' },
  { code: 'kk', label: 'Қазақша', lang: 'kk', dir: 'ltr', fallback: 'ru', exitUrl: 'https://yandex.ru/pogoda/' },
  { code: 'fr', label: 'Français', lang: 'fr', dir: 'ltr', fallback: 'en', exitUrl: 'https://www.google.com/search?q=m%C3%A9t%C3%A9o' },
  { code: 'vi', label: 'Tiếng Việt', lang: 'vi', dir: 'ltr', fallback: 'en', exitUrl: 'https://www.google.com/search?q=th%E1%BB%9Di+ti%E1%BA%BFt' },
  { code: 'ar', label: 'العربية', lang: 'ar', dir: 'rtl', fallback: 'en', exitUrl: 'https://www.google.com/search?q=%D8%A7%D9%84%D8%B7%D9%82%D8%B3' },
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
