/**
 * Lets @upstash/ratelimit use a plain Redis server through ioredis. The limiter calls only
 * `evalsha`, then `eval` when the server answers NOSCRIPT (`safeEval` in its dist), so that is
 * all this presents. Its Lua scripts open with `#!lua flags=allow-key-locking`, a flag only
 * Upstash knows; plain Redis refuses the script, so the shebang line is stripped and the hash
 * upstash asks for is mapped to the hash of the stripped script.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../types.ts';

/** The part of the @upstash/redis client that @upstash/ratelimit's sliding window calls. */
export interface ScriptRunner {
  evalsha(sha1: string, keys: string[], args: unknown[]): Promise<unknown>;
  eval(script: string, keys: string[], args: unknown[]): Promise<unknown>;
}

/** A {@link ScriptRunner} over a Redis connection that can be closed. */
export interface RedisAdapter extends ScriptRunner {
  /**
   * Resolves true once connected, false if not within `timeoutMs`. Until then checks fail open,
   * so a server may await this at start-up (and say in its log whether Redis answered).
   */
  ready(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Timing of the connection: short, because a limiter that waits is worse than none. */
export interface RedisAdapterOptions {
  /** Connection state changes go here (never a URL: it may carry a password). */
  logger?: Logger;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Longest pause between reconnection attempts. */
  maxReconnectDelayMs?: number;
}

// Redis 7 knows `#!lua` shebangs but not this flag; Redis 6 knows no shebang at all.
const SHEBANG = /^#!lua[^\n]*\n/;

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');

/** Upstash sends numbers and booleans as they are and JSON for anything else; Redis wants strings. */
function toArgument(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

/** Events a connection logs when Redis goes away and when it is back (one pair per user of it). */
export interface ConnectionEvents {
  down: string;
  up: string;
}

/**
 * An ioredis connection that refuses commands at once while Redis is down (nothing queued, no
 * retries) and reconnects in the background, logging once when it goes and once when it is back.
 * `closing()` tells it that a close is on purpose, so that one is not logged.
 */
export function openRedisConnection(
  url: string,
  options: RedisAdapterOptions & { events?: ConnectionEvents; closing?: () => boolean } = {},
): Redis {
  const { connectTimeoutMs = 1000, commandTimeoutMs = 1000, maxReconnectDelayMs = 2000 } = options;
  const client = new Redis(url, {
    connectTimeout: connectTimeoutMs,
    commandTimeout: commandTimeoutMs,
    // While Redis is down a command is refused at once instead of queued: callers decide without
    // waiting (the limits fail open, the outbox answers 503), and nothing piles up. (Checks in the
    // first milliseconds, before the first connection is ready, are let through the same way.)
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, maxReconnectDelayMs),
  });
  watchConnection(client, options.logger, options.closing ?? (() => false), options.events);
  return client;
}

/** Connects to `url` (redis:// or rediss://) and returns the adapter. */
export function createRedisAdapter(url: string, options: RedisAdapterOptions = {}): RedisAdapter {
  const { connectTimeoutMs = 1000 } = options;
  let closing = false;
  const client = openRedisConnection(url, { ...options, closing: () => closing });
  // Upstash's hash of a script → the hash of the script as sent to Redis. Learnt on `eval`, so
  // the first call per script costs one NOSCRIPT round trip, and every later one is an EVALSHA.
  const hashes = new Map<string, string>();
  const run = (command: string, first: string, keys: string[], args: unknown[]) =>
    client.call(command, first, keys.length, ...keys, ...args.map(toArgument));
  return {
    evalsha: (hash, keys, args) => run('EVALSHA', hashes.get(hash) ?? hash, keys, args),
    eval: (script, keys, args) => {
      const runnable = script.replace(SHEBANG, '');
      if (runnable !== script) hashes.set(sha1(script), sha1(runnable));
      return run('EVAL', runnable, keys, args);
    },
    ready: (timeoutMs = connectTimeoutMs) => whenReady(client, timeoutMs),
    close: () => {
      closing = true;
      client.disconnect();
      return Promise.resolve();
    },
  };
}

/** Resolves true once `client` is connected, false if not within `timeoutMs`. */
export function whenReady(client: Redis, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    client.once('ready', onReady);
  });
}

/** Logs once when Redis goes away (lost connection or failed attempt) and once when it is back. */
function watchConnection(
  client: Redis,
  logger: Logger | undefined,
  closing: () => boolean,
  events: ConnectionEvents = { down: 'ratelimit.redis_down', up: 'ratelimit.redis_up' },
): void {
  let down = false;
  const wentDown = (reason: string) => {
    if (down || closing()) return;
    down = true;
    logger?.warn(events.down, { error: reason });
  };
  // Without an `error` listener ioredis prints every failed attempt to the console.
  client.on('error', (error: Error) => wentDown(error.message));
  client.on('close', () => wentDown('connection closed'));
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger?.info(events.up);
  });
}
