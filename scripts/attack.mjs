// @ts-check
// npm run attack — adversarial figures for the built server (`npm run build` first), on
// loopback only, every loop bounded in count and time. It starts the server itself (twice: see
// `servers` below), a local Resend sink for the mail, and prints one table: each figure, its
// target, met / NOT MET. Exit 1 when a target is not met, 2 when the overall deadline passes.
//
// 1. long adversarial values in every field of both forms: every refusal under 100 ms;
// 2. four parallel maximum-size posts: no answer over 64 KB beyond the form page's own size,
//    server memory growth under 600 MB; 403/413/415/429 answers echo nothing that was sent;
// 3. six slow uploads open: a small application still accepted within 1 s;
// 4. 300 junk posts from 300 addresses: the next valid application still accepted;
// 5. figures only: log lines written under attack, whether the server still answers.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The field names are a contract kept in one place; the script reads them from there.
import { fieldNames } from '../src/intake/contract/validate.ts';
import { PHOTO_FIELD } from '../src/intake/contract/fields.ts';
import { kinds } from '../src/intake/contract/kinds.ts';
import { helpSample, missingSample } from './lib/samples.mjs';
import { HOST, ROOT, startServer as startBuiltServer } from './lib/server.mjs';

/** After this the servers are killed and the script exits 2, whatever it was doing. */
const DEADLINE_MS = 4 * 60_000;
/** The whole-body cap the issue names ("16 MB"); a post just under it still gets parsed. */
const MAX_BODY = 16_000_000;
const LONG = 80_000;
const HUGE = 8_000_000;
const started = Date.now();
const elapsed = () => Date.now() - started;
// Other work on the machine slows every figure here: the table says how busy it was.
const loadAverage = () => {
  try {
    return readFileSync('/proc/loadavg', 'latin1').split(' ')[0] ?? '?';
  } catch {
    return '?';
  }
};
const loadAtStart = loadAverage();

const ENTRY = join(ROOT, 'dist/server/entry.mjs');
if (!existsSync(ENTRY)) {
  console.error('attack: dist/ is missing — run `npm run build` first (this script builds nothing).');
  process.exit(1);
}
// A build during the run replaces files under a running server (answers turn into 500s): noted.
const builtAt = () => (existsSync(ENTRY) ? statSync(ENTRY).mtimeMs : 0);
const builtAtStart = builtAt();

// ---------------------------------------------------------------------------------------------
// Processes: the local mail sink and the servers, all on 127.0.0.1, all stopped at the end.

/** @typedef {{ name: string, url: string, port: number, pid: number, logs: string[], exited: () => boolean, stop: () => Promise<void> }} Server */

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
const varRoot = mkdtempSync(join(tmpdir(), 'alt-attack-'));

const deadline = setTimeout(() => {
  console.error(`\nattack: the overall deadline (${DEADLINE_MS / 1000} s) passed; killing the servers.`);
  for (const child of children) child.kill('SIGKILL');
  printTable('INTERRUPTED by the overall deadline: only the rows measured so far; the rest NOT MET.');
  rmSync(varRoot, { recursive: true, force: true });
  process.exit(2);
}, DEADLINE_MS);
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(varRoot, { recursive: true, force: true });
    process.exit(130);
  });
}

/** A stand-in for Resend's API: answers POST /emails with `{ id }`, keeps nothing but a count. */
async function startSink() {
  let count = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/emails') {
        count += 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `attack-${count}` }));
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"statusCode":404,"name":"not_found","message":"not found"}');
      }
    });
  });
  await new Promise((resolve) => server.listen(0, HOST, () => resolve(undefined)));
  const { port } = /** @type {net.AddressInfo} */ (server.address());
  return {
    url: `http://${HOST}:${port}`,
    get count() {
      return count;
    },
    close: () => new Promise((resolve) => server.close(() => resolve(undefined)).closeAllConnections()),
  };
}

/**
 * The built server (scripts/lib/server.mjs) with its var folder under this run's, and the
 * process remembered so the deadline can kill it.
 * @param {string} name
 * @param {Record<string, string>} env
 * @returns {Promise<Server>}
 */
