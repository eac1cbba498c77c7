/**
 * A look at built HTML without a browser: its tags and what they make a browser load, so every
 * page can be checked over HTTP in a few seconds (tests/e2e/site.spec.ts). Attribute values in
 * the build are double-quoted; the patterns take single-quoted and bare ones too, as Markdown's
 * raw HTML may have them.
 */

export interface Tag {
  name: string;
  attrs: Map<string, string>;
}

const TAG = /<([a-zA-Z][\w-]*)((?:\s+[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;
const ATTR = /\s+([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
/** Script elements, whose text is code or data (JSON-LD), never markup. */
const SCRIPT = /(<script\b[^>]*>)([^<]*(?:<(?!\/script>)[^<]*)*)<\/script>/gi;

const unescape = (value: string) => value.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

/** Every start tag, in order, with its attributes (names lower-cased, values unescaped). */
export function tagsOf(html: string): Tag[] {
  const markup = html.replace(SCRIPT, '$1</script>');
  return [...markup.matchAll(TAG)].map(([, name = '', attributes = '']) => ({
    name: name.toLowerCase(),
    attrs: new Map([...attributes.matchAll(ATTR)].map(([, key = '', a, b, c]) => [key.toLowerCase(), unescape(a ?? b ?? c ?? '')])),
  }));
}

/** Inline scripts: what the CSP (script-src 'self') blocks. JSON-LD is data, not run. */
export function inlineScripts(html: string): string[] {
  return [...html.matchAll(SCRIPT)]
    .filter(([, open = '', text = '']) => !/\ssrc=/.test(open) && !/type="application\/ld\+json"/.test(open) && text.trim() !== '')
    .map(([, open = '']) => open);
}

// `<link>` relations a browser fetches nothing for by itself.
const NOT_LOADED_LINKS = new Set(['canonical', 'alternate']);

/**
 * The URLs a browser would fetch or send to when it shows the page (scripts, styles, icons,
 * images, frames, media, form targets, a refresh), as written.
 */
export function loadedUrls(tags: Tag[]): string[] {
  const urls: string[] = [];
  for (const { name, attrs } of tags) {
    for (const attr of ['src', 'poster', 'action', 'formaction', 'background']) {
      const value = attrs.get(attr);
      if (value !== undefined) urls.push(value);
    }
    const srcset = attrs.get('srcset');
    if (srcset !== undefined) urls.push(...srcset.split(',').map((c) => c.trim().split(/\s+/)[0] ?? '').filter(Boolean));
    if (name === 'object' && attrs.has('data')) urls.push(attrs.get('data')!);
    if (name === 'link' && attrs.has('href')) {
      const rels = (attrs.get('rel') ?? '').toLowerCase().split(/\s+/).filter(Boolean);
      if (!rels.every((r) => NOT_LOADED_LINKS.has(r))) urls.push(attrs.get('href')!);
    }
    if (name === 'meta' && attrs.get('http-equiv')?.toLowerCase() === 'refresh') {
      urls.push(/url\s*=\s*['"]?([^'"]*)/i.exec(attrs.get('content') ?? '')?.[1] ?? '');
    }
  }
  return urls;
}

/**
 * What the CSP blocks in a page (an inline style or handler, a `javascript:` URL) or what leaves
 * the origin: a console error or a foreign request in a browser, found here in the HTML.
 */
export function pageProblems(html: string, pageUrl: string): string[] {
  const origin = new URL(pageUrl).origin;
  const tags = tagsOf(html);
  const problems: string[] = [];
  for (const open of inlineScripts(html)) problems.push(`inline script ${open}`);
  for (const { name, attrs } of tags) {
    if (name === 'style') problems.push('a <style> element');
    for (const [key, value] of attrs) {
      if (key === 'style') problems.push(`an inline style on <${name}>`);
      if (/^on[a-z]+$/.test(key)) problems.push(`an inline handler ${key} on <${name}>`);
      if (/^\s*javascript:/i.test(value)) problems.push(`a javascript: URL in ${key} on <${name}>`);
    }
  }
  for (const url of loadedUrls(tags)) {
    const resolved = URL.canParse(url, pageUrl) ? new URL(url, pageUrl) : null;
    // data: images never leave the device (and the CSP allows them for images only).
    if (resolved?.protocol === 'data:') continue;
    if (resolved?.origin !== origin) problems.push(`loads ${url}`);
  }
  return problems;
}

/** Same-origin URLs a browser fetches for the page (not form targets), as paths. */
export function sameOriginResources(html: string, pageUrl: string): string[] {
  const origin = new URL(pageUrl).origin;
  const tags = tagsOf(html).map(({ name, attrs }) => {
    const copy = new Map(attrs);
    copy.delete('action');
    copy.delete('formaction');
    return { name, attrs: copy };
  });
  return loadedUrls(tags)
    .filter((url) => URL.canParse(url, pageUrl))
    .map((url) => new URL(url, pageUrl))
    .filter((url) => url.origin === origin)
    .map((url) => url.pathname + url.search);
}
