/**
 * Missing-person notices are published one Markdown file each, in content/notices/<locale>/, and
 * often none is: that is the normal state, not a mistake. Astro warns about an empty collection
 * twice (its glob loader finds no file; getCollection finds no collection), so the notices'
 * loader and their one reader ask here first. A folder that is not there at all is still a
 * mistake, and the glob loader still says so.
 */
import { readdirSync } from 'node:fs';
import type { Loader } from 'astro/loaders';

/** Where notices are published, from the project's root. */
export const NOTICES_DIR = 'content/notices';

/** Whether `dir` holds at least one Markdown file (undefined: there is no such folder). */
export function holdsMarkdown(dir: string | URL): boolean | undefined {
  try {
    return readdirSync(dir, { recursive: true }).some((name) => String(name).endsWith('.md'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whether any notice is published (read when pages are built, from the project's root). */
export function hasNotices(): boolean {
  return holdsMarkdown(NOTICES_DIR) === true;
}

/**
 * `loader` (the glob loader of `dir`), except when `dir` holds no Markdown: then the collection
 * is emptied (a notice taken down must not stay in the build's cache) and the log says, once and
 * not as a warning, that none is published. In `astro dev` the glob loader always runs: it
 * watches the folder for the first file to come.
 */
export function mayBeEmpty(loader: Loader, dir: string): Loader {
  return {
    name: `optional ${loader.name}`,
    async load(context) {
      const found = holdsMarkdown(new URL(`${dir}/`, context.config.root));
      if (context.watcher !== undefined || found !== false) return loader.load(context);
      context.store.clear();
      context.logger.info(`none published: ${dir}/ holds no Markdown file`);
    },
  };
}
