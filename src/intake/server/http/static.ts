/**
 * The built files (`dist/client`: prerendered pages, scripts, styles) for the Node server.
 * @astrojs/node in middleware mode serves none of them ("middleware mode does not do file
 * serving", its README), so this does what its standalone mode did, with the same library
 * (`send`: ETag, Last-Modified, 304, ranges, HEAD) and the same rules: a folder without a
 * trailing slash gives its index.html (trailingSlash 'ignore'), dotfiles are refused except
 * under /.well-known/, hashed assets under /_astro/ are cached for a year. Anything not on
 * disk goes to `next` (Astro: the endpoint, the on-demand pages, the 404 page).
 *
 * Every text file was compressed at build time (scripts/precompress.mjs): the `.br` or `.gz`
 * beside it is sent when the request accepts it (Negotiator, the parser behind Express's
 * `req.acceptsEncodings`), with the original's type, `Content-Encoding`, and `Vary`; so no
 * static answer costs compression work.
 */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import Negotiator from 'negotiator';

interface SendOptions {
  root: string;
  dotfiles: 'allow' | 'deny' | 'ignore';
}
type Send = (req: IncomingMessage, path: string, options: SendOptions) => EventEmitter & { pipe(res: ServerResponse): void };

// The copy the adapter itself depends on (it is not one of ours): resolved from @astrojs/node.
const fromAdapter = createRequire(createRequire(import.meta.url).resolve('@astrojs/node'));
const send = fromAdapter('send') as Send;
// The type table send itself uses, for a variant sent under the original's type.
const mime = createRequire(fromAdapter.resolve('send'))('mime-types') as { contentType(ext: string): string | false };

/** Astro's default `build.assets` folder: file names carry a content hash. */
const ASSETS = '/_astro/';

/** The encodings files were compressed in, best first, with the suffix of each. */
const ENCODINGS = { br: '.br', gzip: '.gz' } as const;
type Encoding = keyof typeof ENCODINGS;

/** URL path of every file → the encodings it has beside it. Read once: the build never changes under a running server. */
function compressedVariants(root: string): Map<string, Encoding[]> {
  const found = new Map<string, Encoding[]>();
  for (const name of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    for (const [encoding, suffix] of Object.entries(ENCODINGS) as [Encoding, string][]) {
      if (!name.endsWith(suffix)) continue;
      const path = `/${relative(root, join(root, name.slice(0, -suffix.length))).split(sep).join('/')}`;
      found.set(path, [...(found.get(path) ?? []), encoding]);
    }
  }
  return found;
}

/**
 * Returns a handler for GET and HEAD of a canonical path (src/intake/server/http/path.ts) that answers from
 * `root` when a file is there and calls `next` otherwise. Other methods go to `next` directly.
 */
export function staticFiles(root: string) {
  const variants = compressedVariants(root);
  const serve = (req: IncomingMessage, res: ServerResponse, path: string, next: () => void, again: boolean): void => {
    let found = false;
    const file = path.endsWith('/') ? `${path}index.html` : path;
    const offered = variants.get(file) ?? [];
    const encoding = offered.length > 0 ? (new Negotiator(req).encoding(offered) as Encoding | undefined) : undefined;
    const sent = encoding ? file + ENCODINGS[encoding] : path;
    const stream = send(req, sent, { root, dotfiles: path.startsWith('/.well-known/') ? 'allow' : 'deny' });
    stream.on('file', () => {
      found = true;
    });
    stream.on('headers', () => {
      if (offered.length > 0) res.setHeader('Vary', 'Accept-Encoding');
      if (!encoding) return;
      // send takes the type from the name it was given; the variant's is the original's.
      res.setHeader('Content-Type', mime.contentType(extname(file)) || 'application/octet-stream');
      res.setHeader('Content-Encoding', encoding);
    });
    // A folder asked for without its slash: its index.html, as the standalone server did.
    stream.on('directory', () => (again ? next() : serve(req, res, `${path}/index.html`, next, true)));
    stream.on('stream', () => {
      if (path.startsWith(ASSETS)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    });
    stream.on('error', (error: { statusCode?: number }) => {
      if (!found) return next();
      if (res.headersSent) return void res.destroy();
      const status = error.statusCode ?? 500;
      res.writeHead(status);
      res.end(status >= 500 ? 'Internal server error' : '');
    });
    stream.pipe(res);
  };
  return (req: IncomingMessage, res: ServerResponse, path: string, next: () => void): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    serve(req, res, path, next, false);
  };
}
