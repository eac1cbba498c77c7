// Issue 11, point 8: a photo that hides data after the real end of its image is refused by the
// built server itself, posted as a browser without JavaScript would (plain multipart), and
// nothing of it is kept.
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../support/server.ts';
import { jpeg, polyglots } from '../support/images.ts';
import { filesUnder, missingFields, multipart, post } from '../support/intake.ts';

test.describe.configure({ mode: 'serial' });

let server: RunningServer;
test.beforeAll(async () => {
  // No mail provider: the outbox is the delivery, so an accepted photo would show up there.
  server = await startServer({ RATE_LIMIT_ADDRESS: '100/10m' });
});
test.afterAll(async () => {
  await server?.stop();
});

const outbox = () => filesUnder(join(server.varDir, 'outbox'));

for (const [name, polyglot] of Object.entries(polyglots())) {
  test(`the ${name} polyglot is refused as a photo with extra data, and nothing is kept`, async () => {
    const response = await post(server.url, multipart(missingFields(), [polyglot]));
    const body = (await response.json()) as { ok: boolean; error: string; fields?: Record<string, string> };
    expect(response.status).toBe(400);
    expect(body).toMatchObject({ ok: false, error: 'validation' });
    // The form is in Russian: "extra data was attached after the picture".
    expect(body.fields?.['photos']).toMatch(/лишние данные/);
    expect(outbox()).toEqual([]);
  });
}

test('the same form with a clean photo is kept: the outbox check above can see a delivery', async () => {
  const response = await post(server.url, multipart(missingFields(), [{ bytes: jpeg(), name: 'photo.jpg', type: 'image/jpeg' }]));
  expect(response.status).toBe(201);
  await expect.poll(() => outbox().filter((f) => f.path.endsWith('.json')).length).toBe(1);
});
