import type { IncomingMessage, ServerResponse } from 'node:http';
import { ANSWER_PAGE, ENDPOINT } from '../../contract/endpoint.ts';
import { kinds } from '../../contract/kinds.ts';

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

/**
 * Returns a function that sets the security headers on a response before the site handles it.
 * The cache rules are decided on `target`, the canonical request target (src/intake/server/http/path.ts),
 * never on the raw one: `/ru//help/` and `/ru/%68elp/` are the help form too.
 */
export function securityHeaders(publicUrl: string) {
  const https = publicUrl.startsWith('https:');
  const csp = https ? `${contentSecurityPolicy}; upgrade-insecure-requests` : contentSecurityPolicy;
  return (req: IncomingMessage, res: ServerResponse, target: string): void => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Permissions-Policy', permissionsPolicy);
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (https) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    const path = target.split('?')[0] ?? '/';
    if (noStore.test(path) || req.method !== 'GET') res.setHeader('Cache-Control', 'no-store');
  };
}
