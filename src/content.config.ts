import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { faqSchema, newsSchema, noticeSchema, organizationSchema, pageSchema } from './site/collections/schemas.ts';
import { mayBeEmpty, NOTICES_DIR } from './site/collections/notice-files.ts';

// Content lives outside src/ (content/), one folder per collection, one per locale inside;
// entry ids are `<locale>/<slug>`.
const md = (folder: string) => glob({ base: `./content/${folder}`, pattern: '**/*.md' });

export const collections = {
  faq: defineCollection({ loader: md('faq'), schema: faqSchema }),
  pages: defineCollection({ loader: md('pages'), schema: pageSchema }),
  news: defineCollection({ loader: md('news'), schema: newsSchema }),
  // Often none is published: an empty folder is normal here (notice-files.ts).
  notices: defineCollection({ loader: mayBeEmpty(md('notices'), NOTICES_DIR), schema: noticeSchema }),
  organizations: defineCollection({
    loader: glob({ base: './content/organizations', pattern: '*.yaml' }),
    schema: organizationSchema,
  }),
};
