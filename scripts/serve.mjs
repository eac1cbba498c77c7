// Serves the built site (dist/) with Node's own HTTP server around Astro's handler, so that
// every response — static pages included — gets the same security headers, slow clients are
// cut off, and the outbox retry loop runs in the same process.
import http from 'node:http';
import { startIntake } from '../src/server/start.ts';
import { securityHeaders } from '../src/server/headers.ts';
import { createGate } from '../src/server/gate.ts';
import { bodyLimits } from '../src/applications/pipeline.ts';

process.env.ASTRO_NODE_AUTOSTART = 'disabled';
// Astro's own "listening" line is replaced by ours (one JSON line per event).
process.env.ASTRO_NODE_LOGGING = 'disabled';

const intake = await startIntake().catch((error) => {
  console.error(`Cannot start: ${error.message}`);
  process.exit(1);
});
const { handler } = await import('../dist/server/entry.mjs');
const { config, logger } = intake;
const addHeaders = securityHeaders(config.publicUrl);
// Bodies are held in memory while checked and encrypted: 64 MB in flight at most (four of the
// largest uploads); small posts are never held back by the cap.
const uploads = createGate({ maxBytes: 64 * 1024 * 1024, unknownBytes: bodyLimits.maxBytes, maxQueue: 1000, maxWaitMs: 30_000 });

// Timeouts are checked every second (Node's default is 30 s, which would let a slow client
// hold a connection for up to 50 s).
const server = http.createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
  addHeaders(req, res);
  // Each POST holds up to a few MB in memory: only so many at once, the rest wait briefly or get a 503.
  if (req.method === 'POST') return uploads.run(req, res, () => handler(req, res));
  handler(req, res);
});
// Slow clients (slowloris) must not hold connections: bound header and whole-request time.
server.headersTimeout = 20_000;
server.requestTimeout = 120_000;
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
