/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { getViteConfig } from 'astro/config';

const island = 'tests/unit/intake/island';

// Unit tests run through Astro's Vite config so `astro:content` and friends resolve.
export default getViteConfig({
  resolve: {
    alias: [
      // The island's encryption imports openpgp.js's lightweight build, which the package exports
      // under the `browser` condition only; tests resolve with Node's conditions, so name the very
      // file the browser gets.
      {
        find: /^openpgp\/lightweight$/,
        replacement: fileURLToPath(new URL('./node_modules/openpgp/dist/lightweight/openpgp.mjs', import.meta.url)),
      },
    ],
  },
  test: {
    // Real services (redis-server, gpg, key generation) are slow to start on 2 cores.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Most of the time in these files is waiting (redis-server, gpg, timers of the retry loop and
    // the upload gate), not CPU: four files at once on two cores take half the time of one per core.
    maxWorkers: 4,
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.{ts,tsx}'], exclude: [`${island}/**`] } },
      {
        extends: true,
        test: {
          // The form island's components, in a browser's DOM.
          name: 'island',
          include: [`${island}/*.test.tsx`],
          environment: 'happy-dom',
          // One DOM and one module graph for all its files: in a fresh one each file pays again
          // for happy-dom, React and the nine locales' strings, about half the set's CPU time.
          // Each test cleans up after itself (RTL's cleanup, restored mocks and globals).
          isolate: false,
        },
      },
    ],
  },
});
