import { isNoticeActive, type noticeSchema } from './schemas.ts';
import type { z } from 'astro/zod';

/**
 * The notices that may be shown now (not found, not expired), newest first. The site is static:
 * a notice that expires is taken down by the next build.
 */
export function activeNotices<T extends { data: z.infer<typeof noticeSchema> }>(notices: T[], now = new Date()): T[] {
  return notices
    .filter((n) => isNoticeActive(n.data, now))
    .sort((a, b) => b.data.published.getTime() - a.data.published.getTime());
}
