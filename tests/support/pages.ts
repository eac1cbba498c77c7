import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every prerendered page of the build, as URL paths (`/ru/faq/`). */
export function builtPages(root = 'dist/client'): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return walk(path);
      return name === 'index.html' ? ['/' + relative(root, dir).split('\\').join('/') + '/'] : [];
    });
  return walk(root).map((p) => p.replace(/\/+/g, '/')).sort();
}