async function startServer(name, env) {
  const server = await startBuiltServer(env, { varDir: join(varRoot, name) });
  const child = server.process;
  let exited = child.exitCode !== null;
  children.add(child);
  child.once('exit', () => {
    exited = true;
    children.delete(child);
  });
  return { ...server, name, pid: /** @type {number} */ (child.pid), exited: () => exited };
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {number} pid @returns {number} resident memory in bytes, 0 once the process is gone */
function rssOf(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP on loopback: one request, timed from the first byte sent to the last byte of the answer
// (`ms`), and from the last byte of the request to the last byte of the answer (`answerMs`: what
// the server takes once it has the whole post; client and server share the two cores, so `ms`
// also counts the client writing 16 MB).

/** @typedef {{ status: number, ms: number, answerMs: number, bytes: number, body: Buffer | undefined, error: string | undefined }} Answer */

/**
 * @param {Server} server
 * @param {{ method?: string, path?: string, headers?: Record<string, string>, body?: Buffer, timeoutMs?: number, keep?: boolean, agent?: http.Agent }} options
 * @returns {Promise<Answer>}
 */
function send(server, { method = 'POST', path = '/api/applications', headers = {}, body, timeoutMs = 15_000, keep = false, agent }) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let sentAt = t0;
    let bytes = 0;
    let status = 0;
    /** @type {Buffer[]} */
    const chunks = [];
    let done = false;
    /** @param {string | undefined} error */
    const finish = (error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const end = performance.now();
      resolve({ status, ms: end - t0, answerMs: end - sentAt, bytes, body: keep ? Buffer.concat(chunks) : undefined, error });
    };
    const req = http.request({
      host: HOST,
      port: server.port,
      method,
      path,
      headers: body ? { 'content-length': String(body.byteLength), ...headers } : headers,
      ...(agent ? { agent } : {}),
    });
    const timer = setTimeout(() => {
      finish('timeout');
      req.destroy();
    }, timeoutMs);
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.on('data', (/** @type {Buffer} */ chunk) => {
        bytes += chunk.byteLength;
        if (keep) chunks.push(chunk);
      });
      res.on('end', () => finish(undefined));
      res.on('error', () => finish('reset'));
    });
    // An answer can come before the whole body is sent (413): the write error after it is expected.
    req.on('error', (error) => finish(status ? undefined : /** @type {NodeJS.ErrnoException} */ (error).code ?? 'error'));
    // The whole request is on its way (handed to the socket): the server's part starts here.
    req.on('finish', () => {
      sentAt = performance.now();
    });
    req.end(body);
  });
}

/** @param {Record<string, string | string[]>} fields */
const encode = (fields) => {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) params.append(name, v);
  return params.toString();
};

/** Headers of a plain form post from our own page (Origin = the server's own origin). */
const formHeaders = (/** @type {Server} */ server, /** @type {Record<string, string>} */ extra = {}) => ({
  origin: server.url,
  'content-type': 'application/x-www-form-urlencoded',
  ...extra,
});

/** "400×12 429×3": how often each value occurs, in order of first appearance. @param {(string | number)[]} list */
const histogram = (list) => {
  /** @type {Record<string, number>} */
  const counts = {};
  for (const s of list) counts[String(s)] = (counts[String(s)] ?? 0) + 1;
  return Object.entries(counts).map(([s, n]) => `${s}×${n}`).join(' ');
};

/**
 * "200 (3 ms)", or the status with the error events the server logged, when it is not a 200.
 * @param {Server} server @param {Answer} a
 */
const alive = (server, a) => {
  const head = `${a.status || a.error} (${a.ms.toFixed(0)} ms${server.exited() ? ', process gone' : ''})`;
  if (a.status === 200) return head;
  const events = new Set(server.logs.filter((l) => l.includes('"level":"error"')).map((l) => /"event":"([^"]+)"/.exec(l)?.[1] ?? l.slice(0, 80)));
  return `${head}${events.size ? `, error events logged: ${[...events].join(', ')}` : ''}`;
};

/**
 * Log lines that look like posted content: the marker, a run of an adversarial pattern, or a line
 * far longer than any event needs. @param {string} marker @param {Server[]} servers
 */
const quoting = (marker, ...servers) =>
  servers.flatMap((s) => s.logs).filter((l) => l.length > 2000 || l.includes(marker) || l.includes('a@a@a@') || l.includes('%%%') || l.includes('a.a.a.')).length;

