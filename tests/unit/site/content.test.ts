import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { faqSchema, isNoticeActive, newsSchema, noticeSchema, organizationSchema, pageSchema } from '../../../src/site/collections/schemas.ts';
import { getLocale, localeCodes } from '../../../src/i18n/locales.ts';

/** Frontmatter of a Markdown file, parsed with Astro's own YAML dependency. */
import yaml from 'js-yaml';
const frontmatter = (file: string) => yaml.load(readFileSync(file, 'utf8').split(/^---$/m)[1] ?? '') as unknown;
const mdFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.md')).map((f) => join(dir, f));

const notice = {
  name: 'Иван Петров',
  lastSeenPlace: 'Махачкала',
  lastSeenDate: '2026-01-10',
  published: '2026-02-01',
  consent: true,
};

describe('notice schema', () => {
  it('accepts a notice with consent', () => {
    expect(noticeSchema.safeParse(notice).success).toBe(true);
  });
  it('fails without consent, with consent false, or with consent "yes"', () => {
    const { consent: _, ...withoutConsent } = notice;
    for (const bad of [withoutConsent, { ...notice, consent: false }, { ...notice, consent: 'yes' }]) {
      const result = noticeSchema.safeParse(bad);
      expect(result.success).toBe(false);
    }
  });
  it('takes a notice down when found or expired', () => {
    const parsed = noticeSchema.parse(notice);
    expect(isNoticeActive(parsed)).toBe(true);
    expect(isNoticeActive({ ...parsed, found: true })).toBe(false);
    expect(isNoticeActive({ ...parsed, expires: new Date('2020-01-01') })).toBe(false);
  });
});

describe('content files', () => {
  it('content/TRANSLATIONS.md says which pages, answers and posts exist in which language, and so they do', () => {
    const cells = (line: string) => line.split('|').slice(1, -1).map((c) => c.trim());
    const [head = '', , ...rows] = readFileSync('content/TRANSLATIONS.md', 'utf8').split('\n').filter((l) => l.startsWith('|'));
    const columns = cells(head);
    const count = (folder: string, code: string) => (existsSync(`content/${folder}/${code}`) ? mdFiles(`content/${folder}/${code}`).length : 0);
    /** What the table should say in `column` for `code`, from the files. */
    const cell = (code: string, column: string): string => {
      const promised = /^(FAQ|news) \((\d+) \w+\)$/.exec(column);
      if (promised) {
        const n = count(promised[1] === 'FAQ' ? 'faq' : 'news', code);
        return n === Number(promised[2]) ? '✓' : n === 0 ? '–' : `${n} entries`;
      }
      if (column === 'forms and interface text') return existsSync(`src/i18n/ui/${code}.json`) ? '✓' : '–';
      if (column === 'fallback for missing pages') {
        if (readdirSync('content/pages/ru').every((page) => existsSync(`content/pages/${code}/${page}`))) return '(all pages exist)';
        const fallback = getLocale(code).fallback;
        return ({ ru: 'Russian', en: 'English' } as Record<string, string>)[fallback] ?? fallback;
      }
      return existsSync(`content/pages/${code}/${column}.md`) ? '✓' : '–';
    };
    const codes = rows.map((row) => cells(row)[1]!.replaceAll('`', ''));
    expect([...codes].sort()).toEqual([...localeCodes].sort());
    for (const [r, row] of rows.entries()) {
      const said = cells(row).slice(2);
      expect(said, codes[r]).toEqual(columns.slice(2).map((column) => cell(codes[r]!, column)));
    }
  });

  it('FAQ: each answer is written in every language that has the FAQ, in the same place, the places 1 to n', () => {
    const orders = (locale: string) =>
      Object.fromEntries(mdFiles(`content/faq/${locale}`).map((f) => [f.split('/').pop(), faqSchema.parse(frontmatter(f)).order]));
    const [first = '', ...others] = readdirSync('content/faq');
    for (const locale of others) expect(orders(locale), locale).toEqual(orders(first));
    const places = (Object.values(orders(first)) as number[]).sort((a, b) => a - b);
    expect(places).toEqual(places.map((_, i) => i + 1));
  });
  it('pages and news parse in every locale that has them, and only locales of the table have content', () => {
    for (const folder of ['pages', 'news', 'faq']) {
      for (const locale of readdirSync(`content/${folder}`)) {
        expect(localeCodes, `content/${folder}/${locale}`).toContain(locale);
        const schema = { pages: pageSchema, news: newsSchema, faq: faqSchema }[folder]!;
        for (const f of mdFiles(`content/${folder}/${locale}`)) expect(() => schema.parse(frontmatter(f)), f).not.toThrow();
      }
    }
  });
  it('the help path is written in every language: home, safety, privacy, missing-person notices', () => {
    for (const locale of localeCodes) {
      for (const page of ['home', 'safety', 'privacy', 'missing-persons']) {
        expect(readdirSync(`content/pages/${locale}`), locale).toContain(`${page}.md`);
      }
    }
  });
  it('the safety and privacy pages cover the same points in every language, and the privacy page names each service that sees what a person sends', () => {
    const headings = (locale: string, page: string) => readFileSync(`content/pages/${locale}/${page}.md`, 'utf8').match(/^## /gm)?.length ?? 0;
    for (const locale of localeCodes) {
      for (const page of ['safety', 'privacy']) expect(headings(locale, page), `${locale}/${page}.md: sections`).toBe(headings('ru', page));
      const privacy = readFileSync(`content/pages/${locale}/privacy.md`, 'utf8');
      // The mail provider always; the hosted store where the operator sets it up (limits, used references, the shared outbox).
      for (const service of ['Resend', 'Upstash']) expect(privacy, `${locale}/privacy.md names ${service}`).toContain(`**${service}**`);
    }
  });
  it('the directory: every organisation valid, each with a place in the list and a name of its own', () => {
    const files = readdirSync('content/organizations').filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    const parsed = files.map((f) => {
      const result = organizationSchema.safeParse(yaml.load(readFileSync(join('content/organizations', f), 'utf8')));
      expect(result.success, `${f}: ${result.error?.message}`).toBe(true);
      return result.data!;
    });
    // The pages sort by `order` and list by name (tests/e2e/content.spec.ts shows them all).
    expect(new Set(parsed.map((o) => o.order)).size, 'orders').toBe(files.length);
    expect(new Set(parsed.map((o) => o.name['ru'])).size, 'names').toBe(files.length);
  });
  it('an organisation with an unknown kind of help or a bad phone is rejected', () => {
    const org = { name: { ru: 'Х' }, region: { ru: 'Москва' }, kinds: ['legal'], description: { ru: 'Описание' }, order: 1 };
    expect(organizationSchema.safeParse(org).success).toBe(true);
    expect(organizationSchema.safeParse({ ...org, kinds: ['magic'] }).success).toBe(false);
    expect(organizationSchema.safeParse({ ...org, phones: ['8 800 555'] }).success).toBe(false);
    expect(organizationSchema.safeParse({ ...org, name: { en: 'X' } }).success).toBe(false);
  });
});
