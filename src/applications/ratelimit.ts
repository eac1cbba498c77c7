/**
 * Rate limits, the first and cheapest step: a sliding window per kind of application for each
 * client address (hashed, IPv6 by /64), plus one global window. Limits are generous and fail
 * open: a help request is never refused because the limit store is down or slow.
 */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { Ratelimit } from '@upstash/ratelimit';
import type { Duration } from '@upstash/ratelimit';
import { Redis as UpstashRedis } from '@upstash/redis';
import { createMemoryLimiter } from './memory-limiter.ts';
import { createRedisAdapter } from './redis-adapter.ts';
import type { RedisAdapter, ScriptRunner } from './redis-adapter.ts';
import type { Kind, Limiter, Logger } from './types.ts';

/** A parsed limit: `tokens` requests per window. */
export interface Rate {
  tokens: number;
  windowMs: number;
  /** The window as @upstash/ratelimit writes it, e.g. `10 m`. */
  duration: Duration;
}

/** A limit as text (`5/10m`), as {@link parseRate} gives it, or as the config module gives it. */
export type RateSpec = string | Rate;

export const DEFAULT_ADDRESS_RATE = '5/10m';
export const DEFAULT_GLOBAL_RATE = '300/1h';
/** How long a limit check may take before the request is let through. */
export const DEFAULT_TIMEOUT_MS = 1000;

const RATE = /^\s*(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h|d)\s*$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses `count/window`, e.g. `5/10m`, `300/1h`, `10/s`; throws on anything else or on zero. */
export function parseRate(text: string): Rate {
  const match = RATE.exec(text);
  if (!match) throw new Error(`Invalid rate "${text}": expected a count, a slash and a window such as 5/10m`);
  const [, count = '', amountText = '', unitText = ''] = match;
  const unit = unitText as keyof typeof UNIT_MS;
  const amount = amountText === '' ? 1 : Number(amountText);
  const tokens = Number(count);
  if (tokens < 1 || amount < 1) throw new Error(`Invalid rate "${text}": count and window must be above 0`);
  return { tokens, windowMs: amount * UNIT_MS[unit], duration: `${amount} ${unit}` };
}

function toRate(spec: RateSpec): Rate {
  return typeof spec === 'string' ? parseRate(spec) : spec;
}

/**
 * The group an address is limited as: an IPv4 address itself (also when IPv4-mapped, as
 * `::ffff:1.2.3.4`), the /64 of an IPv6 address (one household or phone gets a whole /64), and
 * anything unparseable as it is (all such clients then share one bucket).
 */
