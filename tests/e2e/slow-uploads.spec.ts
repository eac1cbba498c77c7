// Slow uploads starve no one (issue 11): uploads that trickle in hold the budget for uploads
// only until the floor window cuts them with a 408, a help request goes past them at once, and
// one address holds only two uploads. No browser: raw sockets and fetch against the built server.
import { expect, test } from '@playwright/test';
import { connect, type Socket } from 'node:net';
import { contacts } from '../../src/site/contacts.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { helpFields, post, urlencoded } from '../support/intake.ts';

test.describe.configure({ mode: 'serial' });

// The production window is 15 s and its grace 5 s; here 2 s each, so that a run takes seconds.
const WINDOW_S = 2;
const GRACE_S = 2;

let server: RunningServer;
test.beforeAll(async () => {
  server = await startServer({ UPLOAD_FLOOR_WINDOW_SECONDS: String(WINDOW_S), UPLOAD_FLOOR_GRACE_SECONDS: String(GRACE_S), TRUST_PROXY: '1', RATE_LIMIT_ADDRESS: '100000/10m', LOG_COUNT_SECONDS: '1' });
});
test.afterAll(async () => {
  await server?.stop();
});

interface Upload {
  socket: Socket;
  /** Status of the first answer, once the server has closed the connection (0: none). */
  done: Promise<{ status: number; text: string; closedAt: number }>;
  /** Resolves once the request head is handed to the kernel. */
  sent: Promise<void>;
}

/** A 16 MB multipart upload that sends a byte every two seconds, as the attack in the issue did. */
function trickle(forwardedFor?: string): Upload {
  const socket = connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  const head = [
    'POST /api/applications HTTP/1.1',
    `Host: 127.0.0.1:${server.port}`,
    `Origin: ${server.url}`,
    'Accept: application/json',
    'Content-Type: multipart/form-data; boundary=slowslowslow',
    `Content-Length: ${16 * 1024 * 1024}`,
    ...(forwardedFor ? [`X-Forwarded-For: ${forwardedFor}`] : []),
  ].join('\r\n');
  const sent = new Promise<void>((resolve) => socket.write(`${head}\r\n\r\n-`, () => resolve()));
  const drip = setInterval(() => socket.write('-'), 2000);
  const received: Buffer[] = [];
  socket.on('data', (chunk) => received.push(chunk));
  // Bounded whatever the server does: no upload outlives the test.
  socket.setTimeout(30_000, () => socket.destroy());
  const done = new Promise<{ status: number; text: string; closedAt: number }>((resolve) =>
    socket.on('close', () => {
      clearInterval(drip);
      const text = Buffer.concat(received).toString('utf8');
      resolve({ status: Number(text.split(' ')[1] ?? 0), text, closedAt: Date.now() });
    }),
  );
  return { socket, done, sent };
}

test('a help request is answered at once while six uploads trickle in, and the six are cut with 408', async () => {
  test.setTimeout(35_000);
  const opened = Date.now();
  const uploads = Array.from({ length: 6 }, (_, i) => trickle(`203.0.113.${i + 1}`));
  await Promise.all(uploads.map((u) => u.sent));
  let closed = 0;
  for (const u of uploads) void u.done.then(() => closed++);

  const response = await post(server.url, urlencoded(helpFields()));
  expect(response.status).toBe(201);
  expect(await response.json()).toMatchObject({ ok: true });
  // Answered while all six still hold their connections (four run, two wait for the budget).
  expect(closed).toBe(0);

  const results = await Promise.all(uploads.map((u) => u.done));
  for (const r of results) {
    expect(r.status).toBe(408);
    expect(r.text).toMatch(/cache-control: no-store/i);
    expect(r.text).toMatch(/connection: close/i);
    expect(r.text).toContain('"error":"timeout"');
    expect(r.text).toContain(contacts.hotline.display);
  }
  // The four that ran are cut after one grace and window; the two that waited start then and
  // are cut after their own. A few seconds are the server's.
  const took = results.map((r) => (r.closedAt - opened) / 1000).sort((a, b) => a - b);
  expect(took[3]!).toBeLessThan(GRACE_S + WINDOW_S + 3);
  expect(took[5]!).toBeLessThan(2 * (GRACE_S + WINDOW_S) + 3);

  // Six cuts, counted in a line per second here (10 s by default), not written one by one; nothing crashed or leaked.
  const cuts = () => server.logs.filter((l) => l.includes('"event":"upload.cut"')).reduce((n, l) => n + Number(JSON.parse(l).count), 0);
  await expect.poll(cuts, { timeout: 15_000 }).toBe(6);
  expect(server.logs.filter((l) => l.includes('"event":"upload.cut"')).length, 'lines for six cuts').toBeLessThan(6);
  expect(server.logs.filter((l) => /unhandled|could not render|"level":"error"/i.test(l))).toEqual([]);
  expect(server.process.exitCode).toBeNull();
});

test('from one address a third upload at once is refused with 429, before its body is read', async () => {
  // No X-Forwarded-For: all three come from the socket's own address.
  const holding = [trickle(), trickle()];
  await Promise.all(holding.map((u) => u.sent));
  const third = trickle();
  const answer = await third.done;
  expect(answer.status).toBe(429);
  expect(answer.text).toMatch(/retry-after: \d+/i);
  expect(answer.text).toContain('"error":"rate_limited"');
  expect(answer.text).toContain(contacts.hotline.display);
  for (const u of holding) u.socket.destroy();
  await Promise.all(holding.map((u) => u.done));
});
