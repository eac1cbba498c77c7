import { describe, expect, it } from 'vitest';
import { noticeSchema } from '../../../src/site/collections/schemas.ts';
import { activeNotices } from '../../../src/site/collections/notices.ts';

const now = new Date('2026-03-01T00:00:00Z');
const base = {
  name: 'Иван Петров',
  lastSeenPlace: 'Махачкала',
  lastSeenDate: '2026-01-10',
  published: '2026-02-01',
  consent: true,
};
const notice = (id: string, extra: Record<string, unknown> = {}) => ({ id, data: noticeSchema.parse({ ...base, ...extra }) });

describe('notices', () => {
  it('a notice without the family’s consent fails the schema, and says why', () => {
    const { consent: _, ...withoutConsent } = base;
    const result = noticeSchema.safeParse(withoutConsent);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['consent']);
    expect(result.error?.issues[0]?.message).toMatch(/consent/);
  });

  it('shows only notices neither found nor expired, newest first', () => {
    const list = [
      notice('old', { published: '2026-01-15' }),
      notice('found', { found: true }),
      notice('expired', { expires: '2026-02-28' }),
      notice('expires-later', { expires: '2026-03-02', published: '2026-02-20' }),
      notice('expires-now', { expires: '2026-03-01T00:00:00Z' }),
    ];
    expect(activeNotices(list, now).map((n) => n.id)).toEqual(['expires-later', 'old']);
  });

  it('shows nothing when nothing is published', () => {
    expect(activeNotices([], now)).toEqual([]);
  });
});
