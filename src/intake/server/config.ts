/**
 * The configuration contract with operators (the README's "Configuration" table), declared once with zod.
 * Every variable is read here and nowhere else; the rest of the code receives a typed `Config`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { parseRate, type Rate } from './ratelimit/rates.ts';
import { DEFAULT_MIN_FILL_MS } from './bot.ts';
import type { StoreConfig } from './store/store.ts';
import { issueLines } from '../../utils/zod-error.ts';

/** Every problem found in the environment, one line per variable; thrown by `loadConfig`. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

const MIN_SECRET_LENGTH = 32;
const MIN_SECRET_DISTINCT = 10;

/**
 * The shortest p with text[i] === text[i + p] wherever both exist (the text's length when it
 * repeats nothing), from the prefix function of Knuth–Morris–Pratt: linear time.
 */
function shortestPeriod(text: string): number {
  const border = new Array<number>(text.length).fill(0);
  for (let i = 1, k = 0; i < text.length; i++) {
    while (k > 0 && text[i] !== text[k]) k = border[k - 1]!;
    if (text[i] === text[k]) k++;
    border[i] = k;
  }
  return text.length - (border[text.length - 1] ?? 0);
}

/**
 * A secret typed by hand or left as a placeholder: fewer than ten distinct characters, or one
 * unit repeated over at least twice its length (`abab…`, `changeme-changeme-chan…`).
 * `openssl rand -hex 32` (64 hex digits) and `openssl rand -base64 32` are neither.
 */
export function isPredictableSecret(secret: string): boolean {
  return new Set(secret).size < MIN_SECRET_DISTINCT || shortestPeriod(secret) <= secret.length / 2;
}

/** Every variable the server reads: the configuration contract (deploy/alternativa.env.example lists each). */
export const VARIABLES = [
  'APP_ENV',
  'HOST',
  'PORT',
  'PUBLIC_URL',
  'ONION_URL',
  'STAFF_EMAILS',
  'MAIL_FROM',
  'STAFF_PGP_KEYS_FILE',
  'STAFF_PGP_KEYS',
  'RESEND_API_KEY',
  'RESEND_BASE_URL',
  'UPSTASH_REDIS_REST_URL',
  'UPSTASH_REDIS_REST_TOKEN',
  'REDIS_URL',
  'RATE_LIMIT_SECRET',
  'RATE_LIMIT_ADDRESS',
  'RATE_LIMIT_GLOBAL',
  'RATE_LIMIT_REFUSED',
  'TRUST_PROXY',
  'OUTBOX_RETRY_SECONDS',
  'MAIL_TIMEOUT_SECONDS',
  'UPLOAD_FLOOR_WINDOW_SECONDS',
  'UPLOAD_FLOOR_GRACE_SECONDS',
  'BOT_MIN_FILL_MS',
  'HEADERS_TIMEOUT_SECONDS',
  'LOG_COUNT_SECONDS',
  'OUTBOX_DIR',
  'OUTBOX_STORE',
  'USED_REFERENCES_DIR',
  'DEV_KEYS_DIR',
] as const;

type Variable = (typeof VARIABLES)[number];

