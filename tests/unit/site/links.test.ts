import { describe, expect, it } from 'vitest';
import { domainOf, telHref } from '../../../src/site/links.ts';
import { contacts } from '../../../src/site/contacts.ts';
import { formatDate, isoDate } from '../../../src/site/dates.ts';

describe('directory links', () => {
  it('dials the digits of a number as the seed groups it', () => {
    expect(telHref('+7 495 124-2561')).toBe('tel:+74951242561');
    expect(telHref('+7 3952 738 708')).toBe('tel:+73952738708');
  });
  it('dials a short national number as it is: no `+` it does not have', () => {
    expect(telHref('112')).toBe('tel:112');
    expect(telHref(contacts.hotline.display)).toBe('tel:+78005507140');
    expect(contacts.police.tel).toBe('112');
  });
  it('shows a website by its domain', () => {
    expect(domainOf('https://www.spbredcross.org/')).toBe('spbredcross.org');
    expect(domainOf('https://hh.ru/employer/3756222')).toBe('hh.ru');
  });
});

describe('dates', () => {
  const april = new Date('2018-04-01');
  it('never prints more than the source knows, in the reader’s language', () => {
    expect(formatDate(april, 'en', 'year')).toBe('2018');
    expect(formatDate(april, 'en', 'month')).toBe('April 2018');
    expect(formatDate(april, 'ru', 'day')).toBe('1 апреля 2018 г.');
    expect([isoDate(april, 'year'), isoDate(april, 'month'), isoDate(april)]).toEqual(['2018', '2018-04', '2018-04-01']);
  });
});
