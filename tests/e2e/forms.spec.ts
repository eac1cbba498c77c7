// The two application forms in a real browser against the built server, with JavaScript on (the
// island) and off (plain HTML form → answer page): what a person sees, hears and keeps.
import { expect, test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../support/server.ts';
import { afterHumanDelay, fillHelp, fillMissing, HELP_MESSAGE, HELP_PLACE, hydrated, shownReference } from '../support/forms.ts';
import { expectNoAxeViolations } from '../support/a11y.ts';
import { createGpgHome } from '../support/gpg.ts';
import { jpeg, png } from '../support/images.ts';
import ru from '../../src/i18n/ui/ru.json' with { type: 'json' };
import en from '../../src/i18n/ui/en.json' with { type: 'json' };

test.describe.configure({ mode: 'serial' });

let server: RunningServer;
// Its own folder for the outbox and dev keys (read back below), removed when the file is done.
const varDir = mkdtempSync(join(tmpdir(), 'forms-spec-'));
test.beforeAll(async () => {
  // Every test here posts from 127.0.0.1: a limit this file never reaches.
  server = await startServer({ RATE_LIMIT_ADDRESS: '500/10m', RATE_LIMIT_GLOBAL: '1000/1h' }, { varDir });
});
test.afterAll(async () => {
  await server?.stop();
  rmSync(varDir, { recursive: true, force: true });
});

const fieldError = (page: Page, name: string) => page.locator(`#e-${name}`);

const photo = (name: string, bytes: Uint8Array, mimeType = 'image/jpeg') => ({ name, mimeType, buffer: Buffer.from(bytes) });


/** Nothing about the visit is left in the browser's storage. */
async function expectNothingStored(page: Page, context: BrowserContext) {
  expect(await context.cookies()).toEqual([]);
  const stored = await page.evaluate(async () => ({
    local: localStorage.length,
    session: sessionStorage.length,
    databases: (await indexedDB.databases()).length,
  }));
  expect(stored).toEqual({ local: 0, session: 0, databases: 0 });
}

/** Opens what the server kept with the dev key it generated: proof the real pipeline ran. */
async function decryptKept(reference: string): Promise<string> {
  const file = join(server.varDir, 'outbox', `${reference}.json`);
  await expect.poll(() => existsSync(file), { message: `outbox file for ${reference}` }).toBe(true);
  const home = await createGpgHome();
  try {
    await home.importKey(readFileSync(join(server.varDir, 'dev-keys', 'staff.sec.asc'), 'utf8'));
    const envelope = JSON.parse(readFileSync(file, 'utf8')) as { armored: string; attachments: unknown[] };
    return `${(await home.decrypt(envelope.armored)).toString('utf8')}\nattachments: ${envelope.attachments.length}`;
  } finally {
    await home.cleanup();
  }
}

/**
 * axe-core waits on timers, and Chromium runs no timers with JavaScript off (even for Playwright's
 * own evaluate), so axe hangs there. The no-JS state is checked instead as the same HTML in a
 * context where every page script is blocked: the DOM a browser without JS shows.
 */
async function expectNoAxeViolationsWithoutJs(browser: Browser, page: Page, label: string) {
  const html = await page.content();
  const url = page.url();
  // Playwright Test gives new contexts the test's options: JS must be switched back on for axe.
  const context = await browser.newContext({ javaScriptEnabled: true });
  try {
    const copy = await context.newPage();
    await copy.route('**/*.js', (route) => route.abort());
    await copy.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
    await copy.goto(url);
    await expect(copy.locator('form[novalidate]')).toHaveCount(0);
    await expectNoAxeViolations(copy, label);
  } finally {
    await context.close();
  }
}


test.describe('JavaScript on', () => {
  // The empty forms pass axe, with JavaScript and without: site.spec.ts, as every template.
  test('help: empty submit puts a focused summary and errors at the fields', async ({ page }) => {
    await page.goto(server.url + '/ru/help/');
    await expect(page).toHaveTitle(ru['site.titleNeutral']);
    await hydrated(page);
    await page.locator('#f-country').fill('Казахстан');
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    const summary = page.locator('.error-summary');
    await expect(summary).toBeFocused();
    await expect(summary.getByRole('heading')).toHaveText(ru['answer.error.summary']);
    await expect(summary.getByRole('link')).toHaveText([
      `${ru['help.form.for.legend']}: ${ru['errors.field.invalid_choice']}`,
      `${ru['help.form.message.label']}: ${ru['errors.field.required']}`,
      `${ru['form.contact_safe.legend']}: ${ru['errors.field.invalid_choice']}`,
      `${ru['form.consent.legend']}: ${ru['errors.field.consent_required']}`,
    ]);
    await expect(fieldError(page, 'message')).toContainText(ru['errors.field.required']);
    await expect(page.locator('#f-message')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('#f-message')).toHaveAttribute('aria-describedby', /e-message/);
    await expect(page.locator('#f-country')).toHaveValue('Казахстан');
    await expectNoAxeViolations(page, 'help, errors');
    // A summary link takes focus to its field.
    await summary.getByRole('link').nth(1).click();
    await expect(page.locator('#f-message')).toBeFocused();
    await expect(page).toHaveURL(server.url + '/ru/help/');
  });

  test('help: the safety question reveals contact fields only on "yes", and keeps what was typed', async ({ page }) => {
    await page.goto(server.url + '/ru/help/');
    await hydrated(page);
    const contact = page.locator('#f-contact_value');
    await expect(contact).toBeHidden();
    await expect(page.getByText(ru['form.contact.onlyIfSafe'])).toHaveCount(0);
    await page.locator('#f-contact_safe-yes').check();
    await expect(contact).toBeVisible();
    await contact.fill('+7 900 123 45 67');
    await page.locator('#f-contact_safe-unsure').check();
    await expect(contact).toBeHidden();
    await expect(page.getByText(ru['form.contact_safe.notSafe'])).toBeVisible();
    await page.locator('#f-contact_safe-yes').check();
    await expect(contact).toHaveValue('+7 900 123 45 67');
    // "Yes" makes a channel and the contact required, with the schema's own messages.
    await contact.fill('');
    await fillHelp(page, { safe: 'yes' });
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    await expect(fieldError(page, 'contact_channels')).toContainText(ru['errors.field.contact_channel_required']);
    await expect(fieldError(page, 'contact_value')).toContainText(ru['errors.field.contact_required']);
    await page.locator('#f-contact_channels-email').check();
    await contact.fill('не почта');
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    await expect(fieldError(page, 'contact_value')).toContainText(ru['errors.field.invalid_email']);
    await expect(fieldError(page, 'contact_channels')).toHaveCount(0);
    await expect(page.locator('#f-message')).toHaveValue(HELP_MESSAGE);
  });

  test('help: a complete request shows the reference in place, sends the real thing, stores nothing', async ({ page, context }) => {
    await page.goto(server.url + '/ru/help/');
    await hydrated(page);
    await fillHelp(page, { safe: 'yes' });
    await page.locator('#f-contact_channels-signal').check();
    await page.locator('#f-contact_value').fill('+7 900 123 45 67');
    await page.locator('#f-contact_time').fill('после 20:00');
    await afterHumanDelay(page);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    const heading = page.getByRole('heading', { name: ru['answer.received.title'] });
    await expect(heading).toBeFocused();
    await expect(page).toHaveURL(server.url + '/ru/help/');
    await expect(page.locator('form')).toHaveCount(0);
    await expect(page.getByText(ru['answer.received.noted'])).toBeVisible();
    const reference = await shownReference(page);
    await expect(page).toHaveTitle(ru['site.titleNeutral']);
    await expectNoAxeViolations(page, 'help, confirmation');
    await expectNothingStored(page, context);
    const plain = await decryptKept(reference);
    expect(plain).toContain(HELP_MESSAGE);
    expect(plain).toContain('+7 900 123 45 67');
  });

  test('help: with "no" the contact typed earlier is not sent', async ({ page }) => {
    await page.goto(server.url + '/ru/help/');
    await hydrated(page);
    await page.locator('#f-contact_safe-yes').check();
    await page.locator('#f-contact_value').fill('+7 999 000 00 00');
    await fillHelp(page, { safe: 'no' });
    await afterHumanDelay(page);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    const plain = await decryptKept(await shownReference(page));
    expect(plain).toContain(HELP_MESSAGE);
    expect(plain).not.toContain('+7 999 000 00 00');
  });

  test('missing: photos are previewed and sent; invalid dates, ages and files are caught at the field', async ({ page, context }) => {
    await page.goto(server.url + '/ru/missing/');
    await expect(page).toHaveTitle(ru['site.titleNeutral']);
    await expect(page.getByText(ru['missing.policy.search'])).toBeVisible();
    await hydrated(page);
    const input = page.locator('#f-photos');
    await expect(input).toHaveAttribute('accept', 'image/jpeg,image/png,image/webp');
    await expect(input).toHaveAttribute('multiple', '');
    await fillMissing(page);
    await page.locator('#f-last_seen_date').fill('2999-01-01');
    await page.locator('#f-person_age').fill('200');
    await input.setInputFiles([photo('notes.jpg', new TextEncoder().encode('not an image at all'))]);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    await expect(page.locator('.error-summary')).toBeFocused();
    await expect(fieldError(page, 'last_seen_date')).toContainText(ru['errors.field.date_in_future']);
    await expect(fieldError(page, 'person_age')).toContainText(ru['errors.field.invalid_number']);
    await expect(fieldError(page, 'photos')).toContainText(ru['errors.field.photo_type']);
    await expectNoAxeViolations(page, 'missing, errors');

    // A picture with something appended after its end (a motion photo, or an archive) is refused.
    await input.setInputFiles([photo('motion.jpg', new Uint8Array([...jpeg(), 0x50, 0x4b, 0x03, 0x04]))]);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    await expect(fieldError(page, 'photos')).toContainText(ru['errors.field.photo_extra_data']);
    await input.setInputFiles([photo('1.jpg', jpeg()), photo('2.png', png(4, 4), 'image/png'), photo('3.jpg', jpeg()), photo('4.jpg', jpeg())]);
    await expect(page.locator('.previews img')).toHaveCount(4);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    await expect(fieldError(page, 'photos')).toContainText(ru['errors.field.photo_count']);
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    big.set(jpeg());
    await input.setInputFiles([photo('big.jpg', big)]);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    await expect(fieldError(page, 'photos')).toContainText(ru['errors.field.photo_too_large']);

    await input.setInputFiles([photo('1.jpg', jpeg()), photo('2.png', png(4, 4), 'image/png')]);
    const previews = page.locator('.previews img');
    await expect(previews).toHaveCount(2);
    await expect(previews.first()).toHaveAttribute('src', /^blob:/);
    await page.locator('#f-last_seen_date').fill('2024-03-15');
    await page.locator('#f-person_age').fill('');
    await afterHumanDelay(page);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    await expect(page.getByRole('heading', { name: ru['answer.received.title'] })).toBeFocused();
    const reference = await shownReference(page);
    await expectNoAxeViolations(page, 'missing, confirmation');
    await expectNothingStored(page, context);
    const plain = await decryptKept(reference);
    expect(plain).toContain('Иванов Иван Иванович');
    expect(plain).toContain('attachments: 2');
  });

  test('server field errors (400 JSON) are shown like the island\'s own', async ({ page }) => {
    // Only the post: the GET of the staff keys before it must reach the server.
    await page.route('**/api/applications', (route) =>
      route.request().method() !== 'POST' ? route.fallback() : route.fulfill({
        status: 400,
        contentType: 'application/json',
        body: JSON.stringify({ ok: false, error: 'validation', message: ru['errors.validation'], fields: { place: ru['errors.field.control_chars'] } }),
      }),
    );
    await page.goto(server.url + '/ru/help/');
    await hydrated(page);
    await fillHelp(page);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    await expect(page.locator('.error-summary')).toBeFocused();
    await expect(fieldError(page, 'place')).toContainText(ru['errors.field.control_chars']);
    await expect(page.locator('#f-place')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('#f-place')).toHaveValue(HELP_PLACE);
  });

  test('no connection, 503 or 429: the form stays filled, the hotline is offered, and retry sends it', async ({ page }) => {
    const answers = [
      (route: Parameters<Parameters<Page['route']>[1]>[0]) => route.abort('internetdisconnected'),
      (route: Parameters<Parameters<Page['route']>[1]>[0]) =>
        route.fulfill({ status: 503, contentType: 'application/json', headers: { 'Retry-After': '60' }, body: JSON.stringify({ ok: false, error: 'unavailable', message: 'Сбой сервера', retryAfter: 60 }) }),
      (route: Parameters<Parameters<Page['route']>[1]>[0]) =>
        route.fulfill({ status: 429, contentType: 'application/json', body: JSON.stringify({ ok: false, error: 'rate_limited', message: 'Слишком много заявок', retryAfter: 600 }) }),
    ];
    let attempt = 0;
    await page.route('**/api/applications', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      const answer = answers[attempt++];
      if (answer) await answer(route);
      else await route.continue();
    });
    await page.goto(server.url + '/ru/help/');
    await hydrated(page);
    await fillHelp(page);
    await afterHumanDelay(page);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    const failure = page.locator('.failure');
    await expect(failure.getByRole('heading')).toBeFocused();
    await expect(failure).toContainText(ru['form.failure.network']);
    await expect(failure.locator('a[href="tel:+78005507140"]')).toBeVisible();
    await expect(page.locator('#f-message')).toHaveValue(HELP_MESSAGE);
    await expectNoAxeViolations(page, 'help, send failed');
    const retry = page.getByRole('button', { name: ru['form.failure.retry'] });
    await retry.click();
    await expect(failure).toContainText('Сбой сервера');
    await expect(failure).toContainText(ru['answer.error.retryAfter'].replace('{{minutes}}', '1'));
    await retry.click();
    await expect(failure).toContainText('Слишком много заявок');
    await expect(failure).toContainText(ru['answer.error.retryAfter'].replace('{{minutes}}', '10'));
    await expect(page.locator('#f-place')).toHaveValue(HELP_PLACE);
    await retry.click();
    await expect(page.getByRole('heading', { name: ru['answer.received.title'] })).toBeFocused();
  });

  test('while sending, the button is disabled and says so', async ({ page }) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/applications', async (route) => {
      if (route.request().method() === 'POST') await held;
      await route.continue();
    });
    await page.goto(server.url + '/ru/help/');
    await hydrated(page);
    await fillHelp(page);
    await afterHumanDelay(page);
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    const busy = page.getByRole('button', { name: ru['form.sending'] });
    await expect(busy).toBeDisabled();
    await expect(page.locator('[aria-live="polite"]').filter({ hasText: ru['form.sending'] })).toHaveCount(1);
    release();
    await expect(page.getByRole('heading', { name: ru['answer.received.title'] })).toBeVisible();
  });

  test('keyboard only: tab order follows the questions, the summary takes focus, its links reach the fields', async ({ page }) => {
    await page.goto(server.url + '/en/help/');
    await hydrated(page);
    // The last link before the form: "In danger right now? Call 112."
    await page.locator('main .callout a').focus();
    const order: string[] = [];
    for (let i = 0; i < 40 && order.at(-1) !== 'BUTTON'; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || ''));
    }
    expect(order).toEqual([
      'f-for-self', 'f-danger_now-yes',
      'f-situation-labour', 'f-situation-sexual', 'f-situation-begging', 'f-situation-child', 'f-situation-domestic',
      'f-situation-documents_taken', 'f-situation-other', 'f-people_count',
      'f-country', 'f-place', 'f-message', 'f-name', 'f-contact_safe-yes', 'A', 'f-consent', 'BUTTON',
    ]);
    // Answer "yes" by keyboard: the contact fields join the tab order right after the question.
    await page.locator('#f-contact_safe-yes').focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await expect(page.locator('#f-contact_channels-call')).toBeFocused();
    await page.getByRole('button', { name: en['form.submit'] }).focus();
    await page.keyboard.press('Enter');
    await expect(page.locator('.error-summary')).toBeFocused();
    await page.keyboard.press('Tab');
    await expect(page.locator('.error-summary a').first()).toBeFocused();
    await expect(page.locator('.error-summary a').first()).toHaveText(`${en['help.form.for.legend']}: ${en['errors.field.invalid_choice']}`);
    await page.keyboard.press('Enter');
    await expect(page.locator('#f-for-self')).toBeFocused();
    await page.keyboard.press('Space');
    await expect(page.locator('#f-for-self')).toBeChecked();
  });
});