function integer(min: number, max: number) {
  return z
    .string()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

/** A sliding-window limit such as `5/10m`, parsed by the rate-limit step itself (one grammar). */
function rate() {
  return z.string().transform((text, ctx): Rate => {
    try {
      return parseRate(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must look like 5/10m: a count above 0, a slash, a window in s, m, h or d' });
      return z.NEVER;
    }
  });
}

function httpUrl(message: string) {
  // Trailing slashes off in one anchored pass: `/\/+$/` starts again at every slash of a run.
  return z.url({ protocol: /^https?$/, error: message }).transform((url) => url.replace(/^((?:\/*[^/])*)\/*$/, '$1'));
}

const email = z.email();

function isEmail(value: string): boolean {
  return email.safeParse(value).success;
}

/** `Name <address>` or a bare address, as Resend accepts in `from`. */
function isSender(value: string): boolean {
  const match = /^(?:[^<>]*<([^<>\s]+)>|([^<>\s]+))$/.exec(value.trim());
  const address = match?.[1] ?? match?.[2];
  return address !== undefined && isEmail(address);
}

function emailList() {
  return z
    .string()
    .transform((text) => text.split(',').map((part) => part.trim()).filter(Boolean))
    .superRefine((list, ctx) => {
      if (list.length === 0) ctx.addIssue({ code: 'custom', message: 'lists no address' });
      for (const address of list.filter((a) => !isEmail(a))) {
        ctx.addIssue({ code: 'custom', message: `"${address}" is not an email address` });
      }
    });
}

// The refinements below run even when z.url found the text is no URL (zod reports every issue
// at once): they pass what they can not parse, which z.url has already named.
const origin = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .refine((text) => {
    if (!URL.canParse(text)) return true;
    const url = new URL(text);
    return url.pathname === '/' && url.search === '' && url.hash === '';
  }, 'must be an origin such as https://example.org (no path, query or fragment)')
  .transform((text) => new URL(text).origin);

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * A v3 onion address (rend-spec-v3 §6): 56 base32 characters for the service's public key (32
 * bytes), a checksum (2) and the version (3), the checksum being the first two bytes of
 * SHA3-256(".onion checksum" | key | version). A mistyped address fails it, as in Tor Browser.
 */
export function isOnionAddress(host: string): boolean {
  const match = /^([a-z2-7]{56})\.onion$/.exec(host);
  if (match === null) return false;
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of match[1]!) {
    value = ((value << 5) | BASE32.indexOf(char)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >> bits) & 0xff);
    }
  }
  const decoded = Buffer.from(bytes);
  const key = decoded.subarray(0, 32);
  const version = decoded.subarray(34, 35);
  const checksum = createHash('sha3-256').update('.onion checksum').update(key).update(version).digest().subarray(0, 2);
  return version[0] === 3 && checksum.equals(decoded.subarray(32, 34));
}

/**
 * The site's onion service, as Tor Browser is offered it in `Onion-Location`: plain http (Tor
 * itself encrypts and authenticates the service), a v3 address, no port, path or query.
 */
const onionOrigin = z
  .url({ protocol: /^http$/, error: 'must be an http:// URL of the onion service (http://<56 characters>.onion)' })
  .refine((text) => {
    if (!URL.canParse(text)) return true;
    const url = new URL(text);
    return url.pathname === '/' && url.search === '' && url.hash === '' && url.port === '' && url.username === '' && url.password === '';
  }, 'must be the onion service\'s origin only, such as http://<56 characters>.onion (no port, path or query)')
  .refine((text) => !URL.canParse(text) || isOnionAddress(new URL(text).hostname), 'is not a valid v3 onion address (56 characters ending in .onion, checksum included): copy it from the service\'s hostname file')
  .transform((text) => new URL(text).origin);

const rawSchema = z.strictObject({
  APP_ENV: z.literal('production', { error: 'must be "production" or unset' }).optional(),
  HOST: z.string().regex(/^\S+$/, 'must be a host name or address').default('127.0.0.1'),
  PORT: integer(1, 65_535).default(4321),
  PUBLIC_URL: origin.optional(),
  // When set, pages offer Tor Browser the onion service (Onion-Location) and its pages may post.
  ONION_URL: onionOrigin.optional(),
  STAFF_EMAILS: emailList().optional(),
  MAIL_FROM: z.string().refine(isSender, 'must be an address or "Name <address>"').optional(),
  STAFF_PGP_KEYS_FILE: z.string().optional(),
  STAFF_PGP_KEYS: z.string().includes('-----BEGIN PGP', { error: 'must hold ASCII-armored keys' }).optional(),
  RESEND_API_KEY: z.string().regex(/^\S+$/, 'must not contain spaces').optional(),
  RESEND_BASE_URL: httpUrl('must be an http(s) URL').optional(),
  UPSTASH_REDIS_REST_URL: httpUrl('must be an http(s) URL').optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  RATE_LIMIT_SECRET: z
    .string()
    .min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -hex 32)`)
    .optional(),
  RATE_LIMIT_ADDRESS: rate().default(parseRate('5/10m')),
  RATE_LIMIT_GLOBAL: rate().default(parseRate('300/1h')),
  RATE_LIMIT_REFUSED: rate().default(parseRate('20/10m')),
  TRUST_PROXY: integer(0, 10).default(0),
  OUTBOX_RETRY_SECONDS: integer(1, 86_400).default(30),
  // Resend has no timeout of its own: a hung provider must not hold a delivery forever.
  MAIL_TIMEOUT_SECONDS: integer(1, 300).default(15),
  // How long a body may arrive slower than the upload gate's floor before it is cut, and the extra
  // time before the first window ends (src/intake/server/http/gate.ts); tests set them short.
  UPLOAD_FLOOR_WINDOW_SECONDS: integer(1, 60).optional(),
  UPLOAD_FLOOR_GRACE_SECONDS: integer(0, 60).optional(),
  // A post from the island filled faster than this is a bot's (src/intake/server/bot.ts); tests set it short.
  BOT_MIN_FILL_MS: integer(0, 60_000).default(DEFAULT_MIN_FILL_MS),
  // A client that has not sent its whole request head by then is cut off (slowloris).
  HEADERS_TIMEOUT_SECONDS: integer(2, 120).default(20),
  // Repeated events (refusals, cuts, store failures) are one line with a count per this long.
  LOG_COUNT_SECONDS: integer(1, 3600).default(10),
  OUTBOX_DIR: z.string().default('var/outbox'),
  // Where kept applications wait: files in OUTBOX_DIR (one instance), or the shared Redis (several).
  OUTBOX_STORE: z.enum(['file', 'redis'], { error: 'must be "file" or "redis"' }).default('file'),
  USED_REFERENCES_DIR: z.string().optional(),
  DEV_KEYS_DIR: z.string().default('var/dev-keys'),
});

type Raw = z.output<typeof rawSchema>;

/**
 * Rules across variables, and what production asks more of a value. They run even when a value
 * failed (`when`), so they check what they read, and the operator sees every problem in one go.
 */
function coherence(raw: Raw, ctx: z.RefinementCtx): void {
  const missing = (path: Variable, why: string) => ctx.addIssue({ code: 'custom', path: [path], message: `is required ${why}` });
  const production = raw.APP_ENV === 'production';
  if (raw.STAFF_PGP_KEYS_FILE !== undefined && raw.STAFF_PGP_KEYS !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['STAFF_PGP_KEYS'], message: 'set only one of STAFF_PGP_KEYS_FILE and STAFF_PGP_KEYS' });
  }
  if (production && raw.STAFF_PGP_KEYS_FILE === undefined && raw.STAFF_PGP_KEYS === undefined) {
    missing('STAFF_PGP_KEYS_FILE', '(or STAFF_PGP_KEYS) when APP_ENV=production: without staff keys nobody can read an application');
  }
  const mailWhy = production ? 'when APP_ENV=production' : 'when RESEND_API_KEY is set';
  if (production && raw.RESEND_API_KEY === undefined) missing('RESEND_API_KEY', mailWhy);
  if (production || raw.RESEND_API_KEY !== undefined) {
    if (raw.STAFF_EMAILS === undefined) missing('STAFF_EMAILS', mailWhy);
    if (raw.MAIL_FROM === undefined) missing('MAIL_FROM', mailWhy);
  }
  if (production && raw.RATE_LIMIT_SECRET === undefined) {
    missing('RATE_LIMIT_SECRET', 'when APP_ENV=production (a random one per process would change on every restart)');
  }
  // A guessable secret lets anyone who sees the hashes of the rate limiter recover the addresses.
  const secret = raw.RATE_LIMIT_SECRET;
  if (production && typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH && isPredictableSecret(secret)) {
    ctx.addIssue({
      code: 'custom',
      path: ['RATE_LIMIT_SECRET'],
      message: `is too easy to guess for APP_ENV=production (fewer than ${MIN_SECRET_DISTINCT} different characters, or a short pattern repeated): generate one with openssl rand -hex 32`,
    });
  }
  // The API key and the encrypted applications travel to the mail provider over this URL.
  const mailUrl = raw.RESEND_BASE_URL;
  if (production && typeof mailUrl === 'string' && URL.canParse(mailUrl) && new URL(mailUrl).protocol !== 'https:') {
    ctx.addIssue({
      code: 'custom',
      path: ['RESEND_BASE_URL'],
      message: 'must be an https:// URL when APP_ENV=production (the API key and the applications travel over it); unset it to use Resend\'s default API',
    });
  }
  if ((raw.UPSTASH_REDIS_REST_URL === undefined) !== (raw.UPSTASH_REDIS_REST_TOKEN === undefined)) {
    const absent = raw.UPSTASH_REDIS_REST_URL === undefined ? 'UPSTASH_REDIS_REST_URL' : 'UPSTASH_REDIS_REST_TOKEN';
    missing(absent, 'with the other UPSTASH_REDIS_REST_* variable');
  }
  if (raw.UPSTASH_REDIS_REST_URL !== undefined && raw.REDIS_URL !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'set either UPSTASH_REDIS_REST_* or REDIS_URL, not both' });
  }
  if (raw.OUTBOX_STORE === 'redis' && raw.REDIS_URL === undefined) {
    // The outbox's streams and consumer groups are used and tested over the Redis protocol only;
    // Upstash serves the same database over it (its rediss:// endpoint), with its own persistence.
    const message = raw.UPSTASH_REDIS_REST_URL === undefined
      ? 'is required with OUTBOX_STORE=redis (the outbox lives in the Redis the limits use)'
      : 'is required with OUTBOX_STORE=redis: the outbox does not run over Upstash\'s REST API (its consumer group is tested over the Redis protocol only); use the database\'s TLS endpoint, REDIS_URL=rediss://default:<password>@<host>:6379, instead of UPSTASH_REDIS_REST_*';
    ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message });
  }
}

/** PUBLIC_URL, else the host and port the server listens on (an IPv6 address in brackets). */
function publicUrlFrom(publicUrl: string | undefined, host: string, port: number): string {
  return publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function toConfig(raw: Raw) {
  const host = raw.HOST;
  return {
    production: raw.APP_ENV === 'production',
    host,
    port: raw.PORT,
    publicUrl: publicUrlFrom(raw.PUBLIC_URL, host, raw.PORT),
    onionUrl: raw.ONION_URL,
    allowedOrigins: [...allowedOrigins(raw.PUBLIC_URL, host, raw.PORT), ...(raw.ONION_URL === undefined ? [] : [raw.ONION_URL])],
    keys: keySource(raw),
    mail: raw.RESEND_API_KEY === undefined ? undefined : {
      apiKey: raw.RESEND_API_KEY,
      baseUrl: raw.RESEND_BASE_URL,
      from: raw.MAIL_FROM ?? '',
      to: raw.STAFF_EMAILS ?? [],
      timeoutMs: raw.MAIL_TIMEOUT_SECONDS * 1000,
    },
    store: storeOf(raw),
    rateLimitSecret: raw.RATE_LIMIT_SECRET ?? randomBytes(32).toString('hex'),
    rateLimitSecretGenerated: raw.RATE_LIMIT_SECRET === undefined,
    rateLimitAddress: raw.RATE_LIMIT_ADDRESS,
    rateLimitGlobal: raw.RATE_LIMIT_GLOBAL,
    rateLimitRefused: raw.RATE_LIMIT_REFUSED,
    trustProxy: raw.TRUST_PROXY,
    outboxDir: resolve(raw.OUTBOX_DIR),
    outboxStore: raw.OUTBOX_STORE,
    // Beside the outbox by default: the records of used references live as long as it does.
    usedReferencesDir: resolve(raw.USED_REFERENCES_DIR ?? join(raw.OUTBOX_DIR, '..', 'references')),
    outboxRetrySeconds: raw.OUTBOX_RETRY_SECONDS,
    // Only what is set: the gate's own floor (defaultFloor) supplies the rest.
    uploadFloor: {
      ...(raw.UPLOAD_FLOOR_WINDOW_SECONDS !== undefined && { windowMs: raw.UPLOAD_FLOOR_WINDOW_SECONDS * 1000 }),
      ...(raw.UPLOAD_FLOOR_GRACE_SECONDS !== undefined && { graceMs: raw.UPLOAD_FLOOR_GRACE_SECONDS * 1000 }),
    },
    botMinFillMs: raw.BOT_MIN_FILL_MS,
    headersTimeoutMs: raw.HEADERS_TIMEOUT_SECONDS * 1000,
    logCountMs: raw.LOG_COUNT_SECONDS * 1000,
    devKeysDir: resolve(raw.DEV_KEYS_DIR),
  };
}

const LOOPBACK = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * The origins whose pages may post applications: the public origin only (and the onion
 * service's, added by the caller), never one taken from the request (a `Host` can be anything:
 * DNS rebinding). Without PUBLIC_URL (development), the configured host and port, and the
 * loopback spellings of it when the server listens there.
 */
function allowedOrigins(publicUrl: string | undefined, host: string, port: number): string[] {
  if (publicUrl !== undefined) return [publicUrl];
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  const loopback = [...LOOPBACK, '0.0.0.0', '[::]'].includes(hostInUrl) || hostInUrl.startsWith('127.');
  const hosts = loopback ? [hostInUrl, ...LOOPBACK] : [hostInUrl];
  return [...new Set(hosts.map((h) => new URL(`http://${h}:${port}`).origin))];
}

type KeySource =
  | { source: 'file'; file: string }
  | { source: 'env'; armored: string }
  | { source: 'dev'; dir: string };

function keySource(raw: Raw): KeySource {
  if (raw.STAFF_PGP_KEYS_FILE !== undefined) return { source: 'file', file: resolve(raw.STAFF_PGP_KEYS_FILE) };
  if (raw.STAFF_PGP_KEYS !== undefined) return { source: 'env', armored: raw.STAFF_PGP_KEYS };
  return { source: 'dev', dir: resolve(raw.DEV_KEYS_DIR) };
}

function storeOf(raw: Raw): StoreConfig {
  if (raw.UPSTASH_REDIS_REST_URL !== undefined && raw.UPSTASH_REDIS_REST_TOKEN !== undefined) {
    return { kind: 'upstash', url: raw.UPSTASH_REDIS_REST_URL, token: raw.UPSTASH_REDIS_REST_TOKEN };
  }
  if (raw.REDIS_URL !== undefined) return { kind: 'redis', url: raw.REDIS_URL };
  return { kind: 'memory' };
}

const configSchema = rawSchema.superRefine(coherence, { when: () => true }).transform(toConfig);

/** The parsed configuration: what the server, the scripts and the pipeline steps receive. */
export type Config = z.output<typeof configSchema>;


/** Only our variables, and an empty value counts as unset (as `FOO=` in an env file means). */
function pick(env: NodeJS.ProcessEnv): Partial<Record<Variable, string>> {
  const picked: Partial<Record<Variable, string>> = {};
  for (const name of VARIABLES) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') picked[name] = value;
  }
  return picked;
}

/** Parses the environment; throws a `ConfigError` listing every problem, one line per variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(pick(env));
  if (!result.success) throw new ConfigError(issueLines(result.error, 'environment'));
  return result.data;
}

const originSchema = rawSchema.pick({ PUBLIC_URL: true, HOST: true, PORT: true });

/**
 * The public origin alone, by the server's rule, for what the build writes ahead of time
 * (astro.config.mjs): a build needs no keys, mail or stores, only where the site will be.
 */
export function loadPublicUrl(env: NodeJS.ProcessEnv = process.env): string {
  const { PUBLIC_URL, HOST, PORT } = pick(env);
  const result = originSchema.safeParse({ PUBLIC_URL, HOST, PORT });
  if (!result.success) throw new ConfigError(issueLines(result.error, 'environment'));
  return publicUrlFrom(result.data.PUBLIC_URL, result.data.HOST, result.data.PORT);
}

/** One line for the start-up log: which stores and sources are in use, never a secret or a URL. */
export function describeConfig(config: Config): string {
  const keys = {
    file: `keys from file ${config.keys.source === 'file' ? config.keys.file : ''}`,
    env: 'keys from STAFF_PGP_KEYS',
    dev: `DEV key pair in ${config.devKeysDir} (generated on first start, local only)`,
  }[config.keys.source];
  const limiter = {
    upstash: 'rate limits in Upstash Redis',
    redis: 'rate limits in Redis',
    memory: 'rate limits in process memory (one process only)',
  }[config.store.kind];
  const outbox = config.outboxStore === 'redis' ? 'the Redis outbox (a stream shared by every instance)' : config.outboxDir;
  const mail = config.mail === undefined
    ? `outbox only, no RESEND_API_KEY: applications stay in ${outbox}`
    : `mail via Resend to ${config.mail.to.length} recipient(s), outbox ${outbox}`;
  const secret = config.rateLimitSecretGenerated ? 'random rate-limit secret for this process' : 'rate-limit secret set';
  const mode = config.production ? 'production' : 'development';
  const onion = config.onionUrl === undefined ? [] : ['pages offer the onion service (Onion-Location)'];
  return [mode, keys, limiter, mail, secret, ...onion].join('; ');
}
