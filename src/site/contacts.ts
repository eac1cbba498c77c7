/**
 * The organisation's own contacts, as its referral-directory entry gives them (seed 002),
 * and the police emergency number. Never add a number the documents do not give.
 */
export const contacts = {
  hotline: { tel: '+78005507140', display: '+7 800 550 7140' },
  police: { tel: '112', display: '112' },
  email: 'rabstvo2013@yandex.ru',
  website: 'https://alterativne.help/',
} as const;
