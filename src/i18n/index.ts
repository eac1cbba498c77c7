import i18next, { type TFunction } from 'i18next';
import { defaultLocale, getLocale, locales, type LocaleCode } from './locales.ts';
import { parseUiStrings } from './schema.ts';

// Every locale's JSON is bundled: the files are small and pages are built ahead of time.
const files = import.meta.glob<Record<string, string>>('./ui/*.json', { eager: true, import: 'default' });

function stringsOf(code: string): unknown {
  return files[`./ui/${code}.json`] ?? {};
}

const defaultStrings = stringsOf(defaultLocale) as Record<string, string>;

const resources = Object.fromEntries(
  locales.map(({ code }) => [
    code,
    { translation: parseUiStrings(code, stringsOf(code), defaultStrings, code === defaultLocale) },
  ]),
);

const instance = i18next.createInstance();
await instance.init({
  resources,
  lng: defaultLocale,
  // A key missing in one language is shown in that language's better second language, then the default.
  fallbackLng: (code) => [getLocale(code).fallback, defaultLocale],
  // Strings are plain text rendered by Astro/React, which escape them already.
  interpolation: { escapeValue: false },
  initAsync: false,
  returnNull: false,
});

export type Translate = TFunction;

/** The `t` function of one locale. */
export function useTranslations(locale: LocaleCode | string): Translate {
  return instance.getFixedT(locale);
}

/** Every key of the default locale (for completeness tests and the translation helpers). */
export const uiKeys = Object.keys(defaultStrings);
