import { isNoticeActive, type noticeSchema } from './schemas.ts';
import type { z } from 'astro/zod';
import { listLocalized } from './localized.ts';
import { hasNotices } from './notice-files.ts';

/**
 * The notices that may be shown now (not found, not expired), newest first. The site is static:
 * a notice that expires is taken down by the next build.
 */
export function activeNotices<T extends { data: z.infer<typeof noticeSchema> }>(notices: T[], now = new Date()): T[] {
  return notices
    .filter((n) => isNoticeActive(n.data, now))
    .sort((a, b) => b.data.published.getTime() - a.data.published.getTime());
}

/**
 * The notices to show in one locale, a notice not yet translated in its own language (`fallbackFrom`):
 * a missing person is missing everywhere. None is read when none is published, so the build
 * does not warn about an empty collection (notice-files.ts).
 */
export async function listNotices(locale: string) {
  if (!hasNotices()) return [];
  const found = await listLocalized('notices', locale);
  return activeNotices(found.map(({ entry, fallbackFrom }) => ({ data: entry.data, entry, fallbackFrom })));
}
