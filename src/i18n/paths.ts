import { locales, type LocaleCode } from './locales.ts';

/** The path of a page in a locale: `localePath('en', 'faq')` → `/en/faq/`. */
export function localePath(locale: string, page = ''): string {
  // Slashes off both ends in one anchored pass: `/^\/+|\/+$/g` starts again at every slash of a run.
  const rest = page.replace(/^\/*([^/](?:\/*[^/])*)?\/*$/, '$1');
  return rest ? `/${locale}/${rest}/` : `/${locale}/`;
}

/** The same page in another locale: swaps the first path segment, keeps the rest and the hash. */
export function switchLocalePath(pathname: string, to: LocaleCode): string {
  const parts = pathname.split('/');
  if (locales.some((l) => l.code === parts[1])) parts[1] = to;
  else return localePath(to);
  return parts.join('/');
}
