import { z } from 'astro/zod';
import { localeCodes } from '../../i18n/locales.ts';

/**
 * Zod schemas of the content in `content/`. Kept apart from content.config.ts so unit tests
 * can check them without Astro's loaders.
 */

const description = z.string().min(20).max(160);

export const faqSchema = z.strictObject({
  question: z.string().min(5),
  order: z.number().int().positive(),
});

export const pageSchema = z.strictObject({
  title: z.string().min(2),
  description,
});

export const newsSchema = z.strictObject({
  title: z.string().min(2),
  date: z.coerce.date(),
  // The seeds often give only a month or a year: never print a day we do not know.
  datePrecision: z.enum(['year', 'month', 'day']).default('day'),
  description,
});

/** Text given in each locale; the default locale is required, others optional. */
const localized = z
  .object(Object.fromEntries(localeCodes.map((code) => [code, z.string().min(1).optional()])))
  .refine((value) => Boolean(value['ru']), { message: 'the Russian text is required' });

/** Kinds of help, a fixed list: the directory is filtered by them. */
export const helpKinds = [
  'rescue',
  'shelter',
  'legal',
  'psychological',
  'social',
  'medical',
  'return',
  'hotline',
  'migrants',
  'women',
  'children',
  'sexual_exploitation',
  'prevention',
  'research',
] as const;
export type HelpKind = (typeof helpKinds)[number];

const phone = z.string().regex(/^\+\d[\d ()-]{6,20}$/, 'an international number like "+7 800 550 7140"');

export const organizationSchema = z.strictObject({
  name: localized,
  region: localized,
  kinds: z.array(z.enum(helpKinds)).min(1),
  description: localized,
  phones: z.array(phone).default([]),
  hotlines: z.array(phone).default([]),
  emails: z.array(z.email()).default([]),
  websites: z.array(z.url({ protocol: /^https?$/ })).default([]),
  order: z.number().int().positive(),
});

/**
 * A published search notice. Publishing without the family's consent could endanger the person:
 * `consent` must be literally true or the build fails. `found` or a past `expires` takes it down.
 */
export const noticeSchema = z.strictObject({
  name: z.string().min(2),
  photo: z.string().regex(/^[\w-]+\.(jpe?g|png|webp)$/, 'a file name in public/notices/').optional(),
  lastSeenPlace: z.string().min(2),
  lastSeenDate: z.coerce.date(),
  published: z.coerce.date(),
  consent: z.literal(true, { error: 'a notice needs the family\'s recorded consent (consent: true)' }),
  expires: z.coerce.date().optional(),
  found: z.boolean().default(false),
});

/** True while a notice may be shown. */
export function isNoticeActive(notice: z.infer<typeof noticeSchema>, now = new Date()): boolean {
  return !notice.found && (!notice.expires || notice.expires > now);
}
