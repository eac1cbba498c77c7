// The person on a small phone: the reference code they may copy by hand never breaks inside a
// group, at any width down to 320 px (it may wrap at the hyphen, and only there).
import { expect, test } from '@playwright/test';
import { helpFields, post, urlencoded } from '../support/intake.ts';
import { startServer, type RunningServer } from '../support/server.ts';

let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer();
});
test.afterAll(async () => {
  await server?.stop();
});

test.use({ javaScriptEnabled: false });

for (const width of [320, 360, 390]) {
  test(`at ${width} px the reference code breaks only at its hyphen`, async ({ page }) => {
    await page.setViewportSize({ width, height: 640 });
    // The answer page of a form posted without JavaScript, as the browser gets it.
    const response = await post(server.url, urlencoded(helpFields()), { accept: 'text/html' });
    expect(response.status).toBe(201);
    // Shown as the browser shows it: from our origin, so its styles load (they are same-origin only).
    const html = await response.text();
    await page.route(`${server.url}/answer-as-posted`, (route) => route.fulfill({ contentType: 'text/html; charset=utf-8', body: html }));
    await page.goto(`${server.url}/answer-as-posted`);
    await expect(page.locator('.reference')).toHaveCSS('font-size', '32px');
    const groups = page.locator('.reference .reference__group');
    await expect(groups).toHaveCount(2);
    for (const group of await groups.all()) {
      // An inline box that wraps has one client rect per line.
      expect(await group.evaluate((el) => el.getClientRects().length)).toBe(1);
    }
  });
}
