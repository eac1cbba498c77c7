// A person who reads only Tajik, Vietnamese or Arabic goes from / to a sent help request without
// meeting a word in another language; the Arabic request reaches the mail sink and GnuPG opens it
// intact, with the staff report naming the language it was written in.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../support/server.ts';
import { startSink, type Sink } from '../../scripts/lib/sink.ts';
import { createGpgHome, type GpgHome } from '../support/gpg.ts';
import { eccKeyPair } from '../support/keys.ts';
import { mailEnv, mailsFor } from '../support/intake.ts';
import { afterHumanDelay, hydrated, shownReference } from '../support/forms.ts';
import { getLocale } from '../../src/i18n/locales.ts';

test.describe.configure({ mode: 'serial' });

let server: RunningServer;
let sink: Sink;
let gpg: GpgHome;
test.beforeAll(async () => {
  sink = await startSink();
  const staff = await eccKeyPair();
  gpg = await createGpgHome();
  await gpg.importKey(staff.privateKey);
  const keysFile = join(process.env.TMPDIR ?? '/tmp', `staff-languages-${Date.now()}.asc`);
  writeFileSync(keysFile, staff.publicKey);
  server = await startServer({ ...mailEnv(sink), STAFF_PGP_KEYS_FILE: keysFile, RATE_LIMIT_ADDRESS: '100/10m' });
});
test.afterAll(async () => {
  await server?.stop();
  await sink?.close();
  await gpg?.cleanup();
});

const ui = (code: string) => JSON.parse(readFileSync(`src/i18n/ui/${code}.json`, 'utf8')) as Record<string, string> & { 'home.help.title': string; 'answer.received.title': string };

/**
 * Interface strings of other languages showing on the page: any longer string of Russian or
 * English that this language's own file does not also contain (names and numbers are shared).
 */
async function foreignStrings(page: Page, code: string): Promise<string[]> {
  const own = new Set(Object.values(ui(code)));
  const text = (await page.locator('body').innerText()).replace(/\s+/g, ' ');
  const others = ['ru', 'en'].filter((c) => c !== code).flatMap((c) => Object.values(ui(c)));
  return [...new Set(others.filter((s) => s.length >= 12 && !s.includes('{{') && !own.has(s) && text.includes(s)))];
}

const messages: Record<string, string> = {
  tg: 'Моро дар завод нигоҳ медоранд, шиносномаҳоро гирифтанд.',
  vi: 'Chúng tôi bị giữ ở xưởng, hộ chiếu bị lấy mất.',
  ar: 'يحتجزوننا في المصنع، وأخذوا جوازات السفر. ساعدونا من فضلكم.',
};

for (const code of ['tg', 'vi', 'ar']) {
  test(`${code}: from / to a sent help request, all in ${getLocale(code).label}`, async ({ browser }) => {
    const context = await browser.newContext({ locale: getLocale(code).lang, extraHTTPHeaders: { 'accept-language': `${code},en;q=0.3` } });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await expect(page).toHaveURL(`${server.url}/${code}/`);
    await expect(page.locator('html')).toHaveAttribute('dir', getLocale(code).dir);
    expect(await foreignStrings(page, code), 'home page').toEqual([]);

    await page.getByRole('link', { name: ui(code)['home.help.title'] }).first().click();
    await expect(page).toHaveURL(`${server.url}/${code}/help/`);
    await hydrated(page);
    expect(await foreignStrings(page, code), 'help page').toEqual([]);
    // The errors a hurried person meets first are in their language too.
    await page.locator('form button[type=submit]').click();
    await expect(page.locator('.error-summary')).toBeFocused();
    expect(await foreignStrings(page, code), 'help page with errors').toEqual([]);

    await page.locator('#f-for-self').check();
    await page.locator('#f-situation-labour').check();
    await page.locator('#f-message').fill(messages[code]!);
    await page.locator('#f-contact_safe-no').check();
    await page.locator('#f-consent').check();
    await afterHumanDelay(page);
    await page.locator('form button[type=submit]').click();
    const reference = await shownReference(page);
    await expect(page.getByRole('heading', { name: ui(code)['answer.received.title'] })).toBeVisible();
    expect(await foreignStrings(page, code), 'confirmation').toEqual([]);

    const [mail] = await mailsFor(sink, reference);
    const report = (await gpg.decrypt((mail!.body as { text: string }).text)).toString('utf8');
    expect(report).toContain(messages[code]);
    expect(report).toContain(`(${code})`);
    expect(report).toMatch(/Зашифрована на устройстве заявителя: да/);
    await context.close();
  });
}

test('ar without JavaScript: the plain form post is answered in Arabic and GnuPG opens it intact', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: 'ar' });
  const page = await context.newPage();
  await page.goto(`${server.url}/ar/help/`);
  await page.locator('#f-for-other').check();
  await page.locator('#f-message').fill(messages['ar']!);
  await page.locator('#f-contact_safe-no').check();
  await page.locator('#f-consent').check();
  await page.locator('form button[type=submit]').click();
  const reference = await shownReference(page);
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  expect(await foreignStrings(page, 'ar')).toEqual([]);
  const [mail] = await mailsFor(sink, reference);
  const report = (await gpg.decrypt((mail!.body as { text: string }).text)).toString('utf8');
  expect(report).toContain(messages['ar']);
  expect(report).toMatch(/арабский \(ar\)/);
  expect(report).toMatch(/Зашифрована на устройстве заявителя: нет/);
  await context.close();
});
