// `npm run bench:network`: what a person on a slow phone network waits for. Chromium (Debian's,
// as in the tests) under network emulation at about 2G — 400 kbit/s each way, 400 ms round
// trip — opens pages from a cold cache and prints, per page: the first paint, the form usable
// without JavaScript (all its fields and the send button parsed into the DOM), and the island
// hydrated (the form switches to its own checks: `novalidate`). Also what went over the wire.
// Targets: form usable ≤ 2 s, hydrated ≤ 5 s. Exits 1 when a target is missed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from './lib/wire.mjs';
import { ROOT, startServer } from './lib/server.mjs';

const PAGES = ['/ru/', '/ru/help/', '/ar/missing/'];
const CONDITIONS = { offline: false, latency: 400, downloadThroughput: (400 * 1000) / 8, uploadThroughput: (400 * 1000) / 8 };
const TARGETS = { usableMs: 2000, hydratedMs: 5000 };
const RUNS = 3;

if (!existsSync(join(ROOT, 'dist/server/entry.mjs'))) {
  console.error('bench:network: dist/ is missing — run `npm run build` first.');
  process.exit(1);
}

// Recorded in the page from its very first script run: when the send button is in the DOM
// (the form is complete: the button is its last control) and when the island marks the form.
const observe = () => {
  const marks = { usable: null, hydrated: null };
  Object.defineProperty(window, '__marks', { value: marks });
  const check = () => {
    const form = document.querySelector('form[method="post"]');
    if (marks.usable === null && form?.querySelector('button[type="submit"]')) marks.usable = performance.now();
    if (marks.hydrated === null && form?.hasAttribute('novalidate')) marks.hydrated = performance.now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['novalidate'] });
};

const server = await startServer({ RATE_LIMIT_REFUSED: '100000/10m' });
const browser = await launchChromium();
const rows = [];
let missed = false;
try {
  for (const path of PAGES) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext({ viewport: { width: 360, height: 640 }, locale: 'ru-RU' });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      await cdp.send('Network.emulateNetworkConditions', CONDITIONS);
      let wire = 0;
      let requests = 0;
      cdp.on('Network.loadingFinished', (event) => {
        wire += event.encodedDataLength;
        requests += 1;
      });
      await page.addInitScript(observe);
      await page.goto(server.url + path, { waitUntil: 'load', timeout: 60_000 });
      const form = path !== '/ru/';
      if (form) await page.waitForFunction(() => window.__marks.hydrated !== null, undefined, { timeout: 30_000 }).catch(() => undefined);
      // The keys request after hydration counts as what the page loads.
      await page.waitForLoadState('networkidle', { timeout: 30_000 }).catch(() => undefined);
      const timing = await page.evaluate(() => ({
        paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
        usable: window.__marks.usable,
        hydrated: window.__marks.hydrated,
      }));
      runs.push({ ...timing, wire, requests });
      await context.close();
    }
    const median = (key) => {
      const values = runs.map((r) => r[key]).filter((v) => v !== null).sort((a, b) => a - b);
      return values.length === runs.length ? values[Math.floor(values.length / 2)] : null;
    };
    const row = { path, paint: median('paint'), usable: median('usable'), hydrated: median('hydrated'), wire: median('wire'), requests: median('requests') };
    const isForm = path !== '/ru/';
    row.ok = !isForm || (row.usable !== null && row.usable <= TARGETS.usableMs && row.hydrated !== null && row.hydrated <= TARGETS.hydratedMs);
    missed ||= !row.ok;
    rows.push(row);
  }
} finally {
  await browser.close();
  await server.stop();
}

const ms = (v) => (v === null ? '—' : `${(v / 1000).toFixed(2)} s`).padStart(8);
console.log(`2G emulation: ${CONDITIONS.downloadThroughput * 8 / 1000} kbit/s, ${CONDITIONS.latency} ms round trip, cold cache, 360×640; median of ${RUNS}`);
console.log('page'.padEnd(16), 'first paint', '  usable', 'hydrated', '   wire', 'reqs', 'result');
for (const r of rows) {
  console.log(r.path.padEnd(16), ms(r.paint).padStart(11), ms(r.usable), ms(r.hydrated), `${(r.wire / 1024).toFixed(1)} KB`.padStart(9), String(r.requests).padStart(4), r.ok ? ' ok' : ' MISSED');
}
console.log(`Targets: form usable without JavaScript ≤ ${TARGETS.usableMs / 1000} s, hydrated ≤ ${TARGETS.hydratedMs / 1000} s.`);
process.exit(missed ? 1 : 0);
