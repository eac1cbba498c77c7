import { listLocalized } from './localized.ts';

/** The news of one locale, falling back per post, newest first. */
export async function listNews(locale: string) {
  const found = await listLocalized('news', locale);
  return found.sort((a, b) => b.entry.data.date.getTime() - a.entry.data.date.getTime());
}