test.describe('JavaScript off', () => {
  test.use({ javaScriptEnabled: false });

  test('help: a plain post gets the answer page with the reference; nothing is stored', async ({ browser, page, context }) => {
    await page.goto(server.url + '/ru/help/');
    await expect(page.getByText(ru['form.contact.onlyIfSafe'])).toBeVisible();
    await expect(page.locator('#f-contact_value')).toBeVisible();
    await expect(page.locator('#f-message')).toHaveAttribute('maxlength', '5000');
    await expect(page.locator('#f-message')).toHaveAttribute('required', '');
    await expect(page.locator('#f-website')).toHaveAttribute('tabindex', '-1');
    await fillHelp(page, { safe: 'no' });
    const [response] = await Promise.all([page.waitForResponse('**/api/applications'), page.getByRole('button', { name: ru['form.submit'] }).click()]);
    expect(response.status()).toBe(201);
    await expect(page.locator('h1')).toHaveText(ru['answer.received.title']);
    await expect(page).toHaveTitle(ru['site.titleNeutral']);
    const plain = await decryptKept(await shownReference(page));
    expect(plain).toContain(HELP_MESSAGE);
    await expectNoAxeViolationsWithoutJs(browser, page, 'answer, received');
    await expectNothingStored(page, context);
  });

  test('help: "yes" without contact details is refused by the server, at the field, with the rest kept', async ({ browser, page }) => {
    await page.goto(server.url + '/ru/help/');
    await fillHelp(page, { safe: 'yes' });
    await page.locator('#f-people_count').fill('двое');
    const [response] = await Promise.all([page.waitForResponse('**/api/applications'), page.getByRole('button', { name: ru['form.submit'] }).click()]);
    expect(response.status()).toBe(400);
    await expect(page.locator('h1')).toHaveText(ru['answer.error.title']);
    await expect(page).toHaveTitle(ru['site.titleNeutral']);
    await expect(page.locator('.error-summary')).toBeVisible();
    await expect(fieldError(page, 'contact_channels')).toContainText(ru['errors.field.contact_channel_required']);
    await expect(fieldError(page, 'contact_value')).toContainText(ru['errors.field.contact_required']);
    await expect(fieldError(page, 'people_count')).toContainText(ru['errors.field.invalid_number']);
    await expect(page.locator('#f-message')).toHaveValue(HELP_MESSAGE);
    await expect(page.locator('#f-place')).toHaveValue(HELP_PLACE);
    await expect(page.locator('#f-for-self')).toBeChecked();
    await expect(page.locator('#f-situation-documents_taken')).toBeChecked();
    await expect(page.locator('#f-contact_safe-yes')).toBeChecked();
    await expect(page.locator('#f-consent')).toBeChecked();
    await expect(page.getByRole('link', { name: ru['answer.back'] })).toHaveAttribute('href', '/ru/help/');
    await expectNoAxeViolationsWithoutJs(browser, page, 'answer, help errors');
    // Fix it on the answer page and send again: the same form posts again.
    await page.locator('#f-contact_channels-sms').check();
    await page.locator('#f-contact_value').fill('+7 900 123 45 67');
    await page.locator('#f-people_count').fill('2');
    await page.getByRole('button', { name: ru['form.submit'] }).click();
    await expect(page.locator('h1')).toHaveText(ru['answer.received.title']);
  });

  test('missing: server errors come back in English for the English form, photos must be chosen again', async ({ browser, page }) => {
    await page.goto(server.url + '/en/missing/');
    await fillMissing(page);
    await page.locator('#f-last_seen_date').fill('2999-01-01');
    await page.locator('#f-photos').setInputFiles([photo('notes.jpg', new TextEncoder().encode('not an image'))]);
    const [response] = await Promise.all([page.waitForResponse('**/api/applications'), page.getByRole('button', { name: en['form.submit'] }).click()]);
    expect(response.status()).toBe(400);
    await expect(fieldError(page, 'last_seen_date')).toContainText(en['errors.field.date_in_future']);
    await expect(fieldError(page, 'photos')).toContainText(en['errors.field.photo_type']);
    await expect(page.getByText(en['answer.error.photos'])).toBeVisible();
    await expect(page.locator('#f-person_name')).toHaveValue('Иванов Иван Иванович');
    await expect(page.locator('#f-consent_show_rescued-yes')).toBeChecked();
    await expect(page.locator('#f-contact_channels-telegram')).toBeChecked();
    await expectNoAxeViolationsWithoutJs(browser, page, 'answer, missing errors');
    await page.locator('#f-last_seen_date').fill('2024-03-15');
    await page.locator('#f-photos').setInputFiles([photo('1.jpg', jpeg())]);
    await page.getByRole('button', { name: en['form.submit'] }).click();
    await expect(page.locator('h1')).toHaveText(en['answer.received.title']);
    const plain = await decryptKept(await shownReference(page));
    expect(plain).toContain('attachments: 1');
  });

  test('the consent radios have no default, and the browser asks for them before posting', async ({ page }) => {
    await page.goto(server.url + '/ru/missing/');
    for (const name of ['consent_publish', 'consent_show_rescued']) {
      for (const value of ['yes', 'no']) await expect(page.locator(`#f-${name}-${value}`)).not.toBeChecked();
      await expect(page.locator(`#f-${name}-yes`)).toHaveAttribute('required', '');
    }
  });
});

