import { defineMiddleware } from 'astro:middleware';
import { useTranslations } from './i18n/index.ts';
import { defaultLocale, isLocale } from './i18n/locales.ts';

/** Puts the locale and its `t` on `Astro.locals`, so components never look them up themselves. */
export const onRequest = defineMiddleware((context, next) => {
  const fromPath = context.url.pathname.split('/')[1];
  const locale = isLocale(context.currentLocale) ? context.currentLocale : isLocale(fromPath) ? fromPath : defaultLocale;
  context.locals.locale = locale;
  context.locals.t = useTranslations(locale);
  return next();
});
