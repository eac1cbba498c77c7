import { defineMiddleware } from 'astro:middleware';
import { useTranslations } from './i18n/index.ts';
import { defaultLocale, isLocale } from './i18n/locales.ts';

/** Puts the locale and its `t` on `Astro.locals`, so components never look them up themselves. */
export const onRequest = defineMiddleware(async (context, next) => {
  // A page rendered on request (the 404, the form's answers) writes its absolute links (canonical,
  // hreflang) with the running server's public origin: PUBLIC_URL, else the host and port it
  // listens on. Pages built ahead of time have `site` (astro.config.mjs), by the same rule at
  // build time. Never the request's Host, which a client sets to anything. Imported here only:
  // the build does not need the intake's runtime to prerender pages.
  if (!context.isPrerendered && context.locals.site === undefined) {
    const { getRuntime } = await import('./intake/server/runtime.ts');
    context.locals.site = (await getRuntime()).config.publicUrl;
  }
  // The endpoint sets them itself before it rewrites to the answer page, and Astro runs the
  // middleware again for the rewrite with the endpoint's URL: keep what the endpoint chose.
  if (context.locals.answer !== undefined) return next();
  const fromPath = context.url.pathname.split('/')[1];
  const locale = isLocale(context.currentLocale) ? context.currentLocale : isLocale(fromPath) ? fromPath : defaultLocale;
  context.locals.locale = locale;
  context.locals.t = useTranslations(locale);
  return next();
});
