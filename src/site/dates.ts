/** How much of a date the source gives: the seeds often know only the year or the month. */
export type DatePrecision = 'year' | 'month' | 'day';

const formats: Record<DatePrecision, Intl.DateTimeFormatOptions> = {
  year: { year: 'numeric' },
  month: { year: 'numeric', month: 'long' },
  day: { year: 'numeric', month: 'long', day: 'numeric' },
};

/**
 * A date as the reader's language writes it, never more precise than the source.
 * Content dates are calendar dates parsed as UTC midnight: formatting them in UTC keeps the day.
 */
export function formatDate(date: Date, lang: string, precision: DatePrecision = 'day'): string {
  return new Intl.DateTimeFormat(lang, { ...formats[precision], timeZone: 'UTC' }).format(date);
}

/** The `<time datetime>` value at the same precision: `2018`, `2018-04` or `2018-04-01`. */
export function isoDate(date: Date, precision: DatePrecision = 'day'): string {
  const length = { year: 4, month: 7, day: 10 }[precision];
  return date.toISOString().slice(0, length);
}
