import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { faqSchema, isNoticeActive, newsSchema, noticeSchema, organizationSchema, pageSchema } from '../../../src/site/collections/schemas.ts';
import { localeCodes } from '../../../src/i18n/locales.ts';

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
  it('FAQ: twelve questions in Russian and English, orders 1..12', () => {
    for (const locale of ['ru', 'en']) {
      const dir = `content/faq/${locale}`;
      const orders = mdFiles(dir).map((f) => faqSchema.parse(frontmatter(f)).order).sort((a, b) => a - b);
      expect(orders, locale).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }
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
  it('the directory has every organisation of the referral list, each valid', () => {
    const files = readdirSync('content/organizations').filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBe(15);
    for (const f of files) {
      const parsed = organizationSchema.safeParse(yaml.load(readFileSync(join('content/organizations', f), 'utf8')));
      expect(parsed.success, `${f}: ${parsed.error?.message}`).toBe(true);
    }
  });
  it('an organisation with an unknown kind of help or a bad phone is rejected', () => {
    const org = { name: { ru: 'Х' }, region: { ru: 'Москва' }, kinds: ['legal'], description: { ru: 'Описание' }, order: 1 };
    expect(organizationSchema.safeParse(org).success).toBe(true);
    expect(organizationSchema.safeParse({ ...org, kinds: ['magic'] }).success).toBe(false);
    expect(organizationSchema.safeParse({ ...org, phones: ['8 800 555'] }).success).toBe(false);
    expect(organizationSchema.safeParse({ ...org, name: { en: 'X' } }).success).toBe(false);
  });
});
