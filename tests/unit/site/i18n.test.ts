import { describe, expect, it } from 'vitest';
import { defaultLocale, getLocale, isLocale, localeCodes, locales } from '../../../src/i18n/locales.ts';
import { pickLocale } from '../../../src/i18n/negotiate.ts';
import { getRelativeLocaleUrl } from 'astro:i18n';
import { switchLocalePath } from '../../../src/i18n/paths.ts';
import { parseUiStrings, placeholders } from '../../../src/i18n/schema.ts';
import { uiKeys, useTranslations } from '../../../src/i18n/index.ts';
import ru from '../../../src/i18n/ui/ru.json';

const files = import.meta.glob<Record<string, string>>('../../../src/i18n/ui/*.json', { eager: true, import: 'default' });

describe('locale table', () => {
  it('has unique codes, a default among them, and a valid fallback for each', () => {
    expect(new Set(localeCodes).size).toBe(locales.length);
    expect(localeCodes).toContain(defaultLocale);
    for (const l of locales) {
      expect(localeCodes).toContain(l.fallback);
      expect(['ltr', 'rtl']).toContain(l.dir);
      expect(l.label.length).toBeGreaterThan(1);
    }
  });
  it('recognises locales and falls back to the default for unknown codes', () => {
    expect(isLocale('en')).toBe(true);
    expect(isLocale('xx')).toBe(false);
    expect(getLocale('xx').code).toBe(defaultLocale);
  });
  it('has exactly one UI-string file per locale', () => {
    const codes = Object.keys(files).map((f) => f.match(/(\w+)\.json$/)?.[1]).sort();
    expect(codes).toEqual([...localeCodes].sort());
  });
});

describe('UI strings', () => {
  it('every locale file parses against the default locale (complete, no unknown keys, same placeholders)', () => {
    for (const code of localeCodes) {
      const strings = files[`../../../src/i18n/ui/${code}.json`];
      expect(() => parseUiStrings(code, strings, ru, code === defaultLocale)).not.toThrow();
    }
  });
  it('every locale is complete (a missing string would show another language)', () => {
    for (const code of localeCodes) {
      const strings = files[`../../../src/i18n/ui/${code}.json`] ?? {};
      expect(Object.keys(strings).sort(), code).toEqual([...uiKeys].sort());
    }
  });
  it('rejects an unknown key, an empty string and a changed placeholder', () => {
    expect(() => parseUiStrings('en', { 'no.such.key': 'x' }, ru, false)).toThrow(/no\.such\.key/);
    expect(() => parseUiStrings('en', { 'site.name': ' ' }, ru, false)).toThrow(/site\.name/);
    expect(() => parseUiStrings('en', { 'quickExit.pressed': 'Shift {{count}}' }, ru, false)).toThrow(/placeholders/);
    expect(() => parseUiStrings('ru', { 'site.name': 'x' }, ru, true)).toThrow();
  });
  it('finds placeholders', () => {
    expect(placeholders('a {{ b }} c {{a}}')).toEqual(['a', 'b']);
  });
  it('t() interpolates and falls back to the default locale for a key a locale lacks', () => {
    const t = useTranslations('en');
    expect(t('quickExit.pressed', { n: 2 })).toBe('Shift pressed 2 of 3 times');
    expect(useTranslations('ru')('site.name')).toBe('Альтернатива');
  });
  it('a label takes its language\'s colon, the same after every label: French puts a no-break space before it', () => {
    for (const code of localeCodes) {
      const t = useTranslations(code);
      const colon = code === 'fr' ? '\u00a0:' : ':';
      expect(t('punctuation.label', { label: 'X' }), code).toBe(`X${colon}`);
      expect(t('answer.received.reference').endsWith(colon), code).toBe(true);
      expect(t('answer.received.reference').endsWith(` ${colon}`), `${code}: a plain space would let the colon wrap alone`).toBe(false);
    }
  });
});

describe('language negotiation', () => {
  it('picks by q-value and primary subtag, ru when nothing matches', () => {
    expect(pickLocale('en-GB,en;q=0.9')).toBe('en');
    expect(pickLocale('de-DE, en;q=0.5, ru;q=0.8')).toBe('ru');
    expect(pickLocale('de, it-CH')).toBe(defaultLocale);
    expect(pickLocale('de, fr-CH;q=0.9')).toBe('fr');
    expect(pickLocale('uz-Cyrl-UZ')).toBe('uz');
    expect(pickLocale('ar-SY,ar;q=0.9,en;q=0.5')).toBe('ar');
    expect(pickLocale('tg-TJ, ru;q=0.8')).toBe('tg');
    expect(pickLocale('')).toBe(defaultLocale);
    expect(pickLocale(null)).toBe(defaultLocale);
    expect(pickLocale('en;q=0, ru;q=0.1')).toBe('ru');
    expect(pickLocale('garbage;;;q=abc,,')).toBe(defaultLocale);
  });
});

describe('paths', () => {
  it('builds canonical locale paths (with the slash the server redirects to) and switches them, keeping the page', () => {
    expect(getRelativeLocaleUrl('ru')).toBe('/ru/');
    expect(getRelativeLocaleUrl('en', 'faq')).toBe('/en/faq/');
    expect(getRelativeLocaleUrl('ar', 'news/2018-06-01-report')).toBe('/ar/news/2018-06-01-report/');
    expect(switchLocalePath('/ru/faq/', 'en')).toBe('/en/faq/');
    expect(switchLocalePath('/ru/directory/legal/', 'en')).toBe('/en/directory/legal/');
    expect(switchLocalePath('/', 'en')).toBe('/en/');
  });
});
