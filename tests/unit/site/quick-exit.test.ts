import { describe, expect, it } from 'vitest';
import { locales } from '../../../src/i18n/locales.ts';

/**
 * Sites blocked or throttled in Russia (Roskomnadzor), where many of the people this site is for
 * live: an exit to one of them shows a "blocked" page or hangs, which is worse than no exit.
 * A host matches the name itself or any subdomain of it.
 */
const blockedInRussia = [
  'bbc.com', 'bbc.co.uk', 'dw.com', 'meduza.io', 'svoboda.org', 'rferl.org', 'currenttime.tv',
  'azattyq.org', 'azattyk.org', 'ozodi.org', 'ozodlik.org', 'radiofarda.com', 'golos-ameriki.ru', 'voanews.com',
  'facebook.com', 'instagram.com', 'twitter.com', 'x.com', 'linkedin.com', 'threads.net', 'discord.com',
  'novayagazeta.eu', 'tvrain.tv', 'theins.ru', 'zona.media', 'mediazona.ca',
];

const blocked = (host: string) => blockedInRussia.some((name) => host === name || host.endsWith(`.${name}`));

describe('quick exit destinations', () => {
  it.each(locales.map((l) => [l.code, l.exitUrl] as const))('%s leaves for an https page of a service open from Russia and Central Asia', (_code, url) => {
    const { protocol, host } = new URL(url);
    expect(protocol).toBe('https:');
    expect(blocked(host), host).toBe(false);
  });

  it('knows a blocked site when it sees one, subdomains included', () => {
    for (const url of ['https://www.bbc.com/weather', 'https://m.facebook.com/', 'https://x.com/', 'https://rus.azattyq.org/']) {
      expect(blocked(new URL(url).host), url).toBe(true);
    }
    expect(blocked('notbbc.com')).toBe(false);
  });
});
