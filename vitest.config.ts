/// <reference types="vitest/config" />
import { getViteConfig } from 'astro/config';

// Unit tests run through Astro's Vite config so `astro:content` and friends resolve.
export default getViteConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    // Real services (redis-server, gpg, key generation) are slow to start on 2 cores.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
