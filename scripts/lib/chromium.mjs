// How the tests and the scripts launch Chromium: one executable, one set of flags.
import { existsSync } from 'node:fs';

/**
 * Debian's Chromium (`npx playwright install` cannot download here). Its headless shell
 * (package chromium-headless-shell) is the build Playwright itself runs headless; the full
 * browser (package chromium) in its new headless mode renders the same pages with about
 * twice the CPU, which on two cores made the browser tests take twice as long. Without
 * either, Playwright's own download, where there is one.
 */
const executablePath = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((path) => existsSync(path));

/** @type {import('@playwright/test').LaunchOptions} */
export const chromiumLaunchOptions = {
  ...(executablePath ? { executablePath } : {}),
  // Nothing of Chromium's own talks to the network: no sync, no updates, no QUIC probes.
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
};
