// Onion-Location as the server sets it (src/intake/server/http/headers.ts on the canonical target,
// as scripts/serve.mjs calls it), read off the wire of a loopback HTTP server with raw sockets,
// so odd targets arrive exactly as sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { securityHeaders } from '../../../../src/intake/server/http/headers.ts';
import { canonicalTarget } from '../../../../src/intake/server/http/path.ts';
import { rawRequest, type Raw } from '../../../support/raw-http.ts';

const ONION = 'http://f4olf7h45cea4mdcbkz7vcop4m7chztlr4ve5cjm4brsort6jar6mfid.onion';
const ONION_HOST = new URL(ONION).host;
const PUBLIC = 'https://help.example.org';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  })));
});

/** A server that sets the headers as serve.mjs does and answers an empty 200. */
async function serve(onionUrl?: string): Promise<number> {
  const addHeaders = securityHeaders(PUBLIC, onionUrl);
  const server = http.createServer((req, res) => {
    addHeaders(req, res, canonicalTarget(req.url ?? '') ?? '/');
    res.end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const get = (port: number, path: string, method = 'GET', host = 'help.example.org') => rawRequest(port, { method, path, headers: { host } });
const onionLocation = (answer: Raw) => answer.lines.filter(([name]) => name === 'onion-location').map(([, value]) => value);

describe('Onion-Location', () => {
  it('is on every page, GET or HEAD, with the canonical path and without the query', async () => {
    const port = await serve(ONION);
    const pages: [string, string][] = [
      ['/', '/'],
      ['/ru/', '/ru/'],
      ['/ru/help/', '/ru/help/'],
      ['/ru/help', '/ru/help'],
      ['/ar/missing/?utm=x', '/ar/missing/'],
      ['/ru/faq/index.html', '/ru/faq/index.html'],
      ['/ru/no-such-page/', '/ru/no-such-page/'],
    ];
    for (const [target, path] of pages) {
      for (const method of ['GET', 'HEAD']) {
        expect(onionLocation(await get(port, target, method)), `${method} ${target}`).toEqual([`${ONION}${path}`]);
      }
    }
  });

  it('is not on scripts, styles, images, feeds, the endpoint, the health check or a POST', async () => {
    const port = await serve(ONION);
    for (const target of ['/_astro/hydrate.Bx1.js', '/_astro/Base.Cd2.css', '/favicon.svg', '/ru/news/rss.xml', '/sitemap-index.xml', '/robots.txt', '/api/applications', '/healthz']) {
      expect(onionLocation(await get(port, target)), target).toEqual([]);
    }
    expect(onionLocation(await get(port, '/api/applications', 'POST'))).toEqual([]);
    expect(onionLocation(await get(port, '/ru/help/', 'POST'))).toEqual([]);
  });

  it('is never set without ONION_URL', async () => {
    const port = await serve();
    expect(onionLocation(await get(port, '/ru/help/'))).toEqual([]);
  });

  it('through the onion service itself: no Onion-Location, no HSTS, no upgrade-insecure-requests (the onion is plain http)', async () => {
    const port = await serve(ONION);
    const clearnet = await get(port, '/ru/');
    const csp = (answer: Raw) => answer.lines.find(([name]) => name === 'content-security-policy')?.[1] ?? '';
    expect(csp(clearnet)).toContain('upgrade-insecure-requests');
    expect(clearnet.lines.some(([name]) => name === 'strict-transport-security')).toBe(true);
    for (const host of [ONION_HOST, ONION_HOST.toUpperCase()]) {
      const viaOnion = await get(port, '/ru/', 'GET', host);
      expect(onionLocation(viaOnion)).toEqual([]);
      expect(viaOnion.lines.some(([name]) => name === 'strict-transport-security')).toBe(false);
      expect(csp(viaOnion)).not.toContain('upgrade-insecure-requests');
      expect(csp(viaOnion)).toContain("default-src 'self'");
    }
  });

  it('stays one well-formed header whatever the path holds: escapes stay escaped, nothing is split off', async () => {
    const port = await serve(ONION);
    const odd: [string, string][] = [
      ['/ru/%0D%0ASet-Cookie:%20x=1', '/ru/%0D%0ASet-Cookie:%20x=1'],
      ['/ru/%0d%0aLocation:%20http://evil.example/', '/ru/%0D%0ALocation:%20http:/evil.example/'],
      ['/ru/%E2%80%A8/', '/ru/%E2%80%A8/'],
      ['/ru/"onion"<x>{|}^`/', '/ru/%22onion%22%3Cx%3E%7B%7C%7D%5E%60/'],
    ];
    for (const [target, canonical] of odd) {
      const answer = await get(port, target);
      expect(onionLocation(answer), target).toEqual([`${ONION}${canonical}`]);
      expect(answer.lines.filter(([name]) => name === 'set-cookie' || name === 'location'), target).toEqual([]);
      for (const [, value] of answer.lines) expect(value, target).toMatch(/^[\x20-\x7e]*$/);
      // A URI as RFC 3986 spells one, so Tor Browser reads it as sent.
      expect(onionLocation(answer)[0], target).toMatch(/^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/);
    }
  });

  it('is left off a path longer than any page\'s, so the answer does not grow with what was sent', async () => {
    const port = await serve(ONION);
    expect(onionLocation(await get(port, `/ru/${'a'.repeat(1021)}`))).toEqual([]);
    expect(onionLocation(await get(port, `/ru/${'a'.repeat(1000)}`))).toEqual([`${ONION}/ru/${'a'.repeat(1000)}`]);
  });
});
