// What Chromium really transfers for a page: its own network log (DevTools protocol), cache off,
// with JavaScript on or off. Bodies are counted as they came over the wire (compressed), and
// again with the response headers; nothing here estimates.
import { chromium } from '@playwright/test';
import { chromiumLaunchOptions } from './chromium.mjs';

/**
 * @typedef {object} Transfer
 * @property {number} htmlCssBodies bytes of the page's HTML and CSS bodies on the wire
 * @property {number} allWithHeaders bytes of everything the page loaded, headers included
 * @property {number} allBodies bytes of every body on the wire
 * @property {number} requests
 * @property {string[]} encodings Content-Encoding of each text response (empty: none)
 */

/** @returns {Promise<import('@playwright/test').Browser>} */
export function launchChromium() {
  return chromium.launch(chromiumLaunchOptions);
}

/**
 * Loads `url` in a fresh context and returns what it transferred until the network was idle
 * (a form page's island fetches the staff keys once hydrated: that counts too).
 * @param {import('@playwright/test').Browser} browser
 * @param {string} url
 * @param {{ javaScript: boolean }} options
 * @returns {Promise<Transfer>}
 */
export async function measureTransfer(browser, url, { javaScript }) {
  const context = await browser.newContext({ javaScriptEnabled: javaScript, viewport: { width: 360, height: 640 } });
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    /** @type {Map<string, { type: string, headers: number, body: number, total: number, encoding: string }>} */
    const requests = new Map();
    // `response.encodedDataLength` is what had arrived when the headers were read (the headers);
    // `loadingFinished` gives the whole response as received: the body is the difference.
    cdp.on('Network.responseReceived', ({ requestId, type, response }) => {
      const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
      const text = /^(?:text\/|application\/(?:javascript|json))/.test(headers['content-type'] ?? '');
      requests.set(requestId, { type, headers: response.encodedDataLength, body: 0, total: 0, encoding: text ? headers['content-encoding'] ?? '' : 'binary' });
    });
    cdp.on('Network.loadingFinished', ({ requestId, encodedDataLength }) => {
      const entry = requests.get(requestId);
      if (!entry) return;
      entry.total = encodedDataLength;
      entry.body = Math.max(0, encodedDataLength - entry.headers);
    });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForLoadState('networkidle').catch(() => undefined);
    const all = [...requests.values()];
    const sum = (list, key) => list.reduce((n, r) => n + r[key], 0);
    return {
      htmlCssBodies: sum(all.filter((r) => r.type === 'Document' || r.type === 'Stylesheet'), 'body'),
      allWithHeaders: sum(all, 'total'),
      allBodies: sum(all, 'body'),
      requests: all.length,
      encodings: all.filter((r) => r.encoding !== 'binary').map((r) => r.encoding),
    };
  } finally {
    await context.close();
  }
}
