/// <reference types="astro/client" />

declare namespace App {
  interface Locals {
    /** The page's locale (falls back to the default outside locale routes). */
    locale: import('./i18n/locales.ts').LocaleCode;
    /** UI strings of that locale. */
    t: import('./i18n/index.ts').Translate;
    /** Set by the intake endpoint when it answers a plain form post with an HTML page. */
    answer?: import('./intake/server/answer.ts').HtmlAnswer;
    /** The public origin for absolute links of a page rendered on request (src/middleware.ts). */
    site?: string;
  }
}
