import { defineMiddleware } from 'astro:middleware';
import { useTranslations } from './i18n/index.ts';
import { defaultLocale, isLocale } from './i18n/locales.ts';

/** Puts the locale and its `t` on `Astro.locals`, so components never look them up themselves. */
export const onRequest = defineMiddleware((context, next) => {
  // The endpoint sets them itself before it rewrites to the answer page, and Astro runs the
  // middleware again for the rewrite with the endpoint's URL: keep what the endpoint chose.
  if (context.locals.answer !== undefined) return next();
  const fromPath = context.url.pathname.split('/')[1];
  const locale = isLocale(context.currentLocale) ? context.currentLocale : isLocale(fromPath) ? fromPath : defaultLocale;
  context.locals.locale = locale;
  context.locals.t = useTranslations(locale);
  return next();
});
