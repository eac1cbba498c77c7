import { dialled } from './links.ts';

/** A number as people read it (`display`) and as a phone dials it (`tel`), written once. */
function phone(display: string) {
  return { display, tel: dialled(display) } as const;
}

/**
 * The organisation's own contacts, as its referral-directory entry gives them (seed 002),
 * and the police emergency number. Never add a number the documents do not give. Links to a
 * number are made with `telHref` (links.ts).
 */
export const contacts = {
  hotline: phone('+7 800 550 7140'),
  police: phone('112'),
  email: 'rabstvo2013@yandex.ru',
  website: 'https://alterativne.help/',
} as const;