test.describe('JavaScript off, refused for too many requests', () => {
  test.use({ javaScriptEnabled: false });

  test('the answer page explains, offers the hotline and the way back, and puts nothing back itself', async ({ browser, page }) => {
    const limited = await startServer({ RATE_LIMIT_ADDRESS: '1/10m' });
    try {
      for (const expected of [201, 429]) {
        await page.goto(limited.url + '/ru/help/');
        await fillHelp(page);
        const [response] = await Promise.all([page.waitForResponse('**/api/applications'), page.getByRole('button', { name: ru['form.submit'] }).click()]);
        expect(response.status()).toBe(expected);
      }
      await expect(page.locator('h1')).toHaveText(ru['answer.error.title']);
      await expect(page.locator('main a[href="tel:+78005507140"]')).toBeVisible();
      await expect(page.locator('main').getByText(/\d+ мин\./)).toBeVisible();
      // A refused post's fields are never echoed (a flood must not be answered in kind): the
      // browser's Back button has them, and the form is a link away.
      await expect(page.getByText(ru['answer.error.goBack'])).toBeVisible();
      await expect(page.locator('#f-message')).toHaveCount(0);
      expect(await page.content()).not.toContain(HELP_MESSAGE);
      await expect(page.locator('main a[href="/ru/help/"]')).toBeVisible();
      await expectNoAxeViolationsWithoutJs(browser, page, 'answer, rate limited');
    } finally {
      await limited.stop();
    }
  });
});

test('the answer page opened directly sends the reader to the help form', async ({ request }) => {
  for (const locale of ['ru', 'en']) {
    const response = await request.get(`${server.url}/${locale}/answer/`, { maxRedirects: 0 });
    expect(response.status()).toBe(302);
    expect(response.headers()['location']).toBe(`/${locale}/help/`);
  }
});
