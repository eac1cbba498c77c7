import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LoaderContext } from 'astro/loaders';
import { describe, expect, it } from 'vitest';
import { noticeSchema } from '../../../src/site/collections/schemas.ts';
import { activeNotices } from '../../../src/site/collections/notices.ts';
import { holdsMarkdown, mayBeEmpty } from '../../../src/site/collections/notice-files.ts';

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

describe('an empty notices folder', () => {
  const folder = () => mkdtempSync(join(tmpdir(), 'notices-'));
  /** The loader's context, as far as mayBeEmpty and a stand-in glob loader use it. */
  function context(root: string, watcher?: object) {
    const logged: string[] = [];
    let cleared = 0;
    const ctx = {
      config: { root: pathToFileURL(`${root}/`) },
      store: { clear: () => void cleared++ },
      logger: { info: (m: string) => logged.push(`info ${m}`), warn: (m: string) => logged.push(`warn ${m}`) },
      watcher,
    } as unknown as LoaderContext;
    return { ctx, logged, cleared: () => cleared };
  }
  const glob = () => {
    const calls: LoaderContext[] = [];
    return { calls, loader: { name: 'glob-loader', load: async (c: LoaderContext) => void calls.push(c) } };
  };

  it('is empty, not missing; Markdown anywhere below counts', () => {
    const root = folder();
    expect(holdsMarkdown(join(root, 'notices'))).toBeUndefined();
    mkdirSync(join(root, 'notices', 'ru'), { recursive: true });
    writeFileSync(join(root, 'notices', 'README.txt'), 'not a notice');
    expect(holdsMarkdown(join(root, 'notices'))).toBe(false);
    writeFileSync(join(root, 'notices', 'ru', 'ivan.md'), '---\n---\n');
    expect(holdsMarkdown(join(root, 'notices'))).toBe(true);
  });

  it('is loaded by nobody: the collection is emptied and the log says so once, not as a warning', async () => {
    const root = folder();
    mkdirSync(join(root, 'content', 'notices'), { recursive: true });
    const { calls, loader } = glob();
    const { ctx, logged, cleared } = context(root);
    await mayBeEmpty(loader, 'content/notices').load(ctx);
    expect(calls).toEqual([]);
    expect(cleared()).toBe(1);
    expect(logged).toEqual(['info none published: content/notices/ holds no Markdown file']);
  });

  it('with a notice, or missing altogether, or in `astro dev` (which watches it), is the glob loader’s', async () => {
    const root = folder();
    const { calls, loader } = glob();
    // Missing: the glob loader warns that the folder does not exist, as it should.
    await mayBeEmpty(loader, 'content/notices').load(context(root).ctx);
    mkdirSync(join(root, 'content', 'notices'), { recursive: true });
    await mayBeEmpty(loader, 'content/notices').load(context(root, {}).ctx);
    writeFileSync(join(root, 'content', 'notices', 'ivan.md'), '---\n---\n');
    await mayBeEmpty(loader, 'content/notices').load(context(root).ctx);
    expect(calls).toHaveLength(3);
  });
});
