// @ts-check
import { defineConfig } from 'astro/config';
import node from '@astrojs/node';
import react from '@astrojs/react';
import sitemap from '@astrojs/sitemap';
import { defaultLocale, localeCodes, locales } from './src/i18n/locales.ts';
import { loadPublicUrl } from './src/intake/server/config.ts';

// Not pages to index: the form endpoint's answers, the API, and `/` (a redirect by language).
/** @param {string} page */
const notInSitemap = (page) => /^\/(?:[^/]+\/)?(?:answer|api)\/|^\/$/.test(new URL(page).pathname);

export default defineConfig({
  // Absolute links (canonical, hreflang, sitemap, RSS) of built pages are written at build time
  // from the public origin, by the server's own rule (PUBLIC_URL, else its host and port, so
  // `PORT=8080 npm start` links to 8080); pages rendered on request take the running server's
  // (src/middleware.ts).
  site: loadPublicUrl(),
  output: 'static',
  // Middleware mode: dist/server/entry.mjs only exports a handler and starts nothing, so the one way
  // to serve the build is scripts/serve.mjs (headers, timeouts, upload gate, retry loop, config
  // check), never `node dist/server/entry.mjs` as the adapter's docs suggest for standalone mode.
  adapter: node({ mode: 'middleware' }),
  integrations: [
    react(),
    sitemap({
      i18n: { defaultLocale, locales: Object.fromEntries(locales.map((l) => [l.code, l.lang])) },
      filter: (page) => !notInSitemap(page),
    }),
  ],
  // 'always' would 301 the POST to /api/applications; pages are still linked with a slash.
  trailingSlash: 'ignore',
  // No sessions: nothing about a visitor is stored, and no cookie is ever set.
  session: false,
  i18n: {
    locales: [...localeCodes],
    defaultLocale,
    routing: { prefixDefaultLocale: true, redirectToDefaultLocale: false },
  },
  // The intake checks Origin itself (src/intake/server/http/address.ts) so that a refused post gets a
  // localized 403 in JSON or HTML; Astro's own check would answer in plain English text.
  security: { checkOrigin: false },
  // Syntax highlighting writes inline style attributes, which the CSP (style-src 'self') blocks.
  markdown: { syntaxHighlight: false },
  // Scripts and styles as files, never inline: the CSP then needs no 'unsafe-inline' or hashes.
  build: { inlineStylesheets: 'never' },
  vite: { build: { assetsInlineLimit: 0 } },
});
