/**
 * Is this POST from our own pages? Browsers send Origin on every POST; a missing or foreign
 * one is a cross-site form or a script elsewhere, refused before the body is read. The allowed
 * origins come from configuration only: a page reached through DNS rebinding sends its own
 * name as both `Origin` and `Host`, so nothing in the request can vouch for itself. Under a
 * "no-referrer" policy a browser sends `Origin: null` even for its own site; it then also says
 * `Sec-Fetch-Site: same-origin`, a header no page can set, and the `Host` must be ours too.
 */
export function isAllowedOrigin(origin: string | null, fetchSite: string | null, host: string | null, allowed: readonly string[]): boolean {
  if (origin === 'null') {
    const ours = host !== null && allowed.some((o) => new URL(o).host === host.toLowerCase());
    return fetchSite === 'same-origin' && ours;
  }
  return origin !== null && allowed.includes(origin);
}
