// Load figures for the built server, on loopback only, each run bounded in time:
// static page, the framework's bare on-demand route, rate-limited (429) posts, accepted
// applications (encrypted, kept, mailed to a local Resend sink), and 300 concurrent
// applications from distinct addresses, each delivered exactly once.
import autocannon from 'autocannon';
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { helpSample } from './lib/samples.mjs';
import { startServer } from './lib/server.mjs';
import { startSink } from './lib/sink.ts';

const SECONDS = Number(process.env.LOAD_SECONDS ?? 5);
const CONNECTIONS = 10;
if (!existsSync('dist/server/entry.mjs')) execSync('npx astro build', { stdio: 'inherit' });

const sink = await startSink();
const server = await startServer({
  RESEND_API_KEY: 're_load_test',
  RESEND_BASE_URL: sink.url,
  STAFF_EMAILS: 'staff@example.org',
  MAIL_FROM: 'intake@example.org',
  // Distinct client addresses come through the proxy header, as behind a real proxy.
  TRUST_PROXY: '1',
  RATE_LIMIT_GLOBAL: '10000000/1h',
  OUTBOX_RETRY_SECONDS: '2',
  RATE_LIMIT_REFUSED: '100000/10m',
});
const body = new URLSearchParams(Object.entries(helpSample).flatMap(([name, value]) => [value].flat().map((v) => [name, v]))).toString();
const postHeaders = { origin: server.url, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' };
let counter = 0;
const address = () => {
  counter++;
  return `10.${(counter >> 16) & 255}.${(counter >> 8) & 255}.${counter & 255}`;
};

function run(title, { path, ...options }) {
  return new Promise((resolve, reject) => {
    autocannon({ url: server.url + path, connections: CONNECTIONS, duration: SECONDS, ...options }, (error, result) => {
      if (error) return reject(error);
      const codes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
      resolve({ title, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, codes, errors: result.errors + result.timeouts });
    });
  });
}

const results = [];
results.push(await run('static page GET /ru/', { path: '/ru/' }));
// The lightest on-demand route: `/` picks a language and redirects (the framework's ceiling).
results.push(await run('bare on-demand route (GET / → 302)', { path: '/', headers: { 'accept-language': 'en' } }));
// One address, far over its limit: every post is refused after the first five.
results.push(await run('rate-limited POST (429)', { path: '/api/applications', method: 'POST', headers: { ...postHeaders, 'x-forwarded-for': '192.0.2.1' }, body }));
const acceptedRun = (title, connections) =>
  run(title, {
    connections,
    path: '/api/applications',
    method: 'POST',
    body,
    headers: postHeaders,
    setupClient: (client) => {
      client.on('response', () => client.setHeaders({ ...postHeaders, 'x-forwarded-for': address() }));
      client.setHeaders({ ...postHeaders, 'x-forwarded-for': address() });
    },
  });
results.push(await acceptedRun(`accepted application POST (201), ${CONNECTIONS} connections`, CONNECTIONS));
// One at a time: the latency of a single application without queueing behind others.
results.push(await acceptedRun('accepted application POST (201), 1 connection', 1));

// 300 at once, distinct addresses: every one accepted, kept, and delivered exactly once.
sink.requests.length = 0;
const started = Date.now();
const answers = await Promise.all(
  Array.from({ length: 300 }, () =>
    fetch(`${server.url}/api/applications`, { method: 'POST', body, headers: { ...postHeaders, 'x-forwarded-for': address() } }).then(async (r) => ({ status: r.status, ...(await r.json()) })),
  ),
);
const answeredMs = Date.now() - started;
const references = answers.filter((a) => a.status === 201).map((a) => a.reference);
const subjectsOf = () => sink.requests.map((r) => r.body?.subject?.split(' ').pop()).filter((s) => references.includes(s));
const deadline = Date.now() + 60_000;
while (new Set(subjectsOf()).size < references.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
const delivered = subjectsOf();
const unique = new Set(delivered);

const fmt = (n) => n.toFixed(0).padStart(7);
console.log(`\nLoad figures (${SECONDS} s per run, ${CONNECTIONS} connections, loopback, 2 cores shared by server and client)\n`);
console.log('run'.padEnd(52), '   req/s', '  p50 ms', '  p99 ms', ' status codes');
for (const r of results) console.log(r.title.padEnd(52), fmt(r.rps), fmt(r.p50), fmt(r.p99), ' ' + JSON.stringify(r.codes), r.errors ? `errors ${r.errors}` : '');
const [, bare, rejected, accepted, single] = results;
const ratio = rejected.rps / bare.rps;
console.log(`\nrejection throughput / bare route: ${ratio.toFixed(2)} (target ≥ 0.5) ${ratio >= 0.5 ? 'ok' : 'MISSED'}`);
console.log(`accepted p50: ${accepted.p50} ms at ${CONNECTIONS} connections, ${single.p50} ms at 1 (target ≤ 30 ms) ${accepted.p50 <= 30 ? 'ok' : 'MISSED at ' + CONNECTIONS + ' connections'}`);
console.log(`300 concurrent applications: ${references.length} accepted in ${answeredMs} ms; ${unique.size} delivered, ${delivered.length - unique.size} duplicates, ${references.length - unique.size} lost`);
const ok = references.length === 300 && unique.size === 300 && delivered.length === 300;
await server.stop();
await sink.close();
process.exit(ok ? 0 : 1);
