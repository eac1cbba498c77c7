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

/** The few links the header shows; the rest are one tap away in the full menu. */
export const headerPages = ['help', 'missing', 'safety'] as const;
