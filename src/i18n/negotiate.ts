import { defaultLocale, locales, type LocaleCode } from './locales.ts';

/**
 * The best locale for an Accept-Language header: highest q first, matching the full tag or its
 * primary language (`uz-Latn-UZ` → `uz`); the default locale when nothing matches.
 * Not Astro's `preferredLocale`: it matches whole tags only, so a phone
 * that sends `kk-KZ` or `uz-Latn-UZ` alone would get Russian instead of its own language.
 */
export function pickLocale(header: string | null | undefined): LocaleCode {
  if (!header) return defaultLocale;
  const ranges = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? '1');
      return { tag: tag.toLowerCase(), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((r) => r.tag && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranges) {
    const primary = tag.split('-')[0];
    const match = locales.find((l) => l.lang.toLowerCase() === tag || l.code === tag || l.code === primary);
    if (match) return match.code;
  }
  return defaultLocale;
}