export function addressGroup(address: string): string {
  const bare = address.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '').toLowerCase();
  if (isIP(bare) !== 6) return bare;
  const groups = ipv6Groups(bare);
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = groups;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff) {
    return [g >> 8, g & 0xff, h >> 8, h & 0xff].join('.');
  }
  return `${[a, b, c, d].map((n) => n.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (checked by `isIP` before). */
function ipv6Groups(address: string): number[] {
  // A dotted IPv4 tail stands for the last two groups.
  const hex = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, p, q, r, s) =>
    `${((Number(p) << 8) | Number(q)).toString(16)}:${((Number(r) << 8) | Number(s)).toString(16)}`,
  );
  const [head = '', tail] = hex.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = Array.from({ length: 8 - headGroups.length - tailGroups.length }, () => '0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => Number.parseInt(group, 16));
}

/** The identifier a client is limited by: HMAC-SHA256 (hex) of its address group; no address is stored. */
export function addressKey(secret: string, address: string): string {
  return createHmac('sha256', secret).update(addressGroup(address)).digest('hex');
}

/** Where limits are counted, as the config module describes it. */
export type LimiterStoreConfig =
  | { kind: 'upstash'; url: string; token: string }
  | { kind: 'redis'; url: string }
  | { kind: 'memory' };

/** What every open store can do. */
interface StoreHandle {
  /** Resolves true when the store answers (at once for Upstash's REST and for memory). */
  ready(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** An open limit store. */
export type LimiterStore =
  | ({ kind: 'upstash'; client: UpstashRedis } & StoreHandle)
  | ({ kind: 'redis'; client: RedisAdapter } & StoreHandle)
  | ({ kind: 'memory' } & StoreHandle);

/**
 * Opens the store the configuration names: Upstash Redis over REST, a plain Redis through the
 * ioredis adapter, or nothing (limits then live in this process).
 */
export function createLimiterStore(config: LimiterStoreConfig, logger?: Logger): LimiterStore {
  // Neither Upstash's REST client nor process memory holds a connection.
  const connectionless = { ready: () => Promise.resolve(true), close: () => Promise.resolve() };
  switch (config.kind) {
    case 'upstash': {
      // One retry only: the limiter's own timeout decides, and piled-up retries help nobody.
      const client = new UpstashRedis({ url: config.url, token: config.token, enableTelemetry: false, retry: { retries: 1 } });
      return { kind: 'upstash', client, ...connectionless };
    }
    case 'redis': {
      const client = createRedisAdapter(config.url, logger ? { logger } : {});
      return { kind: 'redis', client, ready: (timeoutMs) => client.ready(timeoutMs), close: () => client.close() };
    }
    case 'memory':
      return { kind: 'memory', ...connectionless };
  }
}

/** The limiters the intake checks: one per kind for an address, one for everyone. */
export interface Limiters {
  address: Record<Kind, Limiter>;
  global: Limiter;
}

/** What {@link createLimiters} builds, beyond the store. */
export interface LimiterOptions {
  /** Per address and kind; default {@link DEFAULT_ADDRESS_RATE}. */
  address?: RateSpec;
  /** For all clients together; default {@link DEFAULT_GLOBAL_RATE}. */
  global?: RateSpec;
  /** A check slower than this lets the request through; default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Key prefix in the store, so several sites (or tests) can share one Redis. */
  prefix?: string;
}

/**
 * A Map that forgets its oldest entries past `capacity`. @upstash/ratelimit keeps refused
 * identifiers in such a Map (`ephemeralCache`) and only drops one when it is asked about again,
 * so a flood from many addresses would otherwise grow it without end.
 */
class BoundedMap<K, V> extends Map<K, V> {
  readonly capacity: number;
  constructor(capacity: number) {
    super();
    this.capacity = capacity;
  }
  override set(key: K, value: V): this {
    super.set(key, value);
    const oldest = this.keys().next();
    if (this.size > this.capacity && !oldest.done) this.delete(oldest.value);
    return this;
  }
}

const EPHEMERAL_CACHE_CAPACITY = 10_000;

/**
 * @upstash/ratelimit types its store as the whole @upstash/redis client but, with analytics and
 * protection off, calls only `evalsha` and `eval` on it (see redis-adapter.ts).
 */
function asUpstashClient(runner: ScriptRunner): UpstashRedis {
  return runner as unknown as UpstashRedis;
}

function slidingWindow(store: LimiterStore, rate: Rate, prefix: string, timeoutMs: number): Limiter {
  if (store.kind === 'memory') return createMemoryLimiter({ tokens: rate.tokens, windowMs: rate.windowMs });
  const redis = store.kind === 'upstash' ? store.client : asUpstashClient(store.client);
  return new Ratelimit({
    redis,
    prefix,
    limiter: Ratelimit.slidingWindow(rate.tokens, rate.duration),
    timeout: timeoutMs,
    analytics: false,
    enableTelemetry: false,
    ephemeralCache: new BoundedMap<string, number>(EPHEMERAL_CACHE_CAPACITY),
  });
}

/** Builds the sliding-window limiters on a store. */
export function createLimiters(store: LimiterStore, options: LimiterOptions = {}): Limiters {
  const address = toRate(options.address ?? DEFAULT_ADDRESS_RATE);
  const global = toRate(options.global ?? DEFAULT_GLOBAL_RATE);
  const { timeoutMs = DEFAULT_TIMEOUT_MS, prefix = 'intake' } = options;
  return {
    address: {
      help: slidingWindow(store, address, `${prefix}:address:help`, timeoutMs),
      missing: slidingWindow(store, address, `${prefix}:address:missing`, timeoutMs),
    },
    global: slidingWindow(store, global, `${prefix}:global`, timeoutMs),
  };
}

/** The answer of {@link checkLimits}. */
export type LimitCheck = { ok: true } | { ok: false; retryAfterSeconds: number };

/** What {@link checkLimits} needs. */
export interface CheckLimitsInput {
  limiters: Limiters;
  kind: Kind;
  /** From {@link addressKey}: the address itself never reaches a limiter or a log. */
  addressKey: string;
  logger: Logger;
}

type Outcome = { allowed: true } | { allowed: false; reset: number } | { failed: true };

async function consult(limiter: Limiter, identifier: string, which: string, kind: Kind, logger: Logger): Promise<Outcome> {
  try {
    const result = await limiter.limit(identifier);
    // @upstash/ratelimit answers "allowed" with this reason when the store did not answer in time.
    if (result.reason === 'timeout') {
      logger.warn('ratelimit.store_failed', { limiter: which, kind, reason: 'timeout' });
      return { failed: true };
    }
    return result.success ? { allowed: true } : { allowed: false, reset: result.reset };
  } catch (error) {
    logger.warn('ratelimit.store_failed', { limiter: which, kind, reason: 'error', error: error instanceof Error ? error.message : String(error) });
    return { failed: true };
  }
}

/**
 * Checks the address limit, then the global one (so a refused address does not use up the
 * global budget). A store that fails or times out lets the request through, logged once.
 */
export async function checkLimits(input: CheckLimitsInput): Promise<LimitCheck> {
  const { limiters, kind, addressKey: key, logger } = input;
  const byAddress = await consult(limiters.address[kind], key, 'address', kind, logger);
  // Both limits share a store: when it failed for one it is down for both.
  if ('failed' in byAddress) return { ok: true };
  if (!byAddress.allowed) return refused(byAddress.reset);
  const overall = await consult(limiters.global, 'all', 'global', kind, logger);
  if ('failed' in overall || overall.allowed) return { ok: true };
  return refused(overall.reset);
}

function refused(reset: number): LimitCheck {
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((reset - Date.now()) / 1000)) };
}
