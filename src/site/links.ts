/**
 * A number written for people, as a phone dials it: the digits only, with the leading `+` of an
 * international number (`+7 800 550 7140` → `+78005507140`; `112` stays `112`).
 */
export function dialled(phone: string): string {
  return `${phone.trimStart().startsWith('+') ? '+' : ''}${phone.replace(/\D/g, '')}`;
}

/** `tel:` target of a number written for people: every `tel:` link on the site is made here. */
export function telHref(phone: string): string {
  return `tel:${dialled(phone)}`;
}

/** What a website link shows: its domain, without `www.` (the full address is the `href`). */
export function domainOf(url: string): string {
  return new URL(url).hostname.replace(/^www\./, '');
}