/** @param {Answer[]} answers @param {number} q a fraction; 1 is the slowest */
const percentile = (answers, q) => {
  const sorted = answers.map((a) => a.ms).sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(0);
};
const mb = (/** @type {number} */ n) => `${(n / 1024 / 1024).toFixed(0)} MB`;
const s1 = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(1)} s`;

// ---------------------------------------------------------------------------------------------
// Valid applications and adversarial values.

// The e-mail channel makes the contact rule look for an address in contact_value.
const byEmail = { contact_safe: 'yes', contact_channels: 'email', contact_value: 'a@example.org' };
const helpBase = { ...helpSample, ...byEmail };
const missingBase = { ...missingSample, ...byEmail };
/** The ~300-byte help application the issue times: no contact details, Accept JSON. */
const smallHelp = Buffer.from(
  encode({ kind: 'help', locale: 'ru', consent: 'yes', for: 'self', contact_safe: 'no', message: 'Нужна помощь, я на стройке, документы забрали.' }),
);

/**
 * Adversarial contents as raw urlencoded bytes: `unit` repeated, `chars` decoded characters per
 * unit. Each aims at a step that could go superlinear: the e-mail search (`a@`, `a.`), trimming
 * and word splitting (spaces), percent-decoding (`%` not followed by two hex digits), line-break
 * normalisation (CR LF, sent raw: the server decodes bytes, so it sees what %0D%0A gives), NFC
 * (combining marks of two classes, which canonical ordering has to sort).
 */
const patterns = [
  { name: 'a@', unit: 'a@', chars: 2 },
  { name: 'a.', unit: 'a.', chars: 2 },
  { name: 'spaces', unit: '+', chars: 1, suffix: 'a' },
  { name: '%', unit: '%%25%2', chars: 4 },
  { name: 'CRLF', unit: 'a\r\n', chars: 3 },
  { name: 'combining', unit: `a${'\u0301\u0316'.repeat(25)}`, chars: 51 },
  { name: 'mixed', unit: `a@a.+%%25%2a\r\n${'\u0301\u0316'.repeat(4)} a@b.cc;`, chars: 0 },
].map((p) => ({
  name: p.name,
  unit: Buffer.from(p.unit, 'utf8'),
  // The decoded length of the mixed unit is counted rather than written by hand.
  chars: p.chars || [...decodeURIComponent(p.unit.replace(/%(?![0-9A-Fa-f]{2})/g, '%25').replace(/\+/g, ' '))].length,
  suffix: Buffer.from(p.suffix ?? ''),
}));
/** @typedef {(typeof patterns)[number]} Pattern */
const [firstPattern, mixedPattern] = [/** @type {Pattern} */ (patterns[0]), /** @type {Pattern} */ (patterns.at(-1))];

/** @type {Map<string, Buffer>} */
const valueCache = new Map();
/**
 * About `chars` decoded characters of pattern `p`, capped at `maxBytes` raw bytes.
 * @param {Pattern} p @param {number} chars @param {number} maxBytes
 */
function adversarial(p, chars, maxBytes) {
  const key = `${p.name}/${chars}/${maxBytes}`;
  const cached = valueCache.get(key);
  if (cached) return cached;
  const units = Math.max(1, Math.min(Math.ceil(chars / p.chars), Math.floor((maxBytes - p.suffix.byteLength) / p.unit.byteLength)));
  const value = Buffer.concat([Buffer.alloc(units * p.unit.byteLength, p.unit), p.suffix]);
  valueCache.set(key, value);
  return value;
}

/**
 * A valid application of `kind` whose field `field` holds `value` (raw urlencoded bytes).
 * @param {import('../src/intake/contract/kinds.ts').Kind} kind @param {string} field @param {Buffer} value
 */
function withField(kind, field, value) {
  const base = { ...(kind === 'help' ? helpBase : missingBase) };
  delete base[/** @type {keyof typeof base} */ (field)];
  return Buffer.concat([Buffer.from(`${encode(base)}&${encodeURIComponent(field)}=`), value]);
}

/** Every field of both forms, the photo input included (as a text field: the post is urlencoded). */
const targets = [
  ...kinds.flatMap((kind) => fieldNames[kind].map((field) => /** @type {const} */ ([kind, field]))),
  /** @type {const} */ (['missing', PHOTO_FIELD]),
];

// ---------------------------------------------------------------------------------------------
// The table.

/** @typedef {{ attack: string, figure: string, target: string, met: boolean | undefined }} Row */
/** @type {Row[]} */
const rows = [];
/** @type {string[]} */
const notes = [];
/** @param {string} attack @param {string} figure @param {string} target @param {boolean | undefined} met */
const row = (attack, figure, target, met) => rows.push({ attack, figure, target, met });

/** @typedef {{ field: string, kind: string, pattern: string, status: number, ms: number, answerMs: number, bytes: number, error: string | undefined }} Post */

/**
 * Posts one application per target field (with every pattern, or one pattern per field in
 * turn), one at a time, until the time budget is spent.
 * @param {Server} server
 * @param {{ chars: number, accept: 'html' | 'json', allPatterns: boolean, budgetMs: number, timeoutMs: number }} o
 * @returns {Promise<{ results: Post[], planned: number }>}
 */
async function longValues(server, o) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const until = Date.now() + o.budgetMs;
  /** @type {Post[]} */
  const results = [];
  let planned = 0;
  const accept = o.accept === 'json' ? { accept: 'application/json' } : {};
  for (const [i, [kind, field]] of targets.entries()) {
    for (const p of o.allPatterns ? patterns : [patterns[i % patterns.length] ?? firstPattern]) {
      planned += 1;
      if (Date.now() > until) continue;
      const body = withField(kind, field, adversarial(p, o.chars, MAX_BODY - 2000));
      const a = await send(server, { headers: formHeaders(server, { ...accept, 'x-forwarded-for': nextAddress() }), body, timeoutMs: o.timeoutMs, agent });
      results.push({ field, kind, pattern: p.name, status: a.status, ms: a.ms, answerMs: a.answerMs, bytes: a.bytes, error: a.error });
    }
  }
  agent.destroy();
  return { results, planned };
}

let addressCount = 0;
/** A fresh client address for each post where per-address limits would measure the wrong thing. */
const nextAddress = () => {
  addressCount += 1;
  return `10.44.${(addressCount >> 8) & 255}.${addressCount & 255}`;
};

/** @type {Post} */
const noPost = { field: '-', kind: '-', pattern: '-', status: 0, ms: 0, answerMs: 0, bytes: 0, error: undefined };
/** @param {Post[]} list @param {'ms' | 'answerMs' | 'bytes'} key */
const largestBy = (list, key) => list.reduce((a, b) => (b[key] > a[key] ? b : a), list[0] ?? noPost);

/**
 * One table row for a run of attack 1; every post should be refused (the honeypot `website`
 * gets its ordinary-looking 201) and answered in under 100 ms.
 * @param {{ results: Post[], planned: number }} run @param {string} label
 */
function reportLongValues({ results, planned }, label) {
  const slowest = largestBy(results, 'answerMs');
  const median = [...results].sort((a, b) => a.answerMs - b.answerMs)[Math.floor(results.length / 2)]?.answerMs ?? 0;
  const slowestTotal = largestBy(results, 'ms');
  const slow = results.filter((r) => r.answerMs >= 100 || r.error).length;
  const accepted = results.filter((r) => r.status < 400 && r.field !== 'website');
  // A 429 is a refusal for the rate, not for the content: the run then measured the wrong thing.
  const limited = results.filter((r) => r.status === 429).length;
  const figure =
    `${label}: ${results.length}/${planned} posts${results.length < planned ? ' (time budget spent)' : ''}, answered after the last byte in p50 ${median.toFixed(0)} ms, slowest ${slowest.answerMs.toFixed(0)} ms ` +
    `(${slowest.kind}.${slowest.field}, ${slowest.pattern}, ${slowest.status || slowest.error}), ${slow} at ≥ 100 ms or failed; ` +
    `slowest with the upload ${slowestTotal.ms.toFixed(0)} ms; ` +
    `statuses ${histogram(results.map((r) => r.error ?? r.status))}` +
    (accepted.length ? `; ACCEPTED: ${accepted.map((r) => `${r.kind}.${r.field}`).join(', ')}` : '') +
    (limited ? `; ${limited} rate-limited: the limits were measured, not the content` : '') +
    `; slowest by pattern: ${patterns.map((p) => `${p.name} ${largestBy(results.filter((r) => r.pattern === p.name), 'answerMs').answerMs.toFixed(0)}`).join(', ')} ms`;
  row('1 long values', figure, 'every answer < 100 ms', slow === 0 && results.length === planned && accepted.length === 0 && limited === 0);
}

// ---------------------------------------------------------------------------------------------
// The attacks.

const sink = await startSink();
const mailEnv = { RESEND_API_KEY: 're_test', RESEND_BASE_URL: sink.url, STAFF_EMAILS: 'staff@example.org', MAIL_FROM: 'intake@example.org', TRUST_PROXY: '1' };
// RATE_LIMIT_REFUSED (refusals per address) is set too where the server knows it; it ignores
// variables it does not know.
const generous = { RATE_LIMIT_ADDRESS: '100000/10m', RATE_LIMIT_GLOBAL: '100000/1h', RATE_LIMIT_REFUSED: '100000/10m' };
const generousText = Object.entries(generous).map(([k, v]) => `${k}=${v}`).join(', ');
/** @type {Server[]} */
const servers = [];
let exitCode = 0;

try {
  // Server G: generous limits, so that attacks 1 and 2 (many posts from one address) measure
  // refusals for content, not 429s for the rate.
  console.log(`attack: server G (TRUST_PROXY=1, ${generousText}) for attacks 1 and 2…`);
  const g = await startServer('G', { ...mailEnv, ...generous });
  servers.push(g);
  notes.push(
    `Attacks 1 and 2 and the 403/413/415 echo checks ran on server G, started with generous limits (${generousText}, TRUST_PROXY=1), ` +
      'each post from its own X-Forwarded-For address: with the defaults their posts would get 429s, which say nothing about refusing content.',
  );
  notes.push('Attacks 3 and 4, the 429 echo check and the log figures of the junk flood ran on server D: default limits (5/10m, 300/1h), TRUST_PROXY=1.');

  // Warm up (the first on-demand render compiles code paths; that is not what is measured).
  for (let i = 0; i < 3; i++) await send(g, { headers: formHeaders(g, { 'x-forwarded-for': nextAddress() }), body: Buffer.from('kind=help&locale=ru') });

  // 1. Long adversarial values.
  console.log(`attack 1: ${targets.length} fields × ${patterns.length} patterns at ${LONG} characters…`);
  const logsBefore1 = g.logs.length;
  const run1a = await longValues(g, { chars: LONG, accept: 'html', allPatterns: true, budgetMs: 35_000, timeoutMs: 10_000 });
  const run1b = await longValues(g, { chars: LONG, accept: 'json', allPatterns: false, budgetMs: 10_000, timeoutMs: 10_000 });
  console.log(`attack 1: ${targets.length} fields at ${HUGE} characters…`);
  const run1c = await longValues(g, { chars: HUGE, accept: 'html', allPatterns: false, budgetMs: 30_000, timeoutMs: 10_000 });
  const run1d = await longValues(g, { chars: HUGE, accept: 'json', allPatterns: false, budgetMs: 15_000, timeoutMs: 10_000 });
  await sleep(200);
  const logLines1 = g.logs.length - logsBefore1;
  reportLongValues(run1a, `${LONG / 1000}k chars × every pattern, HTML`);
  reportLongValues(run1b, `${LONG / 1000}k chars, Accept JSON`);
  reportLongValues(run1c, `${HUGE / 1e6}M chars (one pattern per field in turn), HTML`);
  reportLongValues(run1d, `${HUGE / 1e6}M chars, Accept JSON`);
  const biggest1 = largestBy([...run1a.results, ...run1b.results, ...run1c.results, ...run1d.results], 'bytes');

  // 2. Echo and size.
  console.log('attack 2: four parallel maximum-size posts…');
  const formPages = await Promise.all(kinds.map((kind) => send(g, { method: 'GET', path: `/ru/${kind}/` })));
  const formPage = Math.max(...formPages.map((a) => a.bytes));
  // Not the honeypot: filled in, it makes the post a bot's, answered as if accepted without a look.
  const every = [...new Set(kinds.flatMap((kind) => fieldNames[kind]))].filter((f) => f !== 'kind' && f !== 'locale' && f !== 'website');
  const head = Buffer.from('kind=missing&locale=ru');
  const perField = 150_000;
  const known = every.map((f) => Buffer.concat([Buffer.from(`&${f}=`), adversarial(mixedPattern, Infinity, perField)]));
  const knownBytes = head.byteLength + known.reduce((n, b) => n + b.byteLength, 0);
  const unknownEach = Math.floor((MAX_BODY - 1000 - knownBytes) / 3);
  const unknown = [1, 2, 3].map((i) => Buffer.concat([Buffer.from(`&extra_${i}=`), adversarial(firstPattern, Infinity, unknownEach)]));
  const maxBody = Buffer.concat([head, ...known, ...unknown]);
  const rssBefore = rssOf(g.pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssOf(g.pid));
  }, 50);
  const t2 = Date.now();
  const big = await Promise.all(
    [1, 2, 3, 4].map((i) =>
      send(g, { headers: formHeaders(g, { 'x-forwarded-for': `10.55.0.${i}` }), body: maxBody, timeoutMs: 45_000, agent: new http.Agent({ keepAlive: false }) }),
    ),
  );
  const t2ms = Date.now() - t2;
  await sleep(300);
  clearInterval(sampler);
  const biggest2 = Math.max(...big.map((a) => a.bytes));
  const largest1 = `${biggest1.bytes.toLocaleString('en')} B (${biggest1.kind}.${biggest1.field}, ${biggest1.pattern})`;
  const largest = Math.max(biggest1.bytes, biggest2);
  row(
    '2 echo/size',
    `4 posts of ${(maxBody.byteLength / 1e6).toFixed(1)} MB (${every.length} fields × ${perField / 1000} KB, honeypot empty, + 3 unknown × ${(unknownEach / 1e6).toFixed(1)} MB): ` +
      `${histogram(big.map((a) => a.error ?? a.status))} in ${s1(t2ms)}; largest answer ${biggest2.toLocaleString('en')} B; ` +
      `largest in attack 1: ${largest1}; form page ${formPage.toLocaleString('en')} B`,
    `≤ form page + 64 KB (${(formPage + 65536).toLocaleString('en')} B)`,
    largest <= formPage + 65536 && big.every((a) => a.status > 0),
  );
  const growth = rssPeak - rssBefore;
  row('2 echo/size', `server RSS ${mb(rssBefore)} before, peak ${mb(rssPeak)}: growth ${mb(growth)}`, 'growth < 600 MB', growth < 600 * 1024 * 1024);

  // Refusals that come before or instead of reading the form must not echo it either.
  const marker = `ZQX-echo-${randomBytes(6).toString('hex')}`;
  const markedBody = Buffer.from(encode({ kind: 'help', locale: 'ru', consent: 'yes', for: 'self', contact_safe: 'no', message: marker }));
  /** @type {{ what: string, expected: number, status: number, echoed: boolean }[]} */
  const echoes = [];
  const foreign = await send(g, { headers: formHeaders(g, { origin: 'http://attacker.invalid', 'x-forwarded-for': nextAddress() }), body: markedBody, keep: true });
  echoes.push({ what: '403', expected: 403, status: foreign.status, echoed: Boolean(foreign.body?.includes(marker)) });
  const plain = await send(g, { headers: { origin: g.url, 'content-type': 'text/plain', 'x-forwarded-for': nextAddress() }, body: Buffer.from(`message=${marker}`), keep: true });
  echoes.push({ what: '415', expected: 415, status: plain.status, echoed: Boolean(plain.body?.includes(marker)) });
  const declared = await rawExchange(g, `POST /api/applications HTTP/1.1\r\nHost: ${HOST}:${g.port}\r\nOrigin: ${g.url}\r\nX-Forwarded-For: ${nextAddress()}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 17000000\r\nConnection: close\r\n\r\n`, markedBody, 5000);
  echoes.push({ what: '413 (Content-Length 17 MB)', expected: 413, status: declared.status, echoed: declared.data.includes(marker) });
  const manyParts = Buffer.from(Array.from({ length: 250 }, (_, i) => `m${i}=${marker}`).join('&'));
  const parts = await send(g, { headers: formHeaders(g, { 'x-forwarded-for': nextAddress() }), body: manyParts, keep: true });
  echoes.push({ what: '413 (250 parts)', expected: 413, status: parts.status, echoed: Boolean(parts.body?.includes(marker)) });

  const gAlive = alive(g, await send(g, { method: 'GET', path: '/ru/', timeoutMs: 5000 }));
  await g.stop();

  // Server D: the defaults (only TRUST_PROXY=1, so that addresses can come from the header).
  console.log('attack: server D (default limits, TRUST_PROXY=1) for attacks 3 and 4…');
  const d = await startServer('D', mailEnv);
  servers.push(d);
  await send(d, { method: 'GET', path: '/ru/' });

  // 3. Slow uploads.
  console.log('attack 3: six slow 16 MB uploads, then one small application (waits at most 40 s)…');
  const t3 = Date.now();
  const slow = Array.from({ length: 6 }, (_, i) => slowUpload(d, i, t3));
  await sleep(500);
  const small = await send(d, { headers: formHeaders(d, { accept: 'application/json', 'x-forwarded-for': '10.66.1.1' }), body: smallHelp, timeoutMs: 40_000 });
  while (Date.now() - t3 < 40_000 && slow.some((u) => u.status === 0 && !u.closed)) await sleep(200);
  for (const u of slow) u.socket.destroy();
  row(
    '3 slow uploads',
    `small application (${smallHelp.byteLength} B) with 6 slow uploads open: ${small.status || small.error} after ${s1(small.ms)}`,
    '201 within 1 s',
    small.status === 201 && small.ms < 1000,
  );
  const fates = slow.map((u) => (u.status ? `${u.status} at ${s1(u.at)}` : u.closed ? `closed at ${s1(u.at)}` : 'still open at 40 s'));
  row('3 slow uploads', `the six slow uploads: ${histogram(fates)}`, '(figure)', undefined);

  // 4. Junk flood from 300 addresses, then one real application.
  console.log('attack 4: 300 junk posts from 300 addresses, then one valid application…');
  const logsBefore4 = d.logs.length;
  // Paced over 2 s, a connection each, as many clients would; each waits at most 15 s for its answer.
  const flood = new http.Agent({ keepAlive: false });
  const t4 = Date.now();
  // A person writing in the middle of the flood (a figure; the target is the one after it).
  const duringFlood = sleep(1000).then(() =>
    send(d, { headers: formHeaders(d, { accept: 'application/json', 'x-forwarded-for': '10.78.0.2' }), body: smallHelp, timeoutMs: 15_000 }),
  );
  const junk = await Promise.all(
    Array.from({ length: 300 }, async (_, n) => {
      await sleep(Math.floor((n * 2000) / 300));
      return send(d, { headers: formHeaders(d, { 'x-forwarded-for': `10.77.${n >> 8}.${n & 255}` }), body: Buffer.from('kind=help'), timeoutMs: 15_000, agent: flood });
    }),
  );
  const t4ms = Date.now() - t4;
  flood.destroy();
  const during = await duringFlood;
  const valid = await send(d, { headers: formHeaders(d, { accept: 'application/json', 'x-forwarded-for': '10.78.0.1' }), body: Buffer.from(encode(helpBase)), timeoutMs: 10_000, keep: true });
  await sleep(200);
  const logLines4 = d.logs.length - logsBefore4;
  const validError = valid.status === 201 ? '' : ` (${/"error":"([a-z_]+)"/.exec(valid.body?.toString('utf8') ?? '')?.[1] ?? valid.error ?? '?'})`;
  row(
    '4 junk flood',
    `300 posts of "kind=help" sent over 2 s, all answered ${s1(t4ms)} after the first (answer p50 ${percentile(junk, 0.5)} ms, max ${percentile(junk, 1)} ms): ` +
      `${histogram(junk.map((a) => a.error ?? a.status))}; a valid application 1 s into the flood: ${during.status || during.error} after ${s1(during.ms)}; ` +
      `the valid application after it: ${valid.status || valid.error}${validError} after ${valid.ms.toFixed(0)} ms`,
    'valid one 201',
    valid.status === 201,
  );

  // The 429 echo check, on the default limits: one address, past its 5 per 10 minutes. The
  // marked post is a valid application, so the first five are accepted (and mailed to the sink).
  /** @type {Answer[]} */
  const limited = [];
  for (let i = 0; i < 8; i++) {
    limited.push(await send(d, { headers: formHeaders(d, { 'x-forwarded-for': '10.88.0.1' }), body: markedBody, keep: true }));
  }
  const refused429 = limited.filter((a) => a.status === 429);
  echoes.push({ what: `429 (${refused429.length} of 8)`, expected: 429, status: refused429.length ? 429 : limited.at(-1)?.status ?? 0, echoed: refused429.some((a) => a.body?.includes(marker)) });
  row(
    '2 echo/size',
    `marker posted in a field: ${echoes.map((e) => `${e.what}: ${e.status === e.expected ? '' : `got ${e.status}, `}${e.echoed ? 'ECHOED' : 'absent'}`).join('; ')}`,
    '403/413/415/429 echo nothing',
    echoes.every((e) => e.status === e.expected && !e.echoed),
  );

  // 5. Figures.
  const dAlive = alive(d, await send(d, { method: 'GET', path: '/ru/', timeoutMs: 5000 }));
  row('5 figures', `log lines: attack 1 ${logLines1} (for ${run1a.results.length + run1b.results.length + run1c.results.length + run1d.results.length} posts), junk flood ${logLines4} (for 302 posts); lines quoting posted content: ${quoting(marker, g, d)}`, '(figure)', undefined);
  row('5 figures', `GET /ru/ at the end: server G ${gAlive}, server D ${dAlive}; mails received by the sink: ${sink.count}`, '(figure)', undefined);
  await d.stop();
} catch (error) {
  console.error(`attack: ${error instanceof Error ? error.stack : String(error)}`);
  exitCode = 1;
} finally {
  for (const server of servers) await server.stop();
  await sink.close();
  rmSync(varRoot, { recursive: true, force: true });
  clearTimeout(deadline);
}

/**
 * Writes a raw request and collects what comes back until the answer is complete, the socket
 * closes, or `waitMs` passes.
 * @param {Server} server @param {string} head @param {Buffer} body @param {number} waitMs
 * @returns {Promise<{ status: number, data: Buffer }>}
 */
function rawExchange(server, head, body, waitMs) {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, HOST);
    /** @type {Buffer[]} */
    const chunks = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const data = Buffer.concat(chunks);
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(data.toString('latin1'))?.[1] ?? 0), data });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end))?.[1];
      if (length !== undefined ? text.length - end - 4 >= Number(length) : text.endsWith('0\r\n\r\n')) finish();
    });
    socket.write(head);
    socket.write(body);
  });
}

/**
 * A client that declares a 16 MB multipart body and sends one byte of it every 2 s.
 * @param {Server} server @param {number} i @param {number} t0
 */
function slowUpload(server, i, t0) {
  const socket = net.connect(server.port, HOST);
  const state = { socket, status: 0, at: 0, closed: false };
  const boundary = `attack${i}`;
  const body = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\n${'a'.repeat(64)}`);
  let sent = 0;
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    socket.write(
      `POST /api/applications HTTP/1.1\r\nHost: ${HOST}:${server.port}\r\nOrigin: ${server.url}\r\nX-Forwarded-For: 10.66.0.${i + 1}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 16000000\r\n\r\n`,
    );
  });
  const trickle = setInterval(() => {
    if (socket.destroyed) return clearInterval(trickle);
    socket.write(body.subarray(sent % body.byteLength, (sent % body.byteLength) + 1));
    sent += 1;
  }, 2000);
  socket.on('data', (chunk) => {
    if (state.status) return;
    state.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 0);
    state.at = Date.now() - t0;
  });
  socket.on('close', () => {
    clearInterval(trickle);
    if (!state.closed && !state.status) state.at = Date.now() - t0;
    state.closed = true;
  });
  return state;
}

