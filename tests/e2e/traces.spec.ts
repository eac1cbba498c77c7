// No traces: marked values sent through both forms, with JavaScript on and off, appear in no
// log line and in no file the server wrote under its var/ folder (the outbox holds only
// ciphertext; the dev keys are keys).
import { expect, test, type Page } from '@playwright/test';
import { startServer, type RunningServer } from '../support/server.ts';
import { filesUnder } from '../support/intake.ts';
import { afterHumanDelay, hydrated, shownReference } from '../support/forms.ts';

test.describe.configure({ mode: 'serial' });

let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer({ RATE_LIMIT_ADDRESS: '100/10m' });
});
test.afterAll(async () => {
  await server?.stop();
});

const sent: string[] = [];
const mark = (name: string) => {
  const value = `TRACE${name}${Math.random().toString(36).slice(2, 8)}`;
  sent.push(value);
  return value;
};

async function fillHelp(page: Page) {
  await page.locator('#f-for-self').check();
  await page.locator('#f-situation-labour').check();
  await page.locator('#f-place').fill(`Склад ${mark('place')}`);
  await page.locator('#f-message').fill(`Помогите ${mark('message')}`);
  await page.locator('#f-contact_safe-no').check();
  await page.locator('#f-consent').check();
}

async function fillMissing(page: Page) {
  await page.locator('#f-person_name').fill(`Иван ${mark('person')}`);
  await page.locator('#f-last_seen_place').fill(`Город ${mark('seen')}`);
  await page.locator('#f-circumstances').fill(`Уехал ${mark('circ')}`);
  await page.locator('#f-applicant_name').fill(`Мария ${mark('applicant')}`);
  await page.locator('#f-consent_publish-no').check();
  await page.locator('#f-consent_show_rescued-yes').check();
  await page.locator('#f-contact_safe-yes').check();
  await page.locator('#f-contact_channels-sms').check();
  await page.locator('#f-contact_value').fill(`+7999${mark('phone').slice(-6)}`);
  await page.locator('#f-consent').check();
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(`JavaScript ${javaScriptEnabled ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled });
    for (const [kind, fill] of [['help', fillHelp], ['missing', fillMissing]] as const) {
      test(`${kind}: sent, and confirmed with a reference code`, async ({ page }) => {
        await page.goto(`${server.url}/ru/${kind}/`);
        if (javaScriptEnabled) await hydrated(page);
        await fill(page);
        if (javaScriptEnabled) await afterHumanDelay(page);
        await page.locator('form button[type=submit]').click();
        await shownReference(page);
      });
    }
  });
}

test('no submitted value in any log line or any file under var/', async () => {
  expect(sent.length).toBe(14);
  await expect.poll(() => filesUnder(`${server.varDir}/outbox`).length).toBeGreaterThanOrEqual(4);
  const files = filesUnder(server.varDir);
  for (const value of sent) {
    expect(server.logs.filter((l) => l.includes(value)), `log lines with ${value}`).toEqual([]);
    expect(files.filter((f) => f.text.includes(value)).map((f) => f.path), `files with ${value}`).toEqual([]);
  }
});
