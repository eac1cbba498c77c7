/** `tel:` target of a number written for people: the digits only, with the leading `+`. */
export function telHref(phone: string): string {
  return `tel:+${phone.replace(/\D/g, '')}`;
}

/** What a website link shows: its domain, without `www.` (the full address is the `href`). */
export function domainOf(url: string): string {
  return new URL(url).hostname.replace(/^www\./, '');
}