// ---------------------------------------------------------------------------------------------
const failed = printTable();
console.log(`\n${failed === 0 && exitCode === 0 ? 'all targets met' : `${failed} target(s) NOT MET`}`);
process.exit(exitCode || (failed > 0 ? 1 : 0));

/**
 * Prints the table of the rows so far and the notes; returns how many targets were not met.
 * @param {string} [interrupted] why the table is incomplete
 */
function printTable(interrupted) {
  const width = Math.max(...rows.map((r) => r.attack.length), 6);
  const targetWidth = Math.max(...rows.map((r) => r.target.length), 6);
  console.log(
    `\nAttack figures (loopback only, ${s1(elapsed())}, 2 cores shared by server, client and mail sink; ` +
      `load average ${loadAtStart} at the start, ${loadAverage()} at the end)${interrupted ? `\n${interrupted}` : ''}\n`,
  );
  console.log(`${'attack'.padEnd(width)}  ${'target'.padEnd(targetWidth)}  result   figure`);
  // Grouped by attack (the sort is stable: within an attack, in the order measured).
  for (const r of [...rows].sort((a, b) => a.attack.localeCompare(b.attack))) {
    const result = r.met === undefined ? '—' : r.met ? 'met' : 'NOT MET';
    console.log(`${r.attack.padEnd(width)}  ${r.target.padEnd(targetWidth)}  ${result.padEnd(7)}  ${r.figure}`);
  }
  if (builtAt() !== builtAtStart) {
    notes.push(`dist/ was rebuilt during this run (${new Date(builtAt()).toISOString()}): servers started before that serve a mix of two builds (500s); run again on a quiet tree.`);
  }
  for (const note of notes) console.log(`\nnote: ${note}`);
  return rows.filter((r) => r.met === false).length;
}
