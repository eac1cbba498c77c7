import { locales, type LocaleCode } from './locales.ts';

/**
 * The same page in another locale: swaps the first path segment, keeps the rest and the hash;
 * a path outside every locale goes to the other locale's home. Links to a page in a locale
 * are `getRelativeLocaleUrl` from `astro:i18n`; Astro has no helper that swaps the locale of a
 * path it is given (its `getRelativeLocaleUrlList` gives only the locales' roots).
 */
export function switchLocalePath(pathname: string, to: LocaleCode): string {
  const parts = pathname.split('/');
  if (!locales.some((l) => l.code === parts[1])) return `/${to}/`;
  parts[1] = to;
  return parts.join('/');
}
