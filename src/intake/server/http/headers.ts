import type { IncomingMessage, ServerResponse } from 'node:http';
import { ANSWER_PAGE, ENDPOINT } from '../../contract/endpoint.ts';
import { kinds } from '../../contract/kinds.ts';
import { HEALTH_PATH } from './health.ts';

/**
 * The policy for every response. All scripts and styles are files on this origin (the build
 * inlines none), so no 'unsafe-inline' and no hashes are needed; nothing comes from elsewhere.
 */
export const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "font-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

// Every powerful feature off: the site needs none (names Chromium does not know only add console noise).
const permissionsPolicy = [
  'camera', 'microphone', 'geolocation', 'payment', 'usb', 'serial', 'hid', 'midi',
  'accelerometer', 'gyroscope', 'magnetometer', 'display-capture',
  'browsing-topics', 'idle-detection', 'publickey-credentials-get', 'screen-wake-lock',
  'xr-spatial-tracking', 'autoplay', 'encrypted-media', 'picture-in-picture',
].map((feature) => `${feature}=()`).join(', ');

/**
 * Paths whose answers must never be kept by the browser or a proxy: the forms (one per kind, in
 * each language: `/ru/help/`), the answer page and the endpoint (its GET, too, carries a
 * reference issued for one application). The endpoint's path holds no regex syntax.
 */
export const noStore = new RegExp(`^(?:${ENDPOINT}|/[a-z]{2}/(?:${[...kinds, ANSWER_PAGE].join('|')}))(?:/|$)`);

/** Not pages: the endpoint, the health check, and the built scripts and styles. */
const NOT_PAGES = [ENDPOINT, HEALTH_PATH, '/_astro'];
/** No page's path is this long: a longer one gets no header, so the answer does not grow with it. */
const MAX_PAGE_PATH = 1024;

/** Printable characters a URI may not hold (RFC 3986: `"`, `<`, `>`, `\\`, `^`, `` ` ``, `{`, `|`, `}`), as escapes. */
function asUriPath(path: string): string {
  return path.replace(/["<>\\^`{|}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * A page that Tor Browser may offer to open on the onion service: a GET or HEAD of a path whose
 * last segment names a folder (`/ru/help/`), an HTML file, or nothing with a suffix (`/ru/help`);
 * not a script, style, image or feed, and not the endpoint (its answer page follows a POST).
 */
function isPage(method: string | undefined, path: string): boolean {
  if ((method !== 'GET' && method !== 'HEAD') || path.length > MAX_PAGE_PATH) return false;
  if (NOT_PAGES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return false;
  const last = path.slice(path.lastIndexOf('/') + 1);
  return last === '' || last.endsWith('.html') || !last.includes('.');
}

/**
 * Returns a function that sets the security headers on a response before the site handles it.
 * The cache rules are decided on `target`, the canonical request target (src/intake/server/http/path.ts),
 * never on the raw one: `/ru//help/` and `/ru/%68elp/` are the help form too.
 *
 * With `onionUrl` (ONION_URL), every page carries `Onion-Location: <onionUrl><path>`, so Tor
 * Browser offers the same page on the onion service. The canonical path is printable ASCII
 * without spaces, so the header can not be split or stretched past its page's path; what a URI
 * may not hold in it is escaped. A request that came through the onion service (its `Host` is
 * the onion's) gets neither that header nor HSTS and `upgrade-insecure-requests`: the onion is
 * plain http, its pages' own files too.
 */
export function securityHeaders(publicUrl: string, onionUrl?: string) {
  const https = publicUrl.startsWith('https:');
  const csp = https ? `${contentSecurityPolicy}; upgrade-insecure-requests` : contentSecurityPolicy;
  const onionHost = onionUrl === undefined ? undefined : new URL(onionUrl).host;
  return (req: IncomingMessage, res: ServerResponse, target: string): void => {
    const viaOnion = onionHost !== undefined && req.headers.host?.toLowerCase() === onionHost;
    res.setHeader('Content-Security-Policy', viaOnion ? contentSecurityPolicy : csp);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Permissions-Policy', permissionsPolicy);
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (https && !viaOnion) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    const path = target.split('?')[0] ?? '/';
    if (noStore.test(path) || req.method !== 'GET') res.setHeader('Cache-Control', 'no-store');
    if (onionUrl !== undefined && !viaOnion && isPage(req.method, path)) res.setHeader('Onion-Location', onionUrl + asUriPath(path));
  };
}
