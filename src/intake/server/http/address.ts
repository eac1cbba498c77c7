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
