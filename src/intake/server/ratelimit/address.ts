/**
 * What a client is limited as. No address is stored or logged: only an HMAC of its group.
 */
import { createHmac } from 'node:crypto';
import ipaddr from 'ipaddr.js';

// No address with its zone is longer; nothing longer is parsed at all.
const MAX_ADDRESS_CHARS = 100;

/**
 * The group an address is limited as: an IPv4 address itself (also when IPv4-mapped, as
 * `::ffff:1.2.3.4`), the /64 of an IPv6 address (one household or phone gets a whole /64), and
 * anything unparseable as it is (all such clients then share one bucket). ipaddr.js (the parser
 * behind Express's proxy-addr) reads every IPv6 spelling: zones, brackets aside, dotted tails.
 */
export function addressGroup(address: string): string {
  const text = address.trim().toLowerCase();
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (bare.length > MAX_ADDRESS_CHARS || !ipaddr.IPv6.isValid(bare)) return bare;
  const ip = ipaddr.IPv6.parse(bare);
  if (ip.isIPv4MappedAddress()) return ip.toIPv4Address().toString();
  return `${ip.parts.slice(0, 4).map((n) => n.toString(16)).join(':')}::/64`;
}

/** The identifier a client is limited by: HMAC-SHA256 (hex) of its address group; no address is stored. */
export function addressKey(secret: string, address: string): string {
  return createHmac('sha256', secret).update(addressGroup(address)).digest('hex');
}
