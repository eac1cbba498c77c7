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

/** What the help form is filled with unless a spec says otherwise. */
export const HELP_MESSAGE = 'Нас держат на кирпичном заводе, паспорта забрали.';
export const HELP_PLACE = 'Кирпичный завод у трассы, рядом заправка';

/** Fills every question of the Russian help form a person in danger would answer. */
export async function fillHelp(page: Page, { message = HELP_MESSAGE, safe = 'no' }: { message?: string; safe?: 'yes' | 'no' | 'unsure' } = {}): Promise<void> {
  await page.locator('#f-for-self').check();
  await page.locator('#f-situation-labour').check();
  await page.locator('#f-situation-documents_taken').check();
  await page.locator('#f-country').fill('Россия');
  await page.locator('#f-place').fill(HELP_PLACE);
  await page.locator('#f-message').fill(message);
  await page.locator(`#f-contact_safe-${safe}`).check();
  await page.locator('#f-consent').check();
}

/** Fills the Russian missing-person form as a relative would (no photo: specs pick their own). */
export async function fillMissing(page: Page, { circumstances = 'Уехал на стройку по объявлению, вербовщик Руслан.' }: { circumstances?: string } = {}): Promise<void> {
  await page.locator('#f-person_name').fill('Иванов Иван Иванович');
  await page.locator('#f-person_birth_date').fill('1990-05-31');
  await page.locator('#f-person_citizenship').fill('Россия');
  await page.locator('#f-last_seen_date').fill('2024-03-15');
  await page.locator('#f-last_seen_place').fill('Махачкала, автовокзал');
  await page.locator('#f-circumstances').fill(circumstances);
  await page.locator('#f-police_report-yes').check();
  await page.locator('#f-applicant_name').fill('Мария');
  await page.locator('#f-applicant_relation').fill('сестра');
  await page.locator('#f-contact_safe-yes').check();
  await page.locator('#f-contact_channels-telegram').check();
  await page.locator('#f-contact_value').fill('@maria_test');
  await page.locator('#f-consent').check();
  await page.locator('#f-consent_publish-no').check();
  await page.locator('#f-consent_show_rescued-yes').check();
}
