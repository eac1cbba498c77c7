/**
 * The embedded rate limiter: the sliding window of @upstash/ratelimit (a fixed-window counter
 * plus the previous window's count weighted by how much of it still overlaps), kept in process
 * memory. Right for one process; several processes need the shared Redis store instead.
 */
import type { LimitResult, Limiter } from '../types.ts';

/** How an in-process limiter is sized and timed. */
export interface MemoryLimiterOptions {
  /** Requests allowed per window. */
  tokens: number;
  windowMs: number;
  /**
   * Most identifiers remembered at once. Past it, expired ones are pruned first, then the
   * oldest-seen are forgotten (they start afresh: a flood of new addresses can not grow memory).
   */
  maxKeys?: number;
  /** The clock, in ms; tests pass their own. */
  now?: () => number;
}

/** A limiter whose memory use can be observed. */
export interface MemoryLimiter extends Limiter {
  /** Identifiers currently remembered. */
  readonly size: number;
}

interface Counts {
  window: number;
  current: number;
  previous: number;
}

const DEFAULT_MAX_KEYS = 100_000;

/** Creates an in-process sliding-window limiter with upstash's semantics. */
export function createMemoryLimiter(options: MemoryLimiterOptions): MemoryLimiter {
  const { tokens, windowMs, maxKeys = DEFAULT_MAX_KEYS, now = Date.now } = options;
  const counts = new Map<string, Counts>();
  let lastPrune = now();

  function prune(window: number): void {
    for (const [key, entry] of counts) if (entry.window < window - 1) counts.delete(key);
    lastPrune = now();
  }

  function countsFor(identifier: string, window: number): Counts {
    const entry = counts.get(identifier);
    if (entry?.window === window) return entry;
    // Only the window just before this one still weighs; anything older counts for nothing.
    const previous = entry?.window === window - 1 ? entry.current : 0;
    const fresh = { window, current: 0, previous };
    if (!entry && counts.size >= maxKeys) makeRoom(window);
    counts.set(identifier, fresh);
    return fresh;
  }

  function makeRoom(window: number): void {
    prune(window);
    const oldest = counts.keys().next();
    if (counts.size >= maxKeys && !oldest.done) counts.delete(oldest.value);
  }

  /** The entry and what it weighs now; `count` false only looks (and adds no identifier). */
  function weigh(identifier: string, count: boolean) {
    const time = now();
    const window = Math.floor(time / windowMs);
    if (time - lastPrune >= windowMs) prune(window);
    const known = counts.get(identifier);
    const entry = count || known !== undefined ? countsFor(identifier, window) : { window, current: 0, previous: 0 };
    const reset = (window + 1) * windowMs;
    const weightedPrevious = Math.floor((1 - (time % windowMs) / windowMs) * entry.previous);
    return { entry, reset, used: weightedPrevious + entry.current };
  }

  function limit(identifier: string): Promise<LimitResult> {
    const { entry, reset, used } = weigh(identifier, true);
    if (used >= tokens) return Promise.resolve({ success: false, reset, remaining: 0 });
    entry.current += 1;
    return Promise.resolve({ success: true, reset, remaining: Math.max(0, tokens - used - 1) });
  }

  function getRemaining(identifier: string): Promise<{ remaining: number; reset: number }> {
    const { reset, used } = weigh(identifier, false);
    return Promise.resolve({ remaining: Math.max(0, tokens - used), reset });
  }

  return {
    limit,
    getRemaining,
    get size() {
      return counts.size;
    },
  };
}
