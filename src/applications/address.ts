/**
 * The client's address for rate limiting. Behind `trustProxy` proxies, each appends the address
 * it saw to X-Forwarded-For, so the client is the entry `trustProxy` places from the right;
 * anything further left was written by the client and can be forged.
 */
export function clientAddress(forwardedFor: string | null, socketAddress: string, trustProxy: number): string {
  if (trustProxy <= 0 || !forwardedFor) return socketAddress;
  const hops = forwardedFor.split(',').map((h) => h.trim()).filter(Boolean);
  return hops[hops.length - trustProxy] ?? hops[0] ?? socketAddress;
}

/**
 * Is this POST from our own pages? Browsers send Origin on every POST; a missing or foreign
 * one is a cross-site form or a script elsewhere, refused before the body is read. Under a
 * "no-referrer" policy a browser sends `Origin: null` even for its own site; it then also says
 * `Sec-Fetch-Site: same-origin`, a header no page can set.
 */
export function isSameOrigin(origin: string | null, fetchSite: string | null, requestUrl: URL, publicUrl: string): boolean {
  if (origin === 'null') return fetchSite === 'same-origin';
  if (!origin) return false;
  return origin === requestUrl.origin || origin === new URL(publicUrl).origin;
}
