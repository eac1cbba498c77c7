/** Every page of the site, in the order the full menu lists them; keys are `nav.*` UI strings. */
export const navigation = [
  { page: '', key: 'nav.home' },
  { page: 'help', key: 'nav.help' },
  { page: 'missing', key: 'nav.missing' },
  { page: 'directory', key: 'nav.directory' },
  { page: 'rescue', key: 'nav.rescue' },
  { page: 'faq', key: 'nav.faq' },
  { page: 'prevention', key: 'nav.prevention' },
  { page: 'legal', key: 'nav.legal' },
  { page: 'missing-persons', key: 'nav.missingPersons' },
  { page: 'news', key: 'nav.news' },
  { page: 'about', key: 'nav.about' },
  { page: 'safety', key: 'nav.safety' },
  { page: 'privacy', key: 'nav.privacy' },
] as const;

/**
 * The few links the header shows; the rest are one tap away in the full list (the footer's).
 * `phone`: also on a small screen, where the header keeps one line of links (the first screen
 * must still show the page's heading and purpose, the quick exit and the hotline).
 */
export const headerPages = [
  { page: 'help', phone: true },
  { page: 'missing', phone: false },
  { page: 'safety', phone: false },
] as const;
