import { defineConfig, devices } from '@playwright/test';
import { chromiumLaunchOptions } from './scripts/lib/chromium.mjs';

const isCI = Boolean(process.env.CI);

export default defineConfig({
  testDir: 'tests/e2e',
  // Each spec starts its own built server (tests/support/server.ts) with the configuration it needs.
  fullyParallel: false,
  // Two cores: each worker runs its own server and browser.
  workers: 2,
  forbidOnly: isCI,
  retries: 0,
  timeout: 60_000,
  // A send in the island fetches keys, loads OpenPGP and encrypts before anything is shown: on two
  // busy cores that can pass the default 5 s of an expectation without anything being wrong.
  expect: { timeout: 15_000 },
  reporter: 'list',
  use: {
    ...devices['Desktop Chrome'],
    locale: 'ru-RU',
    launchOptions: chromiumLaunchOptions,
  },
});
