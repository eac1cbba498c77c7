// The one way to serve the build (npm run serve, npm start): Node's own HTTP server around the
// built files and Astro's handler, so that every response — static pages included — gets the same
// security headers, decided on the one spelling of its path, slow clients are cut off, and the
// outbox retry loop runs in the same process. The adapter is built in middleware mode
// (astro.config.mjs): `node dist/server/entry.mjs` alone starts nothing.
import http from 'node:http';
import compression from 'compression';
import { fileURLToPath } from 'node:url';
import { startIntake } from '../src/intake/server/http/start.ts';
import { securityHeaders } from '../src/intake/server/http/headers.ts';
import { canonicalTarget } from '../src/intake/server/http/path.ts';
import { staticFiles } from '../src/intake/server/http/static.ts';
import { createGate, defaultFloor } from '../src/intake/server/http/gate.ts';
import { HEALTH_PATH, healthHandler } from '../src/intake/server/http/health.ts';
import { bodyLimits } from '../src/intake/server/pipeline.ts';
import { REQUEST_TIMEOUT_MS } from '../src/intake/contract/endpoint.ts';

// A dist/ built before the adapter's switch to middleware mode would start its own server on import.
process.env.ASTRO_NODE_AUTOSTART = 'disabled';
// The server bundle loads React from node_modules, which picks its build by NODE_ENV: without it,
// every answer page would be rendered by React's development build, several times slower.
process.env.NODE_ENV ??= 'production';

const intake = await startIntake().catch((error) => {
  console.error(`Cannot start: ${error.message}`);
  process.exit(1);
});
const { handler: astro, options } = await import('../dist/server/entry.mjs');
if (options.mode !== 'middleware') {
  console.error(`Cannot start: dist/ was built in ${options.mode} mode; run npm run build`);
  process.exit(1);
}
// The adapter's middleware serves no files: the built ones first, then Astro (the endpoint, `/`,
// the answer page, and the 404 page for everything else). `req.url` is canonical by then.
const files = staticFiles(fileURLToPath(new URL('../dist/client/', import.meta.url)));
// What Astro renders on demand (the answer pages, the 404 page, the JSON answers) is compressed
// as it is sent, when it is large enough to gain; the built files were compressed at build time.
const compress = compression({ threshold: 1024 });
const handler = (req, res) => files(req, res, req.url.split('?')[0], () => compress(req, res, () => astro(req, res)));
const { config, logger } = intake;
const addHeaders = securityHeaders(config.publicUrl, config.onionUrl);
const health = healthHandler(intake.health);
// Bodies are held in memory while checked and encrypted: 64 MB of uploads in flight at most (four
// of the largest), two per address; posts up to 256 KB (every help request, encrypted or not) have
// a 16 MB budget of their own, so uploads never hold them back. Bodies slower than the floor are cut.
const uploads = createGate({
  maxBytes: 64 * 1024 * 1024,
  smallBytes: 256 * 1024,
  smallMaxBytes: 16 * 1024 * 1024,
  unknownBytes: bodyLimits.maxBytes,
  maxQueue: 1000,
  maxWaitMs: 30_000,
  perAddress: 2,
  trustProxy: config.trustProxy,
  floor: { ...defaultFloor, ...config.uploadFloor },
  logger,
  logIntervalMs: config.logCountMs,
});

// Timeouts are checked every second (Node's default is 30 s, which would let a slow client
// hold a connection for up to 50 s).
const server = http.createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
  const target = canonicalTarget(req.url ?? '');
  addHeaders(req, res, target ?? '/');
  if (target !== req.url) return misspelled(req, res, target);
  if (target.split('?')[0] === HEALTH_PATH) return health(req, res);
  // Each POST holds its body in memory: the gate decides when it runs, or answers it itself.
  if (req.method === 'POST') return uploads.run(req, res, () => handler(req, res));
  handler(req, res);
});
/**
 * A target that is not the one spelling of its path: a GET or HEAD is sent there (a cache then
 * only ever stores the canonical URL, with its own headers); any other method is answered 404,
 * so a body is only ever taken at the address it belongs to. A malformed target gets a 400.
 */
function misspelled(req, res, target) {
  if (target !== null && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(301, { Location: target, 'Cache-Control': 'no-store' });
    return res.end();
  }
  const status = target === null ? 400 : 404;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`${http.STATUS_CODES[status]}\n`);
}

// Slow clients (slowloris) must not hold connections: bound header and whole-request time.
server.headersTimeout = config.headersTimeoutMs;
server.requestTimeout = REQUEST_TIMEOUT_MS;
server.keepAliveTimeout = 5_000;
server.maxHeadersCount = 100;

server.on('error', (error) => {
  console.error(`Cannot listen on ${config.host}:${config.port}: ${error.message}`);
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  logger.info('server.listening', { path: `http://${config.host}:${port}/` });
});

// Deliveries in flight finish (or stay in the outbox) before the process ends.
const shutdown = () => {
  server.close();
  intake.stop().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 5000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
