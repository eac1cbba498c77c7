import { getCollection, type CollectionEntry, type CollectionKey } from 'astro:content';
import { getLocale, localeCodes } from '../../i18n/locales.ts';

/** `ru/about` → { locale: 'ru', slug: 'about' } */
export function splitId(id: string): { locale: string; slug: string } {
  const [locale = '', ...rest] = id.split('/');
  return { locale, slug: rest.join('/') };
}

/**
 * The entry for a slug in a locale; when the locale lacks it, the entry of the locale's
 * fallback language (then any language), with `fallbackFrom` set so the page shows a notice.
 * A missing translation is never a 404.
 */
export async function getLocalized<C extends CollectionKey>(
  collection: C,
  locale: string,
  slug: string,
): Promise<{ entry: CollectionEntry<C>; fallbackFrom?: string } | undefined> {
  const entries = (await getCollection(collection)) as CollectionEntry<C>[];
  for (const code of fallbackChain(locale)) {
    const entry = entries.find((e) => e.id === `${code}/${slug}`);
    if (entry) return code === locale ? { entry } : { entry, fallbackFrom: code };
  }
  return undefined;
}

/** The languages to look in, in order: the locale, its fallback, then every other. */
function fallbackChain(locale: string): string[] {
  return [...new Set([locale, getLocale(locale).fallback, ...localeCodes])];
}

/**
 * The `lang` and `dir` of an element holding text in another language than the page's (a
 * fallback), to spread on it, so screen readers, translators and the layout read it right;
 * nothing for the page's own language.
 */
export function languageOf(code: string | undefined): { lang?: string; dir?: 'ltr' | 'rtl' } {
  if (code === undefined) return {};
  const { lang, dir } = getLocale(code);
  return { lang, dir };
}

/**
 * One text of a field given per locale (`{ ru, en }` in the organisations' YAML), by the same
 * fallback rule; `lang` and `dir` are set when the text is in another language (languageOf).
 */
export function pickText(value: Record<string, string | undefined>, locale: string): { text: string; lang?: string; dir?: 'ltr' | 'rtl' } {
  for (const code of fallbackChain(locale)) {
    const text = value[code];
    if (text) return code === locale ? { text } : { text, ...languageOf(code) };
  }
  return { text: '' };
}

/** Every entry of a collection in one locale, falling back per entry like getLocalized. */
export async function listLocalized<C extends CollectionKey>(collection: C, locale: string) {
  const entries = (await getCollection(collection)) as CollectionEntry<C>[];
  const slugs = [...new Set(entries.map((e) => splitId(e.id).slug))];
  const found = await Promise.all(slugs.map((slug) => getLocalized(collection, locale, slug)));
  return found.filter((f) => f !== undefined);
}

/** getStaticPaths for one page per locale. */
export function everyLocale() {
  return localeCodes.map((locale) => ({ params: { locale } }));
}
