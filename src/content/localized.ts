import { getCollection, type CollectionEntry, type CollectionKey } from 'astro:content';
import { getLocale, localeCodes } from '../i18n/locales.ts';

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
  const find = (code: string) => entries.find((e) => e.id === `${code}/${slug}`);
  const own = find(locale);
  if (own) return { entry: own };
  for (const code of [getLocale(locale).fallback, ...localeCodes]) {
    const other = find(code);
    if (other) return { entry: other, fallbackFrom: code };
  }
  return undefined;
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
