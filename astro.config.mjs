// @ts-check
import { defineConfig } from 'astro/config';
import node from '@astrojs/node';
import react from '@astrojs/react';
import { defaultLocale, localeCodes } from './src/i18n/locales.ts';

export default defineConfig({
  output: 'static',
  adapter: node({ mode: 'standalone' }),
  integrations: [react()],
  trailingSlash: 'always',
  // No sessions: nothing about a visitor is stored, and no cookie is ever set.
  session: false,
  i18n: {
    locales: [...localeCodes],
    defaultLocale,
    routing: { prefixDefaultLocale: true, redirectToDefaultLocale: false },
  },
  security: { checkOrigin: true },
  // Scripts and styles as files, never inline: the CSP then needs no 'unsafe-inline' or hashes.
  build: { inlineStylesheets: 'never' },
  vite: { build: { assetsInlineLimit: 0 } },
});
