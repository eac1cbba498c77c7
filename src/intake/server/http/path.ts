/**
 * The one spelling of a request target that the server answers for. `//ru/help/`, `/ru/%68elp/`
 * and `/./ru/help/` all reach the same page (the static files and Astro's router decode and
 * collapse them), so every decision taken on the path (cache headers, redirects) must be taken
 * on this form, never on the raw one. Linear in the target's length; no regex.
 */

const HEX = '0123456789ABCDEF';

/** A–Z, a–z, 0–9, `-`, `.`, `_`, `~` (RFC 3986 §2.3): their escaped and plain forms are equivalent. */
function isUnreserved(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39)
    || code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * Decodes escapes of unreserved characters and of `/` (the static file server decodes `%2F`
 * into a path separator, so it is one here too), writes other escapes in upper case, reads `\`
 * as `/` (browsers do, so a Location of `/\host` would leave the site), and returns null for a
 * malformed escape.
 */
function normalizeEscapes(path: string): string | null {
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code === 0x5c) {
      out += '/';
      continue;
    }
    if (code !== 0x25) {
      out += path[i];
      continue;
    }
    const high = hexValue(path.charCodeAt(i + 1));
    const low = hexValue(path.charCodeAt(i + 2));
    if (high < 0 || low < 0) return null;
    const value = high * 16 + low;
    out += isUnreserved(value) || value === 0x2f ? String.fromCharCode(value) : `%${HEX[high]}${HEX[low]}`;
    i += 2;
  }
  return out;
}

/** RFC 3986 §5.2.4 with empty segments dropped too: no `//`, `/./` or `/../` is left. */
function removeDotSegments(path: string): string {
  const input = path.split('/');
  const output: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < input.length; i++) {
    const segment = input[i]!;
    const directory = segment === '' || segment === '.' || segment === '..';
    if (segment === '..') output.pop();
    else if (!directory) output.push(segment);
    trailingSlash = directory;
  }
  return output.length === 0 ? '/' : `/${output.join('/')}${trailingSlash ? '/' : ''}`;
}

/** Printable ASCII only: what Node's parser lets into `req.url`, and what a Location header may hold. */
function printable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

/**
 * The canonical form of an origin-form request target (`/path?query`): unreserved characters
 * and `/` unescaped, other escapes in upper case, `\` read as `/`, repeated slashes collapsed,
 * `.` and `..` segments (escaped or not) resolved, the fragment dropped, the query kept as sent.
 * It never starts with `//`, so it is safe as a relative Location. Null when the target is not
 * a path (`*`, absolute form) or is malformed: a character outside printable ASCII, a bad
 * escape, or escaped bytes that are not UTF-8.
 */
export function canonicalTarget(target: string): string | null {
  if (!printable(target)) return null;
  const hash = target.indexOf('#');
  const beforeFragment = hash === -1 ? target : target.slice(0, hash);
  const question = beforeFragment.indexOf('?');
  const path = question === -1 ? beforeFragment : beforeFragment.slice(0, question);
  const query = question === -1 ? '' : beforeFragment.slice(question);
  if (!path.startsWith('/')) return null;
  const normalized = normalizeEscapes(path);
  if (normalized === null) return null;
  try {
    // Astro and the static files decode the path as UTF-8: a path that can not be decoded is malformed.
    decodeURI(normalized);
  } catch {
    return null;
  }
  return removeDotSegments(normalized) + query;
}
