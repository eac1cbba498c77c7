/**
 * Rate limits. Applications that passed every check count in a sliding window per kind for each
 * client address (hashed, IPv6 by /64) and in one window for everyone; posts refused for what
 * they hold count in a cheap window of their own per address, so junk can not use up the budget
 * real people share. A store that is down or slow never means no limit: the same windows are
 * then kept in process memory until it answers again.
 */
import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { Ratelimit } from '@upstash/ratelimit';
import type { Duration } from '@upstash/ratelimit';
import { Redis as UpstashRedis } from '@upstash/redis';
import { withTimeout } from '../timeout.ts';
import { createCountedEvent } from '../logger.ts';
import { createMemoryLimiter } from './memory.ts';
import { createRedisAdapter } from './redis.ts';
import type { RedisAdapter, ScriptRunner } from './redis.ts';
import type { Kind, Limiter, Logger } from '../types.ts';

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
/** Refused posts per address: room for many honest mistakes, not for a flood. */
export const DEFAULT_REFUSED_RATE = '20/10m';
/** How long a limit check may take before the request is let through. */
export const DEFAULT_TIMEOUT_MS = 1000;

// The window's digits and the spaces after them are one optional group: `\s*(\d*)\s*` is
// quadratic in a run of spaces when there are no digits.
const RATE = /^\s*(\d+)\s*\/\s*(?:(\d+)\s*)?(ms|s|m|h|d)\s*$/;
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
  // The zone goes (`%eth0`: from the first `%` of the last line, as `/%.*$/` would cut), in one
  // anchored pass: `/%.*$/` starts again at every `%` before a line break (quadratic).
  const bare = address.trim().replace(/^\[(.*)\]$/, '$1').replace(/^((?:.*[\n\r\u2028\u2029])*[^%\n\r\u2028\u2029]*)%.*$/, '$1').toLowerCase();
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
  // A dotted IPv4 tail stands for the last two groups. Anchored, its head ending in a non-digit:
  // unanchored, `(\d+)` would start again at every digit of a run (quadratic).
  const hex = address.replace(/^((?:[^]*\D)?)(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, start, p, q, r, s) =>
    `${start}${((Number(p) << 8) | Number(q)).toString(16)}:${((Number(r) << 8) | Number(s)).toString(16)}`,
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

/** The limiters the intake checks. */
export interface Limiters {
  /** Applications that passed every check, per address and kind. */
  address: Record<Kind, Limiter>;
  /** Applications that passed every check, from everyone together: it protects the mail quota. */
  global: Limiter;
  /**
   * Posts refused for what they hold (invalid, a bot's, a bad ciphertext), and repeats of one
   * already kept, per address.
   */
  refused: Limiter;
}

/** What {@link createLimiters} builds, beyond the store. */
export interface LimiterOptions {
  /** Per address and kind; default {@link DEFAULT_ADDRESS_RATE}. */
  address?: RateSpec;
  /** For all clients together; default {@link DEFAULT_GLOBAL_RATE}. */
  global?: RateSpec;
  /** Refused posts per address; default {@link DEFAULT_REFUSED_RATE}. */
  refused?: RateSpec;
  /** A store slower than this counts as down for that request; default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** Key prefix in the store, so several sites (or tests) can share one Redis. */
  prefix?: string;
  /** Where "the store failed, limits are in memory" is said, once per interval with a count. */
  logger?: Logger;
  /** That interval; default 10 s. */
  logIntervalMs?: number;
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

/**
 * The store's window, or the same window in memory whenever the store throws or does not
 * answer in time (@upstash/ratelimit then says `reason: 'timeout'`; its `getRemaining` has no
 * timeout of its own). Counts made in memory meanwhile stay in memory.
 */
function resilient(store: Limiter, memory: Limiter, timeoutMs: number, failed: () => void): Limiter {
  return {
    async limit(identifier) {
      try {
        const result = await store.limit(identifier);
        if (result.reason !== 'timeout') return result;
      } catch {
        // Down: counted below, like a timeout.
      }
      failed();
      return memory.limit(identifier);
    },
    async getRemaining(identifier) {
      try {
        return await withTimeout(store.getRemaining(identifier), timeoutMs);
      } catch {
        failed();
        return memory.getRemaining(identifier);
      }
    },
  };
}

function slidingWindow(store: LimiterStore, rate: Rate, prefix: string, timeoutMs: number, failed: () => void): Limiter {
  const memory = createMemoryLimiter({ tokens: rate.tokens, windowMs: rate.windowMs });
  if (store.kind === 'memory') return memory;
  const redis = store.kind === 'upstash' ? store.client : asUpstashClient(store.client);
  const shared = new Ratelimit({
    redis,
    prefix,
    limiter: Ratelimit.slidingWindow(rate.tokens, rate.duration),
    timeout: timeoutMs,
    analytics: false,
    enableTelemetry: false,
    ephemeralCache: new BoundedMap<string, number>(EPHEMERAL_CACHE_CAPACITY),
  });
  return resilient(shared, memory, timeoutMs, failed);
}

/** Builds the sliding-window limiters on a store. */
export function createLimiters(store: LimiterStore, options: LimiterOptions = {}): Limiters {
  const address = toRate(options.address ?? DEFAULT_ADDRESS_RATE);
  const global = toRate(options.global ?? DEFAULT_GLOBAL_RATE);
  const refused = toRate(options.refused ?? DEFAULT_REFUSED_RATE);
  const { timeoutMs = DEFAULT_TIMEOUT_MS, prefix = 'intake', logger, logIntervalMs } = options;
  // One line per interval while the store is down, with how many checks fell back to memory.
  const count = logger ? createCountedEvent(logger, 'ratelimit.store_failed', { level: 'warn', ...(logIntervalMs ? { intervalMs: logIntervalMs } : {}) }) : undefined;
  const failed = () => count?.({ store: store.kind });
  const window = (rate: Rate, name: string) => slidingWindow(store, rate, `${prefix}:${name}`, timeoutMs, failed);
  return {
    address: { help: window(address, 'address:help'), missing: window(address, 'address:missing') },
    global: window(global, 'global'),
    refused: window(refused, 'refused'),
  };
}

/** Who a refusal is about: this address, or everyone (the site's own window is full). */
export type LimitScope = 'address' | 'everyone';

/** The answer of a limit check. */
export type LimitCheck = { ok: true } | { ok: false; retryAfterSeconds: number; scope: LimitScope };

/** What {@link checkLimits} needs. */
export interface CheckLimitsInput {
  limiters: Limiters;
  kind: Kind;
  /** From {@link addressKey}: the address itself never reaches a limiter or a log. */
  addressKey: string;
}

/**
 * Counts an application that passed every check: the address window first, then the global one
 * (so a refused address does not use up everyone's budget).
 */
export async function checkLimits(input: CheckLimitsInput): Promise<LimitCheck> {
  const { limiters, kind, addressKey: key } = input;
  const byAddress = await limiters.address[kind].limit(key);
  if (!byAddress.success) return refused(byAddress.reset, 'address');
  const overall = await limiters.global.limit('all');
  return overall.success ? { ok: true } : refused(overall.reset, 'everyone');
}

/** Before anything is read: has this address used up its refusals? Counts nothing. */
export async function checkRefusals(limiters: Limiters, key: string): Promise<LimitCheck> {
  const { remaining, reset } = await limiters.refused.getRemaining(key);
  return remaining > 0 ? { ok: true } : refused(reset, 'address');
}

/** Counts a post refused for what it held against its address. */
export async function countRefusal(limiters: Limiters, key: string): Promise<void> {
  await limiters.refused.limit(key);
}

function refused(reset: number, scope: LimitScope): LimitCheck {
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((reset - Date.now()) / 1000)), scope };
}
