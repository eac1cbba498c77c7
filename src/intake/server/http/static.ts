/**
 * The built files (`dist/client`: prerendered pages, scripts, styles) for the Node server.
 * @astrojs/node in middleware mode serves none of them ("middleware mode does not do file
 * serving", its README), so this does what its standalone mode did, with the same library
 * (`send`: ETag, Last-Modified, 304, ranges, HEAD) and the same rules: a folder without a
 * trailing slash gives its index.html (trailingSlash 'ignore'), dotfiles are refused except
 * under /.well-known/, hashed assets under /_astro/ are cached for a year. Anything not on
 * disk goes to `next` (Astro: the endpoint, the on-demand pages, the 404 page).
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface SendOptions {
  root: string;
  dotfiles: 'allow' | 'deny' | 'ignore';
}
type Send = (req: IncomingMessage, path: string, options: SendOptions) => EventEmitter & { pipe(res: ServerResponse): void };

// The copy the adapter itself depends on (it is not one of ours): resolved from @astrojs/node.
const fromAdapter = createRequire(createRequire(import.meta.url).resolve('@astrojs/node'));
const send = fromAdapter('send') as Send;

/** Astro's default `build.assets` folder: file names carry a content hash. */
const ASSETS = '/_astro/';

/**
 * Returns a handler for GET and HEAD of a canonical path (src/intake/server/http/path.ts) that answers from
 * `root` when a file is there and calls `next` otherwise. Other methods go to `next` directly.
 */
export function staticFiles(root: string) {
  const serve = (req: IncomingMessage, res: ServerResponse, path: string, next: () => void, again: boolean): void => {
    let found = false;
    const stream = send(req, path, { root, dotfiles: path.startsWith('/.well-known/') ? 'allow' : 'deny' });
    stream.on('file', () => {
      found = true;
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
