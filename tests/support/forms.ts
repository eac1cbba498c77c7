import { expect, type Page } from '@playwright/test';
import { TEST_BOT_MIN_FILL_MS } from './server.ts';

// The one written form of a reference, as the contract declares it.
export { REFERENCE } from '../../src/intake/contract/reference.ts';
import { REFERENCE } from '../../src/intake/contract/reference.ts';

/** The island has hydrated when it has switched the browser's own checks off. */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(() => (document.querySelector('form.intake-form') as HTMLFormElement | null)?.noValidate === true);
}

/** The reference as shown (`K 7 M 2 - P Q 4 X`), back in its written form. */
export async function shownReference(page: Page): Promise<string> {
  const code = (await page.locator('.reference').innerText()).replace(/\s+/g, '');
  expect(code).toMatch(REFERENCE);
  return code;
}

/**
 * The server drops a post the island sends sooner than BOT_MIN_FILL_MS after the page opened
 * (the island sends `performance.now()`); the test servers set it short, so this rarely waits.
 */
export const afterHumanDelay = (page: Page) =>
  page.waitForFunction((ms) => performance.now() > ms, TEST_BOT_MIN_FILL_MS + 100);
