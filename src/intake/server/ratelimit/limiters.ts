/**
 * Rate limits. Applications that passed every check count in a sliding window per kind for each
 * client address (hashed, IPv6 by /64) and in one window for everyone; posts refused for what
 * they hold count in a cheap window of their own per address, so junk can not use up the budget
 * real people share. A store that is down or slow never means no limit: the same windows are
 * then kept in process memory until it answers again.
 */
import { Ratelimit } from '@upstash/ratelimit';
import type { Redis as UpstashRedis } from '@upstash/redis';
import type { Kind } from '../../contract/kinds.ts';
import { createCountedEvent } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { ScriptRunner } from '../store/redis.ts';
import { withTimeout } from '../timeout.ts';
import type { Limiter, Logger } from '../types.ts';
import { createMemoryLimiter } from './memory.ts';
import { DEFAULT_ADDRESS_RATE, DEFAULT_GLOBAL_RATE, DEFAULT_REFUSED_RATE, DEFAULT_TIMEOUT_MS, toRate, type Rate, type RateSpec } from './rates.ts';

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

function slidingWindow(store: Store, rate: Rate, prefix: string, timeoutMs: number, failed: () => void): Limiter {
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
export function createLimiters(store: Store, options: LimiterOptions = {}): Limiters {
  const address = toRate(options.address ?? DEFAULT_ADDRESS_RATE);
  const global = toRate(options.global ?? DEFAULT_GLOBAL_RATE);
  const refused = toRate(options.refused ?? DEFAULT_REFUSED_RATE);
  const { timeoutMs = DEFAULT_TIMEOUT_MS, prefix = 'intake', logger, logIntervalMs } = options;
  // One line per interval while the store is down, with how many checks fell back to memory.
  const count = logger ? createCountedEvent(logger, 'ratelimit.store_failed', { level: 'warn', intervalMs: logIntervalMs }) : undefined;
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
