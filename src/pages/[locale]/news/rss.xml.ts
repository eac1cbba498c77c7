import rss from '@astrojs/rss';
import type { APIRoute } from 'astro';
import { everyLocale, splitId } from '../../../site/collections/localized.ts';
import { listNews } from '../../../site/collections/news.ts';
import { getLocale } from '../../../i18n/locales.ts';
import { getRelativeLocaleUrl } from 'astro:i18n';

export const getStaticPaths = everyLocale;

/** The news feed of one locale; links are absolute, from `site` (PUBLIC_URL at build time). */
export const GET: APIRoute = async ({ locals, site, url }) => {
  const { t, locale } = locals;
  const base = site ?? url;
  const posts = await listNews(locale);
  return rss({
    title: `${t('news.title')} — ${t('site.name')}`,
    description: t('news.description'),
    site: new URL(getRelativeLocaleUrl(locale, 'news'), base),
    customData: `<language>${getLocale(locale).lang}</language>`,
    items: posts.map(({ entry }) => ({
      title: entry.data.title,
      description: entry.data.description,
      pubDate: entry.data.date,
      link: new URL(getRelativeLocaleUrl(locale, `news/${splitId(entry.id).slug}`), base).href,
    })),
  });
};
